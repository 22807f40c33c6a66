"""How much heavy work the app lets start at once: Gradio limits each event on its own, and a tab has many."""
import pytest

import app


@pytest.fixture(scope="module")
def events():
    return list(app.build_demo().fns.values())


def writing(events, elem_id: str) -> list:
    return [fn for fn in events if any(getattr(block, "elem_id", None) == elem_id for block in fn.outputs)]


def test_every_event_that_runs_a_denoiser_shares_two_workers_and_the_zoom_waits_for_none(events):
    """Eleven events run a model (two per event: up to twenty-two photo runs at once on two cores)."""
    runs = writing(events, "denoise-photo-denoised")
    assert len(runs) == 11
    assert {(fn.concurrency_id, fn.concurrency_limit) for fn in runs} == {("denoise-models", 2)}
    zooms = [fn for fn in writing(events, "denoise-photo-zoom") if fn not in runs]
    assert len(zooms) == 6 and all(fn.concurrency_id != "denoise-models" for fn in zooms)  # cropping is instant


def test_only_the_api_runs_draw_the_photo_detail_the_page_leaves_it_to_the_sliders(events):
    """Drawn by a page's run too, the centre's detail flashed up before the sliders' event put theirs in its place."""
    runs = writing(events, "denoise-photo-denoised")
    drawing_detail = [fn for fn in runs if any(getattr(block, "elem_id", None) == "denoise-photo-zoom" for block in fn.outputs)]
    assert sorted(fn.api_name for fn in drawing_detail) == ["denoise_sketch", "denoise_upload"]


def test_the_zoom_sliders_and_a_click_are_wired_across_then_down(events):
    """A click fills the sliders (across, then down) and they place the detail; a wrong order is right only once."""
    ids = lambda blocks: [getattr(block, "elem_id", None) for block in blocks]  # noqa: E731
    zooms = writing(events, "denoise-photo-zoom")
    clicks = [fn for fn in zooms if ids(fn.outputs) != ["denoise-photo-zoom"] and fn.concurrency_id != "denoise-models"]
    assert len(clicks) == 3 and all(ids(fn.outputs) == ["denoise-photo-zoom", "denoise-zoom-across", "denoise-zoom-down"]
                                    for fn in clicks)
    moves = [fn for fn in zooms if ids(fn.inputs)[1:] == ["denoise-zoom-across", "denoise-zoom-down"]]
    # the sliders' "input" (a person moving them), not "change", which a click's own update would fire again
    assert sorted(event for fn in moves for _, event in fn.targets) == ["change", "input", "input"]  # change: the photo


def test_fid_measures_one_set_pair_at_a_time(events):
    """A measurement can take both cores for minutes (10,000 images against the test set: 11.9 min on an idle machine)."""
    measures = [fn for fn in writing(events, "fid-result") if fn.api_name != "fid_stop"]
    assert len(measures) == 2  # the page's and the API's: one limit for the two
    assert {(fn.concurrency_id, fn.concurrency_limit) for fn in measures} == {("fid-measure", 1)}
