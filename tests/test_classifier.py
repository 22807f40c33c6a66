"""The MNIST classifier: shapes, augmentation, the metrics its card reports, training, and the shipped checkpoint."""
import json
import os

import pytest
import torch

from generative.hub import PRETRAINED_DIR, load_model
from generative.models import DigitClassifier
from training import train_classifier
from generative.metrics.classification import accuracy_report
from training.train_classifier import random_affine

MIN_SHIPPED_ACCURACY = 0.992  # the target; the card reports the measured value


@pytest.fixture(scope="module")
def tiny_classifier():
    torch.manual_seed(0)
    return DigitClassifier(width=4, feature_dim=8).eval()


def test_logits_features_and_predictions_have_the_documented_shapes(tiny_classifier):
    images = torch.rand(5, 1, 28, 28)
    assert tiny_classifier(images).shape == (5, 10)
    assert tiny_classifier.features(images).shape == (5, 8)
    digit, confidence = tiny_classifier.predict(images)
    assert digit.shape == confidence.shape == (5,)
    assert digit.min() >= 0 and digit.max() <= 9 and (confidence > 0.1).all() and (confidence <= 1).all()


def test_augmentation_moves_each_digit_a_little_and_repeats_with_the_seed():
    images = torch.zeros(8, 1, 28, 28)
    images[:, :, 8:20, 12:16] = 1.0
    a = random_affine(images, torch.Generator().manual_seed(0))
    b = random_affine(images, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and a.shape == images.shape
    assert a.min() >= 0 and a.max() <= 1
    assert not torch.allclose(a[0], a[1])  # each image gets its own transform
    ink = images.sum(dim=(1, 2, 3))
    assert torch.allclose(a.sum(dim=(1, 2, 3)), ink, rtol=0.25)  # small moves keep the digit in frame


def bar_pose(images):
    """Per image: the ink's centre (row, column), its long axis' angle from the vertical in degrees, and its spread
    along that axis (the square root of the larger eigenvalue of the ink's second moments), in pixels."""
    rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    ink = images[:, 0]
    total = ink.sum(dim=(1, 2))
    row, col = (ink * rows).sum(dim=(1, 2)) / total, (ink * cols).sum(dim=(1, 2)) / total
    dr, dc = rows - row[:, None, None], cols - col[:, None, None]
    rr, cc, rc = [(ink * product).sum(dim=(1, 2)) / total for product in (dr * dr, dc * dc, dr * dc)]
    angle = torch.rad2deg(0.5 * torch.atan2(2 * rc, rr - cc))
    spread = (0.5 * (rr + cc) + torch.sqrt(0.25 * (rr - cc) ** 2 + rc ** 2)).sqrt()
    return row, col, angle, spread


def test_augmentation_rotates_scales_and_shifts_a_bar_within_the_stated_limits():
    """On a thin vertical bar at the centre, 256 draws: the long axis turns by at most MAX_ROTATION_DEG (10°), its
    length changes by at most MAX_SCALE_CHANGE (10 %), its centre moves by at most MAX_SHIFT_PX (2 px) per axis,
    rotated and scaled with the picture (2·√2·1.1 = 3.11 px in all); and the draws come near each limit. The
    tolerances allow for the bilinear resampling (it misreads the angle by under 0.7°, the scale by under 0.012).
    Degrees taken as radians turned digits by up to 573°, and the test above still passed."""
    assert (train_classifier.MAX_ROTATION_DEG, train_classifier.MAX_SCALE_CHANGE, train_classifier.MAX_SHIFT_PX) == \
        (10.0, 0.1, 2.0)
    images = torch.zeros(256, 1, 28, 28)
    images[:, :, 6:22, 13:15] = 1.0  # 16 × 2 pixels, its centre the picture's: (13.5, 13.5)
    row, col, angle, spread = bar_pose(images)
    assert (row[0].item(), col[0].item(), angle[0].item()) == (13.5, 13.5, 0.0)
    moved_row, moved_col, turned, stretched = bar_pose(random_affine(images, torch.Generator().manual_seed(0)))
    assert turned.abs().max().item() <= 10.0 + 1.0
    assert turned.abs().max().item() >= 9.0 and turned.min().item() < 0 < turned.max().item()
    scale = stretched / spread
    assert 0.9 - 0.02 <= scale.min().item() <= 0.92 and 1.08 <= scale.max().item() <= 1.1 + 0.02
    shift = ((moved_row - 13.5) ** 2 + (moved_col - 13.5) ** 2).sqrt()
    assert 2.5 <= shift.max().item() <= 3.11 + 0.1


class FixedGuess(torch.nn.Module):
    """Predicts the label of each image from its first pixel: a model whose errors are known."""

    def forward(self, images):
        return torch.nn.functional.one_hot(images[:, 0, 0, 0].long(), 10).float()

    def parameters(self, recurse=True):
        return iter([torch.zeros(1)])


def test_accuracy_per_class_accuracy_and_confusion_matrix_count_correctly():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    guesses = torch.tensor([0, 1, 1, 1, 2, 0])  # two errors: a 0 read as 1, a 2 read as 0
    images = guesses.float().view(-1, 1, 1, 1).expand(-1, 1, 28, 28)
    metrics = accuracy_report(FixedGuess(), images, labels)
    assert metrics["errors"] == 2 and metrics["accuracy"] == pytest.approx(4 / 6)
    assert metrics["per_class_accuracy"][:3] == pytest.approx([0.5, 1.0, 0.5])
    assert metrics["confusion_matrix"][0][1] == 1 and metrics["confusion_matrix"][2][0] == 1
    assert sum(map(sum, metrics["confusion_matrix"])) == 6


def test_one_epoch_writes_the_hub_layout_and_a_card_with_the_accuracy(tmp_path, data_root):
    out = tmp_path / "out"
    train_classifier.main(["--data-root", str(data_root), "--limit-train", "512", "--epochs", "1", "--width", "4",
                           "--feature-dim", "8", "--run-dir", str(tmp_path / "run"), "--output-dir", str(out)])
    assert set(os.listdir(out)) == {"config.json", "model.safetensors", "README.md", "metrics.json",
                                    "loss_curve.png", "samples.png"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["n_images"] == 10_000 and "train_classifier.py" in metrics["command"]
    card = (out / "README.md").read_text()
    assert f"**Accuracy {metrics['test']['accuracy']:.2%}**" in card and train_classifier.USAGE in card
    model = load_model(DigitClassifier, str(out), train_command="python training/train_classifier.py")
    assert (model.width, model.feature_dim) == (4, 8)


def test_shipped_checkpoint_reaches_the_target_accuracy_on_mnist_test(mnist_test):
    model = load_model(DigitClassifier, str(PRETRAINED_DIR / "classifier-mnist"), train_command="python training/train_classifier.py")
    images, labels = mnist_test
    metrics = accuracy_report(model, images, labels)
    assert metrics["accuracy"] >= MIN_SHIPPED_ACCURACY, metrics["accuracy"]
