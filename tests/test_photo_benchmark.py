"""The photo-denoising benchmarks: the quality rows on one Set12 image, reusing an earlier run's model-free rows, the
shapes of the networks the speed benchmark times beside the model, and the training-step benchmark's two precisions."""
import json

import numpy as np
import pytest
import torch
from scipy import stats

from benchmarks import photo_denoise_quality as bench
from benchmarks import photo_train_step_speed as step_bench
from benchmarks.photo_denoise_speed import dncnn_s_shape, ircnn_shape
from generative.photo import paired_words, signed_db

pytestmark = pytest.mark.timeout(300)


def run(out_dir, *flags: str) -> dict:
    bench.main(["--sets", "Set12", "--sigmas", "25", "--limit", "1", "--no-ensemble", "--jobs", "1",
                "--out-dir", str(out_dir), *flags])
    return json.loads((out_dir / "photo_denoise_quality.json").read_text())


def test_reused_baselines_are_the_earlier_runs_and_are_not_recomputed(tmp_path, denoising_root, monkeypatch):
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(denoising_root))
    first = run(tmp_path / "first")
    rows = first["sets"][0]["psnr"]
    assert set(rows) == {bench.NOISY, bench.MODEL, bench.NLM, bench.BM3D}
    assert rows[bench.MODEL]["25"] > rows[bench.NOISY]["25"] + 7 and first["baselines_from"] is None
    assert rows[bench.MODEL]["25"] > rows[bench.NLM]["25"] + 0.4  # Set12 01: 29.31 against 28.55 dB when measured

    def must_not_run(noisy, sigma):
        raise AssertionError("a reused baseline was recomputed")

    monkeypatch.setattr(bench, "_bm3d", must_not_run)
    monkeypatch.setattr(bench, "non_local_means_told_sigma", must_not_run)
    second = run(tmp_path / "second", "--reuse-baselines", str(tmp_path / "first" / "photo_denoise_quality.json"))
    assert second["sets"][0]["psnr"] == rows  # model-free rows copied, the model's measured again (same result)
    assert second["sets"][0]["seconds_per_image"][bench.BM3D] == first["sets"][0]["seconds_per_image"][bench.BM3D]
    assert second["baselines_from"] == {key: first[key] for key in ("date", "command", "hardware")}
    assert f"reused from the run of {first['date']}" in (tmp_path / "second" / "photo_denoise_quality.md").read_text()

    assert second["sets"][0]["psnr_per_image"][bench.BM3D] == first["sets"][0]["psnr_per_image"][bench.BM3D]
    assert second["sets"][0]["paired"] == first["sets"][0]["paired"]

    third = run(tmp_path / "third", "--reuse-baselines", str(tmp_path / "second" / "photo_denoise_quality.json"))
    assert third["baselines_from"] == second["baselines_from"]  # still names the run that measured them

    means_only = first | {"sets": [{k: v for k, v in first["sets"][0].items() if k not in ("psnr_per_image", "paired")}]}
    (tmp_path / "means_only.json").write_text(json.dumps(means_only))  # as reports before 2026-12-06 were
    fourth = run(tmp_path / "fourth", "--reuse-baselines", str(tmp_path / "means_only.json"))
    assert fourth["sets"][0]["paired"] == {} and fourth["sets"][0]["psnr"] == rows
    assert "no image-by-image comparison with BM3D on Set12" in (tmp_path / "fourth" / "photo_denoise_quality.md").read_text()


def test_the_model_is_compared_with_bm3d_image_by_image(tmp_path, denoising_root, monkeypatch):
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(denoising_root))
    bench.main(["--sets", "Set12", "--sigmas", "25", "--limit", "3", "--no-ensemble", "--jobs", "1", "--out-dir", str(tmp_path)])
    result = json.loads((tmp_path / "photo_denoise_quality.json").read_text())["sets"][0]
    ours, bm3d = (result["psnr_per_image"][method]["25"] for method in (bench.MODEL, bench.BM3D))
    assert len(ours) == len(bm3d) == 3 and len(set(ours)) == 3  # three images, each scored on its own
    assert result["psnr"][bench.MODEL]["25"] == pytest.approx(sum(ours) / 3, abs=1e-4)
    margin = result["paired"][f"{bench.MODEL} − {bench.BM3D}"]["25"]
    assert margin["mean_db"] == pytest.approx(result["psnr"][bench.MODEL]["25"] - result["psnr"][bench.BM3D]["25"], abs=1e-4)
    assert margin["ahead_on"] == sum(a > b for a, b in zip(ours, bm3d)) and margin["n_images"] == 3
    low, high = margin["ci95_db"]
    assert low < margin["mean_db"] < high
    report = (tmp_path / "photo_denoise_quality.md").read_text()
    assert f"ahead on {margin['ahead_on']} of 3" in report and f"95% CI {low:+.2f} to {high:+.2f}" in report


def test_the_paired_interval_is_scipys_paired_t_interval():
    rng = np.random.default_rng(0)
    reference = rng.normal(28, 3, size=68)  # images far apart, as BSD68's are
    ours = reference + rng.normal(0.1, 0.2, size=68)
    margin = bench.paired_margin(list(ours), list(reference))
    expected = stats.ttest_rel(ours, reference).confidence_interval(0.95)
    assert margin["ci95_db"] == pytest.approx([expected.low, expected.high])
    assert margin["mean_db"] == pytest.approx(ours.mean() - reference.mean())
    assert margin["ahead_on"] == int((ours > reference).sum()) and margin["n_images"] == 68
    assert bench.paired_margin([30.0], [29.0])["ci95_db"] is None  # one image: no interval, not NaN in the JSON


def test_an_interval_that_ends_just_short_of_zero_is_printed_on_its_side_of_zero():
    """CBM3D's lead on CBSD68 at σ = 50 has an interval of −0.105 to −0.0002 dB, which two decimals printed as ending at
    "-0.00": on which side of zero it ends is the point of the interval."""
    margin = {"mean_db": -0.0527, "ci95_db": [-0.1051, -0.00016], "ahead_on": 31, "n_images": 68}
    assert paired_words(margin) == "-0.05 dB (95% CI -0.11 to -0.0002), ahead on 31 of 68"
    assert [signed_db(value) for value in (0.004, 0.0, -0.0, 0.15, 0.00096, -0.0000123)] == [
        "+0.004", "+0.00", "+0.00", "+0.15", "+0.001", "-0.00001"]


def test_reuse_refuses_a_run_on_other_images_and_a_missing_file(tmp_path, denoising_root, monkeypatch):
    monkeypatch.setenv("GALLERY_DATA_ROOT", str(denoising_root))
    run(tmp_path / "first", "--no-bm3d")
    with pytest.raises(SystemExit, match="Set12 had 1 images there and 2 here"):
        bench.main(["--sets", "Set12", "--sigmas", "25", "--limit", "2", "--no-ensemble", "--jobs", "1",
                    "--out-dir", str(tmp_path / "second"), "--reuse-baselines", str(tmp_path / "first" / "photo_denoise_quality.json")])
    with pytest.raises(SystemExit, match="no results file"):
        run(tmp_path / "third", "--reuse-baselines", str(tmp_path / "missing.json"))


def test_the_speed_benchmark_times_networks_of_the_published_shapes():
    """The README quotes these parameter counts beside the timings; a full-size input comes back full size."""
    for network, parameters in ((dncnn_s_shape(), 556_096), (ircnn_shape(), 185_857)):
        assert sum(p.numel() for p in network.parameters()) == parameters
        assert network(torch.zeros(1, 1, 24, 30)).shape == (1, 1, 24, 30)
    dilations = [layer.dilation[0] for layer in ircnn_shape() if isinstance(layer, torch.nn.Conv2d)]
    assert dilations == [1, 2, 3, 4, 3, 2, 1]


@pytest.mark.parametrize("bf16", [False, True])
def test_the_training_step_benchmark_runs_the_convolutions_in_the_precision_it_names(bf16):
    step, model, args = step_bench.training_step(width=8, depth=3, bf16=bf16)
    dtypes = set()
    for conv in (module for module in model.modules() if isinstance(module, torch.nn.Conv2d)):
        conv.register_forward_hook(lambda _module, _inputs, output: dtypes.add(output.dtype))
    before = [p.detach().clone() for p in model.parameters()]
    step()
    assert all(not torch.equal(b, p) for b, p in zip(before, model.parameters())), "the step left weights unchanged"
    assert dtypes == {torch.bfloat16 if bf16 else torch.float32} and args.bf16 is bf16


def test_the_training_step_benchmark_reports_which_precision_was_faster(tmp_path):
    step_bench.main(["--repeats", "1", "--warmup", "0", "--out-dir", str(tmp_path)])
    report = json.loads((tmp_path / "photo_train_step_speed.json").read_text())
    float32_ms, bf16_ms = (report["timings"][name]["median_ms"] for name in ("float32", "bfloat16 autocast"))
    assert report["bf16_speedup"] == pytest.approx(float32_ms / bf16_ms)
    assert report["default_is_faster"] == (report["default_is_bf16"] == (bf16_ms < float32_ms))
    assert (report["width"], report["depth"], report["batch_size"], report["patch_size"]) == (48, 11, 64, 64)
