"""The VAE tab's pure functions and handlers: paths, readouts, downloads, the latent map, and bad input.

Most tests use tiny untrained models (the plumbing does not depend on training); the shipped
checkpoints get their own tests at the end, on real MNIST test digits.
"""
import math
import shutil
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
import torch
from PIL import Image

from demos import vae as demo
from demos.inputs import API_EMPTY_SKETCH, EMPTY_SKETCH, UploadGuard, example_paths, upload_path
from demos.strips import CAPTION_PADDING, LINE_HEIGHT, save_strip
from event_wiring import (assert_a_dropped_file_runs_once, dropped, events_of, handlers_of, page_session, page_warnings,
                          run_in_page)
from generative.checkpoints import VAE_MAP, VAE_WALK
from generative.latent import latent_path, lerp, slerp
from generative.latent_map import CLICK_COLOUR, LatentMap, Overlay
from generative.metrics.interpolation import label_flips
from generative.models import VAE, DigitClassifier
from generative.models.vae import negative_elbo


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return VAE(latent_dim=3, width=4).eval(), DigitClassifier(width=4, feature_dim=8).eval()


@pytest.fixture(scope="module")
def tiny_map():
    torch.manual_seed(1)
    means, labels = torch.randn(200, 2).numpy(), np.arange(200) % 10
    return LatentMap(VAE(latent_dim=2, width=4).eval(), means, labels, extent=3.0, cells=10)


# ---------------------------------------------------------------- library pieces

def test_latent_path_dispatches_and_refuses_nonsense():
    a, b = torch.zeros(4), torch.ones(4)
    assert torch.equal(latent_path(a, b, 5, "lerp")[2], torch.full((4,), 0.5))
    assert latent_path(a + 1, -b, 3, "slerp").shape == (3, 4)
    with pytest.raises(ValueError, match="path must be one of"):
        latent_path(a, b, 5, "spline")
    with pytest.raises(ValueError, match="at least its 2 endpoints"):
        latent_path(a, b, 1)


def test_a_batch_of_endpoint_pairs_gets_each_pairs_own_path():
    """``latent_path`` promises (steps, *a.shape): slerp took one norm and one angle for the whole batch, so a row's
    midpoint depended on the other rows (its norm 1.14 between two unit codes here)."""
    a = torch.tensor([[1.0, 0.0], [2.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    b = torch.tensor([[0.0, 1.0], [0.0, 4.0], [2.0, 2.0], [3.0, 0.0]])  # the last two: parallel, and from the origin
    for path in ("lerp", "slerp"):
        batched = latent_path(a, b, 5, path)
        assert batched.shape == (5, 4, 2)
        for row in range(len(a)):
            torch.testing.assert_close(batched[:, row], latent_path(a[row], b[row], 5, path), atol=1e-6, rtol=0)
    torch.testing.assert_close(slerp(a, b, 3)[1, :2].norm(dim=-1), torch.tensor([1.0, 3.0]))


def test_the_slerp_path_walks_the_great_circle_and_moves_the_norm_evenly():
    """"slerp" must dispatch to the great circle: a straight line between orthogonal codes dips towards the origin."""
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])
    path = latent_path(a, b, 3, "slerp")
    assert torch.allclose(path, slerp(a, b, 3))
    assert torch.allclose(path[1], torch.full((2,), 1.5 / math.sqrt(2)))  # at 45°, with the norm halfway from 1 to 2
    assert not torch.allclose(path[1], lerp(a, b, 3)[1], atol=0.1)


def test_label_flips_count_changes_between_consecutive_frames():
    labels = torch.tensor([[3, 3, 8, 8], [3, 5, 3, 8], [1, 1, 1, 1]])
    assert label_flips(labels).tolist() == [1, 3, 0]


def test_map_pixels_and_latents_round_trip(tiny_map):
    assert tiny_map.panel == 280
    for z in ([0.0, 0.0], [2.5, -1.0], [-2.9, 2.9]):
        x, y = tiny_map.latent_to_pixel(np.array(z))
        assert np.allclose(tiny_map.pixel_to_latent(x, y), z, atol=2 * 6 / 280)  # within a pixel or two
    assert tiny_map.pixel_to_latent(280 + 6, 100) is None  # beyond the picture
    assert tiny_map.pixel_to_latent(0, 0)[1] > 0 > tiny_map.pixel_to_latent(0, 279)[1]  # z₂ grows upwards
    centres = tiny_map.cell_centres()
    assert centres.shape == (10, 10, 2) and centres[0, 0, 1] > centres[-1, 0, 1] and centres[0, 0, 0] < centres[0, -1, 0]


def test_the_map_draws_the_overlay_where_the_latent_points_are(tiny_map):
    plain = tiny_map.render()
    assert [(panel.shape, panel.dtype) for panel in plain] == [((280, 280, 3), np.uint8)] * 2
    assert not np.array_equal(*plain)  # the manifold and the scatter
    point = np.array([1.0, -2.0])
    x, y = np.round(tiny_map.latent_to_pixel(point)).astype(int)
    assert all(tuple(panel[y, x]) == CLICK_COLOUR for panel in tiny_map.render(Overlay(clicked=point)))
    assert all(np.array_equal(again, panel) for again, panel in zip(tiny_map.render(), plain))  # bases untouched
    beyond = tiny_map.render(Overlay(clicked=np.array([10.0, 0.0]), endpoints=np.array([[-8.0, 0.0], [9.0, 9.0]])))
    assert all(np.array_equal(cut, panel) for cut, panel in zip(beyond, plain))  # beyond the square: cut off
    assert tiny_map.contains(point) and not tiny_map.contains(np.array([3.1, 0.0]))
    with pytest.raises(ValueError, match="2-d latent space"):
        LatentMap(VAE(latent_dim=3, width=4), np.zeros((1, 2)), np.zeros(1))


# ---------------------------------------------------------------- the walk

def test_a_walk_starts_and_ends_at_the_endpoint_codes_and_reads_every_frame(tiny):
    model, classifier = tiny
    digit_a, digit_b = np.zeros((28, 28), np.float32), np.eye(28, dtype=np.float32)
    a, b = demo.encode_digit(model, digit_a), demo.encode_digit(model, digit_b)
    result = demo.walk(model, classifier, a, b, steps=7, path="slerp")
    assert result.frames.shape == (7, 28, 28) and result.digits.shape == result.confidences.shape == (7,)
    assert np.allclose(result.latents[0], a.mean, atol=1e-5) and np.allclose(result.latents[-1], b.mean, atol=1e-5)
    assert np.allclose(result.frames[0], a.reconstruction, atol=1e-6)
    assert ((0 <= result.frames) & (result.frames <= 1)).all() and ((0.1 <= result.confidences) & (result.confidences <= 1)).all()
    assert result.flips == int(label_flips(torch.from_numpy(result.digits)))


def test_the_walk_on_the_map_joins_the_endpoints_codes_and_marks_every_frame(tiny):
    model, classifier = tiny
    torch.manual_seed(2)
    map_model = VAE(latent_dim=2, width=4).eval()
    # encoded digits, whose reconstructions differ from them (a prior sample's image is its reconstruction)
    a, b = (demo.encode_digit(model, digit) for digit in (np.zeros((28, 28), np.float32), np.eye(28, dtype=np.float32)))
    result = demo.walk(model, classifier, a, b, steps=5)
    overlay = demo.map_overlay(map_model, a, b, result, "lerp")
    with torch.no_grad():
        ends = map_model.encode(torch.from_numpy(np.stack([a.image, b.image]))[:, None].float())[0].numpy()
        frames = map_model.encode(torch.from_numpy(result.frames)[:, None])[0].numpy()
    np.testing.assert_allclose(overlay.endpoints, ends, atol=1e-6)  # the endpoints' digits, read by the 2-d model
    line = ends[0] + np.linspace(0, 1, demo.MAP_PATH_POINTS)[:, None] * (ends[1] - ends[0])
    np.testing.assert_allclose(overlay.path, line, atol=1e-5)  # a straight line between them, as the walk's path is
    np.testing.assert_allclose(overlay.frames, frames, atol=1e-6)  # one dot per frame of the walk
    assert overlay.frames.shape == (5, 2)


def test_the_map_draws_a_slerp_walk_along_the_2d_models_great_circle(tiny):
    """With slerp chosen, the map's yellow line must be slerp too: its norm moves evenly from A's code to B's
    (a straight line between these two codes, 23° apart, would dip by about 2 % halfway)."""
    model, classifier = tiny
    torch.manual_seed(1)
    map_model = VAE(latent_dim=2, width=4).eval()
    a = demo.encode_digit(model, np.zeros((28, 28), np.float32))
    b = demo.encode_digit(model, np.ones((28, 28), np.float32))
    result = demo.walk(model, classifier, a, b, steps=5, path="slerp")
    overlay = demo.map_overlay(map_model, a, b, result, "slerp")
    ends = torch.from_numpy(overlay.endpoints)
    np.testing.assert_allclose(overlay.path, slerp(ends[0], ends[1], demo.MAP_PATH_POINTS).numpy(), atol=1e-6)
    norms = np.linalg.norm(overlay.path, axis=1)
    np.testing.assert_allclose(norms, np.linspace(*np.linalg.norm(overlay.endpoints, axis=1), demo.MAP_PATH_POINTS),
                               rtol=1e-4)
    assert not np.allclose(overlay.path, lerp(ends[0], ends[1], demo.MAP_PATH_POINTS).numpy(), rtol=1e-3, atol=0)


def test_an_endpoint_keeps_the_posteriors_sigma_and_a_posterior_sample_is_mu_plus_sigma_times_noise(tiny):
    """The encoder gives log σ², so σ = exp(½ log σ²); a sampled code is μ + σ ⊙ ε (not σ² ⊙ ε), with A's ε drawn
    before B's from the walk's seed."""
    model, classifier = tiny
    digit = np.eye(28, dtype=np.float32)
    endpoint = demo.encode_digit(model, digit)
    with torch.no_grad():
        mean, log_variance = (t[0].numpy() for t in model.encode(torch.from_numpy(digit)[None, None]))
    np.testing.assert_allclose(endpoint.mean, mean, atol=1e-6)
    np.testing.assert_allclose(endpoint.std ** 2, np.exp(log_variance), rtol=1e-5)
    assert not np.allclose(endpoint.std, np.exp(log_variance), rtol=1e-3)  # this model's σ² is not σ
    image = np.zeros((28, 28), np.float32)
    a = demo.Endpoint(image, np.array([1.0, 2.0, 3.0], np.float32), np.array([0.5, 0.25, 2.0], np.float32), image)
    b = demo.Endpoint(image, np.array([-1.0, 0.0, 1.0], np.float32), np.array([3.0, 0.1, 0.5], np.float32), image)
    noise = torch.randn(2, 3, generator=torch.Generator().manual_seed(7))
    result = demo.walk(model, classifier, a, b, 3, code="sample", seed=7)
    np.testing.assert_allclose(result.latents[0], a.mean + a.std * noise[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(result.latents[-1], b.mean + b.std * noise[1].numpy(), atol=1e-6)


def test_posterior_samples_are_seeded_and_prior_samples_have_no_spread(tiny):
    model, classifier = tiny
    a, b = demo.encode_digit(model, np.zeros((28, 28), np.float32)), demo.prior_sample(model, seed=5)
    assert np.array_equal(b.mean, demo.prior_sample(model, seed=5).mean) and not np.array_equal(
        b.mean, demo.prior_sample(model, seed=6).mean)
    first, again = (demo.walk(model, classifier, a, b, 4, code="sample", seed=1) for _ in range(2))
    other = demo.walk(model, classifier, a, b, 4, code="sample", seed=2)
    assert torch.equal(first.latents, again.latents) and not torch.equal(first.latents[0], other.latents[0])
    assert torch.equal(first.latents[-1], other.latents[-1])  # the prior sample's σ is 0: its code is fixed


def test_the_downloads_are_a_readable_strip_and_a_looping_gif(tiny, tmp_path):
    model, classifier = tiny
    a, b = demo.prior_sample(model, 0), demo.prior_sample(model, 1)
    result = demo.walk(model, classifier, a, b, steps=5)
    png, gif = save_strip(result.frames, demo.walk_captions(result), tmp_path, "walk")
    assert Image.open(png).size == (5 * 28 * 3, 28 * 3 + LINE_HEIGHT + 2 * CAPTION_PADDING)  # one caption line
    with Image.open(gif) as animation:
        assert animation.n_frames == 2 * 5 - 2 and animation.size == (112, 112) and animation.info["loop"] == 0
    assert demo.walk_summary(result).startswith("**Classifier along the path:**")


# ---------------------------------------------------------------- the tab's handlers

def test_a_missing_checkpoint_names_the_command_that_trains_it(tmp_path, monkeypatch):
    monkeypatch.setattr("generative.hub.PRETRAINED_DIR", tmp_path)
    tab = demo.VAETab()
    assert "train_vae.py" in tab.error and tab.initial() is None
    with pytest.raises(gr.Error, match="train_vae.py"):
        tab.decode_point(None, 0.0, 0.0)


def test_a_map_checkpoint_of_another_latent_size_or_encodings_of_another_kind_keep_the_app_up(tmp_path, monkeypatch):
    """A sound 16-d VAE in the map's folder stopped the whole app at start (LatentMap's ValueError), and so did another
    safetensors file in place of its test encodings (a KeyError): now the tab says why, as for a missing checkpoint."""
    shipped = Path(VAE_MAP.shipped).parent
    monkeypatch.setattr("generative.hub.PRETRAINED_DIR", tmp_path)
    for name in ("vae-mnist-z16", "classifier-mnist"):
        shutil.copytree(shipped / name, tmp_path / name)
    shutil.copytree(shipped / "vae-mnist-z16", tmp_path / "vae-mnist-z2")  # a 16-d VAE where the 2-d one belongs
    tab = demo.VAETab()
    assert tab.error.startswith(f"The latent map needs a VAE with a 2-d latent space, and {tmp_path / 'vae-mnist-z2'} "
                                "holds a 16-d one. Train one with: python training/train_vae.py")
    shutil.rmtree(tmp_path / "vae-mnist-z2")
    shutil.copytree(shipped / "vae-mnist-z2", tmp_path / "vae-mnist-z2")
    shutil.copy(shipped / "vae-mnist-z2" / "model.safetensors", tmp_path / "vae-mnist-z2" / demo.TEST_ENCODINGS)
    tab = demo.VAETab()
    assert f"{demo.TEST_ENCODINGS} in {tmp_path / 'vae-mnist-z2'} has no 'mean', 'label' tensors" in tab.error
    with pytest.raises(gr.Error, match="has no 'mean', 'label' tensors"):
        tab.decode_point(None, 0.0, 0.0)


@pytest.fixture(scope="module")
def tab():
    return demo.VAETab()


@pytest.mark.parametrize("steps, path, code, seed, message", [
    (1, "lerp", "mean", 0, "whole number from 2 to 24"), (25, "lerp", "mean", 0, "whole number from 2 to 24"),
    (2.5, "lerp", "mean", 0, "whole number"), ("ten", "lerp", "mean", 0, "whole number"),
    (8, "spline", "mean", 0, "Unknown path"), (8, "lerp", "median", 0, "Unknown endpoint code"),
    (8, "lerp", "mean", -1, "seed"), (8, "lerp", "mean", 2**40, "seed"),
    (10**400, "lerp", "mean", 0, "whole number"), (8, ["lerp"], "mean", 0, "Unknown path"),
    (8, "lerp", {"a": 1}, 0, "Unknown endpoint code")])
def test_bad_walk_settings_get_clear_messages(tab, steps, path, code, seed, message):
    start = tab.initial()
    with pytest.raises(gr.Error, match=message):
        tab.walk(start[0], start[3], steps, path, code, seed)


def test_a_refused_setting_in_the_page_keeps_the_walk_and_the_map_and_warns(tab):
    """In the page, a step count out of range must not mark the walk, the downloads and the latent map "Error" (the map
    could not be clicked until the value was fixed); the API's walk still refuses it as an error."""
    with gr.Blocks() as blocks:
        demo.build_tab()
    start = tab.initial()
    for elem_id in ("vae-steps", "vae-path", "vae-code", "vae-seed"):
        [on_change] = handlers_of(blocks, elem_id, "change")
        with pytest.warns(UserWarning, match="whole number from 2 to 24"):
            kept = on_change(start[0], start[3], 500, "lerp", "mean", 0)
        strip, png, gif, summary, manifold, codes, overlay = kept  # all kept, and the summary says the walk is the last one
        assert all(isinstance(view, type(gr.skip())) for view in (strip, png, gif, manifold, codes, overlay)), elem_id
        assert summary.startswith("⚠️ **Not drawn:** The number of steps") and "still the last ones drawn" in summary
        assert len(on_change(start[0], start[3], 3, "lerp", "mean", 0)[0]) == 3  # a good value still walks
    [api_walk] = handlers_of(blocks, "vae-api-walk", "click")
    with pytest.raises(gr.Error, match="whole number from 2 to 24"):
        api_walk(start[0], start[3], 500, "lerp", "mean", 0)
    overlay = start[-1]
    # the button and Enter in a coordinate box decode the point; in the page a refused one warns, keeps the map and
    # the decoded point, and the readout under it says so
    for elem_id, event in (("vae-decode-button", "click"), ("vae-z1", "submit"), ("vae-z2", "submit")):
        [on_decode] = handlers_of(blocks, elem_id, event)
        assert on_decode(overlay, 1.0, 0.5)[5:] == tab.decode_point(overlay, 1.0, 0.5)[5:] == (1.0, 0.5)
        with pytest.warns(UserWarning, match="z₁ must be a number"):
            manifold, codes, new_overlay, point, readout, z1, z2 = on_decode(overlay, float("nan"), 0.0)
        assert all(isinstance(view, type(gr.skip())) for view in (manifold, codes, new_overlay, point, z1, z2))
        assert readout.startswith("⚠️ **Not drawn:** z₁ must be a number") and "still the last ones drawn" in readout
    [api_decode] = handlers_of(blocks, "vae-api-decode", "click")
    with pytest.raises(gr.Error, match="z₁ must be a number"):
        api_decode(overlay, float("nan"), 0.0)


def test_the_tab_opens_with_a_walk_and_decodes_clicked_points(tab):
    start = tab.initial()
    strip, png, gif, summary, manifold, codes, overlay = start[6:]
    assert len(strip) == demo.DEFAULT_STEPS and summary.startswith("**Classifier")
    assert manifold.shape == codes.shape == (tab.map.panel, tab.map.panel, 3) and overlay.endpoints.shape == (2, 2)
    with pytest.raises(gr.Error, match="Choose both endpoints"):
        tab.walk(None, start[3], 8, "lerp", "mean", 0)
    for bad in (float("nan"), 11.0, "3"):
        with pytest.raises(gr.Error, match="z₁ must be a number"):
            tab.decode_point(overlay, bad, 0.0)
    x, y = tab.map.latent_to_pixel(np.array([1.0, 0.5]))
    clicked = tab.click_map(overlay, gr.SelectData(None, {"index": [int(x), int(y)], "value": None}))
    new_manifold, new_codes, new_overlay, digit, readout, z1, z2 = clicked
    assert abs(z1 - 1.0) < 0.02 and abs(z2 - 0.5) < 0.02 and digit.shape == (112, 112)
    assert new_overlay.endpoints is overlay.endpoints and "the classifier reads" in readout
    assert all(tuple(view[int(y), int(x)]) == CLICK_COLOUR for view in (new_manifold, new_codes))  # marked on both
    assert "outside the map" not in readout
    assert "outside the map" in tab.decode_point(overlay, 10.0, 0.0)[4]
    beyond = [tab.map.panel, 10]  # a picture's pixels end at panel − 1
    for crafted in (beyond, None, [1, 2, 3], ["a", "b"], [float("nan"), 1.0], [10**400, 1], 7):  # any JSON reaches it
        assert isinstance(tab.click_map(overlay, gr.SelectData(None, {"index": crafted, "value": None})), type(gr.skip()))


def test_a_prior_sample_is_not_called_a_digit_or_a_reconstruction(tab):
    """In the page a prior sample's two pictures, one z decoded twice (it was never encoded), say so; a digit set
    afterwards gets the digit's captions back, with its own endpoint's letter. The API sends the pictures alone."""
    with gr.Blocks() as blocks:
        demo.build_tab()
    start = tab.initial()
    controls = [4, "slerp", "mean", 0]
    [from_prior] = handlers_of(blocks, "vae-a-prior-button", "click")
    endpoint, image, reconstruction = from_prior(3, start[3], *controls)[:3]
    assert endpoint.from_prior and image["label"] == image["alt_text"] == "A: a prior sample z, decoded"
    assert reconstruction["label"] == reconstruction["alt_text"] == "A: the same z (never encoded)"  # a screen reader's too
    decoded = demo.enlarge(demo.decode(tab.model, torch.from_numpy(endpoint.mean)[None])[0], 4)
    np.testing.assert_array_equal(image["value"], decoded)
    np.testing.assert_array_equal(reconstruction["value"], decoded)
    [upload_b] = handlers_of(blocks, "vae-b-upload", "change")
    endpoint, image, reconstruction = upload_b(dropped(Path(example_paths()[0])), None, start[0], *controls)[:3]
    assert not endpoint.from_prior
    assert (image["label"], reconstruction["label"]) == ("B: the digit (28×28)", "B: reconstruction of μ")
    assert (image["alt_text"], reconstruction["alt_text"]) == ("B: the digit (28×28)", "B: reconstruction of μ")
    np.testing.assert_array_equal(reconstruction["value"], demo.enlarge(endpoint.reconstruction, 4))
    [api_prior] = handlers_of(blocks, "vae-api-a-prior", "click")
    assert isinstance(api_prior(3, start[3], *controls)[1], np.ndarray)


def test_the_page_opens_with_the_point_its_boxes_show_decoded(tab):
    """z₁ and z₂ open at 0: the picture beside them opens as (0, 0) decoded, with its readout, not empty."""
    with gr.Blocks() as blocks:
        demo.build_tab()
    shown = {block.elem_id: block for block in blocks.blocks.values() if getattr(block, "elem_id", None)}
    assert (shown["vae-z1"].value, shown["vae-z2"].value) == (0.0, 0.0)
    assert shown["vae-point"].value is not None
    decoded = demo.enlarge(demo.decode(tab.map_model, torch.zeros(1, 2))[0], 4)
    drawn = np.asarray(Image.open(shown["vae-point"].value["path"]).convert("L"), dtype=np.float64)
    np.testing.assert_array_equal(drawn, decoded)  # the decoded (0, 0), as the 8-bit picture the tab draws
    assert shown["vae-point-readout"].value.startswith("z = (0.00, 0.00) decodes to this; the classifier reads")


def test_the_tabs_map_follows_the_chosen_path(tab):
    """The tab hands the chosen path to the map: after a slerp walk the yellow line keeps the norm moving evenly
    between the 2-d codes of A and B, after a lerp walk it is the straight line."""
    start = tab.initial()
    for path, between in (("slerp", slerp), ("lerp", lerp)):
        overlay = tab.walk(start[0], start[3], 5, path, "mean", 0)[-1]
        ends = torch.from_numpy(overlay.endpoints)
        np.testing.assert_allclose(overlay.path, between(ends[0], ends[1], demo.MAP_PATH_POINTS).numpy(), atol=1e-5)
        if path == "slerp":
            norms = np.linalg.norm(overlay.path, axis=1)
            np.testing.assert_allclose(norms, np.linspace(*np.linalg.norm(overlay.endpoints, axis=1), demo.MAP_PATH_POINTS),
                                       rtol=1e-4)


# Upper ends: the target (16-d), and the measured figure plus 3 nats of slack for the subset and the sampling
# noise (2-d). Lower ends: the measured figure minus 3 nats, so a −ELBO that lost its KL term (25 and 7 nats on these
# digits) fails too. Measured on all 10,000: 92.32 and 139.87 (benchmarks/results/vae_quality.md).
WALK_ELBO_RANGE = (89.3, 95.0)
MAP_ELBO_RANGE = (136.8, 143.0)


def test_shipped_vaes_reach_their_stated_test_elbo_on_real_digits(mnist_test):
    """Grey-level −ELBO (PyTorch-example convention) on the first 1000 MNIST test digits, one sample each.

    See the constants for the ranges (91.18 and 140.39 here).
    """
    images = mnist_test[0][:1000]
    for checkpoint, (low, high) in ((VAE_WALK, WALK_ELBO_RANGE), (VAE_MAP, MAP_ELBO_RANGE)):
        model = checkpoint.load()
        with torch.inference_mode():
            elbo = negative_elbo(model, images, torch.Generator().manual_seed(0)).mean().item()
        assert low < elbo < high, (checkpoint.name, elbo)


def test_in_the_page_a_refused_endpoint_warns_and_keeps_the_walk_and_its_summary_says_so(tab, tmp_path):
    """As in the Denoise tab: in the page a bad file, an empty drawing or a refused prior seed warns and keeps what is
    shown (an error marked the endpoint, the walk and the map "Error"), and the walk's summary says that the walk is
    the last one drawn (it said nothing); a cleared box changes nothing. The API's endpoints refuse them."""
    with gr.Blocks() as blocks:
        demo.build_tab()
    other = tab.initial()[3]
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("shopping list")
    [on_upload] = handlers_of(blocks, "vae-a-upload", "change")
    [on_draw] = handlers_of(blocks, "vae-a-sketch-button", "click")
    [api_upload] = handlers_of(blocks, "vae-api-a-upload", "click")
    [api_sketch] = handlers_of(blocks, "vae-api-a-sketch", "click")
    [on_prior], [api_prior] = handlers_of(blocks, "vae-a-prior-button", "click"), handlers_of(blocks, "vae-api-a-prior", "click")
    mine = tab.initial()[0]  # the page's upload event is also given the endpoint on show
    for page_event, page_inputs, api_event, value in ((on_upload, (mine,), api_upload, {"path": str(not_an_image)}),
                                                      (on_draw, (), api_sketch, None), (on_prior, (), api_prior, -5)):
        with pytest.raises(gr.Error) as refusal:
            api_event(value, other, 6, "lerp", "mean", 0)
        with pytest.warns(UserWarning) as warned:
            state, image, reconstruction, strip, png, gif, summary, manifold, codes, overlay = page_event(
                value, *page_inputs, other, 6, "lerp", "mean", 0)
        assert all(isinstance(view, type(gr.skip()))
                   for view in (state, image, reconstruction, strip, png, gif, manifold, codes, overlay))
        # the same words, but for an empty drawing: the page says to draw, the API how to send one
        page_words = EMPTY_SKETCH if refusal.value.message == API_EMPTY_SKETCH else refusal.value.message
        assert page_warnings(warned) == [page_words]
        assert summary == f"⚠️ **Not drawn:** {page_words} The pictures on show are still the last ones drawn."
    assert len(on_prior(5, other, 6, "lerp", "mean", 0)[3]) == 6  # a good seed still walks
    assert isinstance(on_upload(None, mine, other, 6, "lerp", "mean", 0), type(gr.skip()))
    with pytest.raises(gr.Error, match="Upload an image"):
        api_upload(None, other, 6, "lerp", "mean", 0)


def test_a_file_dropped_onto_a_filled_box_sets_the_endpoint_once(monkeypatch):
    """The drop fires the page's change twice at once: the second run, on the same file of the same session, is skipped
    (it doubled the work, about 0.5 s); another file or another page runs, and so does the same file afterwards."""
    tab, runs, started = demo.VAETab.__new__(demo.VAETab), [], threading.Event()
    tab.uploads = {True: UploadGuard(), False: UploadGuard()}

    def slow_set_from_upload(image, *settings, first):
        runs.append(image["path"])
        started.set()
        time.sleep(0.5)
        return "set"

    monkeypatch.setattr(tab, "set_from_upload", slow_set_from_upload, raising=False)
    on_upload = tab.upload_change(first=True)
    assert_a_dropped_file_runs_once(lambda image, request: on_upload(image, None, None, 6, "lerp", "mean", 0, request=request),
                                    started, "set")
    assert sorted(runs) == ["a.png", "a.png", "a.png", "b.png"]
    # the same example for B while A's run on it goes on is B's own upload, not a repeat
    started.clear()
    page, answers = SimpleNamespace(session_hash="page"), {}
    first = threading.Thread(target=lambda: answers.update(A=on_upload({"path": "c.png"}, None, None, 6, "lerp", "mean", 0,
                                                                       request=page)))
    first.start()
    started.wait(5)
    answers["B"] = tab.upload_change(first=False)({"path": "c.png"}, None, None, 6, "lerp", "mean", 0, request=page)
    first.join()
    assert answers == {"A": "set", "B": "set"}


def test_a_dropped_files_second_change_event_queued_behind_the_first_sets_no_endpoint_again(monkeypatch):
    """As in the Denoise tab: on a busy server the drop's second change event runs after the first has ended. Run as
    Gradio runs the page's events, it is skipped, because the endpoint on show was made from that file; another file,
    the same file for the other endpoint, and the same file again once another endpoint replaced it, all run."""
    runs, set_from_upload = [], demo.VAETab.set_from_upload

    def counted(tab, image, *args, first):
        runs.append((Path(upload_path(image)).name, "A" if first else "B"))  # Gradio hands over its cached copy
        return set_from_upload(tab, image, *args, first=first)
    monkeypatch.setattr(demo.VAETab, "set_from_upload", counted)
    with gr.Blocks() as blocks:
        demo.build_tab()
    runs.clear()  # the tab opened with its examples
    session, controls = page_session(blocks), [6, "lerp", "mean", 0]
    [a_changed], [b_changed] = events_of(blocks, "vae-a-upload", "change"), events_of(blocks, "vae-b-upload", "change")
    [a_from_prior] = events_of(blocks, "vae-a-prior-button", "click")

    def drop(event, path):
        run_in_page(blocks, event, [dropped(path), None, None, *controls], session)
    first, second = map(Path, example_paths()[1:3])
    drop(a_changed, first)
    drop(a_changed, first)  # the late second event
    drop(b_changed, first)
    drop(a_changed, second)
    run_in_page(blocks, a_from_prior, [0, None, *controls], session)
    drop(a_changed, second)
    drop(a_changed, second)
    assert runs == [(first.name, "A"), (first.name, "B"), (second.name, "A"), (second.name, "A")]


def test_the_page_handlers_of_the_upload_boxes_get_the_request_their_guard_keys_on():
    """Gradio passes the request only to a parameter it reads as annotated gr.Request: through a partial it read none,
    so every session's uploads of one example would have shared a single key."""
    from gradio.utils import get_type_hints

    with gr.Blocks() as blocks:
        demo.build_tab()
    for elem_id in ("vae-a-upload", "vae-b-upload"):
        [handler] = handlers_of(blocks, elem_id, "change")
        assert get_type_hints(handler).get("request") is gr.Request, elem_id
