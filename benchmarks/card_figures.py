"""Put the benchmarks' headline figures into the model cards whose benchmarks do not write them (the cGAN's, the
text-to-image model's and the photo denoiser's; the VAE benchmark writes its own):

    python benchmarks/card_figures.py      # after rerunning cgan_quality.py, fid_full_run.py, text2img_quality.py
                                           # or photo_denoise_quality.py, or editing the photo denoiser's metrics.json

A training run writes its card with the figures it measured itself; the benchmarks measure more (FID, R-precision,
held-out captions) with separate seeds. Their figures go into a "Measured by the benchmarks" section only from
reports that measured the very weights in the folder (``demos.reports.measured_report``), so a retrained
checkpoint loses the section until its benchmarks are rerun. The photo denoiser's card is rendered anew from its
metrics.json and config.json first, so a note added to one of its training stages there reaches the card.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.photo_denoise_quality import BM3D, ENSEMBLE, NLM  # noqa: E402
from demos.cgan import accuracy_error  # noqa: E402
from demos.reports import COLOUR_BM3D_RUN, RESULTS_DIR, measured_report, with_bm3d_from  # noqa: E402
from demos.text2img import held_out_mix_words  # noqa: E402
from generative.checkpoints import CGAN, CLASSIFIER, PHOTO_DENOISER, SCENE_MATCHER, SCENE_READER, TEXT2IMG, Checkpoint  # noqa: E402
from generative.photo import paired_row, paired_words, shown_model_row  # noqa: E402
from training import train_photo_denoiser  # noqa: E402
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


def photo_section(quality: dict, colour_bm3d: dict | None) -> str:
    quality = with_bm3d_from(quality, colour_bm3d)
    rows = []
    for result in quality["sets"]:
        psnr = result["psnr"]
        ours = shown_model_row(psnr)
        for sigma in map(str, quality["sigmas"]):
            def cell(method: str) -> str:
                return f"{psnr[method][sigma]:.2f}" if sigma in psnr.get(method, {}) else "—"
            paired = result.get("paired", {}).get(paired_row(ours), {}).get(sigma)
            rows.append(f"| {result['set']} ({result['n_images']}) | {sigma} | **{cell(ours)}** | {cell(ENSEMBLE)} | {cell(BM3D)} | "
                        f"{cell(NLM)} | {paired_words(paired) if paired else '—'} |")
    origin = quality.get("baselines_from")
    aside = " (CBM3D on CBSD68 aside)" if any("bm3d_from" in result for result in quality["sets"]) else ""
    reused = (f" The BM3D and non-local-means columns{aside} are from the run of {origin['date'][:10]} (`{origin['command']}`)."
              if origin else "")
    without_bm3d = [result["set"] for result in quality["sets"] if BM3D not in result["psnr"]]
    unmeasured = f" BM3D was not run on {', '.join(without_bm3d)} in this report." if without_bm3d else ""
    unmeasured += "".join(f" CBM3D on {result['set']} is from its own run, `{result['bm3d_from']['command']}` "
                          f"({result['bm3d_from']['date'][:10]})." for result in quality["sets"] if "bm3d_from" in result)
    return f"""{HEADING}

`benchmarks/results/photo_denoise_quality.md`, on these weights. Every method denoises the same noisy images (image
*i* of a set with seed *i*); BM3D (CBM3D on colour photos) and non-local means are told the true σ, this model is not;
it denoises colour photos in the opponent colour space. The last column compares it with BM3D image by image: the mean
margin, a 95% confidence interval for it (paired t over the set's images), and on how many images it is
ahead.{unmeasured}{reused}

| test set (images) | σ | this model | ×8 self-ensemble | BM3D, run here | non-local means | this model − BM3D, image by image |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Command: `{quality['command']}` ({quality['date'][:10]}).
"""


# each card's checkpoint → (the reports and the checkpoints each must have measured, the section made from them, and
# what renders the rest of the card anew from the checkpoint's records, where something does)
CARDS = {
    CGAN: ([("cgan_quality", (CGAN, CLASSIFIER)), ("fid_full_run", (CGAN, CLASSIFIER))], cgan_section, None),
    TEXT2IMG: ([("text2img_quality", (TEXT2IMG, SCENE_READER, SCENE_MATCHER))], text2img_section, None),
    PHOTO_DENOISER: ([("photo_denoise_quality", (PHOTO_DENOISER,)), (COLOUR_BM3D_RUN, (PHOTO_DENOISER,))], photo_section,
                     train_photo_denoiser.card_of),
}
# Reports whose figures a card gives when they measured its weights and goes without otherwise (its section is made
# with None): CBM3D on CBSD68 is a run of its own, which a new checkpoint's card need not wait for.
OPTIONAL = {COLOUR_BM3D_RUN}


def written_card(checkpoint: Checkpoint) -> tuple[str, str | None]:
    """The shipped ``checkpoint``'s card as this script writes it, and its benchmark section (None: none written)."""
    render = CARDS[checkpoint][2]
    folder = Path(checkpoint.shipped)
    card = render(folder) if render else (folder / "README.md").read_text()
    section = section_for(checkpoint)
    return with_section(card, section), section


def section_for(checkpoint: Checkpoint, results_dir: Path = RESULTS_DIR) -> str | None:
    """The card section of the shipped ``checkpoint`` from its reports, or None unless every one measured its weights."""
    reports, make, _ = CARDS[checkpoint]
    measured = [measured_report(report, *(judged.shipped for judged in checkpoints), results_dir=results_dir)
                for report, checkpoints in reports]
    missing = [report for (report, _), found in zip(reports, measured) if found is None and report not in OPTIONAL]
    return None if missing else make(*measured)


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
        card, section = written_card(checkpoint)
        path.write_text(card)
        print(f"{path}: " + ("benchmark figures written" if section else
                             "no benchmark section: its reports did not measure these weights (rerun them first)"))


if __name__ == "__main__":
    run_script(main)
