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
