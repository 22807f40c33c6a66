"""The real app over HTTP, driven by gradio_client: outputs come back whole, and bad input gets a clear error.

These tests check plumbing and messages, not model quality (that has its own test): every image
comes back at the expected size, every method gets a numeric score, a seed reproduces its noise,
and every unusable upload is refused with our own words while the server keeps serving.
All input files are made in ``tmp_path`` at test time.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gradio_client import Client, handle_file

from demos.denoise import DAE
from demos.photo import PHOTO_EXAMPLES_DIR, ZOOM_SCALE, ZOOM_SIDE
from generative.classical import CLASSICAL_DENOISERS
from generative.noise import NOISE_KINDS

from client_helpers import assert_refused, pixels, size_of, warnings_of
from input_files import (BAD_FILES, SEVEN, animated_gif, huge_png, palette_png, sixteen_bit_png, sketch_files, thirty_two_bit_tiff,
                         white_digit_on_transparent_png)

pytestmark = pytest.mark.timeout(240)  # the first test also waits for the server to start

ENLARGED = (28 * 8, 28 * 8)   # model input, clean, noisy, denoised
THUMBNAIL = (28 * 4, 28 * 4)  # each classical denoiser in the gallery
METHODS = ["noisy input", DAE, *CLASSICAL_DENOISERS]


# ---------------------------------------------------------------- calling the app

@dataclass
class Outputs:
    model_input: str | None
    clean: str | None
    noisy: str | None
    denoised: str | None
    gallery: list[dict]
    table: dict
    photo_clean: str | None
    photo_noisy: str | None
    photo_denoised: str | None
    photo_zoom: list[dict] | None
    photo_table: dict | None
    photo_file: str | None
    note: str
    warnings: list[str]

    @property
    def rows(self) -> list[list[str]]:
        return self.table["data"]


@pytest.fixture(scope="module")
def client(app_url, tmp_path_factory) -> Client:
    return Client(app_url, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


def call(client: Client, api_name: str, image, noise_kind="gaussian", level=0.5, seed=0, already_noisy=False,
         choice="auto", sigma=25, ensemble=False) -> Outputs:
    """One request with every argument given (an omitted one could make the client fetch a default URL)."""
    job = client.submit(image, choice, noise_kind, level, seed, already_noisy, sigma, ensemble, api_name=api_name)
    result = job.result(timeout=120)
    return Outputs(*result, warnings=warnings_of(job))


def upload(client: Client, path: Path, **controls) -> Outputs:
    return call(client, "/denoise_upload", handle_file(str(path)), **controls)


def sketch(client: Client, background: Path, layer: Path, composite: Path, **controls) -> Outputs:
    value = {"background": handle_file(str(background)), "layers": [handle_file(str(layer))],
             "composite": handle_file(str(composite)), "id": None}
    return call(client, "/denoise_sketch", value, **controls)


def assert_still_serving(client: Client) -> None:
    assert_complete(upload(client, SEVEN))


# ---------------------------------------------------------------- checking outputs

def assert_complete(out: Outputs, with_clean: bool = True) -> None:
    """Every image at its size, the gallery holds each classical denoiser, the table a score for every method."""
    images = [out.model_input, out.noisy, out.denoised] + ([out.clean] if with_clean else [])
    for path in images:
        assert path and Path(path).is_file() and size_of(path) == ENLARGED
    if not with_clean:
        assert out.clean is None
    assert [item["caption"] for item in out.gallery] == list(CLASSICAL_DENOISERS)
    assert all(size_of(item["image"]) == THUMBNAIL for item in out.gallery)
    assert [row[0] for row in out.rows] == METHODS
    for _, psnr, ssim in out.rows:
        if with_clean:
            assert psnr == "∞" or np.isfinite(float(psnr)), psnr
            assert -1.0 <= float(ssim) <= 1.0, ssim
        else:
            assert (psnr, ssim) == ("—", "—")


def assert_shows_digit(path: str) -> None:
    """Not blank, not flooded: some bright ink on a mostly black field, as MNIST digits are."""
    ink = pixels(path) > 128
    assert 0.03 < ink.mean() < 0.5, f"ink covers {ink.mean():.1%} of the model input"


def assert_same_digit(path: str, reference: str, tolerance: float = 6.0) -> None:
    """Two model inputs show the same 28×28 digit (mean grey difference, 0–255, allows for WebP encoding)."""
    difference = np.abs(pixels(path) - pixels(reference)).mean()
    assert difference < tolerance, f"mean grey difference {difference:.1f}"


@pytest.fixture(scope="module")
def seven(client) -> Outputs:
    """The reference request: a bundled MNIST 7, Gaussian noise 0.5, seed 0."""
    return upload(client, SEVEN)


# ---------------------------------------------------------------- good requests

def test_example_digit_gives_every_output(seven):
    assert_complete(seven)
    assert_shows_digit(seven.model_input)
    assert_same_digit(seven.clean, seven.model_input, tolerance=0.5)  # clean = the digit the model was given
    given = pixels(seven.model_input)[::8, ::8]  # shown enlarged 8×; an MNIST digit is already in MNIST's style
    assert np.abs(given - pixels(str(SEVEN))).mean() < 6  # so the model was given it as it is
    assert np.abs(pixels(seven.noisy) - pixels(seven.clean)).mean() > 10  # level 0.5 visibly corrupts it
    assert seven.warnings == []


def test_same_seed_same_noise_other_seed_other_noise(client, seven):
    again = upload(client, SEVEN, seed=0)
    np.testing.assert_array_equal(pixels(again.noisy), pixels(seven.noisy))
    np.testing.assert_array_equal(pixels(again.denoised), pixels(seven.denoised))
    assert again.rows == seven.rows
    other = upload(client, SEVEN, seed=1)
    assert np.abs(pixels(other.noisy) - pixels(seven.noisy)).mean() > 5
    assert_same_digit(other.clean, seven.clean, tolerance=0.5)


@pytest.mark.parametrize("noise_kind", NOISE_KINDS)
def test_each_noise_kind(client, seven, noise_kind):
    out = upload(client, SEVEN, noise_kind=noise_kind, level=0.3, seed=7)
    assert_complete(out)
    assert np.abs(pixels(out.noisy) - pixels(out.clean)).mean() > 2, "the digit was not corrupted"


def test_already_noisy_input_is_denoised_as_it_is_without_scores(client, seven):
    out = upload(client, SEVEN, already_noisy=True)
    assert_complete(out, with_clean=False)
    assert_same_digit(out.noisy, seven.model_input, tolerance=0.5)  # no noise added
    assert "no clean original to show or to score against" in out.note and "no clean original" not in seven.note


def test_the_tabs_own_noisy_digit_uploaded_again_as_already_noisy_comes_back_exactly(client, seven):
    """The enlarged noisy digit the tab shows (224×224 PNG) goes to the digit model, shrunk back, not re-cropped."""
    out = upload(client, Path(seven.noisy), already_noisy=True)
    assert "digit autoencoder" in out.note
    assert_complete(out, with_clean=False)
    np.testing.assert_array_equal(pixels(out.model_input), pixels(seven.noisy))
    np.testing.assert_array_equal(pixels(out.noisy), pixels(seven.noisy))


def test_drawn_sketch_gives_every_output(client, tmp_path):
    out = sketch(client, *sketch_files(tmp_path))
    assert_complete(out)
    assert_shows_digit(out.model_input)


def test_blank_sketch_asks_to_draw(client, tmp_path):
    assert_refused(lambda: sketch(client, *sketch_files(tmp_path, drawn=False)), "sketch is empty", "draw")
    assert_still_serving(client)


def test_the_api_refuses_a_missing_image_and_a_sketch_without_its_composite(client, tmp_path):
    """In the page a cleared upload box changes nothing; over the API no image is an error that says what to send (it
    came back as 13 unchanged outputs and no error), and a sketch sent as background and layers names `composite`."""
    assert_refused(lambda: call(client, "/denoise_upload", None), "Upload an image")
    background, layer, _ = sketch_files(tmp_path)
    layers_only = {"background": handle_file(str(background)), "layers": [handle_file(str(layer))], "composite": None,
                   "id": None}
    assert_refused(lambda: call(client, "/denoise_sketch", layers_only), "no composite image", "`composite`")
    # handle_file(path) as it is reaches the handler as an empty sketch: "pick the brush" told a program to use one
    assert_refused(lambda: call(client, "/denoise_sketch", handle_file(str(layer))), "over the API, send a drawing as",
                   '{"composite": handle_file(path)}')
    assert_still_serving(client)


def test_overlapping_api_calls_with_one_file_and_other_settings_each_get_their_result(client):
    """The page's guard against a change that fires twice once dropped the second of two API calls that send the same
    file (a sweep over σ with submit()): it now guards the page's upload box only."""
    photo = handle_file(str(PHOTO_EXAMPLES_DIR / "astronaut-grey.png"))
    jobs = [client.submit(photo, "auto", "gaussian", 0.5, 0, False, sigma, False, api_name="/denoise_upload")
            for sigma in (10, 50)]
    results = [Outputs(*job.result(timeout=120), warnings=[]) for job in jobs]
    noisy_psnr = [float(out.photo_table["data"][0][1]) for out in results]
    assert noisy_psnr[0] > noisy_psnr[1] + 10  # σ = 10 and σ = 50: both ran, each with its own noise


# ---------------------------------------------------------------- unusual files that must work

WORKING_FILES = {
    "16-bit grayscale PNG": sixteen_bit_png,
    "32-bit integer TIFF of 8-bit grey levels": thirty_two_bit_tiff,
    "palette PNG": palette_png,
    "white digit on transparent RGBA PNG": white_digit_on_transparent_png,
}


@pytest.mark.parametrize("make", WORKING_FILES.values(), ids=WORKING_FILES.keys())
def test_unusual_image_formats_give_the_same_digit(client, seven, tmp_path, make):
    out = upload(client, make(tmp_path))
    assert_complete(out)
    assert_shows_digit(out.model_input)
    assert_same_digit(out.model_input, seven.model_input)


def test_animated_gif_uses_its_first_frame_and_says_so(client, seven, tmp_path):
    out = upload(client, animated_gif(tmp_path))
    assert_complete(out)
    assert_same_digit(out.model_input, seven.model_input)  # the 7, not the 1 of frame 2
    assert any("first frame" in text for text in out.warnings), out.warnings


# ---------------------------------------------------------------- bad input: clear errors, server keeps serving

@pytest.mark.parametrize("make, words", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_refused_clearly_and_fast(client, tmp_path, make, words):
    path = make(tmp_path)
    assert_refused(lambda: upload(client, path), *words)
    assert_still_serving(client)


BAD_CONTROLS = {
    "level above 1": (dict(level=1.5), ["noise level", "between 0 and 1"]),
    "negative level": (dict(level=-0.1), ["noise level", "between 0 and 1"]),
    "negative seed": (dict(seed=-1), ["seed", "0 to"]),
    "seed above 2^31-1": (dict(seed=2**31), ["seed", "0 to"]),
    "unknown noise kind": (dict(noise_kind="speckle"), ["Unknown noise kind", "gaussian"]),
    "level not a number": (dict(level="abc"), ["noise level", "between 0 and 1"]),
    "fractional seed": (dict(seed=1.5), ["seed", "whole number"]),
    "seed not a number": (dict(seed="x"), ["seed", "whole number"]),
    "seed past any float": (dict(seed=10**400), ["seed", "whole number"]),
    "level past any float": (dict(level=10**400), ["noise level", "between 0 and 1"]),
    "noise kind as a list": (dict(noise_kind=["gaussian"]), ["Unknown noise kind"]),
    "'false' for a box": (dict(already_noisy="false"), ["already noisy", "true or false"]),
}


@pytest.mark.parametrize("controls, words", BAD_CONTROLS.values(), ids=BAD_CONTROLS.keys())
def test_bad_control_value_is_refused_clearly(client, controls, words):
    assert_refused(lambda: upload(client, SEVEN, **controls), *words)
    assert_still_serving(client)


def test_oversized_sketch_is_refused_from_the_header(client, tmp_path):
    """A crafted API call can send any image as the sketch: it gets the upload's size check, not a full decode."""
    big = huge_png(tmp_path)
    assert_refused(lambda: sketch(client, big, big, big), "5000×5000", "limit")
    assert_still_serving(client)


# ---------------------------------------------------------------- photos: the photo denoiser

CAT = PHOTO_EXAMPLES_DIR / "chelsea-cat.png"  # 451×300 colour


def rgb(path: str) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32)


def assert_photo_complete(out: Outputs, size: tuple[int, int], with_clean: bool = True) -> None:
    """Original (when there is one), noisy and denoised at the upload's size; the zoomed crops; scores; the download."""
    for path in [out.photo_noisy, out.photo_denoised, out.photo_file] + ([out.photo_clean] if with_clean else []):
        assert path and size_of(path) == size
    assert [item["caption"] for item in out.photo_zoom] == (["original"] if with_clean else []) + ["noisy", "denoised"]
    zoomed = tuple(min(ZOOM_SIDE, side) * ZOOM_SCALE for side in size)  # the centre crop, or the whole of a small photo
    assert all(size_of(item["image"]) == zoomed for item in out.photo_zoom)
    assert [row[0] for row in out.photo_table["data"]] == ["noisy input", "photo denoiser"]
    assert "photo denoiser" in out.note


def test_a_photo_goes_to_the_photo_denoiser_which_removes_most_of_the_noise(client):
    out = upload(client, CAT, sigma=25)
    assert_photo_complete(out, (451, 300))
    (_, noisy_psnr, _), (_, denoised_psnr, denoised_ssim) = out.photo_table["data"]
    assert float(denoised_psnr) > float(noisy_psnr) + 5
    assert 0 < float(denoised_ssim) <= 1
    np.testing.assert_array_equal(rgb(out.photo_file), rgb(out.photo_denoised))  # the download is what is shown
    assert "looks like a photo" in out.note


def test_the_self_ensemble_box_denoises_the_same_noisy_photo_a_little_better(client):
    single, ensemble = upload(client, CAT, sigma=25), upload(client, CAT, sigma=25, ensemble=True)
    np.testing.assert_array_equal(rgb(ensemble.photo_noisy), rgb(single.photo_noisy))
    assert float(ensemble.photo_table["data"][1][1]) > float(single.photo_table["data"][1][1])


def test_an_already_noisy_photo_is_denoised_as_it_is_without_scores(client):
    out = upload(client, CAT, already_noisy=True)
    assert_photo_complete(out, (451, 300), with_clean=False)
    assert out.photo_table["data"] == [["noisy input", "—", "—"], ["photo denoiser", "—", "—"]]
    assert "no clean original to show or to score against" in out.note
    np.testing.assert_array_equal(rgb(out.photo_noisy), rgb(str(CAT)))


def test_the_model_choice_overrides_the_automatic_one(client):
    digit_as_photo = upload(client, SEVEN, choice="photo")
    assert_photo_complete(digit_as_photo, (28, 28))
    assert "you chose it" in digit_as_photo.note
    photo_as_digit = upload(client, CAT, choice="digit")
    assert_complete(photo_as_digit)
    assert "digit autoencoder" in photo_as_digit.note


def test_a_large_photo_is_denoised_whole_in_tiles(client, tmp_path):
    rng = np.random.default_rng(0)
    smooth = np.kron(rng.integers(0, 256, (30, 40, 3)), np.ones((40, 30, 1))).astype(np.uint8)  # 1200×1200
    path = tmp_path / "large.png"
    Image.fromarray(smooth).save(path)
    out = upload(client, path, sigma=15)
    assert_photo_complete(out, (1200, 1200))
    (_, noisy_psnr, _), (_, denoised_psnr, _) = out.photo_table["data"]
    assert float(denoised_psnr) > float(noisy_psnr)


@pytest.mark.parametrize("controls, words", [(dict(sigma=80), ["σ", "0 to 55"]), (dict(choice="vae"), ["model choice"])])
def test_bad_photo_controls_are_refused_clearly(client, controls, words):
    assert_refused(lambda: upload(client, CAT, **controls), *words)


def test_refused_input_is_no_traceback_in_the_server_log(client, app_log):
    """A user's mistake is answered in the page; the server log keeps tracebacks for faults of the server."""
    time.sleep(0.5)  # what earlier tests' requests print has arrived
    before = app_log.stat().st_size
    assert_refused(lambda: upload(client, SEVEN, level=50), "noise level")
    assert_refused(lambda: client.predict(7, 4, 2**40, 1.0, api_name="/cgan_generate"), "seed")
    assert_refused(lambda: client.predict("a red dragon", 4, 0, api_name="/t2i_generate"), "Unknown word")
    time.sleep(0.5)
    added = app_log.read_bytes()[before:].decode(errors="replace")
    assert "Traceback" not in added, added[-2000:]


def test_every_endpoint_is_described_and_names_its_outputs(client):
    """The API page shows each endpoint's description (by default its function's docstring, which can be internal
    or, for a ``partial``, Python's own) and names outputs by their labels (``value_26`` without one)."""
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    unnamed = [f"{name}: {output['label']}" for name, endpoint in endpoints.items()
               for output in endpoint["returns"] if re.fullmatch(r"value_\d+", output["label"])]
    undescribed = [f"{name}: {endpoint['description']!r}" for name, endpoint in endpoints.items()
                   if not endpoint["description"] or "partial(" in endpoint["description"] or "``" in endpoint["description"]]
    assert len(endpoints) > 10 and not unnamed and not undescribed, unnamed + undescribed


def test_the_readme_lists_every_endpoint_of_the_api_and_no_other(client):
    """The README's API table is what a programmer reads first: it must name exactly the endpoints the app serves."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("### From Python (the API)")[1].split("\n## ")[0]
    documented = set(re.findall(r"`(/[a-z0-9_]+)`", section))
    assert documented == set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])


def test_the_readmes_api_example_runs_as_written(app_url, capsys):
    """The README's copy-paste example of the API, against the real app (its URL swapped for the test server's)."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("### From Python (the API)")[1].split("\n## ")[0]
    code = re.search(r"```python\n(.*?)```", section, re.S)[1]
    assert 'Client("http://127.0.0.1:7860/")' in code  # python app.py's address, which the example is for
    exec(compile(code.replace("http://127.0.0.1:7860/", app_url), "README.md", "exec"), {})
    verdict, note = capsys.readouterr().out.splitlines()[-2:]  # after the client's "Loaded as API" line
    assert re.fullmatch(r"The classifier reads \*\*\d of 8\*\* as a 7\.", verdict)
    assert note.startswith("Denoised by the **photo denoiser**") and note.endswith("denoised.png")
