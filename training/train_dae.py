"""Train the blind denoising autoencoder on MNIST and write pretrained/dae-mnist/.

    python training/train_dae.py --data-root ../shared/datasets
    accelerate launch --multi_gpu --num_processes 4 training/train_dae.py   # data-parallel

Each training image gets its own random corruption (Gaussian, salt-and-pepper or masking, at a
random level), so one model learns to undo all three without being told which it sees.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from generative.data.mnist import load_mnist  # noqa: E402
from generative.metrics.image_quality import (BENCHMARK_LEVELS, SSIM_SETTING, corrupt_test_set, mean_scores,  # noqa: E402
                                              model_denoiser)
from generative.models import DenoisingAutoencoder  # noqa: E402
from generative.noise import TRAINING_LEVEL_RANGE, corrupt, corrupt_randomly  # noqa: E402
from training.cards import (  # noqa: E402
    card_command_and_pictures, card_front_matter, card_run_lines, publish, run_record, use_section)
from training.loop import (  # noqa: E402
    MNIST_DATA, OUTPUT_DIR_HELP, PRETRAINED_DIR, RUNS_DIR, HelpFormatter, add_training_args, fit, positive_int,
    run_script, writable_folder)

VALIDATION_SIZE = 5000  # the last 5,000 training digits, for the per-epoch held-out loss
GRID_LEVELS = (("gaussian", 0.5), ("salt_and_pepper", 0.3), ("masking", 0.5))


USAGE = """```python
import numpy as np
import torch
from PIL import Image

from generative.hub import load_model
from generative.models import DenoisingAutoencoder

model = load_model(DenoisingAutoencoder, "pretrained/dae-mnist", train_command="python training/train_dae.py")
pixels = np.asarray(Image.open("demos/examples/mnist_test/0_0_test00003.png").convert("L"), dtype=np.float32) / 255
clean = torch.from_numpy(pixels)[None, None]  # (N, 1, 28, 28) in [0, 1]
noisy = (clean + 0.5 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
with torch.no_grad():
    denoised = model(noisy)  # same shape, in [0, 1]
print(f"MSE to the clean digit: noisy {(noisy - clean).pow(2).mean():.4f}, denoised {(denoised - clean).pow(2).mean():.4f}")
```"""  # the model card's "Use" section; tests run it


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    add_training_args(parser, epochs=20, batch_size=128, lr=2e-3, data=MNIST_DATA)
    parser.add_argument("--width", type=positive_int, default=32, help="channels of the first conv layer")
    parser.add_argument("--code-dim", type=positive_int, default=64, help="size of the bottleneck code")
    parser.add_argument("--output-dir", type=writable_folder, default=PRETRAINED_DIR / "dae-mnist", help=OUTPUT_DIR_HELP)
    parser.add_argument("--eval-limit", type=positive_int, default=None, help="score on the first N test digits only (smoke tests)")
    args = parser.parse_args(argv)
    args.run_dir = args.run_dir or RUNS_DIR / "dae-mnist"
    return args


def denoising_loss(model, batch, generator):
    """Binary cross-entropy between the output and the clean grey levels, as Vincent et al. (2008) used for [0, 1] inputs.

    Squared error through the output sigmoid stalls: mostly-black digits push every pixel dark at first, the sigmoid
    saturates and its gradient vanishes, so a 1-epoch run ended with an all-black output. Cross-entropy's gradient
    on the logits is output − target, which does not vanish while the output is wrong."""
    clean = batch[0]
    return F.binary_cross_entropy_with_logits(model(corrupt_randomly(clean, generator), logits=True), clean)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    images, _ = load_mnist("train", args.data_root)
    train_images, val_images = images[:-VALIDATION_SIZE], images[-VALIDATION_SIZE:]
    if args.limit_train:
        train_images = train_images[: args.limit_train]
    val_noisy = corrupt_randomly(val_images, torch.Generator().manual_seed(1))
    grid_clean = val_images[:8]
    grid_noisy = [corrupt(grid_clean, kind, level, torch.Generator().manual_seed(2)) for kind, level in GRID_LEVELS]

    def held_out_loss(model) -> float:
        device = next(model.parameters()).device
        logits = model(val_noisy.to(device), logits=True)
        return F.binary_cross_entropy_with_logits(logits, val_images.to(device)).item()

    def sample_grid(model) -> torch.Tensor:
        """Row 1: clean digits; then a noisy row and its denoised row for each corruption."""
        rows = [grid_clean]
        for noisy in grid_noisy:
            rows += [noisy, model_denoiser(model)(noisy)]
        return torch.cat(rows)

    model, history, accelerator = fit(lambda: DenoisingAutoencoder(width=args.width, code_dim=args.code_dim),
                                      TensorDataset(train_images), denoising_loss, args,
                                      sample_fn=sample_grid, sample_nrow=8, eval_fn=held_out_loss)
    if not accelerator.is_main_process:
        return

    all_test_images, _ = load_mnist("test", args.data_root)
    test_images = all_test_images[: args.eval_limit]
    denoise = model_denoiser(model)
    results = []
    for kind, level in BENCHMARK_LEVELS:
        noisy = corrupt_test_set(test_images, kind, level)
        noisy_scores = mean_scores(test_images[:, 0].numpy(), noisy[:, 0].numpy())
        dae_scores = mean_scores(test_images[:, 0].numpy(), denoise(noisy)[:, 0].numpy())
        results.append({"noise": kind, "level": level, "n_images": len(test_images),
                        "noisy_psnr": noisy_scores.psnr, "noisy_ssim": noisy_scores.ssim,
                        "psnr": dae_scores.psnr, "ssim": dae_scores.ssim})
        print(f"{kind:>16} {level:<5} noisy {noisy_scores.psnr:6.2f} dB / {noisy_scores.ssim:.3f}  "
              f"DAE {dae_scores.psnr:6.2f} dB / {dae_scores.ssim:.3f}")

    metrics = {
        "test_set": measured_set_name(len(test_images), len(all_test_images)),
        "noise_seed": 0,
        "denoising": results,
    } | run_record(model, history, accelerator, args, __file__, argv)
    publish(model, args, card=model_card(metrics, args), metrics=metrics)


def measured_set_name(measured: int, available: int) -> str:
    """How much of the MNIST test set was measured: an ``--eval-limit`` past its end measures all of it, and said
    "first 999999"."""
    return f"MNIST test (first {measured:,})" if measured < available else f"MNIST test ({measured:,} digits)"


def model_card(metrics: dict, args: argparse.Namespace) -> str:
    rows = "\n".join(
        f"| {r['noise'].replace('_', '-')} | {r['level']} | {r['noisy_psnr']:.2f} / {r['noisy_ssim']:.3f} | "
        f"**{r['psnr']:.2f} / {r['ssim']:.3f}** |"
        for r in metrics["denoising"]
    )
    ranges = ", ".join(f"{k.replace('_', '-')} {lo}–{hi}" for k, (lo, hi) in TRAINING_LEVEL_RANGE.items())
    return f"""{card_front_matter(['denoising-autoencoder', 'image-denoising', 'mnist'])}

# dae-mnist: a blind convolutional denoising autoencoder for handwritten digits

A denoising autoencoder (Vincent et al., 2008) learns to map a corrupted input back to the clean
original. Its encoder squeezes a 28×28 digit into a **{args.code_dim}-number code** through strided
convolutions; its decoder redraws the digit from that code with transposed convolutions. Because
only digit-like structure fits through the bottleneck, the noise is left behind.

- **Architecture:** `DenoisingAutoencoder(width={args.width}, code_dim={args.code_dim})`, {metrics['parameters']:,} parameters
  (`generative/models/dae.py`).
- **Training data:** MNIST train, first {metrics['train_examples']:,} digits (the last 5,000 are the held-out set of the loss curve).
- **Corruption:** every training digit gets its own random kind and level: {ranges}
  (uniform). One blind model handles all three.
- **Loss:** binary cross-entropy between the denoised output (sigmoid) and the clean digit's grey levels, as in
  Vincent et al. (2008). Squared error through the sigmoid stalled on short runs with an all-black output.
{card_run_lines(metrics, args)}

{card_command_and_pictures(metrics, 'Loss per step and per epoch, on the training digits and the 5,000 held-out ones',
                           'After the last epoch: clean, corrupted and denoised rows for each noise kind')}

## Measured on {metrics['test_set']}

Mean PSNR (dB) / SSIM over the test digits, each corrupted once with a fixed seed ({metrics['noise_seed']}).
Computed by the training script with scikit-image ({SSIM_SETTING}); `benchmarks/denoise_quality.py` adds the
classical baselines (median, Gaussian blur, non-local means, BM3D) on the same noisy images.

| noise | level | noisy input | DAE |
|---|---|---|---|
{rows}

{use_section(USAGE, args.output_dir)}
"""


if __name__ == "__main__":
    run_script(main)
