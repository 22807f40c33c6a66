"""Train a conditional DCGAN on MNIST and write its generator in Hub layout (pretrained/cgan-mnist/).

    python training/train_cgan.py --data-root ../shared/datasets --epochs 50           # pretrained/cgan-mnist
    for loss in non-saturating hinge; do                                              # the README's loss comparison
        python training/train_cgan.py --data-root ../shared/datasets --epochs 3 --loss $loss \\
            --output-dir runs/cgan-compare/$loss --run-dir runs/cgan-compare/$loss-run
    done
    python training/train_cgan.py --data-root ../shared/datasets --epochs 1 --loss wgan-gp \\
        --output-dir runs/cgan-compare/wgan-gp --run-dir runs/cgan-compare/wgan-gp-run
    accelerate launch --multi_gpu --num_processes 4 training/train_cgan.py ...        # data-parallel

G and D are trained in turn on every batch (D ``--d-steps`` times, then G once), with Adam as in
DCGAN (Radford et al. 2016). D's repeated updates all see the batch's real digits, each time against fresh fakes;
Gulrajani et al.'s WGAN-GP (Algorithm 1) draws new real digits for each of its 5 critic updates. An exponential
moving average of G's weights (``--ema-decay``) is kept beside it; at the end both are judged by the MNIST
classifier on 10,000 samples and the better one is published. Per step the loss plot shows both losses and D's
mean verdict on real and generated digits; per epoch, a grid from fixed noise (a row per digit) and the
classifier's error on 1,000 samples.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from generative.checkpoints import CLASSIFIER  # noqa: E402
from generative.data.mnist import load_mnist  # noqa: E402
from generative.gan_losses import (LOSSES, discriminator_loss, generator_loss, gradient_penalty,  # noqa: E402
                                   spectral_norm_in_d, spectral_norm_words)
from generative.hub import model_source  # noqa: E402
from generative.metrics.classification import accuracy_report  # noqa: E402
from generative.models import ConditionalGAN, DigitClassifier, Generator  # noqa: E402
from generative.models.cgan import generate_per_class  # noqa: E402
from training.cards import (  # noqa: E402
    RESUMED_NOTE, batch_words, card_command_and_pictures, card_front_matter, publish, run_record, use_section)
from training.loop import (  # noqa: E402
    MNIST_DATA, OUTPUT_DIR_HELP, PRETRAINED_DIR, RUNS_DIR, HelpFormatter, Objective, add_training_args, fit, fraction,
    model_folder_or_repo, non_negative_float, positive_int, run_script, save_sample_grid, writable_folder)

GRID_COLUMNS = 10
EPOCH_EVAL_PER_CLASS, FINAL_EVAL_PER_CLASS = 100, 1000
BETAS = {"non-saturating": (0.5, 0.999), "hinge": (0.5, 0.999), "wgan-gp": (0.0, 0.9)}  # DCGAN's; WGAN-GP paper's


USAGE = """```python
import torch

from generative.hub import load_model
from generative.models import DigitClassifier, Generator

generator = load_model(Generator, "pretrained/cgan-mnist", train_command="python training/train_cgan.py --epochs 50")
labels = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6])
noise = generator.sample_noise(len(labels), torch.Generator().manual_seed(0))  # z ~ N(0, I); scale < 1: lower temperature
with torch.no_grad():
    digits = generator(noise, labels)  # (8, 1, 28, 28) in [0, 1], the digit of each label
    judge = load_model(DigitClassifier, "pretrained/classifier-mnist", train_command="python training/train_classifier.py")
    read, _ = judge.predict(digits)
print("asked for", labels.tolist(), "- the classifier reads", read.tolist())
```"""  # the model card's "Use" section; tests run it


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    add_training_args(parser, epochs=20, batch_size=128, lr=2e-4, data=MNIST_DATA)
    parser.add_argument("--loss", choices=LOSSES, default="non-saturating", help="the GAN loss")
    parser.add_argument("--d-steps", type=positive_int, default=None, help="D updates per G update (default: 5 for wgan-gp, else 1)")
    parser.add_argument("--gp-weight", type=non_negative_float, default=10.0, help="wgan-gp: weight λ of the gradient penalty")
    parser.add_argument("--ema-decay", type=fraction, default=0.999, help="decay of the moving average of G's weights")
    parser.add_argument("--noise-dim", type=positive_int, default=100, help="size of the noise vector z")
    parser.add_argument("--width", type=positive_int, default=32, help="channels of G's last and D's first hidden layer")
    parser.add_argument("--classifier", type=model_folder_or_repo, default=model_source("classifier-mnist"),
                        help="the judge (folder or Hub repo)")
    parser.add_argument("--output-dir", type=writable_folder, default=PRETRAINED_DIR / "cgan-mnist", help=OUTPUT_DIR_HELP)
    args = parser.parse_args(argv)
    if args.d_steps is None:
        args.d_steps = 5 if args.loss == "wgan-gp" else 1
    args.run_dir = args.run_dir or RUNS_DIR / f"cgan-mnist-{args.loss}"
    return args


class AdversarialObjective(Objective):
    """One step of the two-player game: ``d_steps`` updates of D on the batch's real digits vs fresh generated ones,
    then one of G."""

    def __init__(self, args: argparse.Namespace):
        self.args = args

    def setup(self, model: ConditionalGAN, accelerator, args, total_steps):
        model.to(accelerator.device)
        betas = BETAS[args.loss]
        g_optimizer = torch.optim.Adam(model.generator.parameters(), lr=args.lr, betas=betas)
        d_optimizer = torch.optim.Adam(model.discriminator.parameters(), lr=args.lr, betas=betas)
        self.g, self.d, self.g_optimizer, self.d_optimizer = accelerator.prepare(
            model.generator, model.discriminator, g_optimizer, d_optimizer)
        accelerator.register_for_checkpointing(model.ema)  # resumed with the rest, update count included
        self.model, self.accelerator = model, accelerator

    def step(self, batch, generator):
        images, labels = batch
        loss, noise_dim = self.args.loss, self.model.generator.noise_dim
        for _ in range(self.args.d_steps):
            noise = torch.randn(len(images), noise_dim, generator=generator, device=images.device)
            fake = self.g(noise, labels).detach()
            real_scores, fake_scores = self.d(images, labels), self.d(fake, labels)
            d_loss = discriminator_loss(loss, real_scores, fake_scores)
            if loss == "wgan-gp":
                d_loss = d_loss + self.args.gp_weight * gradient_penalty(self.d, images, fake, labels, generator)
            self.d_optimizer.zero_grad(set_to_none=True)
            self.accelerator.backward(d_loss)
            self.d_optimizer.step()
        noise = torch.randn(len(images), noise_dim, generator=generator, device=images.device)
        g_loss = generator_loss(loss, self.d(self.g(noise, labels), labels))
        self.g_optimizer.zero_grad(set_to_none=True)
        self.accelerator.backward(g_loss)
        self.g_optimizer.step()
        self.model.ema.update(self.model.generator, self.args.ema_decay)
        verdict = torch.sigmoid if loss == "non-saturating" else torch.nn.Identity()  # a probability, or a raw score
        return {"loss": d_loss.detach(), "G loss": g_loss.detach(),
                "D(x)": verdict(real_scores.detach()).mean(), "D(G(z))": verdict(fake_scores.detach()).mean()}


def conditional_accuracy(generator: Generator, classifier: DigitClassifier, per_class: int, seed: int) -> dict:
    """How often the classifier reads the digit G was asked for, on ``per_class`` samples of each digit."""
    was_training = generator.training
    generator.eval()
    report = accuracy_report(classifier, *generate_per_class(generator, per_class, seed))
    generator.train(was_training)
    return report


def draw_grid(generator: Generator) -> torch.Tensor:
    """Row d: ``generator``'s digit d from the same 10 fixed noise vectors, so epochs and runs can be compared."""
    device = next(generator.parameters()).device
    noise = torch.randn(GRID_COLUMNS, generator.noise_dim, generator=torch.Generator().manual_seed(2))
    labels = torch.arange(10, device=device).repeat_interleave(GRID_COLUMNS)
    return generator(noise.repeat(10, 1).to(device), labels)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    images, labels = load_mnist("train", args.data_root)
    train = TensorDataset(images[: args.limit_train], labels[: args.limit_train])
    classifier = CLASSIFIER.load(args.classifier)

    def sample_grid(model: ConditionalGAN) -> torch.Tensor:
        return draw_grid(model.generator_ema)  # the one judged each epoch

    def classifier_error(model: ConditionalGAN) -> float:
        classifier.to(next(model.parameters()).device)
        return 1 - conditional_accuracy(model.generator_ema, classifier, EPOCH_EVAL_PER_CLASS, seed=3)["accuracy"]

    model, history, accelerator = fit(
        lambda: ConditionalGAN(args.noise_dim, args.width, spectral_norm=spectral_norm_in_d(args.loss)), train, AdversarialObjective(args), args,
        sample_fn=sample_grid, sample_nrow=GRID_COLUMNS, eval_fn=classifier_error,
        eval_label="classifier error, 1,000 EMA samples")
    if not accelerator.is_main_process:
        return
    model.cpu().eval()
    classifier.cpu()
    judged = {name: conditional_accuracy(g, classifier, FINAL_EVAL_PER_CLASS, seed=4)
              for name, g in (("G", model.generator), ("EMA of G", model.generator_ema))}
    published = max(judged, key=lambda name: judged[name]["accuracy"])
    for name, report in judged.items():
        print(f"{name}: conditional accuracy {report['accuracy']:.2%} on {report['n_images']:,} samples")
    generator = model.generator_ema if published == "EMA of G" else model.generator
    metrics = {"loss": args.loss, "d_steps": args.d_steps, "published": published,
               "conditional_accuracy": {name: report["accuracy"] for name, report in judged.items()},
               "per_class_accuracy": judged[published]["per_class_accuracy"]} | run_record(
        generator, history, accelerator, args, __file__, argv)
    metrics["discriminator_parameters"] = sum(p.numel() for p in model.discriminator.parameters())
    metrics["per_epoch"] = {"classifier_error_1000_ema_samples": history.epoch_eval_loss,
                            "train_seconds_at_end": history.epoch_end_seconds}
    samples = args.run_dir / "published_samples.png"  # the card's pictures are the published generator's, G's too
    with torch.inference_mode():
        save_sample_grid(draw_grid(generator), samples, GRID_COLUMNS)
    publish(generator, args, card=model_card(metrics, args), metrics=metrics, samples=samples)


LOSS_TEXT = {
    "non-saturating": "the non-saturating loss: D minimises the binary cross-entropy of real vs generated digits, "
                      "G minimises −log D(G(z, y), y)",
    "hinge": "the hinge loss: D minimises max(0, 1 − D(x, y)) + max(0, 1 + D(G(z, y), y)), G minimises −D(G(z, y), y)",
    "wgan-gp": "the Wasserstein loss with gradient penalty: the critic D maximises D(x, y) − D(G(z, y), y) minus "
               "λ·(‖∇D‖ − 1)² on random interpolates, G minimises −D(G(z, y), y)",
}


def model_card(metrics: dict, args: argparse.Namespace) -> str:
    accuracy = " · ".join(f"{name}: {value:.2%}" for name, value in metrics["conditional_accuracy"].items())
    per_class = " | ".join(f"{value:.1%}" for value in metrics["per_class_accuracy"])
    return f"""{card_front_matter(['gan', 'conditional-gan', 'mnist'], metrics=('accuracy',))}

# cgan-mnist: a conditional DCGAN that draws the digit you ask for

The generator maps a noise vector z ~ N(0, I) ({args.noise_dim}-d) and a digit label y (through a
learned 32-d embedding, concatenated with z) to a 28×28 image: a linear layer to 7×7 feature maps, then
transposed convolutions up to 28×28, with batch norm and ReLU. Its adversary (not published here,
{metrics['discriminator_parameters']:,} parameters) is a projection discriminator: strided convolutions
with LeakyReLU give image features h, scored as ψ(h) + ⟨embed(y), h⟩{spectral_norm_words(args.loss)}.

- **Architecture:** `Generator(noise_dim={args.noise_dim}, width={args.width})`, {metrics['parameters']:,} parameters
  (`generative/models/cgan.py`).
- **Loss:** {LOSS_TEXT[args.loss]}; {args.d_steps} D update(s) per G update.
- **Training data:** {metrics['train_examples']:,} of the 60,000 MNIST training digits, with their labels.
- **Optimiser:** Adam, learning rate {args.lr}, betas {BETAS[args.loss]}, {batch_words(metrics, args)}, {args.epochs} epochs,
  seed {args.seed}; EMA of G's weights with decay {args.ema_decay}.
- **Training time:** {metrics['train_seconds'] / 60:.1f} min on {metrics['hardware']}.{RESUMED_NOTE if metrics['resumed'] else ''}
- **Conditional accuracy** (the MNIST classifier `classifier-mnist` reads the requested digit; 1,000 samples
  per digit): {accuracy}. Published: **{metrics['published']}**.
- **Per digit 0–9:** {per_class}

{card_command_and_pictures(metrics, 'D loss and its classifier error per epoch; G loss, D(x) and D(G(z)) per step',
                           f"Row d: digit d from the same 10 fixed noise vectors, drawn by the published generator "
                           f"({metrics['published']}) after the last epoch")}

{use_section(USAGE, args.output_dir)}
"""


if __name__ == "__main__":
    run_script(main)
