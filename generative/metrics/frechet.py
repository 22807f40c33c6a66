"""The Fréchet distance between two Gaussians fitted to feature sets: FID's formula, any feature extractor.

d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½), with means and covariances in float64 as pytorch-fid
computes them. ``sqrtm`` of a product of near-singular covariances can fail or come back complex: the
usual guard adds ε·I to both and retries, drops an imaginary part that is numerically negligible, and
refuses a large one rather than report a wrong number. Statistics holding NaN or infinity (a generator that
diverged, say) are refused before ``sqrtm``, which would take hours over them at 2048-d and then fail.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import linalg

from generative.provenance import PROJECT_ROOT

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
    if not all(np.isfinite(x).all() for x in (mean_a, mean_b, cov_a, cov_b)):
        raise ValueError("the statistics hold NaN or infinite values (features of broken images, or of a model "
                         "whose weights diverged): there is no distance to compute")
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


def frechet_distance_in_child(a: GaussianStats, b: GaussianStats, stop: threading.Event | None = None) -> float | None:
    """``frechet_distance`` computed by a child process, or None if ``stop`` was set first (the child is then ended).

    For a server: SciPy's ``sqrtm`` holds Python's global lock for its whole run (about 12 s at 2048-d here), which
    stalled every other thread, so every user and every Stop click, until it returned; and a thread cannot be
    stopped in the middle of a call, where a process can. The child is the same code and gives the same number.
    """
    with tempfile.TemporaryDirectory(prefix="frechet-") as name:
        folder = Path(name)
        np.savez(folder / "stats.npz", mean_a=a.mean, covariance_a=a.covariance, mean_b=b.mean, covariance_b=b.covariance)
        with open(folder / "stderr.txt", "w") as errors:  # a file, not a pipe, which a chatty child could fill and block on
            child = subprocess.Popen([sys.executable, "-m", "generative.metrics.frechet", name], stdout=subprocess.DEVNULL,
                                     stderr=errors, cwd=PROJECT_ROOT)
            while True:
                try:
                    child.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    if stop is not None and stop.is_set():
                        child.kill()
                        child.wait()
                        return None
        if not (folder / "answer.json").is_file():
            raise RuntimeError(f"the Fréchet distance's child process failed: {(folder / 'stderr.txt').read_text()[-2000:]}")
        answer = json.loads((folder / "answer.json").read_text())
    if "error" in answer:
        raise {"FrechetError": FrechetError, "ValueError": ValueError}[answer["error"]](answer["message"])
    return answer["distance"]


def _child(folder: Path) -> None:
    """The child's side of ``frechet_distance_in_child``: the statistics from ``folder``, the answer into it."""
    stats = np.load(folder / "stats.npz")
    a, b = (GaussianStats(stats[f"mean_{x}"], stats[f"covariance_{x}"], 0) for x in "ab")
    try:
        answer = {"distance": frechet_distance(a, b)}
    except (FrechetError, ValueError) as err:
        answer = {"error": "FrechetError" if isinstance(err, FrechetError) else "ValueError", "message": str(err)}
    (folder / "answer.json").write_text(json.dumps(answer))


if __name__ == "__main__":
    _child(Path(sys.argv[1]))
