"""Which handlers a built ``gr.Blocks`` runs when one of its components fires an event (for the tabs' wiring tests)."""
from __future__ import annotations

import gradio as gr


def handlers_of(demo: gr.Blocks, elem_id: str, event: str) -> list:
    """The functions that ``event`` (e.g. "change") of the component with ``elem_id`` triggers directly."""
    return [f.fn for f in demo.fns.values()
            if any(block in demo.blocks and demo.blocks[block].elem_id == elem_id and name == event for block, name in f.targets)]
