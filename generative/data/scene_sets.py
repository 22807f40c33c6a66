"""Batches of the toy world as tensors: images, per-slot attribute targets and tokenised captions.

Example ``i`` of a set is ``make_example(first_seed + i, split)``, so every set can be made again exactly.
Training scripts take disjoint seed ranges for training and evaluation, and benchmarks take ranges no script
trains on (the world is small, so two seeds can still draw the same scene; the benchmark that needs new
captions filters them by string).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from generative.data.shapes import Scene, make_example, slot_targets
from generative.text import Tokenizer

# Seed ranges, far apart: each script's training scenes, its per-epoch check, and the benchmarks' scenes.
TRAIN_SEEDS, EVAL_SEEDS, BENCHMARK_SEEDS = 0, 50_000_000, 90_000_000
# How much the judges' training scenes are perturbed (see ``perturb``).
NOISE_STD, MAX_BRIGHTNESS_CHANGE, BLUR_PROBABILITY = 0.04, 0.1, 0.3


@dataclass
class SceneSet:
    images: torch.Tensor        # (N, 3, H, W) uint8
    shape: torch.Tensor         # (N, 5) shape class per slot, 0 = empty
    colour: torch.Tensor        # (N, 5) colour index per slot, IGNORE where empty
    size: torch.Tensor          # (N, 5) size index per slot, IGNORE where empty
    captions: list[str]
    scenes: list[Scene]

    def __len__(self) -> int:
        return len(self.captions)

    @property
    def targets(self) -> dict[str, torch.Tensor]:
        return {"shape": self.shape, "colour": self.colour, "size": self.size}

    def tokens(self, tokenizer: Tokenizer) -> tuple[torch.Tensor, torch.Tensor]:
        return tokenizer.batch(self.captions)

    def select(self, rows: list[int]) -> SceneSet:
        """The scenes at ``rows``, in that order."""
        index = torch.tensor(rows, dtype=torch.long)
        return SceneSet(self.images[index], self.shape[index], self.colour[index], self.size[index],
                        [self.captions[i] for i in rows], [self.scenes[i] for i in rows])

    def dataset(self, tokenizer: Tokenizer | None = None) -> TensorDataset:
        """(images, shape, colour, size) rows, plus (token ids, lengths) when a tokenizer is given."""
        tensors = [self.images, self.shape, self.colour, self.size]
        return TensorDataset(*tensors, *(self.tokens(tokenizer) if tokenizer else ()))


def as_float(images: torch.Tensor) -> torch.Tensor:
    """Stored uint8 scenes → float in [0, 1], what every model of the toy world takes."""
    return images.float() / 255


def make_scene_set(count: int, first_seed: int, split: str = "train", *, progress: bool = False) -> SceneSet:
    """``count`` examples from seeds ``first_seed …``; ``split`` is "train", "held-out" or "mixed" (every 5th held out)."""
    images, targets, captions, scenes = [], [], [], []
    for i in tqdm(range(count), desc=f"rendering {split} scenes", disable=not progress, leave=False):
        seed = first_seed + i
        this_split = ("held-out" if i % 5 == 4 else "train") if split == "mixed" else split
        image, text, scene = make_example(seed, this_split)
        images.append(image)
        targets.append(slot_targets(scene))
        captions.append(text)
        scenes.append(scene)
    target = torch.tensor(targets, dtype=torch.long).reshape(count, 3, -1)
    pixels = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    return SceneSet(pixels, target[:, 0], target[:, 1], target[:, 2], captions, scenes)


def box_blur(images: torch.Tensor) -> torch.Tensor:
    """A 3×3 box blur with replicated borders: about the softness of a generated shape's edges."""
    return F.avg_pool2d(F.pad(images, (1, 1, 1, 1), mode="replicate"), 3, stride=1)


def perturb(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Pixel noise, a brightness change per image and, for some images, a 3×3 box blur.

    The judges of generated pictures (scene reader, matcher) train on perturbed scenes, so that the soft edges
    and off colours of a generated picture, which change nothing its caption says, do not fool them.
    """
    n, device = len(images), images.device

    def rand(*shape):
        return torch.rand(*shape, generator=generator, device=generator.device).to(device)

    brightness = 1 + (2 * rand(n, 1, 1, 1) - 1) * MAX_BRIGHTNESS_CHANGE
    images = torch.where(rand(n, 1, 1, 1) < BLUR_PROBABILITY, box_blur(images), images)
    noise = torch.randn(images.shape, generator=generator, device=generator.device).to(device) * NOISE_STD
    return (images * brightness + noise).clamp(0, 1)
