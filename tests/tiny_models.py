"""Tiny untrained models whose outputs depend on their inputs: what the tests of a demo's plumbing need."""
from __future__ import annotations

import torch
from torch import nn


def with_strong_weights(model: nn.Module) -> nn.Module:
    """``model`` with its weight matrices and kernels redrawn from N(0, 0.5²), in place. A tiny model at its usual
    initialisation (DCGAN's N(0, 0.02²), say) draws nearly one picture whatever its input, 1e-5 apart: a test could not
    tell which digit, noise or caption it was given."""
    with torch.no_grad():
        for weight in model.parameters():
            if weight.dim() > 1:
                weight.normal_(0, 0.5)
    return model
