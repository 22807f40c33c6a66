"""The real app over HTTP, driven by gradio_client: outputs come back whole, and bad input gets a clear error.

These tests check plumbing and messages, not model quality (that has its own test): every image
comes back at the expected size, every method gets a numeric score, a seed reproduces its noise,
and every unusable upload is refused with our own words while the server keeps serving.
All input files are made in ``tmp_path`` at test time.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from demos.denoise import DAE
from demos.inputs import EXAMPLES_DIR
from generative.classical import CLASSICAL_DENOISERS
from generative.noise import NOISE_KINDS

pytestmark = pytest.mark.timeout(240)  # the first test also waits for the server to start

SEVEN = EXAMPLES_DIR / "7_0_test00000.png"
ONE = EXAMPLES_DIR / "1_0_test00002.png"
ENLARGED = (28 * 8, 28 * 8)   # model input, clean, noisy, denoised
THUMBNAIL = (28 * 4, 28 * 4)  # each classical denoiser in the gallery
METHODS = ["noisy input", DAE, *CLASSICAL_DENOISERS]
REFUSAL_S = 5.0               # a bad file must be refused at once (the size check reads only the header)


# ---------------------------------------------------------------- calling the app

@dataclass
class Outputs:
    model_input: str | None
    clean: str | None
    noisy: str | None
    denoised: str | None
    gallery: list[dict]
    table: dict
    warnings: list[str]

    @property
    def rows(self) -> list[list[str]]:
        return self.table["data"]


@pytest.fixture(scope="module")
def client(app_url, tmp_path_factory) -> Client:
    return Client(app_url, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


def call(client: Client, api_name: str, image, noise_kind="gaussian", level=0.5, seed=0, already_noisy=False) -> Outputs:
    """One request with every argument given (an omitted one could make the client fetch a default URL)."""
    job = client.submit(image, noise_kind, level, seed, already_noisy, api_name=api_name)
    result = job.result(timeout=120)
    return Outputs(*result, warnings=warnings_of(job))


def warnings_of(job) -> list[str]:
    """The gr.Warning texts the server sent during ``job`` (the client queues them as status updates)."""
    texts = []
    while True:
        try:
            update = job.communicator.updates.get_nowait()
        except asyncio.QueueEmpty:
            return texts
        if getattr(update, "log", None) and update.log[1] == "warning":
            texts.append(update.log[0])


def upload(client: Client, path: Path, **controls) -> Outputs:
    return call(client, "/denoise_upload", handle_file(str(path)), **controls)


def sketch(client: Client, background: Path, layer: Path, composite: Path, **controls) -> Outputs:
    value = {"background": handle_file(str(background)), "layers": [handle_file(str(layer))],
             "composite": handle_file(str(composite)), "id": None}
    return call(client, "/denoise_sketch", value, **controls)


def assert_refused(request, *words: str) -> None:
    """``request()`` must fail fast with an AppError whose message contains every one of ``words``."""
    start = time.perf_counter()
    with pytest.raises(AppError) as caught:
        request()
    elapsed = time.perf_counter() - start
    message = str(caught.value)
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in the error message {message!r}"
    assert elapsed < REFUSAL_S, f"refusing took {elapsed:.1f} s: {message}"


def assert_still_serving(client: Client) -> None:
    assert_complete(upload(client, SEVEN))


# ---------------------------------------------------------------- checking outputs

def pixels(path: str) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L"), dtype=np.float32)


def size_of(path: str) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


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


# ---------------------------------------------------------------- making input files

def save(image: Image.Image, path: Path, **params) -> Path:
    image.save(path, **params)
    return path


def gray_of(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


def text_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text("This is a shopping list, not a digit.\n" * 20)
    return path


def truncated_png(tmp_path: Path, source: Path) -> Path:
    data = source.read_bytes()
    path = tmp_path / "truncated.png"
    path.write_bytes(data[: len(data) // 2])
    return path


def huge_png(tmp_path: Path, side: int = 5000) -> Path:
    """A side×side PNG that compresses to a few kB: one flat colour with a black square."""
    image = Image.new("L", (side, side), 255)
    image.paste(0, (side // 3, side // 3, side // 2, side // 2))
    return save(image, tmp_path / f"huge-{side}.png")


def sixteen_bit_png(tmp_path: Path) -> Path:
    image = Image.fromarray(gray_of(SEVEN).astype(np.uint16) * 257)  # mode I;16
    path = save(image, tmp_path / "sixteen-bit.png")
    with Image.open(path) as check:
        assert check.mode.startswith("I"), check.mode
    return path


def palette_png(tmp_path: Path) -> Path:
    with Image.open(SEVEN) as image:
        return save(image.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=16), tmp_path / "palette.png")


def white_digit_on_transparent_png(tmp_path: Path) -> Path:
    """The MNIST 7 as opacity: white ink, fully transparent background (composited on white it would vanish)."""
    alpha = gray_of(SEVEN)
    rgba = np.dstack([np.full_like(alpha, 255)] * 3 + [alpha])
    return save(Image.fromarray(rgba, "RGBA"), tmp_path / "transparent.png")


def animated_gif(tmp_path: Path) -> Path:
    """Two frames: the 7, then a 1. Only the first may be used."""
    frames = [Image.fromarray(gray_of(SEVEN)), Image.fromarray(gray_of(ONE))]
    return save(frames[0], tmp_path / "animated.gif", save_all=True, append_images=frames[1:], duration=200, loop=0)


def flat_png(tmp_path: Path, size: tuple[int, int], grey: int = 255) -> Path:
    return save(Image.new("L", size, grey), tmp_path / f"flat-{size[0]}x{size[1]}.png")


def stroke_rgba(size: int = 280) -> np.ndarray:
    """A black '7' (top bar and diagonal, 14 px brush) on a transparent layer, as the Sketchpad draws it."""
    layer = np.zeros((size, size, 4), np.uint8)
    layer[60:74, 80:200] = (0, 0, 0, 255)
    for row in range(74, 230):
        col = 200 - (row - 74) * 90 // 156
        layer[row, col - 7: col + 7] = (0, 0, 0, 255)
    return layer


def sketch_files(tmp_path: Path, drawn: bool = True) -> tuple[Path, Path, Path]:
    """(background, layer, composite) PNGs, RGBA, as the Sketchpad sends them; blank if not ``drawn``."""
    background = Image.new("RGBA", (280, 280), (255, 255, 255, 255))
    layer = Image.fromarray(stroke_rgba() if drawn else np.zeros((280, 280, 4), np.uint8), "RGBA")
    return (save(background, tmp_path / "background.png"), save(layer, tmp_path / "layer.png"),
            save(Image.alpha_composite(background, layer), tmp_path / "composite.png"))


# ---------------------------------------------------------------- good requests

def test_example_digit_gives_every_output(seven):
    assert_complete(seven)
    assert_shows_digit(seven.model_input)
    assert_same_digit(seven.clean, seven.model_input, tolerance=0.5)  # clean = the digit the model was given
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


def test_drawn_sketch_gives_every_output(client, tmp_path):
    out = sketch(client, *sketch_files(tmp_path))
    assert_complete(out)
    assert_shows_digit(out.model_input)


def test_blank_sketch_asks_to_draw(client, tmp_path):
    assert_refused(lambda: sketch(client, *sketch_files(tmp_path, drawn=False)), "sketch is empty", "draw")
    assert_still_serving(client)


# ---------------------------------------------------------------- unusual files that must work

WORKING_FILES = {
    "16-bit grayscale PNG": sixteen_bit_png,
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

BAD_FILES = {  # name: (make the file in tmp_path, words the error must contain)
    "text file .txt": (lambda tmp: text_file(tmp, "notes.txt"), ["not an image"]),
    "text renamed .png": (lambda tmp: text_file(tmp, "digit.png"), ["not an image"]),
    "truncated PNG": (lambda tmp: truncated_png(tmp, SEVEN), ["truncated or corrupt"]),
    "all-white image": (lambda tmp: flat_png(tmp, (64, 64)), ["No digit found"]),
    "1×1 image": (lambda tmp: flat_png(tmp, (1, 1), grey=0), ["1×1", "at least 8×8"]),
    "5000×5000 image": (lambda tmp: huge_png(tmp), ["5000×5000", "limit"]),
    "5000×5000 header, data cut": (lambda tmp: truncated_png(tmp, huge_png(tmp)), ["5000×5000", "limit"]),
}


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
