"""How well a latent walk between two digits stays on the digit manifold, judged by a classifier.

A good walk from a 3 to an 8 shows 3s, then 8s: one change of the predicted label (a "flip"), with
confident predictions all along. Extra flips mean the path wanders through other digits; low
confidence means it passes through blobs that look like no digit at all.
"""
from __future__ import annotations

import torch


def label_flips(labels: torch.Tensor) -> torch.Tensor:
    """Number of changes between consecutive predicted labels along the last dimension (steps)."""
    return (labels[..., 1:] != labels[..., :-1]).sum(dim=-1)
