"""The whole FID command, timed, on a realistic job: the cGAN's digits vs the shipped MNIST test reference.

    python benchmarks/fid_full_run.py --count 10000

Writes ``--count`` cGAN samples (seed 0, every digit equally often) as PNG files into a temporary
folder, then runs ``python -m generative.metrics.fid mnist-test FOLDER --kid --precision-recall`` (and
the same with ``--features classifier``) in a subprocess, as a user would, timing each from start to
exit. Its numbers are the Inception FID row of the cGAN's quality report: Inception-v3 pool3, pytorch-fid
resize, N = ``--count`` generated vs the 10,000 test digits.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import RESULTS_DIR, describe, measured_weights, model_label, run_info, write_results  # noqa: E402
from demos.fid import generated_images  # noqa: E402
from generative.checkpoints import CGAN, CLASSIFIER  # noqa: E402
from generative.metrics.features import KEEP_FEATURES  # noqa: E402
from generative.metrics.sample_sets import KID_SUBSET_SIZE, KID_SUBSETS, PR_NEIGHBOURS  # noqa: E402
from generative.metrics.statistics_files import load_stats, reference_path  # noqa: E402
from generative.provenance import PROJECT_ROOT  # noqa: E402
from training.loop import positive_int, run_script, seed_int, writable_folder  # noqa: E402

REFERENCE = "mnist-test"
MIN_COUNT = PR_NEIGHBOURS + 1  # precision/recall needs more vectors than neighbours (KID and FID need 2)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=positive_int, default=10_000)
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.count < MIN_COUNT:
        parser.error(f"argument --count: must be at least {MIN_COUNT} (precision/recall with k = {PR_NEIGHBOURS} "
                     f"nearest neighbours), got {args.count}")
    return args


def write_samples(folder: Path, count: int, seed: int) -> None:
    generator = CGAN.load()
    for i, digit in enumerate(generated_images(CGAN.name, generator, count, seed)):
        Image.fromarray((digit * 255).round().astype("uint8")).save(folder / f"{i:05d}.png")


def vectors_used(features: str, samples: int) -> dict:
    """The feature vectors KID and precision/recall used, as ``compare`` picks them: the shipped reference's kept ones,
    and the first ``KEEP_FEATURES`` of the ``samples`` measured; precision/recall the first of each, as many as the
    smaller set keeps, KID subsets of at most ``KID_SUBSET_SIZE``."""
    kept = {"reference": len(load_stats(reference_path(REFERENCE, features, "pytorch-fid")).kept),
            "samples": min(samples, KEEP_FEATURES)}
    fewer = min(kept.values())
    return {"kept": kept, "precision_recall_vectors": fewer, "kid_subsets": KID_SUBSETS,
            "kid_subset_size": min(KID_SUBSET_SIZE, fewer)}


def timed_cli(folder: Path, features: str, json_path: Path) -> dict:
    command = [sys.executable, "-m", "generative.metrics.fid", REFERENCE, str(folder), "--kid", "--precision-recall",
               "--features", features, "--json", str(json_path)]
    shown = " ".join(["python", *command[1:4], "SAMPLES", *command[5:-2]])
    start = time.perf_counter()
    status = subprocess.run(command, cwd=PROJECT_ROOT).returncode
    if status:  # the command has printed its own one-line error
        raise SystemExit(f"error: the FID command with --features {features} failed (exit status {status}; "
                         "its message is above)")
    seconds = time.perf_counter() - start
    result = json.loads(json_path.read_text())
    return {"command": shown, "seconds": round(seconds, 1), "features": features, **result,
            **vectors_used(features, result["b"]["n"])}


def markdown(report: dict, info: dict) -> str:
    rows = []
    for run in report["runs"]:
        kid, pr = run["kid"], run["precision_recall"]
        rows.append(f"| {run['extractor']} | {run['metric']} {run['value']:.3f} | {kid[0]:.5f} ± {kid[1]:.5f} "
                    f"({run['kid_subsets']} subsets of {run['kid_subset_size']:,}) | {pr[0]:.3f} / {pr[1]:.3f} "
                    f"(the first {run['precision_recall_vectors']:,} vectors of each set) | "
                    f"{run['seconds'] / 60:.1f} min ({report['count'] / run['seconds']:.1f} img/s overall) |")
    return "\n".join([
        f"# FID command, full run: {report['count']:,} cGAN samples vs the MNIST test reference", "",
        describe(info), f"- Model: `{report['model']}`, {report['count']:,} samples, seed {report['seed']} "
        f"(written as PNG in {report['write_seconds']:.0f} s, not counted below)",
        f"- Reference (set A): `{REFERENCE}`, the shipped statistics of the 10,000 MNIST test digits (pytorch-fid resize) "
        "and the feature vectors they keep; precision/recall use the first vectors of each set, as many as the smaller "
        "set keeps; KID draws random subsets of each set's kept vectors (" + "; ".join(
            f"{run['features']}: the reference's {run['kept']['reference']:,}, the samples' "
            f"{run['kept']['samples']:,}" for run in report["runs"]) + ")", "",
        "| features | distance | KID | precision / recall (k = 3) | wall time of the command |", "|---|---|---|---|---|",
        *rows, "", "Commands (SAMPLES = the folder of PNGs): " + "; ".join(f"`{run['command']}`" for run in report["runs"])])


def main(argv=None) -> None:
    args = parse_args(argv)
    info = run_info("benchmarks/fid_full_run.py", argv)
    with tempfile.TemporaryDirectory(prefix="fid-cgan-") as tmp:
        folder = Path(tmp) / "samples"
        folder.mkdir()
        start = time.perf_counter()
        write_samples(folder, args.count, args.seed)
        write_seconds = time.perf_counter() - start
        runs = [timed_cli(folder, features, Path(tmp) / f"{features}.json") for features in ("classifier", "inception")]
    report = {"model": model_label(CGAN.source()), "count": args.count, "seed": args.seed,
              "weights_sha256": measured_weights(CGAN.source(), CLASSIFIER.source()),  # the classifier: its features' FD
              "write_seconds": round(write_seconds, 1), "runs": runs, **info}
    write_results("fid_full_run", report, markdown(report, info), args.out_dir)


if __name__ == "__main__":
    run_script(main)
