"""Benchmark results for the tabs' explanations: shown only when they measured the checkpoint being served."""
from __future__ import annotations

import json
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def measured_report(name: str, source: str, results_dir: Path = RESULTS_DIR) -> dict | None:
    """``benchmarks/results/<name>.json`` if its ``model`` is the local checkpoint folder ``source``, else None.

    A Hub model or a retrained local one was not measured by the shipped report, so the tab must not
    quote the report's numbers for it.
    """
    path = results_dir / f"{name}.json"
    if not path.is_file():
        return None
    report = json.loads(path.read_text())
    measured = (results_dir.parents[1] / report["model"]).resolve()
    return report if measured == Path(source).resolve() else None
