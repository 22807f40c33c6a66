"""The benchmarks' command lines: expected errors end with a message as the training scripts' do, not a traceback, and
the quick checks their docstrings quote write to /tmp, never over the results the README quotes."""
import ast
import json
import runpy
import shlex
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest
import torch

from benchmarks import (cgan_quality, denoise_quality, denoise_speed, fid_agreement, minimal_app, photo_denoise_quality,
                        text2img_blends, text2img_generator_probe, text2img_quality, text2img_text_weight_decay, vae_quality)
from benchmarks.common import RESULTS_DIR
from generative.provenance import PROJECT_ROOT

BENCHMARKS = PROJECT_ROOT / "benchmarks"


def run_as_script(monkeypatch, script: str, *flags: str) -> SystemExit:
    """``python benchmarks/<script> <flags>``, in this process (no second torch import): the SystemExit it ends with."""
    monkeypatch.setattr(sys, "argv", [script, *flags])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(BENCHMARKS / script), run_name="__main__")
    return exit_info.value


@pytest.mark.parametrize("script", ["denoise_quality.py", "cgan_quality.py", "fid_agreement.py", "vae_quality.py"])
def test_a_data_root_without_mnist_ends_with_its_message(script, tmp_path, monkeypatch):
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(tmp_path / "cache"))
    ended = run_as_script(monkeypatch, script, "--data-root", str(tmp_path), "--out-dir", str(tmp_path / "out"),
                          *(["--no-cards"] if script == "vae_quality.py" else []))
    assert str(ended.code).startswith(f"error: {tmp_path}/MNIST/raw ")  # missing, or lacking its archives
    assert not (tmp_path / "out").exists()


def test_the_photo_benchmark_without_a_data_root_says_where_the_sets_come_from(tmp_path, monkeypatch):
    monkeypatch.delenv("GALLERY_DATA_ROOT", raising=False)
    ended = run_as_script(monkeypatch, "photo_denoise_quality.py", "--out-dir", str(tmp_path))
    assert str(ended.code).startswith("error: BSD68 is not downloadable here")


@pytest.mark.parametrize("script, flags", [("photo_denoise_quality.py", ["--sets", "Set12"]),
                                           ("cgan_quality.py", []), ("text2img_quality.py", [])])
def test_a_missing_checkpoint_ends_with_how_to_train_one(script, flags, tmp_path, monkeypatch):
    (tmp_path / "denoising" / "Set12").mkdir(parents=True)
    (tmp_path / "denoising" / "Set12" / "01.png").touch()  # the set check passes; the model is what is missing
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(tmp_path))
    nope = tmp_path / "nope"
    ended = run_as_script(monkeypatch, script, "--model", str(nope), "--out-dir", str(tmp_path / "out"), *flags)
    assert str(ended.code).startswith(f"error: No checkpoint at {nope}")
    assert f"Train one into it, adding `--output-dir {nope}` to: python training/" in ended.code  # not into pretrained/


def test_the_exit_is_the_training_scripts_one_status_1_and_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "benchmarks/text2img_quality.py", "--model", str(tmp_path / "nope"),
                             "--out-dir", str(tmp_path)], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: No checkpoint at {tmp_path / 'nope'}")


@pytest.mark.parametrize("parse_args, flags, message", [
    (photo_denoise_quality.parse_args, ["--sets", "FOO"], "invalid choice: 'FOO'"),
    (photo_denoise_quality.parse_args, ["--color-bm3d", "BSD68"], "invalid choice: 'BSD68'"),
    (cgan_quality.parse_args, ["--compare", "foo"], "expected NAME=FOLDER, got 'foo'"),
    (cgan_quality.parse_args, ["--compare", "=runs/x"], "expected NAME=FOLDER, got '=runs/x'"),
    (photo_denoise_quality.parse_args, ["--limit", "0"], "must be at least 1"),
    (photo_denoise_quality.parse_args, ["--out-dir", __file__], "is a file, not a folder"),
    (denoise_quality.parse_args, ["--limit", "-5"], "must be at least 1"),
    (text2img_quality.parse_args, ["--count", "99"], "--count must be at least 100"),
    (text2img_quality.parse_args, ["--fid-count", "1"], "--fid-count must be at least 2"),
    (vae_quality.parse_args, ["--steps", "1"], "--steps must be at least 2"),
    (vae_quality.parse_args, ["--iwae-images", "20000"], "--iwae-images must be at most 10,000"),
    (cgan_quality.parse_args, ["--truncation", "0.5", "0"], "argument --truncation: must be a number > 0, got 0"),
    (denoise_speed.parse_args, ["--cold-timeout", "0"], "argument --cold-timeout: must be a number > 0, got 0"),
    (text2img_generator_probe.parse_args, ["--lr", "-0.001"], "argument --lr: must be a number ≥ 0"),
    (text2img_text_weight_decay.parse_args, ["--weight-decays", "0.01", "-1"], "argument --weight-decays: must be a number ≥ 0"),
    (text2img_blends.parse_args, ["--steps", "1"], "--steps must be at least 2, a blend's two captions, got 1"),
    (denoise_quality.parse_args, ["--val-n", "5001"], "--val-n must be at most 5,000, the training digits the autoencoder "
                                                      "held out, got 5,001"),
    (minimal_app.parse_args, ["--port", "99999"], "argument --port: must be from 1 to 65535, got 99999"),
], ids=["photo --sets", "photo --color-bm3d", "cgan --compare, no =", "cgan --compare, no name", "photo --limit 0",
        "--out-dir a file", "dae --limit -5", "text2img --count 99", "text2img --fid-count 1", "vae --steps 1",
        "vae --iwae-images past the test set", "cgan --truncation 0", "denoise speed --cold-timeout 0", "probe --lr -0.001",
        "weight decay -1", "blends --steps 1", "dae --val-n past the held-out digits", "minimal app --port 99999"])
def test_bad_flags_are_usage_errors(parse_args, flags, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(flags)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_each_noise_scale_is_measured_once_and_1_always():
    """``--truncation 1 1`` measured scale 1 three times: three identical rows, three times the work."""
    assert cgan_quality.parse_args(["--truncation", "1", "1", "0.5", "0.5"]).truncation == [0.5]
    assert cgan_quality.parse_args([]).truncation == [0.75, 0.5]


def test_a_quick_digit_runs_verdict_says_it_is_of_its_first_digits_only():
    """A ``--limit 10`` run ended in "**Target met**." with nothing to say it was not the benchmark's verdict."""
    assert denoise_quality.target_scope({"n_test": 10}) == " (its first 10 test digits only: the target is for all 10,000)"
    assert denoise_quality.target_scope({"n_test": 10_000}) == ""
    shipped = json.loads((PROJECT_ROOT / "benchmarks/results/denoise_quality.json").read_text())
    assert "**Target met**." in denoise_quality.to_markdown(shipped)


def test_compare_runs_are_name_and_folder_pairs():
    args = cgan_quality.parse_args(["--compare", "hinge=runs/cgan-hinge/out", "ns=runs/a=b"])
    assert args.compare == [("hinge", "runs/cgan-hinge/out"), ("ns", "runs/a=b")]


def test_fid_agreement_reads_the_data_before_it_writes_the_peer_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(tmp_path / "cache"))
    assert fid_agreement.peer_cache() == tmp_path / "cache" / "fid-peers"

    def must_not_run():
        raise AssertionError("~183 MB of peer weights written for a run that cannot read its images")

    monkeypatch.setattr(fid_agreement, "prepare_peer_weights", must_not_run)
    with pytest.raises(FileNotFoundError, match="MNIST/raw"):
        fid_agreement.main(["--data-root", str(tmp_path / "empty"), "--out-dir", str(tmp_path / "out")])
    assert not (tmp_path / "cache" / "fid-peers").exists() and not (tmp_path / "out").exists()


def find_quick_checks() -> list[tuple[str, list[str]]]:
    """(script, flags) of every "# quick check" command in the benchmarks' docstrings and the README."""
    texts = [ast.get_docstring(ast.parse(path.read_text())) or "" for path in sorted(BENCHMARKS.glob("*.py"))]
    texts.append((PROJECT_ROOT / "README.md").read_text())
    lines = [line for text in texts for line in text.replace("\\\n", " ").splitlines() if "# quick check" in line]
    commands = [shlex.split(line.split("#")[0])[1:] for line in lines]
    return [(command[0], command[1:]) for command in commands]


QUICK_CHECKS = find_quick_checks()


@pytest.mark.parametrize("script, flags", QUICK_CHECKS, ids=[Path(script).stem for script, _ in QUICK_CHECKS])
def test_quick_checks_write_to_tmp_and_leave_the_model_cards_alone(script, flags):
    args = import_module(f"benchmarks.{Path(script).stem}").parse_args(flags)
    assert str(args.out_dir).startswith("/tmp/") and not args.out_dir.resolve().is_relative_to(PROJECT_ROOT)
    assert getattr(args, "data_root", "given") is not None, "MNIST cannot be downloaded here: the command needs --data-root"
    assert getattr(args, "no_cards", True), "without --no-cards it rewrites the cards in pretrained/"


def test_the_vae_results_still_go_to_benchmarks_results_by_default():
    assert vae_quality.parse_args([]).out_dir == RESULTS_DIR == PROJECT_ROOT / "benchmarks" / "results"  # where the README links
    assert len(QUICK_CHECKS) >= 9  # every quick check was found, none lost to a change of format


def typed_flags(types: set[str]) -> list[tuple[str, str, str]]:
    """(benchmark, flag, type) for every benchmark flag whose type is one of ``types`` (names, e.g. ``positive_int``)."""
    found = []
    for path in sorted(BENCHMARKS.glob("*.py")):
        for call in ast.walk(ast.parse(path.read_text())):
            if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "add_argument":
                kind = next((k.value for k in call.keywords if k.arg == "type"), None)
                if isinstance(kind, ast.Name) and kind.id in types:
                    found.append((path.stem, call.args[0].value, kind.id))
    return found


def integer_flags() -> list[tuple[str, str, str]]:
    return typed_flags({"int", "positive_int", "non_negative_int", "seed_int"})


def test_every_number_flag_has_a_range():
    """A negative learning rate or weight decay, or a time limit of 0, passed the parser and failed after minutes."""
    assert typed_flags({"float"}) == []
    assert len(typed_flags({"positive_float", "non_negative_float"})) >= 5


def test_every_integer_flag_but_the_port_has_a_range():
    """A count of 0 or below ended in a traceback (an empty median, a pool of 0 workers) or a silently empty run."""
    assert [(script, flag) for script, flag, kind in integer_flags() if kind == "int"] == [("minimal_app", "--port")]
    assert len(integer_flags()) > 30  # the scan sees the benchmarks' flags


@pytest.mark.parametrize("script, flag, kind", [row for row in integer_flags() if row[2] != "int"])
def test_an_integer_flag_out_of_range_is_a_usage_error(script, flag, kind, capsys):
    with pytest.raises(SystemExit) as exit_info:
        import_module(f"benchmarks.{script}").parse_args([flag, "-1" if kind != "positive_int" else "0"])
    assert exit_info.value.code == 2 and f"argument {flag}: must be" in capsys.readouterr().err


def test_without_bm3d_the_photo_quick_check_runs_no_cbm3d_either():
    """CBM3D on Kodak24 (about 20 s an image) took most of the one-minute quick check that said --no-bm3d."""
    assert photo_denoise_quality.parse_args([]).color_bm3d == ["Kodak24"]
    assert photo_denoise_quality.parse_args(["--no-bm3d"]).color_bm3d == []
    assert photo_denoise_quality.parse_args(["--no-bm3d", "--color-bm3d", "CBSD68"]).color_bm3d == ["CBSD68"]


@pytest.mark.parametrize("content", ['{"sets": []}', "not json", '{"date": 1, "command": 2, "hardware": 3}', "[1, 2]"])
def test_reusing_baselines_from_another_file_is_an_error_line(content, tmp_path):
    (tmp_path / "other.json").write_text(content)
    with pytest.raises(SystemExit) as ended:
        photo_denoise_quality.earlier_baselines(tmp_path / "other.json")
    assert str(ended.value.code).startswith(f"error: --reuse-baselines: {tmp_path / 'other.json'} is not a photo_denoise_quality.json (")


def test_a_quick_photo_run_says_its_goals_are_of_a_subset():
    report = {"limit": 2}
    assert photo_denoise_quality.goals_scope(report) == " (its first 2 images only: the goals are for the whole set)"
    assert photo_denoise_quality.goals_scope({"limit": None}) == photo_denoise_quality.goals_scope({}) == ""


def test_text2img_quality_needs_the_training_command_beside_the_checkpoint(tmp_path):
    """It rebuilds the training captions from metrics.json to measure only new ones; without one it said TypeError."""
    with pytest.raises(SystemExit) as ended:
        text2img_quality.training_captions(str(tmp_path))
    assert str(ended.value.code).startswith(f"error: {tmp_path} has no metrics.json with the command that trained it")


def test_a_missing_vae_is_refused_with_a_command_that_trains_one():
    assert vae_quality.train_command("vae-mnist-z2", "pretrained/vae-mnist-z2").endswith("--latent-dim 2 --epochs 30")
    assert vae_quality.train_command("nope", "/x/nope") == ("python training/train_vae.py --data-root <folder with "
                                                            "MNIST/raw> --output-dir /x/nope (and the settings it should have)")


def test_the_k_sample_bound_runs_on_a_seeded_random_subset_not_the_first_digits():
    """The first 1,000 MNIST test digits are among the 5,000 cleaner ones (NIST's training set): the 16-d VAE's
    −ELBO on them was 86.41 nats against 87.88 on all 10,000, so the bound's subset must be drawn at random."""
    subset = vae_quality.iwae_subset(10_000, 1_000, seed=0)
    assert len(set(subset.tolist())) == 1_000 and subset.tolist() == sorted(subset.tolist())
    assert 400 < int((subset < 5_000).sum()) < 600  # both halves of the test set, about equally
    assert torch.equal(subset, vae_quality.iwae_subset(10_000, 1_000, seed=0))
    assert not torch.equal(subset, vae_quality.iwae_subset(10_000, 1_000, seed=1))
    assert torch.equal(vae_quality.iwae_subset(10_000, 10_000, seed=3), torch.arange(10_000))  # all: the whole set


def test_a_digit_report_without_bm3d_does_not_say_where_it_ran():
    rows = [{"method": "noisy input"}, {"method": "DAE"}]
    assert denoise_quality.bm3d_rows({"levels": [{"rows": rows}], "n_bm3d": 0}).startswith("BM3D did not run")
    assert "where BM3D ran" in denoise_quality.bm3d_rows({"levels": [{"rows": [*rows, {"method": "BM3D"}]}], "n_bm3d": 300})


def test_too_few_training_captions_for_a_batch_are_refused_not_reported_as_zeros():
    with pytest.raises(SystemExit) as ended:
        text2img_text_weight_decay.train_and_read(0.1, list(range(10)), tokenizer=None, checks={}, epochs=1)
    assert str(ended.value.code).startswith("error: 10 training captions (those without a validation pair) make no batch")
