"""Train the blind photo denoiser on Train400 and write pretrained/photo-denoiser/.

    python training/train_photo_denoiser.py --data-root ../shared/datasets   # stage 1 of the nine the shipped model took (its card)
    python training/train_photo_denoiser.py --init-from pretrained/photo-denoiser --lr 5e-4 --epochs 26   # a second stage
    python training/train_photo_denoiser.py --init-from pretrained/photo-denoiser --add-layers 1 --lr 3e-4   # one layer deeper
    accelerate launch --multi_gpu --num_processes 4 training/train_photo_denoiser.py   # data-parallel

Every step draws fresh random patches from the 384 training images (the last 16 of Train400 are held
out), turns each by one of the eight flips and rotations, and adds white Gaussian noise of its own σ,
uniform in [--min-sigma, --max-sigma] (default [0, 55]) on the 0–255 scale: one blind model for every level
(with --min-sigma equal to --max-sigma, a model for that one level, as DnCNN-S). At the end the model is
measured on the held-out images (PSNR per σ, what training settings are compared by) and on BSD68 and
Set12 at σ = 15, 25, 50 with the published protocol (generative/photo.py); the script uses these test sets for
nothing else (where they guided the shipped model's stages, its card says beside them).

``--init-from`` starts from a trained checkpoint's weights with a fresh one-cycle schedule, so a long
schedule can run in stages that each fit a session; the card lists every stage's command and time.
``--add-layers`` makes such a stage deeper without losing what was learnt (see PhotoDenoiser.deepened).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch.utils.data import TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from generative.checkpoints import PHOTO_DENOISER  # noqa: E402
from generative.data.mnist import DATA_ROOT_ENV  # noqa: E402
from generative.data.photo_sets import GRAY_TEST_SETS, VALIDATION_IMAGES, load_photo_set, load_train400  # noqa: E402
from generative.hub import load_metrics  # noqa: E402
from generative.models import PhotoDenoiser  # noqa: E402
from generative.photo import PUBLISHED_BSD68_PSNR, PUBLISHED_PSNR, PUBLISHED_SET12_PSNR, add_white_noise, beats_at_every_sigma, denoise_photo, psnr_8bit  # noqa: E402
from generative.provenance import script_arguments  # noqa: E402
from training.cards import (  # noqa: E402
    card_command_and_pictures, card_front_matter, card_run_lines, format_minutes, publish, run_record, use_section)
from training.loop import (  # noqa: E402
    OUTPUT_DIR_HELP, PRETRAINED_DIR, RUNS_DIR, HelpFormatter, add_training_args, bf16_is_fast, fit,
    model_folder_or_repo, non_negative_float, positive_int, run_script, saved_state, writable_folder)

TEST_SIGMAS = (15, 25, 50)
GRID_CROP = 96
HELD_OUT_NOISE_DRAWS = 8
SIGMA_FLOOR = 5.0  # added to σ in the loss weight, so that nearly clean patches do not take over


USAGE = """```python
import numpy as np
from PIL import Image

from generative.hub import load_model
from generative.models import PhotoDenoiser
from generative.photo import add_white_noise, denoise_photo, psnr_8bit

model = load_model(PhotoDenoiser, "pretrained/photo-denoiser", train_command="python training/train_photo_denoiser.py")
clean = np.asarray(Image.open("demos/examples/photos/chelsea-cat.png").convert("RGB"))  # uint8 (H, W, 3); grey (H, W) too
noisy = add_white_noise(clean, sigma=25, seed=0)  # float: clean / 255 plus Gaussian noise of σ = 25 on the 0–255 scale
denoised = denoise_photo(model, noisy)  # same shape, float, not clipped (generative.photo.to_uint8 makes it 8-bit)
print(f"PSNR: noisy {psnr_8bit(clean, noisy):.2f} dB, denoised {psnr_8bit(clean, denoised):.2f} dB")
```"""  # the model card's "Use" section; tests run it


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    add_training_args(parser, epochs=20, batch_size=64, lr=1e-3,
                      data=f"folder with denoising/Train400, BSD68 and Set12 (default: ${DATA_ROOT_ENV}; never downloaded)")
    parser.add_argument("--patches-per-image", type=positive_int, default=128, help="random patches per training image per epoch")
    parser.add_argument("--patch-size", type=positive_int, default=64, help="even, in pixels")
    parser.add_argument("--max-sigma", type=float, default=55.0, help="noise σ is drawn uniformly from [--min-sigma, this] (0–255 scale)")
    parser.add_argument("--min-sigma", type=float, default=0.0,
                        help="lower end of the σ range (0–255 scale); equal to --max-sigma, a model for that one level, "
                             "as DnCNN-S has, to measure what blindness costs")
    parser.add_argument("--sigma-weight-power", type=non_negative_float, default=0.0, metavar="P",
                        help="divide each patch's squared error by (σ + 5)^P (0–255 scale). 0: plain MSE, in which the "
                             "noisiest patches dominate since the error grows with σ; 1: every level counts about as "
                             "much as it does in a mean of PSNRs")
    parser.add_argument("--width", type=positive_int, default=48, help="channels of every hidden convolution")
    parser.add_argument("--depth", type=positive_int, default=10, help="number of 3×3 convolutions")
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                        help="bfloat16 autocast for the training steps (default: where the GPU or CPU has bf16 arithmetic; "
                             "3.3× faster on a Xeon with AMX, 4× slower on one without bf16: benchmarks/photo_train_step_speed.py)")
    parser.add_argument("--init-from", metavar="CHECKPOINT", type=model_folder_or_repo, default=None,
                        help="folder or Hub repo of a trained photo denoiser to start from (its width and depth are kept, up to --add-layers)")
    parser.add_argument("--add-layers", type=int, default=0, metavar="N",
                        help="with --init-from: insert N hidden convolutions that start as the identity (Net2Net), "
                             "so training goes on from the trained function with more capacity")
    parser.add_argument("--output-dir", type=writable_folder, default=PRETRAINED_DIR / "photo-denoiser", help=OUTPUT_DIR_HELP)
    parser.add_argument("--eval-limit", type=positive_int, default=None, help="measure on the first N images of each test set only (smoke tests)")
    args = parser.parse_args(argv)
    if args.patch_size % 2:
        parser.error("--patch-size must be even (the model works on 2×2 cells)")
    if args.add_layers < 0:
        parser.error("--add-layers must be ≥ 0")
    if args.add_layers and not args.init_from:
        parser.error("--add-layers deepens a trained checkpoint: give it with --init-from")
    if not 0 < args.max_sigma <= 255:
        parser.error(f"--max-sigma must be in (0, 255] on the 0–255 scale, got {args.max_sigma:g}")
    if not 0 <= args.min_sigma <= args.max_sigma:
        parser.error(f"--min-sigma must be in [0, --max-sigma] = [0, {args.max_sigma:g}], got {args.min_sigma:g}")
    args.run_dir = args.run_dir or RUNS_DIR / "photo-denoiser"
    if args.bf16 is None:
        args.bf16 = bf16_is_fast("cuda" if args.device != "cpu" and torch.cuda.is_available() else "cpu")
    return args


def random_patches(images: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """One random ``size``×``size`` crop of each (1, H, W) image, turned by a random one of the eight flips and rotations."""
    n, height, width = len(images), images.shape[-2], images.shape[-1]

    def draw(high: int) -> list[int]:
        return torch.randint(high, (n,), generator=generator, device=generator.device).tolist()

    patches = []
    for image, top, left, turns, flip in zip(images, draw(height - size + 1), draw(width - size + 1), draw(4), draw(2)):
        patch = torch.rot90(image[:, top:top + size, left:left + size], turns, dims=(1, 2))
        patches.append(patch.flip(2) if flip else patch)
    return torch.stack(patches)


def make_denoising_loss(train_images: torch.Tensor, args: argparse.Namespace):
    """The loss of a batch of image indices: MSE between the denoised patches and the clean ones.

    Since the model outputs noisy − predicted noise, this is DnCNN's residual loss ‖n̂ − n‖² (per pixel).
    A denoiser's squared error grows about in proportion to σ, so in a plain mean the σ = 50 patches
    weigh about three times as much as the σ = 15 ones, while PSNR, a log, counts every level alike;
    ``--sigma-weight-power 1`` divides each patch's error by σ + 5 (renormalised over the batch) to undo that.
    """
    def denoising_loss(model, batch, generator):
        device = batch[0].device
        clean = random_patches(train_images[batch[0].cpu()], args.patch_size, generator).to(device)
        uniform = torch.rand((len(clean), 1, 1, 1), generator=generator, device=generator.device).to(device)
        sigma = (args.min_sigma + uniform * (args.max_sigma - args.min_sigma)) / 255
        noisy = clean + sigma * torch.randn(clean.shape, generator=generator, device=generator.device).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            denoised = model(noisy)
        patch_mse = (denoised.float() - clean).pow(2).mean(dim=(1, 2, 3))
        weight = (sigma.flatten() * 255 + SIGMA_FLOOR) ** -args.sigma_weight_power
        return (patch_mse * weight).sum() / weight.sum()

    return denoising_loss


def mean_psnr(model: PhotoDenoiser, images: list[np.ndarray], sigma: float, seed: int = 0) -> tuple[float, float]:
    """Mean PSNR (dB) of the noisy inputs and of the model's outputs, image ``i`` with noise seed ``seed + i``."""
    noisy = [add_white_noise(image, sigma, seed + i) for i, image in enumerate(images)]
    return (float(np.mean([psnr_8bit(c, x) for c, x in zip(images, noisy)])),
            float(np.mean([psnr_8bit(c, denoise_photo(model, x)) for c, x in zip(images, noisy)])))


def held_out_psnr(model: PhotoDenoiser, images: list[np.ndarray], draws: int = HELD_OUT_NOISE_DRAWS) -> dict[str, float]:
    """Mean PSNR (dB) per test σ on the held-out Train400 images, over ``draws`` noise draws each.

    This is what training settings are meant to be chosen by, not the test sets (the shipped model's stages 1–3
    predate it: see its card). Several draws because 16 small images alone leave differences of a few hundredths of
    a dB in the noise.
    """
    return {str(sigma): round(float(np.mean([mean_psnr(model, images, sigma, seed=1000 * draw)[1] for draw in range(draws)])), 3)
            for sigma in TEST_SIGMAS}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    train_uint8, val_uint8 = load_train400(args.data_root)
    if args.patch_size > min(train_uint8.shape[1:]):
        raise SystemExit(f"error: --patch-size {args.patch_size} is larger than the "
                         f"{train_uint8.shape[2]}×{train_uint8.shape[1]} training images")
    # The test sets are read now, so a missing one stops the run before training rather than after it.
    test_sets = {name: list(load_photo_set(name, args.data_root).values())[: args.eval_limit] for name in GRAY_TEST_SETS}
    available = len(train_uint8)
    if args.limit_train:
        train_uint8 = train_uint8[: args.limit_train]
    train_images = torch.from_numpy(train_uint8).float().div_(255).unsqueeze(1)
    val_images = torch.from_numpy(val_uint8).float().div_(255).unsqueeze(1)
    val_noise = torch.randn(val_images.shape, generator=torch.Generator().manual_seed(1))
    val_sigmas = torch.tensor(TEST_SIGMAS).repeat(VALIDATION_IMAGES)[:len(val_images)].view(-1, 1, 1, 1) / 255
    crops = val_images[:4, :, :GRID_CROP, :GRID_CROP]
    grid_noisy = [crops + sigma / 255 * val_noise[:4, :, :GRID_CROP, :GRID_CROP] for sigma in (25, 50)]

    def on_model(model, noisy: torch.Tensor) -> torch.Tensor:
        """The model's output for CPU images, on the CPU, wherever the model sits."""
        return model(noisy.to(next(model.parameters()).device)).cpu()

    def held_out_loss(model) -> float:
        return F.mse_loss(on_model(model, val_images + val_sigmas * val_noise), val_images).item()

    def sample_grid(model) -> torch.Tensor:
        """Row 1: clean crops of held-out images; then noisy (σ = 25, 50) rows, each followed by its denoised row."""
        rows = [crops]
        for noisy in grid_noisy:
            rows += [noisy, on_model(model, noisy)]
        return torch.cat(rows)

    earlier_stages = []
    if args.init_from:
        earlier_stages, added_layers = training_stages(load_metrics(args.init_from) or {}), args.add_layers
        start = PHOTO_DENOISER.load(args.init_from)
        if args.resume and earlier_stages and has_saved_weights(start, args.run_dir):
            # --init-from is where the finished run published itself (its own --output-dir, as the README's stages
            # have it): it holds this stage, already deepened (the saved state replaces its weights)
            earlier_stages, added_layers = earlier_stages[:-1], 0
        warm_start = start.deepened(added_layers)
        args.width, args.depth = warm_start.width, warm_start.depth
        if note := reused_seed_note(earlier_stages, args.seed):
            print(note, file=sys.stderr)

    def build_model() -> PhotoDenoiser:
        # Channels-last weights let oneDNN pick faster convolution kernels: 1.4× per bf16 CPU step on an EPYC.
        model = warm_start if args.init_from else PhotoDenoiser(width=args.width, depth=args.depth)
        return model.train().to(memory_format=torch.channels_last)

    dataset = TensorDataset(torch.arange(len(train_images)).repeat(args.patches_per_image))
    model, history, accelerator = fit(build_model, dataset,
                                      make_denoising_loss(train_images, args), args,
                                      sample_fn=sample_grid, sample_nrow=4, eval_fn=held_out_loss,
                                      eval_label="held-out MSE (16 Train400 images, σ 15/25/50)")
    if not accelerator.is_main_process:
        return

    model = model.float().cpu().eval().to(memory_format=torch.contiguous_format)  # safetensors stores contiguous tensors
    results = []
    for name, images in test_sets.items():
        for sigma in TEST_SIGMAS:
            noisy_psnr, model_psnr = mean_psnr(model, images, sigma)
            results.append({"set": name, "sigma": sigma, "n_images": len(images), "noisy_psnr": noisy_psnr, "psnr": model_psnr})
            print(f"{name:>6} σ={sigma:<3} noisy {noisy_psnr:6.2f} dB  model {model_psnr:6.2f} dB")
    held_out = held_out_psnr(model, list(val_uint8))
    print("held-out Train400 " + "  ".join(f"σ={sigma} {psnr:.3f} dB" for sigma, psnr in held_out.items()))
    metrics = {"denoising": results, "noise_seed": "image i of a set gets seed i", "held_out_psnr": held_out,
               "min_sigma": args.min_sigma, "max_sigma": args.max_sigma, "sigma_weight_power": args.sigma_weight_power,
               "train_images": len(train_images), "train_images_available": available} | run_record(model, history, accelerator, args, __file__, argv)
    metrics["stages"] = earlier_stages + training_stages(metrics)
    metrics["total_epochs"] = sum(stage["epochs"] for stage in metrics["stages"])
    metrics["total_train_seconds"] = round(sum(stage["train_seconds"] for stage in metrics["stages"]), 1)
    publish(model, args, card=model_card(metrics, args), metrics=metrics)


def has_saved_weights(model: PhotoDenoiser, run_dir: Path) -> bool:
    """Whether ``model`` has the weights saved in ``run_dir``'s resume state, tensor for tensor: then it is what that
    run published. Its command line could not say so: a resume may add ``--device`` or ``--eval-limit``, or give the
    flags in another order, and a stage may repeat the flags of the one before."""
    try:  # accelerate's name for the first model's weights; a data-parallel run's are named module.…
        saved = {name.removeprefix("module."): tensor for name, tensor in
                 load_file(saved_state(run_dir) / "model.safetensors").items()}
    except (OSError, SafetensorError):  # no state, or a damaged one, which fit refuses by name next
        return False
    own = model.state_dict()
    return saved.keys() == own.keys() and all(torch.equal(saved[name], own[name]) for name in own)


def reused_seed_note(earlier_stages: list[dict], seed: int) -> str | None:
    """A warning when a stage before ran with this ``--seed``: patches, flips and noise are drawn from the seed and the
    epoch alone, so this stage would see the very samples of that stage's first epochs again."""
    seed_only = argparse.ArgumentParser(add_help=False)
    seed_only.add_argument("--seed", type=int, default=parse_args([]).seed)
    same = [str(number) for number, stage in enumerate(earlier_stages, 1)
            if seed_only.parse_known_args(script_arguments(stage["command"]))[0].seed == seed]
    if not same:
        return None
    return (f"note: stage{'s' * (len(same) > 1)} {', '.join(same)} of the checkpoint this run starts from also ran with "
            f"--seed {seed}, so this stage draws, epoch for epoch, the same patches, flips and noise (with the same data "
            "flags); pass another --seed for fresh ones")


def training_stages(metrics: dict) -> list[dict]:
    """The runs that made a checkpoint, oldest first: its own ``stages``, or the single run its metrics describe."""
    if "stages" in metrics:
        return metrics["stages"]
    if "command" not in metrics:
        return []
    return [{key: metrics[key] for key in ("command", "epochs", "train_seconds", "hardware")}]


def stages_section(metrics: dict) -> str:
    """For a checkpoint trained in stages: every stage's command and time, and the totals.

    A stage's ``note`` in metrics.json (written by hand afterwards: how the stage was judged, say) follows its line,
    and travels with the stages into the card of every later stage trained from this checkpoint. Its
    ``guided_by``, also by hand (the test sets whose scores judged it or decided that it ran), travels with it in
    metrics.json, where the tab's caution reads it."""
    stages = metrics["stages"]
    if len(stages) < 2:
        return ""
    lines = "\n".join(f"{i}. `{s['command']}`: {s['epochs']} epochs, {format_minutes(s['train_seconds'])} on {s['hardware']}"
                      + (f". {s['note']}" if s.get("note") else "") for i, s in enumerate(stages, 1))
    copied = (" A stage with `--output-dir runs/…` was copied into the checkpoint folder (`cp runs/stageN/model/* "
              "pretrained/photo-denoiser/`) once its held-out PSNR beat the stage before, so the next one started from it."
              if any("--output-dir runs/" in s["command"] for s in stages) else "")
    return (f"\n**Trained in {len(stages)} stages** (each later one starts from the weights of the one before, "
            f"with `--init-from` and a fresh one-cycle schedule), {metrics['total_epochs']} epochs and "
            f"{format_minutes(metrics['total_train_seconds'])} in all:\n\n{lines}\n\n"
            f"The loss curve and samples below are the last stage's.{copied}\n")


def published(method: str, result: dict) -> str:
    value = PUBLISHED_PSNR.get(result["set"], {}).get(method, {}).get(result["sigma"])
    return "—" if value is None else f"{value:.2f}"


def full_set(metrics: dict, name: str, size: int) -> dict[int, float]:
    """PSNR per σ on the whole of a test set (a run with ``--eval-limit`` measures only part of it)."""
    return {r["sigma"]: r["psnr"] for r in metrics["denoising"] if r["set"] == name and r["n_images"] == size}


def goals_line(metrics: dict) -> str:
    """The issue's goals, judged on the full BSD68 rows: above published BM3D at every σ, DnCNN-S at σ = 25."""
    bsd = full_set(metrics, "BSD68", 68)
    if not bsd:
        return ""
    beats = beats_at_every_sigma(bsd, PUBLISHED_BSD68_PSNR["BM3D"])
    reaches = bsd.get(25, 0) >= PUBLISHED_BSD68_PSNR["DnCNN-S"][25]
    return (f"\nAgainst published BM3D on BSD68: {margins_words(beats['margin_db'])}. Goals: beat published BM3D at every σ — "
            f"**{'met' if beats['met'] else 'not met'}**; reach DnCNN-S at σ = 25 — **{'met' if reaches else 'not met'}**."
            f"{set12_words(full_set(metrics, 'Set12', 12))} Against BM3D run here: `benchmarks/results/photo_denoise_quality.md`, whose figures `python benchmarks/card_figures.py` copies into this card.\n")


def set12_words(set12: dict[int, float]) -> str:
    """The card's sentence on Set12, where the goals are not judged: a learner should not read BSD68's win as general."""
    margins = beats_at_every_sigma(set12, PUBLISHED_SET12_PSNR["BM3D"])["margin_db"]
    if not margins:
        return ""
    where = ("behind it at every σ" if all(m > 0 for m in margins.values()) else
             "ahead at every σ" if all(m < 0 for m in margins.values()) else "ahead at some σ")
    return f" On Set12 published BM3D is {where}: {margins_words(margins)} (the goals are judged on BSD68)."


def margins_words(margin_db: dict[int, float]) -> str:
    """The card's margins per σ: "+0.18 dB at σ = 15, +0.24 dB at σ = 25, …"."""
    return ", ".join(f"{margin:+.2f} dB at σ = {sigma}" for sigma, margin in sorted(margin_db.items()))


def limited_words(metrics: dict) -> str:
    """The card's note for a ``--limit-train`` run that used fewer of the training images than the card otherwise says."""
    used, available = metrics["train_images"], metrics["train_images_available"]
    return f"; this run trained on the first {used} of the other {available} only (`--limit-train`)" if used < available else ""


def sigma_draw_words(args: argparse.Namespace) -> str:
    """How each training patch's σ was chosen."""
    if args.min_sigma == args.max_sigma:
        return f"σ = {args.max_sigma:g}"
    return f"σ uniform in [{args.min_sigma:g}, {args.max_sigma:g}]"


def noise_range_words(args: argparse.Namespace) -> str:
    """The card's sentence on the noise levels the model is for: blind over a range, or trained for one level."""
    if args.min_sigma == args.max_sigma:
        return (f"It was trained for one Gaussian noise level, σ = {args.max_sigma:g} (0–255 scale), as DnCNN-S is, "
                "though it is never told σ.")
    return (f"It is *blind*: one model for any Gaussian noise level σ ∈ [{args.min_sigma:g}, {args.max_sigma:g}] "
            "(0–255 scale), with no noise level given.")


def loss_weight_words(power: float) -> str:
    """The loss bullet's words for ``--sigma-weight-power``; a weighted training loss is not on the held-out MSE's scale."""
    if not power:
        return ""
    divisor = f"σ + {SIGMA_FLOOR:g}" if power == 1 else f"(σ + {SIGMA_FLOOR:g})^{power:g}"
    return f", each patch's divided by {divisor} (this stage; so its training loss is not on the held-out MSE's scale)"


def deepening_words(added_layers: int) -> str:
    """The architecture bullet's note for ``--add-layers``: the card's depth is not the depth the earlier stages trained."""
    if not added_layers:
        return ""
    plural = "s" * (added_layers > 1)
    return (f"\n  This stage made the checkpoint it started from {added_layers} layer{plural} deeper: the new "
            f"convolution{plural} began as the identity (Net2Net, `--add-layers`), so training went on from the trained function.")


def card_of(folder: Path) -> str:
    """The card of the checkpoint in ``folder`` rendered again from its metrics.json and config.json: after a note was
    added to a stage there, or this template changed (``benchmarks/card_figures.py`` writes it)."""
    metrics = load_metrics(folder)
    args = parse_args(script_arguments(metrics["command"]))
    config = json.loads((Path(folder) / "config.json").read_text())
    args.width, args.depth = config["width"], config["depth"]  # as --init-from sets them, from the checkpoint
    args.output_dir = Path(folder)  # where the card is now (a stage is trained into runs/ and copied to pretrained/)
    return model_card(metrics, args)


def model_card(metrics: dict, args: argparse.Namespace) -> str:
    rows = "\n".join(f"| {r['set']} ({r['n_images']}) | {r['sigma']} | {r['noisy_psnr']:.2f} | **{r['psnr']:.2f}** | "
                     f"{published('BM3D', r)} | {published('DnCNN-S', r)} |" for r in metrics["denoising"])
    return f"""{card_front_matter(['image-denoising', 'dncnn', 'residual-learning'], metrics=('psnr',), datasets=())}

# photo-denoiser: a small blind residual CNN for photographs

A fully convolutional network that predicts the **noise** in a photo and subtracts it (residual learning,
DnCNN, Zhang et al. 2017), working on four half-resolution sub-images (pixel unshuffle, as FFDNet does),
so each convolution costs a quarter. {noise_range_words(args)} Colour photos are denoised one
channel at a time, in an opponent colour space whose three channels are scaled to [0, 1], the training range
(chosen over R, G, B and the orthonormal opponent space on photos outside the test sets: `benchmarks/photo_color_spaces.py`).

- **Architecture:** `PhotoDenoiser(width={args.width}, depth={args.depth})`: {args.depth} 3×3 convolutions, a ReLU after each but the last, no batch norm,
  **{metrics['parameters']:,} parameters** (DnCNN-S: about 0.56 M) (`generative/models/photo_denoiser.py`).{deepening_words(args.add_layers)}
- **Training data:** Train400 (400 grey 180×180 crops of Berkeley Segmentation Dataset images, the DnCNN training set;
  the dataset is offered for non-commercial research and education, and the sample grid below shows crops of it),
  the last 16 held out (loss curve, held-out PSNR){limited_words(metrics)}; {args.patches_per_image} random {args.patch_size}×{args.patch_size} patches per image per epoch,
  random flips and rotations, {sigma_draw_words(args)} per patch.
- **Loss:** mean squared error between output and clean patch, i.e. between predicted and true noise{loss_weight_words(args.sigma_weight_power)}.
  {"bfloat16 autocast" if args.bf16 else "float32"} in training (this stage); inference in float32.
{card_run_lines(metrics, args)}
- **Held-out PSNR** (the {VALIDATION_IMAGES} held-out Train400 images, {HELD_OUT_NOISE_DRAWS} noise draws each: the score to choose
  training settings by, which the test sets must not be): {" / ".join(f"{v:.2f}" for v in metrics["held_out_psnr"].values())} dB at σ = {" / ".join(metrics["held_out_psnr"])}.
{stages_section(metrics)}
{card_command_and_pictures(metrics, 'Loss per step and per epoch, and on 16 held-out Train400 images',
                           'After the last epoch: held-out crops, clean; noisy at σ = 25 and denoised; noisy at σ = 50 and denoised')}

## Measured (PSNR in dB, mean over the images of each test set)

The published protocol: white Gaussian noise added with a fixed seed (image *i* of a set gets seed *i*), the
noisy image not clipped (the noisy input's own PSNR is of it clipped and quantised, as every output is),
the output clipped and quantised to 8 bits, PSNR over the whole image. The BM3D
and DnCNN-S columns are *published* numbers (BSD68: github.com/cszn/DnCNN; Set12: Zhang et al. 2017, Table III), quoted, not measured here.
`benchmarks/photo_denoise_quality.py` measures BM3D and non-local means on the same noisy images, the
colour sets, and a ×8 self-ensemble of this model.

| test set (images) | σ | noisy input | this model | BM3D (published) | DnCNN-S (published) |
|---|---|---|---|---|---|
{rows}
{goals_line(metrics)}
{use_section(USAGE, args.output_dir)}
"""


if __name__ == "__main__":
    run_script(main)
