"""Input files for the app tests, made at test time: sketches, unusual but valid images, and bad files.

Shared by every tab's client tests, so each digit input is checked against the same files; zips of images
(honest and crafted) for the FID calculator.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from demos.inputs import EXAMPLES_DIR

SEVEN = EXAMPLES_DIR / "7_0_test00000.png"
ONE = EXAMPLES_DIR / "1_0_test00002.png"


def save(image: Image.Image, path: Path, **params) -> Path:
    image.save(path, **params)
    return path


def gray_of(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


def text_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text("This is a shopping list, not a digit.\n" * 20)
    return path


def truncated_png(tmp_path: Path, source: Path) -> Path:
    data = source.read_bytes()
    path = tmp_path / "truncated.png"
    path.write_bytes(data[: len(data) // 2])
    return path


def huge_png(tmp_path: Path, side: int = 5000) -> Path:
    """A side×side PNG that compresses to a few kB: one flat colour with a black square."""
    image = Image.new("L", (side, side), 255)
    image.paste(0, (side // 3, side // 3, side // 2, side // 2))
    return save(image, tmp_path / f"huge-{side}.png")


def sixteen_bit_png(tmp_path: Path) -> Path:
    image = Image.fromarray(gray_of(SEVEN).astype(np.uint16) * 257)  # mode I;16
    path = save(image, tmp_path / "sixteen-bit.png")
    with Image.open(path) as check:
        assert check.mode.startswith("I"), check.mode
    return path


def thirty_two_bit_tiff(tmp_path: Path) -> Path:
    """The 7's 8-bit grey levels in a 32-bit integer ("I") TIFF, as some tools save a scan."""
    path = save(Image.fromarray(gray_of(SEVEN).astype(np.int32)), tmp_path / "thirty-two-bit.tif")
    with Image.open(path) as check:
        assert check.mode == "I", check.mode
    return path


def big_profile_png(tmp_path: Path) -> Path:
    """A valid 28×28 PNG with a 3 MB colour profile: more metadata than PIL will decompress."""
    with Image.open(SEVEN) as image:
        return save(image.convert("RGB"), tmp_path / "big-profile.png", icc_profile=bytes(3_000_000))


def lab_tiff(tmp_path: Path) -> Path:
    with Image.open(SEVEN) as image:
        return save(image.convert("RGB").convert("LAB"), tmp_path / "lab.tif")


def nan_tiff(tmp_path: Path) -> Path:
    """The 7 as 32-bit floats with one pixel not a number."""
    pixels = gray_of(SEVEN).astype(np.float32)
    pixels[3, 3] = np.nan
    return save(Image.fromarray(pixels), tmp_path / "nan.tif")


def palette_png(tmp_path: Path) -> Path:
    with Image.open(SEVEN) as image:
        return save(image.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=16), tmp_path / "palette.png")


def white_digit_on_transparent_png(tmp_path: Path) -> Path:
    """The MNIST 7 as opacity: white ink, fully transparent background (composited on white it would vanish)."""
    alpha = gray_of(SEVEN)
    rgba = np.dstack([np.full_like(alpha, 255)] * 3 + [alpha])
    return save(Image.fromarray(rgba, "RGBA"), tmp_path / "transparent.png")


def animated_gif(tmp_path: Path) -> Path:
    """Two frames: the 7, then a 1. Only the first may be used."""
    frames = [Image.fromarray(gray_of(SEVEN)), Image.fromarray(gray_of(ONE))]
    return save(frames[0], tmp_path / "animated.gif", save_all=True, append_images=frames[1:], duration=200, loop=0)


def flat_png(tmp_path: Path, size: tuple[int, int], grey: int = 255) -> Path:
    return save(Image.new("L", size, grey), tmp_path / f"flat-{size[0]}x{size[1]}.png")


def stroke_rgba(size: int = 280) -> np.ndarray:
    """A black '7' (top bar and diagonal, 14 px brush) on a transparent layer, as the Sketchpad draws it."""
    layer = np.zeros((size, size, 4), np.uint8)
    layer[60:74, 80:200] = (0, 0, 0, 255)
    for row in range(74, 230):
        col = 200 - (row - 74) * 90 // 156
        layer[row, col - 7: col + 7] = (0, 0, 0, 255)
    return layer


def sketch_files(tmp_path: Path, drawn: bool = True) -> tuple[Path, Path, Path]:
    """(background, layer, composite) PNGs, RGBA, as the Sketchpad sends them; blank if not ``drawn``."""
    background = Image.new("RGBA", (280, 280), (255, 255, 255, 255))
    layer = Image.fromarray(stroke_rgba() if drawn else np.zeros((280, 280, 4), np.uint8), "RGBA")
    return (save(background, tmp_path / "background.png"), save(layer, tmp_path / "layer.png"),
            save(Image.alpha_composite(background, layer), tmp_path / "composite.png"))


BAD_FILES = {  # name: (make the file in tmp_path, words the error must contain)
    "text file .txt": (lambda tmp: text_file(tmp, "notes.txt"), ["not an image"]),
    "text renamed .png": (lambda tmp: text_file(tmp, "digit.png"), ["not an image"]),
    "truncated PNG": (lambda tmp: truncated_png(tmp, SEVEN), ["truncated or corrupt"]),
    "all-white image": (lambda tmp: flat_png(tmp, (64, 64)), ["No digit found"]),
    "1×1 image": (lambda tmp: flat_png(tmp, (1, 1), grey=0), ["1×1", "at least 8×8"]),
    "5000×5000 image": (lambda tmp: huge_png(tmp), ["5000×5000", "limit"]),
    "5000×5000 header, data cut": (lambda tmp: truncated_png(tmp, huge_png(tmp)), ["5000×5000", "limit"]),
    "PNG with a 3 MB colour profile": (big_profile_png, ["could not be opened as an image"]),
    "LAB TIFF": (lab_tiff, ["LAB colour mode", "RGB or greyscale"]),
    "float TIFF with a NaN pixel": (nan_tiff, ["not numbers"]),
}


def encoded(image: Image.Image, format: str = "PNG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **params)
    return buffer.getvalue()


def png_bytes(pixels: np.ndarray) -> bytes:
    return encoded(Image.fromarray(pixels))


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def random_digits_zip(path: Path, count: int, seed: int, extra: dict[str, bytes] | None = None) -> Path:
    """``count`` random 28×28 grey PNGs (and ``extra`` members) in a zip."""
    rng = np.random.default_rng(seed)
    members = {f"img{i:03d}.png": png_bytes(rng.integers(0, 256, (28, 28), dtype=np.uint8)) for i in range(count)}
    return write_zip(path, {**members, **(extra or {})})


def inflate_declared_size(path: Path, size: int = 0xFFFF_FFF0) -> Path:
    """Rewrite every central-directory entry to claim ``size`` uncompressed bytes: a zip bomb's header, cheaply."""
    data = bytearray(path.read_bytes())
    start = data.find(b"PK\x01\x02")
    while start != -1:
        data[start + 24: start + 28] = size.to_bytes(4, "little")
        start = data.find(b"PK\x01\x02", start + 4)
    path.write_bytes(bytes(data))
    return path
