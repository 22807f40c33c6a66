"""The Fréchet distance between two Gaussians fitted to feature sets: FID's formula, any feature extractor.

d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½), with means and covariances in float64 as pytorch-fid
computes them. ``sqrtm`` of a product of near-singular covariances can fail or come back complex: the
usual guard adds ε·I to both and retries, drops an imaginary part that is numerically negligible, and
refuses a large one rather than report a wrong number.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg

IMAGINARY_TOLERANCE = 1e-3
EPSILON = 1e-6


class FrechetError(ArithmeticError):
    """The matrix square root came back with a large imaginary part: the statistics are degenerate."""


@dataclass
class GaussianStats:
    mean: np.ndarray        # (d,)
    covariance: np.ndarray  # (d, d)
    n: int

    @classmethod
    def of(cls, features) -> "GaussianStats":
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or len(features) < 2:
            raise ValueError(f"need at least 2 feature vectors as an (N, d) array, got shape {features.shape}")
        return cls(features.mean(axis=0), np.cov(features, rowvar=False), len(features))


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    """``linalg.sqrtm`` across SciPy versions: ``disp=False`` keeps older SciPy from printing about singular input
    (and gives (root, error)); it is deprecated since 1.16 (1.17 then returns a 1×1 root alone) and goes in 1.18."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            root = linalg.sqrtm(matrix, disp=False)
        except TypeError:  # no ``disp`` any more
            root = linalg.sqrtm(matrix)
    return root[0] if isinstance(root, tuple) else root


def frechet_distance(a: GaussianStats, b: GaussianStats) -> float:
    mean_a, mean_b = np.atleast_1d(a.mean), np.atleast_1d(b.mean)
    cov_a, cov_b = np.atleast_2d(a.covariance), np.atleast_2d(b.covariance)
    if mean_a.shape != mean_b.shape or cov_a.shape != cov_b.shape:
        raise ValueError(f"feature dimensions differ: {mean_a.shape} vs {mean_b.shape}")
    # Singular products are handled just below; SciPy's error estimate divides by the product's norm, 0 for sets of
    # identical images, and would warn of it in the server log.
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = _sqrtm(cov_a @ cov_b)
        if not np.isfinite(covmean).all():
            offset = np.eye(len(cov_a)) * EPSILON
            covmean = _sqrtm((cov_a + offset) @ (cov_b + offset))
    if np.iscomplexobj(covmean):
        largest = np.max(np.abs(covmean.imag))
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=IMAGINARY_TOLERANCE):
            raise FrechetError(f"sqrtm(Σ₁Σ₂) has an imaginary component of {largest:.3g}: too few samples "
                               f"for the feature dimension, or a degenerate feature set")
        covmean = covmean.real
    diff = mean_a - mean_b
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(covmean))
