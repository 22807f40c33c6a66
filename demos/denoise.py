"""The "Denoise an image" tab: corrupt a digit, then clean it with the autoencoder and classical filters."""
from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import numpy as np
import torch

from demos.inputs import MAX_SEED, checked_seed, digit_from_sketch, digit_from_upload, digit_input, enlarge, is_number
from demos.reports import measured_report
from generative.classical import CLASSICAL_DENOISERS
from generative.hub import CheckpointError, load_metrics, load_model, model_source
from generative.metrics.image_quality import Scores, score
from generative.models import DenoisingAutoencoder
from generative.noise import NOISE_KINDS, corrupt

TITLE = "Denoise"
MODEL_NAME = "dae-mnist"
TRAIN_COMMAND = "python training/train_dae.py --data-root <folder with MNIST/raw>"
DAE = "denoising autoencoder"
NOISE_CHOICES = [
    ("Gaussian noise (level = σ)", "gaussian"),
    ("Salt-and-pepper (level = fraction of pixels)", "salt_and_pepper"),
    ("Masking (level = fraction of pixels set to 0)", "masking"),
]


@dataclass
class DenoiseResult:
    clean: np.ndarray | None          # None when the input was already noisy: nothing to compare with
    noisy: np.ndarray
    restored: dict[str, np.ndarray]   # method name → output, the autoencoder first
    scores: dict[str, Scores] | None  # "noisy input" and each method vs the clean digit


def denoise_digit(model: DenoisingAutoencoder, digit: np.ndarray, noise_kind: str, level: float, seed: int,
                  already_noisy: bool = False, classical: bool = True) -> DenoiseResult:
    """Corrupt a 28×28 digit (unless ``already_noisy``), denoise it every way, and score each result."""
    if digit.shape != (28, 28):
        raise ValueError(f"expected a 28×28 digit, got shape {digit.shape}")
    if already_noisy:
        clean, noisy = None, digit.astype(np.float32)
    else:
        generator = torch.Generator().manual_seed(int(seed))
        clean = digit.astype(np.float32)
        noisy = corrupt(torch.from_numpy(clean), noise_kind, float(level), generator).numpy()
    with torch.inference_mode():
        restored = {DAE: model(torch.from_numpy(noisy)[None, None])[0, 0].numpy()}
    if classical:
        restored |= {name: np.clip(fn(noisy), 0, 1).astype(np.float32) for name, fn in CLASSICAL_DENOISERS.items()}
    scores = None if clean is None else {"noisy input": score(clean, noisy)} | {
        name: score(clean, image) for name, image in restored.items()}
    return DenoiseResult(clean, noisy, restored, scores)


def scores_table(result: DenoiseResult) -> list[list[str]]:
    """Rows of (method, PSNR, SSIM) as display strings; dashes where there is no clean reference."""
    if result.scores is None:
        return [[name, "—", "—"] for name in ["noisy input", *result.restored]]
    return [[name, "∞" if np.isinf(s.psnr) else f"{s.psnr:.2f}", f"{s.ssim:.3f}"] for name, s in result.scores.items()]


def comparison_markdown(report: dict) -> str:
    """The autoencoder's margin over the best classical filter at each level, from the benchmark."""
    rows = "\n".join(f"| {lv['noise'].replace('_', '-')} {lv['level']} | {lv['margin']['best_baseline']} "
                     f"| {lv['margin']['margin_db']:+.2f} dB |" for lv in report["levels"])
    return (f"\n\n**Against classical filters** ({report['test_set']}; median, blur and non-local means tuned per "
            f"level on held-out digits; BM3D on the first {report['n_bm3d']:,}): the autoencoder's PSNR minus the best "
            f"filter's, from `benchmarks/results/denoise_quality.md`:\n\n"
            f"| noise | best classical filter | margin |\n|---|---|---|\n{rows}")


def about_markdown(metrics: dict | None, comparison: dict | None = None) -> str:
    text = (
        "**What it is.** A *denoising autoencoder* (Vincent et al., 2008) is trained to undo corruption: "
        "it sees a damaged digit and must output the clean one. An encoder of strided convolutions squeezes the "
        "28×28 image into a short code; a decoder of transposed convolutions redraws the digit from that code. "
        "Only digit-like structure fits through the bottleneck, so the noise is left behind.\n\n"
        "**How this one was trained.** On the 55,000 MNIST training digits (the last 5,000 held out), each "
        "corrupted with its own random kind and level of Gaussian, salt-and-pepper or masking noise, so one *blind* "
        "model handles all three. Loss: mean squared error between output and clean digit.\n\n"
        "**Classical filters** (median, Gaussian blur, non-local means, BM3D) know nothing about digits; they only "
        "assume that images are smooth or self-similar, which is why they blur strokes or keep noise.\n\n"
        "Uploads and drawings are normalised as MNIST was made: grey levels, light ink on black, cropped to the ink, "
        "fitted in a 20×20 box and centred by centre of mass in 28×28."
    )
    if metrics:
        rows = "\n".join(f"| {r['noise'].replace('_', '-')} {r['level']} | {r['noisy_psnr']:.2f} / {r['noisy_ssim']:.3f} "
                         f"| {r['psnr']:.2f} / {r['ssim']:.3f} |" for r in metrics["denoising"])
        text += (f"\n\n**Measured on {metrics['test_set']}** (PSNR dB / SSIM, mean per digit):\n\n"
                 f"| noise | noisy input | this model |\n|---|---|---|\n{rows}\n\n"
                 f"{metrics['parameters']:,} parameters, trained {metrics['epochs']} epochs on {metrics['hardware']}.")
    if comparison:
        text += comparison_markdown(comparison)
    return text


class DenoiseTab:
    """Holds the loaded model (or why it could not load) and the Gradio handlers that use it."""

    def __init__(self, hub_user: str | None = None):
        self.source = model_source(MODEL_NAME, hub_user)
        try:
            self.model, self.error = load_model(DenoisingAutoencoder, self.source, train_command=TRAIN_COMMAND), None
        except CheckpointError as err:
            self.model, self.error = None, str(err)
        self.metrics = load_metrics(self.source) if self.model else None
        self.comparison = measured_report("denoise_quality", self.source) if self.model else None

    def run(self, digit, noise_kind, level, seed, already_noisy):
        """The tab's outputs for a 28×28 digit; raises ``gr.Error`` for anything a user can fix."""
        if self.model is None:
            raise gr.Error(self.error)
        if noise_kind not in NOISE_KINDS:
            raise gr.Error(f"Unknown noise kind {noise_kind!r}; choose one of: {', '.join(NOISE_KINDS)}.")
        if not (is_number(level) and 0.0 <= float(level) <= 1.0):
            raise gr.Error(f"The noise level must be a number between 0 and 1, got {level!r}.")
        result = denoise_digit(self.model, digit, noise_kind, float(level), checked_seed(seed), bool(already_noisy))
        gallery = [(enlarge(image, 4), name) for name, image in result.restored.items() if name != DAE]
        return (digit, enlarge(digit), enlarge(result.clean), enlarge(result.noisy), enlarge(result.restored[DAE]),
                gallery, scores_table(result))

    def from_upload(self, image, noise_kind, level, seed, already_noisy):
        return self.run(digit_from_upload(image), noise_kind, level, seed, already_noisy)

    def from_sketch(self, sketch, noise_kind, level, seed, already_noisy):
        return self.run(digit_from_sketch(sketch), noise_kind, level, seed, already_noisy)

    def from_upload_change(self, image, noise_kind, level, seed, already_noisy):
        """Like ``from_upload``, but clearing the upload box is not an error: the outputs just stay."""
        return gr.skip() if not image else self.from_upload(image, noise_kind, level, seed, already_noisy)

    def rerun(self, digit, noise_kind, level, seed, already_noisy):
        """Controls changed: redo the current digit, if there is one yet."""
        return gr.skip() if digit is None else self.run(digit, noise_kind, level, seed, already_noisy)


def build_tab(hub_user: str | None = None) -> None:
    """Lay out the tab inside the current ``gr.Blocks`` and wire its events."""
    tab = DenoiseTab(hub_user)
    gr.Markdown("## Denoise a handwritten digit with a denoising autoencoder")
    if tab.error:
        gr.Markdown(f"⚠️ **The model is not available.** {tab.error}", elem_id="denoise-model-error")
    with gr.Row():
        with gr.Column(scale=1):
            with gr.Tabs():
                digit = digit_input("denoise", "Denoise my drawing")
            model_input = gr.Image(elem_classes=["pixelated"], format="png", label="What the model sees (28×28, enlarged)", interactive=False, height=160,
                                   elem_id="denoise-model-input")
            noise_kind = gr.Radio(NOISE_CHOICES, value="gaussian", label="Corruption", elem_id="denoise-kind")
            level = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label="Noise level", elem_id="denoise-level")
            seed = gr.Number(value=0, precision=0, minimum=0, maximum=MAX_SEED, label="Seed", elem_id="denoise-seed")
            already_noisy = gr.Checkbox(False, label="My image is already noisy: denoise it as it is",
                                        elem_id="denoise-already-noisy")
        with gr.Column(scale=2):
            with gr.Row():
                clean_out = gr.Image(elem_classes=["pixelated"], format="png", label="clean", interactive=False, elem_id="denoise-clean")
                noisy_out = gr.Image(elem_classes=["pixelated"], format="png", label="noisy", interactive=False, elem_id="denoise-noisy")
                denoised_out = gr.Image(elem_classes=["pixelated"], format="png", label="autoencoder output", interactive=False, elem_id="denoise-denoised")
            classical_out = gr.Gallery(elem_classes=["pixelated"], format="png", label="Classical denoisers on the same noisy image", columns=4, height=200,
                                       elem_id="denoise-classical")
            scores_out = gr.Dataframe(headers=["method", "PSNR (dB)", "SSIM"], label="Quality against the clean digit",
                                      interactive=False, elem_id="denoise-scores")
            gr.Markdown(about_markdown(tab.metrics, tab.comparison), elem_id="denoise-about")

    digit_state = gr.State(None)
    controls = [noise_kind, level, seed, already_noisy]
    outputs = [digit_state, model_input, clean_out, noisy_out, denoised_out, classical_out, scores_out]
    # preprocess=False: files reach our own decoder undecoded, which checks their size from the header
    # and gives the clear messages for bad files (Gradio's would decode first and fail generically).
    digit.sketch_button.click(tab.from_sketch, [digit.sketch, *controls], outputs, api_name="denoise_sketch", preprocess=False)
    digit.upload.change(tab.from_upload_change, [digit.upload, *controls], outputs, api_name="denoise_upload", preprocess=False)
    for control in controls:
        control.change(tab.rerun, [digit_state, *controls], outputs, api_visibility="private")
