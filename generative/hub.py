"""Loading and publishing checkpoints in Hugging Face Hub layout (config.json + model.safetensors).

One entry point, ``load_model``, takes either a local folder or a Hub repo id, so the app serves the
checkpoints shipped in ``pretrained/`` and a user's own Hub repos through the same code.
"""
from __future__ import annotations

import contextlib
import inspect
import io
import json
import os
import shlex
import sys
import threading
from pathlib import Path, PureWindowsPath
from typing import TypeVar

from huggingface_hub import PyTorchModelHubMixin

from generative.provenance import PROJECT_ROOT, file_hash

PRETRAINED_DIR = PROJECT_ROOT / "pretrained"
HUB_USER_ENV = "GALLERY_HUB_USER"
METRICS_FILE = "metrics.json"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
WHOAMI_TIMEOUT_S = 10  # asking the Hub about a token before training

ModelT = TypeVar("ModelT", bound=PyTorchModelHubMixin)
QUIET_LOADS = threading.Lock()


class CheckpointError(RuntimeError):
    """A checkpoint is missing or unreadable; the message says how to get a good one."""


def weights_hash(folder: str | Path) -> str | None:
    """``file_hash`` of a checkpoint folder's weights file: which weights a result was measured on.

    A folder's name does not say that: every training script writes to ``pretrained/<name>`` by default.
    """
    return file_hash(Path(folder) / WEIGHTS_FILE)


def model_source(name: str, hub_user: str | None = None) -> str:
    """Where the model ``name`` comes from: ``<hub_user>/<name>`` on the Hub, else ``pretrained/<name>``.

    ``hub_user=None`` reads it from ``GALLERY_HUB_USER``; an empty one means pretrained/, whatever that says.
    """
    hub_user = os.environ.get(HUB_USER_ENV) if hub_user is None else hub_user
    return f"{hub_user}/{name}" if hub_user else str(PRETRAINED_DIR / name)


def is_local(source: str) -> bool:
    """Whether ``source`` names a folder (an existing path, or one written as a path) rather than a Hub repo id.

    A repo id is ``namespace/name`` at most, so a source with two or more slashes, one ending in a slash, or one with
    a backslash or a drive (Windows) is a path even when the folder does not exist: its error is then "no such
    folder", not the Hub's "invalid repo id".
    """
    return (Path(source).exists() or source.startswith((".", "/")) or source.count("/") > 1 or source.endswith("/")
            or "\\" in source or bool(PureWindowsPath(source).drive))


def checkpoint_file(source: str, filename: str) -> Path:
    """``filename`` beside a checkpoint: in the folder ``source``, or fetched (or read from the cache) from the Hub repo."""
    if is_local(source):
        return Path(source) / filename
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download(source, filename))


def load_model(model_class: type[ModelT], source: str, *, train_command: str) -> ModelT:
    """Load ``model_class`` from a local folder or Hub repo id, in eval mode, on the CPU.

    A Hub repo is fetched as config.json + model.safetensors and then loaded as a folder: given a
    repo id, the mixin falls back on ``pytorch_model.bin`` when there is no safetensors file, and
    we never unpickle weights. ``strict=True`` because the mixin's default silently leaves missing
    weights random, which would serve a broken model with no error. For the same reason config.json must be there
    and hold only settings the class takes: the mixin would build the class defaults without it and drop a misspelt
    setting. Every failure becomes a one-line ``CheckpointError`` that names ``train_command``, the way to rebuild
    the checkpoint.
    """
    if not str(source).strip():  # Path("") is the working folder, which would load whatever checkpoint is there
        raise CheckpointError(f"No checkpoint source given: name a folder or a Hub repo id (user/name). "
                              f"To train one: {train_command}")
    local = is_local(source)
    where = "folder" if local else "Hub repo"
    try:
        if local:
            folder = Path(source)
        else:
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(source, allow_patterns=[CONFIG_FILE, WEIGHTS_FILE]))
        if not (folder / WEIGHTS_FILE).is_file():
            why = (f"{WEIGHTS_FILE} is missing; weights are read from safetensors only" if folder.is_dir()
                   else "it is a file, not a folder" if folder.exists() else "there is no such folder")
            raise CheckpointError(f"No checkpoint at {source} ({why}). {how_to_get(source, train_command)}")
        if not (folder / CONFIG_FILE).is_file():  # the mixin would log it and build the class defaults
            raise CheckpointError(f"No checkpoint at {source} ({CONFIG_FILE} is missing: the model's settings are read "
                                  f"from it). {how_to_get(source, train_command)}")
        config = json.loads((folder / CONFIG_FILE).read_text())
        if unknown := unknown_settings(model_class, config):
            raise CheckpointError(f"Could not load {model_class.__name__} from {where} {source}: {unknown}. "
                                  f"{how_to_get(source, train_command)}")
        # The mixin prints "Loading weights from local directory". The redirect is process-wide, so loads take turns
        # under it: two overlapping ones (the FID tab loads in worker threads) would leave sys.stdout on a buffer.
        with QUIET_LOADS, contextlib.redirect_stdout(io.StringIO()):
            model = model_class.from_pretrained(str(folder), strict=True, map_location="cpu")
        if damaged := [name for name, tensor in model.state_dict().items()
                       if tensor.is_floating_point() and not tensor.isfinite().all()]:
            raise CheckpointError(  # bytes overwritten inside the file leave its header whole: NaN out of every output
                f"Could not load {model_class.__name__} from {where} {source}: {len(damaged)} of its weight tensors hold "
                f"NaN or infinite values ({', '.join(damaged[:3])}{', …' if len(damaged) > 3 else ''}), so "
                f"{WEIGHTS_FILE} is damaged. {how_to_get(source, train_command)}")
        return model
    except CheckpointError:
        raise
    except Exception as err:  # corrupt safetensors, wrong config, unknown repo, offline cache miss …
        if str(err).startswith("Error(s) in loading state_dict"):  # torch's refusal, tensor by tensor
            why = weights_mismatch(model_class, config, folder / WEIGHTS_FILE)
        else:
            why = f"{type(err).__name__}: {str(err).rstrip('.')}"
        parent = Path(source).parent
        typo = (f" There is no folder {source} either: is the path mistyped?"
                if not local and parent != Path(".") and parent.is_dir() else "")
        raise CheckpointError(
            f"Could not load {model_class.__name__} from {where} {source}: {why}."
            f"{typo} {how_to_get(source, train_command, typo=bool(typo))}"
        ) from err


def unknown_settings(model_class: type, config: object) -> str | None:
    """What is wrong with a config.json that names settings ``model_class`` does not take, or None.

    The mixin passes on only the settings the class takes and drops the rest without a word, so a misspelt one
    (``"dropuot"``) or another model's config would build the class defaults: a model that is not the one trained.
    """
    if not isinstance(config, dict):
        return f"{CONFIG_FILE} holds a {type(config).__name__}, not an object of settings"
    taken = [name for name in inspect.signature(model_class.__init__).parameters if name != "self"]
    unknown = [name for name in config if name not in taken]
    if not unknown:
        return None
    return (f"{CONFIG_FILE} has settings that {model_class.__name__} does not take: {', '.join(unknown)} "
            f"(it takes {', '.join(taken)}); it may be another model's checkpoint")


def weights_mismatch(model_class: type, config: dict, weights: Path) -> str:
    """Why the tensors in ``weights`` do not fit ``model_class(**config)``, in one line. torch's refusal names every
    tensor (kilobytes for another model's checkpoint) and stops at reshaped ones before it counts the rest."""
    from safetensors import safe_open

    wanted = {name: tuple(tensor.shape) for name, tensor in model_class(**config).state_dict().items()}
    with safe_open(str(weights), framework="pt") as stored_file:
        stored = {name: tuple(stored_file.get_slice(name).get_shape()) for name in stored_file.keys()}
    counts = {"of another shape": sum(stored[name] != shape for name, shape in wanted.items() if name in stored),
              "missing": len(wanted.keys() - stored.keys()), "extra": len(stored.keys() - wanted.keys())}
    found = ", ".join(f"{count} {kind}" for kind, count in counts.items() if count)
    return (f"its weights do not fit the model its {CONFIG_FILE} describes (of its {len(wanted)} tensors: {found}); "
            "it may be another model's checkpoint")


def inside_pretrained(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` is in pretrained/, written as a path there or reached through a link."""
    return any(Path(path).is_relative_to(shipped) for path in (os.path.abspath(folder), Path(folder).resolve())
               for shipped in (PRETRAINED_DIR, PRETRAINED_DIR.resolve()))


def how_to_get(source: str, train_command: str, *, typo: bool = False) -> str:
    """The advice a failed load ends with. A script's plain command writes pretrained/, which a Hub repo source never
    reads: for one, the repo needs the checkpoint pushed, or the load should name a folder instead. A folder elsewhere
    (a benchmark's ``--model runs/x``) needs ``--output-dir``: the plain command would replace the shipped checkpoint
    and leave that folder missing."""
    if typo or (is_local(source) and ("--output-dir" in train_command or inside_pretrained(source))):
        return f"Train one with: {train_command}"
    if is_local(source):
        return f"Train one into it, adding `--output-dir {source}` to: {train_command}"
    return (f"Check the repo id and the connection; or load the folder in pretrained/ instead (the app: with `--hub \"\"`, "
            f"or without --hub and {HUB_USER_ENV}); or train one, adding `--push-to-hub {source}` to: {train_command}")


def load_metrics(source: str) -> dict | None:
    """The measured scores saved beside a checkpoint (``metrics.json``), or None if there are none."""
    try:
        return json.loads(checkpoint_file(source, METRICS_FILE).read_text())
    except Exception:  # none saved (an older upload), offline cache miss, unreadable: the tab just shows no table
        return None


def hub_login_problem() -> str | None:
    """Why an upload would surely fail, or None; asked before a training script's hours of training: offline mode, no
    token, or a token the Hub refuses (``token_refused``). A token that may read but not write, or a repo of someone
    else's, only the upload finds, and it keeps the folder and prints the command that retries it."""
    from huggingface_hub import constants, get_token

    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set, so nothing can be uploaded: unset it"
    if get_token() is None:
        return "no Hugging Face token: log in with `hf auth login` or set HF_TOKEN"
    return token_refused()


def token_refused(timeout_s: float = WHOAMI_TIMEOUT_S) -> str | None:
    """Why the Hub refuses the token (its answer to ``whoami`` is 401 or 403), or None.

    Only a refusal stops a run: every process of a data-parallel run gets the same answer, while a network error or
    a rate limit could stop one process and leave the others waiting for it. Those, and no answer within
    ``timeout_s`` (huggingface_hub sets no time limit), are a note, and the upload after training says what went wrong.
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    outcome: dict = {}

    def ask() -> None:
        try:
            HfApi().whoami()
        except Exception as err:
            outcome["error"] = err

    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    asker.join(timeout_s)
    error = outcome.get("error")
    if isinstance(error, HfHubHTTPError) and getattr(error.response, "status_code", None) in (401, 403):
        return f"the Hub refuses the token ({str(error).splitlines()[0]})"
    if asker.is_alive() or error is not None:
        why = f"no answer in {timeout_s:g} s" if asker.is_alive() else f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        print(f"note: the Hub could not be asked whether it accepts the token ({why}); training anyway, and the upload "
              "after it will say if it fails", file=sys.stderr)
    return None


def push_folder_to_hub(folder: Path, repo_id: str) -> bool:
    """Upload a checkpoint folder to ``repo_id``, and whether it went up; on any failure, say why and keep the local copy.

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
        print(f"push to the Hub repo {repo_id} failed ({type(err).__name__}: {err}); the checkpoint is still in {folder}: "
              f"upload it later with: hf upload {repo_id} {shlex.quote(str(folder))}")
        return False
    print(f"pushed {folder} to https://huggingface.co/{repo_id}")
    return True


def load_tensors(source: str, filename: str, *, train_command: str, names: tuple[str, ...] = ()) -> dict:
    """The tensors of a safetensors file shipped beside a checkpoint (local folder or Hub repo), e.g. a 2-d VAE's test
    encodings, by name; a ``CheckpointError`` that names ``train_command`` if it cannot be read or lacks one of
    ``names`` (another safetensors file in its place stopped the app with a KeyError)."""
    from safetensors.torch import load_file

    try:
        path = checkpoint_file(source, filename)
        tensors = load_file(str(path))
    except Exception as err:  # missing file, offline cache miss, corrupt header …
        raise CheckpointError(f"Could not read {filename} from {source}: {type(err).__name__}: {err}. "
                              f"{how_to_get(source, train_command)}") from err
    if missing := [name for name in names if name not in tensors]:
        raise CheckpointError(f"{filename} in {source} has no {', '.join(map(repr, missing))} tensors (it holds "
                              f"{', '.join(map(repr, sorted(tensors)[:5])) or 'none'}): it may be another file. "
                              f"{how_to_get(source, train_command)}")
    return tensors
