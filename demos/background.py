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

import gradio as gr

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
