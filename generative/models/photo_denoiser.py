"""A small blind residual denoiser for photographs (DnCNN's residual learning at FFDNet's half resolution)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from generative.models.dae import REPO_URL


class PhotoDenoiser(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="generative-gallery",
    tags=["image-denoising", "dncnn", "residual-learning"],
    license="mit",
    repo_url=REPO_URL,
):
    """Grey (N, 1, H, W) noisy image → denoised image, any H and W; colour is handled outside, one channel at a time.

    Like DnCNN (Zhang et al. 2017) the convolutions predict the *noise*, which is subtracted from the
    input: the residual is simpler than the image, so a small network learns it well and an
    unknown noise level (blind, σ ∈ [0, 55]) needs no separate input. Like FFDNet (Zhang et al.
    2018) the image is first split into four half-resolution sub-images (pixel unshuffle), so every
    convolution runs on a quarter of the pixels: four times less compute for the same width, and
    twice the receptive field per layer. There is no batch norm, so the output of a pixel depends
    only on pixels within ``receptive_radius`` of it, which is what makes tiling exact.
    """

    def __init__(self, width: int = 48, depth: int = 10):
        super().__init__()
        self.width, self.depth = width, depth
        layers: list[nn.Module] = [nn.Conv2d(4, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, 4, 3, padding=1))
        self.body = nn.Sequential(*layers)

    @property
    def receptive_radius(self) -> int:
        """How far (full-resolution pixels) an output pixel can see: one half-resolution pixel per 3×3 layer, plus the 2×2 cell."""
        return 2 * self.depth + 1

    def predict_noise(self, noisy: torch.Tensor) -> torch.Tensor:
        """The noise the network sees in ``noisy`` (N, 1, H, W); odd sizes are padded by replication and cropped back."""
        height, width = noisy.shape[-2:]
        padded = F.pad(noisy, (0, width % 2, 0, height % 2), mode="replicate")
        noise = F.pixel_shuffle(self.body(F.pixel_unshuffle(padded, 2)), 2)
        return noise[..., :height, :width]

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        """Denoised image, not clipped: the benchmark protocol clips and quantises to 8 bits afterwards."""
        return noisy - self.predict_noise(noisy)
