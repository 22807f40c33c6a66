"""The model cards' "Use" snippets: each is the one its training script writes, and runs as printed."""
import os
import re
import subprocess
import sys

import pytest

from generative.hub import PRETRAINED_DIR, PROJECT_ROOT
from training import train_classifier, train_dae, train_photo_denoiser

SCRIPTS = {"classifier-mnist": train_classifier, "dae-mnist": train_dae, "photo-denoiser": train_photo_denoiser}
CHECKS = {  # what each snippet prints, and what must hold of it
    "classifier-mnist": (r"digit (\d), probability ([\d.]+)", lambda digit, p: digit == 0 and p > 0.99),
    "dae-mnist": (r"noisy ([\d.]+), denoised ([\d.]+)", lambda noisy, denoised: denoised < noisy / 4),
    "photo-denoiser": (r"noisy ([\d.]+) dB, denoised ([\d.]+) dB", lambda noisy, denoised: denoised > noisy + 10),
}


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_use_snippet_is_the_training_scripts_and_runs_from_the_repository_root(name):
    card = (PRETRAINED_DIR / name / "README.md").read_text()
    snippet = re.search(r"```python\n(.*?)```", card, re.S)
    assert snippet and snippet.group(0) == SCRIPTS[name].USAGE
    done = subprocess.run([sys.executable, "-"], input=snippet.group(1), cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120, env=os.environ | {"HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    pattern, holds = CHECKS[name]
    printed = re.search(pattern, done.stdout)
    assert printed, done.stdout
    assert holds(*(float(group) for group in printed.groups())), done.stdout
