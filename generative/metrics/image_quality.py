"""PSNR and SSIM of a restored image against its clean original, via scikit-image.

Images are float arrays in [0, 1], so ``data_range=1``. SSIM uses scikit-image's default 7×7
uniform window, which fits inside a 28×28 digit; Wang et al.'s (2004) 11×11 Gaussian window gives other
values, so every text that quotes an SSIM says which (``SSIM_SETTING``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from generative.noise import corrupt

# The levels the denoising benchmark and the model card report, as (noise kind, level).
BENCHMARK_LEVELS = (
    ("gaussian", 0.1), ("gaussian", 0.3), ("gaussian", 0.5),
    ("salt_and_pepper", 0.1), ("salt_and_pepper", 0.3),
    ("masking", 0.25), ("masking", 0.5),
)


def psnr(clean: np.ndarray, restored: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB; ``inf`` when the two are identical."""
    if np.array_equal(clean, restored):
        return float("inf")
    return float(peak_signal_noise_ratio(clean, restored, data_range=1.0))


SSIM_SETTING = ("SSIM with scikit-image's default 7×7 uniform window, not Wang et al.'s 11×11 Gaussian one, "
                "which gives other values")


def ssim(clean: np.ndarray, restored: np.ndarray) -> float:
    """Structural similarity in [-1, 1] (1: identical)."""
    return float(structural_similarity(clean, restored, data_range=1.0))


@dataclass(frozen=True)
class Scores:
    psnr: float
    ssim: float


def score(clean: np.ndarray, restored: np.ndarray) -> Scores:
    return Scores(psnr(clean, restored), ssim(clean, restored))


def mean_scores(clean: np.ndarray, restored: np.ndarray) -> Scores:
    """Mean PSNR and SSIM over a stack of (N, H, W) images, each image scored on its own."""
    pairs = [score(c, r) for c, r in zip(clean, restored)]
    return Scores(float(np.mean([p.psnr for p in pairs])), float(np.mean([p.ssim for p in pairs])))


def corrupt_test_set(clean: torch.Tensor, kind: str, level: float, seed: int = 0) -> torch.Tensor:
    """The benchmark's noisy copy of ``clean`` (N, 1, H, W): fixed seed, so every method sees the same noise."""
    return corrupt(clean, kind, level, torch.Generator().manual_seed(seed))


def model_denoiser(model: torch.nn.Module, batch_size: int = 1000) -> Callable[[torch.Tensor], torch.Tensor]:
    """Wrap a denoising model as a batched (N, 1, H, W) → (N, 1, H, W) function; the model may sit on a GPU, the
    images come back where they were."""
    device = next(model.parameters()).device

    @torch.inference_mode()
    def denoise(noisy: torch.Tensor) -> torch.Tensor:
        return torch.cat([model(chunk.to(device)).to(noisy.device) for chunk in noisy.split(batch_size)])

    return denoise
