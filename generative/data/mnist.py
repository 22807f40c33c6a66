"""MNIST through torchvision, from a read-only data root, unpacked into a cache folder.

torchvision reads the *unpacked* idx files and, with ``download=True``, first checks the md5 of any
``.gz`` already present, so linking the original ``.gz`` files into a writable cache lets it unpack
them there without touching the network or writing into the (possibly read-only) data root. With no
data root at all, torchvision downloads MNIST into the cache as usual.
"""
from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

import torch

from generative.provenance import PROJECT_ROOT

DATA_ROOT_ENV = "GALLERY_DATA_ROOT"
CACHE_ENV = "GALLERY_CACHE_DIR"
SPLIT_SIZES = {"train": 60_000, "test": 10_000}  # images in each split, MNIST's and Fashion-MNIST's alike
# What the file system says when the cache is no folder that can be written: read-only, not ours, or under a file.
NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EEXIST}


class CacheNotWritable(OSError):
    """The dataset cache cannot be written: the scripts say so in a line (``training.loop.run_script``)."""


def cache_dir() -> Path:
    """Writable folder for unpacked datasets: ``$GALLERY_CACHE_DIR`` or ``<project>/.cache``."""
    return Path(os.environ.get(CACHE_ENV) or PROJECT_ROOT / ".cache")


def resolve_data_root(data_root: str | os.PathLike | None = None) -> Path | None:
    """The flag's value, else ``$GALLERY_DATA_ROOT``, else None (download on first use)."""
    root = data_root or os.environ.get(DATA_ROOT_ENV)
    return Path(root).expanduser().resolve() if root else None


def _link_archives(data_root: Path, name: str, target: Path, archives: list[str]) -> None:
    """Link the ``archives`` (file names) of ``data_root/name/raw`` into the cache, or say which are missing.

    Checked here because torchvision would otherwise try to download a missing one, which offline ends
    in a network traceback instead of naming the file."""
    source = data_root / name / "raw"
    missing = [archive for archive in archives if not (source / archive).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{source} lacks {', '.join(missing)}: the data root must hold the {len(archives)} original {name} "
            f"archives in {name}/raw/ (torchvision's layout). Or give no data root (no --data-root, no {DATA_ROOT_ENV}) "
            "to let torchvision download them."
        )
    raw = target / name / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for archive in source.glob("*.gz"):
        link = raw / archive.name
        if link.is_symlink() and link.resolve() != archive.resolve():  # an earlier data root's: moved, deleted or bad
            # Replaced in one step: another data-parallel process may be reading the link right now.
            fresh = link.with_name(f".{link.name}.{os.getpid()}")
            fresh.unlink(missing_ok=True)
            fresh.symlink_to(archive)
            os.replace(fresh, link)
        if not link.exists():
            with contextlib.suppress(FileExistsError):  # another data-parallel process linked it first
                link.symlink_to(archive)


def load_mnist(split: str, data_root: str | os.PathLike | None = None,
               name: str = "MNIST") -> tuple[torch.Tensor, torch.Tensor]:
    """Images as float32 (N, 1, 28, 28) in [0, 1] and labels as int64 (N,), for "train" or "test".

    ``name`` is "MNIST" or "FashionMNIST" (same format, same torchvision layout).
    """
    from torchvision import datasets  # torchvision is slow to import; only training needs it

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if name not in ("MNIST", "FashionMNIST"):
        raise ValueError(f"name must be 'MNIST' or 'FashionMNIST', got {name!r}")
    root = resolve_data_root(data_root)
    target = cache_dir() / "datasets"
    dataset_class = getattr(datasets, name)
    try:
        if root is not None:
            _link_archives(root, name, target, [Path(file).name for file, _ in dataset_class.resources])
        dataset = dataset_class(str(target), train=split == "train", download=True)
    except OSError as err:
        if err.errno not in NOT_WRITABLE:
            raise
        raise CacheNotWritable(f"the dataset cache {target} cannot be written ({err.strerror}): datasets are unpacked "
                               f"there, so point {CACHE_ENV} at a folder that can be.") from None
    except RuntimeError as err:  # torchvision's "Error downloading …": offline, or an archive that failed its md5 check
        if root is not None:
            raise FileNotFoundError(f"the {name} archives in {root / name / 'raw'} failed torchvision's md5 check or could "
                                    f"not be unpacked into {target / name}, and a fresh copy could not be downloaded "
                                    f"({err}). Replace them with the original files.") from err
        raise FileNotFoundError(f"{name} is not in {target / name} and could not be downloaded ({err}). Give a data root "
                                f"that holds {name}/raw/*.gz (--data-root or {DATA_ROOT_ENV}).") from err
    images = dataset.data.unsqueeze(1).float().div_(255.0)
    return images, dataset.targets.long()
