"""Speed of the "Denoise" tab on this machine: one digit, a batch of digits, and the app's cold start.

    python benchmarks/denoise_speed.py
    python benchmarks/denoise_speed.py --repeats 20 --bm3d-repeats 2 --cold-runs 1 --out-dir /tmp/denoise-quick   # quick check

(a) One digit as the tab handles an upload, minus the classical filters: decode a bundled example
    PNG and normalise it the MNIST way (``digit_from_upload``), then corrupt, denoise and score it
    (``denoise_digit(..., classical=False)``). Target: median < 20 ms, so the autoencoder's answer
    feels instant. Each classical filter is timed alone on the same noisy digit, for information:
    the tab runs them too, so they add to what a user waits for.
(b) A batch of 256 digits through the model: the throughput that the quality benchmark relies on.
(c) Cold start: seconds from starting ``python app.py`` to its first HTTP 200 on ``/``, beside a
    minimal Gradio app (benchmarks/minimal_app.py) started the same way, so what the gallery adds
    is told apart from what Gradio itself costs. One untimed start of each comes first, so the OS
    file cache is warm and the runs time start-up work rather than the disk; the runs alternate.

Times are wall-clock (``time.perf_counter``): median and 90th percentile after a warm-up.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import (PROJECT_ROOT, RESULTS_DIR, describe, load_conditions, model_label, run_info,  # noqa: E402
                               timed_ms, write_results)
from demos.denoise import denoise_digit  # noqa: E402
from generative.checkpoints import DAE_MNIST  # noqa: E402
from demos.inputs import digit_from_upload, example_paths  # noqa: E402
from generative.classical import CLASSICAL_DENOISERS  # noqa: E402
from training.loop import non_negative_int, positive_float, positive_int, run_script, writable_folder  # noqa: E402

TARGET_MS = 20.0
NOISE, LEVEL, SEED = "gaussian", 0.5, 0  # the tab's defaults
BATCH = 256
APPS = {"app.py": PROJECT_ROOT / "app.py", "minimal Gradio app": PROJECT_ROOT / "benchmarks" / "minimal_app.py"}
SERVER_ENV = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=DAE_MNIST.source(), help="checkpoint folder or Hub repo id")
    parser.add_argument("--repeats", type=positive_int, default=200, help="timed calls per single-digit measurement")
    parser.add_argument("--warmup", type=non_negative_int, default=20, help="untimed calls before each measurement")
    parser.add_argument("--bm3d-repeats", type=positive_int, default=20, help="timed BM3D calls (about 0.4 s each)")
    parser.add_argument("--batch-repeats", type=positive_int, default=30, help="timed passes of the 256-digit batch")
    parser.add_argument("--cold-runs", type=non_negative_int, default=5, help="timed starts of each app (0: skip)")
    parser.add_argument("--cold-timeout", type=positive_float, default=180.0, help="seconds to wait for an app to answer")
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    return parser.parse_args(argv)


def one_digit(model, args) -> dict:
    path = example_paths()[0]
    digit = digit_from_upload(path)
    noisy = denoise_digit(model, digit, NOISE, LEVEL, SEED, classical=False).noisy
    steps = {
        "end to end: preprocess upload + corrupt + model + PSNR/SSIM": lambda: denoise_digit(
            model, digit_from_upload(path), NOISE, LEVEL, SEED, classical=False),
        "  of which preprocessing (digit_from_upload)": lambda: digit_from_upload(path),
        "  of which corrupt + model + PSNR/SSIM (denoise_digit, classical=False)": lambda: denoise_digit(
            model, digit, NOISE, LEVEL, SEED, classical=False),
    }
    timings = {name: timed_ms(fn, args.repeats, args.warmup, name.strip()) for name, fn in steps.items()}
    classical = {}
    for name, fn in CLASSICAL_DENOISERS.items():
        slow = name == "BM3D"
        classical[name] = timed_ms(lambda: fn(noisy), args.bm3d_repeats if slow else args.repeats,
                                   1 if slow else args.warmup, name)
    end_to_end = next(iter(timings.values()))["median_ms"]
    return {"input": str(Path(path).relative_to(PROJECT_ROOT)), "noise": NOISE, "level": LEVEL, "seed": SEED,
            "tab_steps": timings, "classical_filters": classical,
            "target": {"median_below_ms": TARGET_MS, "met": end_to_end < TARGET_MS}}


def batch_speed(model, args) -> dict:
    """The content of the digits does not change the cost of a forward pass, so random ones do."""
    batch = torch.rand((BATCH, 1, 28, 28), generator=torch.Generator().manual_seed(0))

    @torch.inference_mode()
    def forward():
        model(batch)

    t = timed_ms(forward, args.batch_repeats, 3, f"batch of {BATCH}")
    return t | {"batch_size": BATCH, "median_ms_per_digit": t["median_ms"] / BATCH}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cold_start_seconds(script: Path, timeout: float) -> float:
    """Start ``python script --port P`` and time it until ``GET /`` answers 200; then stop it."""
    port, opener = free_port(), urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(script), "--port", str(port)], cwd=PROJECT_ROOT,
                                env=os.environ | SERVER_ENV, stdout=log, stderr=subprocess.STDOUT)
        try:
            while time.perf_counter() - start < timeout:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"{script.name} exited with {proc.returncode}:\n{log.read().decode()[-2000:]}")
                try:
                    with opener.open(f"http://127.0.0.1:{port}/", timeout=2) as response:
                        if response.status == 200:
                            return time.perf_counter() - start
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                time.sleep(0.02)
            raise SystemExit(f"error: {script.name} did not answer on port {port} within {timeout:g} s: give it longer "
                             "with --cold-timeout, or measure on a quieter machine")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def cold_start(args) -> dict:
    load = load_conditions()
    first = {name: cold_start_seconds(script, args.cold_timeout) for name, script in APPS.items()}  # warms the file cache
    runs = {name: [] for name in APPS}
    for _ in tqdm(range(args.cold_runs), desc="cold starts"):
        for name, script in APPS.items():
            runs[name].append(cold_start_seconds(script, args.cold_timeout))
    medians = {name: float(np.median(times)) for name, times in runs.items()}
    return {"load_before": load, "untimed_first_start_s": first, "runs_s": runs, "median_s": medians,
            "ratio_app_to_minimal": medians["app.py"] / medians["minimal Gradio app"]}


def to_markdown(report: dict) -> str:
    a, b, c = report["one_digit"], report["batch"], report.get("cold_start")
    steps = "\n".join(f"| {name} | {t['repeats']} | {t['median_ms']:.2f} | {t['p90_ms']:.2f} |" for name, t in a["tab_steps"].items())
    filters = "\n".join(f"| {name} | {t['repeats']} | {t['median_ms']:.2f} | {t['p90_ms']:.2f} |" for name, t in a["classical_filters"].items())
    end_to_end = next(iter(a["tab_steps"].values()))["median_ms"]
    text = f"""# Denoise tab speed

{describe(report)}
- Model: `{report['model']}`; torch threads: {report['hardware']['torch_threads']}

## (a) One digit, as the tab handles an upload (without the classical filters)

Input `{a['input']}`, {a['noise']} noise at level {a['level']}, seed {a['seed']}; {report['warmup']} warm-up calls first.

| step | repeats | median (ms) | p90 (ms) |
|---|---|---|---|
{steps}

Target: median end to end < {TARGET_MS:g} ms: **{'met' if a['target']['met'] else 'NOT met'}** ({end_to_end:.2f} ms).

Each classical filter alone on the same noisy 28×28 digit (for information; the tab also runs them):

| filter | repeats | median (ms) | p90 (ms) |
|---|---|---|---|
{filters}

## (b) A batch of {b['batch_size']} digits through the model

| repeats | median (ms per batch) | p90 (ms per batch) | median (ms per digit) |
|---|---|---|---|
| {b['repeats']} | {b['median_ms']:.1f} | {b['p90_ms']:.1f} | {b['median_ms_per_digit']:.3f} |
"""
    if c:
        rows = "\n".join(f"| {name} | {len(times)} | {c['median_s'][name]:.2f} | {min(times):.2f} | {max(times):.2f} | "
                         f"{c['untimed_first_start_s'][name]:.2f} |" for name, times in c["runs_s"].items())
        load = c["load_before"]
        text += f"""
## (c) Cold start: process start → first HTTP 200 on `/`

`python <script> --port <free port>` with GRADIO_ANALYTICS_ENABLED=False and HF_HUB_OFFLINE=1; runs
alternate between the two apps, after one untimed start of each. Load before the first start: load
average {load['loadavg_1_5_15min']}; other Python processes: {'; '.join(f'`{p}`' for p in load['other_python_processes']) or 'none'}.

| app | runs | median (s) | min (s) | max (s) | untimed first start (s) |
|---|---|---|---|---|---|
{rows}

app.py takes **{c['ratio_app_to_minimal']:.2f}×** the minimal app's start-up time
(+{c['median_s']['app.py'] - c['median_s']['minimal Gradio app']:.2f} s).
"""
    return text


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = run_info(__file__, argv)
    model = DAE_MNIST.load(args.model)
    report = info | {"model": model_label(args.model), "warmup": args.warmup, "one_digit": one_digit(model, args),
                     "batch": batch_speed(model, args)}
    if args.cold_runs:
        report["cold_start"] = cold_start(args)
    report["load_at_end"] = load_conditions()
    write_results("denoise_speed", report, to_markdown(report), args.out_dir)
    print(to_markdown(report))


if __name__ == "__main__":
    run_script(main)
