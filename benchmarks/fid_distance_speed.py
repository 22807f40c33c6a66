"""How long the Fréchet distance itself takes for 2048-d Inception statistics: the matrix square root.

    python benchmarks/fid_distance_speed.py
    python benchmarks/fid_distance_speed.py --repeats 1 --out-dir /tmp/fid-distance-quick   # quick check

Feature extraction (benchmarks/fid_speed.py) is most of an FID's time, but once both sets' statistics are
known the distance still needs ``sqrtm`` of a 2048×2048 product, which does not shrink with N: the FID tab
quotes this figure beside the images/s. Timed here on the two shipped references (MNIST and Fashion-MNIST
test sets, no dataset needed): ``frechet_distance`` alone, ``--repeats`` times (the fastest counts), and the
whole command ``python -m generative.metrics.fid mnist-test fashion-mnist-test`` once, in a fresh process.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import RESULTS_DIR, describe, run_info, write_results  # noqa: E402
from generative.metrics.frechet import frechet_distance  # noqa: E402
from generative.metrics.statistics_files import REFERENCES, load_stats, reference_path  # noqa: E402
from generative.provenance import PROJECT_ROOT  # noqa: E402
from training.loop import positive_int, run_script, writable_folder  # noqa: E402

COMMAND = [sys.executable, "-m", "generative.metrics.fid", *REFERENCES]


def measure(repeats: int) -> dict:
    a, b = (load_stats(reference_path(name, "inception", "pytorch-fid")).stats for name in REFERENCES)
    seconds, value, command = [], None, " ".join(["python", *COMMAND[1:]])
    for _ in tqdm(range(repeats), desc="frechet_distance", leave=False):  # about 12 s a call on 2 cores
        start = time.perf_counter()
        value = frechet_distance(a, b)
        seconds.append(time.perf_counter() - start)
    print(f"timing `{command}` in a fresh process", file=sys.stderr, flush=True)
    start = time.perf_counter()
    status = subprocess.run(COMMAND, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL).returncode
    command_seconds = time.perf_counter() - start
    if status:  # the command has printed its own error to stderr
        raise SystemExit(f"error: `{command}` failed (exit status {status}; its message is above)")
    return {"references": list(REFERENCES), "dimension": len(a.mean), "fid": value,
            "distance_seconds": [round(s, 2) for s in seconds], "distance_fastest_seconds": round(min(seconds), 2),
            "command": command, "command_seconds": round(command_seconds, 1)}


def markdown_report(info: dict, m: dict) -> str:
    each = ", ".join(f"{s:.2f}" for s in m["distance_seconds"])
    return f"""# FID: the time of the distance itself ({m['dimension']}-d statistics)

{describe(info)}

`frechet_distance` of the shipped {m['references'][0]} and {m['references'][1]} Inception statistics (FID {m['fid']:.3f}):
**{m['distance_fastest_seconds']:.2f} s**, the fastest of {len(m['distance_seconds'])} calls ({each} s), almost all of it
`sqrtm` of the {m['dimension']}×{m['dimension']} product Σ_A Σ_B.

The whole command `{m['command']}` in a fresh process (imports, reading both statistics, the distance; no KID or
precision/recall, which are opt-in flags): {m['command_seconds']:.1f} s.
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=positive_int, default=3, help="timed calls of frechet_distance")
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = run_info(__file__, argv)
    result = measure(args.repeats)
    write_results("fid_distance_speed", info | {"distance": result}, markdown_report(info, result), args.out_dir)


if __name__ == "__main__":
    run_script(main)
