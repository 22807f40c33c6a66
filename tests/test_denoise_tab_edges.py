"""Denoise-tab behaviour the main tests leave open: which panel an event shows, classical filters' outputs kept in the
pixel range, a scaled-down photo kept in range, and which training stages the explanation calls σ-weighted."""
import shutil

import numpy as np
import pytest
import torch

from demos import denoise
from demos.denoise import DIGIT, PHOTO, DenoiseTab, denoise_digit
from demos.denoise_about import weighted_stages
from demos.output_files import OutputFolder
from demos.photo import fit_to_limit
from generative.metrics.image_quality import score
from generative.models import DenoisingAutoencoder, PhotoDenoiser


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return DenoisingAutoencoder(width=4, code_dim=8).eval()


@pytest.fixture(scope="module")
def small_photo_model():
    torch.manual_seed(0)
    return PhotoDenoiser(width=4, depth=3).eval()


@pytest.fixture
def digit():
    image = np.zeros((28, 28), np.float32)
    image[6:22, 12:16] = 1.0
    return image


@pytest.fixture
def tab(tiny_model, small_photo_model):
    tab = DenoiseTab.__new__(DenoiseTab)  # the handlers, with tiny models instead of the checkpoints
    tab.model, tab.error, tab.photo_model, tab.photo_error = tiny_model, None, small_photo_model, None
    tab.files = OutputFolder("denoise-edges-test")
    yield tab
    shutil.rmtree(tab.files.root, ignore_errors=True)


def test_the_panel_of_the_model_that_ran_is_shown_and_the_other_hidden(tab, digit):
    """The last three outputs are the digit panel, the photo panel and the note: a digit's result shown in a hidden
    panel (or a photo's under the digit's) would leave the user looking at the previous result."""
    controls = ("gaussian", 0.5, 0, False)
    by_digit = tab.respond(("upload", "seven.png"), DIGIT, "why", digit=digit, controls=controls, sigma=25)
    assert by_digit[0] == ("upload", "seven.png", DIGIT)
    assert (by_digit[-3].visible, by_digit[-2].visible) == (True, False)
    photo = np.random.default_rng(0).random((24, 32))
    by_photo = tab.respond(("upload", "photo.png"), PHOTO, "why", photo=photo, controls=controls, sigma=25)
    assert (by_photo[-3].visible, by_photo[-2].visible) == (False, True)
    assert "digit autoencoder" in by_digit[-1] and "photo denoiser" in by_photo[-1]


def test_classical_filters_outputs_are_kept_in_the_pixel_range_before_they_are_scored(tiny_model, digit, monkeypatch):
    """A filter that overshoots (BM3D can, a little) must not be scored, or shown, past black or white."""
    monkeypatch.setattr(denoise, "CLASSICAL_DENOISERS", {"overshooting filter": lambda noisy: 3 * noisy - 1})
    result = denoise_digit(tiny_model, digit, "gaussian", 0.5, seed=1)
    restored = result.restored["overshooting filter"]
    assert restored.min() >= 0 and restored.max() <= 1 and restored.dtype == np.float32
    np.testing.assert_array_equal(restored, np.clip(3 * result.noisy - 1, 0, 1).astype(np.float32))
    assert result.scores["overshooting filter"] == score(result.clean, restored)


def test_a_photo_scaled_down_to_the_limit_stays_in_the_pixel_range():
    """Lanczos rings past sharp black-and-white edges; the scaled photo is the clean original the scores are taken
    against, so it stays in [0, 1]."""
    blocks = np.kron(np.random.default_rng(0).integers(0, 2, (30, 40)).astype(np.float64), np.ones((7, 7)))
    for photo in (blocks, np.dstack([blocks, 1 - blocks, blocks])):
        scaled, note = fit_to_limit(photo, max_pixels=5_000)
        assert note and scaled.shape[:2] == (61, 81)
        assert scaled.min() >= 0.0 and scaled.max() <= 1.0


def test_only_stages_that_weighted_the_loss_by_sigma_are_named_as_weighted():
    """`--sigma-weight-power 0` is the plain mean: a stage run with it did not weight the loss by σ."""
    def stage(command):
        return {"command": f"python training/train_photo_denoiser.py {command}"}
    metrics = {"stages": [stage("--epochs 5 --sigma-weight-power 0"), stage("--sigma-weight-power 1"),
                          stage("--sigma-weight-power=0.5 --lr 1e-4"), stage("--lr 1e-5")]}
    assert weighted_stages(metrics) == "training stages 2–3 of the 4"
    assert weighted_stages({}) == "training"
