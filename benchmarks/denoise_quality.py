"""Denoising quality of the "Denoise" tab: the autoencoder against classical filters on MNIST test.

    python benchmarks/denoise_quality.py --data-root ../shared/datasets
    python benchmarks/denoise_quality.py --data-root ../shared/datasets --limit 200 --bm3d-n 10 --jobs 1 \\
        --out-dir /tmp/denoise-quick   # quick check

Mean PSNR / SSIM per digit at each level of ``BENCHMARK_LEVELS``, every method on the same noisy
digits (fixed seed 0, as in the model card). To make the comparison fair to the classical filters:

- the median filter, Gaussian blur and non-local means get their parameter tuned per noise level,
  by PSNR on a validation slice of MNIST *train* (its last digits, held out from the autoencoder's
  training too, with their own noise seed), never on the test digits they are scored on;
- BM3D (~0.4 s a digit) runs untuned, blind σ, on the first ``--bm3d-n`` test digits only, and the
  noisy input and the autoencoder are scored on those same digits beside it, so that pair is paired.

The autoencoder's margin at a level is its PSNR minus each baseline's on the same digits; the best
classical baseline is the one that leaves it the smallest margin. Target: a margin of at least
3 dB at every level from σ=0.3 / s&p 0.3 / masking 0.5 up.
"""
from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import (RESULTS_DIR, describe, load_conditions, measured_weights, model_label, run_info,  # noqa: E402
                               write_results)
from generative.checkpoints import DAE_MNIST  # noqa: E402
from generative.classical import CLASSICAL_DENOISERS, bm3d, gaussian_blur, median_filter, non_local_means  # noqa: E402
from generative.data.mnist import load_mnist  # noqa: E402
from generative.hub import load_metrics  # noqa: E402
from generative.metrics.image_quality import BENCHMARK_LEVELS, corrupt_test_set, mean_scores, model_denoiser  # noqa: E402
from training.loop import non_negative_int, positive_int, run_script, writable_folder  # noqa: E402
from training.train_dae import VALIDATION_SIZE  # noqa: E402

DAE = "denoising autoencoder"
NOISY = "noisy input"
# Each tuned filter: (function, its parameter, the grid tried on the validation slice).
TUNED = {
    "median filter": (median_filter, "size", (3, 5)),
    "Gaussian blur": (gaussian_blur, "sigma", (0.5, 0.8, 1.2, 1.6)),
    "non-local means": (non_local_means, "strength", (0.6, 1.0, 1.5, 2.5)),
}
TARGET_DB = 3.0
TARGET_LEVELS = (("gaussian", 0.3), ("gaussian", 0.5), ("salt_and_pepper", 0.3), ("masking", 0.5))
LEVEL_LABELS = {"gaussian": "Gaussian σ={}", "salt_and_pepper": "s&p {}", "masking": "masking {}"}
VALIDATION_SEED = 1  # the test digits use seed 0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=None, help="folder holding MNIST/raw (env: GALLERY_DATA_ROOT; else downloaded)")
    parser.add_argument("--model", default=DAE_MNIST.source(), help="checkpoint folder or Hub repo id")
    parser.add_argument("--limit", type=positive_int, default=None, help="score the first N test digits only (quick runs)")
    parser.add_argument("--bm3d-n", type=non_negative_int, default=300, help="run BM3D on the first N test digits (0: skip)")
    parser.add_argument("--val-n", type=positive_int, default=200,
                        help=f"MNIST train digits (the last ones, at most {VALIDATION_SIZE:,}) to tune filters on")
    parser.add_argument("--jobs", type=positive_int, default=2, help="processes for the per-digit classical filters")
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.val_n > VALIDATION_SIZE:  # the report says the tuning digits are held out
        parser.error(f"--val-n must be at most {VALIDATION_SIZE:,}, the training digits the autoencoder held out, "
                     f"got {args.val_n:,}")
    return args


def target_scope(report: dict) -> str:
    """Nothing for a whole-set run; a quick run's verdict is of its first digits only, not the benchmark's."""
    return "" if report["n_test"] == 10_000 else f" (its first {report['n_test']:,} test digits only: the target is for all 10,000)"


def level_label(kind: str, level: float) -> str:
    return LEVEL_LABELS[kind].format(level)


def _filtered(image: np.ndarray, fn, kwargs: dict) -> np.ndarray:
    """One digit through a filter, clipped to [0, 1] as the tab shows it."""
    return np.clip(fn(image, **kwargs), 0.0, 1.0).astype(np.float32)


def restore(fn, noisy: np.ndarray, pool: ProcessPoolExecutor | None, desc: str, **kwargs) -> np.ndarray:
    """Apply a per-image filter to every (H, W) image of ``noisy``, in the pool when there is one."""
    work = partial(_filtered, fn=fn, kwargs=kwargs)
    images = pool.map(work, noisy, chunksize=32) if pool else map(work, noisy)
    return np.stack(list(tqdm(images, total=len(noisy), desc=desc, leave=False)))


def tune(fn, param: str, grid, clean: np.ndarray, noisy: np.ndarray, pool) -> tuple[float, dict]:
    """The grid value with the best mean PSNR on the validation digits, and every value's scores."""
    scores = {value: mean_scores(clean, restore(fn, noisy, pool, f"tune {fn.__name__} {param}={value}", **{param: value}))
              for value in grid}
    best = max(grid, key=lambda value: scores[value].psnr)
    return best, {str(value): {"psnr": s.psnr, "ssim": s.ssim} for value, s in scores.items()}


def row(method: str, n: int, clean: np.ndarray, restored: np.ndarray, **extra) -> dict:
    s = mean_scores(clean, restored)
    return {"method": method, "n": n, "psnr": s.psnr, "ssim": s.ssim, **extra}


def margins(rows: list[dict]) -> dict:
    """DAE PSNR minus each classical baseline's, each on the same digits as the baseline."""
    dae = {r["n"]: r["psnr"] for r in rows if r["method"] == DAE}
    out = {r["method"]: dae[r["n"]] - r["psnr"] for r in rows if r["method"] not in (DAE, NOISY)}
    best = min(out, key=out.get)
    return {"per_baseline_db": out, "best_baseline": best, "margin_db": out[best],
            "n": next(r["n"] for r in rows if r["method"] == best)}


def evaluate_level(kind, level, test, val, denoise, args, pool) -> dict:
    noisy = corrupt_test_set(test, kind, level)
    val_noisy = corrupt_test_set(val, kind, level, seed=VALIDATION_SEED)[:, 0].numpy()
    clean, val_clean, n = test[:, 0].numpy(), val[:, 0].numpy(), len(test)
    dae_out = denoise(noisy)[:, 0].numpy()
    noisy = noisy[:, 0].numpy()
    label = level_label(kind, level)
    rows, tuning = [row(NOISY, n, clean, noisy)], {}
    for name, (fn, param, grid) in TUNED.items():
        best, grid_scores = tune(fn, param, grid, val_clean, val_noisy, pool)
        tuning[name] = {"parameter": param, "chosen": best, "validation_scores": grid_scores}
        restored = restore(fn, noisy, pool, f"{label} {name}", **{param: best})
        rows.append(row(name, n, clean, restored, parameter={param: best}))
    rows.append(row(DAE, n, clean, dae_out))
    m = min(args.bm3d_n, n)
    if m and "BM3D" in CLASSICAL_DENOISERS:
        rows += [row(NOISY, m, clean[:m], noisy[:m]), row(DAE, m, clean[:m], dae_out[:m]),
                 row("BM3D", m, clean[:m], restore(bm3d, noisy[:m], pool, f"{label} BM3D"),
                     parameter={"strength": 1.0, "sigma": "blind estimate"})]
    result = {"noise": kind, "level": level, "rows": rows, "tuning": tuning, "margin": margins(rows)}
    result["margin"]["target_applies"] = (kind, level) in TARGET_LEVELS
    result["margin"]["target_met"] = result["margin"]["margin_db"] >= TARGET_DB if result["margin"]["target_applies"] else None
    return result


def bm3d_rows(report: dict) -> str:
    if not any(row["method"] == "BM3D" for row in report["levels"][0]["rows"]):
        return "BM3D did not run (`--bm3d-n 0`, or the `bm3d` package is not installed)."
    return (f"Rows with N={report['n_bm3d']:,} are the first\n{report['n_bm3d']:,} test digits, where BM3D ran "
            "(untuned: strength 1, blind σ estimate).")


def to_markdown(report: dict) -> str:
    levels = report["levels"]
    labels = [level_label(r["noise"], r["level"]) for r in levels]
    head = "| method | N | " + " | ".join(labels) + " |\n|---|---|" + "---|" * len(labels)
    quality = []
    for i, first in enumerate(levels[0]["rows"]):
        cells = [f"{lv['rows'][i]['psnr']:.2f} / {lv['rows'][i]['ssim']:.3f}" for lv in levels]
        name = f"**{first['method']}**" if first["method"] == DAE else first["method"]
        quality.append(f"| {name} | {first['n']:,} | " + " | ".join(cells) + " |")
    params = [f"| {name} ({TUNED[name][1]}, grid {list(TUNED[name][2])}) | "
              + " | ".join(str(lv["tuning"][name]["chosen"]) for lv in levels) + " |" for name in TUNED]
    margin_rows = []
    for label, lv in zip(labels, levels):
        m = lv["margin"]
        verdict = ("met" if m["target_met"] else "**NOT met**") if m["target_applies"] else "(not a target level)"
        per = ", ".join(f"{k} {v:+.2f}" for k, v in m["per_baseline_db"].items())
        margin_rows.append(f"| {label} | {m['best_baseline']} (N={m['n']:,}) | {m['margin_db']:+.2f} | {verdict} | {per} |")
    target = report["target"]
    return f"""# Denoising quality: autoencoder vs classical filters (MNIST test)

{describe(report)}
- Model: `{report['model']}` (trained with `{report['model_training_command']}`)
- Test digits: {report['test_set']}; noise seed 0. Validation (tuning) digits: {report['validation_set']}, noise seed {VALIDATION_SEED}.
- Took {report['seconds'] / 60:.1f} min.

Mean PSNR (dB) / SSIM per digit; higher is better. {bm3d_rows(report)}

{head}
{chr(10).join(quality)}

Parameter chosen per level by mean PSNR on the validation digits:

| filter | {' | '.join(labels)} |
|---|{'---|' * len(labels)}
{chr(10).join(params)}

Margin of the autoencoder over the best classical baseline (its PSNR minus theirs, on the same digits);
target: ≥ {TARGET_DB:g} dB at {', '.join(level_label(*lv) for lv in TARGET_LEVELS)}.

| level | best classical baseline | margin (dB) | target | margin over each baseline (dB) |
|---|---|---|---|---|
{chr(10).join(margin_rows)}

**Target {'met' if target['met'] else 'NOT met'}**{'' if target['met'] else ' at: ' + ', '.join(target['failed_levels'])}{target_scope(report)}.
"""


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = run_info(__file__, argv)
    start = time.perf_counter()
    test, _ = load_mnist("test", args.data_root)
    test = test[: args.limit]
    train, _ = load_mnist("train", args.data_root)
    val = train[-args.val_n:]
    model = DAE_MNIST.load(args.model)
    denoise = model_denoiser(model)
    pool = ProcessPoolExecutor(args.jobs) if args.jobs > 1 else None
    try:
        levels = [evaluate_level(kind, level, test, val, denoise, args, pool)
                  for kind, level in tqdm(BENCHMARK_LEVELS, desc="levels")]
    finally:
        if pool:
            pool.shutdown()
    failed = [level_label(lv["noise"], lv["level"]) for lv in levels if lv["margin"]["target_met"] is False]
    model_metrics = load_metrics(args.model) or {}
    report = info | {
        "model": model_label(args.model), "weights_sha256": measured_weights(args.model),
        "model_training_command": model_metrics.get("command", "unknown (no metrics.json)"),
        "test_set": f"MNIST test, first {len(test):,} of 10,000 digits" if args.limit else f"MNIST test, all {len(test):,} digits",
        "n_test": len(test), "n_bm3d": min(args.bm3d_n, len(test)),
        "validation_set": f"MNIST train, last {len(val)} digits (held out from the autoencoder's training)",
        "levels": levels,
        "target": {"text": f"DAE beats the best classical baseline by >= {TARGET_DB} dB PSNR at "
                           + ", ".join(level_label(*lv) for lv in TARGET_LEVELS),
                   "met": not failed, "failed_levels": failed},
        "seconds": round(time.perf_counter() - start, 1),
        "load_at_end": load_conditions(),
    }
    write_results("denoise_quality", report, to_markdown(report), args.out_dir)
    print(to_markdown(report))


if __name__ == "__main__":
    run_script(main)
