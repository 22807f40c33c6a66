"""FID statistics files: writing and reading them (ours and pytorch-fid's), and the named references that ship.

A set's statistics (mean, covariance, N, and some feature vectors for KID and precision/recall) are all that
FID needs of it, so a reference measured once can ship in ``pretrained/fid-references`` and nobody needs its
dataset again. Every file records how it was measured (extractor, resize convention, N, source), so that
statistics measured differently are never compared.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load_file, save_file

from generative.file_modes import give_usual_mode
from generative.hub import PRETRAINED_DIR
from generative.metrics.features import SetFeatures
from generative.metrics.frechet import GaussianStats

REFERENCES_DIR = PRETRAINED_DIR / "fid-references"
REFERENCES = {"mnist-test": "the 10,000 MNIST test digits", "fashion-mnist-test": "the 10,000 Fashion-MNIST test images"}
DIGIT_REFERENCES = ("mnist-test",)  # the only ones the MNIST classifier's features mean anything for
STATS_SUFFIXES = (".npz", ".safetensors")


class FIDError(ValueError):
    """A comparison or a statistics file that cannot be used as asked; the message is meant for the user."""


def reference_path(name: str, kind: str, resize: str) -> Path:
    suffix = "classifier" if kind == "classifier" else f"inception-{resize}"
    return REFERENCES_DIR / f"{name}.{suffix}.safetensors"


def shipped_reference(name: str, kind: str, resize: str) -> Path:
    """The reference's file, or a refusal that gives the command building exactly that file (only the default
    resize ships, and ``generative.metrics.references`` builds only that one unless told otherwise)."""
    path = reference_path(name, kind, resize)
    if path.is_file():
        return path
    if kind == "classifier" and name not in DIGIT_REFERENCES:
        raise FIDError(f"the classifier features are for digits only, and {name} is {REFERENCES[name]}: there is no "
                       "classifier reference for it; use --features inception")
    measured = "classifier reference" if kind == "classifier" else f"inception reference with resize {resize!r}"
    flags = f"--names {name} --features {kind}" + (f" --resize {resize}" if kind == "inception" else "")
    raise FIDError(f"no {measured} for {name} ships in {REFERENCES_DIR}; compute it (the dataset is needed once) with: "
                   f"python -m generative.metrics.references --data-root <datasets> {flags}")


def save_stats(features: SetFeatures, path: str | Path) -> None:
    """``.npz`` in pytorch-fid's layout (``mu``, ``sigma`` float64) plus our provenance and kept features;
    ``.safetensors`` small for shipping (float32 mean and upper-triangle covariance, float16 features)."""
    path = Path(path)
    if path.suffix not in STATS_SUFFIXES:
        raise FIDError(f"{path}: statistics are written as {' or '.join(STATS_SUFFIXES)}, so its name must end in one")
    info = {"extractor": features.extractor, "resize": features.resize, "n": str(features.n), "source": features.source}
    if path.suffix == ".safetensors":
        rows, cols = np.triu_indices(len(features.stats.mean))
        tensors = {"mean": features.stats.mean.astype(np.float32),
                   "covariance_triu": features.stats.covariance[rows, cols].astype(np.float32)}
        if features.kept is not None:
            tensors["features"] = features.kept.astype(np.float16)
        save_file(tensors, str(path), metadata=info)
        give_usual_mode(path)
    else:
        extra = {} if features.kept is None else {"features": features.kept.astype(np.float32)}
        with open(path, "wb") as file:  # a file object, so np.savez does not append ".npz" to another name
            np.savez(file, mu=features.stats.mean, sigma=features.stats.covariance, **extra,
                     **{key: np.array(value) for key, value in info.items()})


def _read_safetensors(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict]:
    with safe_open(str(path), "np") as file:
        info = file.metadata() or {}
    tensors = load_file(str(path))
    if "mean" not in tensors or "covariance_triu" not in tensors:
        raise FIDError(f"{path} has no 'mean' and 'covariance_triu' tensors (not statistics saved by this tool)")
    mean = tensors["mean"].astype(np.float64)
    covariance = np.zeros((len(mean), len(mean)))
    covariance[np.triu_indices(len(mean))] = tensors["covariance_triu"]
    covariance = covariance + np.triu(covariance, 1).T
    kept = tensors["features"].astype(np.float32) if "features" in tensors else None
    return mean, covariance, kept, info


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict]:
    if not zipfile.is_zipfile(path):  # else np.load takes it for a pickle, and says so
        raise FIDError(f"{path} is not a .npz file (a zip archive of arrays such as 'mu' and 'sigma')")
    with np.load(path, allow_pickle=False) as file:
        if "mu" not in file or "sigma" not in file:
            raise FIDError(f"{path} has no 'mu' and 'sigma' arrays (not FID statistics)")
        info = {key: str(file[key]) for key in ("extractor", "resize", "n", "source") if key in file}
        kept = file["features"] if "features" in file else None
        return file["mu"].astype(np.float64), file["sigma"].astype(np.float64), kept, info


def load_stats(path: str | Path) -> SetFeatures:
    """Statistics written by ``save_stats`` or by pytorch-fid (whose files record no extractor or N: N is stored as 0,
    which ``count_of`` reports as unknown)."""
    path = Path(path)
    if not path.is_file():
        raise FIDError(f"{path} does not exist")
    try:
        mean, covariance, kept, info = (_read_safetensors if path.suffix == ".safetensors" else _read_npz)(path)
        n = int(info.get("n", 0))
    except FIDError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, SafetensorError) as err:  # truncated, or another format
        raise FIDError(f"{path} is not a readable {path.suffix} statistics file ({err})") from None
    if mean.ndim != 1 or covariance.shape != (len(mean), len(mean)):
        raise FIDError(f"{path}: the mean must be a vector and the covariance a square matrix of its size, "
                       f"not {mean.shape} and {covariance.shape}")
    if not (np.isfinite(mean).all() and np.isfinite(covariance).all()):
        raise FIDError(f"{path}: the mean or the covariance holds NaN or infinite values, so no distance can be computed")
    return SetFeatures(GaussianStats(mean, covariance, n), kept, info.get("source", str(path)),
                       info.get("extractor", "unknown (statistics file without provenance)"), info.get("resize", "unknown"))


def count_of(features: SetFeatures) -> str:
    """N for a report: pytorch-fid's statistics files do not record it (it reads as 0)."""
    return f"N = {features.n:,}" if features.n else "N unknown (not recorded in its statistics file)"
