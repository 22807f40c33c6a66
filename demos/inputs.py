"""Input and display helpers every digit tab shares: uploads and sketches in, crisp enlargements out.

Errors become ``gr.Error`` with the message meant for the user; the server keeps serving.
"""
from __future__ import annotations

import gradio as gr
import numpy as np

from generative.digits import to_mnist_style
from generative.image_io import ImageInputError, load_gray_image

EMPTY_SKETCH = "The sketch is empty: pick the brush and draw a digit first."


def digit_from_upload(image: str | dict | None) -> np.ndarray:
    """An uploaded image file → the 28×28 MNIST-style digit; ``gr.Error`` if it cannot be used.

    ``image`` is a path, or the raw file payload ({"path": …}) of an event wired with
    ``preprocess=False``: that keeps Gradio from decoding the upload itself, which would turn a
    bad file into a generic "could not preprocess" error before our clear message could be given.
    """
    path = image.get("path") if isinstance(image, dict) else image
    if not path:
        raise gr.Error("Upload an image of a digit, or click one of the example digits.")
    try:
        image = load_gray_image(path)
        digit = to_mnist_style(image.pixels)
    except ImageInputError as err:
        raise gr.Error(str(err)) from None
    for note in image.notes:
        gr.Warning(note)
    return digit


def digit_from_sketch(sketch: dict | None) -> np.ndarray:
    """A Sketchpad payload ({background, layers, composite}, each a file) → the 28×28 MNIST-style digit.

    Like uploads, sketches arrive undecoded (``preprocess=False``): a crafted API call can send any
    image as the "sketch", so it gets the same size checks before decoding as an upload.
    """
    composite = sketch.get("composite") if isinstance(sketch, dict) else None
    path = composite.get("path") if isinstance(composite, dict) else composite
    if not path:
        raise gr.Error(EMPTY_SKETCH)
    try:
        pixels = load_gray_image(path).pixels
    except ImageInputError as err:
        raise gr.Error(str(err)) from None
    try:
        return to_mnist_style(pixels)
    except ImageInputError:
        raise gr.Error(EMPTY_SKETCH) from None


def enlarge(image: np.ndarray | None, scale: int = 8) -> np.ndarray | None:
    """[0, 1] grey image → uint8, each pixel a scale×scale block, so browsers show it sharp, not blurred."""
    if image is None:
        return None
    pixels = (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
    return np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))
