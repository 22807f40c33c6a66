import pytest
import torch

from generative.metrics.image_quality import BENCHMARK_LEVELS
from generative.noise import (NOISE_KINDS, TRAINING_LEVEL_RANGE, add_gaussian_noise, add_masking_noise,
                              add_salt_and_pepper_noise, corrupt, corrupt_randomly)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_gaussian_noise_has_the_asked_standard_deviation():
    x = torch.full((200, 200), 0.5)  # mid-grey: clipping at 0 and 1 is negligible for σ=0.1
    noisy = add_gaussian_noise(x, 0.1, gen())
    assert abs((noisy - x).mean().item()) < 2e-3
    assert (noisy - x).std().item() == pytest.approx(0.1, rel=0.02)


def test_gaussian_noise_is_clipped_to_the_valid_range():
    noisy = add_gaussian_noise(torch.rand(100, 100), 0.8, gen())
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert (noisy == 0).any() and (noisy == 1).any()


def test_salt_and_pepper_hits_the_asked_fraction_with_both_extremes():
    x = torch.full((300, 300), 0.5)
    noisy = add_salt_and_pepper_noise(x, 0.3, gen())
    changed = noisy != x
    assert changed.float().mean().item() == pytest.approx(0.3, abs=0.01)
    assert set(noisy[changed].unique().tolist()) == {0.0, 1.0}
    assert (noisy[changed] == 1).float().mean().item() == pytest.approx(0.5, abs=0.02)


def test_masking_zeroes_the_asked_fraction_and_nothing_else():
    x = torch.rand(300, 300) * 0.9 + 0.1  # no zeros before masking
    noisy = add_masking_noise(x, 0.25, gen())
    zeroed = noisy == 0
    assert zeroed.float().mean().item() == pytest.approx(0.25, abs=0.01)
    assert torch.equal(noisy[~zeroed], x[~zeroed])


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_same_seed_same_noise_other_seed_other_noise(kind):
    x = torch.rand(1, 1, 28, 28)
    assert torch.equal(corrupt(x, kind, 0.4, gen(7)), corrupt(x, kind, 0.4, gen(7)))
    assert not torch.equal(corrupt(x, kind, 0.4, gen(7)), corrupt(x, kind, 0.4, gen(8)))


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_level_zero_leaves_the_image_unchanged(kind):
    x = torch.rand(28, 28)
    assert torch.equal(corrupt(x, kind, 0.0, gen()), x)


def test_corrupt_rejects_unknown_kinds_and_levels():
    with pytest.raises(ValueError, match="unknown noise kind"):
        corrupt(torch.rand(4, 4), "speckle", 0.1)
    with pytest.raises(ValueError, match="between|in \\[0, 1\\]"):
        corrupt(torch.rand(4, 4), "gaussian", 1.5)


def test_a_negative_level_is_refused_for_every_kind():
    """Below 0 a corruption means nothing (σ < 0 is σ of the other sign, a negative share hits no pixel): refused, as
    above 1, rather than quietly returning an image."""
    for kind in NOISE_KINDS:
        with pytest.raises(ValueError, match="in \\[0, 1\\], got -0.1"):
            corrupt(torch.rand(4, 4), kind, -0.1)


def test_corrupt_randomly_mixes_all_kinds_within_a_batch():
    x = torch.full((600, 1, 28, 28), 0.5)
    noisy = corrupt_randomly(x, gen())
    assert noisy.shape == x.shape and noisy.min() >= 0 and noisy.max() <= 1
    flat = noisy.flatten(1)
    masked_only = ((flat == 0) | (flat == 0.5)).all(1)          # masking: zeros, rest untouched
    impulses_only = ((flat == 0) | (flat == 1) | (flat == 0.5)).all(1) & (flat == 1).any(1)
    gaussian = ~((flat == 0) | (flat == 0.5) | (flat == 1)).all(1)
    for share in (masked_only, impulses_only, gaussian):
        assert 0.2 < share.float().mean().item() < 0.45
    assert torch.equal(noisy, corrupt_randomly(x, gen()))  # seeded


def test_training_levels_stay_within_and_cover_the_declared_ranges():
    """On mid-grey images each kind leaves its mark (masking: only 0s; salt-and-pepper: 0s and 1s; Gaussian: any
    value), and its level can be read back: the share of pixels hit, or σ from the interquartile range (for σ ≤ 0.74
    the quartiles of 0.5 + σε are not clipped)."""
    out = corrupt_randomly(torch.full((3000, 1, 64, 64), 0.5), gen(3)).flatten(1)
    ones, zeros = (out == 1).float().mean(1), (out == 0).float().mean(1)
    gaussian = ((out != 0) & (out != 0.5) & (out != 1)).any(1)
    salt_and_pepper = ~gaussian & (ones > 0)
    masking = ~gaussian & (ones == 0) & (zeros > 0)
    quartiles = out[gaussian].quantile(torch.tensor([0.25, 0.75]), dim=1)
    levels = {"gaussian": (quartiles[1] - quartiles[0]) / 1.349,  # the IQR of N(0, σ²) is 1.349 σ
              "salt_and_pepper": (ones + zeros)[salt_and_pepper], "masking": zeros[masking]}
    for kind, level in levels.items():
        high = TRAINING_LEVEL_RANGE[kind][1]
        assert len(level) > 800, kind  # about a third of the batch each
        assert level.max().item() <= high + 0.05, (kind, level.max().item())  # 4,096 pixels: a few per cent of slack
        assert level.quantile(0.95).item() >= 0.9 * high, (kind, level.quantile(0.95).item())  # the range is covered
        # evenly: the deciles are those of U(low, high) to within 6 % of the range (about 1,000 levels per kind,
        # so a decile's standard error is about 1.5 %), so light noise is trained on as often as heavy noise
        low = TRAINING_LEVEL_RANGE[kind][0]
        deciles = torch.linspace(0.1, 0.9, 9)
        gap = (level.quantile(deciles) - (low + (high - low) * deciles)).abs().max().item()
        assert gap <= 0.06 * (high - low), (kind, gap)


def test_the_blind_denoiser_is_trained_on_every_level_the_benchmark_reports():
    """The model card and the benchmark report the blind model at ``BENCHMARK_LEVELS``: each must lie inside the range
    the model trains on for its kind, or the report would measure it beyond anything it saw (e.g. Gaussian σ = 0.5)."""
    assert {kind for kind, _ in BENCHMARK_LEVELS} == set(NOISE_KINDS)
    for kind, level in BENCHMARK_LEVELS:
        low, high = TRAINING_LEVEL_RANGE[kind]
        assert low <= level <= high, (kind, level, (low, high))
