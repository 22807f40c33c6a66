"""Edges of the photo denoiser's plumbing that the main tests leave open: tile sizes that are odd or hardly larger
than the margins, and the self-ensemble of a colour photo, which must work in the same colour space as one pass."""
import numpy as np
import pytest
import torch

from generative.models import PhotoDenoiser
from generative.photo import OPPONENT, CHROMA_OFFSET, denoise_gray, denoise_photo, self_ensemble, tiles


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    model = PhotoDenoiser(width=8, depth=4).eval()
    with torch.no_grad():  # larger weights than the default init, so every layer really mixes its neighbourhood
        for p in model.parameters():
            p.mul_(3.0)
    return model


@pytest.mark.parametrize("tile, margin", [(47, 10), (21, 10), (20, 10), (9, 4)])
def test_cores_are_even_and_start_on_the_models_2x2_cells_whatever_the_tile(tile, margin):
    """The model works on 2×2 cells: a tile that starts on an odd row or column sees other cells than one pass over the
    whole photo does. So every core (and, with an even margin, every tile) starts on an even pixel, also for an odd
    tile or one no larger than its two margins."""
    height, width = 61, 53
    covered = np.zeros((height, width), int)
    for rows, cols, core_rows, core_cols in tiles(height, width, tile, margin):
        covered[core_rows, core_cols] += 1
        for outer, core, side in ((rows, core_rows, height), (cols, core_cols, width)):
            assert core.start % 2 == 0 and outer.start % 2 == 0, (tile, margin, core, outer)
            assert core.stop == side or (core.stop - core.start) % 2 == 0  # only the last core may be odd: the image ends
    assert (covered == 1).all()


@pytest.mark.parametrize("tile", [47, 45])
def test_an_odd_tile_still_equals_one_pass_over_the_whole_image(small_model, tile):
    noisy = np.random.default_rng(5).random((130, 101))
    whole = denoise_gray(small_model, noisy, tile=None)
    tiled = denoise_gray(small_model, noisy, tile=tile)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


def test_the_self_ensemble_of_a_colour_photo_is_taken_in_the_colour_space_asked_for(small_model):
    """The tab's "average over the 8 flips and rotations" box on a colour photo: the eight views are denoised in the
    opponent space, as one pass is (R, G, B scores 1.5–2.2 dB worse on colour sets), not in R, G, B."""
    photo = np.random.default_rng(6).random((22, 26, 3))
    channels = photo @ OPPONENT.T + CHROMA_OFFSET
    restored = np.stack([self_ensemble(small_model, channels[..., c]) for c in range(3)], axis=-1)
    expected = (restored - CHROMA_OFFSET) @ np.linalg.inv(OPPONENT).T
    default = denoise_photo(small_model, photo, ensemble=True)
    np.testing.assert_allclose(default, expected, atol=1e-6)
    in_rgb = denoise_photo(small_model, photo, "rgb", ensemble=True)
    np.testing.assert_allclose(in_rgb, np.stack([self_ensemble(small_model, photo[..., c]) for c in range(3)], axis=-1),
                               atol=1e-6)
    assert np.abs(default - in_rgb).max() > 1e-2
