"""The captioned strips that the VAE, cGAN and text-to-image tabs offer as downloads."""
import numpy as np
from PIL import Image

from demos.inputs import enlarge
from demos.strips import CAPTION_PADDING, GIF_LABEL, LINE_HEIGHT, save_strip, strip_image, wrap_to_width
from generative.fonts import label_font


def glyph(text: str) -> bytes:
    return bytes(label_font(12).getmask(text))


def test_the_verdict_marks_are_real_glyphs_not_missing_character_boxes():
    missing = glyph("\uffff")  # a non-character: every font draws its "missing" box for it
    assert glyph("✓") != missing and glyph("✗") != missing and glyph("✓") != glyph("✗")


def test_long_captions_wrap_inside_their_own_frame():
    frames = np.random.default_rng(0).random((3, 32, 32, 3))
    captions = ["✓ large red circle centre", "✗ green cross left of purple square", "nothing"]
    strip = np.asarray(strip_image(frames, captions, scale=3))
    cell, font = 32 * 3, label_font(12)
    lines = [wrap_to_width(text, font, cell - 2 * CAPTION_PADDING) for text in captions]
    assert all(font.getlength(line) <= cell - 2 * CAPTION_PADDING for caption in lines for line in caption)
    assert strip.shape == (cell + LINE_HEIGHT * max(map(len, lines)) + 2 * CAPTION_PADDING, 3 * cell, 3)
    below = strip[cell:]
    for boundary in (cell, 2 * cell):  # no caption ink crosses into a neighbour's column
        assert (below[:, boundary - 1:boundary + 1] == 255).all()
    assert (below < 128).any(axis=(0, 2)).sum() > 20  # and there is text


def test_wrapping_keeps_every_word_and_a_word_too_long_for_a_line():
    font = label_font(12)
    assert wrap_to_width("a b c", font, 1000) == ["a b c"]
    assert wrap_to_width("extraordinarily long", font, 10) == ["extraordinarily", "long"]
    assert wrap_to_width("", font, 50) == [""]


def test_the_animation_plays_the_strip_there_and_back_as_its_label_says(tmp_path):
    frames = np.linspace(0, 1, 5)[:, None, None, None] * np.ones((5, 8, 8, 3))  # five distinct grey frames
    _, gif = save_strip(frames, [str(i) for i in range(5)], tmp_path, "walk")
    with Image.open(gif) as animation:
        shown = [np.asarray(animation.seek(i) or animation.convert("L"))[0, 0] for i in range(animation.n_frames)]
    assert animation.n_frames == 8 and shown == sorted(shown[:5]) + sorted(shown[:5])[-2:0:-1]
    assert "there and back" in GIF_LABEL


def test_each_frame_is_drawn_enlarged_in_its_own_cell_above_the_captions():
    for shape in ((4, 28, 28), (3, 32, 32, 3)):  # grey digits and colour pictures
        frames = np.random.default_rng(1).random(shape).astype(np.float32)
        strip = np.asarray(strip_image(frames, ["a", "b", "c", "d"][:len(frames)], scale=3))
        cell = frames.shape[1] * 3
        for i, frame in enumerate(frames):
            assert np.array_equal(strip[:cell, i * cell:(i + 1) * cell], enlarge(frame, 3)), (shape, i)
