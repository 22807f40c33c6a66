"""Corruptions a denoiser learns to undo, on images with values in [0, 1].

Every function takes a ``torch.Generator`` so a seed reproduces the exact noise, and works on any
tensor shape, so the same code corrupts one digit in the app and a whole batch in training.
"""
from __future__ import annotations

import torch

NOISE_KINDS = ("gaussian", "salt_and_pepper", "masking")


def add_gaussian_noise(x: torch.Tensor, sigma: float | torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """x + σ·ε with ε ~ N(0, 1), clipped to [0, 1] so the result is still a valid image."""
    eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (x + sigma * eps).clamp(0.0, 1.0)


def add_salt_and_pepper_noise(x: torch.Tensor, fraction: float | torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A ``fraction`` of pixels, chosen at random, becomes 0 or 1 with equal probability."""
    hit = torch.rand(x.shape, generator=generator, device=x.device) < fraction
    salt = torch.rand(x.shape, generator=generator, device=x.device) < 0.5
    return torch.where(hit, salt.to(x.dtype), x)


def add_masking_noise(x: torch.Tensor, fraction: float | torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A ``fraction`` of pixels is set to 0: the corruption of Vincent et al. (2008), who defined the DAE."""
    drop = torch.rand(x.shape, generator=generator, device=x.device) < fraction
    return x.masked_fill(drop, 0.0)


_CORRUPTIONS = {
    "gaussian": add_gaussian_noise,
    "salt_and_pepper": add_salt_and_pepper_noise,
    "masking": add_masking_noise,
}


def corrupt(x: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Apply the corruption named ``kind`` (one of NOISE_KINDS) at ``level``."""
    if kind not in _CORRUPTIONS:
        raise ValueError(f"unknown noise kind {kind!r}; expected one of {', '.join(NOISE_KINDS)}")
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"noise level must be in [0, 1], got {level}")
    return _CORRUPTIONS[kind](x, level, generator)


# Levels the blind denoiser is trained on: wide enough to cover the app's sliders' useful range.
TRAINING_LEVEL_RANGE = {"gaussian": (0.0, 0.7), "salt_and_pepper": (0.0, 0.5), "masking": (0.0, 0.75)}


def corrupt_randomly(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Corrupt each image of a batch (N, C, H, W) with its own random kind and level.

    Drawing per image rather than per batch shows every batch all three corruptions, which keeps
    gradient steps from swinging between noise types.
    """
    n = x.shape[0]
    kind_index = torch.randint(len(NOISE_KINDS), (n,), generator=generator, device=x.device)
    u = torch.rand((n, 1, 1, 1), generator=generator, device=x.device)
    out = torch.empty_like(x)
    for i, kind in enumerate(NOISE_KINDS):
        rows = kind_index == i
        low, high = TRAINING_LEVEL_RANGE[kind]
        levels = low + (high - low) * u[rows]
        out[rows] = _CORRUPTIONS[kind](x[rows], levels, generator)
    return out
