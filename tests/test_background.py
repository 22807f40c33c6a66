"""Handlers that a cancel stops (demos/background.py), and API endpoints that stay generators (demos/inputs.py)."""
from __future__ import annotations

import contextvars
import inspect
import threading
import time

import gradio as gr
import pytest

from demos.background import cancel_event, cancellable
from demos.inputs import API_EMPTY_SKETCH, EMPTY_SKETCH, Refusal, api_endpoint

SKIP = type(gr.skip())
caller = contextvars.ContextVar("caller", default="unset")


def test_the_work_runs_beside_the_handler_which_yields_skips_then_the_result():
    release, threads = threading.Event(), {}

    def work(x, request=None):
        threads["work"] = threading.current_thread()
        assert release.wait(10)
        return x * 2, caller.get(), cancel_event().is_set()

    handler = cancellable(work, heartbeat_s=0.01)
    assert inspect.isgeneratorfunction(handler) and inspect.signature(handler) == inspect.signature(work)
    caller.set("the request's context")  # what Gradio's progress and warnings live in
    steps = handler(21)
    assert all(isinstance(next(steps), SKIP) for _ in range(3))  # the work waits: the handler yields nothing new
    release.set()
    assert list(steps)[-1] == (42, "the request's context", False)
    assert threads["work"] is not threading.current_thread()
    assert cancel_event() is None  # a direct call: no handler to cancel it


def test_closing_the_handler_sets_the_cancel_event_the_work_sees():
    """Gradio closes a generator handler when its event is cancelled (gradio_client's job.cancel())."""
    seen = {}

    def work():
        seen["cancelled"] = cancel_event().wait(10)
        seen["at"] = time.monotonic()

    steps = cancellable(work, heartbeat_s=0.01)()
    assert isinstance(next(steps), SKIP)
    closed = time.monotonic()
    steps.close()
    deadline = time.monotonic() + 10
    while "at" not in seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen["cancelled"] and seen["at"] - closed < 1


def test_the_works_exception_is_raised_by_the_handler():
    def work():
        raise Refusal("The seed must be a whole number")

    with pytest.raises(gr.Error, match="The seed must be a whole number"):
        list(cancellable(work)())


def test_an_api_endpoint_keeps_a_generator_handler_a_generator_and_its_refusals_for_the_api():
    def drawing(sketch):
        yield gr.skip()
        raise Refusal(EMPTY_SKETCH)

    def plain(sketch):
        raise Refusal(EMPTY_SKETCH)

    with gr.Blocks() as blocks:
        sketch, out = gr.Textbox(), gr.Textbox()
        for handler in (drawing, plain):
            api_endpoint(f"api-{handler.__name__}", handler, sketch, out, api_name=handler.__name__)
    wired = {fn.api_name: fn.fn for fn in blocks.fns.values()}
    assert inspect.isgeneratorfunction(wired["drawing"]) and not inspect.isgeneratorfunction(wired["plain"])
    steps = wired["drawing"](None)
    assert isinstance(next(steps), SKIP)
    for call in (lambda: next(steps), lambda: wired["plain"](None)):
        with pytest.raises(gr.Error) as refusal:
            call()
        assert refusal.value.message == API_EMPTY_SKETCH  # how a program sends a drawing, not "pick the brush"
