"""Strip and upload details the main tests leave open: every GIF frame shows for the same time (no pause at the far
end), gallery items use the enlargement asked for, and a zip whose name ends in upper-case ".ZIP" is accepted."""
import numpy as np
from PIL import Image

from demos.fid import UPLOAD, FIDTab
from demos.strips import GIF_FRAME_MS, gallery_items, save_strip
from input_files import random_digits_zip


def test_every_frame_of_the_there_and_back_animation_shows_for_the_same_time(tmp_path):
    """The far end is shown once on the way back, not twice: GIF writers merge a repeated frame into one shown twice
    as long, a pause the label does not promise."""
    frames = np.linspace(0, 1, 5)[:, None, None] * np.ones((5, 8, 8))
    _, gif = save_strip(frames, [str(i) for i in range(5)], tmp_path, "walk")
    with Image.open(gif) as animation:
        durations = []
        for i in range(animation.n_frames):
            animation.seek(i)
            durations.append(animation.info["duration"])
    assert durations == [GIF_FRAME_MS] * 8


def test_gallery_items_are_enlarged_by_the_scale_asked_for():
    frames = np.random.default_rng(0).random((2, 32, 32, 3))
    for scale in (3, 4):
        items = gallery_items(frames, ["a", "b"], scale=scale)
        assert [image.shape for image, _ in items] == [(32 * scale, 32 * scale, 3)] * 2
        assert [text for _, text in items] == ["a", "b"]


def test_a_zip_named_in_upper_case_is_accepted(tmp_path):
    """Windows and some phones name archives "IMAGES.ZIP": the extension is checked whatever its case."""
    path = random_digits_zip(tmp_path / "DIGITS.ZIP", 3, seed=0)
    images = FIDTab().image_set(UPLOAD, {"path": str(path)}, 10, 0, "B")
    assert len(images) == 3
