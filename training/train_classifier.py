"""Train the MNIST digit classifier and write pretrained/classifier-mnist/.

    python training/train_classifier.py --data-root ../shared/datasets
    accelerate launch --multi_gpu --num_processes 4 training/train_classifier.py   # data-parallel

The gallery uses it as a judge: it reads the digit along a VAE path, scores a conditional GAN's
accuracy, and its features give a digit-specific Fréchet distance. Small random rotations, scalings
and shifts of each training digit keep it honest on drawn and generated digits, not only on MNIST's.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from generative.data.mnist import load_mnist  # noqa: E402
from generative.metrics.classification import accuracy_report, predict_all  # noqa: E402
from generative.models import DigitClassifier  # noqa: E402
from training.cards import (  # noqa: E402
    card_command_and_pictures, card_front_matter, card_run_lines, publish, run_record, use_section)
from training.loop import (  # noqa: E402
    MNIST_DATA, OUTPUT_DIR_HELP, PRETRAINED_DIR, RUNS_DIR, HelpFormatter, add_training_args, fit, positive_int,
    run_script, writable_folder)

VALIDATION_SIZE = 5000  # the last 5,000 training digits, for the per-epoch held-out loss
MAX_ROTATION_DEG, MAX_SCALE_CHANGE, MAX_SHIFT_PX = 10.0, 0.1, 2.0
GRID_SIZE = 64  # the per-epoch picture: up to this many held-out digits it gets wrong


USAGE = """```python
import numpy as np
import torch
from PIL import Image

from generative.hub import load_model
from generative.models import DigitClassifier

model = load_model(DigitClassifier, "pretrained/classifier-mnist", train_command="python training/train_classifier.py")
pixels = np.asarray(Image.open("demos/examples/mnist_test/0_0_test00003.png").convert("L"), dtype=np.float32) / 255
images = torch.from_numpy(pixels)[None, None]  # (N, 1, 28, 28) in [0, 1], a light digit on black as in MNIST
with torch.no_grad():
    digit, confidence = model.predict(images)
print(f"digit {digit.item()}, probability {confidence.item():.4f}")  # this example is a 0
```"""  # the model card's "Use" section; tests run it


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    add_training_args(parser, epochs=8, batch_size=128, lr=3e-3, data=MNIST_DATA)
    parser.add_argument("--width", type=positive_int, default=32, help="channels of the first conv block")
    parser.add_argument("--feature-dim", type=positive_int, default=128, help="size of the penultimate feature vector")
    parser.add_argument("--output-dir", type=writable_folder, default=PRETRAINED_DIR / "classifier-mnist", help=OUTPUT_DIR_HELP)
    args = parser.parse_args(argv)
    args.run_dir = args.run_dir or RUNS_DIR / "classifier-mnist"
    return args


def random_affine(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Rotate, scale and shift each image by its own small random amount (bilinear, zero fill)."""
    n = len(images)

    def uniform(limit: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator, device=generator.device) * 2 - 1) * limit

    angle = uniform(math.radians(MAX_ROTATION_DEG)).to(images.device)
    scale = (1 + uniform(MAX_SCALE_CHANGE)).to(images.device)
    shift = torch.stack([uniform(MAX_SHIFT_PX), uniform(MAX_SHIFT_PX)], dim=1).to(images.device) * 2 / 28
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def classification_loss(model, batch, generator):
    images, labels = batch
    return F.cross_entropy(model(random_affine(images, generator)), labels)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    images, labels = load_mnist("train", args.data_root)
    train = TensorDataset(images[:-VALIDATION_SIZE][: args.limit_train], labels[:-VALIDATION_SIZE][: args.limit_train])
    val_images, val_labels = images[-VALIDATION_SIZE:], labels[-VALIDATION_SIZE:]

    def held_out_loss(model) -> float:
        device = next(model.parameters()).device
        return F.cross_entropy(model(val_images.to(device)), val_labels.to(device)).item()

    def wrong_digits(model) -> torch.Tensor:
        """The held-out digits it still gets wrong (blank when none): the errors a reader should see."""
        wrong = val_images[predict_all(model, val_images) != val_labels][:GRID_SIZE]
        return wrong if len(wrong) else torch.zeros(1, 1, 28, 28)

    model, history, accelerator = fit(lambda: DigitClassifier(args.width, args.feature_dim), train,
                                      classification_loss, args, sample_fn=wrong_digits, sample_nrow=16,
                                      eval_fn=held_out_loss)
    if not accelerator.is_main_process:
        return
    model.eval()
    test = accuracy_report(model.cpu(), *load_mnist("test", args.data_root))
    print(f"MNIST test accuracy {test['accuracy']:.2%} ({test['errors']} errors in {test['n_images']:,})")
    metrics = {"test_set": "MNIST test (10,000 digits)", "test": test} | run_record(
        model, history, accelerator, args, __file__, argv)
    publish(model, args, card=model_card(metrics, args), metrics=metrics)


def model_card(metrics: dict, args: argparse.Namespace) -> str:
    test = metrics["test"]
    per_class = " | ".join(f"{acc:.2%}" for acc in test["per_class_accuracy"])
    return f"""{card_front_matter(['image-classification', 'mnist'], metrics=('accuracy',))}

# classifier-mnist: the gallery's digit judge

A small VGG-style convolutional network: two blocks of two 3×3 convolutions with batch norm and
max-pooling, a {args.feature_dim}-d feature layer, dropout and a linear layer to 10 classes. The gallery
uses its verdicts to read generated digits and its {args.feature_dim}-d features for a digit-specific
Fréchet distance.

- **Architecture:** `DigitClassifier(width={args.width}, feature_dim={args.feature_dim})`, {metrics['parameters']:,} parameters
  (`generative/models/classifier.py`); input: 28×28 in [0, 1], standardised inside the model.
- **Training data:** MNIST train, first {metrics['train_examples']:,} digits (the last 5,000 are the held-out set of the loss curve),
  each randomly rotated (±{MAX_ROTATION_DEG:g}°), scaled (±{MAX_SCALE_CHANGE:.0%}) and shifted (±{MAX_SHIFT_PX:g} px) every time it is seen.
- **Loss:** cross-entropy.
{card_run_lines(metrics, args)}

{card_command_and_pictures(metrics, 'Loss per step and per epoch, on the training digits and the 5,000 held-out ones',
                           'Held-out digits it gets wrong after the last epoch')}

## Measured on {metrics['test_set']}

**Accuracy {test['accuracy']:.2%}** ({test['errors']} errors). Per class:

| 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 |
|---|---|---|---|---|---|---|---|---|---|
| {per_class} |

The full confusion matrix (rows: true digit, columns: predicted) is in `metrics.json`.

{use_section(USAGE, args.output_dir)}
"""


if __name__ == "__main__":
    run_script(main)
