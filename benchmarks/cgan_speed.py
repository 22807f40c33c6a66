"""Speed of the "cGAN digit picker" tab on this machine, and how long the generator took to become accurate.

    python benchmarks/cgan_speed.py

(a) A 10×10 grid (ten noise vectors, each drawn as every digit: the tab's "same style, every digit"
    with 10 rows) generated and encoded to PNG, in process. Target: median < 100 ms. Also the tab's
    default request: 16 samples of one digit with the classifier's verdicts.
(b) Training time until the moving-average generator first reached ≥ 98 % conditional accuracy,
    from the per-epoch classifier error on 1,000 samples that ``training/train_cgan.py`` records in
    the checkpoint's metrics.json (the epoch's end; the check happens once per epoch).
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import RESULTS_DIR, describe, model_label, run_info, timed_ms, write_results  # noqa: E402
from demos.cgan import CGANTab, every_digit, grid_image  # noqa: E402
from generative.checkpoints import CGAN  # noqa: E402
from training.loop import non_negative_int, positive_int, run_script, writable_folder  # noqa: E402

TARGET_MS, ACCURACY_GOAL = 100.0, 0.98


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=positive_int, default=100)
    parser.add_argument("--warmup", type=non_negative_int, default=10)
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    return parser.parse_args(argv)


def grid_png(tab: CGANTab) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(grid_image(every_digit(tab.generator, 10, seed=0))).save(buffer, format="PNG")
    return buffer.getvalue()


def time_to_accuracy(metrics: dict) -> dict | None:
    per_epoch = metrics.get("per_epoch")
    if not per_epoch:
        return None
    for epoch, (error, seconds) in enumerate(zip(per_epoch["classifier_error_1000_ema_samples"],
                                                 per_epoch["train_seconds_at_end"]), start=1):
        if 1 - error >= ACCURACY_GOAL:
            return {"epoch": epoch, "train_seconds": seconds, "accuracy": 1 - error, "hardware": metrics["hardware"]}
    return {"epoch": None, "train_seconds": None, "hardware": metrics["hardware"],
            "best_accuracy": 1 - min(per_epoch["classifier_error_1000_ema_samples"])}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = run_info(__file__, argv)
    tab = CGANTab()
    if tab.error:
        raise SystemExit(tab.error)
    timings = {"10×10 grid generated and encoded to PNG": timed_ms(lambda: grid_png(tab), args.repeats, args.warmup, "grid"),
               "16 samples of one digit with the classifier's verdicts (the tab's default request)":
                   timed_ms(lambda: tab.generate(7, 16, 0, 1.0), args.repeats, args.warmup, "generate")}
    reached = time_to_accuracy(tab.metrics or {})
    report = info | {"model": model_label(CGAN.source()), "timings": timings, "time_to_98_percent": reached}
    rows = "\n".join(f"| {name} | {t['repeats']} | {t['median_ms']:.2f} | {t['p90_ms']:.2f} |" for name, t in timings.items())
    grid_ms = timings["10×10 grid generated and encoded to PNG"]["median_ms"]
    if reached and reached["epoch"]:
        training = (f"The moving-average generator first read ≥ {ACCURACY_GOAL:.0%} right (on 1,000 samples) after epoch "
                    f"{reached['epoch']}: **{reached['train_seconds'] / 60:.1f} min** of training on {reached['hardware']}.")
    else:
        training = f"Not reached during training ({reached})."
    markdown = f"""# cGAN tab speed

{describe(info)}
- Generator: `{report['model']}`

| step | repeats | median (ms) | p90 (ms) |
|---|---|---|---|
{rows}

Target: 10×10 grid + PNG < {TARGET_MS:g} ms: **{'met' if grid_ms < TARGET_MS else 'NOT met'}** ({grid_ms:.2f} ms).

## Training time to ≥ {ACCURACY_GOAL:.0%} conditional accuracy

{training}
"""
    write_results("cgan_speed", report, markdown, args.out_dir)


if __name__ == "__main__":
    run_script(main)
