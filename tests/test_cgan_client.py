"""The cGAN tab of the real app over HTTP, driven by gradio_client: seeded samples, rows of styles, noise walks, bad values."""
from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from gradio_client import Client

from client_helpers import assert_refused, pixels, size_of
from demos.strips import CAPTION_PADDING, LINE_HEIGHT

pytestmark = pytest.mark.timeout(240)  # the first test also waits for the server to start

CAPTION = re.compile(r"^(\d) · \d{1,3}%( ✗)?$")


@pytest.fixture(scope="module")
def client(app_url, tmp_path_factory) -> Client:
    return Client(app_url, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


def generate(client, digit=7, count=8, seed=0, scale=1.0):
    return client.predict(digit, count, seed, scale, api_name="/cgan_generate")


def test_samples_come_with_verdicts_and_follow_their_seed(client):
    items, verdict = generate(client, digit=3, count=8, seed=5)
    assert len(items) == 8 and all(size_of(item["image"]) == (84, 84) for item in items)
    readings = [CAPTION.match(item["caption"]) for item in items]
    assert all(readings), [item["caption"] for item in items]
    right = sum(match.group(1) == "3" and not match.group(2) for match in readings)
    assert f"**{right} of 8** as a 3" in verdict
    again, _ = generate(client, digit=3, count=8, seed=5)
    other, _ = generate(client, digit=3, count=8, seed=6)
    assert all(np.array_equal(pixels(a["image"]), pixels(b["image"])) for a, b in zip(items, again))
    assert np.abs(pixels(items[0]["image"]) - pixels(other[0]["image"])).mean() > 1


def test_every_digit_rows_and_the_noise_walk(client):
    grid, rows_verdict = client.predict(3, 0, 1.0, api_name="/cgan_every_digit")
    assert size_of(grid) == (10 * 58 - 2, 3 * 58 - 2) and " of 30** as their column's digit." in rows_verdict
    strip, png, gif, walk_verdict = client.predict(4, 1, 2, 6, 0.8, api_name="/cgan_interpolate")
    assert len(strip) == 6 and size_of(png) == (6 * 84, 84 + LINE_HEIGHT + 2 * CAPTION_PADDING)  # one caption line
    right = sum(CAPTION.match(item["caption"]).group(1) == "4" for item in strip)
    assert walk_verdict == f"The classifier reads **{right} of 6** frames as a 4."
    with Image.open(gif) as animation:
        assert animation.n_frames == 10


BAD = {
    "digit 10": (dict(digit=10), ["digit", "0 to 9"]),
    "digit -1": (dict(digit=-1), ["digit", "0 to 9"]),
    "no samples": (dict(count=0), ["number of samples", "1 to 64"]),
    "too many samples": (dict(count=1000), ["number of samples", "1 to 64"]),
    "negative seed": (dict(seed=-5), ["seed", "0 to"]),
    "seed not a number": (dict(seed="abc"), ["seed", "whole number"]),
    "noise scale 0": (dict(scale=0.0), ["noise scale"]),
    "noise scale 9": (dict(scale=9.0), ["noise scale"]),
}


@pytest.mark.parametrize("values, words", BAD.values(), ids=BAD.keys())
def test_out_of_range_values_from_the_api_get_clear_errors(client, values, words):
    assert_refused(lambda: generate(client, **values), *words)


def test_bad_rows_and_steps_are_refused_and_the_server_keeps_serving(client):
    assert_refused(lambda: client.predict(0, 0, 1.0, api_name="/cgan_every_digit"), "number of rows", "1 to 10")
    assert_refused(lambda: client.predict(4, 1, 2, 1, 1.0, api_name="/cgan_interpolate"), "number of steps", "2 to 24")
    assert_refused(lambda: client.predict(4, 1, -1, 6, 1.0, api_name="/cgan_interpolate"), "Seed B must be")  # which one
    items, _ = generate(client, count=2)
    assert len(items) == 2
