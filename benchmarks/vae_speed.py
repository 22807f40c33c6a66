"""Speed of the "VAE latent walk" tab on this machine: a 16-step walk and a click on the latent map.

    python benchmarks/vae_speed.py
    python benchmarks/vae_speed.py --repeats 20 --http-repeats 5 --out-dir /tmp/vae-quick   # quick check

(a) The handlers as the server runs them, in this process: ``VAETab.walk`` with 16 steps (decode the
    path, classify every frame, write the PNG strip and the GIF, encode the frames with the 2-d model
    and redraw the map), and ``VAETab.click_map`` (pixel → latent, decode with the 2-d model, classify,
    redraw the map with the point). Targets: walk < 50 ms, click < 20 ms. The model-only part of
    the walk is timed too.
(b) The same two calls through HTTP: the app served on localhost (``launch(prevent_thread_lock=True)``)
    and called with gradio_client, which adds the queue, Gradio's PNG encoding of the outputs and
    the download of the files: what a user of the API waits for.

Times are wall-clock (``time.perf_counter``): median and 90th percentile after a warm-up.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import gradio as gr
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from benchmarks.common import RESULTS_DIR, describe, run_info, timed_ms, write_results  # noqa: E402
from demos.vae import VAETab, walk  # noqa: E402
from training.loop import non_negative_int, positive_int, run_script, writable_folder  # noqa: E402

STEPS = 16
TARGETS_MS = {"walk": 50.0, "click": 20.0}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=positive_int, default=200)
    parser.add_argument("--warmup", type=non_negative_int, default=20)
    parser.add_argument("--http-repeats", type=non_negative_int, default=30, help="timed HTTP calls of each (0: skip)")
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    return parser.parse_args(argv)


def handlers(tab: VAETab, args) -> dict:
    a, b, overlay = (tab.initial()[i] for i in (0, 3, 12))
    x, y = tab.map.latent_to_pixel(np.array([0.5, -1.0]))
    click = gr.SelectData(None, {"index": [int(x), int(y)], "value": None})
    steps = {
        f"walk, {STEPS} steps: whole handler (model, classifier, PNG + GIF files, map redraw)":
            lambda: tab.walk(a, b, STEPS, "slerp", "mean", 0),
        "  of which decode + classify (walk())": lambda: walk(tab.model, tab.classifier, a, b, STEPS, "slerp"),
        "map click: whole handler (decode, classify, map redraw)": lambda: tab.click_map(overlay, click),
    }
    return {name: timed_ms(fn, args.repeats, args.warmup, name.strip()[:30]) for name, fn in steps.items()}


def over_http(args) -> dict:
    from gradio_client import Client

    from app import build_demo, launch

    demo = build_demo()
    launch(demo, "127.0.0.1", None, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(demo.local_url, verbose=False, download_files=tempfile.mkdtemp())
        calls = {f"POST /vae_walk ({STEPS} steps), outputs downloaded": lambda: client.predict(
                     STEPS, "slerp", "mean", 0, api_name="/vae_walk"),
                 "POST /vae_decode_point": lambda: client.predict(0.5, -1.0, api_name="/vae_decode_point")}
        return {name: timed_ms(fn, args.http_repeats, 3, name[:30]) for name, fn in calls.items()}
    finally:
        demo.close()


def to_markdown(report: dict) -> str:
    def rows(timings: dict) -> str:
        return "\n".join(f"| {name} | {t['repeats']} | {t['median_ms']:.2f} | {t['p90_ms']:.2f} |" for name, t in timings.items())

    walk_ms, click_ms = (report["handlers"][name]["median_ms"] for name in report["target_rows"])
    text = f"""# VAE tab speed

{describe(report)}

## (a) The handlers, in process ({report['warmup']} warm-up calls first)

| step | repeats | median (ms) | p90 (ms) |
|---|---|---|---|
{rows(report['handlers'])}

Targets: a {STEPS}-step walk < {TARGETS_MS['walk']:g} ms: **{'met' if walk_ms < TARGETS_MS['walk'] else 'NOT met'}**
({walk_ms:.2f} ms); a map click < {TARGETS_MS['click']:g} ms: **{'met' if click_ms < TARGETS_MS['click'] else 'NOT met'}**
({click_ms:.2f} ms).
"""
    if report.get("http"):
        text += f"""
## (b) Through HTTP: the app on localhost, called with gradio_client

| call | repeats | median (ms) | p90 (ms) |
|---|---|---|---|
{rows(report['http'])}
"""
    return text


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = run_info(__file__, argv)
    tab = VAETab()
    if tab.error:
        raise SystemExit(tab.error)
    timings = handlers(tab, args)
    report = info | {"warmup": args.warmup, "handlers": timings, "target_rows": [list(timings)[0], list(timings)[2]],
                     "http": over_http(args) if args.http_repeats else None}
    write_results("vae_speed", report, to_markdown(report), args.out_dir)


if __name__ == "__main__":
    run_script(main)
