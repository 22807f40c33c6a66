"""How fast our FID features come on this CPU next to the peers'.

    python benchmarks/fid_speed.py --data-root ../shared/datasets
    python benchmarks/fid_speed.py --data-root ../shared/datasets --images 16 --repeats 1 --out-dir /tmp/fid-quick   # quick check

Feature extraction, images/s: the same 28×28 MNIST test digits, written as PNG files, read, resized to
299×299 and passed through the TF FID Inception by each pipeline's own code, in this process, with the same torch
thread count; every row first makes one warm-up pass over ``batch`` other digits (at least 2, what FID needs),
then the ``--repeats`` timed passes go round-robin over the rows (the fastest pass of a row counts):
      ours          ``FolderImages`` → ``extract`` with the eager rebuild (batch norm folded, channels-last),
                    at several batch sizes, pytorch-fid convention (and once with the "clean" convention);
      TorchScript   the same data path with ``default_1.pt`` as shipped, called plainly;
      pytorch-fid   ``get_activations``; clean-fid ``get_folder_features`` in modes "clean" and "legacy_pytorch"
                    (weights re-packaged as in benchmarks/fid_agreement.py; no data-loader workers), or
                    skipped with a note where neither is installed.
Every pipeline is timed at our default batch size too (added to its flag's sizes where missing): the verdict
compares there. Goal: ours at its default batch size ≥ 1.5× the fastest peer measurement.

Memory over 50,000 images is measured by benchmarks/fid_memory.py.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import RESULTS_DIR, describe, run_info, write_results  # noqa: E402
from benchmarks.fid_agreement import as_uint8, available_peers, write_pngs  # noqa: E402
from benchmarks.rss import RssSampler  # noqa: E402
from generative.data.image_sets import FolderImages  # noqa: E402
from generative.data.mnist import SPLIT_SIZES, load_mnist  # noqa: E402
from generative.metrics.features import BATCH_SIZE, extract, inception_extractor  # noqa: E402
from generative.metrics.inception import load_fid_inception, load_scripted  # noqa: E402
from training.loop import positive_int, run_script, writable_folder  # noqa: E402

SPEED_GOAL = 1.5


def our_pipeline(network, resize: str) -> Callable[[Path, int], object]:
    extractor = inception_extractor(network, resize)
    return lambda folder, batch_size: extract(FolderImages(folder), extractor, batch_size, keep=0, progress=False)


def pipelines(peers: dict) -> list[tuple[str, str, Callable[[Path, int], object]]]:
    """(name, resize convention, run(folder, batch_size)) for ours, the shipped TorchScript and each installed peer."""
    rebuilt, scripted = load_fid_inception(), load_scripted()
    return ([("ours (folded, channels-last)", "pytorch-fid", our_pipeline(rebuilt, "pytorch-fid")),
             ("ours (folded, channels-last)", "clean", our_pipeline(rebuilt, "clean")),
             ("default_1.pt TorchScript, plain", "pytorch-fid", our_pipeline(scripted, "pytorch-fid"))]
            + [(name, peer.convention, peer.features) for name, peer in peers.items()])


def timed_pass(run: Callable[[Path, int], object], folder: Path, batch_size: int) -> dict:
    with RssSampler() as memory:
        start = time.perf_counter()
        run(folder, batch_size)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_rss_mb": memory.peak_mb(), "growth_mb": memory.peak_mb() - memory.start_mb}


def summary(passes: list[dict], batch_size: int, n: int) -> dict:
    """The fastest of a row's passes is its result; all are kept."""
    best = min(passes, key=lambda p: p["seconds"])
    return {"batch_size": batch_size, "images": n, "seconds": round(best["seconds"], 2), "images_per_s": n / best["seconds"],
            "all_seconds": [round(p["seconds"], 2) for p in passes], "peak_rss_mb": round(max(p["peak_rss_mb"] for p in passes)),
            "rss_growth_mb": round(max(p["growth_mb"] for p in passes))}


def batch_sizes(name: str, resize: str, args) -> list[int]:
    if not name.startswith("ours"):
        return args.peer_batch_sizes
    return args.batch_sizes if resize == "pytorch-fid" else [BATCH_SIZE]


def warmup_size(batch_size: int) -> int:
    """Digits in a row's warm-up pass: one batch, but at least the 2 that ``extract`` needs."""
    return max(batch_size, 2)


def speed(args, digits: np.ndarray, root: Path, peers: dict) -> list[dict]:
    """Every row warmed up once, then the timed passes taken round-robin over the rows, so that a slower spell of
    this shared machine (passes of one row differ by up to 15% here) falls on all pipelines alike."""
    folder = write_pngs(digits[: args.images], root / "timed")
    spare = digits[args.images:]
    rows = [(name, resize, run, batch_size) for name, resize, run in pipelines(peers)
            for batch_size in batch_sizes(name, resize, args)]
    for _, _, run, batch_size in rows:
        run(write_pngs(spare[:warmup_size(batch_size)], root / f"warmup-{batch_size}"), batch_size)
    passes = [[] for _ in rows]
    for repeat in range(args.repeats):
        for (name, resize, run, batch_size), row_passes in zip(rows, passes):
            row_passes.append(timed_pass(run, folder, batch_size))
            print(f"pass {repeat + 1}: {name}, {resize}, batch {batch_size}: "
                  f"{args.images / row_passes[-1]['seconds']:.2f} images/s", flush=True)
    return [{"pipeline": name, "resize": resize} | summary(row_passes, batch_size, args.images)
            for (name, resize, _, batch_size), row_passes in zip(rows, passes)]


def speed_verdict(rows: list[dict]) -> dict:
    """Ours at the default batch size against the fastest peer row, and against each peer at that batch size."""
    ours = {r["resize"]: r for r in rows if r["pipeline"].startswith("ours") and r["batch_size"] == BATCH_SIZE}
    best_ours = max((r for r in rows if r["pipeline"].startswith("ours")), key=lambda r: r["images_per_s"])
    peers = [r for r in rows if not r["pipeline"].startswith(("ours", "default_1.pt"))]
    same_batch = {r["pipeline"]: ours[r["resize"]]["images_per_s"] / r["images_per_s"]
                  for r in peers if r["batch_size"] == BATCH_SIZE and r["resize"] in ours}
    fastest = max(peers, key=lambda r: r["images_per_s"]) if peers else None
    ratio = ours["pytorch-fid"]["images_per_s"] / fastest["images_per_s"] if fastest else None
    scripted = next(r for r in rows if r["pipeline"].startswith("default_1.pt") and r["batch_size"] == BATCH_SIZE)
    return {"ours": ours["pytorch-fid"], "best_ours": best_ours, "fastest_peer": fastest, "ratio": ratio,
            "same_batch_same_convention": same_batch,
            "rebuild_vs_torchscript": ours["pytorch-fid"]["images_per_s"] / scripted["images_per_s"]}


# ---------------------------------------------------------------- report

def markdown_report(info: dict, report: dict) -> str:
    rows = "\n".join(f"| {r['pipeline']} | {r['resize']} | {r['batch_size']} | {r['images_per_s']:.2f} | "
                     f"{', '.join(f'{s:.1f}' for s in r['all_seconds'])} | {r['peak_rss_mb']:,} | {r['rss_growth_mb']:,} |"
                     for r in report["speed"])
    verdict = report["verdict"]
    ours = verdict["ours"]
    if verdict["ratio"] is None:
        ratio = ("No peer is installed (pip install pytorch-fid clean-fid), so the peers were not timed and the ratio "
                 "to the fastest peer could not be measured.")
    else:
        fastest = verdict["fastest_peer"]
        ratio = (f"Ours at its default batch size ({ours['batch_size']}, pytorch-fid convention): "
                 f"{ours['images_per_s']:.2f} images/s; fastest peer measurement: {fastest['pipeline']} at batch "
                 f"{fastest['batch_size']}, {fastest['images_per_s']:.2f} images/s. Ratio **{verdict['ratio']:.2f}×** "
                 f"(goal ≥ {SPEED_GOAL:g}×: **{'met' if verdict['ratio'] >= SPEED_GOAL else 'NOT met'}**). The peers "
                 f"were measured at batch sizes {', '.join(map(str, report['peer_batch_sizes']))} only. At batch "
                 f"{BATCH_SIZE} for both, ours under the same convention is " + ", ".join(
                     f"{r:.2f}× {name}" for name, r in verdict["same_batch_same_convention"].items()) + ".")
    best = verdict["best_ours"]
    spread = max(max(r["all_seconds"]) / min(r["all_seconds"]) - 1 for r in report["speed"])
    return f"""# FID feature extraction speed

{describe(info)}
- Images: {report['images']} MNIST test digits (28×28 grey PNG, read as RGB), resized to 299×299 by each pipeline

## Images per second, same images, same process, {info['hardware']['torch_threads']} torch threads

Each row: one warm-up pass over as many other digits as the batch size (at least 2); then {report['repeats']} rounds in which every
row in turn makes a timed pass over all {report['images']} images (the fastest pass counts; passes of the same row differ by up to {spread:.0%} here): reading the
PNG files, resizing, the network, and (ours) the running moments. Peak RSS is the whole process (all the networks
stay loaded); "growth" is the peak during a pass over the RSS just before it.

| pipeline | resize convention | batch | images/s (fastest pass) | seconds, each pass | peak RSS (MB) | growth (MB) |
|---|---|---|---|---|---|---|
{rows}

{ratio}

Ours at its fastest measured batch size: {best['images_per_s']:.2f} images/s (batch {best['batch_size']}, {best['resize']}).
The rebuild against `default_1.pt` as shipped, same data path, batch {BATCH_SIZE}: **{verdict['rebuild_vs_torchscript']:.2f}×**.
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", help="folder with MNIST/raw (else $GALLERY_DATA_ROOT, else downloaded)")
    parser.add_argument("--images", type=positive_int, default=160, help="images per timed pass")
    parser.add_argument("--batch-sizes", type=positive_int, nargs="+", default=[4, 8, 16, 32],
                        help=f"for ours ({BATCH_SIZE}, the default, is added where missing)")
    parser.add_argument("--peer-batch-sizes", type=positive_int, nargs="+", default=[8, 16, 32],
                        help=f"for the shipped TorchScript and the peers ({BATCH_SIZE} is added where missing)")
    parser.add_argument("--repeats", type=positive_int, default=3, help="timed passes per row, taken round-robin (the fastest counts)")
    parser.add_argument("--threads", type=positive_int, help="torch threads (default: torch's own choice)")
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    args.batch_sizes, args.peer_batch_sizes = (list(dict.fromkeys([*sizes, BATCH_SIZE]))  # what the verdict compares at
                                               for sizes in (args.batch_sizes, args.peer_batch_sizes))
    warmup = warmup_size(max(args.batch_sizes + args.peer_batch_sizes))
    test_digits = SPLIT_SIZES["test"]
    if test_digits - warmup < 2:
        parser.error(f"argument --batch-sizes/--peer-batch-sizes: must be at most {test_digits - 2:,} (a warm-up takes "
                     f"a batch of the {test_digits:,} MNIST test digits, the timed pass 2 or more others), got {warmup}")
    if not 2 <= args.images <= test_digits - warmup:  # FID needs 2 images; the warm-up takes other digits
        parser.error(f"argument --images: must be from 2 to {test_digits - warmup:,} (the {test_digits:,} MNIST test "
                     f"digits less the {warmup} of the largest batch's warm-up), got {args.images}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    info = run_info(__file__, argv)
    digits = as_uint8(load_mnist("test", args.data_root, name="MNIST")[0])
    peers, skipped, _ = available_peers()
    with tempfile.TemporaryDirectory(prefix="fid-speed-") as tmp:
        rows = speed(args, digits, Path(tmp), peers)
    report = info | {"images": args.images, "repeats": args.repeats, "peer_batch_sizes": args.peer_batch_sizes,
                     "skipped_peers": skipped, "speed": rows, "verdict": speed_verdict(rows), "speed_goal": SPEED_GOAL}
    write_results("fid_speed", report, markdown_report(info, report), args.out_dir)


if __name__ == "__main__":
    run_script(main)
