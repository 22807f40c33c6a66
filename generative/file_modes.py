"""The files the project writes with safetensors get the mode that any other new file gets.

safetensors 0.8 writes through a temporary file, which it creates with mode 0600, and renames it into place
(github.com/safetensors/safetensors/issues/782). So a checkpoint trained by one user could not be read by another,
a Space's or a container's user, say, although its config.json and card beside it could.
"""
from __future__ import annotations

import os
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it; restored at once
    os.umask(mask)
    return mask


NEW_FILE_MODE = 0o666 & ~_umask()  # read once, at import, before a thread could create a file in between


def give_usual_mode(*paths: Path) -> None:
    """Set each file's mode to what ``open(path, "w")`` would have given it: rw-r--r-- under the usual umask 022."""
    for path in paths:
        os.chmod(path, NEW_FILE_MODE)
