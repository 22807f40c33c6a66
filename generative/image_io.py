"""Decode an untrusted image file into a grey-level or RGB array, or say clearly why not.

Uploads are checked from the header before any pixel is decoded, so a 100-megapixel PNG costs nothing
(a JPEG that large is decoded at a fraction of its size), and every way a file can be unusable becomes an
``ImageInputError`` with a message meant for the person who uploaded it.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

MAX_SIDE = 4096
MAX_PIXELS = 16_000_000
# A JPEG over the limits is decoded at 1/2, 1/4 or 1/8 of its size, the largest that fits: the decoder scales in the
# frequency domain for next to nothing, so a phone's 20–178-megapixel photo is read, not refused.
JPEG_SCALES = (2, 4, 8)
MIN_SIDE = 8
JPEG_MAX_PIXELS = 2 * Image.MAX_IMAGE_PIXELS  # Pillow refuses larger files as decompression bombs before any decoding
LIMITS = (f"the limit is {MAX_SIDE} pixels a side and {MAX_PIXELS // 1_000_000} megapixels (a JPEG of up to "
          f"{MAX_SIDE * JPEG_SCALES[-1]:,} pixels a side and {JPEG_MAX_PIXELS // 1_000_000} megapixels is read at 1/2, 1/4 "
          f"or 1/8 of its size)")
# Over 89 megapixels Pillow warns of a decompression bomb, to the server's log, on opening; this module checks (and
# reduces) every size itself from the header. Set for the process: warnings.catch_warnings() is not thread-safe, and
# the app opens uploads on several threads.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601 grey from RGB, as PIL's "L"
# The modes the gallery reads; others (LAB, HSV …) are refused rather than guessed at (PIL cannot turn LAB into grey).
READABLE_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "I", "F")


class ImageInputError(ValueError):
    """The input cannot be used; ``str(error)`` is the message to show the user."""


@dataclass
class GrayImage:
    """Grey levels as float32 in [0, 1], and notes worth telling the user (e.g. 'first frame used')."""

    pixels: np.ndarray
    notes: list[str] = field(default_factory=list)


def load_gray_image(path: str | os.PathLike) -> GrayImage:
    """Open ``path`` safely and return its grey levels."""
    image, notes = open_checked(path)
    return GrayImage(to_gray(image), notes)


def load_photo(path: str | os.PathLike) -> GrayImage:
    """Open ``path`` safely and return its pixels: (H, W) for a grey photo, (H, W, 3) RGB for a colour one.

    A colour file whose three channels are equal is a grey photo (many are saved that way); transparent
    pixels get the background ``to_gray`` gives them, so a white drawing on transparency stays visible.
    """
    image, notes = open_checked(path)
    if image.mode.startswith(("I", "F", "L", "1")):
        return GrayImage(to_gray(image), notes)
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[..., 3:]
    rgb = alpha * rgba[..., :3] + (1.0 - alpha) * contrasting_background(rgba[..., :3] @ LUMA, alpha[..., 0])
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
        return GrayImage(rgb[..., 0], notes)
    return GrayImage(rgb, notes)


def open_checked(path: str | os.PathLike) -> tuple[Image.Image, list[str]]:
    """The decoded, upright first frame of ``path`` and notes for the user; ``ImageInputError`` for a file we refuse.

    The size is checked from the header, before any pixel is decoded.
    """
    try:
        image = Image.open(path)
    except UnidentifiedImageError:
        raise ImageInputError("This file is not an image that can be read (try PNG, JPEG, GIF, BMP or WebP).") from None
    except FileNotFoundError:  # in the app: a setting changed long after the upload, which Gradio has since deleted
        raise ImageInputError("The image file is no longer there (the app deletes uploads after a while): upload it again.") from None
    except Image.DecompressionBombError:
        raise ImageInputError(f"This image is far too large; {LIMITS}.") from None
    except (OSError, ValueError, SyntaxError) as err:  # ValueError: e.g. a PNG metadata chunk too large to decompress
        raise ImageInputError(f"The file could not be opened as an image ({err}).") from None
    with image:
        notes = [note] if (note := reduce_large_jpeg(image)) else []
        check_size(*image.size)
        check_mode(image.mode)
        if getattr(image, "n_frames", 1) > 1 and image.format != "MPO":  # an MPO's second image is a phone's depth or stereo view
            notes.append(f"This is an animated image with {image.n_frames} frames; only the first frame is used.")
            image.seek(0)
        try:
            image.load()
        except (OSError, SyntaxError, ValueError) as err:
            raise ImageInputError(f"The image file is truncated or corrupt and could not be decoded ({err}).") from None
        upright = ImageOps.exif_transpose(image)
        return (upright.copy() if upright is image else upright), notes  # closing the file must not close the pixels


def fits_limits(width: int, height: int) -> bool:
    return width <= MAX_SIDE and height <= MAX_SIDE and width * height <= MAX_PIXELS


def reduce_large_jpeg(image: Image.Image) -> str | None:
    """Set a JPEG over the limits to decode at the largest of ``JPEG_SCALES`` that fits them; the note for the user
    when it was. Other formats, and a JPEG too large even at 1/8, are left for ``check_size`` to refuse."""
    width, height = image.size
    if not isinstance(image, JpegImagePlugin.JpegImageFile) or fits_limits(width, height):  # MPO (many phones) is one too
        return None
    for scale in JPEG_SCALES:
        if fits_limits(-(-width // scale), -(-height // scale)):  # the decoder rounds up
            image.draft(image.mode, (max(1, width // scale), max(1, height // scale)))  # it picks the scale by floor division
            if min(image.size) < MIN_SIDE:  # check_size would call the reduced size the file's own, "only 2500×4 pixels"
                raise ImageInputError(f"The JPEG is {width}×{height} pixels, over the limits ({MAX_SIDE} pixels a side, "
                                      f"{MAX_PIXELS // 1_000_000} megapixels), and read at 1/{scale} of its size it would be "
                                      f"{image.size[0]}×{image.size[1]}, under the {MIN_SIDE}×{MIN_SIDE} minimum. "
                                      "Please crop or resize it.")
            return (f"The JPEG is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels); it was read at 1/{scale} "
                    f"of its size, {image.size[0]}×{image.size[1]}.")
    return None


def check_mode(mode: str) -> None:
    if mode not in READABLE_MODES and not mode.startswith("I;16"):
        raise ImageInputError(f"This image is in the {mode} colour mode, which cannot be read here; "
                              "save it as RGB or greyscale (PNG or JPEG).")


def check_size(width: int, height: int) -> None:
    if not fits_limits(width, height):
        raise ImageInputError(f"The image is {width}×{height} pixels; {LIMITS}. Please upload a smaller image.")
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageInputError(f"The image is only {width}×{height} pixels; it needs at least {MIN_SIDE}×{MIN_SIDE}.")


def to_gray(image: Image.Image) -> np.ndarray:
    """Grey levels in [0, 1] from any readable PIL mode (1, L, P, RGB, RGBA, LA, I;16, I, F, CMYK …).

    Transparent pixels are filled with whichever of black or white contrasts with the visible ink,
    so a white digit on a transparent background does not vanish on a white fill (or a black one on black).
    Integer grey is scaled by its container's range (16 bits), except that a 32-bit "I" image, which tools
    also write for 8-bit scans, is scaled by the smallest of 255, 65535 and its own peak that holds its values.
    """
    if image.mode.startswith("I"):  # 16- or 32-bit integer grey levels
        values = np.asarray(image, dtype=np.float64)
        peak = values.max()
        scale = 65535.0 if image.mode != "I" or 255 < peak <= 65535 else 255.0 if peak <= 255 else peak
        return np.clip(values / scale, 0, 1).astype(np.float32)
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        if not np.isfinite(values).all():
            raise ImageInputError("The image holds pixel values that are not numbers (NaN or infinity), "
                                  "so it cannot be used.")
        return np.clip(values / (255.0 if values.max() > 1 else 1.0), 0, 1).astype(np.float32)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if not has_alpha:
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[..., 3]
    gray = rgba[..., :3] @ LUMA
    if alpha.sum() == 0:
        return np.zeros_like(gray)
    return alpha * gray + (1.0 - alpha) * contrasting_background(gray, alpha)


def contrasting_background(gray: np.ndarray, alpha: np.ndarray) -> float:
    """Black or white, whichever contrasts with the visible pixels' mean grey level (white for an empty image)."""
    if alpha.sum() == 0:
        return 1.0
    return 1.0 if float((gray * alpha).sum() / alpha.sum()) < 0.5 else 0.0
