"""Where a number came from: the command that produced it and the CPU it ran on.

Model cards (training/) and benchmark results (benchmarks/) both record these, so both use this
module and the two can never describe the same run differently.
"""
from __future__ import annotations

import platform
import shlex
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def command_line(script: str, argv: list[str], processes: int = 1) -> str:
    """The command that ran ``script`` with ``argv`` in ``processes`` data-parallel processes, as a user would
    retype it from the project root (``accelerate launch`` for several)."""
    relative = Path(script).resolve().relative_to(PROJECT_ROOT)
    launcher = ["python"] if processes == 1 else ["accelerate", "launch", f"--num_processes={processes}"]
    return " ".join([*launcher, str(relative), *map(shlex.quote, argv)])


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, or what ``platform`` knows elsewhere."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    except OSError:
        names = []
    return names[0] if names else (platform.processor() or platform.machine())
