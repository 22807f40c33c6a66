"""Resident memory of this process, sampled in a thread while a benchmark runs."""
from __future__ import annotations

import threading
from typing import Callable

import psutil

MB = 2 ** 20


class RssSampler:
    """This process's resident memory, sampled every ``interval`` s in a thread, each sample tagged with ``progress()``."""

    def __init__(self, progress: Callable[[], int] = lambda: 0, interval: float = 0.02):
        self.progress, self.interval = progress, interval
        self.samples: list[tuple[int, int]] = []
        self._process, self._stop = psutil.Process(), threading.Event()

    def _sample(self) -> None:
        self.samples.append((self.progress(), self._process.memory_info().rss))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> "RssSampler":
        self._sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def start_mb(self) -> float:
        return self.samples[0][1] / MB

    def peak_mb(self, until: int | None = None) -> float:
        """The peak over all samples, or over those whose progress was at most ``until``."""
        return max(rss for done, rss in self.samples if until is None or done <= until) / MB
