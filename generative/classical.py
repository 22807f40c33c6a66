"""Classical, non-learned denoisers, for comparison with the learned ones.

Each takes a noisy (H, W) float image in [0, 1] and returns the same shape. None is told which
noise it faces, like the blind autoencoder; the noise level, where a method needs one, is
estimated from the image (wavelet median absolute deviation, Donoho & Johnstone 1994).
"""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np
import pywt
from scipy import ndimage
from scipy.stats import norm
from skimage.restoration import denoise_nl_means

try:  # BM3D (Dabov et al. 2007) from the maintained `bm3d` package of its authors' group, if installed
    import bm3d as _bm3d
except ImportError:  # pragma: no cover - depends on the environment
    _bm3d = None
# The bm3d package's native thread pool is one per process and not re-entrant: two calls at once (two users of the
# Denoise tab) abort the whole server ("ThreadPool::launchPool: Assertion `_threads.empty()' failed") or hang it.
_BM3D_LOCK = threading.Lock()
MAD_PER_SIGMA = float(norm.ppf(0.75))  # the median of |N(0, σ²)| is 0.6745 σ


def median_filter(noisy: np.ndarray, size: int = 3) -> np.ndarray:
    """Each pixel becomes the median of its size×size neighbourhood: the textbook cure for impulses."""
    return ndimage.median_filter(noisy, size=size, mode="reflect")


def gaussian_blur(noisy: np.ndarray, sigma: float = 0.8) -> np.ndarray:
    """Low-pass filtering: averages noise away, and the edges with it."""
    return ndimage.gaussian_filter(noisy, sigma=sigma, mode="reflect")


def noise_sigma(noisy: np.ndarray, floor: float = 0.02) -> float:
    """Blind estimate of the noise standard deviation, floored so flat images still get smoothed.

    Donoho & Johnstone's estimate, as scikit-image's ``estimate_sigma`` computes it: the median absolute value of the
    finest diagonal db2 wavelet coefficients over Φ⁻¹(¾), ignoring coefficients that are exactly 0. Written out
    because an all-flat image (masking noise at level 1 leaves only zeros) has none left: scikit-image then warns
    and returns NaN, which BM3D would turn into NaN pixels, and silencing that warning takes ``catch_warnings``,
    which swaps the process's warning filters and is not thread-safe in a server that denoises for two users at once.
    """
    _, (_, _, diagonal) = pywt.dwt2(noisy, "db2")
    details = np.abs(diagonal[diagonal != 0])
    if details.size == 0:
        return floor
    return max(float(np.median(details)) / MAD_PER_SIGMA, floor)


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
