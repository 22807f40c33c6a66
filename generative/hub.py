"""Loading and publishing checkpoints in Hugging Face Hub layout (config.json + model.safetensors).

One entry point, ``load_model``, takes either a local folder or a Hub repo id, so the app serves the
checkpoints shipped in ``pretrained/`` and a user's own Hub repos through the same code.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TypeVar

from huggingface_hub import PyTorchModelHubMixin

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PRETRAINED_DIR = PROJECT_ROOT / "pretrained"
HUB_USER_ENV = "GALLERY_HUB_USER"
METRICS_FILE = "metrics.json"

ModelT = TypeVar("ModelT", bound=PyTorchModelHubMixin)


class CheckpointError(RuntimeError):
    """A checkpoint is missing or unreadable; the message says how to get a good one."""


def model_source(name: str, hub_user: str | None = None) -> str:
    """Where the model ``name`` comes from: ``<hub_user>/<name>`` on the Hub, else ``pretrained/<name>``."""
    hub_user = hub_user or os.environ.get(HUB_USER_ENV)
    return f"{hub_user}/{name}" if hub_user else str(PRETRAINED_DIR / name)


def load_model(model_class: type[ModelT], source: str, *, train_command: str) -> ModelT:
    """Load ``model_class`` from a local folder or Hub repo id, in eval mode, on the CPU.

    ``strict=True`` because the mixin's default silently leaves missing weights random, which
    would serve a broken model with no error. Every failure becomes a ``CheckpointError`` that
    names ``train_command``, the way to rebuild the checkpoint.
    """
    is_local = Path(source).exists() or source.startswith((".", "/"))
    if is_local and not (Path(source) / "model.safetensors").is_file():
        raise CheckpointError(f"No checkpoint at {source} (model.safetensors is missing). Train one with: {train_command}")
    try:
        return model_class.from_pretrained(source, strict=True, map_location="cpu")
    except Exception as err:  # corrupt safetensors, wrong config, unknown repo, offline cache miss …
        where = "folder" if is_local else "Hub repo"
        raise CheckpointError(
            f"Could not load {model_class.__name__} from {where} {source}: {type(err).__name__}: {err}. "
            f"Train a fresh checkpoint with: {train_command}"
        ) from err


def load_metrics(source: str) -> dict | None:
    """The measured scores saved beside a checkpoint (``metrics.json``), or None if there are none."""
    if Path(source).is_dir():
        path = Path(source) / METRICS_FILE
    else:
        from huggingface_hub import hf_hub_download

        try:
            path = Path(hf_hub_download(source, METRICS_FILE))
        except Exception:  # an older upload without metrics, or offline: the tab just shows no table
            return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def push_folder_to_hub(folder: Path, repo_id: str) -> bool:
    """Upload a checkpoint folder to ``repo_id``; on any failure, say why and keep the local copy.

    Failures are broad on purpose: without network huggingface_hub raises an httpx error that is
    neither an ``OSError`` nor one of its own classes, and losing a finished training run to it
    would be worse than a message.
    """
    from huggingface_hub import HfApi

    api = HfApi()
    try:
        api.create_repo(repo_id, exist_ok=True)
        api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message="Upload checkpoint from generative-gallery")
    except Exception as err:
        print(f"push to the Hub repo {repo_id} failed ({type(err).__name__}: {err}); the checkpoint is still in {folder}")
        return False
    print(f"pushed {folder} to https://huggingface.co/{repo_id}")
    return True


def load_tensors(source: str, filename: str, *, train_command: str) -> dict:
    """A safetensors file shipped beside a checkpoint (local folder or Hub repo), e.g. a 2-d VAE's test encodings."""
    from safetensors.torch import load_file

    try:
        if Path(source).is_dir():
            path = Path(source) / filename
        else:
            from huggingface_hub import hf_hub_download

            path = Path(hf_hub_download(source, filename))
        return load_file(str(path))
    except Exception as err:  # missing file, offline cache miss, corrupt header …
        raise CheckpointError(f"Could not read {filename} from {source}: {type(err).__name__}: {err}. "
                              f"Train a fresh checkpoint with: {train_command}") from err
