"""cGAN tab views the main tests leave open: the samples follow the noise scale, the slider's top value is accepted,
the verdict counts the samples read right, and the every-digit grid puts each cell in its own place."""
import numpy as np
import pytest
import torch

from demos import cgan as demo
from demos.inputs import enlarge
from demos.output_files import OutputFolder
from generative.models import DigitClassifier, Generator


@pytest.fixture(scope="module")
def tab():
    torch.manual_seed(0)
    tab = demo.CGANTab.__new__(demo.CGANTab)  # the handlers, with tiny models instead of the checkpoints
    tab.generator, tab.classifier, tab.error = Generator(noise_dim=8, width=4).eval(), DigitClassifier(4, 8).eval(), None
    tab.files = OutputFolder("cgan-edges-test")
    return tab


def test_the_samples_are_drawn_from_noise_of_the_scale_asked_for(tab, monkeypatch):
    """The noise-scale slider (temperature) shrinks the samples' noise as it does the strip's and the grid's."""
    seen, draw = [], demo.draw
    monkeypatch.setattr(demo, "draw", lambda generator, z, digits: seen.append(z.clone()) or draw(generator, z, digits))
    demo.samples(tab.generator, 3, 4, seed=7, scale=0.5)
    [z] = seen
    torch.testing.assert_close(z, 0.5 * demo.noise(tab.generator, 4, 7, 1.0), atol=1e-6, rtol=0)


def test_the_top_of_the_noise_scale_slider_is_accepted(tab):
    """The slider ends at MAX_SCALE: its last position must draw, not be refused as out of range."""
    items, _ = tab.generate(4, 2, 0, demo.MAX_SCALE)
    assert len(items) == 2
    assert tab.every_digit(1, 0, demo.MAX_SCALE).shape == (56, 10 * 58 - 2)
    assert len(tab.interpolate(4, 1, 2, 3, demo.MAX_SCALE)[0]) == 3


def test_the_verdict_counts_the_samples_the_classifier_reads_as_the_digit_asked_for(tab):
    items, verdict = tab.generate(4, 5, 0, 1.0)  # an odd count: "right" and "wrong" can never be equal
    right = sum("✗" not in text for _, text in items)
    assert f"The classifier reads **{right} of 5** as a 4." == verdict


def test_each_cell_of_the_every_digit_grid_is_drawn_in_its_own_place_between_grey_lines():
    rows, cols, scale, gap = 2, 10, 2, 2
    values = (np.arange(rows * cols, dtype=np.float32).reshape(rows, cols) + 1) / (rows * cols + 1)
    grid = np.broadcast_to(values[:, :, None, None], (rows, cols, 28, 28)).copy()
    picture = demo.grid_image(grid, scale=scale, gap=gap)
    cell = 28 * scale
    for r in range(rows):
        for c in range(cols):
            top, left = r * (cell + gap), c * (cell + gap)
            np.testing.assert_array_equal(picture[top:top + cell, left:left + cell], enlarge(grid[r, c], scale))
    assert (picture[:, cell:cell + gap] == 96).all() and (picture[cell:cell + gap] == 96).all()  # the grey lines
