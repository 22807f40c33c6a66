"""The VAE training script end to end on a few hundred real digits, for both architectures."""
import json
import math
import os
import shutil

import pytest
from safetensors.torch import load_file

from generative.hub import PRETRAINED_DIR, load_model
from generative.models import VAE
from training import train_vae


@pytest.mark.parametrize("architecture, binarize", [("conv", "dynamic"), ("mlp", "none")])
def test_one_epoch_writes_the_hub_layout_and_a_card_with_the_held_out_elbo(tmp_path, data_root, architecture, binarize):
    out = tmp_path / "out"
    train_vae.main(["--data-root", str(data_root), "--limit-train", "256", "--batch-size", "64", "--epochs", "1",
                    "--latent-dim", "2", "--architecture", architecture, "--width", "4", "--hidden", "16",
                    "--binarize", binarize, "--run-dir", str(tmp_path / "run"), "--output-dir", str(out)])
    assert set(os.listdir(out)) == {"config.json", "model.safetensors", "README.md", "metrics.json",
                                    "loss_curve.png", "samples.png", train_vae.TEST_ENCODINGS}  # a 2-d model: the map's scatter
    metrics = json.loads((out / "metrics.json").read_text())
    elbo = metrics["held_out_negative_elbo_nats"]
    assert math.isfinite(elbo) and 0 < elbo < 784 * math.log(2) * 2  # far from a trained model, but of the right scale
    assert metrics["binarize"] == binarize and f"{elbo:.2f} nats" in (out / "README.md").read_text()
    default = f"vae-mnist-{'mlp-' if architecture == 'mlp' else ''}z2"
    assert f"\n# {default}: a variational autoencoder" in (out / "README.md").read_text()  # not the folder's "# out"
    model = load_model(VAE, str(out), train_command="python training/train_vae.py")
    assert (model.latent_dim, model.architecture) == (2, architecture)
    encodings = load_file(str(out / train_vae.TEST_ENCODINGS))
    assert encodings["mean"].shape == (10_000, 2) and encodings["label"].bincount().tolist()[:2] == [980, 1135]

    train_vae.rewrite_card(out, {"card_lines": {"test figure": "12.34 nats"}, "command": "python bench.py", "date": "2026-11-23"})
    card = (out / "README.md").read_text()
    assert "- **MNIST test, test figure:** 12.34 nats" in card and "`python bench.py` (2026-11-23)" in card
    assert f"{elbo:.2f} nats" in card  # the training figures are still there
    # the snippet loads the folder the flags would write by default, and the note above it says where this one went
    assert train_vae.USAGE.substitute(name=default, command=metrics["command"]) in card
    assert f"This checkpoint was written to `{out}`: give that folder" in card and f"in place of `pretrained/{default}`" in card
    assert json.loads((out / "metrics.json").read_text())["test"]["card_lines"] == {"test figure": "12.34 nats"}


@pytest.mark.parametrize("name", ["vae-mnist-z16", "vae-mnist-z2", "vae-mnist-mlp-z20"])
def test_a_shipped_card_is_what_its_metrics_render_as_the_benchmark_rewrites_it(tmp_path, name, monkeypatch):
    """benchmarks/vae_quality.py ends by re-rendering each shipped card from its metrics.json: a record the card
    template no longer fits would end that 36-minute run in a traceback, and a card the template no longer
    renders would change under the next benchmark run for reasons unrelated to it."""
    monkeypatch.setattr("training.cards.PROJECT_ROOT", tmp_path)  # a copy of pretrained/<name>: where the card is
    folder = tmp_path / "pretrained" / name  # in its pretrained/, so its "Use" section needs no note
    folder.parent.mkdir()
    folder.mkdir()
    for file in ("metrics.json", "README.md"):
        shutil.copy(PRETRAINED_DIR / name / file, folder / file)
    train_vae.rewrite_card(folder, json.loads((folder / "metrics.json").read_text())["test"])
    assert (folder / "README.md").read_text() == (PRETRAINED_DIR / name / "README.md").read_text()


def test_default_output_folders_name_the_latent_size_and_the_baseline():
    assert train_vae.parse_args(["--latent-dim", "2"]).output_dir == PRETRAINED_DIR / "vae-mnist-z2"
    assert train_vae.parse_args(["--architecture", "mlp", "--latent-dim", "20"]).output_dir == PRETRAINED_DIR / "vae-mnist-mlp-z20"


def test_each_architecture_has_its_own_hidden_width_and_its_card_names_only_the_settings_it_uses(tmp_path):
    """256 units for the gallery's conv VAEs, the PyTorch example's 400 for the MLP, which has no convolutions: its
    card said width=32 of a network without channels."""
    conv, mlp = (train_vae.parse_args(["--architecture", a]) for a in ("conv", "mlp"))
    assert (conv.hidden, mlp.hidden) == (256, 400)
    assert train_vae.parse_args(["--architecture", "mlp", "--hidden", "64"]).hidden == 64
    card = (PRETRAINED_DIR / "vae-mnist-mlp-z20" / "README.md").read_text()
    assert '`VAE(latent_dim=20, architecture="mlp", hidden=400)`' in card and "width=" not in card
    assert '`VAE(latent_dim=16, architecture="conv", width=32, hidden=256)`' in (
        PRETRAINED_DIR / "vae-mnist-z16" / "README.md").read_text()
