"""The photo denoiser's training script end to end on a few Train400 images: patches, the card, exact resume."""
import json
import math

import pytest
import torch
from safetensors.torch import load_file

from generative.hub import PRETRAINED_DIR, CheckpointError, load_model
from generative.models import PhotoDenoiser
from training import train_photo_denoiser
from training.train_photo_denoiser import random_patches

pytestmark = pytest.mark.timeout(300)


def run(tmp_path, name: str, *flags: str):
    out = tmp_path / name / "out"
    train_photo_denoiser.main(["--limit-train", "8", "--patches-per-image", "4", "--batch-size", "8", "--width", "4",
                               "--depth", "3", "--eval-limit", "1", "--run-dir", str(tmp_path / name / "run"),
                               "--output-dir", str(out), *flags])
    return out


def test_patches_are_random_crops_turned_by_the_eight_symmetries():
    image = torch.arange(36.0).view(1, 1, 6, 6)
    generator = torch.Generator().manual_seed(0)
    patches = random_patches(image.repeat(2000, 1, 1, 1), 4, generator)
    assert patches.shape == (2000, 1, 4, 4)
    assert len({tuple(p.flatten().tolist()) for p in patches}) == 3 * 3 * 8  # every position, every symmetry
    again = random_patches(image.repeat(2000, 1, 1, 1), 4, torch.Generator().manual_seed(0))
    assert torch.equal(patches, again)


def denoising_loss(power: str, model, images: torch.Tensor) -> float:
    args = train_photo_denoiser.parse_args(["--device", "cpu", "--no-bf16", "--patch-size", "8", "--sigma-weight-power", power])
    loss = train_photo_denoiser.make_denoising_loss(images, args)
    return loss(model, (torch.arange(len(images)).repeat(1000),), torch.Generator().manual_seed(0)).item()


def test_sigma_weighting_counts_low_noise_patches_more_and_keeps_the_loss_scale():
    images = torch.rand(4, 1, 16, 16)
    # Returning the noisy input leaves an error of σ² per pixel, σ uniform in [0, 55]: the plain mean is 55²/3, the mean
    # weighted by 1 / (σ + 5) is ∫σ²/(σ + 5) / ∫1/(σ + 5) = (55²/2 − 275 + 25 ln 12) / ln 12, 0.52 of it.
    unweighted, weighted = (denoising_loss(p, torch.nn.Identity(), images) for p in ("0", "1"))
    assert unweighted * 255 ** 2 == pytest.approx(55 ** 2 / 3, rel=0.05)
    assert weighted / unweighted == pytest.approx((55 ** 2 / 2 - 275 + 25 * math.log(12)) / math.log(12) / (55 ** 2 / 3), rel=0.05)
    # An error that does not depend on σ is left as it is: the weights average to one over every batch.
    grey, black = torch.full((4, 1, 16, 16), 0.5), torch.zeros_like
    assert denoising_loss("1", black, grey) == pytest.approx(0.25) == denoising_loss("0", black, grey)


def test_min_sigma_narrows_the_noise_levels_and_equal_ends_train_one_level():
    """Returning the noisy input leaves σ² per pixel: σ uniform in [20, 30] gives (30³ − 20³)/30 = 633.3 on average,
    and σ fixed at 25 gives 625 exactly, patch after patch."""
    images = torch.rand(4, 1, 16, 16)

    def identity_loss(*flags: str) -> float:
        args = train_photo_denoiser.parse_args(["--device", "cpu", "--no-bf16", "--patch-size", "8", *flags])
        loss = train_photo_denoiser.make_denoising_loss(images, args)
        return loss(torch.nn.Identity(), (torch.arange(len(images)).repeat(1000),), torch.Generator().manual_seed(0)).item()

    assert identity_loss("--min-sigma", "20", "--max-sigma", "30") * 255 ** 2 == pytest.approx((30 ** 3 - 20 ** 3) / 30, rel=0.02)
    assert identity_loss("--min-sigma", "25", "--max-sigma", "25") * 255 ** 2 == pytest.approx(625, rel=0.01)
    fixed = train_photo_denoiser.parse_args(["--min-sigma", "25", "--max-sigma", "25"])
    assert "trained for one Gaussian noise level, σ = 25" in train_photo_denoiser.noise_range_words(fixed)
    assert train_photo_denoiser.sigma_draw_words(fixed) == "σ = 25"
    blind = train_photo_denoiser.parse_args([])
    assert "*blind*: one model for any Gaussian noise level σ ∈ [0, 55]" in train_photo_denoiser.noise_range_words(blind)
    assert train_photo_denoiser.sigma_draw_words(blind) == "σ uniform in [0, 55]"


def bsd68_metrics(psnr_by_sigma: dict, n_images: int = 68) -> dict:
    return {"denoising": [{"set": "BSD68", "sigma": s, "n_images": n_images, "psnr": p} for s, p in psnr_by_sigma.items()]}


def test_the_cards_goals_line_judges_the_full_bsd68_against_published_numbers():
    above_bm3d = train_photo_denoiser.goals_line(bsd68_metrics({15: 31.13, 25: 28.70, 50: 25.73}))
    assert "+0.06 dB at σ = 15" in above_bm3d
    assert "beat published BM3D at every σ — **met**" in above_bm3d
    assert "reach DnCNN-S at σ = 25 — **not met**" in above_bm3d
    tied = train_photo_denoiser.goals_line(bsd68_metrics({15: 31.072, 25: 28.65, 50: 25.68}))
    assert "beat published BM3D at every σ — **not met**" in tied
    assert "reach DnCNN-S at σ = 25 — **met**" in train_photo_denoiser.goals_line(bsd68_metrics({15: 32, 25: 29.23, 50: 27}))
    assert train_photo_denoiser.goals_line(bsd68_metrics({15: 40, 25: 40, 50: 40}, n_images=1)) == ""  # smoke runs judge nothing


def test_a_stage_that_reuses_an_earlier_stages_seed_is_warned_that_it_replays_its_samples():
    """Samples are drawn from the seed and the epoch alone: the shipped stage 2 re-saw stage 1's 20 epochs."""
    stages = [{"command": "python training/train_photo_denoiser.py --data-root d"},
              {"command": "python training/train_photo_denoiser.py --init-from p --epochs 26"},
              {"command": "python training/train_photo_denoiser.py --init-from p --seed=2 --lr 3e-4"},
              {"command": "torchrun --nproc_per_node=2 training/train_photo_denoiser.py --init-from p --seed 7"}]
    assert train_photo_denoiser.reused_seed_note(stages, 0).startswith("note: stages 1, 2 of the checkpoint")
    assert "stage 3 of the checkpoint this run starts from also ran with --seed 2," in train_photo_denoiser.reused_seed_note(stages, 2)
    assert "stage 4 " in train_photo_denoiser.reused_seed_note(stages, 7)
    assert train_photo_denoiser.reused_seed_note(stages, 1) is None
    assert train_photo_denoiser.reused_seed_note([], 0) is None


def test_the_card_says_where_set12_stands_against_published_bm3d_and_fills_its_published_columns():
    """The goals are judged on BSD68; a model ahead there and behind on Set12 must not read as ahead everywhere."""
    rows = [{"set": name, "sigma": s, "n_images": n, "psnr": p, "noisy_psnr": 20.0}
            for name, n, by_sigma in (("BSD68", 68, {15: 31.25, 25: 28.81, 50: 25.85}),
                                      ("Set12", 12, {15: 32.16, 25: 29.81, 50: 26.58})) for s, p in by_sigma.items()]
    line = train_photo_denoiser.goals_line({"denoising": rows})
    assert "On Set12 published BM3D is ahead at every σ: -0.21 dB at σ = 15, -0.16 dB at σ = 25, -0.14 dB at σ = 50" in line
    rows_ahead = [dict(r, psnr=r["psnr"] + 1) if r["set"] == "Set12" else r for r in rows]
    assert "published BM3D is behind it at every σ: +0.79 dB at σ = 15" in train_photo_denoiser.goals_line({"denoising": rows_ahead})
    mixed = [dict(r, psnr=33.0) if r["set"] == "Set12" and r["sigma"] == 15 else r for r in rows]
    assert "published BM3D is ahead at some σ" in train_photo_denoiser.goals_line({"denoising": mixed})
    partial = [dict(r, n_images=2) if r["set"] == "Set12" else r for r in rows]
    assert "Set12" not in train_photo_denoiser.goals_line({"denoising": partial})  # two images are not Set12's mean
    set12_25 = next(r for r in rows if r["set"] == "Set12" and r["sigma"] == 25)
    assert (train_photo_denoiser.published("BM3D", set12_25), train_photo_denoiser.published("DnCNN-S", set12_25)) == ("29.97", "30.44")
    assert train_photo_denoiser.published("BM3D", dict(set12_25, set="CBSD68")) == "—"


@pytest.mark.parametrize("capabilities, expected", [
    ({"avx512_bf16": True, "amx_bf16": False}, True),
    ({"avx512_bf16": False, "amx_bf16": True}, True),
    ({"avx512_bf16": False, "amx_bf16": False, "avx512_f": True}, False),  # emulated: 4× slower than float32
])
def test_bf16_defaults_to_on_only_where_the_cpu_has_bf16_arithmetic(monkeypatch, capabilities, expected):
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: capabilities, raising=False)
    assert train_photo_denoiser.parse_args(["--device", "cpu"]).bf16 is expected
    assert train_photo_denoiser.parse_args(["--device", "cpu", "--no-bf16"]).bf16 is False
    assert train_photo_denoiser.parse_args(["--device", "cpu", "--bf16"]).bf16 is True


def test_one_epoch_writes_a_loadable_model_and_a_card_with_test_set_psnr(tmp_path, denoising_root, monkeypatch):
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(denoising_root))
    out = run(tmp_path, "one", "--epochs", "1", "--no-bf16")
    metrics = json.loads((out / "metrics.json").read_text())
    assert {(r["set"], r["sigma"]) for r in metrics["denoising"]} == {(s, sigma) for s in ("BSD68", "Set12") for sigma in (15, 25, 50)}
    assert all(r["n_images"] == 1 and r["psnr"] > 10 for r in metrics["denoising"])
    card = (out / "README.md").read_text()
    assert "--depth 3" in card and "BSD68" in card and f"{metrics['parameters']:,} parameters" in card
    assert train_photo_denoiser.USAGE in card
    assert "the last 16 held out (loss curve, held-out PSNR); this run trained on the first 8 of the other 384 only (`--limit-train`);" in card
    assert train_photo_denoiser.limited_words(metrics | {"train_images": 384}) == ""  # --limit-train 1000: all were used
    held_out = metrics["held_out_psnr"]
    assert list(held_out) == ["15", "25", "50"] and held_out["15"] > held_out["25"] > held_out["50"] > 10
    assert f"{held_out['15']:.2f} / {held_out['25']:.2f} / {held_out['50']:.2f} dB at σ = 15 / 25 / 50" in card
    model = load_model(PhotoDenoiser, str(out), train_command="python training/train_photo_denoiser.py")
    assert (model.width, model.depth) == (4, 3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: checks that evaluation follows the model there")
def test_one_epoch_on_a_gpu_evaluates_and_publishes(tmp_path, denoising_root, monkeypatch):
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(denoising_root))
    out = run(tmp_path, "gpu", "--epochs", "1", "--device", "cuda")
    assert json.loads((out / "metrics.json").read_text())["hardware"].startswith("1 × ")


def run_interrupted_in_epoch_2(monkeypatch, tmp_path, name: str, *flags: str) -> None:
    """``run`` stopped by Ctrl-C at the first step of epoch 2 (8 images × 4 patches / batch 8 = 4 steps an epoch)."""
    real_loss, calls = train_photo_denoiser.make_denoising_loss, []

    def loss_that_crashes(*args):
        loss = real_loss(*args)

        def crash_in_epoch_2(*step_args):
            calls.append(1)
            if len(calls) > 4:
                raise KeyboardInterrupt
            return loss(*step_args)
        return crash_in_epoch_2

    monkeypatch.setattr(train_photo_denoiser, "make_denoising_loss", loss_that_crashes)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, name, *flags)
    monkeypatch.setattr(train_photo_denoiser, "make_denoising_loss", real_loss)


def test_resume_after_an_interruption_reproduces_the_unbroken_run(tmp_path, denoising_root, monkeypatch):
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(denoising_root))
    unbroken = run(tmp_path, "unbroken", "--epochs", "2")
    run_interrupted_in_epoch_2(monkeypatch, tmp_path, "resumed", "--epochs", "2")
    resumed = run(tmp_path, "resumed", "--epochs", "2", "--resume")

    a, b = load_file(unbroken / "model.safetensors"), load_file(resumed / "model.safetensors")
    for key in a:
        assert (a[key] - b[key]).abs().max().item() < 1e-5, key
    assert json.loads((resumed / "metrics.json").read_text())["resumed"]


def test_a_second_stage_starts_from_the_first_stages_weights_and_its_card_lists_both(tmp_path, denoising_root, monkeypatch,
                                                                                      capsys):
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(denoising_root))
    first = run(tmp_path, "first", "--epochs", "1", "--no-bf16")
    capsys.readouterr()
    # Learning rate 0: a stage that really starts from the first stage's weights ends with them unchanged.
    second = run(tmp_path, "second", "--epochs", "1", "--no-bf16", "--lr", "0", "--init-from", str(first), "--sigma-weight-power", "1")
    assert "note: stage 1 of the checkpoint this run starts from also ran with --seed 0" in capsys.readouterr().err

    a, b = load_file(first / "model.safetensors"), load_file(second / "model.safetensors")
    assert all(torch.equal(a[key], b[key]) for key in a)
    metrics = json.loads((second / "metrics.json").read_text())
    assert [stage["epochs"] for stage in metrics["stages"]] == [1, 1] and metrics["total_epochs"] == 2
    assert "--init-from" not in metrics["stages"][0]["command"] and "--init-from" in metrics["stages"][1]["command"]
    card = (second / "README.md").read_text()
    assert "Trained in 2 stages" in card and metrics["stages"][0]["command"] in card
    assert "each patch's divided by σ + 5 (this stage" in card and "divided by" not in (first / "README.md").read_text()


def test_a_next_stage_from_the_shipped_checkpoint_lists_all_its_stages(tmp_path, denoising_root, monkeypatch):
    """What a user continuing the shipped model's training runs: its card must carry the shipped stages forward."""
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(denoising_root))
    shipped = json.loads((PRETRAINED_DIR / "photo-denoiser" / "metrics.json").read_text())
    next_stage = run(tmp_path, "next", "--epochs", "1", "--no-bf16", "--lr", "0", "--init-from", str(PRETRAINED_DIR / "photo-denoiser"))

    metrics = json.loads((next_stage / "metrics.json").read_text())
    assert metrics["stages"][:-1] == shipped["stages"] and metrics["total_epochs"] == shipped["total_epochs"] + 1
    card = (next_stage / "README.md").read_text()
    assert f"Trained in {len(shipped['stages']) + 1} stages" in card
    assert all(stage["command"] in card for stage in shipped["stages"])
    notes = [stage["note"] for stage in shipped["stages"] if "note" in stage]  # how the test sets guided stages 1–3 and 5–9
    assert len(notes) == 8 and all(note in card for note in notes)
    assert "PhotoDenoiser(width=48, depth=11)" in card


def test_init_from_a_missing_checkpoint_says_how_to_train_one(tmp_path, denoising_root, monkeypatch):
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(denoising_root))
    with pytest.raises(CheckpointError, match="python training/train_photo_denoiser.py"):
        run(tmp_path, "nothing", "--epochs", "1", "--init-from", str(tmp_path / "no-such-checkpoint"))
    assert not (tmp_path / "nothing" / "run").exists()  # refused before any training


def test_a_stage_can_deepen_the_checkpoint_it_starts_from(tmp_path, denoising_root, monkeypatch):
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(denoising_root))
    first = run(tmp_path, "first", "--epochs", "1", "--no-bf16")
    deeper = run(tmp_path, "deeper", "--epochs", "1", "--no-bf16", "--lr", "0", "--init-from", str(first), "--add-layers", "2")

    shallow_model = load_model(PhotoDenoiser, str(first), train_command="").eval()
    deep_model = load_model(PhotoDenoiser, str(deeper), train_command="").eval()
    assert (shallow_model.depth, deep_model.depth) == (3, 5)
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():  # learning rate 0: the deepened network still computes the first stage's function
        torch.testing.assert_close(deep_model(x), shallow_model(x), rtol=0, atol=1e-6)
    card = (deeper / "README.md").read_text()
    assert "PhotoDenoiser(width=4, depth=5)" in card and "2 layers deeper" in card
    assert "deeper" not in (first / "README.md").read_text()


@pytest.mark.parametrize("deepen", [[], ["--add-layers", "1"]])
@pytest.mark.parametrize("resumed_with", [[], ["--eval-limit", "2"], ["reordered"]], ids=["same", "eval-limit", "reordered"])
def test_resuming_a_finished_stage_published_over_its_own_start_lists_it_once(tmp_path, denoising_root, monkeypatch,
                                                                              deepen, resumed_with):
    """The README's second stage starts from pretrained/photo-denoiser and writes there: once it has published, its
    --init-from holds the stage itself, which a --resume (to publish again) counted twice, and deepened twice. It
    must be known as this stage also when the resume changes a flag it may change, or gives the flags in another
    order (the command line was compared: with --add-layers the resume was refused, without it the card listed
    the stage twice)."""
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(denoising_root))
    first = run(tmp_path, "stage", "--epochs", "1", "--no-bf16")
    stage_two = ["--epochs", "1", "--no-bf16", "--init-from", str(first), "--run-dir", str(tmp_path / "run2"), *deepen]
    run(tmp_path, "stage", *stage_two)
    published = load_file(first / "model.safetensors")
    again_flags = stage_two[2:] + stage_two[:2] if resumed_with == ["reordered"] else stage_two + resumed_with
    run(tmp_path, "stage", *again_flags, "--resume")
    metrics = json.loads((first / "metrics.json").read_text())
    assert len(metrics["stages"]) == 2 and metrics["total_epochs"] == 2
    assert "Trained in 2 stages" in (first / "README.md").read_text()
    again = load_file(first / "model.safetensors")
    assert again.keys() == published.keys() and all(torch.equal(again[key], published[key]) for key in published)


def test_an_interrupted_stage_that_repeats_the_last_stages_flags_resumes_as_a_stage_of_its_own(tmp_path, denoising_root,
                                                                                                 monkeypatch):
    """Its command line is the last published stage's, but that stage is not this run: the card lists both."""
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(denoising_root))
    first = run(tmp_path, "stage", "--epochs", "1", "--no-bf16")
    repeated = ["--epochs", "2", "--no-bf16", "--init-from", str(first), "--run-dir", str(tmp_path / "run2")]
    run(tmp_path, "stage", *repeated)
    run_interrupted_in_epoch_2(monkeypatch, tmp_path, "stage", *repeated)
    run(tmp_path, "stage", *repeated, "--resume")
    metrics = json.loads((first / "metrics.json").read_text())
    assert [stage["epochs"] for stage in metrics["stages"]] == [1, 2, 2] and metrics["resumed"]


def test_adding_layers_needs_a_checkpoint_to_deepen(capsys):
    with pytest.raises(SystemExit):
        train_photo_denoiser.parse_args(["--add-layers", "1"])
    assert "--init-from" in capsys.readouterr().err


@pytest.mark.parametrize("flags, message", [(["--max-sigma", "-5"], "--max-sigma must be in (0, 255]"),
                                            (["--max-sigma", "300"], "--max-sigma must be in (0, 255]"),
                                            (["--min-sigma", "60"], "--min-sigma must be in [0, --max-sigma] = [0, 55]"),
                                            (["--min-sigma", "-1"], "--min-sigma must be in [0, --max-sigma]"),
                                            (["--patch-size", "7"], "--patch-size must be even"),
                                            (["--add-layers", "-1"], "--add-layers must be ≥ 0")])
def test_impossible_noise_and_patch_settings_get_a_usage_message(flags, message, capsys):
    with pytest.raises(SystemExit):
        train_photo_denoiser.parse_args(flags)
    assert message in capsys.readouterr().err


def test_a_patch_larger_than_the_training_images_is_refused_before_training(tmp_path, denoising_root, monkeypatch):
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(denoising_root))
    with pytest.raises(SystemExit, match="--patch-size 200 is larger than the 180×180 training images"):
        run(tmp_path, "big-patch", "--epochs", "1", "--patch-size", "200")
    assert not (tmp_path / "big-patch" / "run").exists()


def test_a_missing_test_set_stops_the_run_before_training(tmp_path, denoising_root, monkeypatch):
    """BSD68 and Set12 are measured after training: a missing one used to cost the whole run before it was noticed."""
    root = tmp_path / "root" / "denoising"
    root.mkdir(parents=True)
    for name in ("Train400", "Set12"):
        (root / name).symlink_to(denoising_root / "denoising" / name)
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(tmp_path / "root"))
    with pytest.raises(FileNotFoundError, match="BSD68"):
        run(tmp_path, "no-bsd68", "--epochs", "1")
    assert not (tmp_path / "no-bsd68" / "run").exists()
