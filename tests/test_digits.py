"""MNIST-style preprocessing and safe image decoding."""
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from generative.digits import block_shrunk, noisy_digit_field, to_mnist_style
from generative.image_io import MAX_SIDE, MIN_SIDE, ImageInputError, load_gray_image, load_photo, to_gray


def stroke_image(height=200, width=120, ink_on_light=True) -> np.ndarray:
    """A thick vertical bar with a foot: a '1'-ish digit, off-centre, at any size and polarity."""
    img = np.zeros((height, width), np.float32)
    img[height // 10: height * 9 // 10, width // 3: width // 3 + width // 6] = 1.0
    img[height * 8 // 10: height * 9 // 10, width // 6: width * 2 // 3] = 1.0
    return 1.0 - img if ink_on_light else img


def test_output_is_28x28_light_on_dark_fitted_in_20x20_and_centred_by_mass():
    digit = to_mnist_style(stroke_image())
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0 and digit.max() <= 1 and digit[0, 0] == 0
    rows, cols = np.nonzero(digit > 0.05)
    assert rows.max() - rows.min() + 1 <= 21 and cols.max() - cols.min() + 1 <= 21
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 >= 19  # longer side fills the box
    assert np.allclose(ndimage.center_of_mass(digit), (14, 14), atol=1.0)


def test_an_already_noisy_digit_keeps_its_noise_and_framing():
    noisy = np.random.default_rng(0).random((28, 28)).astype(np.float32) * 0.3
    noisy[5:23, 12:15] = 0.9
    np.testing.assert_array_equal(noisy_digit_field(noisy), noisy)  # 28×28 light on dark: untouched
    np.testing.assert_allclose(noisy_digit_field(1 - noisy), noisy, atol=1e-6)  # dark on light: only inverted
    np.testing.assert_array_equal(noisy_digit_field(np.kron(noisy, np.ones((8, 8), np.float32))), noisy)  # shown enlarged
    stretched = np.kron(noisy, np.ones((2, 4), np.float32))
    wide = noisy_digit_field(stretched)  # 56×112: padded to 112×112 with the paper's level, averaged 4×4
    np.testing.assert_allclose(wide[7:21], noisy.reshape(14, 2, 28).mean(1), atol=1e-5)
    paper = np.median(np.concatenate([stretched[0], stretched[-1], stretched[:, 0], stretched[:, -1]]))
    np.testing.assert_allclose(wide[:7], paper, atol=1e-6)


def test_block_shrunk_finds_whole_block_enlargements_only():
    small = np.random.default_rng(1).random((7, 5))
    np.testing.assert_array_equal(block_shrunk(np.kron(small, np.ones((6, 6)))), small)
    colour = np.random.default_rng(2).random((4, 3, 3))
    np.testing.assert_array_equal(block_shrunk(np.repeat(np.repeat(colour, 3, 0), 3, 1)), colour)
    assert block_shrunk(small) is None and block_shrunk(np.zeros((1, 9))) is None
    almost = np.kron(small, np.ones((6, 6)))
    almost[-1, -1] += 0.5  # one pixel off: not an enlargement
    assert block_shrunk(almost) is None
    bordered = np.random.default_rng(3).random((60, 80))
    bordered[:4], bordered[:, :4] = 1.0, 1.0  # a white margin passes the first-rows check, the rest does not
    assert block_shrunk(bordered) is None
    np.testing.assert_array_equal(block_shrunk(np.zeros((600, 800))), np.zeros((3, 4)))  # flat: blocks of gcd(600, 800)


def test_polarity_does_not_matter_and_scale_hardly():
    light_paper = to_mnist_style(stroke_image(200, 120, ink_on_light=True))
    np.testing.assert_allclose(light_paper, to_mnist_style(stroke_image(200, 120, ink_on_light=False)), atol=1e-6)
    twice_as_big = to_mnist_style(stroke_image(400, 240, ink_on_light=True))
    assert twice_as_big.sum() == pytest.approx(light_paper.sum(), rel=0.05)
    assert np.allclose(ndimage.center_of_mass(twice_as_big), ndimage.center_of_mass(light_paper), atol=1.0)


def test_a_real_mnist_digit_is_left_almost_unchanged(mnist_test):
    images = mnist_test[0][:100, 0].numpy()
    diffs = [np.abs(to_mnist_style(d) - d).mean() for d in images]
    assert np.mean(diffs) < 0.01


def test_blank_image_is_refused():
    with pytest.raises(ImageInputError, match="No digit found"):
        to_mnist_style(np.ones((50, 50), np.float32))


def save(image: Image.Image, tmp_path, name="x.png", **kwargs):
    path = tmp_path / name
    image.save(path, **kwargs)
    return path


def test_sixteen_bit_palette_and_rgba_images_decode_to_the_same_digit(tmp_path):
    base = (stroke_image(ink_on_light=False) * 255).astype(np.uint8)
    reference = to_mnist_style(base / 255.0)
    sixteen = Image.fromarray(base.astype(np.uint16) * 257)
    palette = Image.fromarray(base).convert("P")
    rgba = np.zeros((*base.shape, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = base  # white ink on a transparent background
    for image in (sixteen, palette, Image.fromarray(rgba, "RGBA")):
        digit = to_mnist_style(load_gray_image(save(image, tmp_path)).pixels)
        assert np.abs(digit - reference).mean() < 0.02, image.mode


def test_transparent_background_takes_the_colour_that_contrasts_with_the_ink():
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[4:6, 4:6] = (0, 0, 0, 255)  # black ink, transparent elsewhere
    gray = to_gray(Image.fromarray(rgba, "RGBA"))
    assert gray[0, 0] == 1.0 and gray[5, 5] == 0.0


def test_animated_gif_uses_the_first_frame_and_says_so(tmp_path):
    frames = [Image.fromarray((stroke_image(ink_on_light=False) * 255).astype(np.uint8)), Image.new("L", (120, 200), 0)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    image = load_gray_image(path)
    assert image.pixels.max() > 0.9 and "first frame" in image.notes[0]


def test_bad_files_give_clear_errors(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(ImageInputError, match="not an image"):
        load_gray_image(tmp_path / "notes.txt")
    buffer = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((64, 64)) * 255).astype(np.uint8)).save(buffer, "PNG")
    (tmp_path / "cut.png").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageInputError, match="truncated or corrupt"):
        load_gray_image(tmp_path / "cut.png")
    with pytest.raises(ImageInputError, match="at least"):
        load_gray_image(save(Image.new("L", (1, 1)), tmp_path, "tiny.png"))


def test_a_file_that_is_gone_asks_for_the_upload_again(tmp_path):
    """A setting changed hours after the upload reran on a file Gradio had deleted: "[Errno 2] No such file"."""
    for load in (load_photo, load_gray_image):
        with pytest.raises(ImageInputError, match=r"no longer there \(the app deletes uploads after a while\): upload it again"):
            load(tmp_path / "deleted.png")


def test_oversized_images_are_refused_from_the_header(tmp_path, monkeypatch):
    paths = [save(Image.new("L", size), tmp_path, f"{size[0]}x{size[1]}.png") for size in ((MAX_SIDE + 1, 16), (16, MAX_SIDE + 1))]
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded pixels of an oversized image"))
    for path in paths:  # too wide, too tall
        with pytest.raises(ImageInputError, match="limit"):
            load_gray_image(path)


def test_a_jpeg_over_the_limits_is_read_at_the_largest_reduction_that_fits_and_says_so(tmp_path):
    """A phone's 20-megapixel photo was refused ("the limit is 4096 pixels a side and 16 megapixels")."""
    smooth = np.kron(np.random.default_rng(0).random((57, 86, 3)), np.ones((64, 64, 1)))  # 3648×5504, blocks of 64
    wide = save(Image.fromarray((smooth * 255).astype(np.uint8)), tmp_path, "wide.jpg")
    photo = load_photo(wide)
    assert photo.pixels.shape == (1824, 2752, 3)  # 1/2, not 1/4: 2752×1824 already fits
    assert photo.notes == ["The JPEG is 5504×3648 pixels (20 megapixels); it was read at 1/2 of its size, 2752×1824."]
    halved = smooth.reshape(1824, 2, 2752, 2, 3).mean(axis=(1, 3))
    assert np.abs(photo.pixels - halved).mean() < 0.01  # the same picture, smaller
    tall = save(Image.new("RGB", (1000, 4 * MAX_SIDE + 1), "white"), tmp_path, "tall.jpg")
    assert load_photo(tall).pixels.shape == (2049, 125)  # 1/4 rounds up to 4097 rows, one too many; white: grey
    square = save(Image.new("RGB", (MAX_SIDE, MAX_SIDE), "red"), tmp_path, "square.jpg")  # 16.8 MP: sides fit, area not
    assert load_photo(square).pixels.shape == (MAX_SIDE // 2, MAX_SIDE // 2, 3) and "1/2" in load_photo(square).notes[0]
    with pytest.raises(ImageInputError, match="4096×4096 pixels; the limit is 4096 pixels a side and 16 megapixels"):
        load_photo(save(Image.open(square), tmp_path, "square.png"))
    small = save(Image.new("RGB", (MAX_SIDE, 100), "red"), tmp_path, "small.jpg")
    assert load_photo(small).pixels.shape == (100, MAX_SIDE, 3) and load_photo(small).notes == []
    with pytest.raises(ImageInputError, match="5504×3648 pixels; the limit is 4096 pixels a side and 16 megapixels"):
        load_photo(save(Image.open(wide), tmp_path, "wide.png"))  # other formats cannot be read smaller: refused
    with pytest.raises(ImageInputError, match="limit"):
        load_gray_image(save(Image.new("L", (9 * MAX_SIDE, 8)), tmp_path, "endless.jpg"))  # too wide even at 1/8
    stereo = tmp_path / "phone.jpg"  # many phones save a JPEG with a second image (MPO): Pillow calls it "MPO"
    Image.new("RGB", (5504, 3648), "red").save(stereo, format="MPO", save_all=True, append_images=[Image.new("RGB", (5504, 3648))])
    assert Image.open(stereo).format == "MPO"
    phone = load_photo(stereo)
    assert phone.pixels.shape == (1824, 2752, 3) and phone.notes == [
        "The JPEG is 5504×3648 pixels (20 megapixels); it was read at 1/2 of its size, 2752×1824."]  # not "animated"


def test_a_jpeg_over_pillows_bomb_warning_size_is_read_without_the_warning(tmp_path):
    """Pillow warns of a decompression bomb from 89 megapixels; the upload's size is checked (and reduced) here."""
    huge = save(Image.new("L", (9600, 9600), 128), tmp_path, "huge.jpg")  # 92 megapixels
    # In a fresh process, as the server is: pytest drops filters that modules set while it imported them.
    read = subprocess.run([sys.executable, "-W", "default", "-c", "import sys; from generative.image_io import load_photo; "
                           "print(load_photo(sys.argv[1]).pixels.shape)", str(huge)],
                          capture_output=True, text=True, cwd=Path(__file__).parents[1], check=True)
    assert read.stdout.strip() == "(2400, 2400)" and "DecompressionBombWarning" not in read.stderr, read.stderr


@pytest.mark.parametrize("size", [(MIN_SIDE - 1, 100), (100, MIN_SIDE - 1)])
def test_an_image_too_thin_on_either_side_is_refused(tmp_path, size):
    with pytest.raises(ImageInputError, match=f"at least {MIN_SIDE}×{MIN_SIDE}"):
        load_gray_image(save(Image.new("L", size), tmp_path, "thin.png"))


def test_a_long_thin_jpeg_is_refused_with_its_own_size_not_the_reduced_one(tmp_path):
    """A 5000×8 JPEG, read at 1/2, was refused as "only 2500×4 pixels": too small, by sizes that were not the file's."""
    with pytest.raises(ImageInputError) as refusal:
        load_photo(save(Image.new("L", (5000, 8), 128), tmp_path, "ribbon.jpg"))
    assert str(refusal.value).startswith("The JPEG is 5000×8 pixels, over the limits (4096 pixels a side, 16 megapixels), "
                                         "and read at 1/2 of its size it would be 2500×4, under the 8×8 minimum.")


def test_a_float_image_of_8_bit_levels_is_scaled_to_one(tmp_path):
    levels = np.linspace(0, 255, 16 * 16, dtype=np.float32).reshape(16, 16)
    np.testing.assert_allclose(load_gray_image(save(Image.fromarray(levels, mode="F"), tmp_path, "f.tiff")).pixels,
                               levels / 255, atol=1e-6)


def test_a_colour_photo_with_two_equal_channels_stays_colour(tmp_path):
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[..., :2] = 120  # R == G, B differs: a colour image, not grey
    assert load_photo(save(Image.fromarray(rgb), tmp_path, "rg.png")).pixels.shape == (16, 16, 3)


def test_a_photo_is_turned_upright_by_its_exif_orientation(tmp_path):
    """Phones store photos sideways with an orientation tag; 6 means "rotate 90° clockwise to view"."""
    pixels = np.arange(20 * 12, dtype=np.uint8).reshape(20, 12)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6  # Orientation
    path = tmp_path / "sideways.png"
    image.save(path, exif=exif)
    upright = np.asarray(image.transpose(Image.Transpose.ROTATE_270), dtype=np.float32) / 255
    np.testing.assert_array_equal(load_gray_image(path).pixels, upright)


def test_an_image_exactly_at_the_smallest_size_is_read(tmp_path):
    """The limit is "at least 8×8": an 8×8 icon is read, not refused with a message that says it is large enough."""
    pixels = np.zeros((MIN_SIDE, MIN_SIDE), np.uint8)
    pixels[2:6, 3:5] = 255
    np.testing.assert_array_equal(load_gray_image(save(Image.fromarray(pixels), tmp_path, "icon.png")).pixels, pixels / 255)


def test_float_and_32_bit_grey_levels_are_scaled_by_the_range_they_are_written_in(tmp_path):
    """A float image in [0, 1] whose brightest pixel is exactly 1 is already scaled (÷255 made it black); a 32-bit
    integer scan of 8-bit levels that reaches 255 is 8-bit (÷65535 made it black, and "no digit found")."""
    levels = np.linspace(0, 1, 16 * 16, dtype=np.float32).reshape(16, 16)
    np.testing.assert_allclose(load_gray_image(save(Image.fromarray(levels, mode="F"), tmp_path, "unit.tiff")).pixels,
                               levels, atol=1e-6)
    from input_files import SEVEN, gray_of, thirty_two_bit_tiff

    eight_bit = gray_of(SEVEN)
    assert eight_bit.max() == 255
    np.testing.assert_allclose(load_gray_image(thirty_two_bit_tiff(tmp_path)).pixels, eight_bit / 255, atol=1e-6)
    wide = Image.fromarray(eight_bit.astype(np.int32) * 257)  # 16-bit levels in a 32-bit file: ÷65535
    np.testing.assert_allclose(to_gray(wide), eight_bit / 255, atol=1e-6)


def test_strokes_fainter_than_5_percent_of_the_grey_range_are_no_digit():
    """A near-flat scan would otherwise have its paper's grain stretched into a 'digit'; a faint but visible pencil
    stroke is still read."""
    page = np.full((60, 40), 0.5, np.float32)
    faint, visible = page.copy(), page.copy()
    faint[10:50, 18:22] = 0.53
    visible[10:50, 18:22] = 0.56
    with pytest.raises(ImageInputError, match="no visible strokes"):
        to_mnist_style(faint)
    digit = to_mnist_style(visible)
    assert digit.max() == pytest.approx(1.0, abs=0.05) and (digit > 0.5).sum() > 20
