"""How well the text-to-image toy draws what it is told: caption alignment, R-precision and FID.

    python benchmarks/text2img_quality.py

Two sets of captions from benchmark seeds no script trains on: ``--count`` captions of scenes made only of
seen (colour, shape) pairs, with every caption string that occurs among the GAN's training captions left
out (so each is new to the model), and ``--count`` captions of scenes holding a held-out pair (new by
construction). One picture per caption, from seeded noise.

- The text encoder's own reading of the captions (its heads, trained beside the GAN): where it misreads a
  caption, the embedding G draws from already says the wrong scene. The pictures' alignment is also given apart
  for captions the encoder read right and those it misread, which says whether the encoder or G loses a caption.
- Alignment: the scene reader (`pretrained/scene-reader`, 100% on rendered scenes) reads each picture; per
  attribute accuracy (shape on all five slots, colour and size on the filled ones) and all-attributes-correct,
  for one- and two-thing scenes apart too. Targets: ≥ 97% all-correct on seen pairs, ≥ 90% on held-out ones.
- R-precision at R = 1: the separately trained image–text matcher (`pretrained/scene-matcher`, never the GAN's
  D) ranks each picture's caption against 99 captions of *other* scenes from the same set. The same ranking
  of the rendered scenes of those captions is the ceiling.
- FID (Inception, pytorch-fid resize, via `generative.metrics`) of ``--fid-count`` generated pictures against
  the rendered scenes of the same captions, and of those rendered scenes against the same scenes rendered
  again with other position jitter (the floor at this N); the scene reader's feature-space Fréchet distance
  on all pictures too.
- Variety: how much the pictures of one caption differ across noise seeds, beside how much renderings of its
  scene differ by position jitter alone. A pixel loss can make G ignore its noise; this shows whether it did.
- Background: the level and spread of G's pixels where the rendered scene is plain background (at least two
  pixels from any thing, beyond the jitter), which the judges may or may not notice.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import RESULTS_DIR, describe, measured_weights, model_label, run_info, write_results  # noqa: E402
from generative.checkpoints import SCENE_MATCHER, SCENE_READER, TEXT2IMG  # noqa: E402
from generative.data.image_sets import ArrayImages  # noqa: E402
from generative.data.scene_sets import BENCHMARK_SEEDS, TRAIN_SEEDS, SceneSet, make_scene_set  # noqa: E402
from generative.data.shapes import BACKGROUND, make_example, render  # noqa: E402
from generative.hub import load_metrics  # noqa: E402
from generative.metrics.alignment import ATTRIBUTE_HEADERS, all_correct, attribute_accuracy  # noqa: E402
from generative.metrics.features import extract  # noqa: E402
from generative.metrics.fid import compare, make_extractor  # noqa: E402
from generative.metrics.frechet import GaussianStats, frechet_distance  # noqa: E402
from generative.models.matcher import draw_distractors, own_caption_wins  # noqa: E402
from generative.models.scene_reader import SceneReader, read_all  # noqa: E402
from generative.models.text2img import draw_captions  # noqa: E402
from generative.provenance import script_arguments  # noqa: E402
from training import train_text2img  # noqa: E402
from training.loop import positive_int, run_script, seed_int, writable_folder  # noqa: E402

TARGETS = {"seen": 0.97, "held-out": 0.90}
SPLITS = {"seen": "train", "held-out": "held-out"}
DISTRACTORS = 99
CANDIDATES_PER_CAPTION = 20
VARIETY_CAPTIONS, VARIETY_DRAWS = 200, 8


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=TEXT2IMG.source(), help="the text-to-image checkpoint (folder or Hub repo)")
    parser.add_argument("--count", type=positive_int, default=2000, help="captions per set")
    parser.add_argument("--fid-count", type=positive_int, default=1000,
                        help="pictures per side of the FID, half from each set (Inception on a CPU: ~15/s)")
    parser.add_argument("--seed", type=seed_int, default=0, help="noise seed of the pictures")
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.count <= DISTRACTORS:
        parser.error(f"--count must be at least {DISTRACTORS + 1}: R-precision ranks each caption against "
                     f"{DISTRACTORS} others of the set, got {args.count}")
    if args.fid_count < 2:
        parser.error(f"--fid-count must be at least 2, one picture from each set, got {args.fid_count}")
    return args


def training_captions(model_source_dir: str) -> set[str]:
    """The caption strings the checkpoint was trained on, rebuilt from the command in its metrics.json."""
    metrics = load_metrics(model_source_dir)
    if not metrics or "command" not in metrics:
        raise SystemExit(f"error: {model_source_dir} has no metrics.json with the command that trained it, from which "
                         "this benchmark rebuilds the training captions so that it measures new captions only")
    args = train_text2img.parse_args(script_arguments(metrics["command"]))
    count = min(args.train_scenes, args.limit_train or args.train_scenes)
    return {make_example(TRAIN_SEEDS + i, "train")[1] for i in range(count)}


def new_caption_set(split: str, count: int, seen_before: set[str]) -> SceneSet:
    """``count`` scenes of ``split`` from the benchmark seeds whose captions are not among ``seen_before``."""
    # most short captions of seen pairs occur among 100,000 training captions, so many scenes are drawn
    scenes = make_scene_set(CANDIDATES_PER_CAPTION * count, BENCHMARK_SEEDS + (0 if split == "train" else 10_000_000), split)
    keep = [i for i, text in enumerate(scenes.captions) if text not in seen_before][:count]
    if len(keep) < count:
        raise SystemExit(f"only {len(keep)} new {split} captions among {len(scenes):,} scenes")
    return scenes.select(keep)


def drawn_right_given_reading(read_right: torch.Tensor, drawn_right: torch.Tensor) -> dict[str, dict]:
    """All-correct share (None for no captions) of the pictures of captions the text encoder read right, and of
    those it misread."""
    return {label: {"n": int(rows.sum()), "all": drawn_right[rows].float().mean().item() if rows.any() else None}
            for label, rows in (("read right", read_right), ("misread", ~read_right))}


@torch.inference_mode()
def reader_features(reader: SceneReader, images: torch.Tensor) -> GaussianStats:
    features = torch.cat([reader.features(chunk) for chunk in images.split(1000)]).double().numpy()
    return GaussianStats(features.mean(0), np.cov(features, rowvar=False), len(features))


def rerender(scenes: list, seed: int) -> torch.Tensor:
    """The same scenes drawn again with other position jitter: the floor a perfect generator would reach."""
    rng = np.random.default_rng(seed)
    return torch.from_numpy(np.stack([render(scene, rng) for scene in scenes])).permute(0, 3, 1, 2).float() / 255


def spread(draws: torch.Tensor) -> float:
    """Mean over captions and pixels of the standard deviation across draws; ``draws`` is (draws, N, 3, H, W)."""
    return draws.std(0).mean().item()


def background_level(pictures: torch.Tensor, rendered: torch.Tensor) -> dict[str, float]:
    """Mean and standard deviation (0–255) of ``pictures`` where ``rendered`` (uint8) is background two pixels deep."""
    thing = (rendered != torch.tensor(BACKGROUND, dtype=rendered.dtype)[:, None, None]).any(1, keepdim=True).float()
    background = torch.nn.functional.max_pool2d(thing, 5, stride=1, padding=2) == 0
    values = pictures[background.expand_as(pictures)] * 255
    return {"mean": values.mean().item(), "sd": values.std().item(), "rendered": float(BACKGROUND[0])}


def to_hwc(images: torch.Tensor) -> np.ndarray:
    return (images.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = run_info(__file__, argv)
    model = TEXT2IMG.load(args.model)
    reader, matcher = SCENE_READER.load(), SCENE_MATCHER.load()
    seen_before = training_captions(args.model)
    sets = {name: new_caption_set(split, args.count, seen_before) for name, split in SPLITS.items()}
    try:  # before the pictures: a small set may repeat too many scenes to rank its captions
        distractors = {name: draw_distractors(scenes.scenes, DISTRACTORS, seed=1) for name, scenes in sets.items()}
    except ValueError as err:
        raise SystemExit(f"error: {err}; use a larger --count") from None

    alignment, by_things, r_precision, r_precision_real, pictures, text_reading, given_reading = {}, {}, {}, {}, {}, {}, {}
    r_precision_by_things = {}
    for name, scenes in sets.items():
        reading = model.read_captions(scenes.captions)
        text_reading[name] = attribute_accuracy(reading, scenes.targets)
        pictures[name] = (draw_captions(model, scenes.captions, args.seed) * 255).round() / 255  # as a PNG stores them
        readout = read_all(reader, pictures[name])
        alignment[name] = attribute_accuracy(readout, scenes.targets)
        given_reading[name] = drawn_right_given_reading(all_correct(reading, scenes.targets), all_correct(readout, scenes.targets))
        things = torch.tensor([len(s.things) for s in scenes.scenes])
        by_things[name] = {f"{k} thing{'s' * (k > 1)}": attribute_accuracy({key: v[things == k] for key, v in readout.items()},
                                                                        {key: v[things == k] for key, v in scenes.targets.items()})
                           | {"n": int((things == k).sum())} for k in (1, 2)}
        wins = own_caption_wins(matcher, pictures[name], scenes.captions, distractors[name]).float()
        r_precision[name] = wins.mean().item()
        r_precision_by_things[name] = {f"{k} thing{'s' * (k > 1)}": wins[things == k].mean().item() for k in (1, 2)}
        r_precision_real[name] = own_caption_wins(matcher, scenes.images.float() / 255, scenes.captions,
                                                  distractors[name]).float().mean().item()
        print(f"{name}: alignment {alignment[name]}, R-precision {r_precision[name]:.4f} (real {r_precision_real[name]:.4f})")

    # FID: half the pictures from each set against the rendered scenes of the same captions
    half = args.fid_count // 2
    generated = torch.cat([pictures[name][:half] for name in sets])
    rendered = torch.cat([sets[name].images[:half] for name in sets]).float() / 255
    scenes = [scene for name in sets for scene in sets[name].scenes[:half]]
    extractor = make_extractor("inception", "pytorch-fid", torch.device("cpu"))
    features = {label: extract(ArrayImages(to_hwc(images), label), extractor)
                for label, images in (("generated", generated), ("rendered", rendered),
                                      ("rendered again", rerender(scenes, seed=1)))}
    fid = compare(features["rendered"], features["generated"]).fid
    fid_floor = compare(features["rendered"], features["rendered again"]).fid
    all_generated, all_rendered = torch.cat(list(pictures.values())), torch.cat([s.images for s in sets.values()]).float() / 255
    other_rendered = rerender([scene for s in sets.values() for scene in s.scenes], seed=2)
    reader_fd = frechet_distance(reader_features(reader, all_rendered), reader_features(reader, all_generated))
    reader_fd_floor = frechet_distance(reader_features(reader, all_rendered), reader_features(reader, other_rendered))

    captions, scenes = sets["seen"].captions[:VARIETY_CAPTIONS], sets["seen"].scenes[:VARIETY_CAPTIONS]
    variety = {"generated": spread(torch.stack([draw_captions(model, captions, args.seed + k) for k in range(VARIETY_DRAWS)])),
               "rendered": spread(torch.stack([rerender(scenes, seed=10 + k) for k in range(VARIETY_DRAWS)]))}

    report = info | {"model": model_label(args.model),
                     "weights_sha256": measured_weights(args.model, SCENE_READER.source(), SCENE_MATCHER.source()),
                     "pictures_per_split": args.count, "noise_seed": args.seed,
                     "targets_all_correct": TARGETS, "text_encoder_reading": text_reading, "alignment": alignment,
                     "alignment_given_text_reading": given_reading,
                     "alignment_by_number_of_things": by_things,
                     "r_precision": r_precision, "r_precision_real": r_precision_real, "distractors": DISTRACTORS,
                     "r_precision_by_number_of_things": r_precision_by_things,
                     "background": background_level(pictures["seen"], sets["seen"].images),
                     "fid": fid, "fid_real_floor": fid_floor, "fid_n": len(generated),
                     "reader_frechet_distance": reader_fd, "reader_frechet_floor": reader_fd_floor,
                     "reader_frechet_n": len(all_rendered), "variety": variety,
                     "variety_captions": len(captions), "variety_draws": VARIETY_DRAWS}
    write_results("text2img_quality", report, markdown(report, info), args.out_dir)


def markdown(report: dict, info: dict) -> str:
    def row(label, acc):
        return f"| {label} | " + " | ".join(f"{acc[k]:.2%}" for k in ("shape", "colour", "size", "all")) + " |"

    def share(cell):
        return f"{cell['all']:.2%} of {cell['n']:,}" if cell["n"] else "none"

    rows = []
    for name in SPLITS:
        rows.append(row(f"**{name} pairs, all**", report["alignment"][name]))
        for label, acc in report["alignment_by_number_of_things"][name].items():
            rows.append(row(f"{name} pairs, {label} (n = {acc['n']:,})", acc))
    verdicts = "; ".join(f"{name}: {report['alignment'][name]['all']:.2%} vs ≥ {target:.0%} → "
                         f"**{'met' if report['alignment'][name]['all'] >= target else 'NOT met'}**"
                         for name, target in report["targets_all_correct"].items())
    r, real = report["r_precision"], report["r_precision_real"]
    return f"""# Text-to-image toy: caption alignment, R-precision, FID

{describe(info)}
- Model: `{report['model']}`; judges: `pretrained/scene-reader` (alignment), `pretrained/scene-matcher` (R-precision)
- {report['pictures_per_split']:,} captions per set, one picture each (noise seed {report['noise_seed']}); seen-pair captions are
  all absent from the model's training captions.

## Caption alignment (scene reader)

Shape is scored on all five position slots (a missing, misplaced or extra thing is wrong), colour and size on the
slots the caption fills; "all" = every attribute of the picture right.

| captions | {ATTRIBUTE_HEADERS} |
|---|---|---|---|---|
{chr(10).join(rows)}

Targets (all attributes): {verdicts}.

## What the text encoder reads from the same captions (its own heads; no picture involved)

| captions | {ATTRIBUTE_HEADERS} |
|---|---|---|---|---|
{chr(10).join(row(f"{name} pairs", report["text_encoder_reading"][name]) for name in SPLITS)}

Pictures drawn all-correct, by whether the text encoder read the caption right (which of the two loses a caption):

| captions | encoder read right | encoder misread |
|---|---|---|
{chr(10).join(f"| {name} pairs | " + " | ".join(share(report["alignment_given_text_reading"][name][k]) for k in ("read right", "misread")) + " |"
              for name in SPLITS)}

## R-precision (R = 1, {report['distractors']} distractor captions of other scenes)

| captions | generated pictures | rendered scenes (ceiling) |
|---|---|---|
| seen pairs | {r['seen']:.2%} | {real['seen']:.2%} |
| held-out pairs | {r['held-out']:.2%} | {real['held-out']:.2%} |

Generated pictures by number of things: {"; ".join(f"{name} pairs " + ", ".join(f"{label} {value:.2%}" for label, value in
                                                                      report["r_precision_by_number_of_things"][name].items())
                                           for name in SPLITS)}.

## Distribution distance

| measure | generated vs rendered (same captions) | rendered vs the same scenes rendered again (other jitter) |
|---|---|---|
| FID (Inception, pytorch-fid resize), N = {report['fid_n']:,} per side | {report['fid']:.2f} | {report['fid_real_floor']:.2f} |
| Fréchet distance in the scene reader's 256-d features, N = {report['reader_frechet_n']:,} | {report['reader_frechet_distance']:.3f} | {report['reader_frechet_floor']:.3f} |

N = {report['fid_n']:,} < 2,048: FID is biased upwards at this N; compare it only with the floor beside it.

## Variety among pictures of one caption

Standard deviation of each pixel across {report['variety_draws']} pictures of the same caption, averaged over pixels and the first
{report['variety_captions']} seen-pair captions: generated pictures differ by their noise, rendered scenes by their position jitter.

| generated ({report['variety_draws']} noise seeds) | rendered ({report['variety_draws']} jitters) |
|---|---|
| {report['variety']['generated']:.4f} | {report['variety']['rendered']:.4f} |

## Background

Where the rendered scene is plain background (at least two pixels from any thing), seen-pair pictures have a mean
level of {report['background']['mean']:.1f} (σ {report['background']['sd']:.1f}) on a 0–255 scale; rendered scenes have exactly {report['background']['rendered']:.0f}.
"""


if __name__ == "__main__":
    run_script(main)
