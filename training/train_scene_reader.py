"""Train the toy world's attribute reader and write pretrained/scene-reader/.

    python training/train_scene_reader.py
    accelerate launch --multi_gpu --num_processes 4 training/train_scene_reader.py   # data-parallel

The text-to-image benchmarks and tab judge generated pictures with it, so it must read the held-out
(colour, shape) pairs too: unlike the text-to-image GAN, it trains on scenes of both splits (one in five
from the held-out one). Each training scene gets a little pixel noise, a brightness change and sometimes a
blur every time it is seen, so that the soft edges and off colours of generated pictures do not fool it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from generative.data.scene_sets import (  # noqa: E402
    BLUR_PROBABILITY, EVAL_SEEDS, MAX_BRIGHTNESS_CHANGE, NOISE_STD, TRAIN_SEEDS, SceneSet, as_float, make_scene_set,
    perturb)
from generative.metrics.alignment import ATTRIBUTE_HEADERS, all_correct, attribute_accuracy  # noqa: E402
from generative.models.scene_reader import SceneReader, read_all, reader_loss  # noqa: E402
from training.cards import (  # noqa: E402
    card_command_and_pictures, card_front_matter, card_run_lines, publish, run_record, use_section)
from training.loop import (  # noqa: E402
    OUTPUT_DIR_HELP, PRETRAINED_DIR, RUNS_DIR, HelpFormatter, add_training_args, fit, positive_int, run_script,
    writable_folder)

EPOCH_EVAL_SIZE, FINAL_EVAL_SIZE = 2_000, 10_000
GRID_SIZE = 64


USAGE = """```python
import torch

from generative.data.shapes import parse_caption, render
from generative.hub import load_model
from generative.models.scene_reader import SceneReader, describe

reader = load_model(SceneReader, "pretrained/scene-reader", train_command="python training/train_scene_reader.py")
picture = render(parse_caption("a cyan ball above a red square"))  # uint8 (32, 32, 3): the toy world draws the caption
images = torch.tensor(picture).permute(2, 0, 1)[None].float() / 255  # (N, 3, 32, 32) in [0, 1]
with torch.no_grad():
    readout = reader.read(images)  # attribute → (N, 5): the predicted class in each of the five places
print("the reader sees:", describe(readout, 0))
```"""  # the model card's "Use" section; tests run it


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    add_training_args(parser, epochs=5, batch_size=128, lr=3e-3)
    parser.add_argument("--train-scenes", type=positive_int, default=40_000, help="rendered training scenes (every fifth of a held-out colour–shape pair, which the judge must read)")
    parser.add_argument("--width", type=positive_int, default=32, help="channels of the first conv block")
    parser.add_argument("--output-dir", type=writable_folder, default=PRETRAINED_DIR / "scene-reader", help=OUTPUT_DIR_HELP)
    args = parser.parse_args(argv)
    args.run_dir = args.run_dir or RUNS_DIR / "scene-reader"
    return args


def targets_of(batch) -> dict[str, torch.Tensor]:
    return dict(zip(("shape", "colour", "size"), batch[1:4]))


def reading_loss(model, batch, generator):
    return reader_loss(model(perturb(as_float(batch[0]), generator)), targets_of(batch))


def accuracy_on(model: SceneReader, scenes: SceneSet) -> dict[str, float]:
    return attribute_accuracy(read_all(model, scenes.images), scenes.targets)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    count = min(args.train_scenes, args.limit_train or args.train_scenes)
    train = make_scene_set(count, TRAIN_SEEDS, "mixed", progress=True)
    check = make_scene_set(EPOCH_EVAL_SIZE, EVAL_SEEDS, "mixed")

    def error_rate(model) -> float:
        return 1 - accuracy_on(model, check)["all"]

    def misread_scenes(model) -> torch.Tensor:
        """The check scenes it still misreads (blank when none), enlarged 2× to be seen."""
        wrong = ~all_correct(read_all(model, check.images), check.targets)
        images = as_float(check.images[wrong][:GRID_SIZE])
        return F.interpolate(images, scale_factor=2) if len(images) else torch.zeros(1, 3, 64, 64)

    model, history, accelerator = fit(lambda: SceneReader(args.width), train.dataset(), reading_loss, args,
                                      sample_fn=misread_scenes, sample_nrow=16, eval_fn=error_rate,
                                      eval_label=f"all-attributes error, {EPOCH_EVAL_SIZE:,} check scenes")
    if not accelerator.is_main_process:
        return
    model.cpu().eval()
    test = {split: accuracy_on(model, make_scene_set(FINAL_EVAL_SIZE, EVAL_SEEDS + 1_000_000 * (1 + i), split))
            for i, split in enumerate(("train", "held-out"))}
    for split, accuracy in test.items():
        print(f"{split} scenes: " + ", ".join(f"{name} {value:.2%}" for name, value in accuracy.items()))
    metrics = {"test_scenes_per_split": FINAL_EVAL_SIZE, "accuracy": test} | run_record(
        model, history, accelerator, args, __file__, argv)
    publish(model, args, card=model_card(metrics, args), metrics=metrics)


def model_card(metrics: dict, args: argparse.Namespace) -> str:
    rows = "\n".join(f"| {split} | " + " | ".join(f"{metrics['accuracy'][split][name]:.2%}"
                                                 for name in ("shape", "colour", "size", "all")) + " |"
                     for split in ("train", "held-out"))
    return f"""{card_front_matter(['image-classification', 'toy-world'], metrics=('accuracy',), datasets=())}

# scene-reader: what the text-to-image toy's judge sees in a picture

A small VGG-style convolutional network (three blocks of two 3×3 convolutions with batch norm and max-pooling,
a 256-d feature layer) with one linear head per attribute: for each of the five positions (left, right, top,
bottom, centre) it reads the shape (or "none"), the colour and the size of what is drawn there. The
text-to-image benchmarks score caption alignment with it, and the tab shows its readout under every picture.

- **Architecture:** `SceneReader(width={args.width})`, {metrics['parameters']:,} parameters
  (`generative/models/scene_reader.py`); input: 32×32 RGB in [0, 1].
- **Training data:** {metrics['train_examples']:,} scenes rendered by `generative/data/shapes.py` (seeds from 0; one in five
  from the held-out (colour, shape) pairs, which the reader must be able to judge), each perturbed with pixel
  noise (σ = {NOISE_STD}), a brightness change (±{MAX_BRIGHTNESS_CHANGE:.0%}) and, for {BLUR_PROBABILITY:.0%}, a 3×3 blur.
- **Loss:** the sum over shape, colour and size of the cross-entropy per slot (colour and size only where a thing is).
{card_run_lines(metrics, args)}

{card_command_and_pictures(metrics, 'Loss per step and per epoch; all-attributes error on 2,000 check scenes',
                           'Check scenes it still misreads after the last epoch (blank when none)')}

## Measured on {metrics['test_scenes_per_split']:,} fresh scenes per split

Shape is scored on all five slots (so an extra or missing thing is an error), colour and size on the filled
slots, "all" per scene.

| scenes | {ATTRIBUTE_HEADERS} |
|---|---|---|---|---|
{rows}

{use_section(USAGE, args.output_dir)}
"""


if __name__ == "__main__":
    run_script(main)
