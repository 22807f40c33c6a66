"""The one training loop every script in training/ shares.

A script supplies the model, the data, a loss and a picture of its progress; this module owns the
rest: device choice, seeding, data-parallel execution through 🤗 Accelerate (so ``accelerate launch``
or ``torchrun`` scale it to several GPUs), tqdm progress, a sample grid and a loss-curve PNG per
epoch, and resumable checkpoints. What the finished run publishes (metrics, model card, the Hub-layout
folder) is training/cards.py's.
"""
from __future__ import annotations

import argparse
import inspect
import json
import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from accelerate import Accelerator, DataLoaderConfiguration
from accelerate.utils import load as load_accelerate_file
from accelerate.utils import set_seed
from accelerate.utils.constants import RNG_STATE_NAME
from huggingface_hub.utils import HFValidationError, validate_repo_id
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from generative.data.mnist import DATA_ROOT_ENV, CacheNotWritable
from generative.hub import (CONFIG_FILE, METRICS_FILE, PRETRAINED_DIR, WEIGHTS_FILE, CheckpointError, hub_login_problem,
                           inside_pretrained, is_local)
from generative.provenance import PROJECT_ROOT, file_hash, project_code, script_of
from generative.writable import unwritable

LossFn = Callable[[torch.nn.Module, tuple, torch.Generator], torch.Tensor]
SampleFn = Callable[[torch.nn.Module], torch.Tensor]
EvalFn = Callable[[torch.nn.Module], float]


MNIST_DATA = f"folder with MNIST/raw/*.gz (default: ${DATA_ROOT_ENV}, else download)"
# The scripts' default folders are the project's, not the working folder's, since a script runs from anywhere:
# pretrained/ is where the app looks for checkpoints.
RUNS_DIR = PROJECT_ROOT / "runs"
MAX_SEED = 2**32 - 1  # numpy's seed range, which accelerate's set_seed also seeds
# Flags that say where files go or how fast steps run, not what is trained: a resumed run may change them.
SETTINGS_FILE = "settings.json"  # beside the resume state: the flags of the run it belongs to
CODE_FILE = "code.json"  # beside it too: a hash of each project module loaded when the run started
RESUME_MAY_CHANGE = {"resume", "device", "run_dir", "output_dir", "push_to_hub", "data_root", "eval_limit", "bf16"}


def positive_int(text: str) -> int:
    """An argparse type: an integer ≥ 1 (argparse turns the ValueError into a usage message)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: an integer ≥ 0 (a count where 0 means none: warm-up calls, or a part to skip)."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def non_negative_float(text: str) -> float:
    """An argparse type: a finite number ≥ 0 (a learning rate: 0 is allowed, it keeps the weights as they are)."""
    value = float(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number ≥ 0, got {text}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0 (a time limit, or a noise scale: 0 would draw every sample alike)."""
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def fraction(text: str) -> float:
    """An argparse type: a number in [0, 1) (a moving average's decay: 1 would never move)."""
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 0 and below 1, got {text}")
    return value


def foreign_files(output_dir: Path) -> str | None:
    """What keeps a checkpoint out of ``output_dir``: files there, but no checkpoint. ``publish`` writes the card over
    README.md and removes the .safetensors files it does not write, so a user's own folder (or the project's root, as
    ``--output-dir .``) would lose them; an earlier checkpoint it replaces, as a run into pretrained/ must."""
    if not output_dir.is_dir() or (output_dir / WEIGHTS_FILE).exists() or (output_dir / CONFIG_FILE).exists():
        return None
    if files := sorted(path.name for path in output_dir.iterdir()):
        shown = ", ".join(files[:3]) + (f" and {len(files) - 3:,} more" if len(files) > 3 else "")
        return (f"it holds {shown} but no checkpoint ({CONFIG_FILE}, {WEIGHTS_FILE}); a checkpoint written there "
                "replaces any README.md, metrics.json and pictures of that name and deletes other .safetensors files, so "
                "name a new or empty folder, or an earlier checkpoint's")
    return None


def other_scripts_checkpoint(output_dir: Path, script: str) -> str | None:
    """What keeps ``script``'s checkpoint out of ``output_dir``: a checkpoint another training script wrote there, as its
    metrics.json's command says. ``config.json`` does not name the model's class, so without this check a VAE trained
    with ``--output-dir pretrained/cgan-mnist`` would replace the shipped cGAN, with only a "replacing" line to say so."""
    try:
        command = json.loads((output_dir / METRICS_FILE).read_text())["command"]
        earlier = script_of(command)
    except (OSError, ValueError, TypeError, KeyError, StopIteration):
        return None  # no record of its run (a checkpoint from elsewhere, or none): replaced as before
    if Path(earlier).name == Path(script).name:
        return None
    return (f"it holds a checkpoint that {earlier} wrote (its metrics.json says so), which a {Path(script).name} run "
            "would replace with another kind of model; name another folder, or delete that one first")


def writable_folder(text: str) -> Path:
    """An argparse type: a folder that is there or can be made, and can be written to.

    Checked when the flags are read, since the files go there only once hours of training or measuring are done."""
    if reason := unwritable(Path(text)):
        raise argparse.ArgumentTypeError(reason)
    return Path(text)


def hub_repo_id(text: str) -> str:
    """An argparse type: a valid Hub repo id, so a typo is refused before training rather than at the upload after it."""
    try:
        validate_repo_id(text)
    except HFValidationError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def model_folder_or_repo(text: str) -> str:
    """An argparse type for a model given as a folder or a Hub repo id: a folder becomes its absolute path, so that
    ``pretrained/x``, ``./pretrained/x/`` and the default name the same model (``--resume`` compares them)."""
    return str(Path(text).resolve()) if is_local(text) else text


def seed_int(text: str) -> int:
    value = int(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be in 0 … {MAX_SEED}, got {value}")
    return value


OUTPUT_DIR_HELP = ("where the checkpoint goes, in Hub layout; given none, the run replaces the shipped one: "
                   "name another folder to keep it")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The script's docstring as written, and after each flag's help its default, where there is one to show
    (argparse's ArgumentDefaultsHelpFormatter also writes "default: None" after the flags that are off unless given,
    and an absolute path where the project's own folders are meant)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text, default = action.help or "", action.default
        says_default = "(default:" in text or "%(default)" in text  # the help states this flag's default itself
        if default is None or default is False or default == argparse.SUPPRESS or says_default:
            return text
        if isinstance(default, (str, Path)) and Path(default).is_absolute() and Path(default).is_relative_to(PROJECT_ROOT):
            default = Path(default).relative_to(PROJECT_ROOT)
        return f"{text} (default: {str(default).replace('%', '%%')})"


def add_training_args(parser: argparse.ArgumentParser, *, epochs: int, batch_size: int, lr: float,
                      data: str | None = None, lr_help: str = "learning rate") -> None:
    """The flags every training script has, with the script's own defaults.

    ``data`` is the help of ``--data-root``, saying what the folder must hold; the scripts that render
    their own data (the toy world) have no such flag. ``lr_help`` says which parts ``--lr`` trains, where not all."""
    if data:
        parser.add_argument("--data-root", default=None, help=data)
    parser.add_argument("--epochs", type=positive_int, default=epochs, help="passes over the training set")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size, help="per process")
    parser.add_argument("--lr", type=non_negative_float, default=lr, help=lr_help)
    parser.add_argument("--seed", type=seed_int, default=0, help="seeds the initial weights, the data order and the noise")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: a GPU when there is one")
    parser.add_argument("--run-dir", type=writable_folder, default=None, help="samples, loss curve and resume state (default: the project's runs/<model>)")
    parser.add_argument("--resume", action="store_true", help="continue from the last finished epoch in --run-dir")
    parser.add_argument("--limit-train", type=positive_int, default=None, help="train on the first N training examples only: digits, scenes or (photo denoiser) images (smoke tests)")
    parser.add_argument("--push-to-hub", metavar="REPO", type=hub_repo_id, default=None,
                        help="also upload the checkpoint to this Hub repo")


@dataclass
class History:
    """Losses so far; saved as JSON beside the resume state so a resumed run redraws the full curve."""

    step_loss: list[float] = field(default_factory=list)
    epoch_train_loss: list[float] = field(default_factory=list)
    epoch_eval_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    step_metrics: dict[str, list[float]] = field(default_factory=dict)  # what a step reports beside its loss
    epoch_end_seconds: list[float] = field(default_factory=list)        # training time when each epoch ended
    train_examples: int = 0                                              # examples per epoch, for the card
    resumed: bool = False                                                # some epochs ran after a --resume

    @property
    def epochs_done(self) -> int:
        return len(self.epoch_train_loss)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__))

    @classmethod
    def load(cls, path: Path) -> "History":
        return cls(**json.loads(path.read_text()))


class Objective:
    """How one training step changes the model: owns the optimisers, prepares them with Accelerate, and steps.

    ``step`` returns the step's numbers as tensors: "loss" (the curve's main line and the epoch mean),
    then anything else worth plotting per step (a GAN's D(x) and D(G(z)), say).
    """

    def setup(self, model: torch.nn.Module, accelerator: Accelerator, args: argparse.Namespace, total_steps: int) -> None:
        raise NotImplementedError

    def step(self, batch: tuple, generator: torch.Generator) -> dict[str, torch.Tensor]:
        raise NotImplementedError


class MinimizeLoss(Objective):
    """One loss, one model: AdamW with a one-cycle learning rate up to ``--lr``."""

    def __init__(self, loss_fn: LossFn):
        self.loss_fn = loss_fn

    def setup(self, model, accelerator, args, total_steps):
        optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
        # Accelerate steps the schedule once per process per step, hence the total over all processes' steps.
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=max(total_steps, 1), pct_start=0.15)
        self.model, self.optimizer, self.scheduler = accelerator.prepare(model, optimizer, scheduler)
        self.accelerator = accelerator

    def step(self, batch, generator):
        loss = self.loss_fn(self.model, batch, generator)
        self.optimizer.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        self.optimizer.step()
        self.scheduler.step()
        return {"loss": loss.detach()}


def run_script(main: Callable[[], None]) -> None:
    """The entry point of a training or benchmark script: missing data, a dataset cache that cannot be written or a
    missing checkpoint ends with its message and status 1, not a traceback."""
    sys.stdout.reconfigure(line_buffering=True)  # each epoch's line reaches a log file as it is printed, not at exit
    try:
        main()
    except (FileNotFoundError, CheckpointError, CacheNotWritable) as err:
        raise SystemExit(f"error: {err}") from None
    except KeyboardInterrupt:  # a training run has said what is saved; no traceback from wherever the signal landed
        raise SystemExit(130) from None  # the shell's status for Ctrl-C


def make_accelerator(device: str) -> Accelerator:
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda was asked for, but torch sees no CUDA GPU; use --device auto or cpu")
    # cpu=True also where "auto" finds no GPU: only then does Accelerate join processes that torchrun started on a CPU
    # into one run (gloo); without it each trained alone, all writing the same folders.
    cpu = device == "cpu" or (device == "auto" and not torch.cuda.is_available())
    # A seedable sampler shuffles by (seed, epoch) alone, so a resumed run sees the same batches as an unbroken one.
    return Accelerator(cpu=cpu, dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True))


def bf16_is_fast(device_type: str) -> bool:
    """Whether bfloat16 autocast speeds training up on this hardware.

    Only bf16 arithmetic in hardware pays: a CUDA GPU that supports it, or a CPU with AVX-512 BF16 or AMX.
    Elsewhere oneDNN emulates it: on an AVX-512 Xeon without BF16 a photo-denoiser step took 1.09 s in
    bf16 against 0.27 s in float32, where on an EPYC with AVX-512 BF16 bf16 was 2.7× faster (both timed by
    hand when this default was chosen). ``benchmarks/photo_train_step_speed.py`` times it on any machine: 3.3×
    faster on a Xeon with AMX (``benchmarks/results/photo_train_step_speed.md``).
    """
    if device_type == "cuda":
        return torch.cuda.is_bf16_supported()
    capabilities = torch.cpu.get_capabilities() if hasattr(torch.cpu, "get_capabilities") else {}  # absent from older torch
    return bool(capabilities.get("avx512_bf16") or capabilities.get("amx_bf16"))


def save_loss_curve(history: History, path: Path, eval_label: str = "held-out") -> None:
    """The loss per step and per epoch (log scale when it stays positive); per-step extras in a second panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 2 if history.step_metrics else 1
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 3.5), dpi=100, squeeze=False)
    ax = axes[0, 0]
    steps = torch.arange(1, len(history.step_loss) + 1)
    ax.plot(steps, history.step_loss, lw=0.5, alpha=0.4, label="train (per step)")
    steps_per_epoch = len(history.step_loss) / max(history.epochs_done, 1)
    epoch_ends = [steps_per_epoch * (i + 1) for i in range(history.epochs_done)]
    ax.plot(epoch_ends, history.epoch_train_loss, "o-", label="train (epoch mean)")
    if history.epoch_eval_loss:
        ax.plot(epoch_ends, history.epoch_eval_loss, "s-", label=eval_label)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if min(history.step_loss + history.epoch_eval_loss, default=1.0) > 0:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    if history.step_metrics:
        extra = axes[0, 1]
        for name, values in history.step_metrics.items():
            extra.plot(torch.arange(1, len(values) + 1), values, lw=0.6, alpha=0.8, label=name)
        extra.set_xlabel("step")
        extra.grid(alpha=0.3)
        extra.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def save_sample_grid(images: torch.Tensor, path: Path, nrow: int) -> None:
    from torchvision.utils import save_image

    save_image(images.clamp(0, 1), path, nrow=nrow, padding=2, pad_value=0.5)


def fit(
    build_model: Callable[[], torch.nn.Module],
    train_set: Dataset,
    objective: LossFn | Objective,
    args: argparse.Namespace,
    *,
    sample_fn: SampleFn,
    sample_nrow: int,
    eval_fn: EvalFn | None = None,
    eval_label: str = "held-out",
    run_files: tuple[str, ...] = (),
) -> tuple[torch.nn.Module, History, Accelerator]:
    """Train ``build_model()`` for ``args.epochs`` epochs; returns the unwrapped model, its history and the accelerator.

    The model is built here, after seeding, so its initial weights depend on ``--seed`` alone. A run with
    ``--resume`` continues the saved run only with the same training flags; one without replaces it.

    ``objective`` is a loss ``loss_fn(model, batch, generator)`` returning the mean loss of a batch
    (minimised with ``MinimizeLoss``), or an ``Objective`` that does its own steps (a GAN's two
    players). ``generator`` is the process's seeded RNG for any randomness a step draws (noise,
    latents), so runs repeat exactly. ``sample_fn(model)`` returns images for the per-epoch grid;
    ``eval_fn(model)`` a number per epoch, plotted as ``eval_label`` (a held-out loss by default).
    ``run_files`` names files the script keeps in the run folder beside the state, removed with it when a run
    starts afresh (only then: a run refused before that must leave the earlier run resumable).
    """
    accelerator = make_accelerator(args.device)
    global_batch = args.batch_size * accelerator.num_processes
    if len(train_set) < global_batch:
        raise SystemExit(f"{len(train_set):,} training examples make no full batch of {global_batch:,} "
                         f"(--batch-size {args.batch_size} × {accelerator.num_processes} process(es)): lower --batch-size")
    set_seed(args.seed)
    model = build_model()
    if args.batch_size < 2 and any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules()):
        raise SystemExit("--batch-size 1: this model has batch norm, which needs at least 2 examples per batch")
    run_dir: Path = args.run_dir
    output_dir = getattr(args, "output_dir", None)
    for flag, folder in (("--run-dir", run_dir), ("--output-dir", output_dir)):  # defaults too, not only typed paths
        if folder is not None and (reason := unwritable(folder)):
            raise SystemExit(f"{flag} {folder}: {reason}")
    script = inspect.getfile(build_model)  # the training script, where its model's constructor is written
    if output_dir is not None and (reason := foreign_files(output_dir) or other_scripts_checkpoint(output_dir, script)):
        raise SystemExit(f"--output-dir {output_dir}: {reason}")
    if output_dir is not None and run_dir.resolve().is_relative_to(output_dir.resolve()):  # (the reverse is fine)
        raise SystemExit(f"--run-dir {run_dir} is inside --output-dir {output_dir}: the checkpoint folder (which "
                         "--push-to-hub uploads) must not hold the run's resume state, so give the run another folder")
    if args.limit_train and output_dir is not None and inside_pretrained(output_dir):
        raise SystemExit(f"--limit-train {args.limit_train}: --output-dir {output_dir} is inside {PRETRAINED_DIR}, where "
                         "the shipped checkpoints live; give the smoke run another --output-dir")
    if args.push_to_hub and (problem := hub_login_problem()):
        raise SystemExit(f"--push-to-hub {args.push_to_hub}: the upload after training would fail ({problem}); or "
                         "train without --push-to-hub and upload the folder afterwards with `hf upload`.")
    settings, code = training_settings(args, accelerator.num_processes), project_code()
    if args.resume:
        state_dir = saved_state(run_dir)
        check_resumable(state_dir, settings)
        if changed := changed_code(state_dir):
            accelerator.print(f"--resume: note: the project's code changed since this run was saved ({changed}); "
                              "what runs from here on is the code as it is now")
    elif accelerator.is_main_process:
        start_afresh(run_dir, run_files)
    accelerator.wait_for_everyone()

    objective = objective if isinstance(objective, Objective) else MinimizeLoss(objective)
    # Its sampler shuffles from torch's initial seed, the same on every process.
    loader = accelerator.prepare(DataLoader(train_set, batch_size=args.batch_size, shuffle=True, drop_last=True))
    # Schedules count a step once per process (accelerate steps a prepared scheduler num_processes times per step), and
    # this process's batches, not the whole loader's: those are one more when the batches do not split evenly, and the
    # learning rate never finished its anneal.
    objective.setup(model, accelerator, args, total_steps=args.epochs * len(loader) * accelerator.num_processes)
    if accelerator.num_processes > 1:
        # Every process built the same initial weights; from here on their dropout masks and the like must differ.
        set_seed(args.seed, device_specific=True)  # accelerate's own offset: seed + process index

    history = History()
    if args.resume:
        try:
            restore_state(accelerator, state_dir)
            history = History.load(state_dir / "history.json")
        except torch.OutOfMemoryError:  # a RuntimeError, but the state may be fine: never advise deleting it for this
            raise
        except Exception as err:  # cut, emptied, garbled or another model's: torch's unpickler alone raises EOFError,
            # UnpicklingError, KeyError or IndexError by the bytes it meets
            raise SystemExit(f"--resume: the saved state in {state_dir} cannot be read ({first_line(err)}). Restore it "
                             "from a copy, or start without --resume, which deletes it.") from None
        if history.epochs_done < args.epochs:
            history.resumed = True
            accelerator.print(f"resuming after epoch {history.epochs_done} of {args.epochs}")
        else:  # a finished run: nothing to train; it is measured and published (and pushed) again
            accelerator.print(f"the run's {args.epochs} epoch(s) are done: measuring and publishing it again")
    history.train_examples = len(train_set)

    generator = torch.Generator(device=accelerator.device)
    first_epoch = saved_epochs = history.epochs_done
    try:
        for epoch in range(history.epochs_done, args.epochs):
            # Re-seeding per epoch (and per process) makes a resumed run draw the same noise as an unbroken one.
            generator.manual_seed(args.seed * 100_003 + epoch * 1_009 + accelerator.process_index)
            loader.set_epoch(epoch)
            model.train()
            started = time.perf_counter()
            losses = []
            bar = tqdm(loader, desc=f"epoch {epoch + 1}/{args.epochs}", disable=not accelerator.is_local_main_process, leave=False)
            for batch in bar:
                values = {name: accelerator.reduce(value, reduction="mean").item()
                          for name, value in objective.step(batch, generator).items()}
                bad = next((f"{name} became {value}" for name, value in values.items() if not math.isfinite(value)), None)
                if bad:  # any number a step reports: a GAN's G loss and penalties too, not only D's "loss"
                    raise SystemExit(f"the {bad} in epoch {epoch + 1}, step {len(losses) + 1}: training diverged, "
                                     f"and nothing is published ({saved_epochs} of {args.epochs} epochs are saved in "
                                     f"{run_dir}). Try a lower --lr, or check the flags that weight the loss.")
                losses.append(values.pop("loss"))
                for name, value in values.items():
                    history.step_metrics.setdefault(name, []).append(value)
                bar.set_postfix(loss=f"{losses[-1]:.4f}")
            history.seconds += time.perf_counter() - started
            history.epoch_end_seconds.append(round(history.seconds, 1))
            history.step_loss.extend(losses)
            history.epoch_train_loss.append(sum(losses) / max(len(losses), 1))

            unwrapped = model  # built here, so never wrapped itself: what setup() prepared are its parts or a wrapper of it
            unwrapped.eval()
            if accelerator.is_main_process:
                with torch.inference_mode():
                    if eval_fn is not None:
                        history.epoch_eval_loss.append(eval_fn(unwrapped))
                    save_sample_grid(sample_fn(unwrapped).cpu(), run_dir / "samples" / f"epoch_{epoch + 1:03d}.png", sample_nrow)
                save_loss_curve(history, run_dir / "loss_curve.png", eval_label)
                held_out = f", {eval_label} {history.epoch_eval_loss[-1]:.5f}" if history.epoch_eval_loss else ""
                accelerator.print(f"epoch {epoch + 1}/{args.epochs}: train loss {history.epoch_train_loss[-1]:.5f}{held_out} "
                                  f"({history.seconds:.0f} s so far)")
            save_state(accelerator, run_dir, history, settings, code)
            saved_epochs = history.epochs_done
    except KeyboardInterrupt:
        if saved_epochs:
            accelerator.print(f"\ninterrupted: {saved_epochs} of {args.epochs} epochs are saved in {run_dir}; "
                              "the same command with --resume goes on from there")
        else:  # --resume would find no saved state
            accelerator.print("\ninterrupted in the first epoch, so nothing is saved: run the same command again to start over")
        raise
    if saved_epochs > first_epoch:  # what a Ctrl-C in the measuring that follows would otherwise leave unsaid
        accelerator.print(f"all {args.epochs} epochs are saved in {run_dir}; measuring and publishing (if stopped, the "
                          "same command with --resume does it again)")
    return model, history, accelerator


STATE, PARTIAL_STATE, PREVIOUS_STATE = "state", "state.partial", "state.previous"


def first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def save_state(accelerator: Accelerator, run_dir: Path, history: History, settings: dict, code: dict) -> None:
    """The epoch's weights, optimizer, schedules, random states and history, written beside the last epoch's and
    then swapped in: a run killed while saving keeps the last whole epoch, never epoch N's weights with epoch
    N − 1's history (which ``--resume`` would take for epoch N − 1 and train epoch N again)."""
    partial, previous, state = (run_dir / name for name in (PARTIAL_STATE, PREVIOUS_STATE, STATE))
    if accelerator.is_main_process:
        shutil.rmtree(partial, ignore_errors=True)  # what a kill while saving left
    accelerator.wait_for_everyone()
    accelerator.save_state(str(partial))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        history.save(partial / "history.json")
        (partial / SETTINGS_FILE).write_text(json.dumps(settings, indent=2))
        (partial / CODE_FILE).write_text(json.dumps(code, indent=2))
        shutil.rmtree(previous, ignore_errors=True)
        if state.exists():
            state.rename(previous)
        partial.rename(state)
        shutil.rmtree(previous, ignore_errors=True)
    accelerator.wait_for_everyone()


def restore_state(accelerator: Accelerator, state_dir: Path) -> None:
    """``accelerator.load_state``, then a check that it restored this process's random states: it passes over a
    missing or unreadable random-state file with an info log only, and the run then drew other dropout masks than an
    unbroken one, a different model under a card that says it is the same."""
    accelerator.load_state(str(state_dir))
    path = state_dir / f"{RNG_STATE_NAME}_{accelerator.process_index}.pkl"
    saved = load_accelerate_file(path)  # as accelerate reads it: weights_only, numpy's arrays allowed
    torch_state = saved.get("torch_manual_seed") if isinstance(saved, dict) else None
    if not (isinstance(torch_state, torch.Tensor) and torch.equal(torch.get_rng_state(), torch_state)):
        raise ValueError(f"{path.name} does not hold the random states this run saved")


def saved_state(run_dir: Path) -> Path:
    """The folder of the last whole epoch: ``state``, or ``state.previous`` if a kill came between the two renames."""
    state, previous = run_dir / STATE, run_dir / PREVIOUS_STATE
    return previous if not (state / "history.json").exists() and (previous / "history.json").exists() else state


def training_settings(args: argparse.Namespace, processes: int) -> dict:
    """What a resumed run must share with the run it continues: every flag that shapes training, and the process count.

    The saved schedules and data order depend on them (a one-cycle schedule stores its total steps), so
    resuming with, say, more ``--epochs`` would quietly train the extra epochs at the schedule's final rate.
    """
    flags = {name: value for name, value in vars(args).items() if name not in RESUME_MAY_CHANGE}
    return json.loads(json.dumps(flags | {"processes": processes}, default=str))


def check_resumable(state_dir: Path, settings: dict) -> None:
    """Refuse ``--resume`` without a saved run, or with flags other than the saved run's, naming the differences."""
    if not (state_dir / "history.json").exists():
        raise SystemExit(f"--resume: no saved state in {state_dir}; start without --resume")
    saved_file = state_dir / SETTINGS_FILE
    try:
        saved = json.loads(saved_file.read_text())
    except (OSError, ValueError) as err:  # without it, any flag would pass: a run with another --lr, say, went on
        raise SystemExit(f"--resume: {saved_file} cannot be read ({first_line(err)}), so the run's flags cannot be "
                         "checked. Start without --resume.") from None
    changed = [f"{name}: {saved.get(name)!r} then, {settings.get(name)!r} now"
               for name in sorted(saved.keys() | settings.keys()) if saved.get(name) != settings.get(name)]
    if changed:
        advice = ("A setting only one of the two has means another script's run, or one saved before this script "
                  "changed: start a new run without --resume, or give another --run-dir."
                  if saved.keys() ^ settings.keys() else "Resume with the same flags, or start a new run without --resume.")
        raise SystemExit(f"--resume: the run in {state_dir.parent} was started with other settings ({'; '.join(changed)}). "
                         f"{advice}")


def changed_code(state_dir: Path) -> str:
    """The saved run's modules (``project_code()`` when it started) that differ now, edited or gone, named; "" when
    none do, or when the run was saved before its code was recorded. Flags are checked on ``--resume``; this says
    when the code changed too (after a ``git pull``, say). A note, not a refusal: a fix to, say, the plotting should
    not strand a run."""
    try:
        saved = json.loads((state_dir / CODE_FILE).read_text())
    except (OSError, ValueError):
        return ""
    if not isinstance(saved, dict):
        return ""
    changed = [name for name, saved_hash in saved.items() if file_hash(PROJECT_ROOT / name) != saved_hash]
    shown = ", ".join(changed[:5])
    return shown + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")


def start_afresh(run_dir: Path, run_files: tuple[str, ...] = ()) -> None:
    """A run without ``--resume`` replaces an earlier run's state, sample grids and ``run_files`` in ``run_dir``, so
    that neither a later ``--resume`` nor the published sample grid can pick up the earlier run's files. Only files
    a run writes go: ``run_dir`` may be a folder of the user's."""
    for earlier in (run_dir / name for name in (STATE, PARTIAL_STATE, PREVIOUS_STATE)):
        if earlier.exists():
            print(f"starting a new run: removing the earlier run's {earlier}")
            shutil.rmtree(earlier)
    for earlier in (run_dir / name for name in run_files):
        if earlier.exists():
            print(f"starting a new run: removing the earlier run's {earlier}")
            earlier.unlink()
    grids = sorted((run_dir / "samples").glob("epoch_*.png"))
    if grids:
        print(f"starting a new run: removing the earlier run's {len(grids)} sample grid(s) from {run_dir / 'samples'}")
    for grid in grids:
        grid.unlink()
    (run_dir / "samples").mkdir(parents=True, exist_ok=True)
