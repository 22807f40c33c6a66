"""Compute the reference statistics shipped in ``pretrained/fid-references`` (once; users never need the data).

    python -m generative.metrics.references --data-root ../shared/datasets
    python -m generative.metrics.references --data-root ../shared/datasets --out-dir /tmp/references   # to compare

Writes, per dataset test split, the Inception statistics under the default (pytorch-fid) resize
convention, and for MNIST also the classifier-feature statistics: float32 mean and upper-triangle
covariance over all 10,000 images, and ``--keep`` feature vectors in float16 for KID and precision/recall, of
images drawn at random (seed 0): about 12.5 MB per Inception file, 290 kB for the classifier.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from generative.data.image_sets import ArrayImages
from generative.data.mnist import CacheNotWritable, load_mnist
from generative.metrics.features import BATCH_SIZE, RESIZES, Extractor, extract
from generative.metrics.fid import at_least_one, make_extractor, pick_device
from generative.metrics.statistics_files import DIGIT_REFERENCES, REFERENCES, REFERENCES_DIR, reference_path, save_stats
from generative.writable import unwritable

DATASETS = {"mnist-test": "MNIST", "fashion-mnist-test": "FashionMNIST"}
KEEP = 1_000
ORDER_SEED = 0  # the images pass in this seed's random order, so the first --keep of them are a random sample


def in_random_order(images: np.ndarray, seed: int = ORDER_SEED) -> np.ndarray:
    """The images shuffled: the vectors kept for KID and precision/recall are the first ``--keep`` to pass, and
    MNIST's test set puts its 5,000 cleaner digits (from NIST's training set) first. Mean and covariance are those
    of every image whatever the order."""
    return images[np.random.default_rng(seed).permutation(len(images))]


def build(name: str, kind: str, extractor: Extractor, images: np.ndarray, batch_size: int, keep: int,
          out_dir: Path | None = None) -> dict:
    start = time.perf_counter()
    features = extract(ArrayImages(in_random_order(images), f"{name} ({REFERENCES[name]}, in a random order, seed "
                                   f"{ORDER_SEED})"), extractor, batch_size=batch_size, keep=keep)
    seconds = time.perf_counter() - start
    path = reference_path(name, kind, extractor.resize if kind == "inception" else "")
    path = out_dir / path.name if out_dir else path
    save_stats(features, path)
    return {"name": name, "kind": kind, "n": features.n, "seconds": round(seconds, 1), "file": path.name,
            "bytes": path.stat().st_size}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", help="folder with MNIST/raw and FashionMNIST/raw (else $GALLERY_DATA_ROOT, else download)")
    parser.add_argument("--names", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--features", nargs="+", choices=["inception", "classifier"], default=["inception", "classifier"])
    parser.add_argument("--resize", choices=list(RESIZES), default="pytorch-fid")
    parser.add_argument("--batch-size", type=at_least_one, default=BATCH_SIZE)
    parser.add_argument("--keep", type=at_least_one, default=KEEP)
    parser.add_argument("--device", type=pick_device, default="auto")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="write the files here instead of over the shipped ones in pretrained/fid-references "
                             "(to compare them: python -m generative.metrics.fid SHIPPED REBUILT)")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    out_dir = args.out_dir or REFERENCES_DIR
    if reason := unwritable(out_dir):
        raise SystemExit(f"error: --out-dir {out_dir}: {reason}")
    try:  # every set is read before any shipped file is replaced, so a missing one costs no finished reference
        test_sets = {name: load_mnist("test", args.data_root, name=DATASETS[name])[0][:, 0].numpy() for name in args.names}
    except (FileNotFoundError, CacheNotWritable) as err:
        raise SystemExit(f"error: {err}") from None
    out_dir.mkdir(parents=True, exist_ok=True)
    for kind in args.features:
        extractor = make_extractor(kind, args.resize, args.device)
        for name in args.names:
            if kind == "classifier" and name not in DIGIT_REFERENCES:
                continue  # the digit classifier's features mean nothing for clothes
            print(json.dumps(build(name, kind, extractor, test_sets[name], args.batch_size, args.keep, args.out_dir)),
                  flush=True)


if __name__ == "__main__":
    main()
