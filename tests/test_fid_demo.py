"""The FID tab's functions, called directly: generated sets, sample grids, the result text and the handler's refusals."""
from __future__ import annotations

import dataclasses
import re
import threading
import time

import gradio as gr
import numpy as np
import pytest
import torch

from demos import fid as fid_demo
from demos.background import cancellable
from demos.fid import (FEATURE_CHOICES, GENERATOR_CHOICES, REFERENCE_CHOICES, RENDERED_SCENES, UPLOAD, FIDTab,
                       REPORTS, about_markdown, generated_images, rendered_scenes, resize_control, result_markdown, sample_grid)
from demos.reports import benchmark_report
from demos.text2img import read, readout_captions
from event_wiring import answer, events_of, handlers_of, page_warnings
from generative.data.image_sets import Skipped
from generative.hub import PRETRAINED_DIR, load_model
from generative.metrics.fid import Comparison
from generative.metrics.features import SetFeatures
from generative.metrics.frechet import GaussianStats
from generative.metrics.sample_sets import PR_NEIGHBOURS
from generative.models.scene_reader import SceneReader
from input_files import random_digits_zip

CLASSIFIER = list(FEATURE_CHOICES)[1]
MNIST_REFERENCE, CGAN = next(iter(REFERENCE_CHOICES)), next(iter(GENERATOR_CHOICES))


@pytest.fixture(scope="module")
def tab() -> FIDTab:
    return FIDTab()


@pytest.mark.parametrize("model", ["cgan-mnist", "vae-mnist-z16"])
def test_generated_images_are_seeded_digits_in_the_unit_range(tab, model):
    generator = tab.generator(model)
    first, again, other = (generated_images(model, generator, 25, seed) for seed in (3, 3, 4))
    assert first.shape == (25, 28, 28) and 0 <= first.min() and first.max() <= 1
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_vae_sets_decode_codes_drawn_from_the_standard_normal_prior(tab):
    """The VAE's samples are what its prior gives, z ~ N(0, I) from the seed: a narrower z (a lower temperature) would
    give cleaner digits and flatter the VAE's FID."""
    model = tab.generator("vae-mnist-z16")
    z = torch.randn(40, model.latent_dim, generator=torch.Generator().manual_seed(6))
    with torch.inference_mode():
        expected = model.pixel_means(z)[:, 0].numpy()
    np.testing.assert_allclose(generated_images("vae-mnist-z16", model, 40, seed=6), expected, atol=1e-6)


def test_text2img_pictures_pair_with_the_rendered_scenes_of_the_same_seed(tab):
    generator = tab.generator("text2img-shapes")
    pictures, rendered = generated_images("text2img-shapes", generator, 12, seed=2), rendered_scenes(12, seed=2)
    assert pictures.shape == rendered.shape[:1] + (32, 32, 3) and rendered.dtype == np.uint8
    assert 0 <= pictures.min() and pictures.max() <= 1
    assert np.array_equal(pictures, generated_images("text2img-shapes", generator, 12, seed=2))
    assert not np.array_equal(rendered, rendered_scenes(12, seed=3))
    reader = load_model(SceneReader, str(PRETRAINED_DIR / "scene-reader"), train_command="")
    drawn, shown = (readout_captions(read(reader, images), None) for images in (pictures, rendered / 255))
    paired = sum(a == b for a, b in zip(drawn, shown))
    assert paired >= 10, list(zip(drawn, shown))  # picture i was drawn from scene i's caption (the model is ~98% right)
    assert sum(a == b for a, b in zip(drawn, shown[1:] + shown[:1])) < paired  # not any order would do


def test_rendered_scenes_against_text2img_pictures_in_the_handler_announcing_the_distance_step(tab):
    """The 2048-d square root takes seconds with no bar of its own: the progress line says what is being computed.

    With a level: Gradio 6's status tracker shows a ``desc`` only beside one (``progress(None, desc=...)`` left the
    page showing its timer alone, seen in Chromium)."""
    calls = []
    text, grid_a, grid_b = tab.measure(RENDERED_SCENES, None, list(GENERATOR_CHOICES)[2], None, 24, 0,
                                       next(iter(FEATURE_CHOICES)), "pytorch-fid", True, False,
                                       progress=lambda fraction, desc=None: calls.append((fraction, desc)))
    assert "FID:" in text and "24 rendered toy-world scenes" in text and "N = 24" in text
    assert grid_a.shape == grid_b.shape and grid_a.shape[2] == 3
    assert calls == [(0, "Comparing the two sets (the Fréchet distance's square root of a 2048×2048 matrix: the bar stays "
                         "at 0% until it ends)")]


def test_cgan_sets_cover_every_digit(tab):
    classifier = tab.extractor("classifier", "pytorch-fid").network.classifier
    images = generated_images("cgan-mnist", tab.generator("cgan-mnist"), 100, seed=0)
    predicted, _ = classifier.predict(torch.from_numpy(images)[:, None])
    assert np.bincount(predicted.numpy(), minlength=10).min() >= 7  # 10 of each asked, shuffled


def test_cgan_sets_hold_each_digit_equally_often_to_within_one_in_shuffled_order(monkeypatch):
    def digits_as_images(model, per_class, seed):  # each image's pixels hold its digit
        labels = torch.arange(10).repeat_interleave(per_class)
        return labels[:, None, None, None].float().expand(-1, 1, 28, 28), labels

    monkeypatch.setattr(fid_demo, "generate_per_class", digits_as_images)
    for count in (25, 7, 100):
        digits = generated_images("cgan-mnist", None, count, seed=1)[:, 0, 0].astype(int)
        assert len(digits) == count and np.ptp(np.bincount(digits, minlength=10)) <= 1, (count, digits)
        assert not np.array_equal(digits, np.sort(digits))


def test_loading_is_done_once_when_two_first_requests_meet(monkeypatch):
    loads = []

    def slow_make_extractor(kind, resize, device):
        loads.append(kind)
        time.sleep(0.3)
        return object()

    monkeypatch.setattr(fid_demo, "make_extractor", slow_make_extractor)
    fresh = FIDTab()
    threads = [threading.Thread(target=fresh.extractor, args=("classifier", "pytorch-fid")) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == ["classifier"]


def test_sample_grid_fits_any_sizes_into_cells():
    images = [np.full((28, 28, 3), 255, np.uint8), np.zeros((300, 100, 3), np.uint8), np.full((5, 7, 3), 128, np.uint8)]
    grid = sample_grid(images, columns=2, cell=56)
    assert grid.shape == (112, 112, 3)
    assert (grid[:56, :56] == 255).all()                      # 28×28 enlarged 2× without blur fills its cell
    assert (grid[:56, 56 + 28 - 9: 56 + 28 + 9] == 0).all()    # the tall image is scaled into its cell, centred
    assert sample_grid([]) is None


def test_resize_is_offered_only_for_inception_features():
    inception, classifier = (resize_control(choice) for choice in FEATURE_CHOICES)
    assert inception.interactive and "299×299" in inception.info
    assert not classifier.interactive and classifier.info.startswith("not used")


def features(n: int, extractor: str = "Inception-v3 pool3 …", dim: int = 2048) -> SetFeatures:
    return SetFeatures(GaussianStats(np.zeros(dim), np.eye(dim), n), None, f"set of {n}", extractor, "pytorch-fid", Skipped())


def test_result_text_names_extractor_resize_and_n_and_warns_at_small_n():
    text = result_markdown(Comparison(features(100), features(5000), 12.3456))
    assert text.startswith("### FID: 12.3456") and "resize: pytorch-fid" in text and "N = 5,000" in text
    assert "⚠️ set A (set of 100): N = 100 ≤ 2,048, the feature dimension" in text and "set of 5000): N" not in text.split("⚠️")[1]
    digits = result_markdown(Comparison(features(200, "MNIST classifier", 128), features(100, "MNIST classifier", 128), 1.0))
    assert digits.startswith("### Fréchet distance: 1.0000")
    assert "⚠️ set B (set of 100): N = 100 ≤ 128, the feature dimension, so its covariance is singular and the Fréchet" in digits
    assert "set of 200): N" not in digits
    for rounding_below_zero in (-1e-9, -1e-4):  # identical sets: the matrix square root's rounding, never a negative FID
        assert result_markdown(Comparison(features(3000), features(3000), rounding_below_zero)).startswith("### FID: 0.0000\n")


def test_kid_says_when_it_has_no_spread_and_precision_recall_warns_at_few_vectors():
    def kept(n: int) -> SetFeatures:
        return dataclasses.replace(features(n), kept=np.zeros((n, 4)))

    same_size = result_markdown(Comparison(kept(30), kept(30), 5.0, kid=(-0.57, 0.0), precision_recall=(1.0, 1.0)))
    assert "KID: -0.570000 (polynomial kernel, one subset of 30: both sets whole, so no ± spread)" in same_size
    assert "⚠️ precision/recall from fewer than 100 feature vectors per set" in same_size
    assert "⚠️ KID from subsets of 30 feature vectors: unbiased, but at this N so noisy" in same_size
    larger = result_markdown(Comparison(kept(3000), kept(200), 5.0, kid=(0.01, 0.002), precision_recall=(0.9, 0.8)))
    assert "KID: 0.010000 (polynomial kernel, ± 0.002000 over subsets of 200)" in larger
    assert "precision/recall from fewer" not in larger and "KID from subsets" not in larger


BAD_REQUESTS = {
    "unknown features": (dict(features="pixels"), "Unknown features: got 'pixels'"),
    "features as a list": (dict(features=[CLASSIFIER]), "Unknown features"),
    "unknown resize": (dict(resize="nearest"), "Unknown resize convention"),
    "resize as a dict": (dict(resize={"a": 1}), "Unknown resize convention"),
    "unknown set B": (dict(choice_b="my photos"), "Unknown set B"),
    "'false' for KID": (dict(kid="false"), "KID box must be true or false"),
    "no upload": (dict(choice_b=UPLOAD), "upload a .zip"),
    "upload not a zip": (dict(choice_b=UPLOAD, upload_b={"path": "/tmp/x.png"}), "must be a .zip"),
    "count 1": (dict(count=1), "2 to 10000"),
    "count text": (dict(count="many"), "whole number"),
    "negative seed": (dict(seed=-1), "seed"),
    "classifier on scenes": (dict(choice_a=RENDERED_SCENES), "Rendered toy-world scenes are not digits"),
    "classifier on toy pictures": (dict(choice_b=list(GENERATOR_CHOICES)[2]), "Text-to-image toy pictures are not digits"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_bad_requests_are_refused_with_a_message(tab, case):
    changes, words = BAD_REQUESTS[case]
    request = dict(choice_a=MNIST_REFERENCE, upload_a=None, choice_b=CGAN, upload_b=None, count=20, seed=0, features=CLASSIFIER,
                   resize="pytorch-fid", kid=False, pr=False) | changes
    with pytest.raises(gr.Error, match=words):
        tab.measure(**request)


def test_a_refused_request_in_the_page_keeps_the_result_and_says_it_is_not_this_ones():
    """The page's Measure: a refused request (a missing zip for B) warns, keeps the result on show, and the note above
    it says the result is an earlier one; the next measurement clears the note. The API's endpoint refuses with an error."""
    with gr.Blocks() as blocks:
        fid_demo.build_tab()
    [clear_note, on_page] = handlers_of(blocks, "fid-measure", "click")
    [api] = handlers_of(blocks, "fid-api-measure", "click")
    request = [MNIST_REFERENCE, None, UPLOAD, None, 20, 0, CLASSIFIER, "pytorch-fid", False, False]
    with pytest.warns(UserWarning, match="Set B: upload a .zip") as warned:
        note, *kept = on_page(*request)
    assert len(page_warnings(warned)) == 1 and all(isinstance(value, type(gr.skip())) for value in kept)
    assert note.startswith("⚠️ **Not measured:** Set B: upload a .zip") and "from an earlier measurement" in note
    assert clear_note() == ""
    with pytest.raises(gr.Error, match="Set B: upload a .zip"):
        answer(api, *request)
    note, text, grid_a, grid_b = on_page(*request[:2], CGAN, *request[3:])
    assert note == "" and text.startswith("### Fréchet distance:") and grid_b is not None


def test_the_sample_count_and_seed_are_greyed_out_unless_a_set_is_drawn():
    """Uploads and reference statistics use neither: only samples of a generator (B) or rendered scenes (A) do."""
    for choice_a, choice_b, drawn in ((MNIST_REFERENCE, CGAN, True), (MNIST_REFERENCE, UPLOAD, False),
                                      (UPLOAD, UPLOAD, False), (RENDERED_SCENES, UPLOAD, True), (UPLOAD, CGAN, True)):
        count, seed = fid_demo.drawn_set_controls(choice_a, choice_b)
        assert count["interactive"] is seed["interactive"] is drawn, (choice_a, choice_b)
        assert count["info"] == seed["info"] == ("" if drawn else fid_demo.NOTHING_DRAWN)
    with gr.Blocks() as blocks:
        fid_demo.build_tab()
    for elem_id in ("fid-set-a", "fid-set-b"):
        [event] = events_of(blocks, elem_id, "change")
        assert event.fn is fid_demo.drawn_set_controls
        assert [block.elem_id for block in event.inputs] == ["fid-set-a", "fid-set-b"]
        assert [block.elem_id for block in event.outputs] == ["fid-count", "fid-seed"]


def test_precision_recall_needs_more_images_than_neighbours_and_says_so(tab):
    """Each point's ball reaches its k-th nearest neighbour among the others, so a set of k images has none: the tab
    skips precision/recall with a note (not an error), and measures it from k + 1 images on."""
    request = dict(choice_a=MNIST_REFERENCE, upload_a=None, choice_b=CGAN, upload_b=None, seed=0, features=CLASSIFIER,
                   resize="pytorch-fid", kid=False, pr=True)
    note = f"Precision/recall not computed: it needs more than {PR_NEIGHBOURS} images in each set."
    at_k = tab.measure(count=PR_NEIGHBOURS, **request)[0]
    assert note in at_k and "precision:" not in at_k
    above = tab.measure(count=PR_NEIGHBOURS + 1, **request)[0]
    assert note not in above and f"k = {PR_NEIGHBOURS} nearest neighbours among {PR_NEIGHBOURS + 1} feature vectors" in above


def test_a_bad_set_b_is_refused_before_set_a_is_measured(tab, monkeypatch):
    def no_extraction(*args, **kwargs):
        raise AssertionError("set A was measured before set B was checked")

    monkeypatch.setattr(fid_demo, "extract", no_extraction)
    with pytest.raises(gr.Error, match="Set B: upload a .zip"):
        tab.measure(RENDERED_SCENES, None, UPLOAD, None, 20, 0, next(iter(FEATURE_CHOICES)), "pytorch-fid", False, False)


def test_an_upload_over_the_image_limit_is_refused_before_it_is_measured(tab, monkeypatch, tmp_path):
    """A 15 MB zip of 100,000 tiny PNGs once kept the server busy for hours; the cap is checked before extraction."""
    monkeypatch.setattr(fid_demo, "MAX_UPLOADED", 3)
    request = dict(choice_a=MNIST_REFERENCE, upload_a=None, choice_b=UPLOAD, count=20, seed=0, features=CLASSIFIER,
                   resize="pytorch-fid", kid=False, pr=False)
    over, at = (random_digits_zip(tmp_path / f"{n}.zip", n, seed=0) for n in (4, 3))
    with pytest.raises(gr.Error, match=r"Set B: 4.zip holds 4 images; the tab measures at most 3 per set. The command line"):
        tab.measure(upload_b={"path": str(over)}, **request)
    assert "B: 3.zip, N = 3" in tab.measure(upload_b={"path": str(at)}, **request)[0]


def test_the_explanation_quotes_speed_agreement_and_the_full_run_from_their_results():
    epyc, xeon = ({"hardware": {"cpu": cpu, "logical_cores": 2}} for cpu in ("AMD EPYC", "Intel(R) Xeon(R) Processor"))
    speed = epyc | {"verdict": {"best_ours": {"images_per_s": 20.0}}}
    distance = xeon | {"distance": {"distance_fastest_seconds": 12.4}}
    agreement = {"peers": {"pytorch-fid": {"rows": [{"relative_difference": 3e-7}]},
                           "clean-fid (clean)": {"rows": [{"relative_difference": 8e-8}, {"relative_difference": 2e-6}]}}}
    full_run = epyc | {"count": 5000, "runs": [{"metric": "Fréchet distance", "value": 0.5, "seconds": 20},
                                               {"metric": "FID", "value": 9.876, "seconds": 600}]}
    text = about_markdown(speed, distance, agreement, full_run)
    assert "On a 2-core AMD EPYC the Inception network reads about 20 images/s" in text and "250 images take about 12 s" in text
    assert "took 12 s on a 2-core Intel Xeon Processor" in text  # each figure with its own machine
    assert "agrees with pytorch-fid and clean-fid (clean) to 2e-6 relative" in text  # the worst row of any peer
    assert "5,000 cGAN samples vs the MNIST reference give FID 9.88 (10 minutes on a 2-core AMD EPYC" in text
    assert "Speed and agreement" not in about_markdown(None, None, None, None)  # no results shipped: no figures quoted
    assert "agrees" not in about_markdown(speed, None, {"peers": {}, "skipped_peers": ["pytorch-fid"]}, None)  # none installed
    one_peer = {"peers": {"pytorch-fid": {"rows": [{"relative_difference": 0.0}]}}}
    assert "agrees with pytorch-fid exactly on the same images" in about_markdown(None, None, one_peer, None)
    shipped = about_markdown(*(benchmark_report(name) for name in REPORTS))
    assert "give FID 7.43" in shipped  # benchmarks/results/fid_full_run.md: 7.428
    assert "square root of the 2048×2048 product, took 12 s on a 2-core Intel Xeon Processor" in shipped  # fid_distance_speed.md: 11.87 s


def test_stop_ends_the_running_measurement_of_its_own_session_only(tab):
    """Gradio's cancel cannot reach a running function, so the Stop button's handler sets an event the work checks."""
    page, other_page = gr.Request(session_hash="page"), gr.Request(session_hash="other page")
    outcome = {}

    def measure_ten_thousand():
        outcome["result"] = tab.measure(MNIST_REFERENCE, None, CGAN, None, 10_000, 0, CLASSIFIER, "pytorch-fid", False,
                                        False, page)

    worker = threading.Thread(target=measure_ten_thousand)
    worker.start()
    deadline = time.monotonic() + 60
    while "page" not in tab.work.running and worker.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "page" in tab.work.running, "the measurement never started extracting"
    assert tab.stop_on_page(other_page) == gr.skip()  # nothing of its own running: the shown result stays
    assert tab.stop_for_the_api(other_page) == fid_demo.NOTHING_TO_STOP  # the API's caller gets an answer
    assert not any(event.is_set() for event in tab.work.running["page"])
    assert tab.stop_on_page(page) == fid_demo.STOPPED
    worker.join(timeout=10)
    assert not worker.is_alive(), "the measurement went on after Stop"
    text, grid_a, grid_b = outcome["result"]
    assert re.fullmatch(r"Stopped after [\d,]+ of 10,000 images of 10,000 cGAN samples \(seed 0\)\. Press \*\*Measure\*\* "
                        r"to start again\.", text), text
    assert grid_a is None and grid_b is None
    assert "page" not in tab.work.running  # the session's event is dropped with its measurement
    assert tab.stop_on_page(None) == gr.skip() and tab.work.stop(None) is False  # an in-process call without a request


def test_a_cancel_of_the_apis_handler_stops_the_measurement(tab):
    """The API's handler is ``cancellable(tab.measure)``: Gradio closes it on gradio_client's job.cancel(), and the
    measurement's own stop event must be the one the close sets (tests/test_fid_client.py does it over HTTP)."""
    steps = cancellable(tab.measure, heartbeat_s=0.01)(MNIST_REFERENCE, None, CGAN, None, 10_000, 0, CLASSIFIER,
                                                       "pytorch-fid", False, False, gr.Request(session_hash="api"))
    deadline = time.monotonic() + 60
    while "api" not in tab.work.running and time.monotonic() < deadline:
        next(steps)
    assert "api" in tab.work.running, "the measurement never started"
    closed = time.monotonic()
    steps.close()
    while "api" in tab.work.running and time.monotonic() < closed + 60:
        time.sleep(0.01)
    # It stops at its first image once the samples are drawn (a second or two here); measured whole, it takes ~40 s.
    assert time.monotonic() - closed < 10, "the measurement went on after its handler was closed"


def test_a_measurement_waits_for_the_one_before_to_stop_and_a_stop_while_it_waits_counts(tab):
    """Gradio frees the one-at-a-time slot as soon as a running measurement is cancelled, but its work ends only at its
    next image: the next measurement must not start beside it. Here the test holds the work's lock in its place."""
    page, outcome = gr.Request(session_hash="waiting"), {}

    def measure_twenty():
        outcome["result"] = tab.measure(MNIST_REFERENCE, None, CGAN, None, 20, 0, CLASSIFIER, "pytorch-fid", False, False,
                                        page)

    with tab.measuring_lock:
        worker = threading.Thread(target=measure_twenty)
        worker.start()
        worker.join(timeout=1)
        assert worker.is_alive() and "waiting" in tab.work.running  # waiting, and stoppable meanwhile
        assert tab.stop_for_the_api(page) == fid_demo.STOPPED
    worker.join(timeout=30)
    assert outcome["result"] == (f"Stopped after 0 of 20 images of 20 cGAN samples (seed 0). {fid_demo.AGAIN}", None, None)


def test_a_stop_while_the_samples_are_drawn_or_after_the_last_image_ends_the_measurement(tab, monkeypatch):
    page = gr.Request(session_hash="early")
    source, features_of = tab.source, tab.features_of

    def source_then_stop(*args):  # Stop pressed once set B's samples are drawn
        drawn = source(*args)
        if args[-1] == "B":
            tab.work.stop(page)
        return drawn

    def features_then_stop(drawn, *args):  # Stop pressed once B's last image is measured
        measured = features_of(drawn, *args)
        if measured is not drawn:  # images, not A's stored statistics
            tab.work.stop(page)
        return measured

    request = (MNIST_REFERENCE, None, CGAN, None, 20, 0, CLASSIFIER, "pytorch-fid", False, False, page)
    monkeypatch.setattr(tab, "source", source_then_stop)
    assert tab.measure(*request) == (f"Stopped after 0 of 20 images of 20 cGAN samples (seed 0). {fid_demo.AGAIN}",
                                     None, None)
    monkeypatch.setattr(tab, "source", source)
    monkeypatch.setattr(tab, "features_of", features_then_stop)
    assert tab.measure(*request) == (f"Stopped before the comparison. {fid_demo.AGAIN}", None, None)


def test_a_missing_shipped_reference_is_named_with_the_command_that_computes_it(tab, monkeypatch, tmp_path):
    """With the shipped Inception statistics deleted, the tab said to "pick" the pytorch-fid resize, already picked.
    Another resize has no statistics by design: that advice stays."""
    monkeypatch.setattr(fid_demo, "reference_path", lambda name, kind, resize: tmp_path / f"{name}.{kind}.safetensors")
    for kind, what in (("inception", "Inception statistics (pytorch-fid resize)"), ("classifier", "classifier statistics")):
        with pytest.raises(gr.Error) as refusal:
            tab.source(MNIST_REFERENCE, None, 10, 0, kind, "pytorch-fid", "A")
        assert refusal.value.message == (f"The {what} of MNIST test are missing from {tmp_path}; `python -m "
                                         f"generative.metrics.references --names mnist-test --features {kind}` computes them.")
    with pytest.raises(gr.Error, match="with the clean resize ship with the gallery: they were computed with the "
                                       "pytorch-fid resize. Pick that resize"):
        tab.source(MNIST_REFERENCE, None, 10, 0, "inception", "clean", "A")
    (tmp_path / "mnist-test.classifier.safetensors").write_bytes(b"\x00damaged")
    with pytest.raises(gr.Error, match=r"is not a readable .safetensors statistics file .*; `python -m "
                                       r"generative.metrics.references --names mnist-test --features classifier`"):
        tab.source(MNIST_REFERENCE, None, 10, 0, "classifier", "pytorch-fid", "A")
