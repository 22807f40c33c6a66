"""The "text-to-image toy" tab: type a caption, get pictures from a caption-conditioned GAN (GAN-INT-CLS).

Every picture carries what the scene reader sees in it, marked ✓ or ✗ against the caption when the caption
pins down a scene; "blend two captions" walks the text-embedding space from one caption to another.
"""
from __future__ import annotations

import gradio as gr
import numpy as np
import torch

from demos.checkpoints import CheckpointTab
from demos.inputs import (GALLERY_BUTTONS, MAX_SEED, Refusal, api_endpoint, bring_into_sight, checked_int, checked_seed,
                          noted_on_refusal, on_new_seed, shown)
from demos.reports import hardware_words, measured_report
from demos.strips import GIF_LABEL, gallery_items, save_strip
from generative.checkpoints import SCENE_READER, TEXT2IMG
from generative.data.shapes import HELD_OUT, Scene, parse_caption, slot_targets
from generative.gan_losses import l1_weight_words, r1_gamma_words
from generative.hub import load_metrics
from generative.metrics.alignment import all_correct
from generative.models.scene_reader import SceneReader, describe
from generative.models.text2img import TextToImage
from generative.text import CaptionError

TITLE = "Text-to-image toy"
MAX_COUNT, MIN_STEPS, MAX_STEPS = 32, 2, 16
MAX_CAPTION_CHARS = 300
SEEN_EXAMPLES = ("a large red circle in the centre", "a small blue square on the left", "a big yellow triangle at the top",
                 "one tiny green disc near the bottom", "a purple cross, large, on the right",
                 "a green cross left of a purple box", "a cyan ball above a red square", "a yellow diamond below a blue plus")
HELD_OUT_EXAMPLES = ("a large red triangle in the centre", "a small blue circle on the left", "a big green square at the top",
                     "a purple diamond right of a yellow cross", "a cyan triangle above a blue circle")
HELD_OUT_MARK = "(held out)"  # after each held-out example in the list, not part of its caption


# ---------------------------------------------------------------- pure functions

@torch.inference_mode()  # no autograd graph: a long caption would keep one step of it per token
def embed(model: TextToImage, caption: str) -> torch.Tensor:
    """One caption → its (1, text_dim) embedding; ``CaptionError`` for an empty caption or unknown words."""
    return model.embed([caption])


def draw(model: TextToImage, text: torch.Tensor, seed: int) -> np.ndarray:
    """(n, text_dim) embeddings → (n, 32, 32, 3) pictures in [0, 1], noise from ``seed``."""
    return model.generate(text, seed).permute(0, 2, 3, 1).numpy()


def pictures(model: TextToImage, caption: str, count: int, seed: int) -> np.ndarray:
    return draw(model, embed(model, caption).expand(count, -1), seed)


def blend(model: TextToImage, caption_a: str, caption_b: str, steps: int, seed: int) -> np.ndarray:
    """From caption A to caption B in ``steps`` pictures: linear steps between their embeddings (what GAN-INT trains
    G on), the same noise in every picture so that only the text changes."""
    a, b = embed(model, caption_a), embed(model, caption_b)
    weights = torch.linspace(0, 1, steps)[:, None]
    text = (1 - weights) * a + weights * b
    rng = torch.Generator().manual_seed(seed)
    noise = torch.randn(1, model.noise_dim, generator=rng).expand(steps, -1)
    with torch.inference_mode():
        return model.generator(noise, text).permute(0, 2, 3, 1).numpy()


@torch.inference_mode()
def read(reader: SceneReader, images: np.ndarray) -> dict[str, torch.Tensor]:
    return reader.read(torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float())


def matches(readout: dict[str, torch.Tensor], scene: Scene) -> list[bool]:
    """Per picture: does the reader see exactly ``scene`` (every thing's shape, colour, size and place, nothing else)?"""
    n = len(readout["shape"])
    targets = {name: torch.tensor(values).expand(n, -1) for name, values in zip(("shape", "colour", "size"), slot_targets(scene))}
    return all_correct(readout, targets).tolist()


def readout_captions(readout: dict[str, torch.Tensor], scene: Scene | None) -> list[str]:
    """What the reader sees in each picture, marked ✓ / ✗ against ``scene`` when there is one."""
    seen = [describe(readout, i) for i in range(len(readout["shape"]))]
    if scene is None:
        return seen
    return [f"{'✓' if ok else '✗'} {text}" for ok, text in zip(matches(readout, scene), seen)]


def blend_summary(readout: dict[str, torch.Tensor], caption_a: str, caption_b: str) -> str:
    """The line under a blend: in how many of its frames the reader finds caption A's scene, caption B's, or no shape at
    all (GAN-INT trains G on the embeddings between captions, and the middle frames often show nothing)."""
    frames = len(readout["shape"])
    found, unpinned = [], []
    for name, scene in (("A", parse_caption(caption_a)), ("B", parse_caption(caption_b))):
        if scene is None:
            unpinned.append(name)
        else:
            found.append(f"caption {name}'s scene in **{sum(matches(readout, scene))}**")
    nothing = sum(describe(readout, i) == "nothing" for i in range(frames))
    *firsts, last = [*found, f"no shape at all in **{nothing}**"]
    text = f"The scene reader finds {', '.join(firsts) + ' and ' if firsts else ''}{last} of the {frames} pictures."
    if len(unpinned) == 1:
        text += f" Caption {unpinned[0]} does not pin down one scene of the toy world, so its scene is not counted."
    elif unpinned:
        text += " Neither caption pins down one scene of the toy world, so neither scene is counted."
    return text


def held_out_note(scene: Scene | None) -> str:
    if scene is None or not scene.held_out:
        return ""
    pairs = " and ".join(f"{c} {s}" for c, s in sorted(scene.pairs & set(HELD_OUT)))
    return f" The {pairs} never appeared in training: this measures composition."


# ---------------------------------------------------------------- text

# From the checkpoint's metrics.json, so a model retrained with --loss hinge is described with its own loss.
LOSS_WORDS = {
    "non-saturating": "Loss: D minimises −log D(x, t) − ½[log(1 − D(x, t̂)) + log(1 − D(G(z, t), t))]; "
                      "G minimises −log D(G(z, t), t).",
    "hinge": "Loss (hinge): D minimises max(0, 1 − D(x, t)) + ½[max(0, 1 + D(x, t̂)) + max(0, 1 + D(G(z, t), t))]; "
             "G minimises −D(G(z, t), t).",
}


def about_markdown(metrics: dict | None, report: dict | None, conditional_norm: bool = False) -> str:
    """The tab's explanation; ``conditional_norm``: whether the shipped G conditions its batch norms on the caption."""
    text = (
        "**What it is.** A text-to-image GAN in the style of Reed et al. (2016), *Generative Adversarial Text to Image "
        "Synthesis*, on a toy world of coloured shapes that the project renders itself. A text encoder (word embeddings "
        "and a bidirectional GRU) turns the caption into a 128-d embedding t; the generator G draws a 32×32 picture from "
        "[noise z; projected t] with transposed convolutions.\n\n"
        "**The matching-aware discriminator (GAN-CLS).** D sees an image and a caption embedding (tiled over its 4×4 "
        "image features) and learns from three kinds of pair: a real scene with its own caption → real; a real scene "
        "with *another* caption → fake; G's picture with its caption → fake. The mismatched pairs force D to check that "
        "the picture shows the caption, not only that it looks real, and so G must draw what it is told. "
        f"{LOSS_WORDS[(metrics or {}).get('loss', 'non-saturating')]}\n\n"
        "**Two additions to Reed et al.'s discriminator.** D also scores a projection term ⟨W c, h⟩ of the projected "
        "caption embedding c = LeakyReLU(A t) (Reed et al.'s layer shrank 1024-d to 128-d; here 128-d stays 128-d) "
        "against its image features h (Miyato & Koyama 2018), and it has an auxiliary head that reads each real scene "
        "slot by slot (which shape, colour and size is at each position); G is also trained "
        "to make that head read its pictures as the caption's scene (TAC-GAN, Dash et al. 2017). In two-epoch "
        "development trials here the head raised the share of pictures with every attribute right from 25% to 67% "
        "(README, *How the recipe was chosen*; those trials' code was not kept, so they cannot be rerun).\n\n"
        "**GAN-INT.** G is also trained on halfway blends of two captions' embeddings, which have no real picture: "
        "Reed et al.'s way to make the space between captions draw scenes too. Here it does so only in part: "
        "the middle pictures of a blend often show no shape at all (the scene reader reads “nothing”; "
        "`benchmarks/results/text2img_blends.md`). Try *blend two captions* below.\n\n"
        "**The text encoder** is trained beside the GAN to read each caption's scene back (which shape, colour and size "
        "sits at each position; Reed et al. pre-trained theirs to match images). Six (colour, shape) pairs — red "
        "triangle, green square, blue circle, yellow cross, purple diamond, cyan triangle — never appear in training: "
        "asking for them tests whether the model composes a colour and a shape it has only seen apart.\n\n"
        "**Judging it.** A separately trained *scene reader* says what each picture shows (✓ = exactly the caption's "
        "scene); a separately trained image–text matcher gives R-precision.")
    if metrics:
        if metrics.get("r1"):
            text += (f"\n\n**Stabilising it.** D pays an R1 penalty (γ/2)·‖∇ₓD(x, t)‖² on real pairs (Mescheder et al. "
                     f"2018; {r1_gamma_words(metrics['r1'])}), which keeps it from overpowering G late in training.")
        if conditional_norm:
            text += (" G's batch norms take their gain and bias from the caption (conditional batch norm), so the "
                     "caption steers every scale of the picture, not only the first layer.")
        if metrics.get("l1_weight"):
            text += (f"\n\n**A pixel loss.** G also pays λ·mean|G(z, t) − x| against the real scene x of the caption "
                     f"(as in pix2pix, Isola et al. 2017; {l1_weight_words(metrics['l1_weight'])}). Here a caption "
                     "fixes its scene up to a pixel of jitter, so this term tells G exactly what to draw, and with it G "
                     "composes held-out pairs far more often than from the adversarial loss alone (README; the held-out "
                     "pairs were the only test of this choice). Its price, also as in pix2pix: G learns to mostly ignore "
                     "its noise, so the pictures of one caption look nearly alike.")
        published_epoch = metrics.get("published_epoch", metrics["epochs"])
        best = f"; these are the weights after epoch {published_epoch}, the best per-epoch check" if published_epoch < metrics["epochs"] else ""
        text += (f"\n\n**Trained here:** {metrics['parameters']:,} parameters (text encoder + G), {metrics['epochs']} epochs "
                 f"({metrics['train_seconds'] / 60:.0f} min on {hardware_words(metrics['hardware'])}){best}.")
    if report:
        seen, held = report["alignment"]["seen"], report["alignment"]["held-out"]
        targets = report["targets_all_correct"]
        missed = [f"{name} pairs ({report['alignment'][name]['all']:.2%} < {target:.0%})"
                  for name, target in targets.items() if report["alignment"][name]["all"] < target]
        verdict = (f"Not met: {' and '.join(missed)}." if missed
                   else f"Both targets ({targets['seen']:.0%} and {targets['held-out']:.0%} all-correct) are met.")
        verdict += " " + held_out_mix_words(report)
        text += (f"\n\n**Measured** (`benchmarks/results/text2img_quality.md`, {report['pictures_per_split']:,} pictures "
                 f"per split): all attributes right on **{seen['all']:.2%}** of pictures for new captions of seen pairs and "
                 f"**{held['all']:.2%}** for held-out pairs; R-precision {report['r_precision']['seen']:.2%} / "
                 f"{report['r_precision']['held-out']:.2%} (real scenes: {report['r_precision_real']['seen']:.2%} / "
                 f"{report['r_precision_real']['held-out']:.2%}); FID against rendered scenes {report['fid']:.2f} "
                 f"(N = {report['fid_n']:,}; the same scenes rendered again: {report['fid_real_floor']:.2f})"
                 f"; pixel spread among pictures of one caption {report['variety']['generated']:.4f} (rendered scenes "
                 f"of one caption, by jitter alone: {report['variety']['rendered']:.4f}). "
                 f"Targets: ≥ {targets['seen']:.0%} all-correct on seen pairs, ≥ {targets['held-out']:.0%} on held-out ones. "
                 + verdict)
    return text


def held_out_mix_words(report: dict) -> str:
    """How firm the held-out rate is: few pairs, far more one-thing captions (the easy ones) than the seen set, and
    pairs that also judged the recipe."""
    by_things, count = report["alignment_by_number_of_things"], report["pictures_per_split"]
    seen_share = {things: by_things["seen"][things]["n"] / count for things in by_things["seen"]}
    reweighted = sum(share * by_things["held-out"][things]["all"] for things, share in seen_share.items())
    target = report["targets_all_correct"]["held-out"]
    ending = "."
    if reweighted < target:
        met = report["alignment"]["held-out"]["all"] >= target
        ending = f", under the {target:.0%} target" + (": the held-out target is met only on that easier mix." if met else ".")
    return (f"Only {len(HELD_OUT)} (colour, shape) pairs are held out, and {by_things['held-out']['1 thing']['n'] / count:.0%} "
            f"of their captions show one thing (seen: {seen_share['1 thing']:.0%}), which is easier: weighted like the seen "
            f"captions, the held-out rate is {reweighted:.2%}" + ending + " And the held-out pairs also judged the "
            "recipe (the gallery's README, “How the held-out failures were traced and fixed”), so they served as a "
            "validation set as much as a test set.")


# ---------------------------------------------------------------- the tab

def checked_caption(caption) -> str:
    """The caption, if it is text of a sensible length: the text encoder takes one step per word or comma, so an
    unbounded caption would be an unbounded request."""
    if not isinstance(caption, str):
        raise CaptionError(f"The caption must be text, got {shown(caption)}.")
    if len(caption) > MAX_CAPTION_CHARS:
        raise CaptionError(f"The caption is {len(caption):,} characters long; the limit is {MAX_CAPTION_CHARS}. "
                           "Describe one or two things, e.g. \"a green cross left of a purple diamond\".")
    return caption


def caption_refusal_message(caption, err: CaptionError) -> str:
    """The message for a refused caption, with a hint for two causes. A caption copied from the held-out examples' list
    brings its mark along ("Unknown words: 'held', 'out'" said nothing of why). One that fills the caption box, which
    stops at its length limit, and ends in an unknown word may have lost the rest of that word: say so, or the
    fragment alone is named."""
    message = str(err)
    if err.unknown and isinstance(caption, str):
        if HELD_OUT_MARK in caption:
            message += f" “{HELD_OUT_MARK}” only marks the examples whose pairs were never in training: leave it out."
        if len(caption) == MAX_CAPTION_CHARS:
            message += (f" The caption box stops at {MAX_CAPTION_CHARS} characters, so its last word may have been cut "
                        "off: describe one or two things.")
    return message


class TextToImageTab(CheckpointTab):
    """Holds the model and the reader (or why they could not load) and the handlers that use them."""

    model = reader = None

    def __init__(self, hub_user: str | None = None):
        super().__init__("text2img", (TEXT2IMG, SCENE_READER), hub_user)
        self.metrics = load_metrics(self.sources[TEXT2IMG.name]) if not self.error else None
        self.report = measured_report("text2img_quality", *self.sources.values()) if not self.error else None

    def load_models(self) -> None:
        self.model = self.load(TEXT2IMG)
        self.reader = self.load(SCENE_READER)

    def initial(self) -> tuple | None:
        if self.error:
            return None
        d = DEFAULTS
        return (*self.generate(d["caption"], d["count"], d["seed"]),
                *self.blend(d["caption_a"], d["caption_b"], d["steps"], d["seed"]))

    def generate(self, caption, count, seed):
        """Pictures for one caption, each with the reader's readout, and a line on how many show the caption's scene."""
        self.check()
        count, seed = checked_int(count, "The number of pictures", 1, MAX_COUNT), checked_seed(seed)
        try:
            images = pictures(self.model, checked_caption(caption), count, seed)
        except CaptionError as err:
            raise Refusal(caption_refusal_message(caption, err)) from None
        scene = parse_caption(caption)
        captions = readout_captions(read(self.reader, images), scene)
        if scene is None:
            summary = ("This caption does not pin down one scene of the toy world (one thing needs a size, colour, shape "
                       "and place; two things a colour and shape each and a relation, and no size word: both are always "
                       "small), so the pictures are not marked right or wrong.")
        else:
            right = sum(text.startswith("✓") for text in captions)
            summary = f"The scene reader finds exactly the caption's scene in **{right} of {count}** pictures.{held_out_note(scene)}"
        return gallery_items(images, captions), summary

    def pictures_and_blend(self, caption, count, caption_a, caption_b, steps, seed):
        """The two views that use the seed box, at once."""
        return *self.generate(caption, count, seed), *self.blend(caption_a, caption_b, steps, seed)

    def blend(self, caption_a, caption_b, steps, seed):
        """The strip from caption A to caption B through the embedding space, with readouts, as gallery items, PNG and
        GIF, and a line on how many pictures show either caption's scene or nothing."""
        self.check()
        steps, seed = checked_int(steps, "The number of steps", MIN_STEPS, MAX_STEPS), checked_seed(seed)
        for name, caption in (("Caption A", caption_a), ("Caption B", caption_b)):
            try:
                self.model.tokenizer.encode(checked_caption(caption))  # the check embedding would make, naming the caption
            except CaptionError as err:
                raise Refusal(f"{name}: {caption_refusal_message(caption, err)}") from None
        frames = blend(self.model, caption_a, caption_b, steps, seed)
        seen = read(self.reader, frames)
        captions = readout_captions(seen, None)
        png, gif = save_strip(frames, captions, self.files.new(), "caption-blend", scale=6)
        return gallery_items(frames, captions, scale=4), str(png), str(gif), blend_summary(seen, caption_a, caption_b)


DEFAULTS = {"caption": SEEN_EXAMPLES[0], "count": 16, "seed": 0, "caption_a": "a large red circle on the left",
            "caption_b": "a large blue square on the right", "steps": 8}


def build_tab(hub_user: str | None = None) -> None:
    """Lay out the tab inside the current ``gr.Blocks`` and wire its events."""
    tab = TextToImageTab(hub_user)
    start = tab.initial() or (None,) * 6
    gr.Markdown("## Type a caption, get a picture")
    if tab.error:
        gr.Markdown(f"⚠️ **The model is not available.** {tab.error}", elem_id="t2i-model-error")
    with gr.Row():
        with gr.Column(scale=1):
            caption = gr.Textbox(value=DEFAULTS["caption"], label="Caption", max_lines=2, max_length=MAX_CAPTION_CHARS,
                                 elem_id="t2i-caption",
                                 info="One thing: small or large, a colour, a shape (circle, square, triangle, diamond, cross) and a place "
                                      "(left, right, top, bottom, centre); or two coloured shapes, no size, joined by left of / right of / above / below.")
            examples = [gr.Examples([[c] for c in SEEN_EXAMPLES], [caption], label="Seen (colour, shape) pairs"),
                        gr.Examples([[c] for c in HELD_OUT_EXAMPLES], [caption], label="Held-out pairs: never in training",
                                    example_labels=[f"{c} {HELD_OUT_MARK}" for c in HELD_OUT_EXAMPLES])]
            count = gr.Slider(1, MAX_COUNT, value=DEFAULTS["count"], step=1, precision=0, label="Pictures", elem_id="t2i-count")
            with gr.Row():
                seed = gr.Number(value=DEFAULTS["seed"], precision=0, minimum=0, maximum=MAX_SEED, label="Seed", elem_id="t2i-seed")
                reseed = gr.Button("New seed", elem_id="t2i-new-seed")
            generate = gr.Button("Generate", variant="primary", elem_id="t2i-generate")
        with gr.Column(scale=2):
            gallery = gr.Gallery(buttons=GALLERY_BUTTONS, elem_classes=["pixelated", "fit-columns", "captions-below", "wrap-captions", "label-clear"],
                                 format="png", height="auto", value=start[0],
                                 label="Pictures (what the scene reader sees; ✓ = exactly the caption's scene)",
                                 elem_id="t2i-gallery")
            summary = gr.Markdown(start[1] or "", label="summary", elem_id="t2i-summary")
    gr.Markdown("### Blend two captions\nSame noise, the text embedding moving in equal steps from caption A to caption B.")
    with gr.Row():  # the captions get a row of their own: beside the slider a phone showed "a large blue squ"
        caption_a, caption_b = (gr.Textbox(value=DEFAULTS[f"caption_{side}"], label=f"Caption {side.upper()}", max_lines=1,
                                           max_length=MAX_CAPTION_CHARS, min_width=240, elem_id=f"t2i-caption-{side}")
                                for side in "ab")
    with gr.Row():
        steps = gr.Slider(MIN_STEPS, MAX_STEPS, value=DEFAULTS["steps"], step=1, precision=0, label="Steps", elem_id="t2i-steps")
        blend_button = gr.Button("Blend", elem_id="t2i-blend-button")
    strip = gr.Gallery(buttons=GALLERY_BUTTONS, elem_classes=["pixelated", "fit-columns", "captions-below", "wrap-captions", "strip", "label-clear"],
                       format="png", height="auto",
                       value=start[2], label="From caption A to caption B (what the scene reader sees)", elem_id="t2i-strip")
    strip_summary = gr.Markdown(start[5] or "", label="summary of the blend", elem_id="t2i-blend-summary")
    with gr.Row():
        png = gr.File(value=start[3], label="Strip (PNG)", interactive=False, elem_id="t2i-png")
        gif = gr.File(value=start[4], label=GIF_LABEL, interactive=False, elem_id="t2i-gif")
    gr.Markdown(about_markdown(tab.metrics, tab.report, conditional_norm=not tab.error and tab.model.conditional_norm),
                elem_id="t2i-about")

    raw = {"preprocess": False}  # values reach our own checks, whose messages name the control
    private = {"api_visibility": "private", **raw}
    # In the page an unknown word warns and keeps the pictures; the API's endpoints, on hidden buttons, refuse it.
    # A setting redraws every view that uses it, as in the cGAN tab, so no view is left showing another count, seed or
    # step count than the controls say; "always_last" as there, so quick arrow-key presses end on the last value.
    last = {"trigger_mode": "always_last", **private}
    # A refused caption or count keeps the pictures, and the summary under them says they are not the new request's.
    generate_inputs, generate_kept = [caption, count, seed], noted_on_refusal(tab.generate, [gallery, summary], summary)
    # A caption drawn on request (Generate, Enter, a clicked example) brings the pictures into sight: on a phone they
    # are 900 px below the examples. A moved slider does not move the page.
    into_sight = {"js": bring_into_sight("t2i-gallery"), "api_visibility": "private"}
    count.change(generate_kept, generate_inputs, [gallery, summary], **last)
    gr.on([generate.click, caption.submit], generate_kept, generate_inputs, [gallery, summary], **last).then(None, **into_sight)
    for example in examples:  # a clicked example is drawn at once, as the other tabs' examples are
        example.load_input_event.then(generate_kept, generate_inputs, [gallery, summary], **private).then(None, **into_sight)
    blend_inputs, blend_outputs = [caption_a, caption_b, steps, seed], [strip, png, gif, strip_summary]
    seeded_inputs, seeded_outputs = [caption, count, *blend_inputs], [gallery, summary, *blend_outputs]
    # One event for the two views the seed feeds: one warning. A refused value keeps them, and the text under each says so.
    seeded_notes = [summary, strip_summary]
    seed.submit(noted_on_refusal(tab.pictures_and_blend, seeded_outputs, seeded_notes), seeded_inputs, seeded_outputs,
                **private)
    on_new_seed(reseed, tab.pictures_and_blend, seeded_inputs, seed, seeded_outputs, seeded_notes, **last)
    api_endpoint("t2i-api-generate", tab.generate, generate_inputs, [gallery, summary], api_name="t2i_generate", **raw)
    gr.on([blend_button.click, steps.change, caption_a.submit, caption_b.submit],
          noted_on_refusal(tab.blend, blend_outputs, strip_summary), blend_inputs, blend_outputs, **last)
    api_endpoint("t2i-api-blend", tab.blend, blend_inputs, blend_outputs, api_name="t2i_blend", **raw)
