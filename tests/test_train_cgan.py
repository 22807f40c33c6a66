"""The cGAN training script end to end on a few hundred real digits: every loss, the card, exact resume."""
import json

import pytest
import torch
from safetensors.torch import load_file
from torch import nn
from torch.nn.utils.parametrize import is_parametrized

from generative.hub import load_model
from generative.models import Generator
from saved_states import assert_same_saved_state
from training import train_cgan
from training.loop import save_sample_grid

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(autouse=True)
def fewer_judged_samples(monkeypatch):
    """The classifier's verdicts on 10,000 samples cost more than the tiny training itself; the plumbing needs few."""
    monkeypatch.setattr(train_cgan, "EPOCH_EVAL_PER_CLASS", 10)
    monkeypatch.setattr(train_cgan, "FINAL_EVAL_PER_CLASS", 20)


def run(tmp_path, name: str, *flags: str):
    out = tmp_path / name / "out"
    train_cgan.main(["--limit-train", "256", "--batch-size", "64", "--width", "4", "--noise-dim", "8",
                     "--run-dir", str(tmp_path / name / "run"), "--output-dir", str(out), *flags])
    return out


@pytest.mark.parametrize("loss", ["non-saturating", "hinge", "wgan-gp"])
def test_one_epoch_of_each_loss_writes_the_generator_and_a_card(tmp_path, data_root, monkeypatch, loss):
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(data_root))
    trained, setup = [], train_cgan.AdversarialObjective.setup

    def recording_setup(self, model, *rest, **named):  # the D the run trains
        trained.append(model.discriminator)
        return setup(self, model, *rest, **named)

    monkeypatch.setattr(train_cgan.AdversarialObjective, "setup", recording_setup)
    out = run(tmp_path, loss, "--epochs", "1", "--loss", loss)
    [discriminator] = trained
    layers = [m for m in discriminator.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))]
    assert len(layers) == 6 and {is_parametrized(m, "weight") for m in layers} == {loss != "wgan-gp"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["loss"] == loss and metrics["d_steps"] == (5 if loss == "wgan-gp" else 1)
    assert set(metrics["conditional_accuracy"]) == {"G", "EMA of G"} and metrics["published"] in metrics["conditional_accuracy"]
    assert all(0 <= a <= 1 for a in metrics["conditional_accuracy"].values())
    assert len(metrics["per_epoch"]["classifier_error_1000_ema_samples"]) == 1
    card = (out / "README.md").read_text()
    assert f"--loss {loss}" in card and "Conditional accuracy" in card and train_cgan.USAGE in card
    assert ("spectrally normalised" in card) == (loss != "wgan-gp")  # as the D it trained is, and as the tab says
    assert "\n# cgan-mnist: a conditional DCGAN" in card  # the gallery's name, as every card's title; not "# out"
    generator = load_model(Generator, str(out), train_command="python training/train_cgan.py")
    assert generator.noise_dim == 8


def test_the_cards_samples_are_drawn_by_the_published_generator_when_g_wins_too(tmp_path, data_root, monkeypatch):
    """Each epoch's grid is the moving average's (the one judged per epoch): where the live G won the final judgement,
    the card showed the digits of a generator it does not publish."""
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(data_root))
    judge, verdicts = train_cgan.conditional_accuracy, iter([0.9, 0.1])  # the final judgement's: G's, then the EMA's
    monkeypatch.setattr(train_cgan, "conditional_accuracy", lambda generator, classifier, per_class, seed: judge(
        generator, classifier, per_class, seed) | ({"accuracy": next(verdicts)} if seed == 4 else {}))
    out = run(tmp_path, "g-wins", "--epochs", "1")
    assert json.loads((out / "metrics.json").read_text())["published"] == "G"
    generator = load_model(Generator, str(out), train_command="python training/train_cgan.py").eval()
    with torch.inference_mode():
        save_sample_grid(train_cgan.draw_grid(generator), tmp_path / "drawn.png", train_cgan.GRID_COLUMNS)
    assert (out / "samples.png").read_bytes() == (tmp_path / "drawn.png").read_bytes()
    assert "drawn by the published generator (G) after the last epoch](samples.png)" in (out / "README.md").read_text()


def test_resume_after_an_interruption_reproduces_the_unbroken_run(tmp_path, data_root, monkeypatch):
    """G, D, both optimisers and the moving average (with its update count) all come back from the saved state."""
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(data_root))
    unbroken = run(tmp_path, "unbroken", "--epochs", "2")

    real_step, steps = train_cgan.AdversarialObjective.step, []

    def step_then_crash(self, batch, generator):
        steps.append(1)
        if len(steps) > 4:  # 256 digits / 64 per batch = 4 steps: crash at the start of epoch 2
            raise KeyboardInterrupt
        return real_step(self, batch, generator)

    monkeypatch.setattr(train_cgan.AdversarialObjective, "step", step_then_crash)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, "resumed", "--epochs", "2")
    monkeypatch.setattr(train_cgan.AdversarialObjective, "step", real_step)
    resumed = run(tmp_path, "resumed", "--epochs", "2", "--resume")

    a, b = load_file(unbroken / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert (a[key] - b[key]).abs().max().item() < 1e-5, key
    assert json.loads((resumed / "metrics.json").read_text())["resumed"]
    # the tiny G publishes its own weights, not the moving average's: that one is in the saved state
    assert_same_saved_state(unbroken.parent / "run", resumed.parent / "run", registered=1)


@pytest.mark.parametrize("decay", ["1", "2", "-0.1"])
def test_an_ema_decay_outside_0_to_1_gets_a_usage_message(decay, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_cgan.parse_args(["--ema-decay", decay])
    assert exit_info.value.code == 2 and "argument --ema-decay: must be ≥ 0 and below 1" in capsys.readouterr().err
