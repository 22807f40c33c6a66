"""requirements.txt installs every package the app and the training scripts import.

A Space installs requirements.txt and nothing else, while this suite runs with requirements-dev.txt, whose extras
pull in more: PyWavelets came only with BM3D's package, so on a Space the Denoise tab's noise estimate (through
scikit-image, which lists PyWavelets as optional) failed with "PyWavelets is not installed". The Space's front matter
in the README must agree with them too."""
import ast
import re
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [ROOT / "app.py", *(path for folder in ("generative", "demos", "training") for path in (ROOT / folder).rglob("*.py"))]
OURS = {"generative", "demos", "training", "benchmarks"}
OPTIONAL = {"bm3d"}  # non-commercial licence: imported only if installed (requirements-dev.txt), see generative/classical.py


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - OURS - OPTIONAL


def required_distributions() -> set[str]:
    lines = (line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines())
    return {normalized(re.match(r"[A-Za-z0-9_.\-]+", line)[0]) for line in lines if line}


def test_every_imported_package_is_in_requirements_txt():
    distributions = packages_distributions()
    required = required_distributions()
    missing = {}
    for path in SHIPPED:
        for module in imported_modules(path):
            if not {normalized(name) for name in distributions.get(module, [module])} & required:
                missing.setdefault(module, []).append(str(path.relative_to(ROOT)))
    assert not missing, missing


def test_the_scan_sees_imports_of_every_form(tmp_path):
    source = tmp_path / "module.py"
    source.write_text("import os\nimport numpy as np\nfrom scipy.stats import norm\nfrom . import sibling\n"
                      "from generative.hub import load_model\ntry:\n    import bm3d\nexcept ImportError:\n    bm3d = None\n"
                      "def f():\n    import pywt\n")
    assert imported_modules(source) == {"numpy", "scipy", "pywt"}
    assert {"pywavelets", "scikit-image", "pillow"} <= required_distributions()


def front_matter() -> dict[str, str]:
    """The Space's settings: the README's YAML front matter, one ``key: value`` a line."""
    block = (ROOT / "README.md").read_text().split("---\n")[1]
    return dict(line.split(": ", 1) for line in block.splitlines())


def test_the_space_runs_the_gradio_that_requirements_txt_pins():
    """A Space installs the Gradio of its front matter's sdk_version, not requirements.txt's: the two must agree, or
    the Space serves the gallery on a Gradio its tests never ran on."""
    [pin] = re.findall(r"^gradio==([\w.]+)", (ROOT / "requirements.txt").read_text(), re.M)
    assert front_matter()["sdk_version"] == pin


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout: the tracked files are unknown")
def test_the_space_upload_size_the_readme_gives_is_that_of_the_tracked_files():
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode()
    total = sum((ROOT / name).stat().st_size for name in tracked.split("\0") if name)
    [stated] = re.findall(r"the excludes below leave exactly the files git tracks, about\s+(\d+) MB", (ROOT / "README.md").read_text())
    assert abs(total / 1e6 - int(stated)) <= 1, f"the tracked files are {total / 1e6:.1f} MB"
