"""The standard photo-denoising sets: Train400 to train on, BSD68 / Set12 / CBSD68 / Kodak24 to test on.

They are read from ``<data root>/denoising/<name>/*.png`` (the layout of cszn/DnCNN and cszn/FFDNet,
where they come from) and never downloaded: no library serves them, so a missing folder is an error
that says where to get them. The test sets are only ever measured on, never trained or tuned on.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from generative.data.mnist import DATA_ROOT_ENV, resolve_data_root

TRAIN_SET = "Train400"
GRAY_TEST_SETS = ("BSD68", "Set12")
COLOR_TEST_SETS = ("CBSD68", "Kodak24")
VALIDATION_IMAGES = 16  # the last 16 of Train400 never train: the per-epoch held-out loss is measured on them
SOURCES = {
    "Train400": "https://github.com/cszn/DnCNN (TrainingCodes/DnCNN_TrainingCodes_v1.0/data/Train400)",
    "BSD68": "https://github.com/cszn/DnCNN (testsets/BSD68)",
    "Set12": "https://github.com/cszn/DnCNN (testsets/Set12)",
    "CBSD68": "https://github.com/cszn/FFDNet (testsets/CBSD68)",
    "Kodak24": "https://github.com/cszn/FFDNet (testsets/Kodak24)",
}


def photo_set_dir(name: str, data_root: str | os.PathLike | None = None) -> Path:
    """``<data root>/denoising/<name>``, or a ``FileNotFoundError`` that says where the set comes from."""
    if name not in SOURCES:
        raise ValueError(f"unknown photo set {name!r}; expected one of {', '.join(SOURCES)}")
    root = resolve_data_root(data_root)
    if root is None:
        raise FileNotFoundError(f"{name} is not downloadable here: put it in <data root>/denoising/{name}/ "
                                f"(from {SOURCES[name]}) and pass --data-root or set {DATA_ROOT_ENV}")
    folder = root / "denoising" / name
    if not any(folder.glob("*.png")):
        raise FileNotFoundError(f"no PNG images in {folder}: get {name} from {SOURCES[name]}")
    return folder


def load_photo_set(name: str, data_root: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """File name → uint8 image, (H, W) for the grey sets and (H, W, 3) for the colour ones, in file-name order."""
    mode = "RGB" if name in COLOR_TEST_SETS else "L"
    return {path.name: np.asarray(Image.open(path).convert(mode))
            for path in sorted(photo_set_dir(name, data_root).glob("*.png"))}


def load_train400(data_root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Train400 as uint8 (N, 180, 180): the images to train on and the ``VALIDATION_IMAGES`` held out."""
    images = np.stack(list(load_photo_set(TRAIN_SET, data_root).values()))
    return images[:-VALIDATION_IMAGES], images[-VALIDATION_IMAGES:]
