"""Convolutional denoising autoencoder for 28×28 grey-level digits."""
from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

REPO_URL = "https://github.com/generative-gallery/generative-gallery"


class DenoisingAutoencoder(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="generative-gallery",
    tags=["denoising-autoencoder", "mnist", "image-denoising"],
    license="mit",
    repo_url=REPO_URL,
):
    """Encoder (strided convs) → a ``code_dim`` bottleneck vector → decoder (transposed convs).

    The dense bottleneck is what makes this an autoencoder rather than an image-to-image filter:
    everything the decoder draws must pass through ``code_dim`` numbers, so the model can only
    reproduce what looks like a digit, and noise — which does not — is left behind.
    """

    def __init__(self, width: int = 32, code_dim: int = 64):
        super().__init__()
        self.width, self.code_dim = width, code_dim
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1), nn.SiLU(),
            nn.Conv2d(w, w, 3, stride=2, padding=1), nn.SiLU(),          # 14×14
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.SiLU(),
            nn.Conv2d(2 * w, 2 * w, 3, stride=2, padding=1), nn.SiLU(),  # 7×7
            nn.Flatten(),
            nn.Linear(2 * w * 7 * 7, code_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(code_dim, 2 * w * 7 * 7), nn.SiLU(),
            nn.Unflatten(1, (2 * w, 7, 7)),
            nn.ConvTranspose2d(2 * w, 2 * w, 4, stride=2, padding=1), nn.SiLU(),  # 14×14
            nn.Conv2d(2 * w, w, 3, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(w, w, 4, stride=2, padding=1), nn.SiLU(),          # 28×28
            nn.Conv2d(w, 1, 3, padding=1),
        )

    def encode(self, noisy: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) in [0, 1] → (N, code_dim)."""
        return self.encoder(noisy)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        """(N, code_dim) → (N, 1, 28, 28) logits; ``torch.sigmoid`` gives the image."""
        return self.decoder(code)

    def forward(self, noisy: torch.Tensor, *, logits: bool = False) -> torch.Tensor:
        """Denoised image in [0, 1], or with ``logits=True`` its logits, which training's cross-entropy takes (through
        ``forward``, so that a data-parallel wrapper sees the call)."""
        out = self.decode(self.encode(noisy))
        return out if logits else torch.sigmoid(out)
