"""Benchmark results for the tabs' explanations: shown only when they measured the checkpoint being served."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from generative.hub import weights_hash
from generative.photo import BM3D_ROW

RESULTS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
COLOUR_BM3D_RUN = "photo_cbsd68_cbm3d/photo_denoise_quality"  # `--color-bm3d CBSD68`: 50 min a full run does not spend


def benchmark_report(name: str, results_dir: Path = RESULTS_DIR) -> dict | None:
    """``benchmarks/results/<name>.json`` for a benchmark of code rather than of a checkpoint (FID's), or None."""
    path = results_dir / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def measured_report(name: str, *sources: str, results_dir: Path = RESULTS_DIR) -> dict | None:
    """``benchmarks/results/<name>.json`` if it measured the local checkpoint folders ``sources`` and every
    checkpoint it measured still holds the very weights it measured, else None.

    A Hub model was not measured by the shipped report, and neither was a model retrained into the same folder
    (every training script writes to ``pretrained/<name>`` by default), so the tab must not quote the report's
    numbers for them. The report records the hash of each checkpoint's weights (its classifier's too, whose
    judgement its numbers are), by folder relative to the project root.
    """
    path = results_dir / f"{name}.json"
    if not path.is_file():
        return None
    report = json.loads(path.read_text())
    root, measured = Path(os.path.abspath(results_dir.parents[1])), report.get("weights_sha256", {})
    folders = [Path(os.path.abspath(source)) for source in sources]  # not resolved: pretrained/<name> may be a link
    if not folders or not all(folder.is_relative_to(root) and folder.relative_to(root).as_posix() in measured
                              for folder in folders):
        return None
    return report if all(weights_hash(root / folder) == recorded for folder, recorded in measured.items()) else None


def photo_quality_report(source: str, results_dir: Path = RESULTS_DIR) -> dict | None:
    """The photo benchmark's report on the weights in ``source``, with CBM3D on CBSD68 from its own run where that run
    measured the same weights (``with_bm3d_from``)."""
    report = measured_report("photo_denoise_quality", source, results_dir=results_dir)
    return report and with_bm3d_from(report, measured_report(COLOUR_BM3D_RUN, source, results_dir=results_dir))


def with_bm3d_from(report: dict, run: dict | None) -> dict:
    """``report`` with BM3D's scores (and the image-by-image comparisons with it) taken from ``run`` for each set that
    ``report`` measured without BM3D and ``run`` with it; such a set names in ``bm3d_from`` the run that measured
    BM3D: ``run`` itself, or the earlier run whose BM3D rows it reused (``--reuse-baselines``)."""
    if run is None:
        return report
    with_bm3d = {result["set"]: result for result in run["sets"] if BM3D_ROW in result["psnr"]}
    sets = []
    for result in report["sets"]:
        if BM3D_ROW not in result["psnr"] and (other := with_bm3d.get(result["set"])):
            result = result | {"psnr": result["psnr"] | {BM3D_ROW: other["psnr"][BM3D_ROW]},
                               "paired": result.get("paired", {}) | other.get("paired", {}),
                               "bm3d_from": run.get("baselines_from") or {"command": run["command"], "date": run["date"]}}
        sets.append(result)
    return report | {"sets": sets}


def fixed(value: float, digits: int) -> str:
    """``value`` to ``digits`` decimals, without the minus of a value that rounds to zero (−0.0004 → "0.000", not "-0.000")."""
    return f"{value:.{digits}f}" if round(value, digits) != 0 else f"{0:.{digits}f}"


CPU_LINE = re.compile(r"CPU, (\d+) process\(es\), (\d+) threads \((.*)\)")  # training/cards.py's describe_hardware


def cpu_name(cpu: str) -> str:
    """A CPU's name for prose, without trademark signs: "Intel(R) Xeon(R) Processor" → "Intel Xeon Processor"."""
    return re.sub(r"\((R|TM)\)", "", cpu)


def machine(report: dict) -> str:
    """Where a benchmark ran, from its ``hardware`` record: "a 2-core AMD EPYC"."""
    return f"a {report['hardware']['logical_cores']}-core {cpu_name(report['hardware']['cpu'])}"


def hardware_words(hardware: str) -> str:
    """A model card's hardware line as prose that can sit inside the tabs' parentheses:
    "CPU, 1 process(es), 2 threads (Intel(R) Xeon(R) Processor)" → "2 threads of an Intel Xeon Processor"."""
    hardware = cpu_name(hardware)
    match = CPU_LINE.fullmatch(hardware)
    if not match:
        return hardware
    processes, threads, cpu = match.groups()
    article = "an" if cpu[:1].upper() in "AEIOU" else "a"
    spread = f" in each of {processes} processes" if processes != "1" else ""
    return f"{threads} thread{'s' * (threads != '1')}{spread} of {article} {cpu}"
