"""The tabs' shared input checks: bounds are inclusive, a bool is not a number (JSON true would pass as 1), and an
upload that does not look like a digit gets a warning."""
import warnings

import gradio as gr
import numpy as np
import pytest

from demos import inputs
from demos.inputs import (MAX_SEED, checked_int, checked_seed, digit_from_upload, example_paths, is_number, new_seed,
                         with_a_new_seed)
from demos.photo import photo_example_paths


def test_the_bounds_are_part_of_the_range():
    assert checked_seed(0) == 0 and checked_seed(MAX_SEED) == MAX_SEED  # new_seed() may draw either end
    assert checked_int(2, "Steps", 2, 24) == 2 and checked_int(24.0, "Steps", 2, 24) == 24
    for outside in (-1, MAX_SEED + 1):
        with pytest.raises(gr.Error, match="The seed must be a whole number from 0 to"):
            checked_seed(outside)
    assert 0 <= new_seed() <= MAX_SEED


def test_a_new_seed_button_answers_the_seed_with_the_views_drawn_from_it(monkeypatch):
    """One answer for the box and the views: as two events, two quick presses left the second seed in the box over the
    first seed's pictures. The seed goes in where the views' handler takes it; a refusal reaches the page's wrapper
    (``noted_on_refusal``), which keeps the box and the views (tests/test_page_events.py)."""
    drawn = iter([11, 22, 33])
    monkeypatch.setattr(inputs, "new_seed", lambda: next(drawn))
    draw = with_a_new_seed(lambda digit, seed, scale: (f"digit {digit}, seed {seed}", f"scale {scale}"), seed_at=1)
    assert draw(7, 0.5) == (11, "digit 7, seed 11", "scale 0.5")
    assert draw(3, 1.0) == (22, "digit 3, seed 22", "scale 1.0")

    def refusing(digit, seed):
        raise inputs.Refusal("The noise scale must be a number above 0")
    with pytest.raises(gr.Error, match="noise scale"):
        with_a_new_seed(refusing, seed_at=1)(7)


def test_a_bool_is_not_a_number():
    assert not is_number(True) and not is_number(False)
    assert is_number(3) and is_number(10**400) and is_number(0.5) and not is_number(float("nan"))
    with pytest.raises(gr.Error, match="got True"):
        checked_seed(True)


def test_a_huge_value_is_shown_cut_short_in_its_refusal():
    """An API call's 2**2000 was echoed in full: a 600-digit message."""
    with pytest.raises(gr.Error) as refusal:
        checked_seed(2**2000)
    message = refusal.value.message
    assert len(message) < 120 and message.endswith(f"got {repr(2**2000)[:39]}….")
    with pytest.raises(gr.Error) as refusal:
        checked_seed(-12345)
    assert refusal.value.message.endswith("got -12345.")  # short values stay whole
    with pytest.raises(gr.Error, match="got nothing"):  # an emptied box
        checked_seed(None)
    from demos.denoise import DenoiseTab
    from demos.text2img import CaptionError, checked_caption

    with pytest.raises(CaptionError) as refusal:
        checked_caption(["a red circle"] * 10_000)  # an API call's list for a caption
    assert len(str(refusal.value)) < 100
    tab = DenoiseTab.__new__(DenoiseTab)
    tab.model = tab.photo_model = object()
    for refused in (lambda: tab.run(np.zeros((28, 28)), "gaussian", 2**2000, 0, False),
                    lambda: tab.run_photo(np.zeros((64, 64)), 2**2000, 0, False)):
        with pytest.raises(gr.Error) as refusal:
            refused()
        assert len(refusal.value.message) < 120 and "…" in refusal.value.message


def test_a_photo_uploaded_as_an_endpoint_is_said_not_to_look_like_a_digit():
    """The VAE turns anything into a digit; a photo's walk would read 1 → 4 → 2 → 8 with no word of why."""
    for photo in photo_example_paths():
        with pytest.warns(UserWarning, match="does not look like a handwritten digit"):
            digit_from_upload(photo)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # MNIST test digits pass without it
        for digit in example_paths()[:3]:
            digit_from_upload(digit)


def test_a_fraction_or_a_number_for_a_checkbox_is_refused():
    """An API call's 2.5 steps would have run as 2 and its 1 for a checkbox as True: both are refused by name."""
    from demos.inputs import checked_flag

    with pytest.raises(gr.Error, match=r"Steps must be a whole number from 2 to 24, got 2\.5\."):
        checked_int(2.5, "Steps", 2, 24)
    assert checked_flag(True, "The box") is True and checked_flag(False, "The box") is False
    for value in (1, 0, "true", None):
        with pytest.raises(gr.Error, match="The box must be true or false"):
            checked_flag(value, "The box")


def test_the_examples_show_every_digit_on_each_page_of_ten():
    labels = [int(path.rsplit("/", 1)[1].split("_")[0]) for path in example_paths()]
    assert len(labels) >= 20 and labels[:10] == list(range(10)) and labels[10:20] == list(range(10))


def test_a_sketch_sent_without_its_composite_is_told_how_to_send_it(tmp_path):
    """Over the API, background and layers are not read; a call with only them got "The sketch is empty"."""
    from demos.inputs import EMPTY_SKETCH, sketch_path

    layer = str(tmp_path / "layer.png")
    with pytest.raises(gr.Error, match="send the drawing as its `composite`"):
        sketch_path({"background": None, "layers": [layer], "composite": None})
    with pytest.raises(gr.Error, match=EMPTY_SKETCH):
        sketch_path({"background": None, "layers": [], "composite": None})
    assert sketch_path({"composite": {"path": layer}}) == sketch_path({"composite": layer}) == layer
