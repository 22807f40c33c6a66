"""Images and a stand-in feature extractor for the FID tests, so the pipeline is tested without the 87 MB weights,
and a reference Fréchet distance computed another way than the library's."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy.linalg import eigh
from torch import nn

from generative.metrics.features import Extractor
from generative.metrics.frechet import GaussianStats
from input_files import write_zip

STAND_IN_SIDE, STAND_IN_DIM = 16, 4
MODES = ("L", "RGB", "RGBA", "P", "I;16")


def random_images(count: int, seed: int, size: tuple[int, int] = (28, 28), brightness: float = 1.0) -> np.ndarray:
    """``count`` RGB uint8 images (N, H, W, 3) of random 4×4 colour blocks: varied enough for features to spread."""
    rng = np.random.default_rng(seed)
    height, width = size
    blocks = rng.uniform(0, 255 * brightness, (count, 4, 4, 3))
    rows, cols = np.arange(height) * 4 // height, np.arange(width) * 4 // width
    return blocks[:, rows][:, :, cols].round().clip(0, 255).astype(np.uint8)


def image_in_mode(rgb: np.ndarray, mode: str) -> tuple[Image.Image, np.ndarray]:
    """``rgb`` as a PIL image in ``mode``, and the RGB uint8 array that reading it back should give."""
    image = Image.fromarray(rgb)
    if mode == "L":
        grey = np.asarray(image.convert("L"))
        return Image.fromarray(grey), np.repeat(grey[..., None], 3, axis=-1)
    if mode == "I;16":  # 16-bit grey spanning the full range: v·257 should read back as v, not clip to white
        grey = np.asarray(image.convert("L"))
        sixteen = Image.fromarray(grey.astype(np.uint16) * 257)
        assert sixteen.mode.startswith("I"), sixteen.mode
        return sixteen, np.repeat(grey[..., None], 3, axis=-1)
    if mode == "RGBA":  # the alpha is dropped, as pytorch-fid does
        alpha = np.random.default_rng(0).integers(0, 256, rgb.shape[:2], dtype=np.uint8)
        return Image.fromarray(np.dstack([rgb, alpha]), "RGBA"), rgb
    if mode == "P":
        palette = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
        return palette, np.asarray(palette.convert("RGB"))
    return image, rgb


def write_folder(folder: Path, images: np.ndarray) -> Path:
    """RGB images as ``img000.png``, ``img001.png`` … (the order a folder is read in)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, pixels in enumerate(images):
        Image.fromarray(pixels).save(folder / f"img{i:03d}.png")
    return folder


def zip_folder(folder: Path, path: Path) -> Path:
    """The files of ``folder`` (not its subfolders) in a zip, in name order."""
    return write_zip(path, {file.name: file.read_bytes() for file in sorted(folder.iterdir())})


def stand_in_prepare(image: np.ndarray) -> torch.Tensor:
    """RGB uint8 (H, W, 3) → float (3, 16, 16) in [0, 1], PIL bilinear."""
    small = Image.fromarray(image).resize((STAND_IN_SIDE, STAND_IN_SIDE), Image.BILINEAR)
    return torch.from_numpy(np.asarray(small, dtype=np.float32) / 255).permute(2, 0, 1)


def stand_in_extractor(seed: int = 0) -> Extractor:
    """A small fixed random conv net, 4-d features: cheap, deterministic, and sensitive to the image content."""
    generator = torch.Generator().manual_seed(seed)
    network = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.Tanh(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                            nn.Linear(32, STAND_IN_DIM))
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    return Extractor(network.eval().requires_grad_(False), stand_in_prepare, STAND_IN_DIM,
                     f"stand-in random conv net, {STAND_IN_DIM}-d", f"PIL bilinear to {STAND_IN_SIDE}×{STAND_IN_SIDE}")


def frechet_distance_by_eigh(a: GaussianStats, b: GaussianStats) -> float:
    """The reference for ``frechet_distance``, computed another way: Tr((Σ₁Σ₂)^½) = Tr((√Σ₁ Σ₂ √Σ₁)^½), the square
    roots of symmetric matrices taken by eigendecomposition (no ``sqrtm``)."""
    values, vectors = eigh(a.covariance)
    root_a = vectors @ np.diag(np.sqrt(values.clip(0))) @ vectors.T
    inner = eigh(root_a @ b.covariance @ root_a, eigvals_only=True)
    diff = a.mean - b.mean
    return float(diff @ diff + np.trace(a.covariance) + np.trace(b.covariance) - 2 * np.sqrt(inner.clip(0)).sum())
