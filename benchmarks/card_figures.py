"""Put the benchmarks' headline figures into the model cards whose benchmarks do not write them (the cGAN's and the
text-to-image model's; the VAE benchmark writes its own):

    python benchmarks/card_figures.py      # after rerunning cgan_quality.py, fid_full_run.py or text2img_quality.py

A training run writes its card with the figures it measured itself; the benchmarks measure more (FID, R-precision,
held-out captions) with separate seeds. Their figures go into a "Measured by the benchmarks" section only from
reports that measured the very weights in the folder (``demos.reports.measured_report``), so a retrained
checkpoint loses the section until its benchmarks are rerun.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from demos.cgan import accuracy_error  # noqa: E402
from demos.reports import RESULTS_DIR, measured_report  # noqa: E402
from demos.text2img import held_out_mix_words  # noqa: E402
from generative.checkpoints import CGAN, CLASSIFIER, SCENE_MATCHER, SCENE_READER, TEXT2IMG, Checkpoint  # noqa: E402
from training.loop import run_script  # noqa: E402

HEADING = "## Measured by the benchmarks"


def cgan_section(quality: dict, full_run: dict) -> str:
    scales = {scale["noise_scale"]: scale for scale in quality["main"]["scales"]}
    main = scales[1.0]
    lower = "; ".join(f"{scale['accuracy']:.2%} at noise scale {noise:g}" for noise, scale in scales.items() if noise != 1.0)
    samples, standard_error = accuracy_error(quality)
    margin = 1.96 * standard_error  # the 95% interval's half-width
    inception = next(run for run in full_run["runs"] if run["metric"] == "FID")
    kid, (precision, recall) = inception["kid"], inception["precision_recall"]
    return f"""{HEADING}

`benchmarks/results/cgan_quality.md` and `fid_full_run.md`, on these weights, with other samples than the training
script's ({quality['per_class']:,} per digit, seed {quality['seed']}; {full_run['count']:,} for FID, seed {full_run['seed']}):

- **Conditional accuracy** (`{quality['classifier']}` reads the requested digit): **{main['accuracy']:.2%}** at noise
  scale 1 (target ≥ 99%; 95% interval {main['accuracy'] - margin:.2%}–{main['accuracy'] + margin:.2%} for
  {samples:,} samples); {lower}: a lower scale buys accuracy with variety.
- **Variety:** each digit's spread in the classifier's features is {main['diversity_ratio_mean']:.2f}× that of the real
  test digits (the least varied digit: {main['diversity_ratio_min']:.2f}×).
- **Fréchet distance in the classifier's features** to the MNIST test digits: {main['feature_frechet_distance']:.2f}
  (10,000 real training digits, mostly ones the classifier trained on: {quality['real_floor_frechet']:.2f}).
- **FID** (Inception-v3 pool3, pytorch-fid resize, {inception['b']['n']:,} samples against the {inception['a']['n']:,}
  test digits): **{inception['value']:.2f}**; KID {kid[0]:.4f} ± {kid[1]:.4f}; precision / recall {precision:.3f} / {recall:.3f}.

Commands: `{quality['run']['command']}` ({quality['run']['date'][:10]}); `{full_run['command']}` ({full_run['date'][:10]}).
"""


def text2img_section(quality: dict) -> str:
    aligned, targets = quality["alignment"], quality["targets_all_correct"]
    rp, ceiling = quality["r_precision"], quality["r_precision_real"]
    return f"""{HEADING}

`benchmarks/results/text2img_quality.md`, on these weights, {quality['pictures_per_split']:,} fresh captions per set, one
picture each (noise seed {quality['noise_seed']}):

- **Caption alignment** (the scene reader `scene-reader`; every attribute of the picture right): seen pairs
  **{aligned['seen']['all']:.2%}** (target ≥ {targets['seen']:.0%}), held-out pairs **{aligned['held-out']['all']:.2%}**
  (target ≥ {targets['held-out']:.0%}). {held_out_mix_words(quality)}
- **R-precision** (R = 1, {quality['distractors']} distractor captions; the matcher `scene-matcher`): seen pairs
  {rp['seen']:.2%} (rendered scenes of the same captions: {ceiling['seen']:.2%}), held-out pairs {rp['held-out']:.2%}
  ({ceiling['held-out']:.2%}).
- **FID** (Inception, N = {quality['fid_n']:,} per side, biased upwards at this N): {quality['fid']:.2f} against the
  rendered scenes of the same captions; the same scenes rendered again: {quality['fid_real_floor']:.2f}.

Command: `{quality['command']}` ({quality['date'][:10]}).
"""


# each card's checkpoint → (the reports and the checkpoints each must have measured, the section made from them)
CARDS = {
    CGAN: ([("cgan_quality", (CGAN, CLASSIFIER)), ("fid_full_run", (CGAN, CLASSIFIER))], cgan_section),
    TEXT2IMG: ([("text2img_quality", (TEXT2IMG, SCENE_READER, SCENE_MATCHER))], text2img_section),
}


def section_for(checkpoint: Checkpoint, results_dir: Path = RESULTS_DIR) -> str | None:
    """The card section of the shipped ``checkpoint`` from its reports, or None unless every one measured its weights."""
    reports, make = CARDS[checkpoint]
    measured = [measured_report(report, *(judged.shipped for judged in checkpoints), results_dir=results_dir)
                for report, checkpoints in reports]
    return None if None in measured else make(*measured)


def with_section(card: str, section: str | None) -> str:
    """``card`` with its benchmark section replaced by ``section`` (added before "## Use"), or removed for None."""
    if HEADING in card:
        start = card.index(HEADING)
        end = card.find("\n## ", start + len(HEADING))
        card = card[:start] + (card[end + 1:] if end >= 0 else "")
    if section is None:
        return card
    use = card.index("## Use")
    return card[:use] + section + "\n" + card[use:]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    parse_args(argv)
    for checkpoint in CARDS:
        path = Path(checkpoint.shipped) / "README.md"
        section = section_for(checkpoint)
        path.write_text(with_section(path.read_text(), section))
        print(f"{path}: " + ("benchmark figures written" if section else
                             "no benchmark section: its reports did not measure these weights (rerun them first)"))


if __name__ == "__main__":
    run_script(main)
