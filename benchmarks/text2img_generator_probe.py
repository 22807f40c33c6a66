"""Can the text-to-image generator compose a colour and a shape it never drew together? A probe without the GAN.

    python benchmarks/text2img_generator_probe.py

The GAN without a pixel loss (``--l1-weight 0``) drew only about half of the held-out captions that its text
encoder read right (``text2img_quality.md``), so either G's architecture or its adversarial training fails to compose. This
probe separates the two on the validation pairs of ``text2img_text_weight_decay.py`` (never the held-out ones):

1. a text encoder trains alone on the training captions without the validation pairs, with the weight decay
   that study chose (``--text-weight-decay``), for as many epochs as the GAN's default run;
2. G, built exactly as ``train_text2img.py`` builds it, trains on the same scenes by plain regression from the
   frozen embedding (mean absolute difference to the rendered scene, no discriminator), with G's Adam settings
   in the GAN (``--lr`` sets another learning rate: regression alone may need a larger one), for as many epochs;
3. after every epoch the scene reader reads one picture per caption of ``--count`` validation-pair scenes and
   as many other scenes (all-attributes correct, as the quality benchmark scores it).

If G composes here, its architecture can, and a pixel loss beside the adversarial one (``train_text2img.py
--l1-weight``) is worth trying. The "other pairs" column says whether G has learnt the seen pairs at all.
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

from benchmarks import text2img_text_weight_decay as study  # noqa: E402
from benchmarks.common import RESULTS_DIR, describe, run_info, write_results  # noqa: E402
from generative.checkpoints import SCENE_READER  # noqa: E402
from generative.data.scene_sets import TRAIN_SEEDS, SceneSet, as_float, make_scene_set  # noqa: E402
from generative.data.shapes import vocabulary  # noqa: E402
from generative.metrics.alignment import all_correct  # noqa: E402
from generative.models.scene_reader import SceneReader, read_all  # noqa: E402
from generative.models.text2img import TextConditionedGenerator, TextEncoder  # noqa: E402
from generative.text import Tokenizer  # noqa: E402
from training import train_text2img  # noqa: E402
from training.loop import non_negative_float, positive_int, run_script, writable_folder  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    gan = train_text2img.parse_args([])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text-weight-decay", type=non_negative_float, default=0.5, help="as chosen by text2img_text_weight_decay.py")
    parser.add_argument("--epochs", type=positive_int, default=gan.epochs)
    parser.add_argument("--train-scenes", type=positive_int, default=gan.train_scenes)
    parser.add_argument("--lr", type=non_negative_float, default=gan.lr, help="G's Adam learning rate (default: G's in the GAN)")
    parser.add_argument("--count", type=positive_int, default=2000, help="captions per check set")
    parser.add_argument("--reader", default=SCENE_READER.source(), help="the judge (folder or Hub repo)")
    parser.add_argument("--out-dir", type=writable_folder, default=RESULTS_DIR)
    return parser.parse_args(argv)


@torch.inference_mode()
def embed(encoder: TextEncoder, tokenizer: Tokenizer, captions: list[str]) -> torch.Tensor:
    encoder.eval()
    return torch.cat([encoder(*tokenizer.batch(captions[i:i + 2000])) for i in range(0, len(captions), 2000)])


@torch.inference_mode()
def drawn_right(generator: TextConditionedGenerator, reader: SceneReader, text: torch.Tensor, scenes: SceneSet) -> float:
    generator.eval()
    pictures = generator(torch.randn(len(text), generator.noise_dim, generator=torch.Generator().manual_seed(0)), text)
    generator.train()
    return all_correct(read_all(reader, pictures), scenes.targets).float().mean().item()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args, gan = parse_args(argv), train_text2img.parse_args([])
    info = run_info("benchmarks/text2img_generator_probe.py", argv)
    reader = SCENE_READER.load(args.reader)
    tokenizer = Tokenizer.of(vocabulary())
    scenes = make_scene_set(args.train_scenes, TRAIN_SEEDS, "train", progress=True)
    kept = [i for i, scene in enumerate(scenes.scenes) if not study.holds_validation_pair(scene)]
    checks = study.validation_sets(args.count)
    start = time.perf_counter()
    encoder, reading = study.train_and_read(args.text_weight_decay, Subset(scenes.dataset(tokenizer), kept), tokenizer,
                                            checks, args.epochs)
    encoder_seconds = time.perf_counter() - start

    torch.manual_seed(0)
    generator = TextConditionedGenerator(gan.noise_dim, gan.text_dim, gan.width, conditional_norm=gan.conditional_norm)
    optimizer = torch.optim.Adam(generator.parameters(), lr=args.lr, betas=train_text2img.BETAS)
    text = embed(encoder, tokenizer, scenes.captions)
    check_text = {name: embed(encoder, tokenizer, check.captions) for name, check in checks.items()}
    loader = DataLoader(Subset(torch.utils.data.TensorDataset(scenes.images, text), kept), batch_size=gan.batch_size,
                        shuffle=True, drop_last=True)
    drawn, start = [], time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        for images, embedding in tqdm(loader, desc=f"G by regression, epoch {epoch}", leave=False):
            pictures = generator(torch.randn(len(images), gan.noise_dim), embedding)
            loss = (pictures - as_float(images)).abs().mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        drawn.append({name: drawn_right(generator, reader, check_text[name], check) for name, check in checks.items()})
        print(f"G by regression, epoch {epoch}: " + ", ".join(f"{name} {value:.2%}" for name, value in drawn[-1].items()))
    report = {"validation_pairs": [list(pair) for pair in study.VALIDATION_PAIRS], "training_captions": len(kept),
              "captions_per_check": args.count, "epochs": args.epochs, "text_weight_decay": args.text_weight_decay, "lr": args.lr,
              "text_encoder_reading_per_epoch": reading, "drawn_all_correct_per_epoch": drawn,
              "seconds": {"text encoder": round(encoder_seconds, 1), "G": round(time.perf_counter() - start, 1)}}
    write_results("text2img_generator_probe", {"info": info, "report": report}, markdown(report, info), args.out_dir)


def markdown(report: dict, info: dict) -> str:
    pairs = ", ".join(f"{c} {s}" for c, s in report["validation_pairs"])
    rows = [f"| {epoch} | {read['validation pairs']:.2%} ({read['other pairs']:.2%}) | "
            f"{drawn['validation pairs']:.2%} ({drawn['other pairs']:.2%}) |"
            for epoch, (read, drawn) in enumerate(zip(report["text_encoder_reading_per_epoch"],
                                                       report["drawn_all_correct_per_epoch"]), start=1)]
    return "\n".join([
        "# Text-to-image: does G compose when trained by regression instead of adversarially?", "", describe(info),
        f"- Validation pairs (absent from every training caption here): {pairs}; no held-out pair anywhere",
        f"- {report['training_captions']:,} training captions; {report['captions_per_check']:,} captions per check set; "
        f"text encoder weight decay {report['text_weight_decay']}; G's learning rate {report['lr']:g}; "
        f"{report['seconds']['text encoder']} s for the text "
        f"encoder, {report['seconds']['G']} s for G",
        "", "All-correct share after each epoch, validation pairs (other captions):", "",
        "| epoch | text encoder's reading | G's picture, read by the scene reader |", "|---|---|---|", *rows])


if __name__ == "__main__":
    run_script(main)
