"""The photo half of the Denoise tab: which model an upload goes to, and the photo denoiser's outputs.

Pure functions on arrays; ``demos/denoise.py`` wires them into the tab next to the digit autoencoder.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity

from demos.background import cancel_event
from demos.inputs import enlarge, shown
from generative.digits import looks_like_digit
from generative.metrics.image_quality import Scores
from generative.models import PhotoDenoiser
from generative.photo import add_white_noise, denoise_photo, psnr_8bit, to_uint8

PHOTO_EXAMPLES_DIR = Path(__file__).parent / "examples" / "photos"
MAX_PHOTO_PIXELS = 4_000_000  # bigger uploads are scaled down to this first; a colour one took the model 5.6–8.6 s here
ZOOM_SIDE, ZOOM_SCALE = 96, 4
ZOOM_LABEL = (f"Detail, {ZOOM_SIDE}×{ZOOM_SIDE} pixels enlarged {ZOOM_SCALE}×: click a photo above, or move the sliders, "
              "to choose where")
MAX_PHOTO_SIGMA = 55  # the photo denoiser's training range (0–255 scale)
AUTO, DIGIT, PHOTO = "auto", "digit", "photo"


@dataclass
class PhotoResult:
    clean: np.ndarray | None          # None when the upload was already noisy
    noisy: np.ndarray                 # float, not clipped (the benchmark's noise model)
    denoised: np.ndarray              # float, not clipped
    scores: dict[str, Scores] | None  # "noisy input" and "photo denoiser" against the clean photo


def choose_model(choice: str, pixels: np.ndarray) -> str:
    """DIGIT or PHOTO: the user's ``choice`` unless it is AUTO, when ``looks_like_digit`` decides."""
    if choice not in (AUTO, DIGIT, PHOTO):
        raise ValueError(f"model choice must be one of {AUTO!r}, {DIGIT!r}, {PHOTO!r}, got {shown(choice)}")
    if choice != AUTO:
        return choice
    return DIGIT if looks_like_digit(pixels) else PHOTO


def fit_to_limit(pixels: np.ndarray, max_pixels: int = MAX_PHOTO_PIXELS) -> tuple[np.ndarray, str | None]:
    """``pixels`` scaled down (Lanczos) to at most ``max_pixels``, with a note for the user when it was."""
    height, width = pixels.shape[:2]
    if height * width <= max_pixels:
        return pixels, None
    scale = (max_pixels / (height * width)) ** 0.5
    size = (max(1, int(width * scale)), max(1, int(height * scale)))
    layers = pixels[..., None] if pixels.ndim == 2 else pixels
    resized = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(layers[..., c], dtype=np.float32)).resize(size, Image.LANCZOS))
                        for c in range(layers.shape[-1])], axis=-1)
    resized = resized[..., 0] if pixels.ndim == 2 else resized
    note = (f"The photo was scaled down from {width}×{height} to {size[0]}×{size[1]} pixels "
            f"({max_pixels / 1e6:g} megapixels, the limit for this CPU demo).")
    return np.clip(resized, 0.0, 1.0), note


def photo_scores(clean: np.ndarray, image: np.ndarray) -> Scores:
    """PSNR by the benchmark protocol (8-bit output, whole image) and SSIM of the 8-bit images, with the digits'
    setting (scikit-image's default window; colour: the mean over channels)."""
    reference = to_uint8(clean)
    ssim = structural_similarity(reference, to_uint8(image), data_range=255,
                                 channel_axis=-1 if clean.ndim == 3 else None)
    return Scores(psnr_8bit(reference, image), float(ssim))


def denoise_upload(model: PhotoDenoiser, photo: np.ndarray, sigma: float, seed: int,
                   already_noisy: bool = False, ensemble: bool = False) -> PhotoResult:
    """Add white Gaussian noise of ``sigma`` (0–255 scale) to ``photo`` (unless ``already_noisy``), denoise and score it.

    ``ensemble``: average the model over the eight flips and rotations, about 0.1 dB better at eight times the time.
    Run by a ``cancellable`` handler, a cancel (the tab's Stop, an API caller's) ends the work before its next tile."""
    if already_noisy:
        clean, noisy = None, photo.astype(np.float64)
    else:
        clean, noisy = photo.astype(np.float64), add_white_noise(photo.astype(np.float64), sigma, seed)
    denoised = denoise_photo(model, noisy, ensemble=ensemble, stop=cancel_event())
    scores = None if clean is None else {"noisy input": photo_scores(clean, noisy), "photo denoiser": photo_scores(clean, denoised)}
    return PhotoResult(clean, noisy, denoised, scores)


def zoom_crop(image: np.ndarray | None, centre: tuple[float, float] = (0.5, 0.5), side: int = ZOOM_SIDE,
              scale: int = ZOOM_SCALE) -> np.ndarray | None:
    """A ``side``×``side`` crop around ``centre`` (fractions of height and width), each pixel a scale×scale block.

    ``image`` is a float image in [0, 1] or the uint8 image the tab shows."""
    if image is None:
        return None
    height, width = image.shape[:2]
    side_y, side_x = min(side, height), min(side, width)
    top = int(np.clip(round(centre[0] * height - side_y / 2), 0, height - side_y))
    left = int(np.clip(round(centre[1] * width - side_x / 2), 0, width - side_x))
    return enlarge(image[top:top + side_y, left:left + side_x], scale)


def zoom_label(height: int, width: int) -> str:
    """The detail's caption for a photo of ``height`` × ``width`` pixels: ``ZOOM_LABEL``, but a side shorter than the
    detail is shown whole, and a photo smaller than it both ways has no place to choose (a digit sent to the photo
    denoiser was said to show 96×96 pixels)."""
    if height >= ZOOM_SIDE and width >= ZOOM_SIDE:
        return ZOOM_LABEL
    if height <= ZOOM_SIDE and width <= ZOOM_SIDE:
        return f"Detail: the whole photo, {width}×{height} pixels, enlarged {ZOOM_SCALE}×"
    return (f"Detail, {min(width, ZOOM_SIDE)}×{min(height, ZOOM_SIDE)} pixels (the photo's whole "
            f"{'height' if height < ZOOM_SIDE else 'width'}) enlarged {ZOOM_SCALE}×: click a photo above, or move the "
            "sliders, to choose where")


def zoom_views(views: list[tuple[np.ndarray, str]], centre: tuple[float, float] = (0.5, 0.5)) -> list[tuple[np.ndarray, str]]:
    """The same detail of every (image, label) view, for the tab's zoom gallery."""
    return [(zoom_crop(image, centre), label) for image, label in views]


def percent_of(pixel: float, size: int) -> int:
    """Where ``pixel`` lies along a side of ``size`` pixels, in whole per cent: a zoom slider's value."""
    return int(np.clip(round(100 * pixel / size), 0, 100))


def save_png(image: np.ndarray, folder: Path, name: str) -> str:
    """Write ``image`` as an 8-bit PNG (what a user downloads) and return its path."""
    path = folder / name
    Image.fromarray(to_uint8(image)).save(path)
    return str(path)


def photo_example_paths() -> list[str]:
    return [str(p) for p in sorted(PHOTO_EXAMPLES_DIR.glob("*.png"))]
