"""Start the real gallery (``python app.py --port P``) in a subprocess for the client and browser tests.

A subprocess, not ``launch(prevent_thread_lock=True)`` in pytest's own process: the server gets its own
interpreter (its own torch threads, its own Gradio temp dir and event loop), a crash or a hang in it
cannot take pytest down, and teardown is a plain kill. Its output goes to a log whose tail is shown
when it fails to come up.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 120  # import gradio + torch + model load takes 5-10 s idle, much more beside a training run
HOST = "127.0.0.1"
LOG_NAME = "app-server.log"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def is_serving(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def log_tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"


def wait_until_serving(process: subprocess.Popen, url: str, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not is_serving(url):
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with code {process.returncode} before serving:\n{log_tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"app.py did not answer HTTP 200 on {url} within {timeout_s} s:\n{log_tail(log)}")
        time.sleep(0.2)


def die_with_parent() -> None:
    """In the child (Linux): get SIGTERM when pytest dies, even by SIGKILL, so no server outlives its tests."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def running_app(workdir: Path, timeout_s: float = START_TIMEOUT_S) -> Iterator[str]:
    """Run ``app.py`` on a free localhost port; yield its URL; kill it afterwards.

    ``workdir`` receives the server log, Gradio's temp files (uploads and outputs) and the tabs' own (``tmp/``).
    """
    port = free_port()
    url = f"http://{HOST}:{port}/"
    log = workdir / LOG_NAME
    (workdir / "tmp").mkdir(exist_ok=True)
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1",
               GRADIO_TEMP_DIR=str(workdir / "gradio-tmp"), TMPDIR=str(workdir / "tmp"), PYTHONUNBUFFERED="1")
    env.pop("GALLERY_HUB_USER", None)  # the local pretrained/ checkpoint, never the Hub
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "app.py", "--host", HOST, "--port", str(port)],
                                   cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   preexec_fn=die_with_parent if sys.platform == "linux" else None)
    try:
        wait_until_serving(process, url, log, timeout_s)
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="session")
def app_workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("app-server")


@pytest.fixture(scope="session")
def app_url(app_workdir) -> Iterator[str]:
    """URL of one real app server shared by every test of the session (registered in conftest.py)."""
    with running_app(app_workdir) as url:
        yield url


@pytest.fixture(scope="session")
def app_log(app_workdir, app_url) -> Path:
    """The server's output (stdout and stderr) so far: tests read what their own requests added to it."""
    return app_workdir / LOG_NAME
