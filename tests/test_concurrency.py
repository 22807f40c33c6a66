"""How much heavy work the app lets start at once (Gradio limits each event on its own, and a tab has many), and
that a picture two visitors are given at once reaches both whole."""
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from gradio import processing_utils
from PIL import Image

import app

GRADIO_SAVE_PIL_TO_CACHE = processing_utils.save_pil_to_cache  # read at import, before any test launches the app


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
    measures = [fn for fn in writing(events, "fid-result") if not fn.name.startswith("stop")]  # the Stop button's and /fid_stop
    assert len(measures) == 2  # the page's and the API's: one limit for the two
    assert {(fn.concurrency_id, fn.concurrency_limit) for fn in measures} == {("fid-measure", 1)}


def torn_reads(save, folder, seconds: float = 0.5) -> tuple[int, int]:
    """Reads the cached copy of one picture while two threads keep caching it again with ``save``, as two visitors
    given the same result at once do; returns (reads, reads that did not get the whole file)."""
    picture = Image.fromarray(np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8))
    path = Path(save(picture, str(folder), format="png"))
    size, stop = path.stat().st_size, threading.Event()

    def cache_again():
        while not stop.is_set():
            save(picture, str(folder), format="png")
    writers = [threading.Thread(target=cache_again) for _ in range(2)]
    for writer in writers:
        writer.start()
    reads = torn = 0
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            reads += 1
            torn += len(path.read_bytes()) != size
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    return reads, torn


def test_a_picture_cached_again_while_it_is_served_is_always_read_whole(tmp_path):
    reads, torn = torn_reads(app.save_pil_to_cache_whole, tmp_path / "ours")
    assert reads > 100 and torn == 0
    # Gradio's own rewrites the file in place, and these reads catch it (when this fails, Gradio has fixed it: drop ours)
    assert torn_reads(GRADIO_SAVE_PIL_TO_CACHE, tmp_path / "gradio's")[1] > 0


def test_the_whole_file_writer_names_and_fills_the_cache_as_gradio_does(tmp_path):
    picture = Image.fromarray(np.arange(48 * 32 * 3, dtype=np.uint8).reshape(48, 32, 3))
    for format in ("png", "webp"):
        ours = Path(app.save_pil_to_cache_whole(picture, str(tmp_path / "ours"), format=format))
        theirs = Path(GRADIO_SAVE_PIL_TO_CACHE(picture, str(tmp_path / "gradio's"), format=format))
        assert ours.relative_to(tmp_path / "ours") == theirs.relative_to(tmp_path / "gradio's")
        assert ours.read_bytes() == theirs.read_bytes()
        assert [p.name for p in ours.parent.iterdir()] == [ours.name]  # no staging file left behind


def test_launching_the_app_makes_every_returned_picture_go_through_the_whole_file_writer(monkeypatch):
    monkeypatch.setattr(processing_utils, "save_pil_to_cache", GRADIO_SAVE_PIL_TO_CACHE)  # undone after the test
    app.launch(SimpleNamespace(queue=lambda **_: None, launch=lambda **_: None), "127.0.0.1", 0)
    assert processing_utils.save_pil_to_cache is app.save_pil_to_cache_whole
    calls = []
    monkeypatch.setattr(processing_utils, "save_pil_to_cache", lambda *args, **kwargs: calls.append(args) or
                        app.save_pil_to_cache_whole(*args, **kwargs))
    for component in (gr.Image(format="png"), gr.Gallery(format="png")):
        picture = np.zeros((8, 8, 3), np.uint8)
        component.postprocess([picture] if isinstance(component, gr.Gallery) else picture)
    assert len(calls) == 2  # Gradio's image and gallery outputs look the function up where the app replaced it


def test_the_denoise_api_keeps_no_picture_in_the_session_the_page_keeps_its_input_and_views(events):
    """An API client's session is never closed: state written by its calls (three full-size copies of a photo for the
    detail) stayed in memory until Gradio's 10,000-session limit. The page needs it for reruns and the detail."""
    runs = writing(events, "denoise-photo-denoised")
    api = [fn for fn in runs if fn.api_name in ("denoise_sketch", "denoise_upload")]
    assert len(api) == 2 and not any(isinstance(block, gr.State) for fn in api for block in fn.outputs)
    page = [fn for fn in runs if fn not in api]
    assert page and all(sum(isinstance(block, gr.State) for block in fn.outputs) == 2 for fn in page)
