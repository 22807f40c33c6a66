"""Train the toy world's image–text matcher (the R-precision judge) and write pretrained/scene-matcher/.

    python training/train_matcher.py
    accelerate launch --multi_gpu --num_processes 4 training/train_matcher.py   # data-parallel

It learns from rendered scenes and their captions alone, never from the text-to-image GAN or its
discriminator, and like the scene reader it sees the held-out (colour, shape) pairs (one scene in five),
since it must judge pictures of them, and the same perturbations (pixel noise, brightness, a blur now and
then): a matcher trained on crisp renders alone gave box-blurred renders of seen pairs 49% R-precision where
crisp ones get 99%, so it punished soft edges the caption says nothing about. Its R-precision on real rendered
scenes is the ceiling a generator can reach under it; the card also gives it on blurred ones.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from generative.data.scene_sets import (  # noqa: E402
    BLUR_PROBABILITY, EVAL_SEEDS, MAX_BRIGHTNESS_CHANGE, NOISE_STD, TRAIN_SEEDS, SceneSet, as_float, box_blur,
    make_scene_set, perturb)
from generative.data.shapes import vocabulary  # noqa: E402
from generative.models.matcher import ImageTextMatcher, draw_distractors, own_caption_wins  # noqa: E402
from generative.text import Tokenizer  # noqa: E402
from training.cards import (  # noqa: E402
    card_command_and_pictures, card_front_matter, card_run_lines, publish, run_record, use_section)
from training.loop import (  # noqa: E402
    OUTPUT_DIR_HELP, PRETRAINED_DIR, RUNS_DIR, HelpFormatter, add_training_args, fit, positive_int, run_script,
    writable_folder)

DISTRACTORS = 99
EPOCH_EVAL_SIZE, FINAL_EVAL_SIZE = 1_000, 5_000
GRID_SIZE = 64


USAGE = """```python
import torch

from generative.data.shapes import parse_caption, render
from generative.hub import load_model
from generative.models.matcher import ImageTextMatcher

matcher = load_model(ImageTextMatcher, "pretrained/scene-matcher", train_command="python training/train_matcher.py")
captions = ["a cyan ball above a red square", "a red square above a cyan ball", "a large cyan circle on the left"]
picture = render(parse_caption(captions[0]))  # uint8 (32, 32, 3): the scene of the first caption
images = torch.tensor(picture).permute(2, 0, 1)[None].float() / 255  # (N, 3, 32, 32) in [0, 1]
with torch.no_grad():
    similarity = matcher.encode_images(images) @ matcher.encode_captions(captions).T  # cosine, (N, captions)
print("best caption:", captions[similarity[0].argmax()], "| cosine", [round(s, 3) for s in similarity[0].tolist()])
```"""  # the model card's "Use" section; tests run it


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    add_training_args(parser, epochs=3, batch_size=128, lr=2e-3)
    parser.add_argument("--train-scenes", type=positive_int, default=40_000, help="rendered (scene, caption) pairs, every fifth of a held-out colour–shape pair")
    parser.add_argument("--dim", type=positive_int, default=128, help="size of the shared image–caption space")
    parser.add_argument("--width", type=positive_int, default=32, help="channels of the image encoder's first conv block")
    parser.add_argument("--output-dir", type=writable_folder, default=PRETRAINED_DIR / "scene-matcher", help=OUTPUT_DIR_HELP)
    args = parser.parse_args(argv)
    args.run_dir = args.run_dir or RUNS_DIR / "scene-matcher"
    return args


def contrastive_loss(model, batch, generator):
    images, _, _, _, ids, lengths = batch
    return model(perturb(as_float(images), generator), ids, lengths)


def negatives_words(metrics: dict, args: argparse.Namespace) -> str:
    """The card's note for a data-parallel run: the loss's negatives are each process's batch, not the stated total."""
    if metrics.get("processes", 1) == 1:
        return ""
    return (f" The batch here is each process's own {args.batch_size} pairs: the captions and images of the other "
            "processes are not gathered as negatives.")


def wins_on(model: ImageTextMatcher, scenes: SceneSet, seed: int, blurred: bool = False) -> torch.Tensor:
    """Which rendered scenes (3×3 box-blurred if asked) score their own caption above 99 captions of other scenes."""
    images = box_blur(as_float(scenes.images)) if blurred else as_float(scenes.images)
    return own_caption_wins(model, images, scenes.captions, draw_distractors(scenes.scenes, DISTRACTORS, seed))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    count = min(args.train_scenes, args.limit_train or args.train_scenes)
    train = make_scene_set(count, TRAIN_SEEDS + 10_000_000, "mixed", progress=True)  # not the reader's scenes
    check = make_scene_set(EPOCH_EVAL_SIZE, EVAL_SEEDS, "mixed")

    def r_precision_error(model) -> float:
        return 1 - wins_on(model, check, seed=0).float().mean().item()

    def mismatched_scenes(model) -> torch.Tensor:
        """Check scenes whose own caption loses to a distractor (blank when none), enlarged 2×."""
        images = as_float(check.images[~wins_on(model, check, seed=0)][:GRID_SIZE])
        return F.interpolate(images, scale_factor=2) if len(images) else torch.zeros(1, 3, 64, 64)

    model, history, accelerator = fit(lambda: ImageTextMatcher(vocabulary(), args.dim, args.width),
                                      train.dataset(Tokenizer.of(vocabulary())), contrastive_loss, args,
                                      sample_fn=mismatched_scenes, sample_nrow=16, eval_fn=r_precision_error,
                                      eval_label=f"1 − R-precision, {EPOCH_EVAL_SIZE:,} check scenes")
    if not accelerator.is_main_process:
        return
    model.cpu().eval()
    test, blurred = {}, {}
    for i, split in enumerate(("train", "held-out")):
        scenes = make_scene_set(FINAL_EVAL_SIZE, EVAL_SEEDS + 1_000_000 * (1 + i), split)
        test[split] = wins_on(model, scenes, seed=1).float().mean().item()
        blurred[split] = wins_on(model, scenes, seed=1, blurred=True).float().mean().item()
        print(f"R-precision on {split} scenes: {test[split]:.2%} ({blurred[split]:.2%} blurred)")
    metrics = {"test_scenes_per_split": FINAL_EVAL_SIZE, "distractors": DISTRACTORS, "r_precision": test,
               "r_precision_blurred": blurred} | run_record(
        model, history, accelerator, args, __file__, argv)
    publish(model, args, card=model_card(metrics, args), metrics=metrics)


def model_card(metrics: dict, args: argparse.Namespace) -> str:
    r, blurred = metrics["r_precision"], metrics["r_precision_blurred"]
    return f"""{card_front_matter(['image-text-matching', 'contrastive', 'toy-world'], metrics=('r_precision',), datasets=())}

# scene-matcher: the image–text matcher behind the text-to-image toy's R-precision

An image encoder (three VGG-style blocks and a linear layer) and a caption encoder (word embeddings, a
bidirectional GRU, a linear layer) map a 32×32 scene and a caption to unit vectors in one {args.dim}-d space;
their dot product says how well they match. R-precision asks whether a picture's own caption outscores
{metrics['distractors']} captions of other scenes there. It was trained apart from the text-to-image GAN, so that GAN's
R-precision is not judged by its own discriminator.

- **Architecture:** `ImageTextMatcher(dim={args.dim}, width={args.width})`, {metrics['parameters']:,} parameters
  (`generative/models/matcher.py`).
- **Training data:** {metrics['train_examples']:,} scenes rendered by `generative/data/shapes.py` with one caption each (seeds
  from 10,000,000; one in five from the held-out (colour, shape) pairs, which it must be able to judge), each
  perturbed like the scene reader's: pixel noise (σ = {NOISE_STD}), a brightness change
  (±{MAX_BRIGHTNESS_CHANGE:.0%}) and, for {BLUR_PROBABILITY:.0%}, a 3×3 blur, so that soft edges do not cost a picture its caption.
- **Loss:** the symmetric InfoNCE loss of CLIP: in each batch every image must pick its own caption and every
  caption its own image, at a learnt temperature.{negatives_words(metrics, args)}
{card_run_lines(metrics, args)}

{card_command_and_pictures(metrics, 'Loss per step and per epoch; 1 − R-precision on 1,000 check scenes',
                           'Check scenes whose own caption loses to a distractor after the last epoch (blank when none)')}

## Measured on {metrics['test_scenes_per_split']:,} fresh rendered scenes per split

R-precision (R = 1, {metrics['distractors']} distractor captions of other scenes per image): **{r['train']:.2%}** on scenes
of seen pairs, **{r['held-out']:.2%}** on scenes with a held-out pair. These are the ceiling for a generator on scenes of this mix; the text-to-image benchmark measures
it again on its own captions, with other shares of one and two things (`benchmarks/results/text2img_quality.md`). The same
scenes after a 3×3 box blur, which leaves what they show unchanged: {blurred['train']:.2%} and {blurred['held-out']:.2%}.

{use_section(USAGE, args.output_dir)}
"""


if __name__ == "__main__":
    run_script(main)
