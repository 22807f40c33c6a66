"""The tabs' event wiring in tests: which handlers a built ``gr.Blocks`` runs for an event, and how a page's upload
handler takes the double change event of a dropped file."""
from __future__ import annotations

import asyncio
import inspect
import threading
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
from gradio.state_holder import SessionState


def events_of(demo: gr.Blocks, elem_id: str, event: str) -> list:
    """Gradio's records (``BlockFunction``) of what ``event`` (e.g. "change") of the component with ``elem_id`` runs."""
    return [f for f in demo.fns.values()
            if any(block in demo.blocks and demo.blocks[block].elem_id == elem_id and name == event for block, name in f.targets)]


def handlers_of(demo: gr.Blocks, elem_id: str, event: str) -> list:
    """The Python functions that ``event`` of the component with ``elem_id`` triggers directly (not a page script's
    event, which has none: bringing results into sight, say)."""
    return [f.fn for f in events_of(demo, elem_id, event) if f.fn is not None]


def answer(handler, *args):
    """What a handler answers: a generator handler's last value (demos/background.py: one a cancel can stop)."""
    result = handler(*args)
    return list(result)[-1] if inspect.isgenerator(result) else result


def page_warnings(warned) -> list[str]:
    """The messages of the ``gr.Warning``s a ``pytest.warns`` block recorded, which records every warning: a
    ResourceWarning for an event loop that the garbage collector closed in the block came with them in some orders."""
    return [str(w.message) for w in warned if w.category is UserWarning]


def assert_a_dropped_file_runs_once(on_change, started: threading.Event, result) -> None:
    """The page's upload handler ``on_change(image, request)``, its work stubbed to set ``started``, take 0.5 s and
    return ``result``: a file dropped onto a filled box fires the change twice at once, and the second run of the same
    session's file is skipped; another page's upload of that file and another file run at once, and so does the
    same file once the first run has ended."""
    page, other_page = SimpleNamespace(session_hash="page"), SimpleNamespace(session_hash="other")
    answers = {}

    def change(name, path, request):
        answers[name] = on_change({"path": path}, request)

    first = threading.Thread(target=change, args=("first", "a.png", page))
    first.start()
    started.wait(5)
    change("again", "a.png", page)
    change("other page", "a.png", other_page)  # while the first still runs
    change("other file", "b.png", page)
    first.join()
    change("later", "a.png", page)
    assert isinstance(answers.pop("again"), type(gr.skip()))
    assert answers == dict.fromkeys(["first", "other page", "other file", "later"], result)


def page_session(demo: gr.Blocks) -> SessionState:
    """Gradio's own store of one page's ``gr.State`` values."""
    return SessionState(demo)


def run_in_page(demo: gr.Blocks, event, inputs: list, session: SessionState) -> None:
    """``event`` (from ``events_of``) run as Gradio runs a page's event: a ``gr.State`` input is read from ``session``
    when the event runs, not taken from ``inputs`` (give None in its place), and its outputs are stored there. A
    generator handler (``demos.background.cancellable``) is run to its end, one answer a call, as the queue does."""
    async def run():
        answer = await demo.process_api(event, inputs, state=session)
        while answer["is_generating"]:
            answer = await demo.process_api(event, inputs, state=session, iterator=answer["iterator"])
    asyncio.run(run())


def dropped(path: Path) -> dict:
    """The payload a ``preprocess=False`` upload event gets for a file dropped onto the page."""
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}}
