"""Helpers for the gradio_client tests of every tab: warnings sent during a call, fast refusals, output pixels."""
from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from PIL import Image

from gradio_client.exceptions import AppError

REFUSAL_S = 5.0  # a bad file must be refused at once (the size check reads only the header)


def warnings_of(job) -> list[str]:
    """The gr.Warning texts the server sent during ``job`` (the client queues them as status updates)."""
    texts = []
    while True:
        try:
            update = job.communicator.updates.get_nowait()
        except asyncio.QueueEmpty:
            return texts
        if getattr(update, "log", None) and update.log[1] == "warning":
            texts.append(update.log[0])


def assert_refused(request, *words: str) -> None:
    """``request()`` must fail fast with an AppError whose message contains every one of ``words``."""
    start = time.perf_counter()
    with pytest.raises(AppError) as caught:
        request()
    elapsed = time.perf_counter() - start
    message = str(caught.value)
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in the error message {message!r}"
    assert elapsed < REFUSAL_S, f"refusing took {elapsed:.1f} s: {message}"


def pixels(path: str) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L"), dtype=np.float32)


def size_of(path: str) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size
