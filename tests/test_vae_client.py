"""The VAE tab of the real app over HTTP, driven by gradio_client (the map click by a raw POST with its event data).

Plumbing and messages, not model quality: each endpoint source gives a digit, a reconstruction and a
new walk; the walk comes back with one captioned frame per step and both downloads; a map click and
a typed point decode; every bad file or setting is refused in our words and the server keeps serving.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from gradio_client import Client, handle_file

from client_helpers import assert_refused, pixels, size_of
from demos.strips import CAPTION_PADDING, LINE_HEIGHT
from demos.vae import DEFAULT_STEPS
from generative.digits import to_mnist_style
from generative.image_io import load_gray_image
from generative.latent_map import CELL
from input_files import BAD_FILES, ONE, sketch_files

pytestmark = pytest.mark.timeout(240)  # the first test also waits for the server to start

DIGIT = (28 * 4, 28 * 4)        # an endpoint's digit and reconstruction, the decoded map point
FRAME = (28 * 3, 28 * 3)        # each frame of the strip
PANEL = 20 * CELL               # each of the map's two pictures
CAPTION = re.compile(r"^\d · \d{1,3}%$")


@pytest.fixture(scope="module")
def client(app_url, tmp_path_factory) -> Client:
    return Client(app_url, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


def assert_walk(strip, png, gif, summary, manifold, codes, steps: int) -> None:
    assert len(strip) == steps
    assert all(size_of(item["image"]) == FRAME and CAPTION.match(item["caption"]) for item in strip), strip[0]
    assert size_of(png) == (steps * FRAME[0], FRAME[1] + LINE_HEIGHT + 2 * CAPTION_PADDING)  # one caption line
    with Image.open(gif) as animation:
        assert animation.n_frames == 2 * steps - 2
    assert summary.startswith("**Classifier along the path:**")
    assert size_of(manifold) == size_of(codes) == (PANEL, PANEL)


def walk(client, steps=8, path="slerp", code="mean", seed=0):
    return client.predict(steps, path, code, seed, api_name="/vae_walk")


def set_a_from_upload(client, path, steps=6):
    return client.predict(handle_file(str(path)), steps, "lerp", "mean", 0, api_name="/vae_a_upload")


def test_the_default_walk_has_a_captioned_frame_per_step_and_both_downloads(client):
    assert_walk(*walk(client, steps=DEFAULT_STEPS), steps=DEFAULT_STEPS)
    assert_walk(*walk(client, steps=24, path="lerp", code="sample", seed=3), steps=24)


def test_an_uploaded_one_becomes_endpoint_a_and_starts_the_walk(client):
    image, reconstruction, *walk_outputs = set_a_from_upload(client, ONE)
    assert size_of(image) == size_of(reconstruction) == DIGIT
    assert np.abs(pixels(image) - pixels(reconstruction)).mean() < 40  # a reconstruction, not noise
    assert_walk(*walk_outputs, steps=6)
    assert walk_outputs[0][0]["caption"].startswith("1 ·")  # the walk starts at the 1 (and ends at the opening 7)


def test_a_drawing_becomes_endpoint_b(client, tmp_path):
    set_a_from_upload(client, ONE)
    background, layer, composite = sketch_files(tmp_path)
    value = {"background": handle_file(str(background)), "layers": [handle_file(str(layer))],
             "composite": handle_file(str(composite)), "id": None}
    image, reconstruction, *walk_outputs = client.predict(value, 5, "slerp", "mean", 0, api_name="/vae_b_sketch")
    drawn = to_mnist_style(load_gray_image(composite).pixels)  # what B must now be: the drawing, MNIST-style
    assert size_of(image) == DIGIT
    np.testing.assert_allclose(pixels(image)[::4, ::4] / 255, drawn, atol=1 / 255 + 1e-6)
    assert_walk(*walk_outputs, steps=5)
    assert walk_outputs[0][0]["caption"].startswith("1 ·")  # A is still the uploaded 1: the drawing went to B


def test_prior_samples_follow_their_seed(client):
    def sample(seed):
        return client.predict(seed, 4, "slerp", "mean", 0, api_name="/vae_a_prior")[0]

    first, again, other = sample(11), sample(11), sample(12)
    np.testing.assert_array_equal(pixels(first), pixels(again))
    assert np.abs(pixels(first) - pixels(other)).mean() > 5


def test_a_typed_point_decodes_and_is_marked_on_the_map(client):
    manifold, codes, digit, readout, z1, z2 = client.predict(1.0, -0.5, api_name="/vae_decode_point")
    assert size_of(digit) == DIGIT and "the classifier reads" in readout and (z1, z2) == (1.0, -0.5)
    assert size_of(manifold) == size_of(codes) == (PANEL, PANEL)


def test_the_api_decodes_a_typed_point_and_leaves_map_clicks_to_the_browser(client):
    """A click carries event data that an API call does not; the browser test clicks the map, the API types the point."""
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/vae_decode_point" in endpoints and not any("click" in name for name in endpoints)


@pytest.mark.parametrize("make, words", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_file_as_an_endpoint_is_refused_clearly(client, tmp_path, make, words):
    path = make(tmp_path)
    assert_refused(lambda: set_a_from_upload(client, path), *words)


def test_a_blank_sketch_asks_to_draw(client, tmp_path):
    background, layer, composite = sketch_files(tmp_path, drawn=False)
    value = {"background": handle_file(str(background)), "layers": [handle_file(str(layer))],
             "composite": handle_file(str(composite)), "id": None}
    assert_refused(lambda: client.predict(value, 5, "slerp", "mean", 0, api_name="/vae_b_sketch"), "sketch is empty")


def test_the_api_refuses_an_endpoint_without_an_image(client):
    """In the page a cleared upload box keeps the endpoint; over the API no image came back as unchanged outputs."""
    assert_refused(lambda: client.predict(None, 5, "slerp", "mean", 0, api_name="/vae_a_upload"), "Upload an image")


BAD_SETTINGS = {
    "one step": (dict(steps=1), ["steps", "2 to 24"]),
    "25 steps": (dict(steps=25), ["steps", "2 to 24"]),
    "unknown path": (dict(path="spline"), ["Unknown path", "slerp"]),
    "unknown code": (dict(code="median"), ["Unknown endpoint code"]),
    "negative seed": (dict(seed=-1), ["posterior-sample seed", "0 to"]),
}


@pytest.mark.parametrize("settings, words", BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_bad_walk_settings_are_refused_clearly(client, settings, words):
    assert_refused(lambda: walk(client, **settings), *words)


def test_points_off_the_map_and_bad_prior_seeds_are_refused_and_the_server_keeps_serving(client):
    assert_refused(lambda: client.predict(20.0, 0.0, api_name="/vae_decode_point"), "z₁", "−10 to 10")
    assert_refused(lambda: client.predict(2**31, 4, "slerp", "mean", 0, api_name="/vae_a_prior"), "prior seed")
    assert_walk(*walk(client, steps=3), steps=3)
