"""Quality of the conditional GAN, judged by the MNIST classifier: does it draw the digit asked for, with variety?

    python benchmarks/cgan_quality.py --data-root ../shared/datasets
    python benchmarks/cgan_quality.py --data-root ../shared/datasets \\
        --compare non-saturating=runs/cgan-compare/non-saturating hinge=runs/cgan-compare/hinge wgan-gp=runs/cgan-compare/wgan-gp

For each generator, 1,000 samples of each digit (seed 0, noise scale 1):
- conditional accuracy: how often `classifier-mnist` reads the requested digit; per class, and the
  confusion matrix as a picture (target ≥ 99 %);
- diversity: per class, the spread of the samples' classifier features (mean squared distance to
  the class mean) divided by the spread of real MNIST test digits of that class; near 1 means as
  varied as real digits, near 0 a collapsed generator that draws one digit per class;
- Fréchet distance of the 10,000 samples to the 10,000 MNIST test digits in the classifier's 128-d
  feature space (FID's formula; the Inception FID row comes with the FID calculator). For scale, the
  same distance between 10,000 real *training* digits and the test digits is reported as a floor.
Also the main generator at noise scales below 1 (a lower temperature), and ``--compare``: the short runs of each
loss, in one table. Writes benchmarks/results/cgan_quality.{json,md} and cgan_confusion.png.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import RESULTS_DIR, describe, measured_weights, model_label, run_info, write_results  # noqa: E402
from generative.checkpoints import CGAN, CLASSIFIER  # noqa: E402
from generative.data.mnist import load_mnist  # noqa: E402
from generative.hub import load_metrics  # noqa: E402
from generative.metrics.classification import accuracy_report  # noqa: E402
from generative.metrics.frechet import GaussianStats, frechet_distance  # noqa: E402
from generative.models import DigitClassifier, Generator  # noqa: E402
from generative.models.cgan import generate_per_class  # noqa: E402
from training.loop import positive_float, run_script, seed_int, writable_folder  # noqa: E402

PER_CLASS = 1000


def named_folder(text: str) -> tuple[str, str]:
    """An argparse type for NAME=FOLDER, so a malformed ``--compare`` is a usage message before anything loads."""
    name, _, folder = text.partition("=")
    if not (name and folder):
        raise argparse.ArgumentTypeError(f"expected NAME=FOLDER, got {text!r}")
    return name, folder


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=None, help="folder with MNIST/raw/*.gz (default: $GALLERY_DATA_ROOT, else downloaded)")
    parser.add_argument("--model", default=CGAN.source())
    parser.add_argument("--classifier", default=CLASSIFIER.source())
    parser.add_argument("--compare", nargs="*", type=named_folder, default=[], metavar="NAME=FOLDER",
                        help="more generators for the loss table")
    parser.add_argument("--truncation", nargs="*", type=positive_float, default=[0.75, 0.5], help="noise scales to try besides 1")
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    args.truncation = [scale for scale in dict.fromkeys(args.truncation) if scale != 1]  # each measured once, 1 always
    return args


@torch.inference_mode()
def features(classifier: DigitClassifier, images: torch.Tensor) -> np.ndarray:
    return torch.cat([classifier.features(chunk) for chunk in images.split(1000)]).double().numpy()


def spread(feats: np.ndarray) -> float:
    """Mean squared distance of feature vectors to their mean (the trace of their covariance)."""
    return float(((feats - feats.mean(axis=0)) ** 2).sum(axis=1).mean())


def judge(generator: Generator, classifier: DigitClassifier, real: dict, scale: float, seed: int) -> dict:
    images, labels = generate_per_class(generator, PER_CLASS, seed, scale)
    report = accuracy_report(classifier, images, labels)
    feats = features(classifier, images)
    ratios = [spread(feats[labels.numpy() == d]) / real["spread"][d] for d in range(10)]
    return {"noise_scale": scale, "accuracy": report["accuracy"], "per_class_accuracy": report["per_class_accuracy"],
            "confusion_matrix": report["confusion_matrix"], "diversity_ratio_per_class": ratios,
            "diversity_ratio_min": min(ratios), "diversity_ratio_mean": float(np.mean(ratios)),
            "feature_frechet_distance": frechet_distance(GaussianStats.of(feats), real["stats"])}


def save_confusion(matrix: list[list[int]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.array(matrix)
    fig, ax = plt.subplots(figsize=(5.2, 4.6), dpi=100)
    shown = ax.imshow(np.log10(counts + 1), cmap="Blues")
    for (row, col), count in np.ndenumerate(counts):
        if count:
            ax.text(col, row, str(count), ha="center", va="center", fontsize=7,
                    color="white" if row == col else "black")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("classifier's reading")
    ax.set_ylabel("digit asked for")
    ax.set_title(f"cGAN samples, {PER_CLASS:,} per digit")
    fig.colorbar(shown, ax=ax, label="log10(count + 1)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def markdown(report: dict) -> str:
    main = report["main"]["scales"][0]
    per_class = " | ".join(f"{a:.1%}" for a in main["per_class_accuracy"])
    diversity = " | ".join(f"{r:.2f}" for r in main["diversity_ratio_per_class"])

    def row(name: str, r: dict, extra: str = "") -> str:
        return (f"| {name}{extra} | {r['noise_scale']:g} | {r['accuracy']:.2%} | {r['diversity_ratio_mean']:.2f} "
                f"(min {r['diversity_ratio_min']:.2f}) | {r['feature_frechet_distance']:.2f} |")

    scales = "\n".join(row(report["main"]["model"], r) for r in report["main"]["scales"])
    compare = "\n".join(row(name, r["scales"][0], f" ({r['epochs']} epochs, {r['train_minutes']:.1f} min)")
                        for name, r in report["compare"].items())
    text = f"""# Conditional GAN quality on MNIST

{describe(report['run'])}
- Generator: `{report['main']['model']}`; judge: `{report['classifier']}`; {PER_CLASS:,} samples per digit, seed {report['seed']}

| generator | noise scale | conditional accuracy (target ≥ 99 %) | feature spread / real (per class: mean, min) | Fréchet distance, classifier features |
|---|---|---|---|---|
{scales}
| real MNIST: 10,000 training digits vs the test digits | — | {report['real_train_accuracy']:.2%} | {report['real_train_diversity_mean']:.2f} | {report['real_floor_frechet']:.2f} |

Per digit 0–9, noise scale 1: accuracy {per_class}; spread ratio {diversity}.

![confusion matrix](cgan_confusion.png)
"""
    if compare:
        text += f"""
## The three losses: short runs, same architecture, about the same training time on this CPU

| run | noise scale | conditional accuracy | feature spread / real | Fréchet distance, classifier features |
|---|---|---|---|---|
{compare}
"""
    return text


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = run_info(__file__, argv)
    classifier = CLASSIFIER.load(args.classifier)
    # every generator before the real digits' features: a bad folder fails in seconds, not minutes
    generator = CGAN.load(args.model)
    compared = {name: (folder, CGAN.load(folder)) for name, folder in args.compare}
    test_images, test_labels = load_mnist("test", args.data_root)
    train_images, train_labels = load_mnist("train", args.data_root)
    test_feats = features(classifier, test_images)
    real = {"stats": GaussianStats.of(test_feats),
            "spread": [spread(test_feats[test_labels.numpy() == d]) for d in range(10)]}
    chosen = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(args.seed))[:10_000]
    floor_images, floor_labels = train_images[chosen], train_labels[chosen]
    floor_feats = features(classifier, floor_images)
    report = {"run": info, "classifier": model_label(args.classifier), "seed": args.seed, "per_class": PER_CLASS,
              "real_floor_frechet": frechet_distance(GaussianStats.of(floor_feats), real["stats"]),
              "real_train_accuracy": accuracy_report(classifier, floor_images, floor_labels)["accuracy"],
              "real_train_diversity_mean": float(np.mean([spread(floor_feats[floor_labels.numpy() == d]) / real["spread"][d]
                                                          for d in range(10)]))}
    report["model"] = model_label(args.model)
    report["weights_sha256"] = measured_weights(args.model, args.classifier)
    report["main"] = {"model": model_label(args.model),
                      "scales": [judge(generator, classifier, real, scale, args.seed)
                                 for scale in tqdm([1.0, *args.truncation], desc="noise scales")]}
    report["compare"] = {}
    for name, (folder, other) in tqdm(compared.items(), desc="compared generators", disable=not compared):
        metrics = load_metrics(folder) or {}
        report["compare"][name] = {"model": model_label(folder), "epochs": metrics.get("epochs"),
                                   "train_minutes": metrics.get("train_seconds", float("nan")) / 60,
                                   "scales": [judge(other, classifier, real, 1.0, args.seed)]}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    save_confusion(report["main"]["scales"][0]["confusion_matrix"], args.out_dir / "cgan_confusion.png")
    write_results("cgan_quality", report, markdown(report), args.out_dir)


if __name__ == "__main__":
    run_script(main)
