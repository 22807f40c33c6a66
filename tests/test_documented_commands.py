"""Every command the documentation gives is one its script accepts: the README, the model cards, the benchmark reports,
the scripts' own docstrings and the commands recorded in ``metrics.json``.

A renamed or removed flag would otherwise leave a user with a command that stops at argparse, and a recorded
training or benchmark command that no longer reproduces its result. Only the arguments are parsed (each script's
``parse_args``): nothing is trained or measured. A command that names a shell variable (``$loss``) or leaves
arguments out (``…``) is not a whole command and is passed over; optional parts written ``[--flag value]`` are
parsed with them.
"""
from __future__ import annotations

import ast
import json
import re
import shlex
from importlib import import_module

import pytest

from generative.provenance import PROJECT_ROOT

SCRIPT = re.compile(r"(training|benchmarks)/(\w+)\.py")
MODULE = re.compile(r"generative(\.\w+)+")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
INLINE = re.compile(r"`([^`]+)`")
PLACEHOLDER = re.compile(r"<[^<>`]*>")  # "<its output folder>": one argument, whatever its words
SHELL_ENDS = {";", "&&", "||", "|", ">", ">>", "2>&1", "&"}
LAUNCHERS = {"python", "python3", "accelerate", "torchrun"}


def documents() -> dict[str, str]:
    """Name → text of every document that quotes commands."""
    paths = [PROJECT_ROOT / "README.md", *sorted(PROJECT_ROOT.glob("pretrained/*/README.md")),
             *sorted((PROJECT_ROOT / "benchmarks" / "results").rglob("*.md"))]
    texts = {str(path.relative_to(PROJECT_ROOT)): path.read_text() for path in paths}
    for path in [*sorted(PROJECT_ROOT.glob("training/*.py")), *sorted(PROJECT_ROOT.glob("benchmarks/*.py")),
                 *sorted(PROJECT_ROOT.glob("generative/metrics/*.py"))]:
        texts[f"{path.relative_to(PROJECT_ROOT)} (docstring)"] = as_markdown(ast.get_docstring(ast.parse(path.read_text())) or "")
    return texts


def as_markdown(docstring: str) -> str:
    """A docstring's indented lines (its usage examples) as a fenced block, the rest as prose with its inline code."""
    lines = docstring.replace("\\\n", " ").splitlines()
    examples = [line for line in lines if line.startswith("    ")]
    prose = [line for line in lines if not line.startswith("    ")]
    return "```\n" + "\n".join(examples) + "\n```\n" + "\n".join(prose)


def recorded_commands() -> dict[str, str]:
    """Name → command of every run recorded in a checkpoint's metrics.json (each training stage's too)."""
    out = {}
    for path in sorted(PROJECT_ROOT.glob("pretrained/*/metrics.json")):
        metrics = json.loads(path.read_text())
        for i, run in enumerate([metrics, *metrics.get("stages", [])]):
            if "command" in run:
                out[f"{path.relative_to(PROJECT_ROOT)} run {i}"] = run["command"]
    return out


def command_lines(text: str) -> list[str]:
    """Candidate command lines: each line of a fenced block (continuations joined), and each inline code span."""
    blocks = [block.replace("\\\n", " ") for block in FENCE.findall(text)]
    lines = [line for block in blocks for line in block.splitlines()]
    prose = FENCE.sub("", text)
    return lines + [" ".join(span.split()) for span in INLINE.findall(prose)]


def parse_command(line: str) -> tuple[str, list[str]] | None:
    """(importable module, its arguments) of a gallery command in ``line``, or None if there is none, or only part of one."""
    try:
        tokens = shlex.split(PLACEHOLDER.sub("PLACEHOLDER", line), comments=True)
    except ValueError:
        return None
    if not tokens or tokens[0] not in LAUNCHERS:
        return None
    for i, token in enumerate(tokens):
        script = SCRIPT.fullmatch(token)
        if script or (MODULE.fullmatch(token) and tokens[i - 1] == "-m"):
            name = f"{script.group(1)}.{script.group(2)}" if script else token
            break
    else:
        return None
    args = []
    for token in tokens[i + 1:]:
        if token in SHELL_ENDS:
            break
        args.append(token)
    if any("$" in arg or arg in ("…", "...") for arg in args):
        return None
    args = [arg.strip("[]").split("|")[0] for arg in args]  # "[--flag" → "--flag"; "a|b|c" → "a"
    return name, [arg for arg in args if arg]


def documented_commands() -> list[tuple[str, str, list[str]]]:
    """(where, module, arguments) of every gallery command in the documentation and the run records, once each."""
    found: dict[tuple[str, tuple[str, ...]], str] = {}
    sources = [(name, line) for name, text in documents().items() for line in command_lines(text)]
    sources += list(recorded_commands().items())
    for where, line in sources:
        parsed = parse_command(line)
        if parsed:
            found.setdefault((parsed[0], tuple(parsed[1])), where)
    return [(where, module, list(args)) for (module, args), where in found.items()]


COMMANDS = documented_commands()


@pytest.mark.parametrize("where, module, args", COMMANDS, ids=[f"{m.split('.')[-1]}-{i}" for i, (_, m, _) in enumerate(COMMANDS)])
def test_a_documented_command_is_accepted_by_its_script(where, module, args):
    parse_args = import_module(module).parse_args
    try:
        parse_args(args)
    except SystemExit as refused:
        pytest.fail(f"{where}: `{module} {shlex.join(args)}` is refused by its parser (exit {refused.code})")


def test_the_commands_of_every_script_and_document_were_found():
    scripts = {module for _, module, _ in COMMANDS}
    every_script = {f"{kind}.{path.stem}" for kind in ("training", "benchmarks")
                    for path in (PROJECT_ROOT / kind).glob("*.py") if "def parse_args" in path.read_text()}
    assert every_script - scripts == set(), "scripts no document gives a command for"
    assert {"generative.metrics.fid", "generative.metrics.references"} <= scripts
    assert len(COMMANDS) >= 80  # a change of format that hides the commands must not pass unnoticed


def github_anchor(heading: str) -> str:
    """The anchor GitHub (and the Hub) gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_within_the_readme_names_one_of_its_headings():
    text = (PROJECT_ROOT / "README.md").read_text()
    anchors = {github_anchor(heading) for heading in re.findall(r"^#+ (.+)$", text, re.M)}
    links = re.findall(r"\]\(#([^)]+)\)", text)
    assert len(links) >= 10 and not set(links) - anchors, sorted(set(links) - anchors)


def test_the_readmes_run_times_of_benchmark_commands_are_those_their_reports_recorded():
    """A rerun benchmark rewrites its report's time but not the README's comment beside its command: the photo
    benchmark's full run was still given as 45.8 min (an earlier run's) after a rerun of 54.4 min. Times in minutes
    only, of commands exactly one report recorded (an archived run may share its command with the current one)."""
    recorded: dict[str, list[float]] = {}
    for path in (PROJECT_ROOT / "benchmarks" / "results").rglob("*.json"):
        report = json.loads(path.read_text())
        if isinstance(report, dict) and "command" in report and "seconds" in report:
            recorded.setdefault(" ".join(report["command"].split()), []).append(report["seconds"])
    checked = 0
    for line in command_lines((PROJECT_ROOT / "README.md").read_text()):
        command, _, comment = line.partition(" #")
        command, quoted = " ".join(command.split()), re.search(r"(\d+)(\.\d+)? min", comment)
        if quoted and len(recorded.get(command, [])) == 1:
            decimals = len(quoted.group(2) or ".") - 1
            assert f"{recorded[command][0] / 60:.{decimals}f} min" == quoted.group(0), line
            checked += 1
    assert checked >= 3  # the digit and photo denoising benchmarks, and CBM3D on CBSD68
