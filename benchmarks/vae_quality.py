"""Likelihood and interpolation quality of the gallery's VAEs on the 10,000 MNIST test digits.

    python benchmarks/vae_quality.py --data-root ../shared/datasets
    python benchmarks/vae_quality.py --data-root ../shared/datasets --iwae-images 100 --pairs 200 \\
        --out-dir /tmp/vae-quick --no-cards   # quick check

(a) The PyTorch example's test loss on grey-level pixels, nats per digit summed over the 784 pixels: the
    binary cross-entropy of the reconstruction against the grey levels plus the KL, one posterior sample
    per digit (the example publishes no figure; the MLP baseline here is its model). It has the negative ELBO's form but
    bounds no likelihood: a Bernoulli is a distribution on {0, 1}, not a density on [0, 1]
    (Loaiza-Ganem & Cunningham 2019), so it compares only with figures of the same convention.
(b) On dynamically binarised test digits (each pixel drawn once, seed 0, on with its grey level as
    probability): the one-sample −ELBO on all 10,000, and the importance-weighted NLL with k samples
    (Burda et al. 2016; their 1-layer VAE: 86.76 nats with k = 5000). k = 5000 costs thousands of
    decoder passes per digit, so on a CPU it runs on ``--iwae-images`` test digits drawn at random (the first
    5,000 of MNIST test are the cleaner half, so the first N would not represent the set); the
    full-test-set figure is then estimated as the full −ELBO minus the mean per-digit bound gap
    (−ELBO − IWAE NLL) measured on that subset; the gap varies far less between digits than the NLL
    itself, so the estimate is tighter than the subset's own mean. Both are reported, with standard errors.
(c) Interpolation: ``--pairs`` random test pairs of different digits, ``--steps`` frames between their
    posterior means, judged by the MNIST classifier: label changes along the path (1 is ideal), share
    of paths with exactly one, mean frame confidence, for lerp and slerp, beside a pixel cross-fade.

Writes vae_quality.{json,md} into ``--out-dir`` (default benchmarks/results/) and, unless ``--no-cards``, adds the
test figures to the card of each model that is a folder in pretrained/ (a Hub repo's card is left as it is).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import RESULTS_DIR, describe, measured_weights, model_label, run_info, write_results  # noqa: E402
from generative.checkpoints import CLASSIFIER, MNIST, VAE_MAP, VAE_WALK  # noqa: E402
from generative.data.mnist import SPLIT_SIZES, load_mnist  # noqa: E402
from generative.hub import load_model, model_source  # noqa: E402
from generative.latent import latent_path  # noqa: E402
from generative.metrics.interpolation import label_flips  # noqa: E402
from generative.models import VAE, DigitClassifier  # noqa: E402
from generative.models.vae import importance_weighted_nll, negative_elbo  # noqa: E402
from training.loop import positive_int, run_script, seed_int, writable_folder  # noqa: E402
from training.train_vae import rewrite_card  # noqa: E402

MODELS = {"vae-mnist-z16": "conv VAE, 16-d (the walk)", "vae-mnist-z2": "conv VAE, 2-d (the map)",
          "vae-mnist-mlp-z20": "PyTorch-example MLP VAE, 20-d (baseline)"}
WALK_MODEL, BASELINE = "vae-mnist-z16", "vae-mnist-mlp-z20"
PUBLISHED_ROWS = ["| Burda et al. 2016, 1-layer VAE (published) | — | — | — | 86.76 (k = 5000, all digits) |"]
TARGETS = {"grey": 95.0, "iwae": 86.0}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=None, help="folder with MNIST/raw/*.gz (default: $GALLERY_DATA_ROOT, else downloaded)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), help="checkpoint names (pretrained/<name>, or $GALLERY_HUB_USER/<name> when that is set) or Hub repos")
    parser.add_argument("--classifier", default=CLASSIFIER.source())
    parser.add_argument("--iwae-samples", type=positive_int, default=5000, help="k of the importance-weighted bound")
    parser.add_argument("--iwae-images", type=positive_int, default=1000, help="random test digits (seeded) for the k-sample bound")
    parser.add_argument("--pairs", type=positive_int, default=1000)
    parser.add_argument("--steps", type=positive_int, default=16, help="frames of each walk, its endpoints included (≥ 2)")
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--no-cards", action="store_true", help="do not write the test figures into the model cards")
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.steps < 2:  # found only after the first model's k-sample bound, about 19 minutes in
        parser.error(f"--steps must be at least 2, a walk's two endpoints, got {args.steps}")
    if args.iwae_images > SPLIT_SIZES["test"]:
        parser.error(f"--iwae-images must be at most {SPLIT_SIZES['test']:,}, the MNIST test set, got {args.iwae_images}")
    return args


def mean_and_se(values: torch.Tensor) -> tuple[float, float]:
    values = values.double()
    return values.mean().item(), (values.std() / math.sqrt(len(values))).item()


@torch.inference_mode()
def elbo_per_digit(model: VAE, images: torch.Tensor, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.cat([negative_elbo(model, batch, generator) for batch in images.split(1000)])


def iwae_subset(count: int, size: int, seed: int) -> torch.Tensor:
    """``size`` indices of ``count`` test digits, drawn without replacement from ``seed``, in test-set order. Random,
    not the first ``size``: MNIST's test set puts its 5,000 cleaner digits (from NIST's training set) first."""
    return torch.randperm(count, generator=torch.Generator().manual_seed(seed))[:size].sort().values


@torch.inference_mode()
def likelihoods(model: VAE, grey: torch.Tensor, binary: torch.Tensor, args) -> dict:
    neg_elbo_grey = elbo_per_digit(model, grey, args.seed)
    neg_elbo_binary = elbo_per_digit(model, binary, args.seed)
    chosen = iwae_subset(len(binary), args.iwae_images, args.seed)
    subset = binary[chosen]
    generator = torch.Generator().manual_seed(args.seed)
    start = time.perf_counter()
    iwae = torch.cat([importance_weighted_nll(model, digit[None], args.iwae_samples, generator)
                      for digit in tqdm(subset, desc=f"IWAE k={args.iwae_samples}", leave=False)])
    seconds = time.perf_counter() - start
    gap = neg_elbo_binary[chosen] - iwae
    full_elbo, full_elbo_se = mean_and_se(neg_elbo_binary)
    gap_mean, gap_se = mean_and_se(gap)
    subset_nll, subset_nll_se = mean_and_se(iwae)
    return {
        "grey_neg_elbo": mean_and_se(neg_elbo_grey),
        "binary_neg_elbo": (full_elbo, full_elbo_se),
        "iwae_subset_images": args.iwae_images,
        "iwae_subset_nll": (subset_nll, subset_nll_se),
        "iwae_subset_neg_elbo": mean_and_se(neg_elbo_binary[chosen]),
        "bound_gap": (gap_mean, gap_se),
        "iwae_full_estimate": (full_elbo - gap_mean, math.hypot(full_elbo_se, gap_se)),
        "iwae_seconds": round(seconds, 1),
    }


def train_command(name: str, source: str) -> str:
    """How to get the checkpoint ``name`` a missing or broken one is refused with: the shipped VAEs' own command."""
    known = {checkpoint.name: checkpoint.train_command for checkpoint in (VAE_WALK, VAE_MAP)}
    return known.get(name, f"python training/train_vae.py {MNIST} --output-dir {source} (and the settings it should have)")


def different_digit_pairs(labels: torch.Tensor, pairs: int, seed: int) -> torch.Tensor:
    """``pairs`` random (i, j) index pairs of test digits with different labels."""
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    while len(chosen) < pairs:
        i, j = torch.randint(len(labels), (2,), generator=generator).tolist()
        if labels[i] != labels[j]:
            chosen.append((i, j))
    return torch.tensor(chosen)


@torch.inference_mode()
def path_quality(frames: torch.Tensor, classifier: DigitClassifier) -> dict:
    """frames: (pairs, steps, 1, 28, 28) → label-flip and confidence statistics."""
    digits, confidences = classifier.predict(frames.flatten(0, 1))
    digits, confidences = digits.view(frames.shape[:2]), confidences.view(frames.shape[:2])
    flips = label_flips(digits).float()
    return {"mean_flips": flips.mean().item(), "one_flip_share": (flips == 1).float().mean().item(),
            "mean_confidence": confidences.mean().item(), "min_confidence_mean": confidences.min(dim=1).values.mean().item()}


@torch.inference_mode()
def interpolation(model: VAE, classifier: DigitClassifier, images: torch.Tensor, pairs: torch.Tensor, steps: int) -> dict:
    means = model.encode(images)[0]
    results = {}
    for path in ("lerp", "slerp"):
        latents = torch.stack([latent_path(means[i], means[j], steps, path) for i, j in pairs.tolist()])
        frames = model.pixel_means(latents.flatten(0, 1)).unflatten(0, latents.shape[:2])
        results[path] = path_quality(frames, classifier)
    return results


@torch.inference_mode()
def crossfade(classifier: DigitClassifier, images: torch.Tensor, pairs: torch.Tensor, steps: int) -> dict:
    """The pixel-space baseline: blend the two images themselves, no model."""
    t = torch.linspace(0, 1, steps).view(1, -1, 1, 1, 1)
    frames = (1 - t) * images[pairs[:, 0]][:, None] + t * images[pairs[:, 1]][:, None]
    return path_quality(frames, classifier)


def fmt(value_se: tuple[float, float]) -> str:
    return f"{value_se[0]:.2f} ± {value_se[1]:.2f}"


def markdown(report: dict) -> str:
    info, args = report["run"], report["settings"]
    rows = []
    for name, r in report["likelihood"].items():
        rows.append(f"| {MODELS.get(name, name)} | {fmt(r['grey_neg_elbo'])} | {fmt(r['binary_neg_elbo'])} "
                    f"| {fmt(r['iwae_subset_nll'])} | {fmt(r['iwae_full_estimate'])} |")
    interp = []
    for name, paths in report["interpolation"].items():
        for path, q in paths.items():
            interp.append(f"| {name} | {path} | {q['mean_flips']:.3f} | {q['one_flip_share']:.1%} | {q['mean_confidence']:.1%} "
                          f"| {q['min_confidence_mean']:.1%} |")
    k, n = args["iwae_samples"], args["iwae_images"]
    return f"""# VAE quality on MNIST test

{describe(info)}

## Likelihood (nats per digit, summed over 784 pixels; mean ± standard error)

| model | (a) BCE + KL, grey levels (PyTorch-example loss) | (b) −ELBO, binarised | (b) NLL, IWAE k = {k}, {n:,} random digits | (b) NLL, IWAE k = {k}, all 10,000 (estimated) |
|---|---|---|---|---|
{chr(10).join(rows + PUBLISHED_ROWS)}

(a) is the PyTorch example's loss: the negative ELBO's formula on grey levels, which a Bernoulli does not model
(a distribution on {{0, 1}}, not a density on [0, 1]; Loaiza-Ganem & Cunningham 2019), so it bounds no likelihood and
compares only with figures of the same convention; the (b) columns are a proper −ELBO and an importance-weighted
NLL estimate (an upper bound on the NLL in expectation).
(a) and the −ELBO columns use all 10,000 test digits, one posterior sample each. The k-sample bound ran on
{n:,} test digits drawn at random (seed {args['seed']}; CPU cost); the last column is the full-set −ELBO minus the mean per-digit gap between
the two bounds on those digits. Targets: (a) ≤ {TARGETS['grey']:g} nats; (b) ≤ {TARGETS['iwae']:g} nats for the 16-d model.
The binarised test set is one fixed draw (seed {args['seed']}).

## Interpolation ({args['pairs']:,} random test pairs of different digits, {args['steps']} frames, posterior means)

Judged by `pretrained/classifier-mnist`: label changes along the path (1 is ideal), share of paths with exactly one
change, mean confidence over all frames, and the mean over paths of the least confident frame.

| model | path | label changes | exactly one | mean confidence | least confident frame |
|---|---|---|---|---|---|
{chr(10).join(interp)}
"""


def summary_markdown(report: dict) -> str:
    """The short version the tab shows beside the demo."""
    walk, lk = report["interpolation"].get(WALK_MODEL), report["likelihood"]
    lines = []
    if WALK_MODEL in lk:
        r = lk[WALK_MODEL]
        baseline = f" (the PyTorch example's MLP: {lk[BASELINE]['grey_neg_elbo'][0]:.1f} here)" if BASELINE in lk else ""
        lines.append(f"**Measured on MNIST test** (`benchmarks/results/vae_quality.md`): the 16-d model scores "
                     f"{r['grey_neg_elbo'][0]:.1f} nats per digit on grey levels by the PyTorch example's loss (BCE + KL, "
                     f"not a likelihood bound){baseline}; on binarised digits its "
                     f"importance-weighted NLL (k = {report['settings']['iwae_samples']}) is ≈ "
                     f"{r['iwae_full_estimate'][0]:.1f} nats (Burda et al. 2016: 86.76 for a 1-layer VAE).")
    if "vae-mnist-z2" in lk:
        lines.append(f"The 2-d map model: {lk['vae-mnist-z2']['grey_neg_elbo'][0]:.1f} nats (grey levels, the example's loss), "
                     f"≈ {lk['vae-mnist-z2']['iwae_full_estimate'][0]:.1f} (binarised, IWAE): two numbers cannot hold a digit's detail.")
    if walk:
        lines.append(f"Walks between {report['settings']['pairs']:,} random test pairs of different digits "
                     f"({report['settings']['steps']} frames): {walk['lerp']['mean_flips']:.2f} label changes on average "
                     f"with lerp, {walk['slerp']['mean_flips']:.2f} with slerp (1 is ideal), mean classifier confidence "
                     f"{walk['lerp']['mean_confidence']:.1%} / {walk['slerp']['mean_confidence']:.1%}; a pixel cross-fade "
                     f"gets {report['interpolation']['pixel cross-fade']['linear']['mean_confidence']:.1%}.")
    return " ".join(lines)


def card_lines(r: dict, interp: dict | None, settings: dict) -> dict:
    lines = {"BCE + KL on grey levels (the PyTorch example's loss; no likelihood bound)": f"{fmt(r['grey_neg_elbo'])} nats per digit",
             "−ELBO on binarised digits": f"{fmt(r['binary_neg_elbo'])} nats",
             f"NLL, importance-weighted, k = {settings['iwae_samples']}":
                 f"{fmt(r['iwae_subset_nll'])} nats on {settings['iwae_images']:,} random binarised test digits; "
                 f"≈ {fmt(r['iwae_full_estimate'])} estimated for all 10,000"}
    if interp:
        lines[f"interpolation, {settings['pairs']:,} pairs"] = (
            f"{interp['lerp']['mean_flips']:.2f} label changes (lerp), {interp['slerp']['mean_flips']:.2f} (slerp); "
            f"mean confidence {interp['lerp']['mean_confidence']:.1%} / {interp['slerp']['mean_confidence']:.1%}")
    return lines


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = run_info(__file__, argv)
    grey, labels = load_mnist("test", args.data_root)
    binary = torch.bernoulli(grey, generator=torch.Generator().manual_seed(args.seed))
    classifier = CLASSIFIER.load(args.classifier)
    # every checkpoint before the first k-sample bound: a bad name fails now, not after the models before it
    sources = {name: model_source(name) if "/" not in name else name for name in args.models}
    models = {name: load_model(VAE, source, train_command=train_command(name, source)) for name, source in sources.items()}
    pairs = different_digit_pairs(labels, args.pairs, args.seed)
    # a Path is no JSON; relative inside the project
    settings = vars(args) | {"out_dir": model_label(str(args.out_dir)), "classifier": model_label(args.classifier)}
    report = {"model": model_label(model_source(WALK_MODEL)), "run": info, "settings": settings,
              "weights_sha256": measured_weights(*sources.values(), args.classifier),
              "likelihood": {}, "interpolation": {}, "models": {}}
    for name, model in tqdm(models.items(), desc="models"):
        report["models"][name] = model_label(sources[name])
        report["likelihood"][name] = likelihoods(model, grey, binary, args)
        report["interpolation"][name] = interpolation(model, classifier, grey, pairs, args.steps)
        print(name, {key: value for key, value in report["likelihood"][name].items()})
    report["interpolation"]["pixel cross-fade"] = {"linear": crossfade(classifier, grey, pairs, args.steps)}
    report["summary_markdown"] = summary_markdown(report)
    write_results("vae_quality", report, markdown(report), args.out_dir)
    if not args.no_cards:
        for name in args.models:
            folder = Path(model_source(name))
            if folder.is_dir():
                lines = card_lines(report["likelihood"][name], report["interpolation"].get(name), report["settings"])
                rewrite_card(folder, {"card_lines": lines, "command": info["command"], "date": info["date"][:10]})


if __name__ == "__main__":
    run_script(main)
