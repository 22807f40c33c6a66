"""The DAE training script end to end on a few hundred real digits: artifacts, exact resume, Hub push."""
import argparse
import errno
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path
from types import SimpleNamespace

import httpx
import huggingface_hub
import numpy as np
import pytest
import torch
from accelerate.utils.constants import RNG_STATE_NAME
from safetensors.torch import load_file

from generative.data import mnist
from generative.data.mnist import CacheNotWritable, load_mnist
from generative.models import DenoisingAutoencoder
from generative import hub
from generative.hub import token_refused
from generative.noise import corrupt_randomly
from generative.provenance import PROJECT_ROOT, command_line, script_arguments
from training import loop, train_dae
from training.cards import batch_words, format_minutes, last_sample_grid, publish, use_section

SMOKE = ["--limit-train", "256", "--batch-size", "64", "--eval-limit", "64", "--width", "8", "--code-dim", "16"]


def run(tmp_path, name, *extra):
    out = tmp_path / name / "out"
    train_dae.main([*SMOKE, "--run-dir", str(tmp_path / name / "run"), "--output-dir", str(out), *extra])
    return out


def test_one_epoch_writes_hub_layout_card_metrics_and_progress_pictures(tmp_path, data_root):
    out = run(tmp_path, "a", "--epochs", "1", "--data-root", str(data_root))
    assert set(os.listdir(out)) == {"config.json", "model.safetensors", "README.md", "metrics.json",
                                    "loss_curve.png", "samples.png"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert [(r["noise"], r["level"]) for r in metrics["denoising"]][0] == ("gaussian", 0.1)
    assert "train_dae.py" in metrics["command"] and metrics["epochs"] == 1 and not metrics["resumed"]
    card = (out / "README.md").read_text()
    assert card.startswith("---\n") and "train_dae.py" in card and "| gaussian | 0.5 |" in card
    assert "](loss_curve.png)" in card and "](samples.png)" in card and "Resumed" not in card
    assert train_dae.USAGE in card
    run_dir = tmp_path / "a" / "run"
    assert (run_dir / "loss_curve.png").stat().st_size > 0
    assert (run_dir / "samples" / "epoch_001.png").stat().st_size > 0
    # readable by whoever may read the card: safetensors alone wrote the weights rw------- (its issue #782)
    assert stat.S_IMODE((out / "model.safetensors").stat().st_mode) == stat.S_IMODE((out / "config.json").stat().st_mode)


def test_a_short_run_learns_past_the_all_black_output(tmp_path, data_root):
    """Squared error through the sigmoid sat here at an all-black output after these 64 steps (on held-out digits: mean
    grey level 4e-6, squared error 0.113); cross-entropy draws digits (mean 0.14, as MNIST's 0.13; squared error 0.081)."""
    out = tmp_path / "out"
    train_dae.main(["--data-root", str(data_root), "--limit-train", "2048", "--batch-size", "64", "--epochs", "2",
                    "--width", "8", "--code-dim", "16", "--eval-limit", "64", "--device", "cpu",
                    "--run-dir", str(tmp_path / "run"), "--output-dir", str(out)])
    model = DenoisingAutoencoder.from_pretrained(out).eval()
    clean = load_mnist("train", data_root)[0][-500:]  # held out from training
    with torch.no_grad():
        denoised = model(corrupt_randomly(clean, torch.Generator().manual_seed(1)))
    assert denoised.mean().item() > 0.05
    assert (denoised - clean).pow(2).mean().item() < 0.095  # an all-black output scores 0.11


def assert_same_weights(unbroken, resumed) -> None:
    a, b = load_file(unbroken / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert (a[key] - b[key]).abs().max().item() < 1e-5, key


def test_resume_after_an_interruption_reproduces_the_unbroken_run(tmp_path, data_root, monkeypatch):
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(data_root))
    unbroken = run(tmp_path, "unbroken", "--epochs", "2")

    real_loss = train_dae.denoising_loss
    steps = []

    def loss_then_crash(model, batch, generator):
        steps.append(1)
        if len(steps) > 4:  # 256 digits / 64 per batch = 4 steps: crash at the start of epoch 2
            raise KeyboardInterrupt
        return real_loss(model, batch, generator)

    monkeypatch.setattr(train_dae, "denoising_loss", loss_then_crash)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, "resumed", "--epochs", "2")
    monkeypatch.setattr(train_dae, "denoising_loss", real_loss)
    resumed = run(tmp_path, "resumed", "--epochs", "2", "--resume")

    assert_same_weights(unbroken, resumed)
    assert (tmp_path / "resumed" / "run" / "samples" / "epoch_002.png").exists()
    metrics = json.loads((resumed / "metrics.json").read_text())
    assert metrics["resumed"] and "--resume" not in metrics["command"]  # the card's command reproduces the run
    whole = json.loads((unbroken / "metrics.json").read_text())  # each epoch's losses, the one before the crash too
    assert len(metrics["held_out_loss_per_epoch"]) == len(metrics["train_loss_per_epoch"]) == 2
    assert metrics["held_out_loss_per_epoch"] == pytest.approx(whole["held_out_loss_per_epoch"], rel=1e-4)
    assert metrics["held_out_loss_per_epoch"][-1] == metrics["final_held_out_loss"]
    assert "Resumed" in (resumed / "README.md").read_text()


def test_a_run_killed_while_saving_resumes_from_the_last_whole_epoch(tmp_path, data_root, monkeypatch):
    """Epoch 2's weights written, its history not yet: resuming must not pair epoch 2's weights with epoch 1's
    history (which would train epoch 2 twice) but continue from epoch 1, and end as the unbroken run does."""
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(data_root))
    unbroken = run(tmp_path, "unbroken", "--epochs", "2")

    real_save = loop.History.save
    saves = []

    def save_then_die(history, path):
        saves.append(path)
        if len(saves) == 2:  # epoch 2's history: the weights, optimizer and schedule are already on disk
            raise KeyboardInterrupt
        real_save(history, path)

    monkeypatch.setattr(loop.History, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, "resumed", "--epochs", "2")
    monkeypatch.setattr(loop.History, "save", real_save)
    resumed = run(tmp_path, "resumed", "--epochs", "2", "--resume")

    assert_same_weights(unbroken, resumed)


def test_a_kill_between_the_two_renames_resumes_from_the_previous_epoch(tmp_path):
    for name in (loop.PREVIOUS_STATE, loop.PARTIAL_STATE):  # "state" renamed away, the new one not yet in its place
        (tmp_path / name).mkdir()
        (tmp_path / name / "history.json").write_text("{}")
    assert loop.saved_state(tmp_path) == tmp_path / loop.PREVIOUS_STATE
    (tmp_path / loop.STATE).mkdir()
    (tmp_path / loop.STATE / "history.json").write_text("{}")
    assert loop.saved_state(tmp_path) == tmp_path / loop.STATE


def test_resume_without_saved_state_says_so(tmp_path, data_root):
    with pytest.raises(SystemExit, match="no saved state"):
        run(tmp_path, "fresh", "--epochs", "1", "--resume", "--data-root", str(data_root))


def test_push_to_hub_uploads_the_output_folder(tmp_path, data_root, monkeypatch, logged_in):
    calls = []
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", lambda self, repo_id, **kw: calls.append(repo_id))
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder",
                        lambda self, repo_id, folder_path, **kw: calls.append((repo_id, sorted(os.listdir(folder_path)))))
    run(tmp_path, "push", "--epochs", "1", "--data-root", str(data_root), "--push-to-hub", "me/dae-mnist")
    assert calls == ["me/dae-mnist", ("me/dae-mnist", ["README.md", "config.json", "loss_curve.png", "metrics.json",
                                                   "model.safetensors", "samples.png"])]


def test_the_card_names_how_much_of_the_test_set_was_measured():
    """An --eval-limit past the end of the test set measures all of it: the card said "first 999999"."""
    assert train_dae.measured_set_name(200, 10_000) == "MNIST test (first 200)"
    assert train_dae.measured_set_name(10_000, 10_000) == "MNIST test (10,000 digits)"


@pytest.mark.parametrize("device", ["cpu", pytest.param("auto", marks=pytest.mark.skipif(
    torch.cuda.is_available(), reason="auto picks the GPU here: two processes on it need a GPU each"))])
def test_two_process_data_parallel_run_through_torchrun(tmp_path, data_root, device):
    """The same script under an existing launcher: two CPU processes with gloo DDP, one checkpoint. Five batches of 64
    split as two per process (the fifth is dropped): the one-cycle schedule was sized for five, so it never ended.
    With --device auto (the default) on a machine without a GPU the two processes trained apart, on the same folders,
    and one failed on the other's half-written state."""
    out = tmp_path / "ddp" / "out"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
               "training/train_dae.py", *SMOKE, "--limit-train", "320", "--epochs", "1", "--device", device,
               "--data-root", str(data_root), "--run-dir", str(tmp_path / "ddp" / "run"), "--output-dir", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert "2 process(es)" in metrics["hardware"] and metrics["command"].startswith("torchrun --nproc_per_node=2 training/train_dae.py ")
    assert "batch 64 per process × 2 processes (128 in all)" in (out / "README.md").read_text()
    schedule = torch.load(tmp_path / "ddp" / "run" / "state" / "scheduler.bin", weights_only=True)
    assert schedule["total_steps"] == schedule["last_epoch"] == 4  # 2 steps, each counted once per process


@pytest.mark.parametrize("flag, value", [("--epochs", "0"), ("--batch-size", "0"), ("--limit-train", "0"),
                                         ("--seed", "-1"), ("--seed", str(2**32)), ("--width", "-4"),
                                         ("--lr", "-1"), ("--lr", "nan"), ("--push-to-hub", "bad repo name!!"),
                                         ("--push-to-hub", "a/b/c")])
def test_impossible_flags_are_refused_with_a_usage_message(flag, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_dae.parse_args([flag, value])
    assert exit_info.value.code == 2 and f"argument {flag}" in capsys.readouterr().err


@pytest.mark.parametrize("script, flag, value", [
    ("train_photo_denoiser", "--sigma-weight-power", "nan"), ("train_cgan", "--gp-weight", "nan"),
    ("train_text2img", "--r1", "nan"), ("train_text2img", "--r1", "-1"), ("train_text2img", "--l1-weight", "-1e6"),
    ("train_text2img", "--ema-decay", "1.5"), ("train_text2img", "--text-weight-decay", "inf")])
def test_loss_weights_and_decays_out_of_range_are_usage_errors(script, flag, value, capsys):
    """Such values trained to a NaN loss and published it, or failed with a traceback after the data was built."""
    with pytest.raises(SystemExit) as exit_info:
        import_module(f"training.{script}").parse_args([flag, value])
    assert exit_info.value.code == 2 and f"argument {flag}" in capsys.readouterr().err


def test_a_batch_larger_than_the_training_set_is_refused_before_training(tmp_path, data_root):
    with pytest.raises(SystemExit, match="256 training examples make no full batch of 512"):
        run(tmp_path, "big-batch", "--epochs", "1", "--data-root", str(data_root), "--batch-size", "512")


def test_resume_with_other_flags_is_refused_naming_them(tmp_path, data_root):
    run(tmp_path, "a", "--epochs", "1", "--data-root", str(data_root))
    with pytest.raises(SystemExit, match=r"epochs: 1 then, 2 now; lr: 0\.002 then, 0\.005 now\)\. Resume with the same"):
        run(tmp_path, "a", "--epochs", "2", "--lr", "0.005", "--resume", "--data-root", str(data_root))


def test_resume_refuses_a_setting_that_only_one_of_the_two_runs_has(tmp_path):
    """A flag added (or dropped) since the saved run counts as a change, whichever side has it; so does another
    script's run, which "Resume with the same flags" could not."""
    state = tmp_path / "state"
    state.mkdir()
    (state / "history.json").write_text("{}")
    (state / loop.SETTINGS_FILE).write_text(json.dumps({"epochs": 2, "width": 8}))
    loop.check_resumable(state, {"epochs": 2, "width": 8})  # the same settings resume
    with pytest.raises(SystemExit, match=r"width: 8 then, None now\)\. A setting only one of the two has means another "
                                         "script's run, or one saved before this script changed"):
        loop.check_resumable(state, {"epochs": 2})
    with pytest.raises(SystemExit, match="depth: None then, 3 now"):
        loop.check_resumable(state, {"epochs": 2, "width": 8, "depth": 3})


def test_a_cards_snippet_is_pointed_at_the_checkpoint_it_describes(tmp_path):
    """Every snippet loads pretrained/<name>; the card of a run written elsewhere (the VAE's: "pretrained/model", a
    folder that is not there) sent its reader to the shipped model instead of the one it describes."""
    snippet = '```python\nmodel = load_model(DenoisingAutoencoder, "pretrained/dae-mnist", train_command="x")\n```'
    assert "written to" not in use_section(snippet, PROJECT_ROOT / "pretrained" / "dae-mnist")
    for output_dir, shown in ((tmp_path / "model", tmp_path / "model"), (PROJECT_ROOT / "runs" / "stage5" / "model",
                                                                         "runs/stage5/model")):
        assert (f"This checkpoint was written to `{shown}`: give that folder (or the Hub repo it was pushed to) to "
                "`load_model` in place of `pretrained/dae-mnist`, the gallery's own.") in use_section(snippet, output_dir)
    vae = import_module("training.train_vae")
    args = vae.parse_args(["--latent-dim", "2", "--output-dir", str(tmp_path / "model")])
    assert vae.default_name(args) == "vae-mnist-z2" and vae.parse_args(["--latent-dim", "2"]).output_dir.name == "vae-mnist-z2"


def test_durations_are_seconds_below_a_minute_and_minutes_from_one():
    assert [format_minutes(s) for s in (59, 60, 90, 4278.9)] == ["59 s", "1.0 min", "1.5 min", "71.3 min"]


def test_a_new_run_replaces_the_earlier_runs_state_and_samples(tmp_path, data_root):
    run(tmp_path, "a", "--epochs", "2", "--data-root", str(data_root))
    out = run(tmp_path, "a", "--epochs", "1", "--data-root", str(data_root), "--seed", "1")
    samples = tmp_path / "a" / "run" / "samples"
    assert sorted(p.name for p in samples.iterdir()) == ["epoch_001.png"]
    assert (out / "samples.png").read_bytes() == (samples / "epoch_001.png").read_bytes()
    saved = json.loads((tmp_path / "a" / "run" / "state" / "history.json").read_text())
    assert len(saved["epoch_train_loss"]) == 1


def test_the_card_states_the_digits_trained_on_and_a_launchers_command_and_batch(tmp_path, data_root):
    out = run(tmp_path, "a", "--epochs", "1", "--data-root", str(data_root))
    assert "MNIST train, first 256 digits" in (out / "README.md").read_text()
    assert json.loads((out / "metrics.json").read_text())["processes"] == 1
    assert command_line(train_dae.__file__, ["--epochs", "3"], processes=4) == \
        "torchrun --nproc_per_node=4 training/train_dae.py --epochs 3"
    assert script_arguments("torchrun --nproc_per_node=4 training/train_dae.py --epochs 3 --run-dir 'a b'") == \
        ["--epochs", "3", "--run-dir", "a b"]
    args = train_dae.parse_args(["--batch-size", "64"])
    assert batch_words({"processes": 1}, args) == "batch 64"
    assert batch_words({"processes": 4}, args) == "batch 64 per process × 4 processes (256 in all)"


def test_a_failed_push_keeps_the_checkpoint_and_exits_with_status_1(tmp_path, data_root, monkeypatch, capsys, logged_in):
    def offline(self, repo_id, **kw):
        raise ConnectionError("no network")

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", offline)
    with pytest.raises(SystemExit) as exit_info:
        run(tmp_path, "push", "--epochs", "1", "--data-root", str(data_root), "--push-to-hub", "me/dae-mnist")
    out = tmp_path / "push" / "out"
    printed = capsys.readouterr().out
    assert exit_info.value.code == 1 and "no network" in printed and f"upload it later with: hf upload me/dae-mnist {out}" in printed
    assert (out / "model.safetensors").exists()


@pytest.fixture
def logged_in(monkeypatch):
    """As on a machine with a Hub login: the suite runs in offline mode, with no token."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: "hf_a_token")
    monkeypatch.setattr(huggingface_hub.HfApi, "whoami", lambda self, *args, **kwargs: {"name": "me"})


def refused_token(self, *args, **kwargs):
    response = httpx.Response(401, request=httpx.Request("GET", "https://huggingface.co/api/whoami-v2"))
    raise huggingface_hub.errors.HfHubHTTPError("401 Client Error: Unauthorized\nInvalid credentials", response=response)


@pytest.mark.parametrize("offline, token, whoami, problem", [
    (False, None, None, "no Hugging Face token: log in with `hf auth login` or set HF_TOKEN"),
    (True, "hf_a_token", None, "HF_HUB_OFFLINE is set, so nothing can be uploaded: unset it"),
    (False, "hf_a_token", refused_token, "the Hub refuses the token (401 Client Error: Unauthorized)")])
def test_push_to_hub_that_would_surely_fail_is_refused_before_training(tmp_path, data_root, monkeypatch, offline, token,
                                                                        whoami, problem):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", offline)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: token)
    if whoami:
        monkeypatch.setattr(huggingface_hub.HfApi, "whoami", whoami)
    with pytest.raises(SystemExit, match=re.escape(f"--push-to-hub me/dae-mnist: the upload after training would fail "
                                                   f"({problem}")):
        run(tmp_path, "login", "--epochs", "1", "--data-root", str(data_root), "--push-to-hub", "me/dae-mnist")
    assert not (tmp_path / "login").exists()


def test_a_hub_that_cannot_be_asked_about_the_token_is_a_note_not_a_refusal(monkeypatch, capsys):
    """Only a 401/403 stops a run: a network error or a rate limit could stop one process of a data-parallel run and
    leave the others waiting, and huggingface_hub sets no time limit on the call."""
    def offline(self, *args, **kwargs):
        raise httpx.ConnectError("[Errno -2] Name or service not known")

    monkeypatch.setattr(huggingface_hub.HfApi, "whoami", offline)
    assert token_refused() is None
    assert "note: the Hub could not be asked whether it accepts the token (ConnectError: [Errno -2]" in capsys.readouterr().err
    monkeypatch.setattr(huggingface_hub.HfApi, "whoami", lambda self, *args, **kwargs: time.sleep(2))
    assert token_refused(timeout_s=0.1) is None
    assert "(no answer in 0.1 s)" in capsys.readouterr().err
    monkeypatch.setattr(huggingface_hub.HfApi, "whoami", refused_token)
    assert token_refused().startswith("the Hub refuses the token (401 Client Error")


def test_resume_on_a_finished_run_publishes_it_again_without_calling_it_resumed(tmp_path, data_root, capsys):
    out = run(tmp_path, "done", "--epochs", "1", "--data-root", str(data_root))
    weights = (out / "model.safetensors").read_bytes()
    (out / "model.safetensors").unlink()
    run(tmp_path, "done", "--epochs", "1", "--data-root", str(data_root), "--resume")
    assert "the run's 1 epoch(s) are done: measuring and publishing it again" in capsys.readouterr().out
    assert (out / "model.safetensors").read_bytes() == weights
    assert not json.loads((out / "metrics.json").read_text())["resumed"] and "Resumed" not in (out / "README.md").read_text()


def test_resume_notes_the_project_modules_that_changed_since_the_run_was_saved(tmp_path, data_root, capsys):
    run(tmp_path, "code", "--epochs", "1", "--data-root", str(data_root))
    code_file = tmp_path / "code" / "run" / loop.STATE / loop.CODE_FILE
    code = json.loads(code_file.read_text())
    assert {"training/loop.py", "training/train_dae.py", "generative/models/dae.py"} <= code.keys()
    assert not any(name.startswith(".venv") or name.startswith("tests") for name in code)
    run(tmp_path, "code", "--epochs", "1", "--data-root", str(data_root), "--resume")
    assert "code changed" not in capsys.readouterr().out  # the same code: no note
    code_file.write_text(json.dumps(code | {"generative/models/dae.py": "0" * 16, "training/gone.py": "1" * 16}))
    run(tmp_path, "code", "--epochs", "1", "--data-root", str(data_root), "--resume")
    assert ("--resume: note: the project's code changed since this run was saved (generative/models/dae.py, "
            "training/gone.py); what runs from here on is the code as it is now") in capsys.readouterr().out


def test_missing_data_ends_with_its_message_not_a_traceback(tmp_path):
    result = subprocess.run([sys.executable, "training/train_dae.py", "--data-root", str(tmp_path), "--run-dir",
                             str(tmp_path / "run"), "--output-dir", str(tmp_path / "out")],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {tmp_path}/MNIST/raw lacks train-images-idx3-ubyte.gz, ")


def test_a_dataset_cache_that_cannot_be_written_ends_with_its_message_not_a_traceback(tmp_path, data_root, monkeypatch):
    """Under a file (a mistaken GALLERY_CACHE_DIR), and read-only (the default <project>/.cache of a read-only
    checkout, as the file system refuses it): the scripts ended in an OSError's traceback."""
    (tmp_path / "a-file").write_text("")
    env = {**os.environ, "GALLERY_CACHE_DIR": str(tmp_path / "a-file" / "cache")}
    result = subprocess.run([sys.executable, "training/train_dae.py", "--data-root", str(data_root), "--run-dir",
                             str(tmp_path / "run"), "--output-dir", str(tmp_path / "out")],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: the dataset cache {tmp_path}/a-file/cache/datasets cannot be written (Not a "
                                    "directory): datasets are unpacked there, so point GALLERY_CACHE_DIR at a folder")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(CacheNotWritable, match="cannot be written \\(Read-only file system\\)"):
        load_mnist("test", data_root)


def test_a_data_root_missing_some_archives_names_them_instead_of_downloading(tmp_path, data_root, monkeypatch):
    """torchvision would try to download a missing archive: offline, a network traceback instead of the file's name."""
    raw = tmp_path / "root" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for archive in (data_root / "MNIST" / "raw").glob("train-*.gz"):
        (raw / archive.name).symlink_to(archive)
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match=r"lacks t10k-images-idx3-ubyte\.gz, t10k-labels-idx1-ubyte\.gz: "):
        load_mnist("train", tmp_path / "root")
    assert not (tmp_path / "cache" / "datasets" / "MNIST" / "raw").exists()  # refused before linking anything


# ---------------------------------------------------------------- mistakes caught before hours of training are lost

def test_an_unusable_output_folder_is_refused_when_the_flags_are_read(tmp_path, monkeypatch, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    for folder in (a_file, a_file / "sub"):
        with pytest.raises(SystemExit) as exit_info:
            train_dae.parse_args(["--output-dir", str(folder)])
        assert exit_info.value.code == 2 and f"{a_file} is a file, not a folder" in capsys.readouterr().err
    # /proc takes no new file, whoever asks: its permission bits let root in, so /proc and /sys passed an os.access
    # check, and the run failed once its training was done
    with pytest.raises(SystemExit):
        train_dae.parse_args(["--run-dir", "/proc/gallery-test/run"])
    assert "/proc cannot be written to (" in capsys.readouterr().err
    with monkeypatch.context() as patch:  # a read-only disk
        patch.setattr(tempfile, "TemporaryFile", lambda dir: (_ for _ in ()).throw(OSError(errno.EROFS, "Read-only file system")))
        with pytest.raises(SystemExit):
            train_dae.parse_args(["--run-dir", str(tmp_path / "new" / "run")])
    assert f"{tmp_path} cannot be written to (read-only file system)" in capsys.readouterr().err
    assert train_dae.parse_args(["--output-dir", str(tmp_path / "new" / "out")]).output_dir == tmp_path / "new" / "out"
    assert not (tmp_path / "new").exists()  # checked, not made


@pytest.mark.parametrize("run_dir, output_dir", [("x", "x"), ("x/run", "x")])
def test_a_run_folder_inside_the_checkpoint_folder_is_refused_before_training(tmp_path, data_root, run_dir, output_dir):
    """It would publish (and push) the resume state with the checkpoint. The reverse, the photo denoiser's
    ``--output-dir runs/stageN/model --run-dir runs/stageN``, is fine (below)."""
    with pytest.raises(SystemExit, match="is inside --output-dir .*: the checkpoint folder"):
        train_dae.main([*SMOKE, "--epochs", "1", "--data-root", str(data_root), "--run-dir", str(tmp_path / run_dir),
                        "--output-dir", str(tmp_path / output_dir)])
    assert not (tmp_path / "x").exists()  # refused before the run wrote anything


def test_a_folder_of_other_files_is_refused_as_the_checkpoint_folder_before_training_and_left_as_it_was(tmp_path):
    """Publishing writes the card over README.md and deletes .safetensors files it does not write: a user's folder lost
    its notes and its own tensors (``--output-dir .`` would overwrite the project's README). An earlier checkpoint's
    folder is replaced, as a run into pretrained/ must be."""
    mine = tmp_path / "mine"
    mine.mkdir()
    files = {"README.md": "# my notes", "metrics.json": "{}", "my_data.safetensors": "tensors"}
    for name, text in files.items():
        (mine / name).write_text(text)
    with pytest.raises(SystemExit, match=rf"--output-dir {mine}: it holds README.md, metrics.json, my_data.safetensors but "
                                         r"no checkpoint \(config.json, model.safetensors\); a checkpoint written there"):
        tiny_fit(tmp_path, squared_output, "--output-dir", str(mine))
    assert {path.name: path.read_text() for path in mine.iterdir()} == files
    assert not (tmp_path / "run").exists()  # refused before the run wrote anything
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    for name in ("config.json", "README.md", "metrics.json"):
        (earlier / name).write_text("{}")
    tiny_fit(tmp_path, squared_output, "--output-dir", str(earlier))  # trained: publishing will replace it


@pytest.mark.parametrize("launcher", ["python", "torchrun --nproc_per_node=2"])
def test_another_scripts_checkpoint_is_refused_as_the_checkpoint_folder_before_training(tmp_path, data_root, launcher):
    """config.json does not name the model's class: a denoiser trained with --output-dir pretrained/cgan-mnist replaced
    the shipped cGAN, saying only "replacing the earlier checkpoint". The earlier run's command names its script."""
    cgan = tmp_path / "cgan"
    cgan.mkdir()
    files = {"config.json": "{}", "model.safetensors": "weights",
             "metrics.json": json.dumps({"command": f"{launcher} training/train_cgan.py --epochs 50"})}
    for name, text in files.items():
        (cgan / name).write_text(text)
    with pytest.raises(SystemExit, match=rf"--output-dir {cgan}: it holds a checkpoint that training/train_cgan.py wrote "
                                         r"\(its metrics.json says so\), which a train_dae.py run would replace"):
        train_dae.main([*SMOKE, "--epochs", "1", "--data-root", str(data_root), "--run-dir", str(tmp_path / "run"),
                        "--output-dir", str(cgan)])
    assert {path.name: path.read_text() for path in cgan.iterdir()} == files
    assert not (tmp_path / "run").exists()  # refused before the run wrote anything


def test_a_checkpoint_of_the_same_script_or_without_a_record_of_its_run_is_not_refused(tmp_path):
    """The guard above lets these through, so that publishing replaces them (``fit`` would raise SystemExit before
    training otherwise). tiny_fit's model is built in this file, so this file is the "script" whose checkpoint it is."""
    for folder, metrics in [("same", {"command": f"python {Path(__file__).relative_to(PROJECT_ROOT)} --epochs 2"}),
                            ("unrecorded", {}), ("unreadable", None)]:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "config.json").write_text("{}")
        (tmp_path / folder / "metrics.json").write_text("not json" if metrics is None else json.dumps(metrics))
        _, history, _ = tiny_fit(tmp_path, squared_output, "--output-dir", str(tmp_path / folder))
        assert history.epochs_done == 2, folder  # trained: publishing would replace the checkpoint


def test_a_checkpoint_folder_inside_the_run_folder_trains(tmp_path):
    tiny_fit(tmp_path, squared_output, "--output-dir", str(tmp_path / "run" / "model"))
    assert (tmp_path / "run" / loop.STATE).is_dir()


def test_a_default_folder_that_cannot_be_written_is_refused_before_training(tmp_path):
    """argparse checks only typed values; a default (pretrained/…, runs/…) is checked when the run starts."""
    (tmp_path / "a_file").write_text("x")
    args = train_dae.parse_args(["--run-dir", str(tmp_path / "run"), "--device", "cpu", "--batch-size", "4"])
    args.output_dir = tmp_path / "a_file" / "out"  # as a default would be: never seen by the argparse type
    with pytest.raises(SystemExit, match=f"--output-dir {tmp_path / 'a_file' / 'out'}: {tmp_path / 'a_file'} is a file"):
        loop.fit(lambda: torch.nn.Linear(3, 3), torch.utils.data.TensorDataset(torch.randn(8, 3)), squared_output, args,
                 sample_fn=lambda model: torch.zeros(1, 1, 4, 4), sample_nrow=1)
    assert not (tmp_path / "run").exists()


def tiny_fit(tmp_path, loss_fn, *flags, model=None, run_files=()):
    """``fit`` on 8 random vectors, batches of 4 (2 steps an epoch), 2 epochs, with ``loss_fn(model, batch, step)``."""
    args = train_dae.parse_args(["--epochs", "2", "--batch-size", "4", "--run-dir", str(tmp_path / "run"),
                                 "--output-dir", str(tmp_path / "out"), "--device", "cpu", *flags])
    steps = []

    def loss(model, batch, generator):
        steps.append(1)
        return loss_fn(model, batch, len(steps))
    model = model or torch.nn.Linear(3, 3)
    return loop.fit(lambda: model, torch.utils.data.TensorDataset(torch.randn(8, 3)), loss, args,
                    sample_fn=lambda model: torch.zeros(1, 1, 4, 4), sample_nrow=1, run_files=run_files)


def squared_output(model, batch, step):
    return model(batch[0]).pow(2).mean()


def drawing_fit(run_dir, *flags, stop_at_step=None, global_draws=None):
    """``fit`` as ``tiny_fit`` runs it (2 epochs of 2 steps), but of a ``Linear(3, 3)`` built inside ``fit`` (after it
    seeds) on 8 vectors that are the same in every call, so that two runs differ only in what ``--seed`` seeds.
    Each step draws a number from the generator ``fit`` hands it; ``stop_at_step`` interrupts that step (Ctrl-C).

    Returns the initial weights, the final weights and the numbers drawn, one per step, in order. Given a list,
    ``global_draws`` also collects a number per step from torch's global generator, the one dropout draws from."""
    args = train_dae.parse_args(["--epochs", "2", "--batch-size", "4", "--run-dir", str(run_dir / "run"),
                                 "--output-dir", str(run_dir / "out"), "--device", "cpu", *flags])
    initial, draws = [], []

    def build():
        model = torch.nn.Linear(3, 3)
        initial.append(torch.cat([p.detach().clone().flatten() for p in model.parameters()]))
        return model

    def loss(model, batch, generator):
        if len(draws) + 1 == stop_at_step:
            raise KeyboardInterrupt
        draws.append(torch.rand((), generator=generator).item())
        if global_draws is not None:
            global_draws.append(torch.rand(()).item())
        return model(batch[0]).pow(2).mean()
    data = torch.utils.data.TensorDataset(torch.arange(24, dtype=torch.float32).view(8, 3) / 24)
    model, _, _ = loop.fit(build, data, loss, args, sample_fn=lambda model: torch.zeros(1, 1, 4, 4), sample_nrow=1)
    return initial[0], torch.cat([p.detach().flatten() for p in model.parameters()]), draws


def test_the_seed_sets_the_initial_weights_and_a_run_repeats_exactly_at_the_same_seed(tmp_path):
    """``fit`` seeds with ``--seed`` before it builds the model: a seed that did nothing (every run seeded alike) gave
    every seed the same initial weights, and the card's ``--seed`` reproduced nothing of its own."""
    first_7, final_7, _ = drawing_fit(tmp_path / "a", "--seed", "7")
    again_7, again_final_7, _ = drawing_fit(tmp_path / "b", "--seed", "7")
    first_8, final_8, _ = drawing_fit(tmp_path / "c", "--seed", "8")
    assert torch.equal(first_7, again_7) and torch.equal(final_7, again_final_7)
    assert not torch.equal(first_7, first_8) and not torch.equal(final_7, final_8)


def test_each_epoch_draws_its_own_noise_and_a_resumed_epoch_draws_the_unbroken_runs(tmp_path):
    """The step generator is re-seeded per epoch (so that a resumed run draws what an unbroken one does): from the
    seed alone it would hand every epoch the first epoch's noise over again."""
    _, unbroken, draws = drawing_fit(tmp_path / "a", "--seed", "7")
    assert len(draws) == 4 and len(set(draws)) == 4  # epoch 2's two draws are not epoch 1's two again
    assert drawing_fit(tmp_path / "b", "--seed", "7")[2] == draws
    assert not set(drawing_fit(tmp_path / "c", "--seed", "8")[2]) & set(draws)

    with pytest.raises(KeyboardInterrupt):  # at the first step of epoch 2: epoch 1 is saved
        drawing_fit(tmp_path / "resumed", "--seed", "7", stop_at_step=3)
    _, final, resumed_draws = drawing_fit(tmp_path / "resumed", "--seed", "7", "--resume")
    assert resumed_draws == draws[2:]
    assert torch.allclose(final, unbroken, atol=1e-6)


def test_a_loss_that_turns_nan_stops_the_run_before_anything_is_published(tmp_path):
    def nan_in_epoch_2(model, batch, step):
        return squared_output(model, batch, step) * (float("nan") if step == 3 else 1)
    with pytest.raises(SystemExit, match=r"the loss became nan in epoch 2, step 1: training diverged, and nothing is "
                                         r"published \(1 of 2 epochs are saved in"):
        tiny_fit(tmp_path, nan_in_epoch_2)


def test_a_nan_in_any_number_a_step_reports_stops_the_run(tmp_path):
    """A GAN's "loss" is D's; a NaN in G's loss changes G's weights just the same."""
    class NaNGenerator(loop.Objective):
        def setup(self, model, accelerator, args, total_steps):
            pass

        def step(self, batch, generator):
            return {"loss": torch.tensor(1.0), "G loss": torch.tensor(float("nan"))}
    args = train_dae.parse_args(["--epochs", "1", "--batch-size", "4", "--run-dir", str(tmp_path / "run"), "--device", "cpu",
                                 "--output-dir", str(tmp_path / "out")])
    with pytest.raises(SystemExit, match=r"the G loss became nan in epoch 1, step 1: training diverged"):
        loop.fit(lambda: torch.nn.Linear(3, 3), torch.utils.data.TensorDataset(torch.randn(8, 3)), NaNGenerator(), args,
                 sample_fn=lambda model: torch.zeros(1, 1, 4, 4), sample_nrow=1)


def test_batch_norm_with_batches_of_one_is_refused_before_training(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3))
    with pytest.raises(SystemExit, match="--batch-size 1: this model has batch norm"):
        tiny_fit(tmp_path, squared_output, "--batch-size", "1", model=model)
    tiny_fit(tmp_path, squared_output, "--batch-size", "1")  # without batch norm, batches of one train


def test_ctrl_c_says_what_is_saved_and_how_to_go_on_and_exits_with_130(tmp_path, capsys):
    def interrupt_in_epoch_2(model, batch, step):
        if step == 3:
            raise KeyboardInterrupt
        return squared_output(model, batch, step)
    with pytest.raises(KeyboardInterrupt):
        tiny_fit(tmp_path, interrupt_in_epoch_2)
    out = capsys.readouterr().out
    assert "interrupted: 1 of 2 epochs are saved in" in out and "the same command with --resume goes on from there" in out

    def interrupt_in_epoch_1(model, batch, step):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        tiny_fit(tmp_path, interrupt_in_epoch_1)
    out = capsys.readouterr().out
    assert "interrupted in the first epoch, so nothing is saved: run the same command again" in out and "--resume" not in out

    def interrupted():
        raise KeyboardInterrupt
    with pytest.raises(SystemExit) as exit_info:
        loop.run_script(interrupted)
    assert exit_info.value.code == 130


def test_the_end_of_training_says_a_stop_while_measuring_loses_nothing(tmp_path, capsys):
    """Ctrl-C in the measuring after the last epoch ends with status 130 and nothing else to say; it is said first."""
    tiny_fit(tmp_path, squared_output)
    saved = f"all 2 epochs are saved in {tmp_path / 'run'}; measuring and publishing (if stopped, the same command with --resume"
    assert saved in capsys.readouterr().out
    tiny_fit(tmp_path, squared_output, "--resume")  # a finished run, measured again: it says so in its own words
    out = capsys.readouterr().out
    assert "epoch(s) are done: measuring and publishing it again" in out and saved not in out


def test_a_scripts_lines_reach_a_log_file_as_they_are_printed(tmp_path):
    """Redirected to a file, stdout was block-buffered: the epoch lines of a running (or killed) run were missing."""
    script = "import sys; from training.loop import run_script; run_script(lambda: print(sys.stdout.line_buffering))"
    with open(tmp_path / "log", "w") as log:
        subprocess.run([sys.executable, "-c", script], stdout=log, cwd=PROJECT_ROOT, timeout=120, check=True)
    assert (tmp_path / "log").read_text() == "True\n"


DAMAGES = {  # name: (file in the saved state, its new contents; None deletes it)
    "history cut": ("history.json", lambda data: data[: len(data) // 2]),
    "settings garbled": (loop.SETTINGS_FILE, lambda data: b"{not json"),
    "settings deleted": (loop.SETTINGS_FILE, None),  # any flag passed then, another --lr or --width too
    "weights cut": ("model.safetensors", lambda data: data[: len(data) // 2]),
    "optimizer emptied": ("optimizer.bin", lambda data: b""),  # EOFError, which came out as a traceback
    "optimizer random": ("optimizer.bin", lambda data: np.random.default_rng(0).bytes(4096)),  # UnpicklingError
    "optimizer text": ("optimizer.bin", lambda data: b"e" * 64),  # KeyError: 101
    # accelerate passes over these with an info log; the run then drew other random numbers than an unbroken one
    "random states deleted": (f"{RNG_STATE_NAME}_0.pkl", None),
    "random states emptied": (f"{RNG_STATE_NAME}_0.pkl", lambda data: b""),
    "random states cut": (f"{RNG_STATE_NAME}_0.pkl", lambda data: data[: len(data) // 2]),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_saved_state_is_refused_with_a_message(tmp_path, damage):
    tiny_fit(tmp_path, squared_output, "--epochs", "1")
    file, damaged = DAMAGES[damage]
    path = tmp_path / "run" / loop.STATE / file
    if damaged is None:
        path.unlink()
    else:
        path.write_bytes(damaged(path.read_bytes()))
    with pytest.raises(SystemExit, match="--resume: .* cannot be read"):
        tiny_fit(tmp_path, squared_output, "--resume", "--epochs", "1")


def test_a_resumed_run_draws_from_torchs_global_generator_what_an_unbroken_one_does(tmp_path):
    """Dropout draws from torch's global generator, whose state the saved random states restore (accelerate passed
    over a missing file of them: a classifier resumed so ended with 211 test errors where the unbroken run had 200)."""
    unbroken, interrupted, resumed = [], [], []
    drawing_fit(tmp_path / "a", "--seed", "7", global_draws=unbroken)
    with pytest.raises(KeyboardInterrupt):  # at the first step of epoch 2: epoch 1 is saved
        drawing_fit(tmp_path / "resumed", "--seed", "7", stop_at_step=3, global_draws=interrupted)
    drawing_fit(tmp_path / "resumed", "--seed", "7", "--resume", global_draws=resumed)
    assert len(unbroken) == 4 and interrupted + resumed == unbroken


def test_a_scripts_own_run_files_go_when_a_new_run_starts_not_when_one_is_refused(tmp_path, monkeypatch):
    """train_text2img keeps its best epoch beside the state: a run refused before it starts (here for --push-to-hub
    without a token) deleted it, and the earlier run could no longer be resumed to publish it."""
    tiny_fit(tmp_path, squared_output)
    best = tmp_path / "run" / "best_epoch.safetensors"
    best.write_bytes(b"the earlier run's best epoch")
    monkeypatch.setattr(loop, "hub_login_problem", lambda: "no Hugging Face token")
    with pytest.raises(SystemExit, match="--push-to-hub me/model: the upload after training would fail"):
        tiny_fit(tmp_path, squared_output, "--push-to-hub", "me/model", run_files=(best.name,))
    assert best.exists()
    tiny_fit(tmp_path, squared_output, "--resume", run_files=(best.name,))
    assert best.exists()
    tiny_fit(tmp_path, squared_output, run_files=(best.name,))
    assert not best.exists()


def test_publishing_over_a_checkpoint_removes_its_weights_files_that_the_new_one_lacks(tmp_path, capsys):
    """A 16-d VAE written where a 2-d one was kept the 2-d test encodings beside it, and --push-to-hub uploaded them."""
    out, run_dir = tmp_path / "out", tmp_path / "run"
    (run_dir / "samples").mkdir(parents=True)
    for picture in (run_dir / "loss_curve.png", run_dir / "samples" / "epoch_001.png"):
        picture.write_bytes(b"png")
    args = SimpleNamespace(output_dir=out, run_dir=run_dir, push_to_hub=None)
    model = DenoisingAutoencoder(width=4, code_dim=8)
    publish(model, args, card="first", metrics={}, tensors={"test_encodings.safetensors": {"mean": torch.zeros(3, 2)}})
    (out / "notes.txt").write_text("the user's own")
    publish(model, args, card="second", metrics={})
    assert sorted(path.name for path in out.iterdir()) == ["README.md", "config.json", "loss_curve.png", "metrics.json",
                                                            "model.safetensors", "notes.txt", "samples.png"]
    said = capsys.readouterr().out
    assert f"replacing the earlier checkpoint in {out}" in said and "removing the earlier checkpoint's test_encodings" in said


def test_a_new_run_removes_only_the_sample_grids_a_run_writes(tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    (samples / "epoch_001.png").write_bytes(b"an earlier run's grid")
    (samples / "my_generated_0001.png").write_bytes(b"the user's own file")
    loop.start_afresh(tmp_path)
    assert [p.name for p in samples.iterdir()] == ["my_generated_0001.png"]


def test_links_into_the_cache_follow_the_data_root_given_now(tmp_path):
    """A cache linked to an earlier root (since moved, or holding bad archives) must not shadow the good root."""
    archives = ["a.gz", "b.gz"]
    roots = [tmp_path / name for name in ("earlier", "now")]
    for root in roots:
        (root / "MNIST" / "raw").mkdir(parents=True)
        for archive in archives:
            (root / "MNIST" / "raw" / archive).write_text(root.name)
    cache = tmp_path / "cache"
    mnist._link_archives(roots[0], "MNIST", cache, archives)
    (roots[0] / "MNIST" / "raw" / "a.gz").unlink()  # a.gz's link now dangles; b.gz's still reads the earlier root
    mnist._link_archives(roots[1], "MNIST", cache, archives)
    assert [(cache / "MNIST" / "raw" / archive).read_text() for archive in archives] == ["now", "now"]


@pytest.mark.parametrize("output", [None, "pretrained/dae-mnist", "elsewhere/linked"])
def test_a_smoke_run_may_not_write_into_pretrained(tmp_path, data_root, monkeypatch, output):
    """The default output, a typed one (relative to the working folder), and a link into it; with a stand-in
    pretrained/, so that a broken guard cannot overwrite the shipped checkpoint."""
    for module in (loop, train_dae, hub):
        monkeypatch.setattr(module, "PRETRAINED_DIR", tmp_path / "pretrained")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pretrained" / "dae-mnist").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "linked").symlink_to(tmp_path / "pretrained" / "dae-mnist")
    shown = output or tmp_path / "pretrained" / "dae-mnist"
    with pytest.raises(SystemExit, match=re.escape(f"--limit-train 256: --output-dir {shown} "
                                                   f"is inside {tmp_path / 'pretrained'}, where the shipped checkpoints live")):
        train_dae.main([*SMOKE, "--epochs", "1", "--data-root", str(data_root), "--run-dir", str(tmp_path / "run"),
                        *(["--output-dir", output] if output else [])])
    assert not any((tmp_path / "pretrained" / "dae-mnist").iterdir()) and not (tmp_path / "run").exists()


@pytest.mark.parametrize("script", ["train_dae", "train_cgan", "train_classifier", "train_vae", "train_photo_denoiser",
                                    "train_scene_reader", "train_matcher", "train_text2img"])
def test_the_default_folders_are_the_projects_from_any_working_folder(script, tmp_path, monkeypatch):
    """pretrained/ is where the app looks; a script run from elsewhere wrote a checkpoint there that nothing loaded."""
    monkeypatch.chdir(tmp_path)
    args = import_module(f"training.{script}").parse_args([])
    assert args.run_dir.parent == PROJECT_ROOT / "runs"
    assert args.output_dir.parent == PROJECT_ROOT / "pretrained" and (args.output_dir / "config.json").exists()


@pytest.mark.parametrize("script, flag, name", [("train_cgan", "--classifier", "classifier-mnist"),
                                                ("train_text2img", "--reader", "scene-reader")])
def test_a_judge_folder_written_another_way_is_the_same_setting_for_resume(script, flag, name, monkeypatch):
    parse_args = import_module(f"training.{script}").parse_args
    monkeypatch.chdir(PROJECT_ROOT)
    monkeypatch.delenv("GALLERY_HUB_USER", raising=False)  # which would make the default a Hub repo id
    default = parse_args([]).__dict__[flag[2:]]
    for spelling in (f"pretrained/{name}/", f"./pretrained/{name}", str(PROJECT_ROOT / "pretrained" / name)):
        assert parse_args([flag, spelling]).__dict__[flag[2:]] == default, spelling
    assert parse_args([flag, "someone/judge"]).__dict__[flag[2:]] == "someone/judge"  # a Hub repo id stays one


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: checks that evaluation follows the model there")
def test_one_epoch_on_a_gpu_evaluates_and_publishes(tmp_path, data_root):
    out = run(tmp_path, "gpu", "--epochs", "1", "--data-root", str(data_root), "--device", "cuda")
    assert json.loads((out / "metrics.json").read_text())["hardware"].startswith("1 × ")


@pytest.mark.parametrize("script", sorted(path.stem for path in (PROJECT_ROOT / "training").glob("train_*.py")))
def test_help_shows_the_defaults_and_where_the_checkpoint_goes(script, capsys, monkeypatch):
    """`--help` listed --epochs, --lr and --output-dir without their values, so nobody could tell that a plain run
    writes over the shipped checkpoint in pretrained/; every flag with a value by default shows it (a help text that
    merely said "AdamW's default is 0.01" once hid the flag's own 0.5), paths as the project's, not absolute ones."""
    parsers, parse = [], argparse.ArgumentParser.parse_args

    def recording(parser, *args, **kwargs):  # the script's parser, to read its flags' defaults
        parsers.append(parser)
        return parse(parser, *args, **kwargs)
    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", recording)
    monkeypatch.setenv("COLUMNS", "10000")  # no wrapping inside a word such as text2img-shapes
    with pytest.raises(SystemExit):
        import_module(f"training.{script}").parse_args(["--help"])
    lines = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    text, lines = " ".join(lines), lines[lines.index("options:"):]  # the flags, not the docstring's example commands
    assert "--output-dir OUTPUT_DIR where the checkpoint goes" in text and "the run replaces the shipped one" in text
    assert "(default: None)" not in text and str(PROJECT_ROOT) not in text
    for action in parsers[0]._actions:  # each flag's own lines, not the whole text, where another flag's may stand in
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
            default = action.default
            if isinstance(default, (str, Path)) and Path(default).is_absolute():
                default = Path(default).relative_to(PROJECT_ROOT)
            flag = action.option_strings[0]
            [at] = [i for i, line in enumerate(lines) if line == flag or line.startswith((f"{flag} ", f"{flag},"))]
            end = next((i for i in range(at + 1, len(lines)) if lines[i].startswith("-")), len(lines))  # the next flag
            own = " ".join(lines[at:end])
            assert f"(default: {default})" in own, (script, flag, own)


def test_the_published_sample_grid_is_the_last_epochs_by_number(tmp_path):
    """Picked by name, a run of 1,000 epochs published epoch 999's grid."""
    run_dir = tmp_path / "run"
    (run_dir / "samples").mkdir(parents=True)
    (run_dir / "loss_curve.png").write_bytes(b"png")
    for epoch in (1, 999, 1000, 2):
        (run_dir / "samples" / f"epoch_{epoch:03d}.png").write_bytes(f"grid {epoch}".encode())
    assert last_sample_grid(run_dir / "samples").name == "epoch_1000.png"
    args = SimpleNamespace(output_dir=tmp_path / "out", run_dir=run_dir, push_to_hub=None)
    publish(DenoisingAutoencoder(width=4, code_dim=8), args, card="card", metrics={})
    assert (tmp_path / "out" / "samples.png").read_bytes() == b"grid 1000"


def test_mnist_gives_the_split_asked_for_with_grey_levels_from_0_to_1(data_root, mnist_test):
    """Every model trains on "train" and is measured on "test": swapped, the cards' test scores would be measured on
    the digits trained on; scaled by 256, the models would never see full white. The bundled 7 is test digit 0."""
    from input_files import SEVEN, gray_of

    images, labels = mnist_test
    assert images.shape == (10_000, 1, 28, 28) and images.dtype == torch.float32 and labels.dtype == torch.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert torch.equal((images[0, 0] * 255).round().to(torch.uint8), torch.tensor(gray_of(SEVEN))) and labels[0] == 7
    train_images, train_labels = load_mnist("train", data_root)
    assert train_images.shape == (60_000, 1, 28, 28) and train_labels.shape == (60_000,)


def test_resume_compares_the_flags_that_shape_training_and_the_process_count_only():
    """Where files go and how much is measured may change on ``--resume``; the flags that shape the schedule and the
    data order may not, nor the number of processes (each holds its own share of the data order)."""
    args = train_dae.parse_args(["--epochs", "3", "--eval-limit", "64", "--device", "cpu", "--run-dir", "/tmp/a"])
    moved = train_dae.parse_args(["--epochs", "3", "--eval-limit", "500", "--device", "auto", "--run-dir", "/tmp/b",
                                  "--output-dir", "/tmp/c", "--resume"])
    settings = loop.training_settings(args, 1)
    assert settings == loop.training_settings(moved, 1)
    assert settings["processes"] == 1 and settings["epochs"] == 3 and not loop.RESUME_MAY_CHANGE & settings.keys()
    assert loop.training_settings(args, 2)["processes"] == 2


def test_the_bounds_of_number_flags_are_the_ones_their_help_states():
    """0 is a learning rate (it keeps the weights), not a noise scale; a decay must stay below 1; the largest seed numpy
    takes is a seed."""
    assert loop.non_negative_float("0") == 0.0 and loop.fraction("0") == 0.0 and loop.fraction("0.999") == 0.999
    assert loop.seed_int(str(loop.MAX_SEED)) == loop.MAX_SEED and loop.positive_float("1e-9") == 1e-9
    for parse, text in ((loop.positive_float, "0"), (loop.fraction, "1"), (loop.seed_int, str(loop.MAX_SEED + 1)),
                        (loop.non_negative_float, "-1e-9"), (loop.positive_int, "0"), (loop.non_negative_int, "-1")):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(text)


def test_resume_names_five_changed_modules_and_counts_the_rest(tmp_path):
    (tmp_path / loop.CODE_FILE).write_text(json.dumps({f"generative/gone_{i}.py": "0" * 16 for i in range(7)}))
    assert loop.changed_code(tmp_path) == ", ".join(f"generative/gone_{i}.py" for i in range(5)) + " and 2 more"
    (tmp_path / loop.CODE_FILE).write_text(json.dumps({"training/loop.py": loop.file_hash(PROJECT_ROOT / "training/loop.py")}))
    assert loop.changed_code(tmp_path) == ""


def test_the_loss_curve_is_drawn_on_a_log_scale_only_when_every_plotted_loss_is_positive(tmp_path, monkeypatch):
    """A held-out number at or below 0 (a score, not a loss) vanishes from a log-scale plot without a word."""
    from matplotlib.figure import Figure

    scales = []
    monkeypatch.setattr(Figure, "savefig", lambda fig, path, **kw: scales.append(fig.axes[0].get_yscale()))
    positive = loop.History(step_loss=[0.5, 0.4, 0.3, 0.2], epoch_train_loss=[0.45, 0.25], epoch_eval_loss=[0.4, 0.3])
    loop.save_loss_curve(positive, tmp_path / "a.png")
    loop.save_loss_curve(loop.History(**{**positive.__dict__, "epoch_eval_loss": [0.1, -0.2]}), tmp_path / "b.png")
    loop.save_loss_curve(loop.History(**{**positive.__dict__, "step_loss": [0.5, 0.0, 0.3, 0.2]}), tmp_path / "c.png")
    assert scales == ["log", "linear", "linear"]


def test_a_cards_front_matter_lists_its_data_tags_and_metrics_for_the_hub():
    from training.cards import card_front_matter

    assert card_front_matter(["gan"], metrics=("accuracy",)).splitlines() == [
        "---", "library_name: generative-gallery", "license: mit", "datasets:", "- mnist", "tags:", "- gan",
        "- model_hub_mixin", "- pytorch_model_hub_mixin", "metrics:", "- accuracy", "---"]
    toy_world = card_front_matter(["text-to-image"], datasets=())
    assert "datasets:" not in toy_world and "metrics:" not in toy_world and toy_world.endswith("- pytorch_model_hub_mixin\n---")


def test_the_run_record_quotes_the_last_epochs_losses_and_a_command_without_resume():
    """The card's "final" losses are the last epoch's, the checkpoint's own, not the first epoch's."""
    from training.cards import run_record

    history = loop.History(step_loss=[0.7, 0.5, 0.3, 0.2], epoch_train_loss=[0.6, 0.4, 0.25], epoch_eval_loss=[0.65, 0.45, 0.3],
                           seconds=75.04, train_examples=256)
    cpu = SimpleNamespace(num_processes=1, device=torch.device("cpu"))
    record = run_record(torch.nn.Linear(3, 2), history, cpu, SimpleNamespace(epochs=3), str(PROJECT_ROOT / "training/train_dae.py"),
                        ["--epochs", "3", "--resume"])
    assert (record["final_train_loss"], record["final_held_out_loss"]) == (0.25, 0.3)
    assert record["held_out_loss_per_epoch"] == [0.65, 0.45, 0.3] and record["train_loss_per_epoch"] == [0.6, 0.4, 0.25]
    assert (record["parameters"], record["train_examples"], record["train_seconds"]) == (8, 256, 75.0)
    assert record["command"] == "python training/train_dae.py --epochs 3"
    unmeasured = run_record(torch.nn.Linear(3, 2), loop.History(epoch_train_loss=[0.5]), cpu, SimpleNamespace(epochs=1),
                            str(PROJECT_ROOT / "training/train_dae.py"), [])
    assert unmeasured["final_held_out_loss"] is None and unmeasured["held_out_loss_per_epoch"] is None
