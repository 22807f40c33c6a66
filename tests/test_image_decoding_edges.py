"""Decoding edges the main image tests leave open: transparency in palette and grey+alpha files, colour weighted to grey
the same way on every path, and the megapixel limit's own boundary."""
import numpy as np
import pytest
from PIL import Image

from demos.inputs import Refusal, digit_from_pixels
from generative.digits import to_mnist_style
from generative.image_io import MAX_PIXELS, MAX_SIDE, ImageInputError, load_gray_image, load_photo


def digit_mask(height=60, width=40) -> np.ndarray:
    """A thick '7': a top bar and a vertical stroke, True where the ink is."""
    mask = np.zeros((height, width), bool)
    mask[8:16, 6:34] = True
    mask[16:54, 24:32] = True
    return mask


def test_a_palette_image_with_a_transparent_colour_keeps_its_ink_visible(tmp_path):
    """A PNG-8 or GIF of white ink on a transparent background whose hidden colour is also white: read without its
    transparency it is a blank white square ("No digit found"); read with it, the background contrasts with the ink."""
    mask = digit_mask()
    indices = mask.astype(np.uint8)  # 0: the transparent background, 1: the ink
    image = Image.fromarray(indices, "P")
    image.putpalette([255, 255, 255, 255, 255, 255] + [0, 0, 0] * 254)  # both white: only transparency tells them apart
    path = tmp_path / "palette-transparent.png"
    image.save(path, transparency=0)
    with Image.open(path) as check:
        assert check.mode == "P" and check.info.get("transparency") == 0
    pixels = load_gray_image(path).pixels
    np.testing.assert_allclose(pixels, mask.astype(np.float32), atol=1e-6)  # white ink on black
    assert to_mnist_style(pixels).max() > 0.9


def test_a_grey_image_with_alpha_keeps_its_ink_visible(tmp_path):
    """An "LA" PNG (grey + alpha, as some editors export a drawing): white ink whose background is white but
    transparent. Dropping the alpha leaves a white square; the transparent part takes the colour that contrasts."""
    mask = digit_mask()
    grey_and_alpha = np.dstack([np.full(mask.shape, 255, np.uint8), np.where(mask, 255, 0).astype(np.uint8)])
    path = tmp_path / "grey-alpha.png"
    Image.fromarray(grey_and_alpha, "LA").save(path)
    with Image.open(path) as check:
        assert check.mode == "LA"
    np.testing.assert_allclose(load_gray_image(path).pixels, mask.astype(np.float32), atol=1e-6)


def two_colour_digit(tmp_path, alpha: bool) -> tuple:
    """The '7' with a red bar and a green stroke on black, saved as RGB or as opaque RGBA."""
    mask = digit_mask()
    rgb = np.zeros((*mask.shape, 3), np.uint8)
    rgb[8:16, 6:34] = (255, 0, 0)
    rgb[16:54, 24:32] = (0, 255, 0)
    if alpha:
        image = Image.fromarray(np.dstack([rgb, np.full(mask.shape, 255, np.uint8)]), "RGBA")
    else:
        image = Image.fromarray(rgb)
    path = tmp_path / f"colour-{'rgba' if alpha else 'rgb'}.png"
    image.save(path)
    return path, rgb


def test_colour_is_weighted_to_grey_as_pils_grey_conversion_whether_or_not_the_file_has_alpha(tmp_path):
    """ITU-R 601 weights (0.299 R + 0.587 G + 0.114 B), as PIL's "L": red ink is about half as bright as green. An
    RGBA file and the same pixels as RGB must give the same grey levels, and so the same digit."""
    rgb_path, rgb = two_colour_digit(tmp_path, alpha=False)
    rgba_path, _ = two_colour_digit(tmp_path, alpha=True)
    expected = np.asarray(Image.fromarray(rgb).convert("L"), np.float32) / 255
    np.testing.assert_allclose(load_gray_image(rgb_path).pixels, expected, atol=1 / 255)
    np.testing.assert_allclose(load_gray_image(rgba_path).pixels, expected, atol=1 / 255)
    assert load_gray_image(rgba_path).pixels[10, 10] == pytest.approx(0.299, abs=0.005)  # the red bar


def test_a_colour_digit_gives_the_same_model_input_in_the_denoise_tab_as_in_the_other_tabs(tmp_path):
    """The Denoise tab reads an upload with ``load_photo`` (colour kept, for the photo model) and makes the digit from
    its RGB pixels; the other tabs read it as grey with ``load_gray_image``. Both must see the same digit."""
    path, _ = two_colour_digit(tmp_path, alpha=False)
    photo = load_photo(path).pixels
    assert photo.ndim == 3  # a colour file stays colour for the photo model
    from_rgb = digit_from_pixels(photo)
    from_grey = to_mnist_style(load_gray_image(path).pixels)
    np.testing.assert_allclose(from_rgb, from_grey, atol=0.02)


@pytest.mark.parametrize("level", [0.0, 1.0, 0.4])
def test_a_flat_image_is_refused_as_a_digit_also_when_marked_already_noisy(level):
    """Marked already noisy, a blank upload was denoised as a black field "that looks like a digit"; unmarked it was
    refused. Now both are."""
    flat = np.full((64, 64), level, np.float32)
    for already_noisy in (False, True):
        with pytest.raises(Refusal, match="No digit found"):
            digit_from_pixels(flat, already_noisy)
    assert digit_from_pixels(flat + np.random.default_rng(0).normal(0, 0.1, flat.shape), already_noisy=True).shape == (28, 28)


def test_an_image_of_exactly_the_megapixel_limit_is_read_and_one_row_more_is_refused(tmp_path):
    """The limit is "16 megapixels": a 4000×4000 image is 16,000,000 pixels, so it is read; 4000×4001 is not."""
    side = 4000
    assert side * side == MAX_PIXELS and side <= MAX_SIDE
    at_limit = tmp_path / "at-limit.png"
    Image.new("L", (side, side), 0).save(at_limit)
    assert load_gray_image(at_limit).pixels.shape == (side, side)
    over = tmp_path / "over.png"
    Image.new("L", (side, side + 1), 0).save(over)
    with pytest.raises(ImageInputError, match="4000×4001 pixels; the limit is"):
        load_gray_image(over)
