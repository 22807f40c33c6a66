"""Test-wide settings: never touch the network, never phone home, find the data root if there is one."""
import os
from pathlib import Path

# Read at import time by huggingface_hub and gradio, so set before anything imports them.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest  # noqa: E402

from app_server import app_log, app_url, app_workdir  # noqa: E402,F401  (session fixtures: the real app on a free port)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def data_folder(inside: str, why: str) -> Path:
    """The data root, which must hold ``inside`` when it is given at all; skip (saying ``why``) when it is not given."""
    root = os.environ.get("GALLERY_DATA_ROOT")
    if not root:
        pytest.skip(why)
    assert (Path(root) / inside).is_dir(), f"GALLERY_DATA_ROOT={root} has no {inside}"
    return Path(root)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """``$GALLERY_DATA_ROOT`` (CI: ../shared/datasets), or skip the test that needs real MNIST when it is unset.

    Set but without MNIST is a failure, not a skip: a moved dataset must not turn CI green by skipping."""
    return data_folder("MNIST/raw", "real MNIST needed: set GALLERY_DATA_ROOT to a folder holding MNIST/raw/*.gz")


@pytest.fixture(scope="session")
def mnist_test(data_root):
    from generative.data.mnist import load_mnist

    return load_mnist("test", data_root)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def denoising_root() -> Path:
    """``$GALLERY_DATA_ROOT`` holding the photo-denoising sets (denoising/Train400, Set12 …); skip only when it is unset."""
    return data_folder("denoising/Set12", "the photo-denoising sets are needed: set GALLERY_DATA_ROOT to a folder "
                                          "holding denoising/<set>/*.png")
