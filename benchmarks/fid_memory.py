"""Does memory stay flat while ``extract`` streams 50,000 images?

    python benchmarks/fid_memory.py --data-root ../shared/datasets
    python benchmarks/fid_memory.py --data-root ../shared/datasets --stream 2000 --out-dir /tmp/fid-quick   # quick check

A zip of 50,000 MNIST training digits as PNG (the FID tab's upload path) is streamed through ``extract`` with
the real reading and pytorch-fid resizing, the real float64 moment accumulation over 2048-d features and
``--keep`` feature vectors, but a tiny stand-in network in place of Inception (average-pool to 8×8, then a
linear map to 2048-d): the real network would take about an hour here, and its memory per batch depends on the
batch size, not on N (benchmarks/fid_speed.py measures it). Resident memory is sampled in a thread, each
sample tagged with the number of images handed out so far; the peak up to a tenth of them (5,000 of 50,000) is
compared with the peak up to the last. The final statistics (the 2048×2048 covariance, computed once after the
last image) are reported apart.
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import RESULTS_DIR, describe, run_info, write_results  # noqa: E402
from benchmarks.fid_agreement import as_uint8  # noqa: E402
from benchmarks.rss import MB, RssSampler  # noqa: E402
from generative.data.image_sets import ImageSet, ZipImages  # noqa: E402
from generative.data.mnist import SPLIT_SIZES, load_mnist  # noqa: E402
from generative.metrics.features import BATCH_SIZE, RESIZES, Extractor, extract  # noqa: E402
from generative.metrics.inception import FEATURE_DIM  # noqa: E402
from training.loop import positive_int, run_script, writable_folder  # noqa: E402

CHECKPOINT_TENTHS = (1, 2, 4, 10)  # of --stream: 5,000, 10,000, 20,000 and 50,000 by default


class StandIn(nn.Module):
    """A cheap (N, 3, 299, 299) → (N, 2048) network, so that 50,000 images take minutes, not an hour."""

    def __init__(self):
        super().__init__()
        self.pool, self.linear = nn.AdaptiveAvgPool2d(8), nn.Linear(3 * 8 * 8, FEATURE_DIM)

    def forward(self, images):
        return self.linear(self.pool(images).flatten(1))


class Counted(ImageSet):
    """An image set that counts the images it has handed out; ``progress`` is one more once all are out."""

    def __init__(self, images: ImageSet):
        self.images, self.name, self.skipped = images, images.name, images.skipped
        self.count, self.finished = 0, False

    def __len__(self):
        return len(self.images)

    def __iter__(self):
        for image in self.images:
            self.count += 1
            yield image
        self.finished = True

    def progress(self) -> int:
        return self.count + self.finished


def write_zip(images: np.ndarray, path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:  # PNG is compressed already
        for i, image in enumerate(images):
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format="PNG")
            archive.writestr(f"digits/{i:05d}.png", buffer.getvalue())
    return path


def measure(args, root: Path) -> dict:
    digits = as_uint8(load_mnist("train", args.data_root, name="MNIST")[0])[: args.stream]
    path = write_zip(digits, root / "digits.zip")
    del digits
    images = Counted(ZipImages(path))
    extractor = Extractor(StandIn().eval(), RESIZES["pytorch-fid"], FEATURE_DIM, "stand-in", "pytorch-fid")
    with RssSampler(images.progress, interval=0.05) as sampler:
        start = time.perf_counter()
        features = extract(images, extractor, BATCH_SIZE, keep=args.keep)  # a tqdm bar: 50,000 images take minutes
        seconds = time.perf_counter() - start
    checkpoints = list(dict.fromkeys(args.stream * tenths // 10 for tenths in CHECKPOINT_TENTHS))
    peaks = {str(c): round(sampler.peak_mb(c), 1) for c in checkpoints}
    first, last = checkpoints[0], checkpoints[-1]
    return {"images": features.n, "zip_mb": round(path.stat().st_size / MB, 1), "keep": args.keep,
            "batch_size": BATCH_SIZE, "seconds": round(seconds, 1), "images_per_s": features.n / seconds,
            "samples": len(sampler.samples), "rss_before_mb": round(sampler.start_mb, 1),
            "peak_rss_mb_up_to": peaks, "first_checkpoint": first,
            "growth_while_streaming_mb": round(sampler.peak_mb(last) - sampler.peak_mb(first), 1),
            "peak_with_final_statistics_mb": round(sampler.peak_mb(), 1)}


def markdown_report(info: dict, m: dict) -> str:
    peaks = "\n".join(f"| {int(count):,} | {mb:,.1f} |" for count, mb in m["peak_rss_mb_up_to"].items())
    return f"""# FID features: memory while streaming {m['images']:,} images through `extract`

{describe(info)}

What was measured: a zip of {m['images']:,} MNIST training digits as PNG ({m['zip_mb']} MB, stored) read member by
member by `ZipImages`, decoded, resized to 299×299 (pytorch-fid convention), batched by {m['batch_size']}, passed
through a **stand-in network** (average-pool to 8×8 and a linear map to 2048-d; not Inception, which would take about
an hour here) and folded into the float64 running moments (2048 + 2048×2048), keeping the first {m['keep']:,}
feature vectors. So the data path and the accumulation are real; the network is not (its memory per batch is set
by the batch size, see `fid_speed.md`). Resident memory was sampled every 50 ms ({m['samples']:,} samples) in a
thread; it took {m['seconds']:.0f} s ({m['images_per_s']:.0f} images/s).

| images streamed so far | peak RSS up to then (MB) |
|---|---|
{peaks}

RSS before the run: {m['rss_before_mb']:,.1f} MB. Growth of the peak from {m['first_checkpoint']:,} to {m['images']:,} images:
**{m['growth_while_streaming_mb']:+,.1f} MB**. Peak including the final statistics (the 2048×2048 float64 covariance,
32 MB, made once after the last image): {m['peak_with_final_statistics_mb']:,.1f} MB.
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", help="folder with MNIST/raw (else $GALLERY_DATA_ROOT, else downloaded)")
    parser.add_argument("--stream", type=positive_int, default=50_000, help="images streamed")
    parser.add_argument("--keep", type=positive_int, default=1_000, help="feature vectors kept")
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if not 2 <= args.stream <= SPLIT_SIZES["train"]:  # extract needs 2 images
        parser.error(f"argument --stream: must be from 2 to {SPLIT_SIZES['train']:,} (the MNIST training digits), "
                     f"got {args.stream}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = run_info(__file__, argv)
    with tempfile.TemporaryDirectory(prefix="fid-memory-") as tmp:
        result = measure(args, Path(tmp))
    write_results("fid_memory", info | {"memory": result}, markdown_report(info, result), args.out_dir)


if __name__ == "__main__":
    run_script(main)
