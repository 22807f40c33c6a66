"""Where the tabs write the files they return (strips, GIFs, denoised PNGs), without filling the disk.

Gradio copies every file a handler returns into its own cache before serving it, so a call's folder is
needed only until its handler returns. Each call gets a fresh folder (two users never share a file);
folders older than ``KEEP_SECONDS`` go at the next call, and the whole tree at exit. Gradio's copies are
deleted by the app's ``delete_cache`` (``app.py``).
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from pathlib import Path

KEEP_SECONDS = 600  # far longer than any handler runs between making its folder and returning


class OutputFolder:
    def __init__(self, name: str):
        self.root = Path(tempfile.mkdtemp(prefix=f"gallery-{name}-"))
        atexit.register(shutil.rmtree, self.root, ignore_errors=True)

    def new(self) -> Path:
        """A fresh, empty folder for one call's files; the folders of calls long finished are removed first."""
        cutoff = time.time() - KEEP_SECONDS
        for old in self.root.iterdir():
            try:
                if old.stat().st_mtime < cutoff:
                    shutil.rmtree(old, ignore_errors=True)
            except FileNotFoundError:  # another call removed it first
                pass
        return Path(tempfile.mkdtemp(dir=self.root))
