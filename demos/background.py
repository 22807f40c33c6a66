"""Long handlers that a cancel really stops.

Gradio runs a plain handler in a thread that a cancel cannot reach: ``job.cancel()`` from gradio_client frees the
event's concurrency slot at once while the work runs on, beside the next request that took the slot. A generator
handler is different: Gradio closes it on a cancel. ``cancellable`` turns a handler into such a generator, which
runs the work in a thread of its own and, when closed, sets the event that ``cancel_event`` hands the work.
"""
from __future__ import annotations

import contextvars
import functools
import threading
from contextlib import contextmanager

import gradio as gr
from gradio.context import LocalContext

from generative.stopping import Stopped

HEARTBEAT_S = 1.0  # how often the generator yields, so that a close finds it at a yield: at most this late
_cancel: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("cancel", default=None)


def cancel_event() -> threading.Event | None:
    """The event that a cancel of the running ``cancellable`` handler sets, or None outside one (a direct call)."""
    return _cancel.get()


def cancellable(work, heartbeat_s: float = HEARTBEAT_S):
    """``work`` as a generator handler: it yields ``gr.skip()`` (nothing changes) every ``heartbeat_s`` while the
    work runs, then the work's return value, or raises its exception. The work runs in a copy of the caller's
    context, so Gradio's progress, warnings and request reach it, and with ``cancel_event()`` set."""
    @functools.wraps(work)  # Gradio reads the handler's own signature (its request, progress) through the wrapper
    def watched(*args, **kwargs):
        cancel, outcome = threading.Event(), {}
        context = contextvars.copy_context()
        context.run(_cancel.set, cancel)

        def run():
            try:
                outcome["value"] = work(*args, **kwargs)
            except BaseException as err:  # re-raised below, in the handler's own thread
                outcome["error"] = err

        worker = threading.Thread(target=context.run, args=(run,), name=f"cancellable {work.__name__}", daemon=True)
        worker.start()
        try:
            worker.join(heartbeat_s)
            while worker.is_alive():
                yield gr.skip()
                worker.join(heartbeat_s)
        finally:
            if worker.is_alive():  # closed early: Gradio's cancel, or a caller that stopped iterating
                cancel.set()
        if "error" in outcome:
            raise outcome["error"]
        yield outcome["value"]
    return watched


class SessionWork:
    """The stop events of each session's running work of one kind (a tab's), which the tab's Stop button sets.

    Gradio's own cancel cannot reach a plain handler, and it misses some runs of a ``cancellable`` one: a file dropped
    onto the Denoise tab fires two change events, and after an earlier Stop the page cancelled the one that had been
    skipped as a repeat, while the other ran on and put its photo over the "Stopped." note 13 s later."""

    def __init__(self):
        self.running: dict[str | None, set[threading.Event]] = {}  # per session (its hash; None for a direct call)
        self.lock = threading.Lock()

    @contextmanager
    def stoppable(self, request: gr.Request | None):
        """A stop event for one run, which ``stop`` sets from the same session (a page, or one gradio_client Client),
        as a cancel of its ``cancellable`` handler does: it is that cancel's event, which the work checks."""
        session, event = request.session_hash if request else None, cancel_event() or threading.Event()
        with self.lock:
            self.running.setdefault(session, set()).add(event)
        try:
            yield event
        finally:
            with self.lock:
                self.running[session].discard(event)
                if not self.running[session]:
                    del self.running[session]

    def stop(self, request: gr.Request | None) -> bool:
        """Stop this session's running work, each run at its next check; whether any was running."""
        with self.lock:
            events = self.running.get(request.session_hash if request else None, set())
            for event in events:
                event.set()
        return bool(events)

    def watched(self, handler):
        """``handler``, for ``cancellable``: its run is stoppable by ``stop`` from the session Gradio runs it for, and
        a run stopped so (its work raises ``Stopped``) changes nothing shown: the Stop button's own note says why."""
        @functools.wraps(handler)  # Gradio reads the handler's own signature (its progress argument) through the wrapper
        def run(*args, **kwargs):
            with self.stoppable(LocalContext.request.get(None)) as stop:
                try:
                    return handler(*args, **kwargs)
                except Stopped:
                    if stop.is_set():
                        return gr.skip()
                    raise
        return run
