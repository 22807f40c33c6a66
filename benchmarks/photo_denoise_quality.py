"""Photo denoising on the standard test sets: BSD68 and Set12 (grey), CBSD68 and Kodak24 (colour).

    python benchmarks/photo_denoise_quality.py --data-root ../shared/datasets
    python benchmarks/photo_denoise_quality.py --data-root ../shared/datasets --limit 2 --sigmas 25 --no-bm3d \\
        --out-dir /tmp/photo-quick   # quick check
    python benchmarks/photo_denoise_quality.py --data-root ../shared/datasets \\
        --reuse-baselines benchmarks/results/photo_denoise_quality.json   # a new checkpoint

The published protocol (``generative/photo.py``): white Gaussian noise with σ on the 0–255 scale, image
*i* of a set with seed *i*, not clipped; every output clipped and quantised to 8 bits; PSNR over the
whole image, averaged over the set. Every method sees the same noisy images, so the report also compares the
model with BM3D image by image (a paired t interval on the mean margin, and the images it is ahead on).

- **this model**: blind (never told σ). Colour photos one channel at a time, in the opponent colour
  space and, for comparison, in R, G, B. On the grey sets also its ×8 geometric self-ensemble (the mean
  over the eight flips and rotations, as "+" models in the literature report it), at eight times the cost.
- **BM3D** (Dabov et al. 2007; the `bm3d` package of its authors' group, CBM3D for colour) and
  **non-local means** (scikit-image, the settings its documentation suggests: 5×5 patches, search
  distance 6, h = 0.8σ, fast mode) are *told* the true σ, as in the published tables.
- The published numbers are quoted from the DnCNN authors' repository (github.com/cszn/DnCNN, README).

``--reuse-baselines`` takes the noisy-input, BM3D and non-local-means rows (and their times) from an
earlier results file instead of recomputing them: they depend only on the images and seeds, not on the
model, and BM3D is most of the 54 minutes of a full run. The report names the run they come from. The image-by-image
comparison needs that run to have kept each image's score (reports since 2026-12-06 do).

Goals (issue 7): beat BM3D at every σ on BSD68, and reach DnCNN-S (29.23 dB) at σ = 25.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import (RESULTS_DIR, describe, hardware_line, load_conditions, measured_weights, model_label,  # noqa: E402
                               run_info, write_results)
from generative.checkpoints import PHOTO_DENOISER  # noqa: E402
from generative.data.photo_sets import COLOR_TEST_SETS, GRAY_TEST_SETS, load_photo_set, photo_set_dir  # noqa: E402
from generative.hub import load_metrics  # noqa: E402
from generative.models import PhotoDenoiser  # noqa: E402
from generative.photo import (PUBLISHED_BSD68_PSNR, COLOR_MODES, add_white_noise, beats_at_every_sigma, denoise_photo,  # noqa: E402
                              BM3D_ROW, MODEL_ROW, margins_text, model_row, paired_row, paired_words, psnr_8bit)
from training.loop import positive_int, run_script, writable_folder  # noqa: E402

NOISY, MODEL, BM3D, NLM = "noisy input", MODEL_ROW, BM3D_ROW, "non-local means (told σ)"
ENSEMBLE = f"{MODEL}, ×8 self-ensemble"
MODEL_FREE = (NOISY, BM3D, NLM)  # rows that depend only on the images and seeds
PUBLISHED_BSD68 = {"BM3D (published)": PUBLISHED_BSD68_PSNR["BM3D"],
                   "DnCNN-S (published, one model per σ)": PUBLISHED_BSD68_PSNR["DnCNN-S"],
                   "DnCNN-B (published, blind)": PUBLISHED_BSD68_PSNR["DnCNN-B"]}
DNCNN_S_PUBLISHED_25 = PUBLISHED_BSD68_PSNR["DnCNN-S"][25]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=None, help="folder holding denoising/<set>/*.png (env: GALLERY_DATA_ROOT)")
    parser.add_argument("--model", default=PHOTO_DENOISER.source(), help="checkpoint folder or Hub repo id")
    test_sets = [*GRAY_TEST_SETS, *COLOR_TEST_SETS]
    parser.add_argument("--sets", nargs="+", choices=test_sets, default=test_sets)
    parser.add_argument("--sigmas", nargs="+", type=positive_int, default=[15, 25, 50])
    parser.add_argument("--limit", type=positive_int, default=None, help="the first N images of each set only (quick runs)")
    parser.add_argument("--bm3d", action=argparse.BooleanOptionalAction, default=True, help="BM3D on the grey sets (4–5.5 s an image here)")
    parser.add_argument("--color-bm3d", nargs="*", choices=COLOR_TEST_SETS, default=None, metavar="SET",
                        help="colour sets to run CBM3D on (about 17 s a Kodak image here; default: Kodak24, or none "
                             "with --no-bm3d)")
    parser.add_argument("--ensemble", action=argparse.BooleanOptionalAction, default=True,
                        help="also the model's ×8 geometric self-ensemble on the grey sets (8× the model's time)")
    parser.add_argument("--reuse-baselines", type=Path, metavar="JSON", default=None,
                        help="an earlier photo_denoise_quality.json: take its noisy-input, BM3D and non-local-means rows "
                             "instead of recomputing them (same images and seeds; checked by image count)")
    parser.add_argument("--jobs", type=positive_int, default=2, help="processes for BM3D and non-local means")
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.color_bm3d is None:
        args.color_bm3d = ["Kodak24"] if args.bm3d else []
    return args


def _bm3d(noisy: np.ndarray, sigma: float) -> np.ndarray:
    import bm3d

    denoise = bm3d.bm3d_rgb if noisy.ndim == 3 else bm3d.bm3d
    return np.asarray(denoise(noisy, sigma_psd=sigma / 255))


def non_local_means_told_sigma(noisy: np.ndarray, sigma: float) -> np.ndarray:
    """The NLM row: scikit-image's non-local means told the true σ, with its documented settings (h = 0.8σ)."""
    from skimage.restoration import denoise_nl_means

    s = sigma / 255
    return denoise_nl_means(noisy, h=0.8 * s, sigma=s, patch_size=5, patch_distance=6, fast_mode=True,
                            channel_axis=-1 if noisy.ndim == 3 else None)


def _psnr_of(method, pair: tuple[np.ndarray, np.ndarray], sigma: float) -> float:
    clean, noisy = pair
    return psnr_8bit(clean, method(noisy, sigma))


def psnr_per_image(method, clean: list[np.ndarray], noisy: list[np.ndarray], sigma: float, pool, desc: str) -> list[float]:
    """``method(noisy, sigma)``'s PSNR on each image, in the set's order, spread over ``pool``'s processes."""
    work = partial(_psnr_of, method, sigma=sigma)
    pairs = list(zip(clean, noisy))
    scores = pool.map(work, pairs) if pool else map(work, pairs)
    return [float(score) for score in tqdm(scores, total=len(pairs), desc=desc, leave=False)]


def earlier_baselines(path: Path | None) -> tuple[dict[str, dict], dict | None]:
    """An earlier report's sets by name, and where their model-free rows were measured (date and command)."""
    if path is None:
        return {}, None
    if not path.is_file():
        raise SystemExit(f"error: --reuse-baselines: no results file at {path}; run the benchmark once without it")
    try:
        report = json.loads(path.read_text())
        origin = report.get("baselines_from") or {key: report[key] for key in ("date", "command", "hardware")}
        return {s["set"]: s for s in report["sets"]}, origin
    except (ValueError, KeyError, TypeError, AttributeError) as err:  # another file, or another script's JSON
        raise SystemExit(f"error: --reuse-baselines: {path} is not a photo_denoise_quality.json "
                         f"({type(err).__name__}: {err})") from None


def evaluate_set(name: str, model: PhotoDenoiser, args, pool, earlier: dict | None = None) -> dict:
    """Every method's PSNR on set ``name`` at each σ, per image and as the set's mean; model-free rows come from
    ``earlier`` where it has them."""
    images = list(load_photo_set(name, args.data_root).values())[: args.limit]
    if earlier and earlier["n_images"] != len(images):
        raise SystemExit(f"error: --reuse-baselines: {name} had {earlier['n_images']} images there and {len(images)} here")
    color = images[0].ndim == 3
    rows: dict[str, dict[int, float]] = {}
    per_image: dict[str, dict[int, list[float]]] = {}
    seconds: dict[str, float] = {}

    def measure(method: str, sigma: int, fn) -> None:
        reused = (earlier or {}).get("psnr", {}).get(method, {}).get(str(sigma)) if method in MODEL_FREE else None
        if reused is not None:
            rows.setdefault(method, {})[sigma] = reused
            reused_images = earlier.get("psnr_per_image", {}).get(method, {}).get(str(sigma))
            if reused_images is not None:  # reports before 2026-12-06 kept only the means
                per_image.setdefault(method, {})[sigma] = reused_images
            seconds[method] = seconds.get(method, 0.0) + earlier["seconds_per_image"][method] * len(images)
            return
        started = time.perf_counter()
        scores = fn()
        seconds[method] = seconds.get(method, 0.0) + time.perf_counter() - started
        per_image.setdefault(method, {})[sigma] = [round(score, 4) for score in scores]
        rows.setdefault(method, {})[sigma] = float(np.mean(scores))

    for sigma in args.sigmas:
        noisy = [add_white_noise(image, sigma, seed) for seed, image in enumerate(images)]
        measure(NOISY, sigma, lambda: [psnr_8bit(c, x) for c, x in zip(images, noisy)])
        for mode in COLOR_MODES if color else ("grey",):
            label = model_row(mode if color else None)
            measure(label, sigma, lambda: [psnr_8bit(c, denoise_photo(model, x, mode)) for c, x in zip(images, noisy)])
        if args.ensemble and not color:
            measure(ENSEMBLE, sigma, lambda: [psnr_8bit(c, denoise_photo(model, x, ensemble=True)) for c, x in zip(images, noisy)])
        measure(NLM, sigma, lambda: psnr_per_image(non_local_means_told_sigma, images, noisy, sigma, pool, f"{name} σ={sigma} NLM"))
        if (args.bm3d and not color) or name in args.color_bm3d:
            measure(BM3D, sigma, lambda: psnr_per_image(_bm3d, images, noisy, sigma, pool, f"{name} σ={sigma} BM3D"))
        print(f"{name} σ={sigma}: " + ", ".join(f"{m} {r[sigma]:.2f}" for m, r in rows.items() if sigma in r), flush=True)
    if name == "BSD68" and args.limit is None:
        rows |= {method: {s: v for s, v in published.items() if s in args.sigmas} for method, published in PUBLISHED_BSD68.items()}
    return {"set": name, "n_images": len(images), "color": color, "psnr": rows, "psnr_per_image": per_image,
            "seconds_per_image": {m: s / len(images) / len(args.sigmas) for m, s in seconds.items()},
            "paired": paired_against(per_image)}


def paired_margin(ours: list[float], reference: list[float]) -> dict:
    """``ours`` − ``reference`` image by image: the mean margin (the same as the difference of the set means), its 95%
    confidence interval from the paired t distribution, and on how many images ``ours`` is ahead.

    Why paired: the images differ far more from one another (BSD68 spans about 10 dB) than the methods do on
    one image, so the differences on the same image are what tell a 0.1 dB lead from luck of the draw.
    """
    from scipy import stats

    differences = np.asarray(ours, dtype=np.float64) - np.asarray(reference, dtype=np.float64)
    n = differences.size
    mean = float(differences.mean())
    ci = None  # one image has no spread to judge
    if n > 1:
        half_width = float(stats.t.ppf(0.975, n - 1) * differences.std(ddof=1) / np.sqrt(n))
        ci = [mean - half_width, mean + half_width]
    return {"mean_db": mean, "ci95_db": ci, "ahead_on": int((differences > 0).sum()), "n_images": n}


def paired_against(per_image: dict[str, dict[int, list[float]]]) -> dict:
    """The model's rows against BM3D (told σ) image by image, at each σ both were measured at."""
    if BM3D not in per_image:
        return {}
    return {paired_row(method): {sigma: paired_margin(scores, per_image[BM3D][sigma])
                                 for sigma, scores in by_sigma.items() if sigma in per_image[BM3D]}
            for method, by_sigma in per_image.items() if method.startswith(MODEL)}


def goals(sets: list[dict]) -> dict:
    """The issue's goals on BSD68, for the model and its self-ensemble: above BM3D (measured here, and published)
    at every σ; DnCNN-S's 29.23 dB at σ = 25."""
    bsd = next((s for s in sets if s["set"] == "BSD68"), None)
    out = {}
    for ours_name in (MODEL, ENSEMBLE):
        if bsd is None or ours_name not in bsd["psnr"]:
            continue
        ours = bsd["psnr"][ours_name]
        for reference in (BM3D, "BM3D (published)"):
            if reference in bsd["psnr"]:
                out[f"{ours_name} beats {reference} at every σ"] = beats_at_every_sigma(ours, bsd["psnr"][reference])
        if 25 in ours:
            out[f"{ours_name} reaches DnCNN-S at σ=25"] = {"met": ours[25] >= DNCNN_S_PUBLISHED_25,
                                                           "margin_db": {25: ours[25] - DNCNN_S_PUBLISHED_25}}
    return out


def to_markdown(report: dict) -> str:
    sigmas = report["sigmas"]
    tables = []
    for result in report["sets"]:
        head = f"| method | {' | '.join(f'σ={s}' for s in sigmas)} | s / image / σ |\n|---|{'---|' * len(sigmas)}---|"
        lines = []
        for method, values in result["psnr"].items():
            cells = " | ".join(f"{values[s]:.2f}" if s in values else "—" for s in sigmas)
            secs = result["seconds_per_image"].get(method)
            name = f"**{method}**" if method.startswith(MODEL) else method
            lines.append(f"| {name} | {cells} | {f'{secs:.2f}' if secs is not None else 'published'} |")
        kind = "colour" if result["color"] else "grey"
        tables.append(f"### {result['set']} ({result['n_images']} {kind} images)\n\n{head}\n" + "\n".join(lines)
                      + paired_lines(result.get("paired", {})))
    goal_lines = "\n".join(f"- {name}: **{'met' if g['met'] else 'NOT met'}** ("
                           + margins_text(g["margin_db"]) + ")"
                           for name, g in report["goals"].items()) or "- (BSD68 was not measured in this run)"
    return f"""# Photo denoising quality (PSNR, dB)

{describe(report)}
- Model: `{report['model']}`, {report['parameters']:,} parameters (trained with `{report['model_training_command']}`)
- Protocol: white Gaussian noise, σ on the 0–255 scale, image *i* of a set with seed *i*, noisy image not clipped;
  outputs clipped and quantised to 8 bits; PSNR over the whole image, mean over the set.
- This model is blind; BM3D and non-local means are given the true σ. Published rows are quoted from
  github.com/cszn/DnCNN (Zhang et al. 2017), not measured here. Took {report['seconds'] / 60:.1f} min.{reused_line(report)}

{(chr(10) * 2).join(tables)}

Goals on BSD68{goals_scope(report)}:

{goal_lines}
"""


def goals_scope(report: dict) -> str:
    """Nothing for a whole-set run; a quick run's goals are of its first images only, not the benchmark's verdict."""
    limit = report.get("limit")  # absent from the reports written before it was recorded, which all ran on whole sets
    return f" (its first {limit} images only: the goals are for the whole set)" if limit else ""


def paired_lines(paired: dict) -> str:
    """The image-by-image comparisons under a set's table, one line per model row."""
    if not paired:
        return ""
    lines = [f"- {comparison}: " + "; ".join(f"σ={sigma}: {paired_words(margin)}" for sigma, margin in by_sigma.items())
             for comparison, by_sigma in paired.items()]
    return ("\n\nImage by image (the mean difference, a 95% confidence interval for it from the paired t distribution over "
            "the set's images, and the images ahead):\n\n" + "\n".join(lines))


def reused_line(report: dict) -> str:
    origin = report.get("baselines_from")
    if not origin:
        return ""
    unpaired = [s["set"] for s in report["sets"] if BM3D in s["psnr"] and not s.get("paired")]
    return (f"\n- The noisy-input, BM3D and non-local-means rows and times are reused from the run of {origin['date']} "
            f"(`{origin['command']}`, {hardware_line(origin['hardware'])}): they do not depend on the model."
            + (f" That run kept only set means, so there is no image-by-image comparison with BM3D on {', '.join(unpaired)}: "
               "run once without `--reuse-baselines` for one." if unpaired else ""))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = run_info(__file__, argv)
    start = time.perf_counter()
    for name in args.sets:  # a missing set fails now, not after the sets before it
        photo_set_dir(name, args.data_root)
    model = PHOTO_DENOISER.load(args.model)
    earlier, origin = earlier_baselines(args.reuse_baselines)
    pool = ProcessPoolExecutor(args.jobs) if args.jobs > 1 else None
    try:
        sets = [evaluate_set(name, model, args, pool, earlier.get(name)) for name in args.sets]
    finally:
        if pool:
            pool.shutdown()
    report = info | {
        "model": model_label(args.model), "weights_sha256": measured_weights(args.model),
        "parameters": sum(p.numel() for p in model.parameters()),
        "model_training_command": (load_metrics(args.model) or {}).get("command", "unknown (no metrics.json)"),
        "sigmas": args.sigmas, "limit": args.limit, "sets": sets, "goals": goals(sets), "baselines_from": origin,
        "seconds": round(time.perf_counter() - start, 1), "load_at_end": load_conditions(),
    }
    write_results("photo_denoise_quality", report, to_markdown(report), args.out_dir)
    print(to_markdown(report))


if __name__ == "__main__":
    run_script(main)
