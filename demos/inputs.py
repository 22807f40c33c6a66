"""Input and display helpers every digit tab shares: uploads and sketches in, crisp enlargements out.

Errors become ``Refusal`` (a ``gr.Error``) with the message meant for the user; the server keeps serving.
"""
from __future__ import annotations

import functools
import inspect
import json
import math
import os
import random
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np

from generative.digits import looks_like_digit, noisy_digit_field, to_mnist_style
from generative.image_io import LUMA, ImageInputError, load_gray_image
from generative.photo import to_uint8

EMPTY_SKETCH = "The sketch is empty: pick the brush and draw a digit first."
# What the API says instead: a program sent an image file as it is, which Gradio hands over as an empty sketch.
API_EMPTY_SKETCH = ('The sketch is empty: over the API, send a drawing as {"composite": handle_file(path)} (a file '
                    "sent as it is arrives empty), or an image to the upload endpoint.")
NOT_A_DIGIT = ("This image does not look like a handwritten digit (it looks like a photo). The models here know only "
               "MNIST digits, so they see it as the digit it most resembles.")
EXAMPLES_DIR = Path(__file__).parent / "examples" / "mnist_test"
# Gradio's share button posts a picture to a Space's discussions; anywhere else it only answers "Must be on Spaces to
# share." in red, so the tabs' pictures and galleries show it on a Space alone (SYSTEM=spaces is how Gradio tells).
ON_A_SPACE = os.environ.get("SYSTEM") == "spaces"
IMAGE_BUTTONS = ["download", "fullscreen", *(["share"] if ON_A_SPACE else [])]
GALLERY_BUTTONS = ["download", "download_all", "fullscreen", *(["share"] if ON_A_SPACE else [])]
MAX_SEED = 2**31 - 1


class Refusal(gr.Error):
    """Input the user can fix, refused with a message for them. Shown in the page, and not logged with a traceback:
    one in the server log should mean a fault of the server, not a typo of a user."""

    def __init__(self, message: str):
        super().__init__(message, print_exception=False)


def is_number(value) -> bool:
    """True for ints (of any size) and finite floats, not for bools or strings (API calls can send anything).

    Compare such a number with its bounds before ``float(value)``: an int past 1e308 has no float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or math.isfinite(value)


def shown(value, limit: int = 40) -> str:
    """``repr(value)`` for a refusal, cut to ``limit`` characters: an API call's 2**2000 made a 600-digit message.
    None, which an emptied number box sends, is "nothing" (the page's "got None" was Python's word for it)."""
    text = "nothing" if value is None else repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def checked_int(value, name: str, low: int, high: int) -> int:
    """``value`` as an int, or ``Refusal`` naming the control unless it is a whole number in [low, high]."""
    if not (is_number(value) and (isinstance(value, int) or value.is_integer()) and low <= value <= high):
        raise Refusal(f"{name} must be a whole number from {low} to {high}, got {shown(value)}.")
    return int(value)


def checked_choice(value, name: str, choices) -> str:
    """``value`` if it is one of the string ``choices``, else ``Refusal`` naming them (a list or dict sent by an API
    call is refused like any other wrong value, not looked up, which would raise "unhashable type")."""
    if not (isinstance(value, str) and value in choices):
        raise Refusal(f"Unknown {name}: got {shown(value)}; choose one of: {', '.join(choices)}.")
    return value


def checked_flag(value, name: str) -> bool:
    """A checkbox's value: True or False only (``bool("false")`` is True, so anything else is refused)."""
    if not isinstance(value, bool):
        raise Refusal(f"{name} must be true or false, got {shown(value)}.")
    return value


def clicked_point(evt: gr.SelectData) -> tuple[float, float] | None:
    """The (x, y) pixel of a click on an image, or None when the event does not carry two finite numbers.

    The browser always sends a pair, but the queue's route takes any JSON, and a click is not worth a traceback."""
    index = evt.index
    if isinstance(index, (list, tuple)) and len(index) == 2 and all(is_number(v) and abs(v) < 2**31 for v in index):
        return float(index[0]), float(index[1])
    return None


NOT_DRAWN = "⚠️ **Not drawn:** {reason} The pictures on show are still the last ones drawn."


def noted_on_refusal(handler, outputs: list, note_in: gr.Markdown | list[gr.Markdown], note: str = NOT_DRAWN):
    """``handler`` for a page event whose ``outputs`` took a request to make: a value our checks refuse becomes a
    warning, every output keeps what it showed, and the Markdown ``note_in`` among them (or each of a list, one under
    each view the event draws) gets ``note``, its ``{reason}`` filled in. Raised as an error, the refusal marked every
    output of the event "Error", also those the value does not touch (a walk's step count blanked the latent map), and
    left the last result under it; kept without a word, the FID calculator's last distance, or the text-to-image tab's
    "16 of 16" under a caption it refused, read as the answer to the new request. API events keep the error."""
    notes = note_in if isinstance(note_in, list) else [note_in]

    @functools.wraps(handler)  # Gradio reads the handler's own signature (its request, progress) through the wrapper
    def noted(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except Refusal as refusal:
            gr.Warning(refusal.message)
            said = note.format(reason=refusal.message)
            return tuple(said if any(block is n for n in notes) else gr.skip() for block in outputs)
    return noted


@contextmanager
def refusals_for_the_api():
    """A refused value stays an error for an API caller; an empty sketch is told how to send one: "pick the brush"
    is the page's advice, no use to a program."""
    try:
        yield
    except Refusal as refusal:
        if refusal.message == EMPTY_SKETCH:
            raise Refusal(API_EMPTY_SKETCH) from None
        raise


def api_endpoint(elem_id: str, handler, inputs, outputs, **event):
    """``handler`` as an API endpoint on a hidden button. A refused value stays an error there, which reaches the
    caller; the page's own events for the same work are wired with ``noted_on_refusal``, which warns, keeps what is
    shown and says so (an error marks every output "Error" and leaves the last result under it, as if it were the new
    one's). A generator handler stays one: Gradio tells a generator by the function it is given."""
    if inspect.isgeneratorfunction(handler):
        @functools.wraps(handler)  # Gradio reads the handler's own signature (its progress argument) through the wrapper
        def for_the_api(*args, **kwargs):
            with refusals_for_the_api():
                yield from handler(*args, **kwargs)
    else:
        @functools.wraps(handler)
        def for_the_api(*args, **kwargs):
            with refusals_for_the_api():
                return handler(*args, **kwargs)
    return gr.Button(visible=False, elem_id=elem_id).click(for_the_api, inputs, outputs, **event)


def checked_seed(seed, name: str = "The seed") -> int:
    """``seed`` as an int, or a ``Refusal`` naming it (``name``: which seed, where a call takes two)."""
    return checked_int(seed, name, 0, MAX_SEED)


def new_seed() -> int:
    """A random seed for the tabs' "New seed" buttons."""
    return random.randint(0, MAX_SEED)


def with_a_new_seed(handler, seed_at: int):
    """``handler`` for a "New seed" button: it draws a seed and answers it together with the views ``handler`` draws
    from it (given the other inputs, the seed going in at position ``seed_at``). As two events, one to fill the box
    and one to redraw, two quick presses could leave the second seed in the box over the first seed's pictures."""
    def draw(*inputs):
        seed = new_seed()
        return seed, *handler(*inputs[:seed_at], seed, *inputs[seed_at:])
    return draw


def on_new_seed(button, handler, inputs: list, seed, outputs: list, note_in: gr.Markdown | list[gr.Markdown],
                **event) -> None:
    """Wire a "New seed" ``button``: ``with_a_new_seed`` of ``handler``, which takes ``inputs`` (the ``seed`` box among
    them) and answers ``outputs``; the button's event answers the seed box first. Another input refused (a noise scale
    typed out of range) keeps the box and the views, and ``note_in`` says so (``noted_on_refusal``)."""
    draw = noted_on_refusal(with_a_new_seed(handler, inputs.index(seed)), [seed, *outputs], note_in)
    button.click(draw, [block for block in inputs if block is not seed], [seed, *outputs], **event)


def digit_from_upload(image: str | dict | None) -> np.ndarray:
    """An uploaded image file → the 28×28 MNIST-style digit; ``Refusal`` if it cannot be used.

    ``image`` is a path, or the raw file payload ({"path": …}) of an event wired with
    ``preprocess=False``: that keeps Gradio from decoding the upload itself, which would turn a
    bad file into a generic "could not preprocess" error before our clear message could be given.
    """
    try:
        image = load_gray_image(upload_path(image))
        digit = to_mnist_style(image.pixels)
    except ImageInputError as err:
        raise Refusal(str(err)) from None
    for note in image.notes:
        gr.Warning(note)
    if not looks_like_digit(image.pixels):
        gr.Warning(NOT_A_DIGIT)
    return digit


class UploadGuard:
    """Lets one run of a page's upload event per session and file go at a time.

    A file dropped onto a filled upload box fires its change event twice at once (whatever ``trigger_mode`` says),
    which doubled the wait for a photo; the second run, while the first still works on the same file, is skipped.
    When the queue is busy the second event waits until the first has ended; a tab that keeps the input on show in a
    ``gr.State`` (which Gradio reads when the event runs, not when it is sent) passes its file as ``on_show``, and the
    late second run is skipped too.
    """

    def __init__(self):
        self.running: set[tuple[str | None, str]] = set()
        self.lock = threading.Lock()

    def run(self, request, image, work, on_show: str | None = None):
        """``work()`` for the page's upload ``image``, or ``gr.skip()`` (what is shown stays) when the box was cleared,
        when this session's run on this file is still going, or when the file is the one ``on_show``."""
        if not image or (path := upload_path(image)) == on_show:
            return gr.skip()
        key = (getattr(request, "session_hash", None), path)
        with self.lock:
            if key in self.running:
                return gr.skip()
            self.running.add(key)
        try:
            return work()
        finally:
            with self.lock:
                self.running.discard(key)


def upload_path(image: str | dict | None, missing: str = "Upload an image, or click one of the examples.") -> str:
    """The file of an upload given as a path or as the raw payload of a ``preprocess=False`` event; ``Refusal(missing)`` if none."""
    path = image.get("path") if isinstance(image, dict) else image
    if not path:
        raise Refusal(missing)
    return path


def digit_from_pixels(pixels: np.ndarray, already_noisy: bool = False) -> np.ndarray:
    """Decoded grey (H, W) or RGB (H, W, 3) pixels in [0, 1] → the 28×28 MNIST-style digit; ``Refusal`` if there is no ink.

    An ``already_noisy`` image is only brought to 28×28 (``noisy_digit_field``): cropping to the ink would
    take its noise for ink."""
    gray = pixels if pixels.ndim == 2 else pixels @ LUMA
    if already_noisy:
        if np.ptp(gray) == 0:  # no noise, no ink: it went through as a black field "that looks like a digit"
            raise Refusal("No digit found: the image is one flat colour, so it holds neither a digit nor noise.")
        return noisy_digit_field(gray)
    try:
        return to_mnist_style(gray)
    except ImageInputError as err:
        raise Refusal(str(err)) from None


def sketch_path(sketch: dict | None) -> str:
    """The composite image file of a Sketchpad payload ({background, layers, composite}); ``Refusal`` if there is none."""
    composite = sketch.get("composite") if isinstance(sketch, dict) else None
    path = composite.get("path") if isinstance(composite, dict) else composite
    if not path and isinstance(sketch, dict) and (sketch.get("background") or sketch.get("layers")):
        raise Refusal("The sketch has no composite image: over the API, send the drawing as its `composite` "
                      "(background and layers are not read).")
    if not path:
        raise Refusal(EMPTY_SKETCH)
    return path


def digit_from_sketch(sketch: dict | None) -> np.ndarray:
    """A Sketchpad payload ({background, layers, composite}, each a file) → the 28×28 MNIST-style digit.

    Like uploads, sketches arrive undecoded (``preprocess=False``): a crafted API call can send any
    image as the "sketch", so it gets the same size checks before decoding as an upload.
    """
    try:
        pixels = load_gray_image(sketch_path(sketch)).pixels
    except ImageInputError as err:
        raise Refusal(str(err)) from None
    try:
        return to_mnist_style(pixels)
    except ImageInputError:
        raise Refusal(EMPTY_SKETCH) from None


def enlarge(image: np.ndarray | None, scale: int = 8) -> np.ndarray | None:
    """Grey (H, W) or colour (H, W, 3) image, float in [0, 1] or uint8 → uint8, each pixel a scale×scale block, so
    browsers show it sharp, not blurred."""
    if image is None:
        return None
    pixels = image if image.dtype == np.uint8 else to_uint8(image)
    return np.kron(pixels, np.ones((scale, scale) + (1,) * (pixels.ndim - 2), dtype=np.uint8))


def example_paths() -> list[str]:
    """Bundled digits ordered 0–9, then 0–9 again (files are named <label>_<k>_…), so each page shows every digit."""
    def label_then_copy(path: Path) -> tuple[int, int]:
        label, copy = path.name.split("_")[:2]
        return int(copy), int(label)

    return [str(p) for p in sorted(EXAMPLES_DIR.glob("*.png"), key=label_then_copy)]


def bring_into_sight(elem_id: str) -> str:
    """A page script that scrolls the element ``elem_id`` into view when it lies below the window: on a phone a tab's
    results come after all its settings, a screen or more below the control just used, and nothing in sight showed
    that anything had happened. On a wide screen they stand beside the controls, and nothing moves."""
    return f"""() => {{
    const results = document.getElementById("{elem_id}");
    if (results && results.getBoundingClientRect().top > window.innerHeight) results.scrollIntoView({{behavior: "smooth"}});
}}"""


def example_name(path: str) -> str:
    """What a screen reader says for a bundled example picture: Gradio draws each example as a button around an image
    with an empty alt text, so every one was announced as a bare "button". A digit is named by its label and its
    index in the MNIST test set (``7_0_test00000.png``), a photo by its file name."""
    file = Path(path)
    if file.parent == EXAMPLES_DIR:
        label, _, test_index = file.stem.split("_")
        return f"Example digit {label} (MNIST test image {int(test_index.removeprefix('test'))})"
    return f"Example photo: {file.stem.replace('-', ' ')}"


def example_names_script(paths: list[str]) -> str:
    """The page's script (``launch(js=...)``) that gives each example button in ``paths`` its ``example_name``.

    Gradio serves an example from a cached copy with the same file name, and draws the buttons anew on another page
    of examples, so the script names every example button by its picture's file name whenever the page changes (and
    renames one that is given another picture)."""
    names = json.dumps({Path(path).name: example_name(path) for path in paths}, ensure_ascii=False)
    return f"""() => {{
    const names = {names};
    const nameExamples = () => document.querySelectorAll("button.gallery-item").forEach(button => {{
        const source = button.querySelector("img")?.getAttribute("src");
        const name = source && names[decodeURIComponent(source.split("/").pop())];
        if (name && button.getAttribute("aria-label") !== name) button.setAttribute("aria-label", name);
    }});
    new MutationObserver(nameExamples).observe(document.body, {{childList: true, subtree: true, attributeFilter: ["src"]}});
    nameExamples();
}}"""


@dataclass
class DigitInput:
    """The components of one "draw, upload or pick an example" digit input."""
    sketch: gr.Sketchpad
    sketch_button: gr.Button
    upload: gr.Image


def tabs() -> gr.Tabs:
    """Tabs that wrap onto more rows when they do not fit: Gradio's default hides them in a "…" menu, which at phone
    width leaves only the first in sight."""
    return gr.Tabs(overflow_behavior="wrap")


def digit_input(elem_prefix: str, button_label: str, canvas: int = 280, upload_height: int = 220,
                upload_label: str = "Upload an image of a digit", photo_examples: list[str] | None = None) -> DigitInput:
    """Add the "Draw" and "Upload or pick an example" sub-tabs to the current ``gr.Tabs``.

    Each tab that takes a digit builds its input here, so every tab draws, uploads and offers the same
    bundled MNIST test digits the same way; elem ids are ``<elem_prefix>-sketch``, ``-sketch-button``,
    ``-upload`` and ``-examples`` (and ``-photo-examples`` for a tab that also takes ``photo_examples``).
    """
    with gr.Tab("Draw", id=f"{elem_prefix}-draw"):
        sketch = gr.Sketchpad(type="numpy", canvas_size=(canvas, canvas), label="Draw a digit",
                              brush=gr.Brush(default_size=canvas // 20, colors=["#000000"], color_mode="fixed"),
                              layers=False,  # one stroke layer: its "Show Layers" button was a useless Tab stop
                              elem_id=f"{elem_prefix}-sketch")
        sketch_button = gr.Button(button_label, variant="primary", elem_id=f"{elem_prefix}-sketch-button")
    with gr.Tab("Upload or pick an example", id=f"{elem_prefix}-upload-tab"):
        upload = gr.Image(type="filepath", sources=["upload", "clipboard"], label=upload_label,
                          height=upload_height, elem_id=f"{elem_prefix}-upload", elem_classes=["fit-preview"])
        gr.Examples(examples=[[p] for p in example_paths()], inputs=[upload], label="Real MNIST test digits",
                    examples_per_page=10, elem_id=f"{elem_prefix}-examples")
        if photo_examples:
            gr.Examples(examples=[[p] for p in photo_examples], inputs=[upload], elem_id=f"{elem_prefix}-photo-examples",
                        label="Photos (CC0 or public domain, from scikit-image; none is from a test set)")
    return DigitInput(sketch, sketch_button, upload)
