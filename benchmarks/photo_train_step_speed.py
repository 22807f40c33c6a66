"""Time of one photo-denoiser training step in float32 and under bfloat16 autocast, on this CPU.

    python benchmarks/photo_train_step_speed.py
    python benchmarks/photo_train_step_speed.py --repeats 2 --out-dir /tmp/step-quick   # quick check

`training/train_photo_denoiser.py` turns bf16 autocast on by default only where the hardware computes in bf16
(`training.loop.bf16_is_fast`: a CPU with AVX-512 BF16 or AMX): elsewhere oneDNN emulates bf16 and a step is
slower than in float32. This measures both on the machine it runs on, with the training script's own loss
(random patches, flips, noise, σ weighting) on random 180×180 images the size of Train400's, the shipped
checkpoint's shape and the script's batch and patch sizes, and says whether the default picks the faster one.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import RESULTS_DIR, describe, load_conditions, model_label, run_info, timed_ms, write_results  # noqa: E402
from generative.checkpoints import PHOTO_DENOISER  # noqa: E402
from generative.models import PhotoDenoiser  # noqa: E402
from training import train_photo_denoiser as script  # noqa: E402
from training.loop import bf16_is_fast, non_negative_int, positive_int, run_script, writable_folder  # noqa: E402

TRAIN400_SIDE = 180


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=PHOTO_DENOISER.source(), help="checkpoint folder or Hub repo id whose shape is timed")
    parser.add_argument("--repeats", type=positive_int, default=10)
    parser.add_argument("--warmup", type=non_negative_int, default=2)
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    return parser.parse_args(argv)


def cpu_bf16_capabilities() -> dict:
    """The CPU features oneDNN uses for bf16 arithmetic (empty on torch versions without ``get_capabilities``)."""
    capabilities = torch.cpu.get_capabilities() if hasattr(torch.cpu, "get_capabilities") else {}
    return {name: bool(capabilities.get(name)) for name in ("avx512_f", "avx512_bf16", "amx_bf16")}


def training_step(width: int, depth: int, bf16: bool, seed: int = 0):
    """One optimiser step of the training script's loss on a fresh model (a closure), the model, and the script's settings."""
    args = script.parse_args(["--width", str(width), "--depth", str(depth), "--sigma-weight-power", "1",
                              "--bf16" if bf16 else "--no-bf16"])
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand((args.batch_size, 1, TRAIN400_SIDE, TRAIN400_SIDE), generator=generator)
    loss_fn = script.make_denoising_loss(images, args)
    model = PhotoDenoiser(width=width, depth=depth).train().to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    batch = (torch.arange(args.batch_size),)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model, batch, generator).backward()
        optimizer.step()

    return step, model, args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = run_info(__file__, argv)
    shape = PHOTO_DENOISER.load(args.model)
    timings = {}
    for bf16 in (False, True):
        step, _, step_args = training_step(shape.width, shape.depth, bf16)
        timings["bfloat16 autocast" if bf16 else "float32"] = timed_ms(step, args.repeats, args.warmup, f"bf16={bf16}")
    float32_ms, bf16_ms = (timings[name]["median_ms"] for name in ("float32", "bfloat16 autocast"))
    default_bf16 = bf16_is_fast("cpu")
    report = info | {"model": model_label(args.model), "width": shape.width, "depth": shape.depth,
                     "batch_size": step_args.batch_size, "patch_size": step_args.patch_size,
                     "cpu_capabilities": cpu_bf16_capabilities(), "timings": timings,
                     "bf16_speedup": float32_ms / bf16_ms, "default_is_bf16": default_bf16,
                     "default_is_faster": default_bf16 == (bf16_ms < float32_ms), "load_at_end": load_conditions()}
    capabilities = ", ".join(f"{name} {'yes' if present else 'no'}" for name, present in report["cpu_capabilities"].items())
    rows = "\n".join(f"| {name} | {t['median_ms'] / 1e3:.3f} | {t['p90_ms'] / 1e3:.3f} | {t['repeats']} |"
                     for name, t in timings.items())
    markdown = f"""# Photo denoiser training step, float32 against bfloat16 autocast (CPU)

{describe(report)}
- Step: `{report['model']}`'s shape (width {shape.width}, depth {shape.depth}), batch {step_args.batch_size} of
  {step_args.patch_size}×{step_args.patch_size} patches, the training script's loss, AdamW; forward, backward and update.
- CPU features for bf16: {capabilities}.

| precision | median (s) | 90th percentile (s) | steps |
|---|---|---|---|
{rows}

- bf16 autocast is **{report['bf16_speedup']:.2f}×** as fast as float32 here. The training script's default on this
  machine is {'bf16' if default_bf16 else 'float32'}: {'the faster one' if report['default_is_faster'] else 'NOT the faster one'}.
"""
    write_results("photo_train_step_speed", report, markdown, args.out_dir)
    print(markdown)


if __name__ == "__main__":
    run_script(main)
