"""Train the text-to-image toy (GAN-INT-CLS on the toy world) and write pretrained/text2img-shapes/.

    python training/train_text2img.py
    accelerate launch --multi_gpu --num_processes 4 training/train_text2img.py   # data-parallel

Every step trains three parts in turn on a batch of (scene, caption) pairs from the training split (no
held-out (colour, shape) pair ever appears):
1. the text encoder, to read the caption's scene slot by slot (cross-entropy, as the scene reader is trained);
2. D, on three pair types (GAN-CLS): real scene + its caption → real; real scene + another caption in the
   batch → fake; generated scene + its caption → fake; and, with ``--aux-weight`` > 0, to read real scenes slot
   by slot with an auxiliary head (TAC-GAN, Dash et al. 2017: an AC-GAN classifier on a text-to-image GAN);
3. G, to make D call its pictures real, for the batch's captions and (GAN-INT) for halfway blends of two
   captions' embeddings, which have no real picture (meant to fill the space between captions); and to make D's
   auxiliary head read its pictures as the caption's scene.
``--aux-weight 0`` is GAN-INT-CLS without the auxiliary head; with it, in two-epoch trials on this CPU, 67% of
pictures were all-correct after two epochs instead of 25% (see the README). By default D also pays an R1
penalty on real pairs (Mescheder et al. 2018; ``--r1 0`` turns it off) and the caption sets the gain and bias of
G's batch norms at every scale (``--no-conditional-norm`` turns it off): without them a ten-epoch run peaked at
94% after epoch 4 and fell apart as D overpowered G; with them a ten-epoch run reached 99% after epoch 5, then
slid as G painted checkerboard textures, so six epochs by default (see the README). G also pays λ·mean|G(z, t) − x|
against the real scene x of its caption (``--l1-weight``, λ = 100, pix2pix's value, though on pixels in [0, 1] it
weighs as λ = 50 on pix2pix's [−1, 1] scale; 0 turns it off): with the adversarial losses alone G drew only about
half of the held-out captions its text encoder read right, and with it 93% (see the README). λ was fixed beforehand, not tuned on held-out pairs; a probe that trains G by that
regression alone (``benchmarks/text2img_generator_probe.py``) did not settle whether it helps on validation pairs.
The text encoder's AdamW weight decay (``--text-weight-decay``, 0.5) was chosen on validation pairs by
``benchmarks/text2img_text_weight_decay.py``. G's and D's learning
rates fall linearly to 0 over the second half of training. An exponential moving average of G is kept, and
after every epoch the scene reader checks it on 500 captions; the text encoder and averaged G of the best
epoch so far are kept in the run folder (a late GAN epoch can be worse than an earlier one). At the end the
best of G, its average and that best epoch, by the scene reader's all-attributes accuracy on 2,000 other
captions, is published (neither set of captions comes from the benchmark's seeds).
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from generative.checkpoints import SCENE_READER  # noqa: E402
from generative.data.scene_sets import EVAL_SEEDS, TRAIN_SEEDS, as_float, make_scene_set  # noqa: E402
from generative.data.shapes import vocabulary  # noqa: E402
from generative.gan_losses import (  # noqa: E402
    LOSSES, generator_loss, l1_weight_words, matching_aware_discriminator_loss, r1_gamma_words, r1_penalty)
from generative.hub import model_source  # noqa: E402
from generative.metrics.alignment import ATTRIBUTE_HEADERS, all_correct, attribute_accuracy  # noqa: E402
from generative.models.scene_reader import SceneReader, read_all, reader_loss  # noqa: E402
from generative.models.text2img import TextConditionedGenerator, TextToImage, TextToImageGAN, draw_captions  # noqa: E402
from generative.text import Tokenizer  # noqa: E402
from training.cards import (  # noqa: E402
    RESUMED_NOTE, batch_words, card_command_and_pictures, card_front_matter, publish, run_record, use_section)
from training.loop import (  # noqa: E402
    OUTPUT_DIR_HELP, PRETRAINED_DIR, RUNS_DIR, HelpFormatter, Objective, add_training_args, fit, fraction,
    model_folder_or_repo, non_negative_float, positive_int, run_script, save_sample_grid, writable_folder)

GRID_CAPTIONS = ("a large red circle in the centre", "a small blue square on the left", "a big yellow triangle at the top",
                 "a green cross left of a purple diamond", "a cyan disc above a red box",
                 "a large red triangle on the right", "a small blue circle at the bottom",  # held-out pairs
                 "a green square left of a yellow plus")                                     # held-out pairs
GRID_COLUMNS = 8
EPOCH_EVAL_SIZE, FINAL_EVAL_SIZE = 500, 2_000
BEST_EPOCH_FILE = "best_epoch.safetensors"  # in the run folder: the text encoder and averaged G of the best check
BETAS = (0.5, 0.999)
TEXT_LR = 1e-3


USAGE = """```python
from generative.hub import load_model
from generative.models.text2img import TextToImage, draw_captions

model = load_model(TextToImage, "pretrained/text2img-shapes", train_command="python training/train_text2img.py")
captions = ["a large red circle in the centre", "a cyan ball above a red square"]  # only the toy world's 49 words and the comma
pictures = draw_captions(model, captions, seed=0)  # (2, 3, 32, 32) in [0, 1], one per caption
print(f"{len(pictures)} pictures of {tuple(pictures.shape[1:])}, values {pictures.min():.2f}–{pictures.max():.2f}")
```"""  # the model card's "Use" section; tests run it


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    add_training_args(parser, epochs=6, batch_size=64, lr=2e-4, lr_help=f"G's and D's learning rate (the text encoder's is {TEXT_LR:g})")
    parser.add_argument("--train-scenes", type=positive_int, default=100_000, help="rendered training scenes, with one caption each")
    parser.add_argument("--loss", choices=LOSSES[:2], default="non-saturating", help="the GAN loss")
    parser.add_argument("--int-weight", type=non_negative_float, default=1.0, help="weight of G's loss on blended captions (GAN-INT); 0 turns it off")
    parser.add_argument("--aux-weight", type=non_negative_float, default=1.0,
                        help="weight of D's auxiliary scene-reading loss (TAC-GAN); 0 = no auxiliary head")
    parser.add_argument("--r1", type=non_negative_float, default=1.0, metavar="GAMMA",
                        help="R1 penalty γ/2·E‖∇D(x, t)‖² on real matching pairs (Mescheder et al. 2018); 0 turns it off")
    parser.add_argument("--conditional-norm", action=argparse.BooleanOptionalAction, default=True,
                        help="G's batch norms take gain and bias from the caption (conditional batch norm)")
    parser.add_argument("--l1-weight", type=non_negative_float, default=100.0,
                        help="weight λ of an L1 term between G's picture and the caption's real scene, on pixels "
                             "in [0, 1] (pix2pix's λ is on [−1, 1]: half this weighs the same); 0 = the adversarial "
                             "losses alone")
    parser.add_argument("--text-weight-decay", type=non_negative_float, default=0.5,
                        help="AdamW weight decay of the text encoder (chosen on validation pairs by "
                             "benchmarks/text2img_text_weight_decay.py; AdamW itself uses 0.01)")
    parser.add_argument("--ema-decay", type=fraction, default=0.999, help="decay of the moving average of G's weights")
    parser.add_argument("--noise-dim", type=positive_int, default=100, help="size of the noise vector z")
    parser.add_argument("--text-dim", type=positive_int, default=128, help="size of the caption embedding")
    parser.add_argument("--width", type=positive_int, default=32, help="channels of G's last and D's first hidden layer")
    parser.add_argument("--reader", type=model_folder_or_repo, default=model_source("scene-reader"),
                        help="the judge (folder or Hub repo)")
    parser.add_argument("--output-dir", type=writable_folder, default=PRETRAINED_DIR / "text2img-shapes", help=OUTPUT_DIR_HELP)
    args = parser.parse_args(argv)
    args.run_dir = args.run_dir or RUNS_DIR / "text2img-shapes"
    return args


class MatchingAwareObjective(Objective):
    """One step: the text encoder on its own loss, then D on the three pair types, then G on real and blended captions."""

    def __init__(self, args: argparse.Namespace):
        self.args = args

    def setup(self, gan: TextToImageGAN, accelerator, args, total_steps):
        gan.to(accelerator.device)
        parts = (gan.model.text_encoder, gan.model.generator, gan.discriminator)
        optimizers = (torch.optim.AdamW(parts[0].parameters(), lr=TEXT_LR, weight_decay=args.text_weight_decay),
                      torch.optim.Adam(parts[1].parameters(), lr=args.lr, betas=BETAS),
                      torch.optim.Adam(parts[2].parameters(), lr=args.lr, betas=BETAS))
        # G's and D's learning rates fall linearly to 0 over the second half of training (as in pix2pix), which
        # lets the last epochs settle instead of circling; Accelerate steps them once per process per step.
        decay_start = total_steps // 2
        schedules = [torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: min(1.0, max(0.0, (total_steps - step) / max(total_steps - decay_start, 1))))
            for optimizer in optimizers[1:]]
        (self.text, self.g, self.d, self.text_optimizer, self.g_optimizer, self.d_optimizer,
         *self.schedules) = accelerator.prepare(*parts, *optimizers, *schedules)
        accelerator.register_for_checkpointing(gan.ema)
        self.gan, self.accelerator = gan, accelerator

    def update(self, optimizer, loss) -> None:
        optimizer.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        optimizer.step()

    def judge(self, images, text, targets) -> tuple[torch.Tensor, torch.Tensor]:
        """D's logits for (images, text), and its auxiliary head's reading loss against ``targets`` (0 without one)."""
        if not self.args.aux_weight:
            return self.d(images, text), torch.zeros((), device=images.device)
        scores, read = self.d(images, text, read_scene=True)
        return scores, self.args.aux_weight * reader_loss(read, targets)

    def step(self, batch, generator):
        images, shape, colour, size, ids, lengths = batch
        real, kind, noise_dim = as_float(images).requires_grad_(self.args.r1 > 0), self.args.loss, self.gan.model.noise_dim
        targets = {"shape": shape, "colour": colour, "size": size}
        embedding, scene_logits = self.text(ids, lengths, read_scene=True)
        text_loss = reader_loss(scene_logits, targets)
        self.update(self.text_optimizer, text_loss)

        text = embedding.detach()
        mismatched = text.roll(1, dims=0)  # another scene's caption
        fake = self.g(torch.randn(len(real), noise_dim, generator=generator, device=real.device), text)
        real_scores, real_reading_loss = self.judge(real, text, targets)
        d_loss = matching_aware_discriminator_loss(kind, real_scores, self.d(real, mismatched), self.d(fake.detach(), text))
        penalty = 0.5 * self.args.r1 * r1_penalty(real_scores, real) if self.args.r1 else torch.zeros((), device=real.device)
        self.update(self.d_optimizer, d_loss + real_reading_loss + penalty)

        fake_scores, fake_reading_loss = self.judge(fake, text, targets)
        g_loss = generator_loss(kind, fake_scores)
        # the caption nearly fixes its scene (only a pixel of jitter is free), so the real scene is a fair target
        reconstruction = (fake - real.detach()).abs().mean()
        if self.args.l1_weight:
            g_loss = g_loss + self.args.l1_weight * reconstruction
        if self.args.int_weight:
            blended = 0.5 * (text + text.flip(0))  # GAN-INT with β = ½, as in Reed et al.
            noise = torch.randn(len(real), noise_dim, generator=generator, device=real.device)
            g_loss = g_loss + self.args.int_weight * generator_loss(kind, self.d(self.g(noise, blended), blended))
        self.update(self.g_optimizer, g_loss + fake_reading_loss)
        for schedule in self.schedules:
            schedule.step()
        self.gan.ema.update(self.gan.model.generator, self.args.ema_decay)
        verdict = torch.sigmoid if kind == "non-saturating" else torch.nn.Identity()
        return {"loss": d_loss.detach(), "G loss": g_loss.detach(), "G L1": reconstruction.detach(), "text loss": text_loss.detach(),
                "D reading loss": real_reading_loss.detach(), "R1 penalty": penalty.detach(),
                "D(x, t)": verdict(real_scores.detach()).mean(), "D(G(z, t), t)": verdict(fake_scores.detach()).mean()}


def caption_alignment(model: TextToImage, generator: TextConditionedGenerator, reader: SceneReader, scenes,
                      seed: int) -> dict[str, float]:
    """The reader's per-attribute accuracy on one picture per caption of ``scenes``, drawn by ``generator``, and
    the all-correct share of the two-thing scenes apart (the hard ones, and most of the benchmark's new captions)."""
    was_training = (model.training, generator.training)
    model.eval(), generator.eval()
    pictures = draw_captions(model, scenes.captions, seed, generator)
    model.train(was_training[0]), generator.train(was_training[1])
    readout = read_all(reader, (pictures * 255).round().to(torch.uint8))
    two_things = (scenes.shape > 0).sum(1) == 2
    return attribute_accuracy(readout, scenes.targets) | {
        "all, two things": all_correct(readout, scenes.targets)[two_things].float().mean().item()}


def averaged_model(gan: TextToImageGAN) -> TextToImage:
    """The published model with the moving average of G in place of G."""
    model = copy.deepcopy(gan.model)
    model.generator.load_state_dict(gan.ema.model.state_dict())
    return model


def draw_grid(model: TextToImage, generator: TextConditionedGenerator) -> torch.Tensor:
    """Row i: GRID_CAPTIONS[i] (the last three use held-out pairs) as ``model`` reads it, drawn by ``generator`` from the
    same fixed noise per column, so epochs and runs can be compared."""
    noise = torch.randn(GRID_COLUMNS, generator.noise_dim, generator=torch.Generator().manual_seed(2))
    text = model.embed(list(GRID_CAPTIONS)).repeat_interleave(GRID_COLUMNS, dim=0)
    return generator(noise.repeat(len(GRID_CAPTIONS), 1).to(text.device), text)


def keep_if_best(gan: TextToImageGAN, error: float, path: Path) -> None:
    """Save the averaged model to ``path`` when ``error`` is below the one saved there (the file holds its error, so
    a resumed run keeps comparing against the right epoch)."""
    if path.exists():
        with safe_open(str(path), "pt") as saved:
            if error >= float(saved.metadata()["error"]):
                return
    weights = {key: value.detach().cpu().contiguous() for key, value in averaged_model(gan).state_dict().items()}
    save_file(weights, str(path), metadata={"error": repr(error)})


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    count = min(args.train_scenes, args.limit_train or args.train_scenes)
    reader = SCENE_READER.load(args.reader)
    train = make_scene_set(count, TRAIN_SEEDS, "train", progress=True)
    check = make_scene_set(EPOCH_EVAL_SIZE, EVAL_SEEDS, "train")

    def sample_grid(gan: TextToImageGAN) -> torch.Tensor:
        return draw_grid(gan.model, gan.ema.model)  # the moving average, which is judged each epoch

    def alignment_error(gan: TextToImageGAN) -> float:
        reader.to(gan.model.device)
        accuracy = caption_alignment(gan.model, gan.ema.model, reader, check, seed=3)
        print(f"EMA of G, {EPOCH_EVAL_SIZE} captions: all-correct {accuracy['all']:.1%}, two-thing scenes {accuracy['all, two things']:.1%}")
        keep_if_best(gan, 1 - accuracy["all"], best_path)
        return 1 - accuracy["all"]

    best_path = args.run_dir / BEST_EPOCH_FILE
    gan, history, accelerator = fit(
        lambda: TextToImageGAN(args.noise_dim, args.text_dim, args.width, args.aux_weight > 0, args.conditional_norm),
        train.dataset(Tokenizer.of(vocabulary())),
        MatchingAwareObjective(args), args, sample_fn=sample_grid, sample_nrow=GRID_COLUMNS, eval_fn=alignment_error,
        eval_label=f"all-attributes error, {EPOCH_EVAL_SIZE} EMA pictures", run_files=(BEST_EPOCH_FILE,))
    if not accelerator.is_main_process:
        return
    gan.cpu().eval()
    reader.cpu()
    judge = make_scene_set(FINAL_EVAL_SIZE, EVAL_SEEDS + 1_000_000, "train")
    best_epoch = min(range(len(history.epoch_eval_loss)), key=history.epoch_eval_loss.__getitem__) + 1
    best = copy.deepcopy(gan.model)
    best.load_state_dict(load_file(str(best_path)))
    candidates = {"G": gan.model, "EMA of G": averaged_model(gan), f"EMA of G after epoch {best_epoch} (best check)": best}
    judged = {name: caption_alignment(model, model.generator, reader, judge, seed=4) for name, model in candidates.items()}
    published = max(judged, key=lambda name: judged[name]["all"])  # the first of equals: the last epoch's
    for name, accuracy in judged.items():
        print(f"{name}: " + ", ".join(f"{attribute} {value:.2%}" for attribute, value in accuracy.items()))
    published_epoch = best_epoch if published.endswith("(best check)") else args.epochs
    metrics = {"loss": args.loss, "int_weight": args.int_weight, "r1": args.r1, "l1_weight": args.l1_weight,
               "text_weight_decay": args.text_weight_decay, "published": published,
               "published_epoch": published_epoch,
               "alignment_seen_captions": judged} | run_record(gan.model, history, accelerator, args, __file__, argv)
    metrics["discriminator_parameters"] = sum(p.numel() for p in gan.discriminator.parameters())
    metrics["per_epoch"] = {"alignment_error_500_ema_pictures": history.epoch_eval_loss,
                            "train_seconds_at_end": history.epoch_end_seconds}
    samples = args.run_dir / "published_samples.png"  # the card's pictures are the published generator's, G's too
    with torch.inference_mode():
        save_sample_grid(draw_grid(candidates[published], candidates[published].generator), samples, GRID_COLUMNS)
    publish(candidates[published], args, card=model_card(metrics, args), metrics=metrics, samples=samples)


AUX_TEXT = ("D also reads each real scene slot by slot with an auxiliary head (cross-entropy per slot and attribute), "
            "and G is also trained to make that head read its pictures as the caption's scene (TAC-GAN, Dash et al. 2017); "
            "weight {}")
R1_TEXT = ("; D also pays an R1 penalty (γ/2)·E‖∇ₓD(x, t)‖² on real matching pairs (Mescheder et al. 2018), "
           "{}, which keeps it from overpowering G late in training")
L1_TEXT = ("; G also minimises the mean absolute difference between its picture and the real scene of the same "
           "caption, {} (as pix2pix adds L1 to its GAN loss)")
CBN_TEXT = ("; G's batch norms take their per-channel gain and bias from the projected caption embedding "
            "(conditional batch norm), so the caption steers every scale")
LOSS_TEXT = {"non-saturating": "binary cross-entropy (G minimises −log D(G(z, t), t))",
             "hinge": "the hinge loss (G minimises −D(G(z, t), t))"}


def model_card(metrics: dict, args: argparse.Namespace) -> str:
    judged = metrics["alignment_seen_captions"]
    rows = "\n".join(f"| {name} | " + " | ".join(f"{judged[name][a]:.2%}" for a in ("shape", "colour", "size", "all")) + " |"
                     for name in judged)
    return f"""{card_front_matter(['gan', 'text-to-image', 'gan-int-cls', 'toy-world'], metrics=('accuracy',), datasets=())}

# text2img-shapes: a caption-conditioned GAN (GAN-INT-CLS) for a toy world of shapes

Type "a large red circle in the centre" or "a green cross left of a purple diamond" and get 32×32 pictures.
A bidirectional GRU reads the caption into a {args.text_dim}-d embedding; the generator concatenates a projected
embedding with {args.noise_dim}-d noise and draws with transposed convolutions. It was trained against a
matching-aware discriminator (Reed et al. 2016; {metrics['discriminator_parameters']:,} parameters, not published)
that sees three kinds of pair: real scene + its caption (real), real scene + another caption (fake) and
generated scene + its caption (fake); besides Reed et al.'s concatenation it scores a projection term ⟨W c, h⟩ of the
projected caption embedding c against its image features h (Miyato & Koyama 2018).
G also learnt from halfway blends of two captions' embeddings (GAN-INT).
{'D also had an auxiliary head that reads the scene, slot by slot, which G was trained to satisfy (TAC-GAN).' if args.aux_weight else ''}
The text encoder learnt to read each caption's scene back, slot by slot.

- **Architecture:** `TextToImage(noise_dim={args.noise_dim}, text_dim={args.text_dim}, width={args.width}, conditional_norm={args.conditional_norm})`,
  {metrics['parameters']:,} parameters (text encoder + generator; `generative/models/text2img.py`){CBN_TEXT if args.conditional_norm else ''}.
- **Loss:** {LOSS_TEXT[args.loss]}; GAN-INT weight {args.int_weight}; {AUX_TEXT.format(args.aux_weight) if args.aux_weight else 'no auxiliary head'}{R1_TEXT.format(r1_gamma_words(args.r1)) if args.r1 else ''}{L1_TEXT.format(l1_weight_words(args.l1_weight)) if args.l1_weight else ''}.
- **Training data:** {metrics['train_examples']:,} scenes rendered by `generative/data/shapes.py` with one caption each,
  from the training split: the held-out (colour, shape) pairs (red triangle, green square, blue circle, yellow
  cross, purple diamond, cyan triangle) never appear.
- **Optimiser:** Adam, learning rate {args.lr} (falling linearly to 0 over the second half), betas {BETAS} for G
  and D; AdamW {TEXT_LR} (weight decay {args.text_weight_decay}) for the text encoder;
  {batch_words(metrics, args)}, {args.epochs} epochs, seed {args.seed}; EMA of G with decay {args.ema_decay}.
- **Training time:** {metrics['train_seconds'] / 60:.1f} min on {metrics['hardware']}.{RESUMED_NOTE if metrics['resumed'] else ''}
- **Caption alignment at the end of training** (the scene reader `scene-reader` on one picture per caption, for
  {FINAL_EVAL_SIZE:,} fresh captions of seen pairs): the live G and its moving average at the end, and the text
  encoder with averaged G of the epoch whose per-epoch check ({EPOCH_EVAL_SIZE} other captions) was best.
  Published: **{metrics['published']}**.

| generator | {ATTRIBUTE_HEADERS} |
|---|---|---|---|---|
{rows}

Per-epoch check of the averaged G ({EPOCH_EVAL_SIZE} captions, share with every attribute right), epochs 1–{args.epochs}:
{', '.join(f'{1 - error:.1%}' for error in metrics['per_epoch']['alignment_error_500_ema_pictures'])}.

The full measurement, held-out pairs included, is in the project's `benchmarks/results/text2img_quality.md`.

{card_command_and_pictures(metrics, 'D loss and the alignment error per epoch; G, text and D verdicts per step',
                           f'One caption per row (the last three with held-out pairs), same noise per column, drawn by the published '
                           f'generator: {metrics["published"]}')}

{use_section(USAGE, args.output_dir)}
"""


if __name__ == "__main__":
    run_script(main)
