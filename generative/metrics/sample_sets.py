"""Set-to-set metrics on feature vectors beside FID: KID, improved precision/recall, and the Inception Score.

All take plain (N, d) feature arrays, so any extractor (Inception pool3, the MNIST classifier) can feed them.
"""
from __future__ import annotations

import numpy as np
import torch

KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000
PR_NEIGHBOURS = 3


def kernel_inception_distance(real: np.ndarray, fake: np.ndarray, subsets: int = KID_SUBSETS,
                              subset_size: int = KID_SUBSET_SIZE, seed: int = 0) -> tuple[float, float]:
    """KID (Bińkowski et al. 2018): the unbiased MMD² under k(x, y) = (xᵀy / d + 1)³, mean ± std over subsets.

    Unlike FID it has an unbiased estimator, so it can be compared across sample sizes; subsets of
    ``min(subset_size, N_real, N_fake)`` drawn without replacement, as clean-fid and torch-fidelity do.
    """
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    m = min(subset_size, len(real), len(fake))
    if m < 2:
        raise ValueError("KID needs at least 2 feature vectors in each set")
    rng = np.random.default_rng(seed)
    dim = real.shape[1]
    estimates = []
    for _ in range(subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = fake[rng.choice(len(fake), m, replace=False)]
        k_xx, k_yy, k_xy = ((a @ b.T / dim + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        estimates.append(within - 2 * k_xy.mean())
    return float(np.mean(estimates)), float(np.std(estimates))


def _kth_neighbour_radii(points: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    """Distance from each point to its k-th nearest other point (index k, since index 0 is itself)."""
    return torch.cat([torch.cdist(points[i:i + chunk], points).kthvalue(k + 1, dim=1).values
                      for i in range(0, len(points), chunk)])


def _coverage(manifold: torch.Tensor, radii: torch.Tensor, queries: torch.Tensor, chunk: int) -> float:
    """Fraction of ``queries`` inside at least one ball (manifold point, its radius)."""
    inside = [(torch.cdist(queries[i:i + chunk], manifold) <= radii).any(dim=1)
              for i in range(0, len(queries), chunk)]
    return torch.cat(inside).double().mean().item()


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = PR_NEIGHBOURS, chunk: int = 1024) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019).

    Each set's manifold is the union of balls around its points reaching their k-th nearest neighbour.
    Precision: the share of fake points on the real manifold (are samples realistic?); recall: the share of
    real points on the fake manifold (is the data's variety covered?).
    """
    real_t, fake_t = (torch.as_tensor(np.asarray(f), dtype=torch.float32) for f in (real, fake))
    if min(len(real_t), len(fake_t)) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} feature vectors in each set")
    precision = _coverage(real_t, _kth_neighbour_radii(real_t, k, chunk), fake_t, chunk)
    recall = _coverage(fake_t, _kth_neighbour_radii(fake_t, k, chunk), real_t, chunk)
    return precision, recall


def inception_score(probabilities: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """IS (Salimans et al. 2016) = exp E_x KL(p(y|x) ‖ p(y)), mean ± std over ``splits`` equal parts.

    Needs a classifier's class probabilities, which the FID weights shipped here cannot give (no head).
    """
    p = np.asarray(probabilities, np.float64)
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(part + 1e-12) - np.log(marginal + 1e-12))).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))
