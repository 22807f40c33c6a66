"""Library plumbing: the latent map's pictures, the digit classifier's input, and the commands a
model card records. Each test fails on a small change the rest of the suite let through; expectations come from
symmetry, from matplotlib's published palette, or from an area average worked out by hand."""
import shlex

import numpy as np
import pytest
import torch

from generative.latent_map import CELL, TICK, TICK_COLOUR, LatentMap
from generative.metrics.features import digit_input
from generative.models import VAE
from generative.provenance import PROJECT_ROOT, command_line, script_arguments

TAB10_RED = (214, 39, 40)  # matplotlib's "tab:red", the fourth colour of tab10 (label 3)


@pytest.fixture(scope="module")
def small_map():
    torch.manual_seed(1)
    means, labels = np.array([[1.5, -1.5]]), np.array([3])
    return LatentMap(VAE(latent_dim=2, width=4).eval(), means, labels, extent=3.0, cells=10)


def test_each_pixel_names_the_latent_point_at_its_centre_so_the_panel_is_symmetric(small_map):
    """Pixel x covers [x, x + 1), so its latent point is that of x + ½: the leftmost and rightmost pixels, and the top
    and bottom ones, are mirror images through 0 (the pixel's corner would shift the whole map by half a pixel)."""
    last = small_map.panel - 1
    for x, y in ((0, 0), (3, 70), (139, 140)):
        here = small_map.pixel_to_latent(x, y)
        mirrored = small_map.pixel_to_latent(last - x, last - y)
        np.testing.assert_allclose(here, -mirrored, atol=1e-12)
    half_pixel = small_map.extent / small_map.panel  # 2·extent / panel per pixel, half of it
    np.testing.assert_allclose(small_map.pixel_to_latent(0, 0), [-3 + half_pixel, 3 - half_pixel])
    assert small_map.pixel_to_latent(small_map.panel, 0) is None and small_map.pixel_to_latent(0, -1) is None


def test_every_manifold_cell_shows_the_digit_decoded_at_its_centre(small_map):
    """The left panel is a grid of 28×28 decoded digits: cell (row r, column c) must hold the decoder's picture of the
    latent point at that cell's centre, whole (tiling the stack of digits the wrong way scrambles their rows)."""
    picture = np.asarray(small_map.manifold)
    centres = small_map.cell_centres()
    with torch.no_grad():
        for row, column in ((0, 0), (0, 7), (4, 2), (9, 9)):
            z = torch.from_numpy(centres[row, column]).float()[None]
            digit = (small_map.model.pixel_means(z)[0, 0].numpy() * 255).round().astype(np.uint8)
            cell = picture[row * CELL:(row + 1) * CELL, column * CELL:(column + 1) * CELL]
            assert np.array_equal(cell[..., 0], digit) and np.array_equal(cell[..., 2], digit)


def test_a_test_digits_dot_has_the_colour_of_its_label(small_map):
    """The scatter colours label d with tab10's d-th colour (its legend says so): a 3 at (1.5, −1.5) is tab:red."""
    x, y = small_map.latent_to_pixel(np.array([1.5, -1.5]))
    assert (x, y) == (210, 210)
    assert tuple(np.asarray(small_map.scatter)[int(y), int(x)]) == TAB10_RED


def test_the_scatter_has_a_tick_at_each_whole_number_on_both_axes(small_map):
    """Ticks on the bottom edge (z₁) and the right edge (z₂) of the scatter, where the latent value is the whole number:
    a point can be read off and typed into the boxes. The edge rows between ticks stay blank."""
    picture = np.asarray(small_map.scatter)
    last = small_map.panel - 1
    assert small_map.tick_values() == [-2, -1, 0, 1, 2]
    for value in small_map.tick_values():
        column = int(small_map.latent_to_pixel(np.array([value, 0.0]))[0])  # the pixel that holds the value
        row = int(small_map.latent_to_pixel(np.array([0.0, value]))[1])
        assert np.allclose(small_map.pixel_to_latent(column, row), [value, value], atol=small_map.extent / small_map.panel)
        assert (picture[last - TICK:, column] == TICK_COLOUR).all(), value
        assert (picture[row, last - TICK:] == TICK_COLOUR).all(), value
    ticked = {int(small_map.latent_to_pixel(np.array([v, 0.0]))[0]) for v in small_map.tick_values()}
    assert all((picture[last, x] == 255).all() for x in range(small_map.panel) if x not in ticked)


def test_a_fine_checkerboard_reaches_the_digit_classifier_as_mid_grey():
    """A 56×56 image goes to the classifier through PIL's bilinear, which averages the pixels under each output pixel
    (a triangle over 4×4 inputs, weights ⅛, ⅜, ⅜, ⅛ per axis): a one-pixel black-and-white checkerboard comes out
    uniform grey, 127.5 / 255 (up to a few levels along the border, where the triangle is cut off). Nearest-neighbour
    would keep one of the two colours, all black or all white."""
    rows, columns = np.indices((56, 56))
    board = np.where((rows + columns) % 2 == 0, 255, 0).astype(np.uint8)
    x = digit_input(np.repeat(board[..., None], 3, axis=-1))
    assert x.shape == (1, 28, 28)
    assert (x[0, 1:-1, 1:-1] - 0.5).abs().max().item() <= 1 / 255
    assert (x - 0.5).abs().max().item() <= 3 / 255


@pytest.mark.parametrize("argv", [["--output-dir", "my models/vae", "--latent-dim", "2"],
                                  ["--note", "it's \"quoted\"", "--data-root", "$HOME/data"], []])
def test_a_recorded_command_gives_back_the_arguments_it_was_run_with(argv):
    """A card's command is retyped in a shell and parsed back by ``script_arguments`` (resume compares them): an
    argument with a space, a quote or a ``$`` must come back as one word, unchanged."""
    command = command_line(str(PROJECT_ROOT / "training" / "train_vae.py"), argv)
    assert shlex.split(command) == ["python", "training/train_vae.py", *argv]
    assert script_arguments(command) == argv
    assert script_arguments(command_line(str(PROJECT_ROOT / "training" / "train_vae.py"), argv, processes=4)) == argv
