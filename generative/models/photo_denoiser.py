"""A small blind residual denoiser for photographs (DnCNN's residual learning at FFDNet's half resolution)."""
from __future__ import annotations

import copy

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

    def deepened(self, extra_layers: int) -> PhotoDenoiser:
        """A copy with ``extra_layers`` more hidden convolutions in the middle that compute exactly the same function.

        Net2Net's deepening (Chen et al. 2016): each new 3×3 convolution starts as the identity (a Dirac
        kernel, zero bias) and follows a ReLU, so its input is already ≥ 0 and the ReLU after it changes
        nothing. Training goes on from the trained function with more capacity, where a deeper stack
        without batch norm trained from scratch starts far slower.
        """
        new_layers: list[nn.Module] = []
        for _ in range(extra_layers):
            conv = nn.Conv2d(self.width, self.width, 3, padding=1)
            nn.init.dirac_(conv.weight)
            nn.init.zeros_(conv.bias)
            new_layers += [conv, nn.ReLU(inplace=True)]
        middle = 2 * (self.depth // 2)  # just after the ReLU of the (depth // 2)-th convolution
        old_layers = list(copy.deepcopy(self.body))
        deeper = PhotoDenoiser(width=self.width, depth=self.depth + extra_layers)
        deeper.body = nn.Sequential(*old_layers[:middle], *new_layers, *old_layers[middle:])
        return deeper

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
