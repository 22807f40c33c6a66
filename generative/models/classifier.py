"""A small convolutional MNIST classifier: the gallery's judge of what a generated digit shows.

The VAE tab reads the digit along an interpolation path with it, the cGAN benchmark scores
conditional accuracy with it, and its penultimate features give a Fréchet distance that suits
digits better than Inception's.
"""
from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from generative.models.dae import REPO_URL

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # of the MNIST training pixels in [0, 1]


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """Two 3×3 convolutions with batch norm, then 2×2 max-pooling: the VGG pattern, halving the size."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class DigitClassifier(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="generative-gallery",
    tags=["image-classification", "mnist"],
    license="mit",
    repo_url=REPO_URL,
):
    """28×28 digit in [0, 1] → 10 logits, through a ``feature_dim``-d feature vector.

    The input is standardised inside the model, so every caller passes plain [0, 1] images.
    """

    def __init__(self, width: int = 32, feature_dim: int = 128, dropout: float = 0.3):
        super().__init__()
        self.width, self.feature_dim, self.dropout = width, feature_dim, dropout
        self.backbone = nn.Sequential(
            conv_block(1, width),              # 14×14
            conv_block(width, 2 * width),      # 7×7
            nn.Flatten(),
            nn.Linear(2 * width * 7 * 7, feature_dim, bias=False), nn.BatchNorm1d(feature_dim), nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(feature_dim, 10))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) in [0, 1] → (N, feature_dim): the penultimate layer, for feature-space distances."""
        return self.backbone((images - MNIST_MEAN) / MNIST_STD)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) in [0, 1] → (N, 10) logits."""
        return self.head(self.features(images))

    @torch.inference_mode()
    def predict(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Predicted digit and its softmax probability for each image (call on an eval-mode model)."""
        confidence, digit = torch.softmax(self(images), dim=1).max(dim=1)
        return digit, confidence
