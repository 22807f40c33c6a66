"""Whether files can go into a folder, asked before hours of training or measuring rather than after them.

``os.access`` answers from permission bits, which root (a container's or Colab's usual user) always passes: /proc and
/sys were accepted, and the run failed once its work was done. So the folder is asked by making a file in it.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def unwritable(folder: Path) -> str | None:
    """Why files cannot go into ``folder`` (made if missing), or None when they can. Only the nearest existing folder is
    touched: a temporary file is made there and deleted at once, and nothing is made where ``folder`` is missing."""
    existing = next(path for path in (folder, *folder.absolute().parents) if os.path.lexists(path))
    if not existing.is_dir():
        return f"{existing} is a file, not a folder" if existing.exists() else f"{existing} is a broken link"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        return f"{existing} cannot be written to ({said(err)})"
    return None


def unwritable_file(path: Path) -> str | None:
    """Why ``path`` cannot be written (a new file in its folder, or an existing one opened to add nothing), or None."""
    if not path.exists():
        return unwritable(path.parent)
    try:
        with open(path, "a"):
            pass
    except OSError as err:
        return said(err)
    return None


def said(err: OSError) -> str:
    return err.strerror.lower() if err.strerror else str(err)
