"""The Denoise tab's pure functions, and the quality of the shipped checkpoint on real MNIST."""
import json

import gradio as gr
import numpy as np
import pytest
import torch

from demos import denoise
from demos.denoise import DAE, DenoiseTab, denoise_digit, scores_table
from demos.reports import measured_report
from generative.classical import median_filter
from generative.hub import PRETRAINED_DIR, load_model
from generative.metrics.image_quality import corrupt_test_set, mean_scores, model_denoiser
from generative.models import DenoisingAutoencoder


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return DenoisingAutoencoder(width=4, code_dim=8).eval()


@pytest.fixture
def digit():
    image = np.zeros((28, 28), np.float32)
    image[6:22, 12:16] = 1.0
    return image


def test_outputs_are_28x28_in_range_and_scored_against_the_clean_digit(tiny_model, digit):
    result = denoise_digit(tiny_model, digit, "gaussian", 0.5, seed=1)
    assert np.array_equal(result.clean, digit)
    assert list(result.restored)[0] == DAE and len(result.restored) >= 4
    for image in [result.noisy, *result.restored.values()]:
        assert image.shape == (28, 28) and image.min() >= 0 and image.max() <= 1
    assert set(result.scores) == {"noisy input", *result.restored}
    assert result.scores["noisy input"].psnr < 15  # σ = 0.5 is heavy noise


def test_the_seed_fixes_the_noise(tiny_model, digit):
    a, b, c = (denoise_digit(tiny_model, digit, "masking", 0.5, seed=s, classical=False) for s in (3, 3, 4))
    assert np.array_equal(a.noisy, b.noisy) and not np.array_equal(a.noisy, c.noisy)


def test_already_noisy_input_is_denoised_as_is_without_scores(tiny_model, digit):
    result = denoise_digit(tiny_model, digit, "gaussian", 0.5, seed=0, already_noisy=True)
    assert result.clean is None and result.scores is None and np.array_equal(result.noisy, digit)
    assert all(row[1:] == ["—", "—"] for row in scores_table(result))


def test_zero_noise_shows_infinite_psnr_for_the_untouched_input(tiny_model, digit):
    rows = scores_table(denoise_digit(tiny_model, digit, "masking", 0.0, seed=0, classical=False))
    assert rows[0] == ["noisy input", "∞", "1.000"]
    float(rows[1][1])  # the model's PSNR is a plain number


def test_a_missing_checkpoint_is_reported_with_the_training_command(monkeypatch, tmp_path):
    monkeypatch.setattr(denoise, "model_source", lambda name, hub_user=None: str(tmp_path / name))
    tab = DenoiseTab()
    assert "train_dae.py" in tab.error
    with pytest.raises(gr.Error, match="train_dae.py"):
        tab.run(np.zeros((28, 28), np.float32), "gaussian", 0.5, 0, False)


def test_the_benchmark_comparison_is_shown_only_for_the_checkpoint_it_measured(tmp_path):
    report_path = tmp_path / "benchmarks" / "results" / "denoise_quality.json"
    report_path.parent.mkdir(parents=True)
    level = {"noise": "salt_and_pepper", "level": 0.3, "margin": {"best_baseline": "median filter", "margin_db": 4.5}}
    report = {"model": "pretrained/dae-mnist", "test_set": "MNIST test", "n_bm3d": 300, "levels": [level]}
    report_path.write_text(json.dumps(report))

    results = report_path.parent
    assert measured_report("denoise_quality", str(tmp_path / "pretrained" / "dae-mnist"), results) == report
    assert measured_report("denoise_quality", str(tmp_path / "pretrained" / "other"), results) is None
    assert measured_report("denoise_quality", "user/dae-mnist", results) is None
    assert measured_report("missing", "anything", results) is None
    assert "| salt-and-pepper 0.3 | median filter | +4.50 dB |" in denoise.about_markdown(None, report)


@pytest.mark.parametrize("args, message", [(("speckle", 0.5, 0), "Unknown noise"), (("gaussian", 1.5, 0), "between 0 and 1"),
                                           (("gaussian", 0.5, -1), "seed")])
def test_out_of_range_controls_give_clear_errors(tiny_model, digit, args, message):
    tab = DenoiseTab.__new__(DenoiseTab)
    tab.model, tab.error = tiny_model, None
    with pytest.raises(gr.Error, match=message):
        tab.run(digit, *args, False)


# Margins the shipped checkpoint must keep on 1,000 real test digits at Gaussian σ = 0.5. Its measured
# full-test-set figures are in pretrained/dae-mnist/README.md; these bounds leave room for noise draws.
MIN_GAIN_OVER_NOISY_DB = 8.0
MIN_GAIN_OVER_MEDIAN_DB = 4.0


def test_shipped_checkpoint_beats_noisy_input_and_median_filter(mnist_test):
    model = load_model(DenoisingAutoencoder, str(PRETRAINED_DIR / "dae-mnist"), train_command="python training/train_dae.py")
    clean = mnist_test[0][:1000]
    noisy = corrupt_test_set(clean, "gaussian", 0.5, seed=123)
    clean_np, noisy_np = clean[:, 0].numpy(), noisy[:, 0].numpy()
    dae = mean_scores(clean_np, model_denoiser(model)(noisy)[:, 0].numpy())
    noisy_scores = mean_scores(clean_np, noisy_np)
    median = mean_scores(clean_np, np.stack([median_filter(x) for x in noisy_np]))
    assert dae.psnr > noisy_scores.psnr + MIN_GAIN_OVER_NOISY_DB
    assert dae.psnr > median.psnr + MIN_GAIN_OVER_MEDIAN_DB
    assert dae.ssim > max(noisy_scores.ssim, median.ssim)
