"""Turn any picture of a digit into the 28×28 input an MNIST model expects, the way MNIST was made.

LeCun et al. size-normalised each digit to fit a 20×20 box (keeping its aspect ratio, with
anti-aliasing, hence grey levels) and centred it by its centre of mass in a 28×28 field, with white
ink on black. A model trained on MNIST sees only such images, so drawings and photos must match.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy import ndimage

from generative.image_io import ImageInputError

FIELD = 28
BOX = 20
INK_THRESHOLD = 0.2  # of the brightest ink, after background removal: what counts as part of the digit
DIGIT_MAX_SIDE = 64  # anything this small is a digit-sized input; photos are larger


def to_mnist_style(gray: np.ndarray) -> np.ndarray:
    """(H, W) grey levels in [0, 1], either polarity → (28, 28) float32, light digit on black."""
    ink = _ink_map(gray)
    rows, cols = np.nonzero(ink > INK_THRESHOLD)
    if rows.size == 0:
        raise ImageInputError("No digit found: the image is blank (a single flat colour).")
    crop = ink[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    box = _fit_in_box(crop)
    return _centre_by_mass(box)


def noisy_digit_field(gray: np.ndarray) -> np.ndarray:
    """(H, W) grey levels of an *already noisy* digit → (28, 28) float32, light on black, otherwise as it is.

    ``to_mnist_style`` crops to the ink, which on a noisy image would take the noise for ink and shrink it
    into the 20×20 box; here the whole image is the 28×28 field. A picture made of k×k blocks (a digit
    shown enlarged, as this gallery shows its outputs) is shrunk back exactly; any other size is padded
    to a square with its paper's level and averaged down.
    """
    gray = np.asarray(gray, dtype=np.float32)
    shrunk = block_shrunk(gray)
    gray, paper = _light_on_dark(gray if shrunk is None else shrunk)
    if gray.shape == (FIELD, FIELD):
        return gray
    height, width = gray.shape
    side = max(height, width)
    square = np.full((side, side), paper, dtype=np.float32)
    square[(side - height) // 2:(side - height) // 2 + height, (side - width) // 2:(side - width) // 2 + width] = gray
    field = Image.fromarray(square, mode="F").resize((FIELD, FIELD), Image.Resampling.BOX)
    return np.clip(np.asarray(field), 0.0, 1.0)


def block_shrunk(pixels: np.ndarray) -> np.ndarray | None:
    """The small image that ``pixels`` (H, W[, C]) enlarges by whole k×k blocks (k ≥ 2), or None if it is no such enlargement.

    Rows change only at multiples of k and so do columns, so k is the greatest common divisor of the sides and of
    every position where a row or a column differs from the one before: one pass, whatever the size.
    """
    height, width = pixels.shape[:2]
    if min(height, width) < 2 or not (np.array_equal(pixels[0], pixels[1]) and np.array_equal(pixels[:, 0], pixels[:, 1])):
        return None  # the first two rows and columns share a block for every k ≥ 2: a photo fails here at once
    other_axes = tuple(range(2, pixels.ndim))
    row_changes = np.flatnonzero((pixels[1:] != pixels[:-1]).any(axis=(1, *other_axes))) + 1
    column_changes = np.flatnonzero((pixels[:, 1:] != pixels[:, :-1]).any(axis=(0, *other_axes))) + 1
    k = math.gcd(height, width, *row_changes.tolist(), *column_changes.tolist())
    return pixels[::k, ::k] if k > 1 else None


def looks_like_digit(pixels: np.ndarray) -> bool:
    """Does an image (H, W[, 3], in [0, 1]) look like a digit an MNIST model can read, rather than a photo?

    Yes for a tiny image, also when it is shown enlarged in whole k×k blocks (as the gallery shows its noisy
    digit, which a user may download and upload again), and for a few strokes on a plain background (a scanned
    or drawn digit): most pixels close to the background level (the median of the border), some far from it,
    and few in between, only along the strokes' edges. A colourful image, or one with grey levels spread
    everywhere, is a photo; so is one whose shapes fade into a plain background (a swan on dark water), told
    apart by the levels in between: without that test 95 of Train400's 400 photos looked like digits (and 10 of
    BSD68's, CBSD68's and Kodak24's 160), with it 6 (and none of those, nor of Set12). Doubt goes to the photo
    model: it still denoises a digit, while the digit model turns a photo into a 28×28 blob.
    """
    shrunk = block_shrunk(pixels)
    if shrunk is not None and np.ptp(shrunk) > 0:  # one flat block is a blank image, not an enlarged digit
        pixels = shrunk
    gray = pixels if pixels.ndim == 2 else pixels.mean(axis=-1)
    if pixels.ndim == 3 and float(np.abs(pixels - gray[..., None]).mean()) > 0.05:
        return False
    if max(gray.shape) <= DIGIT_MAX_SIDE:
        return True
    step = min(math.ceil(max(gray.shape) / 512), min(gray.shape))  # judged at ≤ 512 a side: fast; averaging quiets noise
    if step > 1:
        height, width = gray.shape[0] // step * step, gray.shape[1] // step * step
        gray = gray[:height, :width].reshape(height // step, step, width // step, step).mean(axis=(1, 3))
    gray = ndimage.median_filter(gray, 3)  # a noisy scan's paper would otherwise fill the in-between levels
    background = float(np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])))
    distance = np.abs(gray - background)
    near, far = float(np.mean(distance < 0.1)), float(np.mean(distance > 0.3))
    between = 1.0 - near - far
    return near > 0.6 and 0.005 < far < 0.35 and between < 0.55 * far


def _light_on_dark(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """``gray`` with light ink on dark paper (dark-on-light images, like a scan or a drawing, are flipped) and the
    paper's level: the median of the border."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 0.5:
        gray, border = 1.0 - gray, 1.0 - border
    return gray, float(np.median(border))


def _ink_map(gray: np.ndarray) -> np.ndarray:
    """Ink = 1, paper = 0: flip dark-on-light images, subtract the paper's level and stretch to [0, 1]."""
    gray, paper = _light_on_dark(np.asarray(gray, dtype=np.float32))
    ink = np.clip(gray - paper, 0.0, None)
    peak = ink.max()
    if peak < 0.05:  # nothing stands out from the paper by more than 5 % of the grey range
        raise ImageInputError("No digit found: the image has no visible strokes (it is one flat colour).")
    return ink / peak


def _fit_in_box(crop: np.ndarray) -> np.ndarray:
    height, width = crop.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(crop.astype(np.float32), mode="F").resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized), 0.0, 1.0)


def _centre_by_mass(box: np.ndarray) -> np.ndarray:
    """Paste ``box`` into the 28×28 field so its centre of mass lands on the centre, staying inside."""
    com_row, com_col = ndimage.center_of_mass(box)
    height, width = box.shape
    top = int(np.clip(round(FIELD / 2 - com_row), 0, FIELD - height))
    left = int(np.clip(round(FIELD / 2 - com_col), 0, FIELD - width))
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    field[top: top + height, left: left + width] = box
    return field
