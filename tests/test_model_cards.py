"""The model cards' "Use" sections: each is the one its training script writes, says where it runs, and runs as printed."""
import importlib
import json
import os
import re
import shlex
import subprocess
import sys

import pytest

from generative import checkpoints
from generative.hub import PRETRAINED_DIR, load_metrics
from generative.provenance import PROJECT_ROOT
from training.cards import use_section
from training import (train_cgan, train_classifier, train_dae, train_matcher, train_photo_denoiser, train_scene_reader,
                      train_text2img, train_vae)

VAES = ("vae-mnist-z16", "vae-mnist-z2", "vae-mnist-mlp-z20")
USAGE = {"classifier-mnist": train_classifier.USAGE, "dae-mnist": train_dae.USAGE, "photo-denoiser": train_photo_denoiser.USAGE,
         "cgan-mnist": train_cgan.USAGE, "text2img-shapes": train_text2img.USAGE, "scene-reader": train_scene_reader.USAGE,
         "scene-matcher": train_matcher.USAGE,
         **{name: train_vae.USAGE.substitute(name=name, command=load_metrics(str(PRETRAINED_DIR / name))['command']) for name in VAES}}
CHECKS = {  # what each snippet prints, and what must hold of it
    "classifier-mnist": (r"digit (\d), probability ([\d.]+)", lambda digit, p: digit == "0" and float(p) > 0.99),
    "dae-mnist": (r"noisy ([\d.]+), denoised ([\d.]+)", lambda noisy, denoised: float(denoised) < float(noisy) / 4),
    "photo-denoiser": (r"noisy ([\d.]+) dB, denoised ([\d.]+) dB", lambda noisy, denoised: float(denoised) > float(noisy) + 10),
    "cgan-mnist": (r"asked for \[([\d, ]+)\] - the classifier reads \[([\d, ]+)\]", lambda asked, read: asked == read),
    "text2img-shapes": (r"(\d+) pictures of \(3, 32, 32\), values ([\d.]+)–([\d.]+)", lambda n, low, high: n == "2" and 0 <= float(low) < float(high) <= 1),
    "scene-reader": (r"the reader sees: (.*)", lambda seen: seen == "small cyan circle (top), small red square (bottom)"),
    "scene-matcher": (r"best caption: (.*) \| cosine", lambda best: best == "a cyan ball above a red square"),
    **{name: (r"latent \(1, (\d+)\), reconstruction MSE ([\d.]+), 8 samples from the prior \(1, 28, 28\)",
              lambda dim, mse, name=name: int(dim) == int(name.rsplit("z", 1)[1]) and float(mse) < 0.05) for name in VAES},
}


def test_every_shipped_model_has_a_use_snippet():
    assert {path.parent.name for path in PRETRAINED_DIR.glob("*/config.json")} == set(USAGE)


@pytest.mark.parametrize("name", USAGE)
def test_the_use_snippet_is_the_training_scripts_and_runs_from_the_repository_root(name):
    card = (PRETRAINED_DIR / name / "README.md").read_text()
    snippet = re.search(r"```python\n(.*?)```", card, re.S)
    assert snippet and snippet.group(0) == USAGE[name]
    assert use_section(USAGE[name], PRETRAINED_DIR / name) in card  # says where it runs: the Hub page of a model has no code beside it
    done = subprocess.run([sys.executable, "-"], input=snippet.group(1), cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120, env=os.environ | {"HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    pattern, holds = CHECKS[name]
    printed = re.search(pattern, done.stdout)
    assert printed, done.stdout
    assert holds(*printed.groups()), done.stdout


SHIPPED = [c for c in vars(checkpoints).values() if isinstance(c, checkpoints.Checkpoint)]
# The photo denoiser's command is one stage: the shipped checkpoint grew its depth over nine (--add-layers), as its card says.
GROWN = {"photo-denoiser": {"depth"}}


@pytest.mark.parametrize("checkpoint", SHIPPED, ids=lambda c: c.name)
def test_each_retraining_command_rebuilds_the_shipped_models_shape(checkpoint):
    """Every "missing checkpoint" message gives ``train_command``: parsed by its own script, it must ask for the model
    the tab expects (the map's VAE with a 2-d code, not the walk's 16), i.e. every setting of the shipped config.json
    that the script has a flag for. Placeholders such as ``<folder with MNIST/raw>`` stand for one argument."""
    command = re.sub(r"<[^>]*>", "DATA", re.sub(r"\s*\(.*\)$", "", checkpoint.train_command))
    python, script, *argv = shlex.split(command)
    assert python == "python" and script.startswith("training/"), command
    args = importlib.import_module(script.removesuffix(".py").replace("/", ".")).parse_args(argv)
    config = json.loads((PRETRAINED_DIR / checkpoint.name / "config.json").read_text())
    flagged = {key for key in config if hasattr(args, key)} - GROWN.get(checkpoint.name, set())
    assert flagged, checkpoint.name  # the check has something to compare
    assert {key: getattr(args, key) for key in flagged} == {key: config[key] for key in flagged}
