"""The "cGAN digit picker" tab: ask a conditional GAN for a digit, see its variety, its styles and its noise space."""
from __future__ import annotations

import gradio as gr
import numpy as np
import torch

from demos.checkpoints import CheckpointTab
from demos.inputs import (GALLERY_BUTTONS, IMAGE_BUTTONS, MAX_SEED, Refusal, api_endpoint, bring_into_sight,
                          checked_int, checked_seed, enlarge, is_number, noted_on_refusal, on_new_seed, shown)
from demos.reports import hardware_words, measured_report
from demos.strips import GIF_LABEL, caption, gallery_items, readout, save_strip
from generative.checkpoints import CGAN, CLASSIFIER
from generative.gan_losses import spectral_norm_words
from generative.hub import load_metrics
from generative.latent import latent_path
from generative.models import DigitClassifier, Generator

TITLE = "cGAN digit picker"
MAX_COUNT, MAX_ROWS, MIN_STEPS, MAX_STEPS = 64, 10, 2, 24
MIN_SCALE, MAX_SCALE = 0.0, 1.5
DIGIT_NAMES = tuple(str(digit) for digit in range(10))


# ---------------------------------------------------------------- pure functions

def noise(generator: Generator, count: int, seed: int, scale: float) -> torch.Tensor:
    """``count`` noise vectors from ``seed``: the same seed always gives the same vectors (and so the same digits)."""
    return generator.sample_noise(count, torch.Generator().manual_seed(seed), scale)


@torch.inference_mode()
def draw(generator: Generator, z: torch.Tensor, digits) -> np.ndarray:
    """(n, noise_dim) noise and n digit labels → (n, 28, 28) images in [0, 1]."""
    labels = torch.as_tensor(digits, dtype=torch.long).expand(len(z))
    return generator(z, labels)[:, 0].numpy()


def samples(generator: Generator, digit: int, count: int, seed: int, scale: float = 1.0) -> np.ndarray:
    return draw(generator, noise(generator, count, seed, scale), digit)


def every_digit(generator: Generator, rows: int, seed: int, scale: float = 1.0) -> np.ndarray:
    """(rows, 10, 28, 28): row r is one noise vector drawn as each digit 0–9, so a row shares one style."""
    z = noise(generator, rows, seed, scale).repeat_interleave(10, dim=0)
    return draw(generator, z, torch.arange(10).repeat(rows)).reshape(rows, 10, 28, 28)


def noise_walk(generator: Generator, digit: int, seed_a: int, seed_b: int, steps: int, scale: float = 1.0) -> np.ndarray:
    """Digit ``digit`` along the great circle from seed A's noise to seed B's (no dip in norm, as a straight line has)."""
    z = latent_path(noise(generator, 1, seed_a, scale)[0], noise(generator, 1, seed_b, scale)[0], steps, "slerp")
    return draw(generator, z, digit)


def grid_image(grid: np.ndarray, scale: int = 2, gap: int = 2) -> np.ndarray:
    """(rows, cols, 28, 28) → one uint8 picture, cells enlarged without blur, separated by grey lines."""
    rows, cols = grid.shape[:2]
    cell = 28 * scale
    picture = np.full((rows * (cell + gap) - gap, cols * (cell + gap) - gap), 96, np.uint8)
    for r in range(rows):
        for c in range(cols):
            picture[r * (cell + gap): r * (cell + gap) + cell, c * (cell + gap): c * (cell + gap) + cell] = enlarge(grid[r, c], scale)
    return picture


def verdict_captions(classifier: DigitClassifier, images: np.ndarray, asked: int | None) -> list[str]:
    """The classifier's reading of each image, marked ✗ where it is not the digit asked for."""
    digits, confidences = readout(classifier, images)
    return [caption(d, c) + ("" if asked is None or d == asked else " ✗") for d, c in zip(digits, confidences)]


def a_digit(digit: int) -> str:
    """The digit with its article: "a 7", "an 8"."""
    return f"{'an' if digit == 8 else 'a'} {digit}"


def reads_as(captions: list[str], digit: int, what: str = "") -> str:
    """The line under a view of one digit: how many of its ``captions`` (``verdict_captions``) read as that digit."""
    right = sum("✗" not in text for text in captions)
    return f"The classifier reads **{right} of {len(captions)}**{what} as {a_digit(digit)}."


def rows_verdict(classifier: DigitClassifier, grid: np.ndarray, listed: int = 3) -> str:
    """The line under the every-digit grid (rows, 10, 28, 28): how many cells read as their column's digit, and the
    first ``listed`` that do not. A style (a row) that only some digits survive shows here, not in the samples."""
    rows = len(grid)
    digits, _ = readout(classifier, grid.reshape(-1, 28, 28))
    misread = [(cell // 10 + 1, cell % 10, digit) for cell, digit in enumerate(digits) if digit != cell % 10]
    text = f"The classifier reads **{rows * 10 - len(misread)} of {rows * 10}** as their column's digit."
    if misread:
        named = ", ".join(f"row {row}'s {column} (read as {a_digit(digit)})" for row, column, digit in misread[:listed])
        more = f", and {len(misread) - listed} more" if len(misread) > listed else ""
        text += f" Misread: {named}{more}."
    return text


# ---------------------------------------------------------------- text

# The loss paragraph follows the checkpoint's metrics.json: a model retrained with --loss hinge or wgan-gp and loaded
# with --hub must not be described with the shipped model's loss.
LOSS_WORDS = {
    "non-saturating": "**Loss.** D minimises the binary cross-entropy of real vs generated. G minimises the "
                      "*non-saturating* loss −log D(G(z, y)) rather than log(1 − D(G(z, y))): the latter's gradient "
                      "vanishes when D confidently rejects G's digits, which is exactly when G most needs to learn.",
    "hinge": "**Loss: hinge** (Lim & Ye 2017; Miyato et al. 2018). D minimises E[max(0, 1 − D(x, y))] + "
             "E[max(0, 1 + D(G(z, y), y))], so it learns only from digits inside the margin; G minimises −D(G(z, y), y).",
    "wgan-gp": "**Loss: WGAN-GP** (Gulrajani et al. 2017). D is a critic: it minimises the negative score gap "
               "−(E[D(x, y)] − E[D(G(z, y), y)]) plus λ·E[(‖∇D(x̂, y)‖ − 1)²] at random blends x̂ of real and generated "
               "digits, a soft penalty that pushes it towards 1-Lipschitz where it is checked. For an optimal 1-Lipschitz "
               "critic the gap is the Wasserstein-1 distance between real and generated digits of each class, averaged "
               "over y; G minimises −D(G(z, y), y).",
}


def about_markdown(metrics: dict | None, report: dict | None) -> str:
    loss = (metrics or {}).get("loss", "non-saturating")
    text = (
        "**What it is.** A *generative adversarial network* (Goodfellow et al., 2014) is two networks in a game. The "
        "generator G turns random noise z into an image; the discriminator D sees real digits and G's digits and "
        "learns to tell them apart, while G learns to fool it: min_G max_D E[log D(x)] + E[log(1 − D(G(z)))]. "
        "This one is *conditional* (Mirza & Osindero, 2014): both networks also get the digit label y, so G learns to "
        "draw the digit it is asked for and D judges \"is this a real *y*?\".\n\n"
        "**How the label enters.** G concatenates a learned 32-d embedding of y with z before its first layer, then "
        "upsamples 7×7 → 14×14 → 28×28 with transposed convolutions, batch norm and ReLU (DCGAN). D extracts features h "
        "with strided convolutions and LeakyReLU, and scores ψ(h) + ⟨embed(y), h⟩ (a projection discriminator)"
        f"{spectral_norm_words(loss)}.\n\n"
        f"{LOSS_WORDS[loss]}\n\n"
        "**The noise carries style, the label identity:** \"same style, every digit\" draws each row from one z. "
        "Shrinking z towards 0 (noise scale < 1: sampling at a lower *temperature*, as Glow does; BigGAN's truncation "
        "trick, which redraws the entries of z beyond a threshold, and StyleGAN's, which pulls w towards its mean, "
        "are cousins) trades variety for cleaner, more typical digits.")
    if metrics:
        accuracy = " · ".join(f"{name}: {value:.2%}" for name, value in metrics["conditional_accuracy"].items())
        text += (f"\n\n**Trained here:** {metrics['parameters']:,} parameters in G, {metrics['epochs']} epochs "
                 f"({metrics['train_seconds'] / 60:.0f} min on {hardware_words(metrics['hardware'])}); conditional accuracy on 10,000 "
                 f"samples as read by the MNIST classifier: {accuracy} (published: {metrics['published']}).")
    if report:
        main = report["main"]["scales"][0]
        samples, standard_error = accuracy_error(report)
        text += (f"\n\n**Measured** (`benchmarks/results/cgan_quality.md`, {report['per_class']:,} samples per digit, seed "
                 f"{report['seed']}: another draw than the training run's; at {samples:,} samples an accuracy's binomial "
                 f"standard error is {standard_error * 100:.2f} points): conditional accuracy {main['accuracy']:.2%}; "
                 f"per-class feature spread {main['diversity_ratio_mean']:.2f}× that of real test digits "
                 f"(min {main['diversity_ratio_min']:.2f}; 1 = as varied as real digits, 0 = collapsed); Fréchet "
                 f"distance to the MNIST test digits in the classifier's feature space {main['feature_frechet_distance']:.2f} "
                 f"(10,000 real training digits, mostly ones the classifier trained on: {report['real_floor_frechet']:.2f}).")
    return text


# ---------------------------------------------------------------- the tab

def accuracy_error(report: dict) -> tuple[int, float]:
    """The samples behind the cGAN benchmark's conditional accuracy at noise scale 1, and its binomial standard error."""
    accuracy, samples = report["main"]["scales"][0]["accuracy"], 10 * report["per_class"]
    return samples, (accuracy * (1 - accuracy) / samples) ** 0.5


def checked_digit(value) -> int:
    """The digit to draw: 0–9, as an int or as the string the API's description of the radio lists ("7")."""
    return checked_int(int(value) if value in DIGIT_NAMES else value, "The digit", 0, 9)


def checked_scale(value) -> float:
    if not (is_number(value) and MIN_SCALE < value <= MAX_SCALE):
        raise Refusal(f"The noise scale must be a number above {MIN_SCALE:g} and at most {MAX_SCALE:g}, got {shown(value)}.")
    return float(value)


class CGANTab(CheckpointTab):
    """Holds the generator and the classifier (or why they could not load) and the handlers that use them."""

    generator = classifier = None

    def __init__(self, hub_user: str | None = None):
        super().__init__("cgan", (CGAN, CLASSIFIER), hub_user)
        self.metrics = load_metrics(self.sources[CGAN.name]) if not self.error else None
        self.report = measured_report("cgan_quality", *self.sources.values()) if not self.error else None

    def load_models(self) -> None:
        self.generator = self.load(CGAN)
        self.classifier = self.load(CLASSIFIER)

    def initial(self) -> tuple | None:
        """What the tab opens with, from the controls' defaults (computed once, at start)."""
        if self.error:
            return None
        d = DEFAULTS
        return (*self.generate(d["digit"], d["count"], d["seed"], d["scale"]),
                *self.every_digit(d["rows"], d["seed"], d["scale"]),
                *self.interpolate(d["digit"], d["seed_a"], d["seed_b"], d["steps"], d["scale"]))

    def redraw(self, digit, count, seed, scale, rows, seed_a, seed_b, steps):
        """Every view at once, for a setting they all use (the digit, the noise scale)."""
        return *self.samples_and_styles(digit, count, seed, scale, rows), *self.interpolate(digit, seed_a, seed_b, steps, scale)

    def samples_and_styles(self, digit, count, seed, scale, rows):
        """The two views that use the seed box, at once."""
        return *self.generate(digit, count, seed, scale), *self.every_digit(rows, seed, scale)

    def generate(self, digit, count, seed, scale):
        """The samples of one digit, each with the classifier's verdict, and a line on how many it reads right."""
        self.check()
        digit = checked_digit(digit)
        images = samples(self.generator, digit, checked_int(count, "The number of samples", 1, MAX_COUNT),
                         checked_seed(seed), checked_scale(scale))
        captions = verdict_captions(self.classifier, images, digit)
        return gallery_items(images, captions), reads_as(captions, digit)

    def every_digit(self, rows, seed, scale):
        """The grid of every digit for ``rows`` noise vectors, and a line on how many cells read as their digit."""
        self.check()
        grid = every_digit(self.generator, checked_int(rows, "The number of rows", 1, MAX_ROWS), checked_seed(seed),
                           checked_scale(scale))
        return grid_image(grid), rows_verdict(self.classifier, grid)

    def interpolate(self, digit, seed_a, seed_b, steps, scale):
        """The strip from seed A's noise to seed B's for one digit, with verdicts, as gallery items, PNG and GIF, and a
        line on how many frames read as the digit."""
        self.check()
        digit = checked_digit(digit)
        frames = noise_walk(self.generator, digit, checked_seed(seed_a, "Seed A"), checked_seed(seed_b, "Seed B"),
                            checked_int(steps, "The number of steps", MIN_STEPS, MAX_STEPS), checked_scale(scale))
        captions = verdict_captions(self.classifier, frames, digit)
        png, gif = save_strip(frames, captions, self.files.new(), f"cgan-{digit}-walk")
        return gallery_items(frames, captions), str(png), str(gif), reads_as(captions, digit, " frames")


DEFAULTS = {"digit": 7, "count": 16, "seed": 0, "scale": 1.0, "rows": 4, "seed_a": 1, "seed_b": 2, "steps": 10}


def build_tab(hub_user: str | None = None) -> None:
    """Lay out the tab inside the current ``gr.Blocks`` and wire its events."""
    tab = CGANTab(hub_user)
    start = tab.initial() or (None,) * 8
    gr.Markdown("## Ask a conditional GAN for a digit")
    if tab.error:
        gr.Markdown(f"⚠️ **The model is not available.** {tab.error}", elem_id="cgan-model-error")
    with gr.Row():
        with gr.Column(scale=1):
            digit = gr.Radio(list(range(10)), value=DEFAULTS["digit"], label="Digit", elem_id="cgan-digit")
            count = gr.Slider(1, MAX_COUNT, value=DEFAULTS["count"], step=1, precision=0, label="Samples", elem_id="cgan-count")
            with gr.Row():
                seed = gr.Number(value=DEFAULTS["seed"], precision=0, minimum=0, maximum=MAX_SEED, label="Seed", elem_id="cgan-seed")
                reseed = gr.Button("New seed", elem_id="cgan-new-seed")
            scale = gr.Slider(0.05, MAX_SCALE, value=DEFAULTS["scale"], step=0.05,
                              label="Noise scale (temperature: < 1 = cleaner, less varied)", elem_id="cgan-scale")
            generate = gr.Button("Generate", variant="primary", elem_id="cgan-generate")
        with gr.Column(scale=2):
            grid = gr.Gallery(buttons=GALLERY_BUTTONS, elem_classes=["pixelated", "fit-columns", "captions-below", "label-clear"], format="png", label="Samples (classifier: digit · confidence; ✗ = not the digit asked for)",
                              height="auto", value=start[0], elem_id="cgan-samples")  # columns: as many as fit (app.CSS)
            verdict = gr.Markdown(start[1] or "", label="verdict", elem_id="cgan-verdict")
    gr.Markdown("### Same style, every digit\nEach row is one noise vector z, drawn as every digit 0–9.")
    with gr.Row():
        rows = gr.Slider(1, MAX_ROWS, value=DEFAULTS["rows"], step=1, precision=0, label="Rows", elem_id="cgan-rows")
        styles_button = gr.Button("Draw the rows", elem_id="cgan-styles-button")
    styles = gr.Image(buttons=IMAGE_BUTTONS, elem_classes=["pixelated", "label-clear"], format="png", label="Rows: noise vectors (from the seed); columns: digits 0–9",
                      interactive=False, value=start[2], elem_id="cgan-styles")
    styles_verdict = gr.Markdown(start[3] or "", label="verdict on the rows", elem_id="cgan-styles-verdict")
    gr.Markdown("### Walk the noise between two seeds")
    with gr.Row():
        seed_a = gr.Number(value=DEFAULTS["seed_a"], precision=0, minimum=0, maximum=MAX_SEED, label="Seed A", elem_id="cgan-seed-a")
        seed_b = gr.Number(value=DEFAULTS["seed_b"], precision=0, minimum=0, maximum=MAX_SEED, label="Seed B", elem_id="cgan-seed-b")
        steps = gr.Slider(MIN_STEPS, MAX_STEPS, value=DEFAULTS["steps"], step=1, precision=0, label="Steps", elem_id="cgan-steps")
        walk_button = gr.Button("Walk", elem_id="cgan-walk-button")
    strip = gr.Gallery(buttons=GALLERY_BUTTONS, elem_classes=["pixelated", "fit-columns", "captions-below", "strip", "label-clear"], format="png",
                       label="The chosen digit from seed A's noise to seed B's", height="auto", value=start[4],
                       elem_id="cgan-strip")
    walk_verdict = gr.Markdown(start[7] or "", label="verdict on the walk", elem_id="cgan-walk-verdict")
    with gr.Row():
        png = gr.File(value=start[5], label="Strip (PNG)", interactive=False, elem_id="cgan-png")
        gif = gr.File(value=start[6], label=GIF_LABEL, interactive=False, elem_id="cgan-gif")
    gr.Markdown(about_markdown(tab.metrics, tab.report), elem_id="cgan-about")

    sample_inputs = [digit, count, seed, scale]
    # preprocess=False: values reach our own range checks, whose messages name the control (Gradio's do not)
    raw = {"preprocess": False}
    styles_inputs, walk_inputs = [rows, seed, scale], [digit, seed_a, seed_b, steps, scale]
    # In the page a refused value warns and keeps what is shown; the API's endpoints, on hidden buttons, refuse it.
    api_endpoint("cgan-api-generate", tab.generate, sample_inputs, [grid, verdict], api_name="cgan_generate", **raw)
    styles_outputs, walk_outputs = [styles, styles_verdict], [strip, png, gif, walk_verdict]
    api_endpoint("cgan-api-every-digit", tab.every_digit, styles_inputs, styles_outputs, api_name="cgan_every_digit",
                 **raw, api_description="A grid of every digit 0–9 (columns) for each of `rows` noise vectors (rows) "
                 "drawn from the seed (one row, one style), and how many cells the classifier reads as their column's digit.")
    api_endpoint("cgan-api-interpolate", tab.interpolate, walk_inputs, walk_outputs, api_name="cgan_interpolate", **raw)
    # A setting redraws every view that uses it, so no view is left showing another digit, seed or noise scale.
    private = {"api_visibility": "private", **raw}
    # A refused value keeps the views, and the text under each view the event draws says it is not the new request's.
    every_digit_kept = noted_on_refusal(tab.every_digit, styles_outputs, styles_verdict)
    interpolate_kept = noted_on_refusal(tab.interpolate, walk_outputs, walk_verdict)
    generate_kept = noted_on_refusal(tab.generate, [grid, verdict], verdict)
    # One event for the two views the seed box feeds: one each warned twice of a refused seed.
    seeded_outputs, seeded_notes = [grid, verdict, *styles_outputs], [verdict, styles_verdict]
    seeded_kept = noted_on_refusal(tab.samples_and_styles, seeded_outputs, seeded_notes)
    # One event, not one per view: with three events on the scale's change, a quick drag or a number typed past its
    # range made the page re-send them over and over (about 30 requests a second, until a number in range was typed).
    redraw_outputs = [*seeded_outputs, *walk_outputs]
    gr.on([digit.change, scale.change], noted_on_refusal(tab.redraw, redraw_outputs, [*seeded_notes, walk_verdict]),
          [digit, count, seed, scale, rows, seed_a, seed_b, steps], redraw_outputs, **private)
    # .change, not .release: the arrow keys move a slider without ever releasing it, and the view stayed as it was.
    # "always_last", a change's own mode (gr.on takes its first trigger's): a button's "once" dropped the changes
    # that came while one ran, and four quick presses of an arrow key left 19 samples under a slider at 20.
    last = {"trigger_mode": "always_last", **private}
    gr.on([generate.click, count.change], generate_kept, sample_inputs, [grid, verdict], **last)
    # A digit picked or Generate pressed brings the samples into sight: on a phone they are 970 px down, below the
    # controls. A moved slider does not move the page.
    gr.on([digit.input, generate.click], None, js=bring_into_sight("cgan-samples"), api_visibility="private")
    gr.on([styles_button.click, rows.change], every_digit_kept, styles_inputs, styles_outputs, **last)
    seeded_inputs = [digit, count, seed, scale, rows]
    seed.submit(seeded_kept, seeded_inputs, seeded_outputs, **private)
    on_new_seed(reseed, tab.samples_and_styles, seeded_inputs, seed, seeded_outputs, seeded_notes, **last)
    gr.on([walk_button.click, steps.change, seed_a.submit, seed_b.submit], interpolate_kept, walk_inputs, walk_outputs,
          **last)
