"""Where a number came from: the command that produced it, the CPU it ran on and the code that ran.

Model cards (training/) and benchmark results (benchmarks/) both record these, so both use this
module and the two can never describe the same run differently.
"""
from __future__ import annotations

import hashlib
import platform
import shlex
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CODE_FOLDERS = ("generative", "training")  # the project's own code (not tests/, not a .venv/ inside the checkout)


def command_line(script: str, argv: list[str], processes: int = 1) -> str:
    """The command that ran ``script`` with ``argv`` in ``processes`` data-parallel processes, as a user would
    retype it from the project root. Several processes are written as ``torchrun``, whichever launcher started
    them: it comes with torch and starts N processes on GPUs or CPUs alike (``accelerate launch --num_processes=N``
    without its other flags started one process on a CPU machine)."""
    relative = Path(script).resolve().relative_to(PROJECT_ROOT)
    launcher = ["python"] if processes == 1 else ["torchrun", f"--nproc_per_node={processes}"]
    return " ".join([*launcher, str(relative), *map(shlex.quote, argv)])


def script_of(command: str) -> str:
    """The script a command ``command_line`` wrote runs (as ``training/train_vae.py``), whatever launcher comes before it."""
    return next(word for word in shlex.split(command) if word.endswith(".py"))


def script_arguments(command: str) -> list[str]:
    """The arguments of the script in a command ``command_line`` wrote, whatever launcher comes before it."""
    words = shlex.split(command)
    return words[words.index(script_of(command)) + 1:]


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, or what ``platform`` knows elsewhere."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    except OSError:
        names = []
    return names[0] if names else (platform.processor() or platform.machine())


def project_code() -> dict[str, str]:
    """A short SHA-256 of each module of generative/ and training/ loaded in this process, by its path from the
    project root: what ran, so that a later run can say which of them changed since."""
    paths = {Path(getattr(module, "__file__", None) or "/").resolve() for module in list(sys.modules.values())}
    return {path.relative_to(PROJECT_ROOT).as_posix(): file_hash(path) for path in sorted(paths)
            if path.suffix == ".py" and any(path.is_relative_to(PROJECT_ROOT / folder) for folder in CODE_FOLDERS)}


def file_hash(path: Path) -> str | None:
    """The first 16 hex digits of the file's SHA-256 (enough to tell versions apart), or None if it is gone."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else None
