"""The text-to-image tab of the real app over HTTP, driven by gradio_client: seeded pictures, blends, bad captions."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gradio_client import Client

from client_helpers import assert_refused, pixels, size_of
from demos.strips import CAPTION_PADDING, LINE_HEIGHT

pytestmark = pytest.mark.timeout(240)  # the first test also waits for the server to start


@pytest.fixture(scope="module")
def client(app_url, tmp_path_factory) -> Client:
    return Client(app_url, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


def generate(client, caption="a large red circle in the centre", count=8, seed=0):
    return client.predict(caption, count, seed, api_name="/t2i_generate")


def test_pictures_come_with_readouts_and_follow_their_seed(client):
    items, summary = generate(client, "a green cross left of a purple box", 6, 5)
    assert len(items) == 6 and all(size_of(item["image"]) == (96, 96) for item in items)
    right = sum(item["caption"].startswith("✓") for item in items)
    assert all(item["caption"][:1] in "✓✗" for item in items) and f"**{right} of 6** pictures" in summary
    again, _ = generate(client, "a green cross left of a purple box", 6, 5)
    assert all(np.array_equal(pixels(a["image"]), pixels(b["image"])) for a, b in zip(items, again))
    other, _ = generate(client, "a green cross left of a purple box", 6, 6)
    assert not all(np.array_equal(pixels(a["image"]), pixels(b["image"])) for a, b in zip(items, other))


def test_a_blend_returns_its_strip_as_gallery_png_and_gif(client):
    strip, png, gif, summary = client.predict("a large red circle on the left", "a large blue square on the right", 5,
                                              0, api_name="/t2i_blend")
    nothing = sum(item["caption"] == "nothing" for item in strip)
    assert summary.startswith("The scene reader finds caption A's scene in **") and f"**{nothing}** of the 5" in summary
    width, height = size_of(png)  # readouts may wrap to a few lines under the 192-px frames
    band = height - 192 - 2 * CAPTION_PADDING
    assert len(strip) == 5 and width == 5 * 192 and band % LINE_HEIGHT == 0 and band // LINE_HEIGHT in (1, 2, 3)
    with Image.open(gif) as animation:
        assert animation.n_frames == 8  # there and back: 5 + 3


BAD = {
    "unknown word": (dict(caption="a red dragon"), ["unknown word", "dragon", "knows only these"]),
    "empty caption": (dict(caption=""), ["empty"]),
    "no pictures": (dict(count=0), ["number of pictures", "1 to 32"]),
    "too many pictures": (dict(count=500), ["number of pictures", "1 to 32"]),
    "negative seed": (dict(seed=-5), ["seed", "0 to"]),
}


@pytest.mark.parametrize("values, words", BAD.values(), ids=BAD.keys())
def test_bad_values_from_the_api_get_clear_errors(client, values, words):
    assert_refused(lambda: generate(client, **values), *words)


def test_bad_blends_are_refused_and_the_server_keeps_serving(client):
    assert_refused(lambda: client.predict("a red circle", "a purple unicorn", 4, 0, api_name="/t2i_blend"), "unicorn")
    assert_refused(lambda: client.predict("a red circle", "a blue box", 99, 0, api_name="/t2i_blend"),
                   "number of steps", "2 to 16")
    items, _ = generate(client, count=2)
    assert len(items) == 2
