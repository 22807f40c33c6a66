"""What the text-to-image toy draws between two captions: the scene reader's readout along caption blends.

    python benchmarks/text2img_blends.py
    python benchmarks/text2img_blends.py --pairs 4 --out-dir /tmp/blends-quick   # quick check

GAN-INT (Reed et al. 2016) trains G on halfway blends of two captions' embeddings so that the space between
captions draws scenes too. The tab says how far that holds here; this measures it. For ``--pairs`` random pairs
of one-thing captions ("a large <colour> <shape> <position>", pair i drawn from seed 0's stream, its noise from
seed i), the tab's blend of ``--steps`` pictures is read by the scene reader, and each position along the blend
gets the share of pictures in which the reader finds nothing at all.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import RESULTS_DIR, describe, model_label, run_info, write_results  # noqa: E402
from demos.text2img import TextToImageTab, blend, read, readout_captions  # noqa: E402
from generative.checkpoints import TEXT2IMG  # noqa: E402
from generative.data.shapes import COLOURS, POSITION_PHRASES, SHAPES  # noqa: E402
from training.loop import positive_int, run_script, writable_folder  # noqa: E402

NOTHING = "nothing"  # the reader's readout of a picture with no shape in it


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=positive_int, default=40)
    parser.add_argument("--steps", type=positive_int, default=8, help="pictures per blend, both captions included (the tab's default)")
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error(f"--steps must be at least 2, a blend's two captions, got {args.steps}")
    return args


def random_caption(rng: np.random.Generator) -> str:
    position = POSITION_PHRASES[str(rng.choice(list(POSITION_PHRASES)))][0]
    return f"a large {rng.choice(list(COLOURS))} {rng.choice(SHAPES)} {position}"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = run_info(__file__, argv)
    tab = TextToImageTab()
    if tab.error:
        raise SystemExit(tab.error)
    rng = np.random.default_rng(0)
    empty = np.zeros(args.steps)
    for pair in range(args.pairs):
        a, b = random_caption(rng), random_caption(rng)
        readouts = readout_captions(read(tab.reader, blend(tab.model, a, b, args.steps, seed=pair)), None)
        empty += [text == NOTHING for text in readouts]
    share = (empty / args.pairs).tolist()
    report = info | {"model": model_label(TEXT2IMG.source()), "pairs": args.pairs, "steps": args.steps,
                     "share_nothing_by_step": share}
    row = " | ".join(f"{value:.1%}" for value in share)  # shares of 40 pairs are multiples of 2.5%
    markdown = f"""# Text-to-image toy: what the scene reader sees along caption blends

{describe(report)}
- Model: `{report['model']}`; {args.pairs} random pairs of one-thing captions, {args.steps} pictures per blend
  (the first is caption A, the last caption B).

| step | {' | '.join(str(step + 1) for step in range(args.steps))} |
|---|{'---|' * args.steps}
| pictures with nothing in them | {row} |
"""
    write_results("text2img_blends", report, markdown, args.out_dir)
    print(markdown)


if __name__ == "__main__":
    run_script(main)
