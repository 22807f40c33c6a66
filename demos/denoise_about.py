"""What the Denoise tab says about its two models: what each is, how it was trained, and its measured quality,
built from the loaded checkpoint's metrics and the benchmarks' reports so the words follow the model that runs."""
from __future__ import annotations

import re
from pathlib import Path

from demos.photo import MAX_PHOTO_SIGMA
from demos.reports import COLOUR_BM3D_RUN, hardware_words
from generative.classical import CLASSICAL_DENOISERS
from generative.data.photo_sets import VALIDATION_IMAGES
from generative.metrics.image_quality import SSIM_SETTING
from generative.noise import TRAINING_LEVEL_RANGE
from generative.photo import BM3D_ROW, margins_text, paired_row, paired_words, shown_model_row


BM3D_ABSENT = (" BM3D is not installed here, so the tab shows the other three: its licence (Tampere University) allows "
               "non-commercial use only and no copy on a networked computer without the university's consent, so the "
               "gallery does not require it; `pip install bm3d` adds it to a local run.")


def comparison_markdown(report: dict) -> str:
    """The autoencoder's margin over the best classical filter at each level, from the benchmark."""
    rows = "\n".join(f"| {lv['noise'].replace('_', '-')} {lv['level']} | {lv['margin']['best_baseline']} "
                     f"| {lv['margin']['margin_db']:+.2f} dB |" for lv in report["levels"])
    return (f"\n\n**Against classical filters** ({report['test_set']}; median, blur and non-local means tuned per "
            f"level on held-out digits; BM3D on the first {report['n_bm3d']:,}): the autoencoder's PSNR minus the best "
            f"filter's, from `benchmarks/results/denoise_quality.md` (the tab runs each filter with one setting for every "
            "level, the median's and the blur's in their names, non-local means and BM3D from an estimated σ, so its "
            "scores can fall below these tuned ones):\n\n"
            f"| noise | best classical filter | margin |\n|---|---|---|\n{rows}")


def trained_levels() -> str:
    """"levels up to 0.7, 0.5 and 0.75", the training ranges of the three kinds, in the order the tab names them."""
    highs = [f"{TRAINING_LEVEL_RANGE[kind][1]:g}" for kind in ("gaussian", "salt_and_pepper", "masking")]
    return f"trained on levels up to {', '.join(highs[:-1])} and {highs[-1]} respectively"


def about_markdown(metrics: dict | None, comparison: dict | None = None) -> str:
    text = (
        "**What it is.** A *denoising autoencoder* (Vincent et al., 2008) is trained to undo corruption: "
        "it sees a damaged digit and must output the clean one. An encoder of strided convolutions squeezes the "
        "28×28 image into a short code; a decoder of transposed convolutions redraws the digit from that code. "
        "Only digit-like structure fits through the bottleneck, so the noise is left behind.\n\n"
        "**How this one was trained.** On the 55,000 MNIST training digits (the last 5,000 held out), each "
        "corrupted with its own random kind and level of Gaussian, salt-and-pepper or masking noise, so one *blind* "
        f"model handles all three ({trained_levels()}; the slider goes to 1, beyond them). Loss: binary cross-entropy "
        "between output and clean digit, its grey levels taken as the targets (squared error through the output sigmoid "
        "stalls at an all-black output on short runs).\n\n"
        "**Classical filters** (median, Gaussian blur, non-local means, BM3D) know nothing about digits; they only "
        "assume that images are smooth or self-similar, which is why they blur strokes or keep noise."
        f"{'' if 'BM3D' in CLASSICAL_DENOISERS else BM3D_ABSENT}\n\n"
        "Uploads and drawings are normalised as MNIST was made: grey levels, light ink on black, cropped to the ink, "
        "fitted in a 20×20 box and centred by centre of mass in 28×28. An upload marked *already noisy* is only "
        "brought to 28×28 as a whole (cropping would take its noise for ink), so the tab's own noisy digit, downloaded "
        "and uploaded again, comes back exactly."
    )
    if metrics:
        rows = "\n".join(f"| {r['noise'].replace('_', '-')} {r['level']} | {r['noisy_psnr']:.2f} / {r['noisy_ssim']:.3f} "
                         f"| {r['psnr']:.2f} / {r['ssim']:.3f} |" for r in metrics["denoising"])
        text += (f"\n\n**Measured on {metrics['test_set']}** (PSNR dB / SSIM, mean per digit; {SSIM_SETTING}):\n\n"
                 f"| noise | noisy input | this model |\n|---|---|---|\n{rows}\n\n"
                 f"{metrics['parameters']:,} parameters, {training_summary(metrics)}.")
    if comparison:
        text += comparison_markdown(comparison)
    return text


def training_summary(metrics: dict) -> str:
    """'trained 20 epochs on <hardware>', or for a checkpoint trained in stages their total and the last stage's hardware."""
    stages = metrics.get("stages", [])
    if len(stages) < 2:
        return f"trained {metrics['epochs']} epochs on {hardware_words(metrics['hardware'])}"
    return (f"trained {metrics['total_epochs']} epochs in {len(stages)} stages "
            f"({metrics['total_train_seconds'] / 60:.0f} min), the last on {hardware_words(metrics['hardware'])}")


def weighted_stages(metrics: dict) -> str:
    """Which training runs weighted the loss by σ (``--sigma-weight-power`` above 0): "training stages 4–9 of the 9",
    or "the last training stage", or "training" for a checkpoint trained in one run."""
    stages = metrics.get("stages", [])
    numbers = [i for i, stage in enumerate(stages, 1)
               if (power := re.search(r"--sigma-weight-power[= ](\S+)", stage["command"])) and float(power[1]) > 0]
    if len(numbers) < 2:
        return "the last training stage" if stages else "training"
    return f"training stages {stage_span(numbers)} of the {len(stages)}"


def stage_span(numbers: list[int]) -> str:
    """[4, 5, 6] → "4–6"; [1, 2, 3, 5, 6] → "1–3, 5–6": runs of consecutive stage numbers."""
    runs = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(f"{run[0]}–{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


def caution_on_test_sets(metrics: dict) -> str:
    """Which training stages each test set guided (a stage's ``guided_by`` in metrics.json, written by hand beside its
    note): a learner must not read the BSD68 margins as those of an untouched test set, which the tab's figures alone
    would suggest."""
    guided: dict[str, list[int]] = {}
    for number, stage in enumerate(metrics.get("stages", []), 1):
        for test_set in stage.get("guided_by", []):
            guided.setdefault(test_set, []).append(number)
    if not guided:
        return ""
    listed = "; ".join(f"{test_set}, stage{'s' if len(numbers) > 1 else ''} {stage_span(numbers)}"
                       for test_set, numbers in guided.items())
    return (f"\n\n**A caution:** the test sets were not untouched. The model card's notes record that their scores "
            f"guided training (they judged a stage, or decided whether another one ran): {listed}. So the figures on "
            f"{' and '.join(guided)} may be optimistic: they are not those of fresh test sets.")


def photo_about_markdown(metrics: dict | None, benchmark: dict | None) -> str:
    """What the photo denoiser is, and its measured PSNR (model card, then the benchmark's comparison). The noise
    range and training images are the checkpoint's own (its metrics.json), so a model retrained for one σ and loaded
    with --hub is not called blind."""
    trained = metrics or {}
    low, high = trained.get("min_sigma", 0), trained.get("max_sigma", MAX_PHOTO_SIGMA)
    levels = (f"It is *blind*: one model for any Gaussian noise level σ from {low:g} to {high:g} (0–255 scale), never "
              "told σ." if low < high else f"It was trained for one Gaussian noise level, σ = {high:g} (0–255 scale), "
              "as DnCNN-S was.")
    text = (
        "**The photo denoiser** is a small fully convolutional network in the style of DnCNN (Zhang et al., 2017): "
        "it predicts the *noise* in the image and subtracts it (residual learning), working on four half-resolution "
        f"sub-images as FFDNet does, so it runs on a CPU. {levels} Trained on "
        f"{trained['train_images'] if 'train_images' in trained else 'the'} Train400 images, {VALIDATION_IMAGES} more "
        "held out to choose settings (random patches, flips and rotations); loss: mean squared error between predicted "
        "and true noise. "
        "Colour photos are denoised one channel at a time in an opponent colour space (luminance and two colour "
        "differences, each scaled to the 0–1 range the model trained on). Large photos run in overlapping tiles whose seams are cut away, so the result equals one "
        "pass over the whole photo. The box “average over the 8 flips and rotations” denoises the eight flipped and "
        "rotated copies and averages them (a *self-ensemble*): the model's errors differ between copies, so the mean "
        "is a little better, at eight times the time. The scores are PSNR by the benchmark protocol (8-bit result, "
        f"whole image) and, on the 8-bit images (colour: the mean over R, G and B), {SSIM_SETTING}."
    )
    if metrics:
        if power := metrics.get("sigma_weight_power"):
            text += (f" {weighted_stages(metrics).capitalize()} divided each patch's squared error by (σ + 5)"
                     f"{'' if power == 1 else f'^{power:g}'}: "
                     "a denoiser's error grows with σ, so in a plain mean the noisiest patches dominate, while PSNR counts "
                     "every level alike.")
        rows = "\n".join(f"| {r['set']} | {r['sigma']} | {r['noisy_psnr']:.2f} | {r['psnr']:.2f} |" for r in metrics["denoising"])
        text += (f"\n\n**Measured** (PSNR dB, the published protocol, mean over each test set):\n\n"
                 f"| test set | σ | noisy input | this model |\n|---|---|---|---|\n{rows}\n\n"
                 f"{metrics['parameters']:,} parameters, {training_summary(metrics)}.{caution_on_test_sets(metrics)}")
    if benchmark:
        bsd = next((s for s in benchmark["sets"] if s["set"] == "BSD68"), None)
        if bsd:
            sigmas = benchmark["sigmas"]
            rows = "\n".join(f"| {method} | " + " | ".join(f"{values[str(s)]:.2f}" if str(s) in values else "—" for s in sigmas) + " |"
                             for method, values in bsd["psnr"].items())
            text += (f"\n\n**Against BM3D and DnCNN on BSD68** (`benchmarks/results/photo_denoise_quality.md`):\n\n"
                     f"| method | {' | '.join(f'σ={s}' for s in sigmas)} |\n|---|{'---|' * len(sigmas)}\n{rows}")
        goals = [f"- {name}: {'met' if goal['met'] else '**not met**'} ({margins_text(goal['margin_db'])})"
                 for name, goal in benchmark.get("goals", {}).items()]
        if goals:
            text += ("\n\nThe project's goals for this model on BSD68, with the margins (the ×8 self-ensemble is the tab's "
                     "“average over the 8 flips and rotations” box):\n\n" + "\n".join(goals))
        text += against_bm3d_run_here(benchmark)
    return text


def against_bm3d_run_here(benchmark: dict) -> str:
    """The model against BM3D run here, set by set: image by image where the report kept each image's score (how sure
    the BSD68 win of a tenth of a dB is), else the set means. The goals are judged on BSD68, and a learner should not
    read the win there as general (on Set12, CBSD68 and Kodak24 BM3D is ahead)."""
    lines = []
    for result in benchmark["sets"]:
        psnr = result["psnr"]
        ours_name = shown_model_row(psnr)
        bm3d = psnr.get(BM3D_ROW)  # one pass; colour: the tab's space; never the ×8 row or the published BM3D
        if ours_name is None or bm3d is None:
            continue
        name = result["set"] + (f" (CBM3D from its own run of {result['bm3d_from']['date'][:10]}, "
                                f"`benchmarks/results/{Path(COLOUR_BM3D_RUN).parent}/`)" if "bm3d_from" in result else "")
        if paired := result.get("paired", {}).get(paired_row(ours_name)):
            lines.append(f"- {name}: " + "; ".join(f"σ={sigma}: {paired_words(margin)}" for sigma, margin in paired.items()))
        elif result["set"] != "BSD68":  # the goals above give BSD68's means already
            ours = psnr[ours_name]
            lines.append(f"- {name}: {margins_text({s: ours[s] - bm3d[s] for s in ours if s in bm3d})}")
    if not lines:
        return ""
    paired_note = (" Where each image's score was kept: the mean margin, a 95% confidence interval for it (paired t over "
                   "the set's images, not adjusted for the several comparisons), and on how many images this model is ahead."
                   if any("95% CI" in line for line in lines) else "")
    return ("\n\n**Against BM3D run here, set by set** (told σ; CBM3D on colour sets; negative: BM3D is ahead; the goals "
            f"are judged on BSD68 only).{paired_note}\n\n" + "\n".join(lines))
