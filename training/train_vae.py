"""Train a variational autoencoder on MNIST and write it in Hub layout.

    python training/train_vae.py --data-root ../shared/datasets --latent-dim 16            # pretrained/vae-mnist-z16
    python training/train_vae.py --data-root ../shared/datasets --latent-dim 2 --epochs 30 # pretrained/vae-mnist-z2
    python training/train_vae.py --data-root ../shared/datasets --architecture mlp \\
        --latent-dim 20 --epochs 10 --lr 1e-3 --binarize none                            # the PyTorch-example baseline
    accelerate launch --multi_gpu --num_processes 4 training/train_vae.py ...           # data-parallel

Loss: the negative ELBO per image in nats, Bernoulli reconstruction term summed over the 784 pixels
plus the closed-form KL of q(z|x) to N(0, I). ``--binarize dynamic`` (default) draws a fresh binary
image from each grey-level digit every time it is seen, the protocol of the published likelihoods;
``none`` trains on grey levels with BCE, as the PyTorch example does: the same formula, but then no ELBO, since
a Bernoulli is a distribution on {0, 1}, not a density on [0, 1] (Loaiza-Ganem & Cunningham 2019).
"""
from __future__ import annotations

import argparse
import json
import sys
from string import Template
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from generative.data.mnist import load_mnist  # noqa: E402
from generative.models import VAE  # noqa: E402
from generative.models.vae import ARCHITECTURES, negative_elbo  # noqa: E402
from generative.provenance import script_arguments  # noqa: E402
from training.cards import (  # noqa: E402
    card_command_and_pictures, card_front_matter, card_run_lines, publish, run_record, use_section)
from training.loop import (  # noqa: E402
    MNIST_DATA, OUTPUT_DIR_HELP, PRETRAINED_DIR, RUNS_DIR, HelpFormatter, add_training_args, fit, positive_int,
    run_script, writable_folder)

TEST_ENCODINGS = "test_encodings.safetensors"
ENCODINGS_LINE = (f"- **Also here:** `{TEST_ENCODINGS}`, the posterior means μ and labels of the 10,000 MNIST test digits "
                  "(`test_encodings()` in `training/train_vae.py`), which the app's latent map draws.\n")
VALIDATION_SIZE = 5000  # the last 5,000 training digits, for the per-epoch held-out loss
DEFAULT_HIDDEN = {"conv": 256, "mlp": 400}  # the gallery's VAEs; the PyTorch example's 784-400-z MLP
GRID_COLUMNS = 16


USAGE = Template("""```python
import numpy as np
import torch
from PIL import Image

from generative.hub import load_model
from generative.models import VAE

model = load_model(VAE, "pretrained/$name", train_command="$command")
pixels = np.asarray(Image.open("demos/examples/mnist_test/0_0_test00003.png").convert("L"), dtype=np.float32) / 255
digit = torch.from_numpy(pixels)[None, None]  # (N, 1, 28, 28) in [0, 1]
with torch.no_grad():
    mean, log_variance = model.encode(digit)  # q(z|x) = N(μ, σ²), each (N, latent_dim)
    reconstruction = model.pixel_means(mean)  # the sigmoid of decode(mean), the Bernoulli logits
    samples = model.pixel_means(torch.randn(8, model.latent_dim, generator=torch.Generator().manual_seed(0)))
print(f"latent {tuple(mean.shape)}, reconstruction MSE {(reconstruction - digit).pow(2).mean():.4f}, "
      f"{len(samples)} samples from the prior {tuple(samples.shape[1:])}")
```""")  # the model card's "Use" section for pretrained/$name; tests run it


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    add_training_args(parser, epochs=100, batch_size=128, lr=1e-3, data=MNIST_DATA)
    parser.add_argument("--latent-dim", type=positive_int, default=16, help="size of the latent code z")
    parser.add_argument("--architecture", choices=ARCHITECTURES, default="conv",
                        help="conv: the gallery's models; mlp: the PyTorch example's, the baseline")
    parser.add_argument("--width", type=positive_int, default=32, help="conv: channels of the first layer")
    parser.add_argument("--hidden", type=positive_int, default=None,
                        help="units of the fully connected layer on each side of z (default: 256 for conv, "
                             "400 for mlp as in the PyTorch example)")
    parser.add_argument("--binarize", choices=["dynamic", "none"], default="dynamic",
                        help="dynamic: a fresh Bernoulli sample of each digit per step; none: grey levels")
    parser.add_argument("--output-dir", type=writable_folder, default=None,
                        help=f"{OUTPUT_DIR_HELP} (default: pretrained/vae-mnist-z<latent-dim>, "
                             "or vae-mnist-mlp-z<latent-dim> for the mlp)")
    args = parser.parse_args(argv)
    args.hidden = args.hidden or DEFAULT_HIDDEN[args.architecture]
    args.output_dir = args.output_dir or PRETRAINED_DIR / default_name(args)
    args.run_dir = args.run_dir or RUNS_DIR / default_name(args)
    return args


def default_name(args: argparse.Namespace) -> str:
    """The checkpoint's folder in pretrained/ (and its run's in runs/) unless the flags name others."""
    return f"vae-mnist-{'mlp-' if args.architecture == 'mlp' else ''}z{args.latent_dim}"


def binarized(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A binary image per grey-level digit, each pixel on with its grey level as probability."""
    return torch.bernoulli(images, generator=generator)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    images, _ = load_mnist("train", args.data_root)
    train, val_images = TensorDataset(images[:-VALIDATION_SIZE][: args.limit_train]), images[-VALIDATION_SIZE:]
    if args.binarize == "dynamic":  # the held-out set is binarised once, so its loss is comparable across epochs
        val_images = binarized(val_images, torch.Generator().manual_seed(1))
    grid_digits, grid_latents = val_images[:GRID_COLUMNS], torch.randn(2 * GRID_COLUMNS, args.latent_dim,
                                                                       generator=torch.Generator().manual_seed(2))

    def elbo_loss(model, batch, generator):
        digits = batch[0]
        if args.binarize == "dynamic":
            digits = binarized(digits, generator)
        return negative_elbo(model, digits, generator).mean()

    def held_out_loss(model) -> float:
        device = next(model.parameters()).device
        return negative_elbo(model, val_images.to(device), torch.Generator(device).manual_seed(3)).mean().item()

    def sample_grid(model) -> torch.Tensor:
        """Row 1: held-out digits; row 2: their reconstructions (posterior mean); then samples from the prior."""
        device = next(model.parameters()).device
        reconstructions = model.pixel_means(model.encode(grid_digits.to(device))[0])
        return torch.cat([grid_digits.to(device), reconstructions, model.pixel_means(grid_latents.to(device))])

    model, history, accelerator = fit(
        lambda: VAE(args.latent_dim, args.architecture, width=args.width, hidden=args.hidden), train, elbo_loss, args,
        sample_fn=sample_grid, sample_nrow=GRID_COLUMNS, eval_fn=held_out_loss)
    if not accelerator.is_main_process:
        return
    metrics = {"binarize": args.binarize, "held_out_negative_elbo_nats": history.epoch_eval_loss[-1]} | run_record(
        model, history, accelerator, args, __file__, argv)
    print(f"held-out −ELBO {metrics['held_out_negative_elbo_nats']:.2f} nats")
    tensors = {TEST_ENCODINGS: test_encodings(model, args.data_root)} if args.latent_dim == 2 else None
    publish(model, args, card=model_card(metrics, args), metrics=metrics, tensors=tensors)


@torch.inference_mode()
def test_encodings(model: VAE, data_root) -> dict[str, torch.Tensor]:
    """Posterior means and labels of the 10,000 MNIST test digits: the scatter of the latent map, shipped
    beside a 2-d model (80 kB) so the app draws it without the dataset."""
    images, labels = load_mnist("test", data_root)
    model = model.cpu().eval()
    means = torch.cat([model.encode(batch)[0] for batch in images.split(1000)])
    return {"mean": means.float(), "label": labels.to(torch.uint8)}


def rewrite_card(folder: Path, test: dict) -> None:
    """Add the benchmark's test-set figures to a trained checkpoint's metrics.json and model card.

    The training flags are recovered from the command the card records, so the card is re-rendered by
    the same ``model_card`` that wrote it.
    """
    metrics = json.loads((folder / "metrics.json").read_text()) | {"test": test}
    args = parse_args(script_arguments(metrics["command"]) + ["--output-dir", str(folder)])
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (folder / "README.md").write_text(model_card(metrics, args))


GREY_LEVEL_LOSS = """Training minimises the PyTorch example's loss: the binary
cross-entropy against the grey levels summed over the 784 pixels plus KL(q(z|x) ‖ N(0, I)). It has the
negative ELBO's form but bounds no likelihood: a Bernoulli is a distribution on {0, 1}, not a density
on [0, 1] (Loaiza-Ganem & Cunningham 2019)."""


def model_card(metrics: dict, args: argparse.Namespace) -> str:
    binary = args.binarize == "dynamic"
    data = ("dynamically binarised MNIST (a fresh Bernoulli sample of each digit per step)" if binary
            else "grey-level MNIST with binary cross-entropy, as in the PyTorch example")
    loss = ("Training minimises the negative ELBO: the reconstruction\ncross-entropy summed over the 784 pixels plus "
            "KL(q(z|x) ‖ N(0, I))." if binary else GREY_LEVEL_LOSS)
    width = f"width={args.width}, " if args.architecture == "conv" else ""  # the MLP has no convolutions
    held_out, curve = ("Held-out negative ELBO", "Negative ELBO") if binary else ("Held-out loss (BCE + KL on grey levels)", "BCE + KL")
    return f"""{card_front_matter(['variational-autoencoder', 'mnist'])}

# {default_name(args)}: a variational autoencoder for handwritten digits, {args.latent_dim}-d latent space

The encoder maps a digit to the mean μ and log-variance log σ² of a Gaussian q(z|x) over a
{args.latent_dim}-d latent space; a sample z = μ + σ ⊙ ε (ε ~ N(0, I)) goes through the decoder, which gives
each pixel's Bernoulli probability. {loss}

- **Architecture:** `VAE(latent_dim={args.latent_dim}, architecture="{args.architecture}", {width}hidden={args.hidden})`,
  {metrics['parameters']:,} parameters (`generative/models/vae.py`).
- **Training data:** MNIST train, first {metrics['train_examples']:,} digits (the last 5,000 are the held-out set), {data}.
{card_run_lines(metrics, args)}
- **{held_out}:** {metrics['held_out_negative_elbo_nats']:.2f} nats per digit (one posterior sample).
{test_lines(metrics.get('test'))}{ENCODINGS_LINE if args.latent_dim == 2 else ''}
{card_command_and_pictures(metrics, f'{curve} per step and per epoch, on the training digits and the 5,000 held-out ones',
                           'Held-out digits, their reconstructions, and samples from the prior')}

{use_section(USAGE.substitute(name=default_name(args), command=metrics['command']), args.output_dir)}
"""


def test_lines(test: dict | None) -> str:
    """The card's test-set figures, once ``benchmarks/vae_quality.py`` has measured them."""
    if not test:
        return ""
    lines = [f"- **MNIST test, {name}:** {value}" for name, value in test["card_lines"].items()]
    return "\n".join(lines) + f"\n- **Measured with:** `{test['command']}` ({test['date']}).\n"


if __name__ == "__main__":
    run_script(main)
