"""Rows of generated pictures with a verdict under each, as gallery items, a PNG and a looping GIF.

The VAE walk, the cGAN noise walk and the text-to-image caption blend all end in such a strip, so all three
tabs build it here. Frames are grey (n, H, W) or colour (n, H, W, 3), in [0, 1].
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from demos.inputs import enlarge
from generative.fonts import label_font
from generative.models import DigitClassifier

GIF_FRAME_MS = 120
GIF_LABEL = "Animation (GIF: the strip there and back)"  # so 10 frames make an 18-frame loop
CAPTION_FONT_SIZE, LINE_HEIGHT, CAPTION_PADDING = 12, 15, 3  # pixels


@torch.inference_mode()
def readout(classifier: DigitClassifier, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 28, 28) digits in [0, 1] → the classifier's predicted digit and its probability for each."""
    digits, confidences = classifier.predict(torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32))[:, None])
    return digits.numpy(), confidences.numpy()


def caption(digit: int, confidence: float) -> str:
    return f"{digit} · {confidence:.0%}"


def gallery_items(frames: np.ndarray, captions: list[str], scale: int = 3) -> list[tuple[np.ndarray, str]]:
    return [(enlarge(frame, scale), text) for frame, text in zip(frames, captions)]


def wrap_to_width(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """The words of ``text`` in lines at most ``width`` pixels wide (a longer single word keeps a line to itself)."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines or [""]


def strip_image(frames: np.ndarray, captions: list[str], scale: int = 3) -> Image.Image:
    """The frames side by side, enlarged without blur, each caption under its frame, wrapped to the frame's width."""
    cell = frames.shape[1] * scale
    font = label_font(CAPTION_FONT_SIZE)
    wrapped = [wrap_to_width(text, font, cell - 2 * CAPTION_PADDING) for text in captions]
    caption_height = LINE_HEIGHT * max(map(len, wrapped), default=1) + 2 * CAPTION_PADDING
    strip = Image.new("L" if frames.ndim == 3 else "RGB", (cell * len(frames), cell + caption_height), "white")
    draw = ImageDraw.Draw(strip)
    for i, (frame, lines) in enumerate(zip(frames, wrapped)):
        strip.paste(Image.fromarray(enlarge(frame, scale)), (i * cell, 0))
        for row, line in enumerate(lines):
            draw.text((i * cell + cell / 2, cell + CAPTION_PADDING + row * LINE_HEIGHT), line, fill="black", font=font, anchor="ma")
    return strip


def save_strip(frames: np.ndarray, captions: list[str], folder: Path, stem: str, scale: int = 3) -> tuple[Path, Path]:
    """``<stem>.png`` (the captioned strip) and ``<stem>.gif`` (the frames looping there and back) in ``folder``."""
    png, gif = folder / f"{stem}.png", folder / f"{stem}.gif"
    strip_image(frames, captions, scale).save(png)
    images = [Image.fromarray(enlarge(frame, 4)) for frame in frames]
    loop = images + images[-2:0:-1]
    loop[0].save(gif, save_all=True, append_images=loop[1:], duration=GIF_FRAME_MS, loop=0)
    return png, gif
