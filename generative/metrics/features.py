"""From image sets to feature statistics, streaming: the part of FID that is not the formula.

Images are read one at a time, converted to the extractor's input by a *resize convention*, batched,
passed through the extractor under ``torch.inference_mode``, and folded into running float64 sums, so
memory stays bounded however many images there are. A capped number of feature vectors is kept as
well, for the metrics that need them (KID, precision/recall).

The resize convention changes the number (measured on 500 MNIST / Fashion-MNIST images: 0.9–1.7% between
pytorch-fid and torch-fidelity, 7.5–11% between pytorch-fid and clean-fid; benchmarks/results/fid_agreement.md),
so it is part of every result, with the extractor and N.
"""
from __future__ import annotations

import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm.auto import tqdm

from generative.data.image_sets import ImageSet, ImageSetError, Skipped
from generative.metrics.frechet import GaussianStats
from generative.metrics.inception import FEATURE_DIM, INPUT_SIZE
from generative.stopping import Stopped

KEEP_FEATURES = 10_000
SAMPLE_SIDE = 128  # kept images are shrunk to this longest side: 32 uploads of 16 MP would otherwise hold 1.5 GB
BATCH_SIZE = 8  # measured fastest on a 2-core CPU (benchmarks/results/fid_speed.md); larger is slower here
PROGRESS_INTERVAL = 0.25  # seconds between progress updates (see throttled_progress)


def _as_float(image: np.ndarray) -> torch.Tensor:
    """RGB uint8 (H, W, 3) → float (1, 3, H, W) in 0–255."""
    return torch.tensor(image, dtype=torch.float32).permute(2, 0, 1)[None]


def resize_pytorch_fid(image: np.ndarray) -> torch.Tensor:
    """pytorch-fid: scale to [0, 1], ``F.interpolate`` bilinear (align_corners=False, no antialias), then 2x − 1."""
    x = F.interpolate(_as_float(image) / 255, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    return x[0] * 2 - 1


def resize_clean(image: np.ndarray) -> torch.Tensor:
    """clean-fid "clean": PIL bicubic on each channel as float32 (antialiased), clipped to 0–255, then (x − 128) / 128."""
    channels = [np.asarray(Image.fromarray(image[..., c].astype(np.float32), mode="F")
                           .resize((INPUT_SIZE, INPUT_SIZE), Image.BICUBIC)) for c in range(3)]
    return (torch.from_numpy(np.stack(channels).clip(0, 255)) - 128) / 128


def resize_torch_fidelity(image: np.ndarray) -> torch.Tensor:
    """torch-fidelity / StyleGAN2-ADA: bilinear ``affine_grid`` + ``grid_sample`` (border padding), then (x − 128) / 128."""
    x = _as_float(image)
    height, width = x.shape[-2:]
    theta = torch.tensor([[[1.0, 0.0, 1 / width - 1 / INPUT_SIZE], [0.0, 1.0, 1 / height - 1 / INPUT_SIZE]]])
    grid = F.affine_grid(theta, [1, 3, INPUT_SIZE, INPUT_SIZE], align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return (x[0] - 128) / 128


RESIZES: dict[str, Callable[[np.ndarray], torch.Tensor]] = {
    "pytorch-fid": resize_pytorch_fid, "clean": resize_clean, "torch-fidelity": resize_torch_fidelity}


@dataclass
class Extractor:
    """A feature network and the way each image becomes its input; ``label`` names both in every result."""
    network: torch.nn.Module
    prepare: Callable[[np.ndarray], torch.Tensor]
    dim: int
    label: str
    resize: str

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device


def inception_extractor(network: torch.nn.Module, resize: str = "pytorch-fid") -> Extractor:
    if resize not in RESIZES:
        raise ValueError(f"unknown resize convention {resize!r}; choose from {', '.join(RESIZES)}")
    return Extractor(network, RESIZES[resize], FEATURE_DIM,
                     "Inception-v3 pool3 (TF FID weights, inception-2015-12-05), 2048-d", resize)


def digit_input(image: np.ndarray) -> torch.Tensor:
    """RGB → grey (PIL's luma), PIL bilinear to 28×28 when another size, scaled to [0, 1]: (1, 28, 28)."""
    grey = Image.fromarray(image).convert("L")
    if grey.size != (28, 28):
        grey = grey.resize((28, 28), Image.BILINEAR)
    return torch.from_numpy(np.asarray(grey, dtype=np.float32) / 255)[None]


class _ClassifierFeatures(torch.nn.Module):
    def __init__(self, classifier):
        super().__init__()
        self.classifier = classifier

    def forward(self, images):
        return self.classifier.features(images)


def classifier_extractor(classifier) -> Extractor:
    """The gallery's MNIST classifier's penultimate layer: a better-suited feature space for digits than Inception's."""
    return Extractor(_ClassifierFeatures(classifier).eval(), digit_input, classifier.feature_dim,
                     f"MNIST classifier penultimate layer (pretrained/classifier-mnist), {classifier.feature_dim}-d",
                     "grey, PIL bilinear to 28×28")


class MomentAccumulator:
    """Running float64 sums of x and x xᵀ, shifted by the first batch's mean so the covariance keeps its digits.

    In torch, updated in place: numpy's ``centred.T @ centred`` allocates a 32 MB product per batch, and
    its BLAS threads compete with torch's for the same cores (measured: 6× slower per batch here).
    """

    def __init__(self, dim: int):
        self.n, self.shift = 0, None
        self.total = torch.zeros(dim, dtype=torch.float64)
        self.outer = torch.zeros(dim, dim, dtype=torch.float64)

    def add(self, features) -> None:
        features = torch.as_tensor(features).to(torch.float64)
        if self.shift is None:
            self.shift = features.mean(dim=0)
        centred = features - self.shift
        self.n += len(features)
        self.total += centred.sum(dim=0)
        self.outer.addmm_(centred.T, centred)

    def stats(self) -> GaussianStats:
        mean = self.total / self.n
        covariance = torch.addr(self.outer, mean, mean, alpha=-self.n).div_(self.n - 1)  # one d×d array, no temporaries
        return GaussianStats((mean + self.shift).numpy(), covariance.numpy(), self.n)


@dataclass
class SetFeatures:
    """One pass over an image set: its statistics, up to ``keep`` feature vectors, and what was skipped."""
    stats: GaussianStats
    kept: np.ndarray | None
    source: str
    extractor: str
    resize: str
    skipped: Skipped = field(default_factory=Skipped)
    sample: list[np.ndarray] | None = None  # a few of the images, for the tab's grid, at most SAMPLE_SIDE on a side

    @property
    def n(self) -> int:
        return self.stats.n


def shrunk(image: np.ndarray, side: int) -> np.ndarray:
    """``image`` fitted within ``side``×``side`` pixels, aspect kept; a small enough one is returned as it is."""
    if max(image.shape[:2]) <= side:
        return image
    picture = Image.fromarray(image)
    picture.thumbnail((side, side), Image.LANCZOS)
    return np.asarray(picture)


def throttled_progress(images: ImageSet, desc: str, disable: bool = False):
    """Yield ``images`` under a tqdm bar that advances at most every ``PROGRESS_INTERVAL`` seconds.

    In the app every bar update is sent to the page, which redraws its progress displays: per image, a fast extractor
    (the MNIST classifier reads thousands a second) sent a hundred a second, and a page that had been used a while then
    took 15–29 s to register a click on Stop (headless Chromium on the 2-core test machine; 0.27 s throttled)."""
    with tqdm(total=len(images), desc=desc, unit="img", disable=disable, leave=False) as bar:
        pending, last = 0, time.monotonic()
        for image in images:
            yield image
            pending += 1
            if time.monotonic() - last >= PROGRESS_INTERVAL:
                bar.update(pending)
                pending, last = 0, time.monotonic()
        bar.update(pending)


@torch.inference_mode()
def extract(images: ImageSet, extractor: Extractor, batch_size: int = BATCH_SIZE, keep: int = KEEP_FEATURES,
            keep_images: int = 0, progress: bool = True, stop: threading.Event | None = None) -> SetFeatures:
    """Stream ``images`` through ``extractor``; memory holds one batch, the running sums and the kept features.

    ``stop``, set from another thread, ends the work before the next image with ``Stopped``: a request for 10,000
    images takes minutes on a CPU, and a server thread cannot be interrupted from outside."""
    moments, kept, sample, batch = MomentAccumulator(extractor.dim), [], [], []
    kept_count = 0
    device = extractor.device

    def flush():
        nonlocal kept_count
        features = extractor.network(torch.stack(batch).to(device)).float().cpu()
        moments.add(features)
        if kept_count < keep:
            kept.append(features[: keep - kept_count].numpy())
            kept_count += len(kept[-1])
        batch.clear()

    # closing(): a Stopped (or any error) must close the bar and the set's files now, not when the traceback is freed
    with closing(throttled_progress(images, f"features of {images.name}", disable=not progress)) as stream:
        for image in stream:
            if stop is not None and stop.is_set():
                raise Stopped(f"Stopped after {moments.n + len(batch):,} of {len(images):,} images of {images.name}")
            if len(sample) < keep_images:
                sample.append(shrunk(image, SAMPLE_SIDE))
            batch.append(extractor.prepare(image))
            if len(batch) == batch_size:
                flush()
    if batch:
        flush()
    if moments.n < 2:
        raise ImageSetError(f"{images.name}: only {moments.n} usable image{'' if moments.n == 1 else 's'}, at least 2 are needed "
                            f"({images.skipped.describe()})")
    stats = moments.stats()
    return SetFeatures(stats, np.concatenate(kept) if kept else None, images.name, extractor.label,
                       extractor.resize, images.skipped, sample or None)
