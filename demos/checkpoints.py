"""What every tab built on trained checkpoints shares: load them once at start, or keep the reason they could not load.

A missing or broken checkpoint must not stop the gallery: the tab shows the reason (with the command that
retrains the model) and each handler raises it as a ``Refusal`` instead of failing on a missing model later.
"""
from __future__ import annotations

from demos.inputs import Refusal
from demos.output_files import OutputFolder
from generative.checkpoints import Checkpoint
from generative.hub import CheckpointError


class CheckpointTab:
    """Base of a tab's state: ``sources`` and ``load`` for its checkpoints, ``error`` and ``check`` for their failure,
    ``files`` for the strips and animations it writes. Subclasses load their models in ``load_models``."""

    def __init__(self, name: str, checkpoints: tuple[Checkpoint, ...], hub_user: str | None = None):
        self.sources = {checkpoint.name: checkpoint.source(hub_user) for checkpoint in checkpoints}
        try:
            self.load_models()
            self.error = None
        except CheckpointError as err:
            self.error = str(err)
        self.files = OutputFolder(name)

    def load_models(self) -> None:
        raise NotImplementedError

    def load(self, checkpoint: Checkpoint):
        """One of the tab's checkpoints, from its source (local or on the Hub), in eval mode."""
        return checkpoint.load(self.sources[checkpoint.name])

    def check(self) -> None:
        if self.error:
            raise Refusal(self.error)
