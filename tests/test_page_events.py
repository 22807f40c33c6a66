"""The page's events and the API's: a value our checks refuse warns on the page and keeps what is shown, and reaches
an API caller as an error."""
import os
import subprocess
import sys
from pathlib import Path

import gradio as gr
import pytest

import app
from event_wiring import answer, handlers_of, page_warnings


@pytest.fixture(scope="module")
def demo():
    return app.build_demo()


def test_no_control_on_the_page_is_an_api_endpoint(demo):
    """An endpoint must raise what it refuses, and raised on the page the error marked every output of the event
    "Error" and left the last result under it, to be read as the new one's: the FID calculator's distance after a zip
    with no images, the text-to-image tab's summary after an unknown word. The endpoints sit on hidden buttons; the
    page's controls have events of their own, the FID tab's Stop too: with nothing running it keeps the result shown,
    where the API's caller needs an answer."""
    public = [fn for fn in demo.fns.values() if fn.api_visibility == "public"]
    on_page = [fn.api_name for fn in public if any(demo.blocks[block].visible for block, _ in fn.targets if block in demo.blocks)]
    assert len(public) >= 17 and on_page == []


# (page element, its event, the API's hidden button): refused and accepted arguments, what the refusal says, and where
# the event's outputs hold the line under its view. These views once had no text of their own and only warned.
NOTED_UNDER_A_STRIP = {
    ("t2i-blend-button", "click", "t2i-api-blend"):
        (("a red circle", "a purple unicorn", 4, 0), ("a red circle", "a blue square", 3, 0), "unicorn", 3),
    ("cgan-styles-button", "click", "cgan-api-every-digit"): ((2, -5, 1.0), (2, 5, 1.0), "seed", 1),
    ("cgan-walk-button", "click", "cgan-api-interpolate"): ((4, 1, -1, 6, 1.0), (4, 1, 2, 3, 1.0), "Seed B", 3),
}


@pytest.mark.parametrize("page, event, api", NOTED_UNDER_A_STRIP, ids=[page for page, _, _ in NOTED_UNDER_A_STRIP])
def test_a_refused_value_is_an_error_over_the_api_and_on_the_page_keeps_the_view_and_says_so_under_it(demo, page,
                                                                                                       event, api):
    """The cGAN's rows and noise walk and the text-to-image blend kept their pictures under a refused value with only
    a passing warning: the line under each now says what was not drawn."""
    refused, accepted, message, note_at = NOTED_UNDER_A_STRIP[page, event, api]
    [on_page], [endpoint] = handlers_of(demo, page, event), handlers_of(demo, api, "click")
    with pytest.raises(gr.Error, match=message):
        answer(endpoint, *refused)
    with pytest.warns(UserWarning, match=message) as warned:
        kept = on_page(*refused)
    assert len(page_warnings(warned)) == 1 and kept[note_at].startswith("⚠️ **Not drawn:** ") and message in kept[note_at]
    assert all(isinstance(view, type(gr.skip())) for i, view in enumerate(kept) if i != note_at)
    drawn = on_page(*accepted)
    assert len(drawn) == len(kept) and drawn[note_at].startswith("The ")  # "The classifier reads", "The scene reader"


NOTED = {  # page element and event: refused and accepted arguments, what the refusal says; the API's hidden button
    ("t2i-generate", "click"): (("a red dragon", 4, 0), ("a large red circle in the centre", 2, 0), "Unknown word: 'dragon'"),
    ("t2i-caption", "submit"): (("a red dragon", 4, 0), ("a large red circle in the centre", 2, 0), "Unknown word: 'dragon'"),
    ("t2i-count", "change"): (("a red circle", 0, 0), ("a large red circle in the centre", 2, 0), "number of pictures"),
    ("cgan-generate", "click"): ((7, 4, -5, 1.0), (7, 2, 5, 1.0), "seed"),
    ("cgan-count", "change"): ((7, 400, 0, 1.0), (7, 2, 5, 1.0), "number of samples"),
}
API_OF = {"t2i": "t2i-api-generate", "cgan": "cgan-api-generate"}


@pytest.mark.parametrize("page, event", NOTED, ids=[page for page, _ in NOTED])
def test_a_refused_request_keeps_the_pictures_and_the_text_under_them_says_they_are_not_its_own(demo, page, event):
    """The old pictures and "16 of 16" stayed under a caption the tab had refused, as if they were its pictures: the
    summary (text-to-image) or the verdict (cGAN) under them now says they are the last ones drawn."""
    refused, accepted, message = NOTED[page, event]
    [endpoint] = handlers_of(demo, API_OF[page.split("-")[0]], "click")
    with pytest.raises(gr.Error, match=message):
        endpoint(*refused)
    [on_page] = handlers_of(demo, page, event)
    with pytest.warns(UserWarning, match=message) as warned:
        pictures, text = on_page(*refused)
    assert len(page_warnings(warned)) == 1 and isinstance(pictures, type(gr.skip()))
    assert text.startswith("⚠️ **Not drawn:** ") and message in text and "still the last ones drawn" in text
    pictures, text = on_page(*accepted)
    assert len(pictures) == 2 and not text.startswith("⚠️")


CGAN_REDRAW = (7, 4, 0, 9.0, 2, 1, 2, 6), (7, 2, 0, 1.0, 1, 1, 2, 3)  # digit, count, seed, scale, rows, seeds A, B, steps
T2I_SEEDED = ("a red dragon", 4, "a red circle", "a blue square", 3), ("a red circle", 2, "a red circle", "a blue square", 3)
SETTINGS_NOTED = {  # page element and event: refused and accepted arguments, what the refusal says, the notes' outputs
    ("cgan-digit", "change"): (*CGAN_REDRAW, "noise scale", (1, 3, 7)),  # under the samples, the rows and the walk
    ("cgan-scale", "change"): (*CGAN_REDRAW, "noise scale", (1, 3, 7)),
    ("cgan-seed", "submit"): ((7, 4, -5, 1.0, 2), (7, 2, 5, 1.0, 1), "seed", (1, 3)),
    ("cgan-new-seed", "click"): ((7, 4, 9.0, 2), (7, 2, 1.0, 1), "noise scale", (2, 4)),  # the seed box comes first
    ("t2i-seed", "submit"): ((*T2I_SEEDED[0], -5), (*T2I_SEEDED[1], 5), "seed", (1, 5)),
    ("t2i-new-seed", "click"): (*T2I_SEEDED, "Unknown word: 'dragon'", (2, 6)),
}  # the VAE tab's endpoints and decoded point: tests/test_vae_demo.py


@pytest.mark.parametrize("page, event", SETTINGS_NOTED, ids=[page for page, _ in SETTINGS_NOTED])
def test_every_refused_value_under_a_view_with_a_text_keeps_the_views_and_the_text_says_so(demo, page, event):
    """A noise scale typed out of range or a seed box's refused seed kept every view without a word on the page (and
    warned once): the text under each view the event draws now says what was not drawn. A New seed pressed beside a
    refused value keeps the seed box as well as the views."""
    refused, accepted, message, notes_at = SETTINGS_NOTED[page, event]
    [on_page] = handlers_of(demo, page, event)
    with pytest.warns(UserWarning, match=message) as warned:
        kept = on_page(*refused)
    assert len(page_warnings(warned)) == 1
    assert all(kept[i].startswith("⚠️ **Not drawn:** ") and message in kept[i] for i in notes_at)
    assert all(isinstance(view, type(gr.skip())) for i, view in enumerate(kept) if i not in notes_at)
    drawn = on_page(*accepted)
    assert len(drawn) == len(kept) and all(isinstance(drawn[i], str) and not drawn[i].startswith("⚠️") for i in notes_at)


def test_every_event_a_change_triggers_runs_again_for_the_last_change(demo):
    """gr.on takes its mode from its first trigger: listed first, a button's "once" dropped the changes that came while
    a run went on, and four quick presses of an arrow key on the cGAN's slider left 19 samples under it at 20."""
    on_change = [fn for fn in demo.fns.values() if any(event == "change" for _, event in fn.targets)]
    assert len(on_change) >= 20 and {fn.trigger_mode for fn in on_change} == {"always_last"}


def test_every_whole_number_slider_is_an_integer_in_the_api(demo):
    """view_api typed the sample counts, step counts and σ as float: a program read that 2.5 pictures could be asked for."""
    sliders = [block for block in demo.blocks.values() if isinstance(block, gr.Slider)]
    whole = [s for s in sliders if all(float(v).is_integer() for v in (s.step, s.minimum, s.maximum))]
    assert len(whole) >= 9 and {s.elem_id: s.api_info()["type"] for s in whole} == {s.elem_id: "integer" for s in whole}


def test_pictures_offer_the_share_button_only_on_a_space(demo):
    """Gradio's share button posts to a Space's discussions: run anywhere else, every picture's share icon answered
    "Must be on Spaces to share." in red. On a Space (SYSTEM=spaces) it is offered again."""
    pictures = [block for block in demo.blocks.values()  # what the tabs show; the upload boxes show no share button
                if isinstance(block, (gr.Image, gr.Gallery)) and not (block.elem_id or "").endswith("-upload")]
    assert len(pictures) >= 20 and not any("share" in block.buttons for block in pictures)
    assert all({"download", "fullscreen"} <= set(block.buttons) for block in pictures)
    on_a_space = subprocess.run(
        [sys.executable, "-c", "from demos.inputs import GALLERY_BUTTONS, IMAGE_BUTTONS; print(IMAGE_BUTTONS, GALLERY_BUTTONS)"],
        cwd=Path(app.__file__).parent, env=os.environ | {"SYSTEM": "spaces"}, capture_output=True, text=True, check=True)
    assert on_a_space.stdout.count("'share'") == 2
