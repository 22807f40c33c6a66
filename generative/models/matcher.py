"""An image–text matcher for the toy world: the judge behind the text-to-image R-precision.

R-precision (Xu et al. 2018, AttnGAN) asks whether a generated picture is closer to its own caption than to 99
others, in the space of a matcher trained *separately* from the GAN: the GAN's own discriminator would be
grading its own homework. Image and caption encoders map into one space, trained contrastively (CLIP's
symmetric InfoNCE, Radford et al. 2021): in a batch, each image's own caption must score above every other.
"""
from __future__ import annotations

import math
from collections import Counter

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from generative.data.shapes import vocabulary
from generative.models.captions import CaptionEncoder
from generative.models.classifier import conv_block
from generative.models.dae import REPO_URL
from generative.text import Tokenizer


class ImageTextMatcher(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="generative-gallery",
    tags=["image-text-matching", "contrastive", "toy-world"],
    license="mit",
    repo_url=REPO_URL,
):
    """Images (N, 3, 32, 32) in [0, 1] and captions → unit vectors whose dot product says how well they match."""

    def __init__(self, words: list[str] | None = None, dim: int = 128, width: int = 32):
        super().__init__()
        self.words, self.dim, self.width = list(words or vocabulary()), dim, width
        self.tokenizer = Tokenizer.of(self.words)
        self.image_encoder = nn.Sequential(conv_block(3, width), conv_block(width, 2 * width),
                                           conv_block(2 * width, 4 * width), nn.Flatten(), nn.Linear(4 * width * 16, dim))
        self.caption_encoder = CaptionEncoder(self.tokenizer.size, dim)
        self.log_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))  # CLIP's initial temperature

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image_encoder(2 * images - 1), dim=1)

    def encode_tokens(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.caption_encoder(ids, lengths), dim=1)

    def encode_captions(self, captions: list[str]) -> torch.Tensor:
        ids, lengths = self.tokenizer.batch(captions)
        return self.encode_tokens(ids.to(self.log_scale.device), lengths)

    def forward(self, images: torch.Tensor, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The symmetric InfoNCE loss of a batch of matching (image, caption) pairs."""
        logits = self.log_scale.exp().clamp(max=100) * self.encode_images(images) @ self.encode_tokens(ids, lengths).T
        targets = torch.arange(len(images), device=images.device)
        return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


@torch.inference_mode()
def own_caption_wins(matcher: ImageTextMatcher, images: torch.Tensor, captions: list[str], distractors: torch.Tensor,
                     batch_size: int = 1000) -> torch.Tensor:
    """(N,) bool: image i (in [0, 1]) scores its own caption ``captions[i]`` above each caption ``distractors[i]``
    indexes (N, K); ties count against it. The mean is R-precision at R = 1."""
    device = matcher.log_scale.device
    image_vectors = torch.cat([matcher.encode_images(chunk.to(device)) for chunk in images.split(batch_size)])
    caption_vectors = torch.cat([matcher.encode_captions(captions[i:i + batch_size])
                                 for i in range(0, len(captions), batch_size)])
    own = (image_vectors * caption_vectors).sum(1)
    others = torch.einsum("nd,nkd->nk", image_vectors, caption_vectors[distractors.to(device)])
    return (own[:, None] > others).all(1).cpu()


def draw_distractors(scenes: list, count: int, seed: int) -> torch.Tensor:
    """(N, count) indices: for each scene, ``count`` others that show a *different* scene (a caption of an identical
    scene would be a right answer, not a distractor), drawn with a seeded generator."""
    rng = torch.Generator().manual_seed(seed)
    n = len(scenes)
    if n <= count:
        raise ValueError(f"R-precision needs more than {count} captions to draw distractors from, got {n}")
    fewest = n - max(Counter(scenes).values())  # others unlike the most repeated scene: the loop below would never end
    if fewest < count:
        raise ValueError(f"R-precision needs {count} distractors of another scene for each caption, but among these {n} "
                         f"captions one scene has only {fewest} others unlike it")
    rows = []
    for i, scene in enumerate(scenes):
        picked: list[int] = []
        while len(picked) < count:
            for j in torch.randperm(n, generator=rng)[: 2 * count].tolist():
                if j != i and scenes[j] != scene and j not in picked and len(picked) < count:
                    picked.append(j)
        rows.append(picked)
    return torch.tensor(rows)
