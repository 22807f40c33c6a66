"""What a finished training run publishes: its metrics record, the model card's shared parts, and the folder
in Hub layout (config.json + model.safetensors, card, metrics, loss curve and samples), uploaded on request.

Every script writes its own card text around these parts, so the cards agree on how a run is described.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
from pathlib import Path

import torch
from accelerate import Accelerator
from safetensors.torch import save_file

from generative.file_modes import give_usual_mode
from generative.hub import WEIGHTS_FILE, push_folder_to_hub
from generative.provenance import PROJECT_ROOT, command_line, cpu_model
from training.loop import History


def describe_hardware(accelerator: Accelerator) -> str:
    """A human line for the model card, e.g. '1 × NVIDIA H100' or 'CPU, 1 process(es), 2 threads (AMD EPYC ...)'."""
    n = accelerator.num_processes
    if accelerator.device.type == "cuda":
        return f"{n} × {torch.cuda.get_device_name(accelerator.device)}"
    return f"CPU, {n} process(es), {torch.get_num_threads()} threads ({cpu_model()})"


def format_minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


RESUMED_NOTE = ("\n- **Resumed:** the run was interrupted and continued with `--resume`, which ends with the same weights "
                "as an unbroken run on the CPU (a test checks it; on a GPU, close to them); the time is the sum of "
                "its parts.")


USE_NOTE = ("Run it in the root of the gallery's code (a checkout of its repository, or its Space's files), where "
            "`generative/` imports and the paths below exist; a model's repo on the Hub holds its weights, settings, "
            "metrics, pictures and this card, not the code. A source written as `namespace/name` that is not a folder "
            "there is read as a Hub repo id.")


SNIPPET_FOLDER = re.compile(r'load_model\(\w+, "([^"]+)"')  # the first model a card's snippet loads: the card's own


def use_section(usage: str, output_dir: Path) -> str:
    """A card's "Use" section: where its snippet runs, then the snippet. The card is also the model's page on the Hub,
    whose repo has the weights but not the code that reads them. The snippet loads the folder the script writes by
    default; a checkpoint written to another ``output_dir`` is told where it is, or the snippet, followed as written,
    loads the shipped model instead of the one its card describes."""
    snippet_folder = SNIPPET_FOLDER.search(usage).group(1)
    written = Path(os.path.abspath(output_dir))
    shown = written.relative_to(PROJECT_ROOT) if written.is_relative_to(PROJECT_ROOT) else written
    elsewhere = ("" if shown == Path(snippet_folder) else
                 f" This checkpoint was written to `{shown}`: give that folder (or the Hub repo it was pushed to) to "
                 f"`load_model` in place of `{snippet_folder}`, the gallery's own.")
    return f"## Use\n\n{USE_NOTE}{elsewhere}\n\n{usage}"


def card_front_matter(tags: list[str], metrics: tuple[str, ...] = (), datasets: tuple[str, ...] = ("mnist",)) -> str:
    """The YAML header of a gallery model card on the Hub: library, licence, data (Hub dataset ids), tags, metric names."""
    lines = ["---", "library_name: generative-gallery", "license: mit",
             *(["datasets:", *(f"- {name}" for name in datasets)] if datasets else []), "tags:",
             *(f"- {tag}" for tag in [*tags, "model_hub_mixin", "pytorch_model_hub_mixin"])]
    if metrics:
        lines += ["metrics:", *(f"- {name}" for name in metrics)]
    return "\n".join([*lines, "---"])


def batch_words(metrics: dict, args: argparse.Namespace) -> str:
    """The batch a card states: ``--batch-size`` is per process, so a data-parallel run's batch is that many times larger."""
    processes = metrics.get("processes", 1)
    if processes == 1:
        return f"batch {args.batch_size}"
    return f"batch {args.batch_size} per process × {processes} processes ({args.batch_size * processes} in all)"


def card_run_lines(metrics: dict, args: argparse.Namespace) -> str:
    """The card's optimiser and training-time bullets, from the shared flags and ``run_record``."""
    return (f"- **Optimiser:** AdamW, one-cycle learning rate up to {args.lr}, {batch_words(metrics, args)}, "
            f"{args.epochs} epochs, seed {args.seed}.\n"
            f"- **Training time:** {format_minutes(metrics['train_seconds'])} on {metrics['hardware']}."
            f"{RESUMED_NOTE if metrics['resumed'] else ''}")


def card_command_and_pictures(metrics: dict, loss_caption: str, samples_caption: str) -> str:
    """The command that reproduces the run, then the loss curve and sample grid that ``publish`` copies beside the card."""
    return f"Command:\n\n```\n{metrics['command']}\n```\n\n![{loss_caption}](loss_curve.png)\n\n![{samples_caption}](samples.png)"


def run_record(model: torch.nn.Module, history: History, accelerator: Accelerator, args: argparse.Namespace,
               script: str, argv: list[str]) -> dict:
    """What every model card states about its run: size, length, time, hardware and the command that reproduces it,
    and the per-epoch losses, so that a README can quote how a run went after its run folder is gone."""
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_examples": history.train_examples,
        "epochs": args.epochs,
        "train_seconds": round(history.seconds, 1),
        "hardware": describe_hardware(accelerator),
        "command": command_line(script, [arg for arg in argv if arg != "--resume"],  # --resume needs the run's state
                                accelerator.num_processes),
        "processes": accelerator.num_processes,
        "resumed": history.resumed,
        "final_train_loss": history.epoch_train_loss[-1],
        "final_held_out_loss": history.epoch_eval_loss[-1] if history.epoch_eval_loss else None,
        "train_loss_per_epoch": history.epoch_train_loss,
        "held_out_loss_per_epoch": history.epoch_eval_loss or None,
    }


def last_sample_grid(folder: Path) -> Path:
    """The grid of the last epoch, by number: by name, epoch_999.png comes after epoch_1000.png."""
    return max(folder.glob("epoch_*.png"), key=lambda grid: int(grid.stem.removeprefix("epoch_")))


def publish(model: torch.nn.Module, args: argparse.Namespace, *, card: str, metrics: dict,
            tensors: dict[str, dict[str, torch.Tensor]] | None = None, samples: Path | None = None) -> None:
    """Write ``args.output_dir`` in Hub layout and upload it when ``--push-to-hub`` asks.

    The folder holds config.json + model.safetensors, the model card and its measured metrics, and
    the run's final loss curve and the picture ``samples`` (default: the last epoch's sample grid), which the card
    shows (tens of kB), and any extra ``tensors`` files (name → tensors, written as safetensors) a demo needs
    beside the weights. The card is written first because ``save_pretrained`` only writes its generic card when
    there is no README.md yet.
    """
    out_dir, run_dir = args.output_dir, args.run_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / WEIGHTS_FILE).exists():
        print(f"replacing the earlier checkpoint in {out_dir}")
    for stale in sorted(set(out_dir.glob("*.safetensors")) - {out_dir / name for name in [WEIGHTS_FILE, *(tensors or {})]}):
        print(f"removing the earlier checkpoint's {stale.name}, which this one does not have")  # nor should upload
        stale.unlink()
    (out_dir / "README.md").write_text(card)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    shutil.copyfile(run_dir / "loss_curve.png", out_dir / "loss_curve.png")
    shutil.copyfile(samples or last_sample_grid(run_dir / "samples"), out_dir / "samples.png")
    for name, file_tensors in (tensors or {}).items():
        save_file({key: value.contiguous() for key, value in file_tensors.items()}, str(out_dir / name))
    model.save_pretrained(out_dir)
    give_usual_mode(*out_dir.glob("*.safetensors"))
    print(f"saved {out_dir}")
    if args.push_to_hub and not push_folder_to_hub(out_dir, args.push_to_hub):
        raise SystemExit(1)  # the checkpoint is written; the message above says why the upload failed
