"""Which colour space the grey photo denoiser should work in, chosen on photos that are not test sets.

    python benchmarks/photo_color_spaces.py
    python benchmarks/photo_color_spaces.py --model /tmp/older-checkpoint --out-dir /tmp/results

The model is trained on grey images, so a colour photo is denoised one channel at a time. Three ways:

- **opponent, in range** (the library's, ``generative/photo.py``): luminance (R+G+B)/3 and two chroma
  channels, each scaled and offset to span [0, 1], the range of the grey training images;
- **opponent, orthonormal**: the same directions with unit-length rows, which keeps σ unchanged on
  every channel but lets luminance reach √3 ≈ 1.73, beyond anything the model saw in training;
- **R, G, B** one at a time.

Measured on the top-left 512×512 of six colour photos from scikit-image's sample data (which ships with
the package, so no download), at σ = 15, 25, 50 with the published protocol (image *i* with seed *i*).
None of them is in BSD68, Set12, CBSD68 or Kodak24, so the choice is not made on a test set.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import skimage.data
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import RESULTS_DIR, describe, load_conditions, model_label, run_info, write_results  # noqa: E402
from generative.checkpoints import PHOTO_DENOISER  # noqa: E402
from generative.hub import load_metrics  # noqa: E402
from generative.models import PhotoDenoiser  # noqa: E402
from generative.photo import add_white_noise, denoise_gray, denoise_in_opponent_space, denoise_photo, psnr_8bit  # noqa: E402
from training.loop import positive_int, run_script, writable_folder  # noqa: E402

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field")
CROP = 512
ORTHONORMAL_OPPONENT = np.array([[1, 1, 1], [1, 0, -1], [1, -2, 1]]) / np.sqrt([[3], [2], [6]])


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=PHOTO_DENOISER.source(), help="checkpoint folder or Hub repo id")
    parser.add_argument("--sigmas", nargs="+", type=positive_int, default=[15, 25, 50])
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    return parser.parse_args(argv)


def color_spaces(model: PhotoDenoiser) -> dict:
    return {"opponent, in range (the library's)": lambda noisy: denoise_photo(model, noisy, "opponent"),
            "opponent, orthonormal": lambda noisy: denoise_in_opponent_space(
                noisy, lambda channel: denoise_gray(model, channel), ORTHONORMAL_OPPONENT),
            "R, G, B": lambda noisy: denoise_photo(model, noisy, "rgb")}


def to_markdown(report: dict) -> str:
    sigmas = report["sigmas"]
    rows = "\n".join(f"| {name} | " + " | ".join(f"{values[s]:.2f}" for s in sigmas) + " |" for name, values in report["psnr"].items())
    return f"""# Colour space for the grey photo denoiser (PSNR, dB, mean over {len(report['photos'])} photos)

{describe(report)}
- Model: `{report['model']}` (trained with `{report['model_training_command']}`)
- Photos: the top-left {CROP}×{CROP} of scikit-image's {', '.join(report['photos'])}; none is in a test set.
- Protocol: white Gaussian noise, σ on the 0–255 scale, photo *i* with seed *i*, not clipped; outputs clipped
  and quantised to 8 bits; PSNR over the whole image. Took {report['seconds']:.0f} s.

| colour space | {' | '.join(f'σ={s}' for s in sigmas)} |
|---|{'---|' * len(sigmas)}
{rows}
"""


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = run_info(__file__, argv)
    start = time.perf_counter()
    model = PHOTO_DENOISER.load(args.model)
    photos = [getattr(skimage.data, name)()[:CROP, :CROP] for name in PHOTOS]
    psnr: dict[str, dict[int, float]] = {}
    for sigma in args.sigmas:
        noisy = [add_white_noise(photo, sigma, seed) for seed, photo in enumerate(photos)]
        for name, denoise in color_spaces(model).items():
            scores = [psnr_8bit(clean, denoise(x)) for clean, x in tqdm(list(zip(photos, noisy)), desc=f"σ={sigma} {name}", leave=False)]
            psnr.setdefault(name, {})[sigma] = float(np.mean(scores))
    report = info | {"model": model_label(args.model),
                     "model_training_command": (load_metrics(args.model) or {}).get("command", "unknown (no metrics.json)"),
                     "photos": list(PHOTOS), "sigmas": args.sigmas, "psnr": psnr,
                     "seconds": round(time.perf_counter() - start, 1), "load_at_end": load_conditions()}
    write_results("photo_color_spaces", report, to_markdown(report), args.out_dir)
    print(to_markdown(report))


if __name__ == "__main__":
    run_script(main)
