"""Image sets from strangers: zip bombs, path traversal, non-images, corrupt and oversized images, odd modes.

Every refusal must happen before anything is decompressed, and every skipped member must be counted, since
the counts are part of each reported FID.
"""
from __future__ import annotations

import re
import threading
import warnings
import zipfile
from contextlib import contextmanager

import numpy as np
import pytest
from PIL import Image, ImageFile

from fid_helpers import MODES, image_in_mode, random_images, stand_in_extractor, write_folder
from generative.data import image_sets
from generative.data.image_sets import ArrayImages, FolderImages, ImageSetError, ImageTooLarge, ZipImages, decode, open_image_set
from generative.metrics.features import extract
from input_files import encoded, huge_png, inflate_declared_size, png_bytes, random_digits_zip

pytestmark = pytest.mark.timeout(60)

GOOD = 3  # honest images beside the bad members in each crafted zip


@pytest.fixture
def make_zip(tmp_path):
    """``make_zip(extra)``: a zip of ``GOOD`` random digits plus the ``extra`` members."""
    def make(extra: dict[str, bytes] | None = None, count: int = GOOD, name: str = "set.zip"):
        return random_digits_zip(tmp_path / name, count, seed=0, extra=extra)
    return make


def central_directory_entries(data: bytearray):
    start = data.find(b"PK\x01\x02")
    while start != -1:
        yield start
        start = data.find(b"PK\x01\x02", start + 4)


def edit_central_directory(path, name: str, edit) -> None:
    """Apply ``edit(data, offset)`` to the central-directory entry of member ``name`` (header fields, not data)."""
    data = bytearray(path.read_bytes())
    encoded_name = name.encode()
    for start in central_directory_entries(data):
        length = int.from_bytes(data[start + 28: start + 30], "little")
        if data[start + 46: start + 46 + length] == encoded_name:
            edit(data, start)
            path.write_bytes(bytes(data))
            return
    raise AssertionError(f"{name} not in {path}")


# ---------------------------------------------------------------- refused before extracting

@contextmanager
def nothing_decompressed():
    """Fail the test if a zip member is opened inside (``ZipImages`` must refuse from the central directory alone)."""
    def refuse(*args, **kwargs):
        raise AssertionError("a member was opened before the zip was refused")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(zipfile.ZipFile, "open", refuse)
        yield


def test_a_zip_bomb_is_refused_before_anything_is_extracted(make_zip):
    bomb = make_zip({"zeros.png": bytes(8 * 2**20)})  # 8 MB of zeros, about 8 kB compressed
    headers = inflate_declared_size(make_zip(name="headers.zip"))  # 3 members claiming 4 GB each
    assert bomb.stat().st_size < 2**16
    with nothing_decompressed():
        with pytest.raises(ImageSetError, match=r"would unpack to 8 MB; the limit is 4 MB. Refused before extracting \(zip bomb\?\)"):
            ZipImages(bomb, max_uncompressed_bytes=4 * 2**20)
        with pytest.raises(ImageSetError, match="Refused before extracting"):
            open_image_set(headers)  # the default caps


def test_too_many_members_are_refused_before_anything_is_extracted(make_zip):
    path = make_zip(count=6)
    with nothing_decompressed(), pytest.raises(ImageSetError, match="has 6 files; the limit is 5. Refused before extracting"):
        ZipImages(path, max_members=5)


def test_limits_at_the_boundary_are_accepted(make_zip):
    path = make_zip(count=5)
    declared = sum(info.file_size for info in zipfile.ZipFile(path).infolist())
    assert len(list(ZipImages(path, max_members=5, max_uncompressed_bytes=declared))) == 5


# ---------------------------------------------------------------- skipped and counted

UNSAFE_NAMES = ["../evil.png", "/abs.png", "C:\\x.png", "C:/y.png", "a/../../b.png", "..\\windows.png"]


def test_path_traversal_names_are_skipped_and_counted_as_unsafe(make_zip):
    pixels = png_bytes(np.full((28, 28), 255, np.uint8))
    path = make_zip({name: pixels for name in UNSAFE_NAMES})
    assert set(UNSAFE_NAMES) <= set(zipfile.ZipFile(path).namelist())  # the names survived zipfile as written
    images = ZipImages(path)
    assert (len(images), images.skipped.unsafe, images.skipped.not_image) == (GOOD, len(UNSAFE_NAMES), 0)
    assert len(list(images)) == GOOD
    assert images.skipped.describe().startswith(f"skipped {len(UNSAFE_NAMES)} unsafe names or file sizes (e.g. ../evil.png: unsafe")
    assert len(images.skipped.examples) == image_sets.SKIPPED_EXAMPLES  # examples capped, count is not


def test_non_image_members_are_skipped_and_counted(make_zip):
    junk = {"notes.txt": b"hello", "__MACOSX/._img000.png": b"mac", ".DS_Store": b"\0\0", "sub/.hidden.png": b"x",
            "model.pt": b"x", "noextension": b"x"}
    path = make_zip(junk)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("empty-folder/", b"")  # a directory entry: neither counted nor measured
    images = ZipImages(path)
    assert (len(images), images.skipped.not_image, images.skipped.total) == (GOOD, len(junk), len(junk))
    assert len(list(images)) == GOOD
    assert "6 files that are not images" in images.skipped.describe()


def test_corrupt_images_are_counted_while_reading(make_zip):
    truncated = png_bytes(random_images(1, 0)[0])[:100]
    text_as_png = b"This is a shopping list, not a digit.\n"
    images = ZipImages(make_zip({"junk.png": b"\x89PNG junk", "cut.png": truncated, "list.png": text_as_png}))
    assert len(images) == GOOD + 3  # candidates, before decoding
    assert len(list(images)) == GOOD
    assert (images.skipped.corrupt, images.skipped.total) == (3, 3)
    assert "3 unreadable images" in images.skipped.describe()


def test_images_that_decode_to_nonsense_are_counted_as_unreadable(make_zip):
    """A float image with a NaN would be measured as black, a LAB one with its bands taken for R, G, B."""
    nan = random_images(1, 0)[0, ..., 0].astype(np.float32)
    nan[0, 0] = np.nan
    lab = Image.fromarray(random_images(1, 1)[0]).convert("LAB")
    images = ZipImages(make_zip({"nan.tif": encoded(Image.fromarray(nan), "TIFF"), "lab.tif": encoded(lab, "TIFF")}))
    assert len(list(images)) == GOOD and images.skipped.corrupt == 2


def test_an_encrypted_member_is_counted_not_raised(make_zip):
    path = make_zip({"locked.png": png_bytes(random_images(1, 0)[0])})

    def set_encrypted_flag(data, start):
        data[start + 8] |= 0x01
    edit_central_directory(path, "locked.png", set_encrypted_flag)
    images = ZipImages(path)
    assert len(list(images)) == GOOD and images.skipped.corrupt == 1
    assert images.skipped.examples == ["locked.png: unreadable"]


def test_a_member_that_decompresses_past_its_declared_size_is_not_measured(make_zip):
    """The central directory claims 100 bytes for a member of several hundred: at most 100 may be read."""
    member = png_bytes(random_images(1, 0, size=(40, 40))[0])
    assert len(member) > 200
    path = make_zip({"liar.png": member})

    def shrink_declared_size(data, start):
        data[start + 24: start + 28] = (100).to_bytes(4, "little")
    edit_central_directory(path, "liar.png", shrink_declared_size)
    images = ZipImages(path)
    assert len(list(images)) == GOOD
    # zipfile itself stops at the declared size (and the CRC then fails), so it ends up unreadable, not oversized
    assert images.skipped.corrupt + images.skipped.unsafe == 1 and images.skipped.examples[0].startswith("liar.png")


def test_an_image_file_over_the_size_cap_is_skipped_as_unsafe_unread(monkeypatch, make_zip, tmp_path):
    """A member is read whole into memory, so one declared over ``MAX_FILE_BYTES`` must never be opened (a 2 MB
    zip declaring 2 GB of zeros as big.png once took the server 4 GB); one exactly at the cap is read."""
    big = png_bytes(np.random.default_rng(0).integers(0, 256, (100, 100), dtype=np.uint8))  # noise: 10 kB, the digits 1 kB
    monkeypatch.setattr(image_sets, "MAX_FILE_BYTES", len(big) - 1)
    path = make_zip({"big.png": big, "big.txt": big})
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, info, *a, **k: opened.append(info.filename) or real_open(self, info, *a, **k))
    images = ZipImages(path)
    assert len(list(images)) == GOOD and "big.png" not in opened and len(opened) == GOOD
    assert (images.skipped.unsafe, images.skipped.not_image) == (1, 1) and images.skipped.examples[0] == "big.png: unsafe"
    write_folder(tmp_path / "folder", random_images(2, 0))
    (tmp_path / "folder" / "big.png").write_bytes(big)
    folder = FolderImages(tmp_path / "folder")
    assert len(list(folder)) == 2 and folder.skipped.unsafe == 1
    monkeypatch.setattr(image_sets, "MAX_FILE_BYTES", len(big))
    assert len(list(ZipImages(path))) == GOOD + 1 and len(list(FolderImages(tmp_path / "folder"))) == 3


def test_a_folder_skips_hidden_and_non_image_files_and_reads_subfolders_in_order(tmp_path):
    images = random_images(3, 0)
    write_folder(tmp_path / "set", images[:2])
    write_folder(tmp_path / "set" / "sub", images[2:])
    (tmp_path / "set" / "notes.txt").write_text("x")
    (tmp_path / "set" / ".DS_Store").write_bytes(b"x")
    (tmp_path / "set" / ".hidden").mkdir()
    Image.fromarray(images[0]).save(tmp_path / "set" / ".hidden" / "img.png")
    (tmp_path / "set" / "broken.png").write_bytes(b"\x89PNG junk")
    folder = FolderImages(tmp_path / "set")
    decoded = list(folder)
    assert len(decoded) == 3 and all(np.array_equal(a, b) for a, b in zip(decoded, images))
    assert (folder.skipped.not_image, folder.skipped.corrupt) == (3, 1)


# ---------------------------------------------------------------- refused with a message

def test_fewer_than_two_usable_images_is_a_clear_error_from_extract(make_zip, tmp_path):
    one = ZipImages(make_zip({"notes.txt": b"x", "broken.png": b"\x89PNG junk"}, count=1))
    with pytest.raises(ImageSetError, match=r"set.zip: only 1 usable image, at least 2 are needed "
                                            r"\(skipped 1 file that is not an image, 1 unreadable image "
                                            r"\(e.g. notes.txt: not an image; broken.png: unreadable\)\)"):
        extract(one, stand_in_extractor(), progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageSetError, match=r"only 0 usable images,.*nothing skipped"):
        extract(open_image_set(tmp_path / "empty"), stand_in_extractor(), progress=False)


@pytest.mark.parametrize("content", [b"this is not a zip", b"", b"PK\x03\x04 truncated"], ids=["text", "empty", "truncated"])
def test_a_file_that_is_not_a_zip_is_refused(tmp_path, content):
    path = tmp_path / "images.zip"
    path.write_bytes(content)
    with pytest.raises(ImageSetError, match="images.zip is not a readable zip file"):
        open_image_set(path)


def test_a_missing_path_or_another_kind_of_file_is_named(tmp_path):
    with pytest.raises(ImageSetError, match="nowhere does not exist"):
        open_image_set(tmp_path / "nowhere")
    with pytest.raises(ImageSetError, match="missing.zip does not exist"):
        open_image_set(tmp_path / "missing.zip")
    (tmp_path / "images.txt").write_text("x")
    with pytest.raises(ImageSetError, match="neither a folder nor a .zip file"):
        open_image_set(tmp_path / "images.txt")


# ---------------------------------------------------------------- pixels

def test_an_image_over_the_pixel_cap_is_refused_from_its_header(monkeypatch, make_zip):
    loads = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self) or real_load(self))
    monkeypatch.setattr(image_sets, "MAX_PIXELS", 30 * 30)
    big = png_bytes(random_images(1, 0, size=(40, 30))[0])
    with pytest.raises(ValueError, match="30×40 is over the 900-pixel limit"):
        decode(big)
    assert loads == []  # refused from the header: no pixel decoded
    assert decode(png_bytes(random_images(1, 0, size=(30, 30))[0])).shape == (30, 30, 3) and loads  # the spy sees loads
    images = ZipImages(make_zip({"big.png": big}))
    assert len(list(images)) == GOOD and images.skipped.examples == ["big.png: too large"]  # not "unreadable": it is fine
    assert (images.skipped.too_large, images.skipped.corrupt) == (1, 0) and "skipped 1 image over " in images.skipped.describe()


def test_overlapping_decodes_leave_the_warning_filters_as_they_were(monkeypatch):
    """The server decodes uploads in several threads at once. Two overlapping ``warnings.catch_warnings()`` blocks
    left PIL's bomb warning an error for the whole process, and the photo tab's size check then failed on it."""
    before = list(warnings.filters)
    first_inside, second_inside, first_done = threading.Event(), threading.Event(), threading.Event()
    calls = []

    def meeting_check_mode(mode):  # the first decode waits inside for the second, which waits for the first to end
        calls.append(mode)
        if len(calls) == 1:
            first_inside.set()
            second_inside.wait(5)
        else:
            second_inside.set()
            first_done.wait(5)

    monkeypatch.setattr(image_sets, "check_mode", meeting_check_mode)
    data = png_bytes(random_images(1, 0, size=(30, 30))[0])
    first = threading.Thread(target=lambda: (decode(data), first_done.set()))
    second = threading.Thread(target=lambda: (first_inside.wait(5), decode(data)))
    for thread in (first, second):
        thread.start()
    for thread in (first, second):
        thread.join()
    assert len(calls) == 2 and warnings.filters == before


def test_a_huge_image_with_its_data_cut_is_refused_for_its_size_not_its_damage(tmp_path):
    data = huge_png(tmp_path).read_bytes()  # 5000×5000, a few kB
    with pytest.raises(ImageTooLarge, match="5000×5000 is over the 16,000,000-pixel limit"):
        decode(data[: len(data) // 2])


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_decodes_to_rgb_uint8(mode):
    image, expected = image_in_mode(random_images(1, 3, size=(12, 20))[0], mode)
    decoded = decode(encoded(image))
    assert decoded.dtype == np.uint8 and decoded.shape == (12, 20, 3)
    np.testing.assert_array_equal(decoded, expected)


def test_other_formats_decode_and_only_the_first_frame_of_an_animation_is_used():
    first, second = (Image.fromarray(pixels) for pixels in random_images(2, 0))
    animated = encoded(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    assert np.array_equal(decode(animated), decode(encoded(first, "GIF")))
    for fmt in ("JPEG", "BMP", "WEBP", "TIFF"):
        assert decode(encoded(first, fmt)).shape == (28, 28, 3), fmt


@pytest.mark.parametrize("images, words", [
    (np.full((2, 4, 4), 2.0), "float images must lie in [0, 1], these span 2 to 2"),
    (np.full((2, 4, 4), -1.0), "float images must lie in [0, 1], these span -1 to -1 (scale [−1, 1] as (x + 1) / 2"),
    (np.full((2, 4, 4), 255.0, np.float32), "float images must lie in [0, 1], these span 255 to 255"),
    (np.array([[[0.5, np.nan]]] * 2), "the images hold NaN or infinite values"),
    (np.array([[[0.5, np.inf]]] * 2), "the images hold NaN or infinite values"),
    (np.full((2, 4, 4), 256, np.int64), "integer images must lie in 0–255, these span 256 to 256"),
    (np.full((2, 4, 4), -1, np.int16), "integer images must lie in 0–255, these span -1 to -1"),
    (np.ones((2, 4, 4), bool), "images must be integers 0–255 or floats in [0, 1], not bool"),
], ids=["floats 0-2", "floats -1-1", "floats 0-255", "nan", "inf", "int 256", "int -1", "bool"])
def test_arrays_outside_their_range_are_refused_not_clipped(images, words):
    """Clipping turned 0–255 values into black-and-white pictures, and [−1, 1] ones into darker ones, without a word:
    so another FID for the same images."""
    with pytest.raises(ImageSetError, match=re.escape(f"set: {words}")):
        ArrayImages(images, "set")


def test_arrays_of_grey_rgb_and_float_images():
    grey = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)
    assert np.array_equal(next(iter(ArrayImages(grey, "grey"))), np.repeat(grey[0][..., None], 3, axis=-1))
    floats = ArrayImages(np.array([[[0.0, 0.5], [1.0, 1.0019]]] * 2), "floats")  # × 255; a rounding's overshoot clipped
    assert next(iter(floats))[..., 0].tolist() == [[0, 128], [255, 255]]
    assert np.array_equal(next(iter(ArrayImages(grey.astype(np.int64), "int64"))), next(iter(ArrayImages(grey, "u8"))))
    assert len(ArrayImages(random_images(5, 0), "rgb")) == 5
    with pytest.raises(ImageSetError, match=r"expected \(N, H, W\) or \(N, H, W, 3\) images, got shape \(2, 4, 4, 4\)"):
        ArrayImages(np.zeros((2, 4, 4, 4), np.uint8), "rgba")
