"""Does a picture show what its caption asked for? Per-attribute and all-attributes accuracy of a reader's verdicts.

The reader reports, for each of the five position slots, a shape (or "none"), a colour and a size; the caption's
scene gives the same targets. Shape is scored on every slot, so a missing thing, a thing in the wrong place and
an extra thing all count as wrong; colour and size are scored on the slots the caption fills. An image is
all-correct when every one of these agrees.
"""
from __future__ import annotations

import torch

from generative.data.shapes import IGNORE

# Table headers that say what each accuracy is a share of: a picture's five slots, its filled ones, or the pictures.
# With most slots empty, a per-slot shape accuracy reads far higher than the share of pictures with every shape right.
ATTRIBUTE_HEADERS = "shape, per slot (all 5) | colour, per filled slot | size, per filled slot | all attributes, per picture"


def all_correct(readout: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
    """(N,) bool: every slot's shape, and the colour and size of every filled slot, read as the targets say."""
    filled = targets["colour"] != IGNORE
    return ((readout["shape"] == targets["shape"]).all(1) & ((readout["colour"] == targets["colour"]) | ~filled).all(1)
            & ((readout["size"] == targets["size"]) | ~filled).all(1))


def attribute_accuracy(readout: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> dict[str, float]:
    """Accuracy of "shape" (all slots), "colour" and "size" (filled slots) and "all" (per image), in [0, 1]."""
    filled = targets["colour"] != IGNORE
    return {"shape": (readout["shape"] == targets["shape"]).float().mean().item(),
            "colour": (readout["colour"] == targets["colour"])[filled].float().mean().item(),
            "size": (readout["size"] == targets["size"])[filled].float().mean().item(),
            "all": all_correct(readout, targets).float().mean().item()}
