"""Paths between two latent vectors: straight (lerp) or along the great circle (slerp).

In a high-dimensional Gaussian almost all mass sits near the sphere of radius √d, so the midpoint
of a straight line between two typical codes is atypically short. Slerp here walks the great circle
between the two directions and moves the norm linearly from one end's to the other's, so it does not dip
(between nearly parallel or opposite codes the great circle is ill-defined and it falls back to the line):
a variant of White's slerp (2016, "Sampling generative networks"), which weights the vectors themselves.
"""
from __future__ import annotations

import torch

PARALLEL_COSINE = 0.9995  # closer than this, the great circle is numerically a line: use lerp


def lerp(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """``steps`` points from ``a`` to ``b`` (both ends included) on the straight line; (steps, *a.shape)."""
    t = torch.linspace(0, 1, steps, dtype=a.dtype, device=a.device).view(-1, *([1] * a.dim()))
    return (1 - t) * a + t * b


def slerp(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """``steps`` points from ``a`` to ``b`` along the great circle, the norm interpolated linearly in between.

    Vectors lie along the last dimension, so a batch of endpoint pairs (..., d) gives a path for each pair.
    """
    norm_a, norm_b = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
    cosine = (a * b).sum(-1, keepdim=True) / (norm_a * norm_b).clamp_min(1e-12)
    angle = torch.arccos(cosine.clamp(-1, 1))
    t = torch.linspace(0, 1, steps, dtype=a.dtype, device=a.device).view(-1, *([1] * a.dim()))
    direction = (torch.sin((1 - t) * angle) * a / norm_a + torch.sin(t * angle) * b / norm_b) / torch.sin(angle)
    on_circle = direction * ((1 - t) * norm_a + t * norm_b)
    line_instead = (cosine.abs() > PARALLEL_COSINE) | (norm_a == 0) | (norm_b == 0)  # no great circle to follow
    return torch.where(line_instead, lerp(a, b, steps), on_circle)


PATHS = {"lerp": lerp, "slerp": slerp}


def latent_path(a: torch.Tensor, b: torch.Tensor, steps: int, path: str = "lerp") -> torch.Tensor:
    """``steps`` latent vectors from ``a`` to ``b`` along ``path`` ("lerp" or "slerp"); (steps, *a.shape)."""
    if path not in PATHS:
        raise ValueError(f"path must be one of {sorted(PATHS)}, got {path!r}")
    if steps < 2:
        raise ValueError(f"a path needs at least its 2 endpoints, got steps={steps}")
    return PATHS[path](a, b, steps)
