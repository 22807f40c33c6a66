"""Sets of images to measure: a folder, a zip file or an array, read one image at a time and safely.

A zip comes from strangers (the FID tab's uploads), so it is checked before anything is decompressed:
the member count and the declared uncompressed total are capped (zip bombs), so is each file's size (a
member is read whole into memory), a member may not grow past its declared size while being read,
names that would escape a folder are skipped (nothing is extracted to disk, but such a member is no
honest image), and so are images larger than a pixel cap, before decoding. Members that are
not images, or that do not decode, are skipped and counted: the counts go into every result so a user
sees what was measured.

Every image comes out as RGB uint8 (H, W, 3): grey is replicated to three channels and alpha dropped,
as pytorch-fid and clean-fid do (``PIL.Image.convert("RGB")``). 16-bit (and 32-bit integer or float) grey is
scaled to 8 bits as the digit tabs do (``generative.image_io.to_gray``), where ``convert`` would clip it to white.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterator

import numpy as np
from PIL import Image

from generative.image_io import MAX_PIXELS, check_mode, to_gray

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}
MAX_MEMBERS = 100_000
MAX_UNCOMPRESSED_BYTES = 2 * 1024 ** 3
# One image file, read whole into memory before decoding: twice an uncompressed 8-bit RGBA (or float grey) image at the
# pixel cap. Only uncompressed 16-bit colour near the cap needs more; a larger file is skipped as unsafe, unread.
MAX_FILE_BYTES = 8 * MAX_PIXELS
SKIPPED_EXAMPLES = 5


class ImageSetError(ValueError):
    """The set cannot be read (or is refused); the message is meant for the user."""


class ImageTooLarge(ValueError):
    """An image over ``MAX_PIXELS``, refused from its header before decoding."""


# Why a file was skipped: (singular, plural) for the count, and the short reason shown after an example's name.
SKIP_REASONS = {
    "not_image": (("file that is not an image", "files that are not images"), "not an image"),
    "corrupt": (("unreadable image", "unreadable images"), "unreadable"),
    "too_large": ((f"image over {MAX_PIXELS:,} pixels", f"images over {MAX_PIXELS:,} pixels"), "too large"),
    "unsafe": (("unsafe name or file size", "unsafe names or file sizes"), "unsafe"),
}


@dataclass
class Skipped:
    """What was left out of a set, and why: part of every reported result."""
    not_image: int = 0
    corrupt: int = 0
    too_large: int = 0
    unsafe: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, kind: str, name: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples) < SKIPPED_EXAMPLES:
            self.examples.append(f"{name}: {SKIP_REASONS[kind][1]}")

    @property
    def total(self) -> int:
        return sum(getattr(self, kind) for kind in SKIP_REASONS)

    def describe(self) -> str:
        """E.g. "skipped 1 file that is not an image, 2 unreadable images (e.g. notes.txt: not an image; …)"."""
        if not self.total:
            return "nothing skipped"
        parts = [f"{count} {labels[count != 1]}" for count, (labels, _) in
                 ((getattr(self, kind), reasons) for kind, reasons in SKIP_REASONS.items()) if count]
        return "skipped " + ", ".join(parts) + " (e.g. " + "; ".join(self.examples) + ")"


def decode(data: bytes) -> np.ndarray:
    """Bytes of an image file → RGB uint8 (H, W, 3); ``ImageTooLarge`` or another ``ValueError`` if it is not a readable, sane image."""
    try:
        # PIL's bomb warning (89–179 MP) is not made an error with warnings.catch_warnings(), which is not thread-safe
        # (overlapping decodes left the filter set for the whole process): the header check below refuses such images.
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ImageTooLarge(f"{image.width}×{image.height} is over the {MAX_PIXELS:,}-pixel limit")
            check_mode(image.mode)  # LAB, HSV …: refused, as in the tabs, rather than guessed at
            if image.mode.startswith("I") or image.mode == "F":  # 16/32-bit grey: convert("RGB") would clip, not scale
                grey = (to_gray(image) * 255).round().astype(np.uint8)
                return np.repeat(grey[..., None], 3, axis=-1)
            return np.asarray(image.convert("RGB"))
    except Image.DecompressionBombError as err:
        raise ImageTooLarge(str(err)) from err
    except (OSError, SyntaxError) as err:
        raise ValueError(str(err)) from err


def is_image_name(name: str) -> bool:
    path = PurePosixPath(name)
    hidden = any(part.startswith(".") or part == "__MACOSX" for part in path.parts)
    return path.suffix.lower() in IMAGE_SUFFIXES and not hidden


def is_unsafe_name(name: str) -> bool:
    """Absolute paths, drive letters and ``..`` components: names that would write outside an extraction folder."""
    normalised = name.replace("\\", "/")
    return normalised.startswith("/") or ".." in normalised.split("/") or (len(name) > 1 and name[1] == ":")


class ImageSet:
    """An iterable of RGB uint8 images with a name, a count of candidates and what was skipped."""

    name: str
    skipped: Skipped

    def __len__(self) -> int:
        """The number of candidate images (before any fail to decode)."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[np.ndarray]:
        raise NotImplementedError


class FolderImages(ImageSet):
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ImageSetError(f"{folder} is not a folder")
        self.name, self.skipped = str(folder), Skipped()
        files = sorted(p for p in self.folder.rglob("*") if p.is_file())
        self.files = []
        for path in files:
            if is_image_name(path.relative_to(self.folder).as_posix()):
                self.files.append(path)
            else:
                self.skipped.add("not_image", path.name)

    def __len__(self):
        return len(self.files)

    def __iter__(self):
        for path in self.files:
            if path.stat().st_size > MAX_FILE_BYTES:
                self.skipped.add("unsafe", path.name)
                continue
            try:
                yield decode(path.read_bytes())
            except ImageTooLarge:
                self.skipped.add("too_large", path.name)
            except ValueError:
                self.skipped.add("corrupt", path.name)


class ZipImages(ImageSet):
    """Images inside a zip file, read member by member into memory (never extracted to disk)."""

    def __init__(self, path: str | Path, max_members: int = MAX_MEMBERS,
                 max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES):
        self.path, self.name, self.skipped = Path(path), Path(path).name, Skipped()
        try:
            with zipfile.ZipFile(self.path) as archive:
                members = [info for info in archive.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, OSError) as err:
            raise ImageSetError(f"{self.name} is not a readable zip file ({err})") from err
        if len(members) > max_members:
            raise ImageSetError(f"{self.name} has {len(members):,} files; the limit is {max_members:,}. Refused before extracting.")
        declared = sum(info.file_size for info in members)
        if declared > max_uncompressed_bytes:
            raise ImageSetError(f"{self.name} would unpack to {declared / 2**20:,.0f} MB; the limit is "
                                f"{max_uncompressed_bytes / 2**20:,.0f} MB. Refused before extracting (zip bomb?).")
        self.members = []
        for info in members:
            if is_unsafe_name(info.filename) or (info.file_size > MAX_FILE_BYTES and is_image_name(info.filename)):
                self.skipped.add("unsafe", info.filename)
            elif not is_image_name(info.filename):
                self.skipped.add("not_image", info.filename)
            else:
                self.members.append(info)

    def __len__(self):
        return len(self.members)

    def __iter__(self):
        with zipfile.ZipFile(self.path) as archive:
            for info in self.members:
                try:
                    with archive.open(info) as member:  # stops at the declared size; a liar then fails its CRC
                        data = member.read()
                    yield decode(data)
                except ImageTooLarge:
                    self.skipped.add("too_large", info.filename)
                except (ValueError, zipfile.BadZipFile, OSError, EOFError, NotImplementedError,
                        RuntimeError):  # RuntimeError: an encrypted member
                    self.skipped.add("corrupt", info.filename)


HALF_GREY_LEVEL = 0.5 / 255  # floats this far outside [0, 1] still round to 0 or 255: a sigmoid's rounding, kept


class ArrayImages(ImageSet):
    """Images already in memory: (N, H, W) grey or (N, H, W, 3) RGB, as integers 0–255 or floats in [0, 1].

    Anything else is refused rather than clipped: floats in [−1, 1] or 0–255 would otherwise become other pictures,
    and another FID, without a word.
    """

    def __init__(self, images: np.ndarray, name: str):
        images = np.asarray(images)
        if images.dtype != np.uint8:
            images = checked_uint8(images, name)
        if images.ndim == 3:
            images = np.repeat(images[..., None], 3, axis=-1)
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ImageSetError(f"{name}: expected (N, H, W) or (N, H, W, 3) images, got shape {images.shape}")
        self.images, self.name, self.skipped = images, name, Skipped()

    def __len__(self):
        return len(self.images)

    def __iter__(self):
        return iter(self.images)


def checked_uint8(images: np.ndarray, name: str) -> np.ndarray:
    """Integers 0–255 as they are, floats in [0, 1] scaled to 0–255; other values raise ``ImageSetError``."""
    if images.dtype.kind in "iu":
        if images.size and not (images.min() >= 0 and images.max() <= 255):
            raise ImageSetError(f"{name}: integer images must lie in 0–255, these span {images.min()} to {images.max()}")
        return images.astype(np.uint8)
    if images.dtype.kind != "f":
        raise ImageSetError(f"{name}: images must be integers 0–255 or floats in [0, 1], not {images.dtype}")
    if not np.isfinite(images).all():
        raise ImageSetError(f"{name}: the images hold NaN or infinite values")
    if images.size and not (images.min() >= -HALF_GREY_LEVEL and images.max() <= 1 + HALF_GREY_LEVEL):
        raise ImageSetError(f"{name}: float images must lie in [0, 1], these span {images.min():.4g} to "
                            f"{images.max():.4g} (scale [−1, 1] as (x + 1) / 2, or 0–255 as x / 255, first)")
    return (np.clip(images, 0, 1) * 255).round().astype(np.uint8)


def open_image_set(source: str | Path) -> ImageSet:
    """A folder or a ``.zip`` path as an ``ImageSet``."""
    path = Path(source)
    if not path.exists():
        raise ImageSetError(f"{source} does not exist")
    if path.is_dir():
        return FolderImages(path)
    if path.suffix.lower() == ".zip":
        return ZipImages(path)
    raise ImageSetError(f"{source} is neither a folder nor a .zip file")
