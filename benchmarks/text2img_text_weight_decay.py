"""Choose the text encoder's weight decay without looking at the held-out pairs.

    python benchmarks/text2img_text_weight_decay.py

The text-to-image GAN draws from the embedding of its text encoder, so a held-out caption the encoder misreads
is a picture G is unlikely to get right. How well the encoder composes colour–shape pairs it never read
depends on its regularisation; this study picks the AdamW weight decay of ``train_text2img.py
--text-weight-decay`` on *validation* pairs instead of the benchmark's held-out ones:

- ``VALIDATION_PAIRS``: six (colour, shape) pairs of the training split (one per colour), which the real
  training run sees, are taken out of the encoder's training captions here; the held-out pairs of
  ``generative.data.shapes.HELD_OUT`` are absent anyway, and no caption with one is ever read here.
- The text encoder trains alone, as in ``train_text2img.py`` (its own scene-reading loss; G and D never send
  it gradients there): the same 100,000 training scenes less those holding a validation pair, AdamW at the
  same learning rate, batch 64, torch seed 0, for as many epochs as the GAN's default run.
- After every epoch it reads ``--count`` captions of other scenes holding a validation pair, and as many
  captions of scenes without one; all-attributes-correct as the text-to-image benchmark scores it.

The choice: the weight decay whose validation reading after the last epoch is best among those that still read
the other captions at least ``SEEN_FLOOR`` right (too much decay underfits everything).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Subset
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import RESULTS_DIR, describe, run_info, write_results  # noqa: E402
from generative.data.scene_sets import EVAL_SEEDS, TRAIN_SEEDS, SceneSet, make_scene_set  # noqa: E402
from generative.data.shapes import HELD_OUT, vocabulary  # noqa: E402
from generative.metrics.alignment import all_correct  # noqa: E402
from generative.models.scene_reader import reader_loss  # noqa: E402
from generative.models.text2img import TextEncoder  # noqa: E402
from generative.text import Tokenizer  # noqa: E402
from training import train_text2img  # noqa: E402
from training.loop import non_negative_float, positive_int, run_script, writable_folder  # noqa: E402

VALIDATION_PAIRS = (("red", "square"), ("green", "circle"), ("blue", "diamond"), ("yellow", "triangle"),
                    ("purple", "cross"), ("cyan", "circle"))
VALIDATION_SEEDS = EVAL_SEEDS + 2_000_000  # after the training script's per-epoch check and final judge
SEEN_FLOOR = 0.995
BATCH_SIZE = 64


def parse_args(argv=None) -> argparse.Namespace:
    gan = train_text2img.parse_args([])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weight-decays", type=non_negative_float, nargs="+", default=[0.01, 0.1, 0.3, 0.5, 1.0])
    parser.add_argument("--epochs", type=positive_int, default=gan.epochs)
    parser.add_argument("--train-scenes", type=positive_int, default=gan.train_scenes)
    parser.add_argument("--count", type=positive_int, default=2000, help="captions per validation set")
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    return parser.parse_args(argv)


def holds_validation_pair(scene) -> bool:
    return bool(scene.pairs & set(VALIDATION_PAIRS))


def validation_sets(count: int) -> dict[str, SceneSet]:
    """``count`` captions of training-split scenes holding a validation pair, and ``count`` of scenes without."""
    pool = make_scene_set(12 * count, VALIDATION_SEEDS, "train", progress=True)
    chosen = {"validation pairs": [], "other pairs": []}
    for i, scene in enumerate(pool.scenes):
        rows = chosen["validation pairs" if holds_validation_pair(scene) else "other pairs"]
        if len(rows) < count:
            rows.append(i)
    if min(map(len, chosen.values())) < count:
        raise ValueError(f"too few scenes with a validation pair among {len(pool)}; lower --count")
    return {name: pool.select(rows) for name, rows in chosen.items()}


@torch.inference_mode()
def reading_accuracy(encoder: TextEncoder, tokenizer: Tokenizer, scenes: SceneSet) -> float:
    """Share of captions whose scene the encoder's heads read right in every slot."""
    encoder.eval()
    _, logits = encoder(*tokenizer.batch(scenes.captions), read_scene=True)
    encoder.train()
    readout = {name: value.argmax(-1) for name, value in logits.items()}
    return all_correct(readout, scenes.targets).float().mean().item()


def train_and_read(weight_decay: float, train: Subset, tokenizer: Tokenizer, checks: dict[str, SceneSet],
                   epochs: int) -> tuple[TextEncoder, list[dict[str, float]]]:
    """The trained encoder, and its reading of each check set after every epoch of training with this weight decay."""
    if len(train) < BATCH_SIZE:  # no full batch: not one step, and an untrained encoder's readings as the result
        raise SystemExit(f"error: {len(train):,} training captions (those without a validation pair) make no batch of "
                         f"{BATCH_SIZE}: use a larger --train-scenes")
    torch.manual_seed(0)
    encoder = TextEncoder(tokenizer.size, train_text2img.parse_args([]).text_dim)
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=train_text2img.TEXT_LR, weight_decay=weight_decay)
    loader = DataLoader(train, batch_size=BATCH_SIZE, shuffle=True, drop_last=True)
    readings = []
    for epoch in range(1, epochs + 1):
        for _, shape, colour, size, ids, lengths in tqdm(loader, desc=f"weight decay {weight_decay}, epoch {epoch}",
                                                         leave=False):
            _, logits = encoder(ids, lengths, read_scene=True)
            loss = reader_loss(logits, {"shape": shape, "colour": colour, "size": size})
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        readings.append({name: reading_accuracy(encoder, tokenizer, scenes) for name, scenes in checks.items()})
        print(f"weight decay {weight_decay}, epoch {epoch}: "
              + ", ".join(f"{name} {value:.2%}" for name, value in readings[-1].items()))
    return encoder, readings


def choose(results: dict[float, list[dict[str, float]]]) -> float | None:
    """The weight decay with the best last-epoch validation reading among those reading other captions ≥ SEEN_FLOOR."""
    fit = {wd: readings[-1] for wd, readings in results.items() if readings[-1]["other pairs"] >= SEEN_FLOOR}
    return max(fit, key=lambda wd: fit[wd]["validation pairs"], default=None)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    info = run_info("benchmarks/text2img_text_weight_decay.py", argv)
    tokenizer = Tokenizer.of(vocabulary())
    scenes = make_scene_set(args.train_scenes, TRAIN_SEEDS, "train", progress=True)
    kept = [i for i, scene in enumerate(scenes.scenes) if not holds_validation_pair(scene)]
    train = Subset(scenes.dataset(tokenizer), kept)
    checks = validation_sets(args.count)
    assert not any(scene.pairs & set(HELD_OUT) for check in checks.values() for scene in check.scenes)
    results, seconds = {}, {}
    for weight_decay in args.weight_decays:
        start = time.perf_counter()
        _, results[weight_decay] = train_and_read(weight_decay, train, tokenizer, checks, args.epochs)
        seconds[weight_decay] = round(time.perf_counter() - start, 1)
    report = {"validation_pairs": [list(pair) for pair in VALIDATION_PAIRS], "training_captions": len(kept),
              "training_captions_dropped": len(scenes) - len(kept), "captions_per_check": args.count,
              "epochs": args.epochs, "seen_floor": SEEN_FLOOR, "chosen_weight_decay": choose(results),
              "all_correct_reading_per_epoch": {str(wd): readings for wd, readings in results.items()},
              "seconds": {str(wd): s for wd, s in seconds.items()}}
    write_results("text2img_text_weight_decay", {"info": info, "report": report}, markdown(report, info), args.out_dir)


def markdown(report: dict, info: dict) -> str:
    pairs = ", ".join(f"{c} {s}" for c, s in report["validation_pairs"])
    lines = ["# Text-to-image: the text encoder's weight decay, chosen on validation pairs", "", describe(info),
             f"- Validation pairs (taken out of the encoder's training captions here, seen by the real run): {pairs}",
             f"- Training captions: {report['training_captions']:,} ({report['training_captions_dropped']:,} with a "
             f"validation pair dropped); {report['captions_per_check']:,} captions per check set; no held-out pair anywhere",
             "", "All-correct reading after each epoch, validation pairs (other captions):", "",
             "| weight decay | " + " | ".join(f"epoch {e}" for e in range(1, report["epochs"] + 1)) + " | seconds |",
             "|---|" + "---|" * (report["epochs"] + 1)]
    for wd, readings in report["all_correct_reading_per_epoch"].items():
        cells = [f"{r['validation pairs']:.2%} ({r['other pairs']:.2%})" for r in readings]
        lines.append(f"| {wd} | " + " | ".join(cells) + f" | {report['seconds'][wd]} |")
    chosen = report["chosen_weight_decay"]
    lines += ["", f"Chosen (best last-epoch validation reading among those reading other captions ≥ "
                  f"{report['seen_floor']:.1%}): **{chosen if chosen is not None else 'none'}**"]
    return "\n".join(lines)


if __name__ == "__main__":
    run_script(main)
