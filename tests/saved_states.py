"""Compare the resume states two training runs saved: what a test of the published weights alone cannot see."""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from training.loop import STATE


def saved_tensors(run_dir: Path) -> dict[str, torch.Tensor]:
    """Every number of a run's last saved state but its random states: the models' weights, the optimisers' moments
    and step counts, and the objects registered for checkpointing (a moving average), each under a path of keys.
    Accelerate pickles the last two; ``weights_only`` reads them without running any pickled code."""
    state, found = run_dir / STATE, {}

    def flatten(value, key: str) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                flatten(item, f"{key}.{name}")
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                flatten(item, f"{key}.{index}")
        elif isinstance(value, (torch.Tensor, int, float)):
            found[key] = torch.as_tensor(value)

    for path in sorted(state.glob("model*.safetensors")):
        flatten(load_file(path), path.name)
    for path in sorted([*state.glob("optimizer*.bin"), *state.glob("custom_checkpoint_*.pkl")]):
        flatten(torch.load(path, weights_only=True), path.name)
    return found


def assert_same_saved_state(run_a: Path, run_b: Path, registered: int) -> None:
    """The two runs saved the same state, to float noise, including the ``registered`` objects' (Accelerate's
    ``custom_checkpoint_<i>``): a run whose moving average restarted on resume fails here."""
    a, b = saved_tensors(run_a), saved_tensors(run_b)
    assert a.keys() == b.keys()
    assert {key.split(".")[0] for key in a if key.startswith("custom_checkpoint_")} == {
        f"custom_checkpoint_{i}" for i in range(registered)}
    for key in a:
        assert (a[key].double() - b[key].double()).abs().max().item() < 1e-5, key
