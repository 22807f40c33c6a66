"""What every benchmark records beside its numbers: the command, the date, the machine and its load.

A number without the machine and the load it was measured under cannot be compared with anything,
so each result file carries them.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from generative.hub import weights_hash
from generative.provenance import PROJECT_ROOT, command_line, cpu_model

RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"


def model_label(source: str) -> str:
    """A checkpoint source as results should name it: project-relative when it is a local folder (by its own path, not
    where a link leads: the tabs look a report's checkpoints up by the folder they serve)."""
    path = Path(os.path.abspath(source))
    return path.relative_to(PROJECT_ROOT).as_posix() if path.is_relative_to(PROJECT_ROOT) and path.exists() else source


def measured_weights(*sources: str) -> dict[str, str]:
    """The weights hash of each local checkpoint a benchmark measured, by ``model_label``: a tab quotes the results
    only while every one of them is unchanged (``demos.reports.measured_report``)."""
    return {model_label(source): digest for source in sources if (digest := weights_hash(source)) is not None}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def hardware() -> dict:
    import torch

    return {"cpu": cpu_model(), "logical_cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(), "os": platform.platform()}


def load_conditions() -> dict:
    """Load average and the other Python processes running now: what else competed for the CPU."""
    try:
        ps = subprocess.run(["ps", "-eo", "pid=,pcpu=,args="], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        ps = ""
    others = []
    for line in ps.splitlines():
        pid, pcpu, args = line.split(None, 2)
        if "python" in args and int(pid) != os.getpid() and int(pid) != os.getppid():
            others.append(f"{args[:120]} (pid {pid}, {pcpu}% CPU)")
    return {"loadavg_1_5_15min": [round(x, 2) for x in os.getloadavg()], "other_python_processes": others}


def hardware_line(hw: dict) -> str:
    return f"{hw['cpu']}, {hw['logical_cores']} logical cores, torch {hw['torch']} with {hw['torch_threads']} threads, Python {hw['python']}"


def describe(info: dict) -> str:
    """Markdown lines for the header of a results table."""
    load = info["load_at_start"]
    lines = [f"- Command: `{info['command']}`",
             f"- Date: {info['date']}",
             f"- Hardware: {hardware_line(info['hardware'])}",
             f"- Load at start: load average {load['loadavg_1_5_15min']} (1/5/15 min); other Python processes: "
             + ("; ".join(f"`{p}`" for p in load["other_python_processes"]) or "none")]
    return "\n".join(lines)


def run_info(script: str, argv: list[str] | None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    return {"command": command_line(script, argv), "date": now(), "hardware": hardware(), "load_at_start": load_conditions()}


def write_results(name: str, data: dict, markdown: str, out_dir: Path = RESULTS_DIR) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    (out_dir / f"{name}.md").write_text(markdown.rstrip() + "\n")
    print(f"wrote {out_dir / name}.json and .md")


def timed_ms(fn, repeats: int, warmup: int, desc: str) -> dict:
    """Median, 90th percentile and min of ``repeats`` calls of ``fn``, in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in tqdm(range(repeats), desc=desc, leave=False):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return {"repeats": repeats, "median_ms": float(np.median(times)), "p90_ms": float(np.percentile(times, 90)),
            "min_ms": float(np.min(times))}
