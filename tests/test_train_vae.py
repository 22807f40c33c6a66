"""The VAE training script end to end on a few hundred real digits, for both architectures."""
import json
import math
import os

import pytest

from generative.hub import load_model
from generative.models import VAE
from training import train_vae


@pytest.mark.parametrize("architecture, binarize", [("conv", "dynamic"), ("mlp", "none")])
def test_one_epoch_writes_the_hub_layout_and_a_card_with_the_held_out_elbo(tmp_path, data_root, architecture, binarize):
    out = tmp_path / "out"
    train_vae.main(["--data-root", str(data_root), "--limit-train", "256", "--batch-size", "64", "--epochs", "1",
                    "--latent-dim", "2", "--architecture", architecture, "--width", "4", "--hidden", "16",
                    "--binarize", binarize, "--run-dir", str(tmp_path / "run"), "--output-dir", str(out)])
    assert set(os.listdir(out)) == {"config.json", "model.safetensors", "README.md", "metrics.json",
                                    "loss_curve.png", "samples.png"}
    metrics = json.loads((out / "metrics.json").read_text())
    elbo = metrics["held_out_negative_elbo_nats"]
    assert math.isfinite(elbo) and 0 < elbo < 784 * math.log(2) * 2  # far from a trained model, but a real bound
    assert metrics["binarize"] == binarize and f"{elbo:.2f} nats" in (out / "README.md").read_text()
    model = load_model(VAE, str(out), train_command="python training/train_vae.py")
    assert (model.latent_dim, model.architecture) == (2, architecture)


def test_default_output_folders_name_the_latent_size_and_the_baseline():
    assert str(train_vae.parse_args(["--latent-dim", "2"]).output_dir) == "pretrained/vae-mnist-z2"
    assert str(train_vae.parse_args(["--architecture", "mlp", "--latent-dim", "20"]).output_dir) == "pretrained/vae-mnist-mlp-z20"
