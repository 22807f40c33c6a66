"""The attribute reader: what is drawn at each of the five positions of a toy-world scene.

The text-to-image benchmarks judge a generated picture by what this reader sees in it (is there a large red
circle on the left, and nothing else?), and the tab shows its readout under every picture. It is a small
convolutional network with one head per (slot, attribute): the shape (or "none"), the colour and the size of
whatever sits at each position.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from generative.data.scene_sets import as_float
from generative.data.shapes import COLOURS, IGNORE, SHAPE_CLASSES, SIZES, SLOTS
from generative.models.classifier import conv_block
from generative.models.dae import REPO_URL

ATTRIBUTES = {"shape": SHAPE_CLASSES, "colour": tuple(COLOURS), "size": SIZES}


class SceneReader(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="generative-gallery",
    tags=["image-classification", "toy-world"],
    license="mit",
    repo_url=REPO_URL,
):
    """(N, 3, 32, 32) scene in [0, 1] → per slot and attribute, logits over that attribute's classes."""

    def __init__(self, width: int = 32, feature_dim: int = 256):
        super().__init__()
        self.width, self.feature_dim = width, feature_dim
        self.backbone = nn.Sequential(
            conv_block(3, width),              # 16×16
            conv_block(width, 2 * width),      # 8×8
            conv_block(2 * width, 4 * width),  # 4×4
            nn.Flatten(),
            nn.Linear(4 * width * 16, feature_dim, bias=False), nn.BatchNorm1d(feature_dim), nn.ReLU(inplace=True),
        )
        self.heads = nn.ModuleDict({name: nn.Linear(feature_dim, len(SLOTS) * len(classes))
                                    for name, classes in ATTRIBUTES.items()})

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, 32, 32) in [0, 1] → (N, feature_dim): the layer the heads read, for feature-space distances."""
        return self.backbone(2 * images - 1)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Attribute name → (N, 5 slots, classes) logits."""
        h = self.features(images)
        return {name: head(h).unflatten(1, (len(SLOTS), -1)) for name, head in self.heads.items()}

    @torch.inference_mode()
    def read(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Attribute name → (N, 5) predicted class per slot (call on an eval-mode model)."""
        return {name: logits.argmax(-1) for name, logits in self(images).items()}


@torch.inference_mode()
def read_all(reader: SceneReader, images: torch.Tensor, batch_size: int = 1000) -> dict[str, torch.Tensor]:
    """``reader.read`` over any number of scenes (uint8 as stored, or float in [0, 1]), a batch at a time, on the CPU."""
    device = next(reader.parameters()).device
    parts = [reader.read((as_float(chunk) if chunk.dtype == torch.uint8 else chunk).to(device))
             for chunk in images.split(batch_size)]
    return {name: torch.cat([part[name] for part in parts]).cpu() for name in ATTRIBUTES}


def reader_loss(logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum over attributes of the mean cross-entropy per slot; colour and size of empty slots are ignored."""
    return sum(F.cross_entropy(logits[name].flatten(0, 1), targets[name].flatten(), ignore_index=IGNORE)
               for name in ATTRIBUTES)


def describe(readout: dict[str, torch.Tensor], index: int) -> str:
    """One image's readout in words, e.g. "large red circle (left)" or "small blue square (left), …"."""
    things = []
    for slot, position in enumerate(SLOTS):
        shape = SHAPE_CLASSES[readout["shape"][index, slot]]
        if shape != "none":
            colour = ATTRIBUTES["colour"][readout["colour"][index, slot]]
            size = SIZES[readout["size"][index, slot]]
            things.append(f"{size} {colour} {shape} ({position})")
    return ", ".join(things) or "nothing"
