"""Classical, non-learned denoisers, for comparison with the learned ones.

Each takes a noisy (H, W) float image in [0, 1] and returns the same shape. None is told which
noise it faces, like the blind autoencoder; the noise level, where a method needs one, is
estimated from the image (wavelet median absolute deviation, Donoho & Johnstone 1994).
"""
from __future__ import annotations

import threading
import warnings
from typing import Callable

import numpy as np
from scipy import ndimage
from skimage.restoration import denoise_nl_means, estimate_sigma

try:  # BM3D (Dabov et al. 2007) from the maintained `bm3d` package of its authors' group, if installed
    import bm3d as _bm3d
except ImportError:  # pragma: no cover - depends on the environment
    _bm3d = None
# The bm3d package's native thread pool is one per process and not re-entrant: two calls at once (two users of the
# Denoise tab) abort the whole server ("ThreadPool::launchPool: Assertion `_threads.empty()' failed") or hang it.
_BM3D_LOCK = threading.Lock()


def median_filter(noisy: np.ndarray, size: int = 3) -> np.ndarray:
    """Each pixel becomes the median of its size×size neighbourhood: the textbook cure for impulses."""
    return ndimage.median_filter(noisy, size=size, mode="reflect")


def gaussian_blur(noisy: np.ndarray, sigma: float = 0.8) -> np.ndarray:
    """Low-pass filtering: averages noise away, and the edges with it."""
    return ndimage.gaussian_filter(noisy, sigma=sigma, mode="reflect")


def noise_sigma(noisy: np.ndarray, floor: float = 0.02) -> float:
    """Blind estimate of the noise standard deviation, floored so flat images still get smoothed.

    scikit-image ignores wavelet coefficients that are exactly 0, so an all-flat image (masking noise at
    level 1 leaves only zeros) has none left and its estimate is NaN, which BM3D would turn into NaN pixels.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # that NaN's "mean of empty slice": handled below
        sigma = float(estimate_sigma(noisy))
    return max(sigma, floor) if np.isfinite(sigma) else floor


def non_local_means(noisy: np.ndarray, strength: float = 0.8) -> np.ndarray:
    """Average pixels whose 3×3 neighbourhoods look alike (Buades et al. 2005); h = strength × σ̂."""
    sigma = noise_sigma(noisy)
    return denoise_nl_means(noisy, h=strength * sigma, sigma=sigma, patch_size=3, patch_distance=5, fast_mode=True)


def bm3d(noisy: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Collaborative filtering of groups of similar blocks in a 3-D transform domain, σ = strength × σ̂."""
    if _bm3d is None:
        raise RuntimeError("BM3D needs the `bm3d` package: pip install bm3d")
    sigma = strength * noise_sigma(noisy)
    with _BM3D_LOCK:
        return np.asarray(_bm3d.bm3d(noisy, sigma_psd=sigma), dtype=np.float32)


CLASSICAL_DENOISERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "median filter (3×3)": median_filter,
    "Gaussian blur (σ=0.8 px)": gaussian_blur,
    "non-local means": non_local_means,
}
if _bm3d is not None:
    CLASSICAL_DENOISERS["BM3D"] = bm3d
