"""The digit and photo PSNR/SSIM against closed forms and an SSIM written out here, so that a changed data range or
window shows: the denoising benchmark's numbers are only comparable with others' if these conventions hold."""
import numpy as np
import pytest
import torch
from scipy.ndimage import uniform_filter

from demos.photo import photo_scores
from generative.metrics.image_quality import corrupt_test_set, mean_scores, psnr, ssim
from generative.noise import NOISE_KINDS


def reference_ssim(x: np.ndarray, y: np.ndarray, data_range: float, win: int = 7, k1: float = 0.01,
                   k2: float = 0.03) -> float:
    """scikit-image's default SSIM, written out: 7×7 uniform window, sample (co)variances (× n/(n − 1)),
    C₁ = (K₁R)², C₂ = (K₂R)², the mean of the SSIM map with the (7 − 1)/2 border cropped."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)

    def local_mean(a):
        return uniform_filter(a, size=win)

    mx, my = local_mean(x), local_mean(y)
    unbiased = win * win / (win * win - 1)
    vx = unbiased * (local_mean(x * x) - mx * mx)
    vy = unbiased * (local_mean(y * y) - my * my)
    cxy = unbiased * (local_mean(x * y) - mx * my)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    ssim_map = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    border = (win - 1) // 2
    return float(ssim_map[border:-border, border:-border].mean())


def eight_bit(image: np.ndarray) -> np.ndarray:
    return np.clip(np.round(image * 255), 0, 255)


@pytest.fixture
def noisy_digit():
    clean = np.zeros((28, 28))
    clean[6:22, 12:16] = 1.0
    noisy = np.clip(clean + 0.2 * np.random.default_rng(0).standard_normal(clean.shape), 0, 1)
    return clean, noisy


@pytest.fixture
def noisy_photo():
    """A smooth grey ramp with a brighter square and faint noise (σ = 3/255): flat areas, where C₁ and C₂ matter."""
    rng = np.random.default_rng(1)
    rows, cols = np.mgrid[0:48, 0:64]
    clean = 0.3 + 0.4 * (cols / 63) * (rows / 47)
    clean[10:30, 20:40] += 0.2
    return clean, clean + rng.normal(0, 3 / 255, clean.shape)


def test_digit_psnr_has_a_peak_of_one():
    """Rules out another data range (2 would give 26.02 dB): an error of 0.1 everywhere is 10·log₁₀(1 / 0.01) = 20 dB."""
    zeros = np.zeros((28, 28))
    assert psnr(zeros, zeros + 0.1) == pytest.approx(20.0, abs=1e-9)


def test_digit_ssim_is_scikit_images_uniform_window_default_with_a_range_of_one(noisy_digit):
    """Rules out a Gaussian window (σ = 1.5, Wang et al.'s: 0.487 here) or a data range other than 1 (2: 0.413);
    the right value is 0.405."""
    clean, noisy = noisy_digit
    expected = reference_ssim(clean, noisy, data_range=1.0)
    assert ssim(clean, noisy) == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(0.40495, abs=1e-4)


def test_photo_ssim_is_of_the_8_bit_images_with_a_range_of_255(noisy_photo):
    """Rules out data_range=1 on 8-bit images (0.694 here instead of 0.914): photo_scores rounds both images to
    8 bits and scores them with R = 255, grey per image and colour as the mean over the channels."""
    clean, noisy = noisy_photo
    expected = reference_ssim(eight_bit(clean), eight_bit(noisy), data_range=255)
    assert photo_scores(clean, noisy).ssim == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(0.91437, abs=1e-4)
    colour = np.stack([clean, clean[::-1], 1 - clean], axis=-1)
    noisy_colour = colour + np.random.default_rng(2).normal(0, 3 / 255, colour.shape)
    per_channel = [reference_ssim(eight_bit(colour[..., c]), eight_bit(noisy_colour[..., c]), data_range=255)
                   for c in range(3)]
    assert photo_scores(colour, noisy_colour).ssim == pytest.approx(np.mean(per_channel), rel=1e-9)


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_the_benchmarks_noisy_test_set_is_the_same_on_every_run(kind):
    """Every method in a comparison must see the same noisy digits, run after run: the noise comes from the seed."""
    clean = torch.rand(20, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    first = corrupt_test_set(clean, kind, 0.5)
    assert torch.equal(first, corrupt_test_set(clean, kind, 0.5))
    assert not torch.equal(first, corrupt_test_set(clean, kind, 0.5, seed=1))


def test_mean_scores_average_per_image_scores_not_the_pooled_error():
    """The benchmark convention (as in DnCNN's tables): each image gets its own PSNR and SSIM, then the mean. With
    mean squared errors 10⁻² and 10⁻⁴ that is (20 + 40) / 2 = 30 dB, while one PSNR of the pooled error would say
    10·log₁₀(1 / 0.00505) ≈ 22.97 dB."""
    clean = np.full((2, 28, 28), 0.5)
    restored = clean + np.stack([np.full((28, 28), 0.1), np.full((28, 28), 0.01)]) * np.where(
        np.indices((28, 28)).sum(0) % 2 == 0, 1, -1)  # ± a checkerboard, so the two errors are 0.1² and 0.01²
    scores = mean_scores(clean, restored)
    assert scores.psnr == pytest.approx(30.0)
    assert scores.ssim == pytest.approx(np.mean([ssim(c, r) for c, r in zip(clean, restored)]))
    assert ssim(clean[0], restored[0]) != pytest.approx(ssim(clean[1], restored[1]), abs=1e-3)


def test_mean_scores_are_means_not_medians():
    """Three images with errors 0.1, 0.1 and 0.01 score 20, 20 and 40 dB: the mean is 26.67 dB (a median would say 20),
    and the SSIM is the mean of the three SSIMs."""
    clean = np.full((3, 28, 28), 0.5)
    checkerboard = np.where(np.indices((28, 28)).sum(0) % 2 == 0, 1, -1)
    restored = clean + np.array([0.1, 0.1, 0.01])[:, None, None] * checkerboard
    scores = mean_scores(clean, restored)
    assert scores.psnr == pytest.approx(80 / 3)
    each = [ssim(c, r) for c, r in zip(clean, restored)]
    assert scores.ssim == pytest.approx(np.mean(each), rel=1e-9) and np.mean(each) != pytest.approx(np.median(each), rel=1e-3)
