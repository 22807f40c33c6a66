"""What every tab built on trained checkpoints shares: load them once at start, or keep the reason they could not load.

A missing or broken checkpoint must not stop the gallery: the tab shows the reason (with the command that
retrains the model) and each handler raises it as a ``gr.Error`` instead of failing on a missing model later.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr

from generative.hub import CheckpointError, load_model, model_source


class CheckpointTab:
    """Base of a tab's state: ``sources`` and ``load`` for its checkpoints, ``error`` and ``check`` for their failure,
    ``files`` for the strips and animations it writes. Subclasses load their models in ``load_models``."""

    def __init__(self, name: str, train_commands: dict[str, str], hub_user: str | None = None):
        self.train_commands = train_commands
        self.sources = {model: model_source(model, hub_user) for model in train_commands}
        try:
            self.load_models()
            self.error = None
        except CheckpointError as err:
            self.error = str(err)
        self.files = Path(tempfile.mkdtemp(prefix=f"gallery-{name}-"))

    def load_models(self) -> None:
        raise NotImplementedError

    def load(self, model_class, model: str):
        """``model_class`` from the checkpoint ``model`` (a name in ``train_commands``), in eval mode."""
        return load_model(model_class, self.sources[model], train_command=self.train_commands[model])

    def check(self) -> None:
        if self.error:
            raise gr.Error(self.error)
