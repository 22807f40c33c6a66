"""The "FID calculator" tab: measure two image sets the standard way, uploaded or drawn from the gallery's generators."""
from __future__ import annotations

import math
import threading
from functools import wraps
from pathlib import Path

import gradio as gr
from gradio.context import Context
import numpy as np
import torch
from PIL import Image

from demos.background import SessionWork, cancellable
from demos.inputs import (IMAGE_BUTTONS, MAX_SEED, Refusal, api_endpoint, checked_choice, checked_flag, checked_int,
                          checked_seed, noted_on_refusal, upload_path)
from demos.reports import benchmark_report, machine
from generative.checkpoints import CGAN, TEXT2IMG, VAE_WALK
from generative.data.image_sets import ArrayImages, ImageSet, ImageSetError, ZipImages
from generative.data.scene_sets import make_scene_set
from generative.hub import CheckpointError
from generative.metrics.features import RESIZES, Extractor, SetFeatures, extract, shrunk
from generative.metrics.fid import compare, make_extractor
from generative.metrics.inception import WeightsNotFound
from generative.metrics.sample_sets import PR_NEIGHBOURS
from generative.metrics.statistics_files import FIDError, load_stats, reference_path
from generative.models.cgan import generate_per_class
from generative.models.text2img import draw_captions
from generative.stopping import Stopped

TITLE = "FID calculator"
UPLOAD = "Upload a zip of images"
# The zip boxes' drop area in pixels, room for its icon and text: at Gradio's 240 px the two boxes, one above the other
# on a phone, put Measure 1,843 px down the page. Their labels take a line of their own above it ("label-clear"):
# laid over its top, Set A's two lines on a phone hid the upload icon.
ZIP_BOX_HEIGHT = 120
FASHION_REFERENCE = "Fashion-MNIST test (reference statistics)"
REFERENCE_CHOICES = {"MNIST test (reference statistics)": "mnist-test", FASHION_REFERENCE: "fashion-mnist-test"}
RENDERED_SCENES = "Rendered toy-world scenes (what the text-to-image toy learns from)"
TEXT2IMG_PICTURES = f"Text-to-image toy pictures ({TEXT2IMG.name})"
GENERATORS = {checkpoint.name: checkpoint for checkpoint in (CGAN, VAE_WALK, TEXT2IMG)}
GENERATOR_CHOICES = {f"cGAN samples ({CGAN.name})": CGAN.name, f"VAE prior samples ({VAE_WALK.name})": VAE_WALK.name,
                     TEXT2IMG_PICTURES: TEXT2IMG.name}
NOT_DIGITS = (FASHION_REFERENCE, RENDERED_SCENES, TEXT2IMG_PICTURES)  # the classifier's features mean nothing for these
FEATURE_CHOICES = {"Inception-v3 (standard FID)": "inception", "MNIST classifier (digits only)": "classifier"}
RESIZE_INFO = {"inception": "how each image becomes Inception-v3's 299×299 input",
               "classifier": "not used: the MNIST classifier reads every image as 28×28 grey"}
MAX_GENERATED, DEFAULT_GENERATED = 10_000, 250
# What the tab opens with, and what an API call leaves out: the MNIST test reference against cGAN samples (the
# uploads are read only when "Upload" is chosen for their set).
DEFAULTS = {"choice_a": next(iter(REFERENCE_CHOICES)), "choice_b": next(iter(GENERATOR_CHOICES)), "count": DEFAULT_GENERATED,
            "seed": 0, "features": next(iter(FEATURE_CHOICES)), "resize": "pytorch-fid", "kid": True, "pr": True}
MAX_UPLOADED = MAX_GENERATED  # images per uploaded set: a request must end in minutes
AGAIN = "Press **Measure** to start again."
STOPPED = f"Stopped. {AGAIN}"
NOTHING_TO_STOP = "Nothing was measuring for this session, so nothing was stopped."
NOTHING_DRAWN = "not used: neither set is drawn (uploads and reference statistics have a size and no seed)"
NOT_MEASURED = "⚠️ **Not measured:** {reason} Any result below is from an earlier measurement."
GRID_IMAGES, GRID_COLUMNS, GRID_CELL = 32, 8, 56


# ---------------------------------------------------------------- pure functions

def rendered_scenes(count: int, seed: int) -> np.ndarray:
    """``count`` toy-world scenes (one in five with a held-out pair), (count, 32, 32, 3) uint8, from ``seed``."""
    return make_scene_set(count, seed * MAX_GENERATED, "mixed").images.permute(0, 2, 3, 1).numpy()


@torch.inference_mode()
def generated_images(model_name: str, model, count: int, seed: int) -> np.ndarray:
    """``count`` images in [0, 1] from a gallery generator, reproducible from ``seed``: digits (count, 28, 28) or
    toy-world pictures (count, 32, 32, 3).

    The cGAN draws every digit equally often (to within one when ``count`` is not a multiple of 10), in shuffled
    order; the VAE decodes z ~ N(0, I); the text-to-image toy draws one picture for the caption of each scene
    ``rendered_scenes(count, seed)`` shows, so the two sets pair.
    """
    if model_name == TEXT2IMG.name:
        captions = make_scene_set(count, seed * MAX_GENERATED, "mixed").captions
        return draw_captions(model, captions, seed).permute(0, 2, 3, 1).numpy()
    if model_name == CGAN.name:
        per_class, index = math.ceil(count / 10), torch.arange(count)
        images, _ = generate_per_class(model, per_class, seed)  # digit by digit
        balanced = index % 10 * per_class + index // 10  # image i is digit i % 10
        return images[balanced[torch.randperm(count, generator=torch.Generator().manual_seed(seed))], 0].numpy()
    z = torch.randn(count, model.latent_dim, generator=torch.Generator().manual_seed(seed))
    return model.pixel_means(z)[:, 0].numpy()


def of_set(label: str, work, *args):
    """``work(*args)`` for set ``label``, whose refusal of a file names the set: with two uploads, "fake.zip is not a
    readable zip file" or "only 0 usable images" did not say which."""
    try:
        return work(*args)
    except (ImageSetError, FIDError) as err:
        raise Refusal(f"Set {label}: {err}") from None


def source_name(choice: str) -> str:
    """A set's radio label without its parenthesis: "cGAN samples (cgan-mnist)" → "cGAN samples"."""
    return choice.split(" (")[0]


def sample_grid(images: list[np.ndarray], columns: int = GRID_COLUMNS, cell: int = GRID_CELL) -> np.ndarray | None:
    """Up to ``GRID_IMAGES`` RGB images as one picture, each fitted into a cell (pixels kept sharp when enlarged)."""
    if not images:
        return None
    rows = math.ceil(len(images) / columns)
    grid = Image.new("RGB", (columns * cell, rows * cell), (96, 96, 96))
    for i, image in enumerate(images):
        picture = Image.fromarray(shrunk(image, cell))
        if (scale := cell // max(picture.size)) > 1:
            picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
        grid.paste(picture, ((i % columns) * cell + (cell - picture.width) // 2, (i // columns) * cell + (cell - picture.height) // 2))
    return np.asarray(grid)


def result_markdown(comparison) -> str:
    warnings = comparison.warnings()
    body = comparison.lines()[:-len(warnings) or None]  # lines() ends with the warnings
    text = f"### {body[0]}\n" + "\n".join(f"- {line}" for line in body[1:])
    if warnings:
        text += "\n\n" + "\n".join(f"⚠️ {warning}" for warning in warnings)
    return text


ABOUT = """**What FID measures.** Both sets go through the same network (for the standard FID, TensorFlow's
Inception-v3 trained on ImageNet, its 2048-d pool3 layer); a Gaussian is fitted to each set's features, and FID is the
squared Fréchet (2-Wasserstein) distance between the two Gaussians: ‖μ_A − μ_B‖² + Tr(Σ_A + Σ_B − 2(Σ_A Σ_B)^½).
0 means the two sets' features have the same mean and covariance (all that FID sees, not that the sets are the same);
lower is better. It sees both fidelity and variety, but only through ImageNet features: for digits the gallery's
MNIST classifier gives a better-suited feature space (choose it under *Features*).

**How to read it.** FID is biased upwards at small N (the covariance of 2048-d features needs thousands of images;
with 2,048 or fewer it is singular), so compare only numbers computed with the same N, the same feature extractor
and the same resize convention: resizing to 299×299 the pytorch-fid way, the clean-fid way or the torch-fidelity way
moves the number by 0.9–11% on these small images (measured). Every result below names all three. **KID** (kernel inception
distance) is an unbiased alternative that can be compared across N, and so can come out below 0 when two sets are
alike (a little for large sets; far, at a few dozen images, where the result warns of it); **precision** is the share of B's images that fall on A's manifold (realism), **recall** the share of A's images on B's (variety), with k = 3 nearest neighbours.
The Inception Score is not offered here: the FID weights have no ImageNet classifier head (the command line takes one
with `--is-head`).

"""
REPORTS = ("fid_speed", "fid_distance_speed", "fid_agreement", "fid_full_run")  # benchmarks/results/ files the text quotes


def words_list(names: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def about_markdown(speed: dict | None, distance: dict | None, agreement: dict | None, full_run: dict | None) -> str:
    """The explanation, with the speed, agreement and full-run figures read from their benchmark results
    (each names the CPU it was measured on, since the project's development machines differ)."""
    lines = []
    if speed:
        per_second = speed["verdict"]["best_ours"]["images_per_s"]
        lines.append(f"On {machine(speed)} the Inception network reads about {per_second:.0f} images/s "
                     f"(`benchmarks/results/fid_speed.md`), so 250 images take about {250 / per_second:.0f} s; the "
                     "reference statistics of the 10,000 test images are precomputed.")
    if distance:
        lines.append(f"The distance itself, the matrix square root of the 2048×2048 product, took "
                     f"{distance['distance']['distance_fastest_seconds']:.0f} s on {machine(distance)} "
                     "(`fid_distance_speed.md`), whatever the number of images.")
    differences = [row["relative_difference"] for peer in (agreement or {}).get("peers", {}).values() for row in peer["rows"]]
    if differences:  # the benchmark skips a peer that is not installed; with none there is nothing to quote
        worst = max(differences)
        closeness = "exactly" if worst == 0 else f"to {worst:.0e} relative".replace("e-0", "e-")
        lines.append(f"This implementation agrees with {words_list(list(agreement['peers']))} {closeness} on the same "
                     "images and convention (`fid_agreement.md`).")
    inception = next((run for run in (full_run or {}).get("runs", []) if run["metric"] == "FID"), None)
    if inception:
        lines.append(f"{full_run['count']:,} cGAN samples vs the MNIST reference give FID {inception['value']:.2f} "
                     f"({inception['seconds'] / 60:.0f} minutes on {machine(full_run)}, `fid_full_run.md`).")
    return ABOUT.rstrip() + ("\n\n**Speed and agreement, measured.** " + " ".join(lines) if lines else "")


def resize_control(features: str) -> gr.Dropdown:
    """The resize dropdown for a feature space: only Inception's 299×299 input has resize conventions to choose from."""
    kind = FEATURE_CHOICES.get(features, "inception")
    return gr.Dropdown(interactive=kind == "inception", info=RESIZE_INFO[kind])


# ---------------------------------------------------------------- the tab

class FIDTab:
    """Loads the feature extractors and generators on first use (the Inception file alone is 87 MB)."""

    def __init__(self, hub_user: str | None = None):
        self.hub_user = hub_user
        self.extractors: dict[tuple[str, str], Extractor] = {}
        self.generators: dict[str, torch.nn.Module] = {}
        self.work = SessionWork()  # per session: the stop events of its measurements
        self.loading_lock = threading.Lock()  # else two first requests would each read and build the same network
        # The work of one measurement at a time, whatever Gradio's slot says: a cancel frees the slot at once, and the
        # cancelled work stops only at its next image.
        self.measuring_lock = threading.Lock()

    def stop_on_page(self, request: gr.Request | None):
        """The Stop button: with nothing running the shown result stays (its cancel still drops a queued request)."""
        return STOPPED if self.work.stop(request) else gr.skip()

    def stop_for_the_api(self, request: gr.Request | None) -> str:
        """``/fid_stop``: an answer either way (a skip reached a caller as a bare ``{'__type__': 'update'}``)."""
        return STOPPED if self.work.stop(request) else NOTHING_TO_STOP

    def page_closed(self, request: gr.Request) -> None:
        """A closed or reloaded page stops its measurements: no one will see them, and the one-at-a-time slot they hold
        kept every other visitor waiting (the next one waited 135 s after a page closed 12 s into 300 Inception images)."""
        self.work.stop(request)

    def extractor(self, kind: str, resize: str) -> Extractor:
        key = (kind, resize if kind == "inception" else "")
        with self.loading_lock:
            if key not in self.extractors:
                try:
                    self.extractors[key] = make_extractor(kind, resize, torch.device("cpu"))
                except (WeightsNotFound, CheckpointError) as err:
                    raise Refusal(str(err)) from None
            return self.extractors[key]

    def generator(self, name: str):
        with self.loading_lock:
            if name not in self.generators:
                try:
                    self.generators[name] = GENERATORS[name].load(GENERATORS[name].source(self.hub_user))
                except CheckpointError as err:
                    raise Refusal(str(err)) from None
            return self.generators[name]

    def image_set(self, choice: str, upload, count, seed, label: str) -> ImageSet:
        if choice == UPLOAD:
            path = upload_path(upload, missing=f"Set {label}: upload a .zip of images, or choose another source.")
            if Path(path).suffix.lower() != ".zip":
                raise Refusal(f"Set {label}: the upload must be a .zip file of images, got {Path(path).name}.")
            images = ZipImages(path)
            if len(images) > MAX_UPLOADED:
                raise Refusal(f"Set {label}: {images.name} holds {len(images):,} images; the tab measures at most "
                              f"{MAX_UPLOADED:,} per set. The command line has no limit: "
                              "`python -m generative.metrics.fid A.zip B.zip`.")
            return images
        count = checked_int(count, f"The number of samples for set {label}", 2, MAX_GENERATED)
        seed = checked_seed(seed)
        if choice == RENDERED_SCENES:
            return ArrayImages(rendered_scenes(count, seed), f"{count:,} rendered toy-world scenes (seed {seed})")
        name = GENERATOR_CHOICES[choice]
        images = generated_images(name, self.generator(name), count, seed)
        return ArrayImages(images, f"{count:,} {source_name(choice)} (seed {seed})")

    def source(self, choice: str, upload, count, seed, kind: str, resize: str, label: str) -> SetFeatures | ImageSet:
        """A reference's statistics, read; or a set of images, opened (an upload) or drawn (a generator), not yet measured."""
        if choice in REFERENCE_CHOICES:
            name = REFERENCE_CHOICES[choice]
            path = reference_path(name, kind, resize)
            recompute = f"`python -m generative.metrics.references --names {name} --features {kind}` computes them."
            if not path.is_file():
                shipped = DEFAULTS["resize"]
                if kind == "inception" and resize != shipped:
                    raise Refusal(f"No Inception statistics for {source_name(choice)} with the {resize} resize ship with "
                                  f"the gallery: they were computed with the {shipped} resize. Pick that resize, or "
                                  "upload the reference images as a zip as set A.")
                what = "classifier statistics" if kind == "classifier" else f"Inception statistics ({shipped} resize)"
                raise Refusal(f"The {what} of {source_name(choice)} are missing from {path.parent}; {recompute}")
            try:
                return load_stats(path)
            except FIDError as err:  # a damaged shipped file
                raise Refusal(f"{err}; {recompute}") from None
        return self.image_set(choice, upload, count, seed, label)

    def features_of(self, source: SetFeatures | ImageSet, kind: str, resize: str, stop: threading.Event) -> SetFeatures:
        if isinstance(source, SetFeatures):
            return source
        return extract(source, self.extractor(kind, resize), keep_images=GRID_IMAGES, stop=stop)

    def measure(self, choice_a=DEFAULTS["choice_a"], upload_a=None, choice_b=DEFAULTS["choice_b"], upload_b=None,
                count=DEFAULTS["count"], seed=DEFAULTS["seed"], features=DEFAULTS["features"], resize=DEFAULTS["resize"],
                kid=DEFAULTS["kid"], pr=DEFAULTS["pr"], request: gr.Request = None, progress=gr.Progress(track_tqdm=True)):
        """FID (and KID, precision/recall when ticked) of set A vs set B, a result text and a grid of each set."""
        checked_choice(choice_a, "set A", [*REFERENCE_CHOICES, RENDERED_SCENES, UPLOAD])
        checked_choice(choice_b, "set B", [UPLOAD, *GENERATOR_CHOICES])
        kind = FEATURE_CHOICES[checked_choice(features, "features", FEATURE_CHOICES)]
        checked_choice(resize, "resize convention", RESIZES)
        kid, pr = checked_flag(kid, "The KID box"), checked_flag(pr, "The precision/recall box")
        if kind == "classifier" and (not_digits := [c for c in (choice_a, choice_b) if c in NOT_DIGITS]):
            raise Refusal(f"The MNIST classifier's features are for digits, and {source_name(not_digits[0])} are not "
                           "digits: choose Inception-v3 features to measure them.")
        sets = ((choice_a, upload_a, "A"), (choice_b, upload_b, "B"))
        try:
            # From the start: a Stop while the samples are drawn, or while a stopped measurement ends, counts too.
            with self.work.stoppable(request) as stop, self.measuring_lock:
                # Both sets first: a missing or wrong upload for B must not wait for A's features, which can take minutes.
                sources = [of_set(label, self.source, choice, upload, count, seed, kind, resize, label)
                           for choice, upload, label in sets]
                a, b = (of_set(label, self.features_of, source, kind, resize, stop) for source, (*_, label) in zip(sources, sets))
                if stop.is_set():  # after B's last image
                    raise Stopped("Stopped before the comparison")
                dimension = len(a.stats.mean)
                # The square root takes seconds at 2048-d (its time is in the explanation) with no progress of its own.
                # A level of 0, not None: without a level Gradio's status shows its timer alone, not this text.
                progress(0, desc=f"Comparing the two sets (the Fréchet distance's square root of a {dimension}×{dimension} "
                                 "matrix: the bar stays at 0% until it ends)")
                too_few = pr and min(a.n, b.n) <= PR_NEIGHBOURS  # k-NN balls need more points than k
                comparison = compare(a, b, kid=kid, pr=pr and not too_few, stop=stop)
        except (ImageSetError, FIDError) as err:
            raise Refusal(str(err)) from None
        except Stopped as err:  # an answer, not an error: the person asked for it
            return f"{err}. {AGAIN}", None, None
        note = f"\n\n⚠️ Precision/recall not computed: it needs more than {PR_NEIGHBOURS} images in each set." if too_few else ""
        note += "".join(f"\n\n⚠️ Set {label}: the uploaded zip was not used, since “{source_name(choice)}” is selected; "
                        f"choose “{UPLOAD}” to measure it."
                        for choice, upload, label in sets if upload and choice != UPLOAD)
        for s in (a, b):
            if s.skipped.total:
                gr.Warning(f"{s.source}: {s.skipped.describe()}.")
        grids = [sample_grid(s.sample or []) for s in (a, b)]
        return result_markdown(comparison) + note, *grids


def with_the_note_cleared(measure):
    """``measure`` for the page, whose first output is the note on a refused request: a measurement clears it."""
    @wraps(measure)  # Gradio reads the handler's own signature (its request and progress arguments) through the wrapper
    def measure_in_page(*args, **kwargs):
        return "", *measure(*args, **kwargs)
    return measure_in_page


def drawn_set_controls(choice_a, choice_b) -> tuple:
    """The sample count and the seed, greyed out unless a set is drawn (generated samples, or rendered scenes as A):
    uploads and reference statistics use neither, and they looked as if they did."""
    drawn = choice_a == RENDERED_SCENES or choice_b in GENERATOR_CHOICES
    return (gr.update(interactive=drawn, info="" if drawn else NOTHING_DRAWN),) * 2


def measure_the_upload() -> str:
    """The set's source once a zip is uploaded for it: an upload means "measure this zip"."""
    return UPLOAD


def build_tab(hub_user: str | None = None) -> None:
    tab = FIDTab(hub_user)
    gr.Markdown("## Measure two image sets with FID")
    with gr.Row():
        with gr.Column():
            choice_a = gr.Radio([*REFERENCE_CHOICES, RENDERED_SCENES, UPLOAD], value=DEFAULTS["choice_a"], label="Set A (the reference)",
                                elem_id="fid-set-a")
            upload_a = gr.File(file_types=[".zip"], label=f"Set A: zip of up to {MAX_UPLOADED:,} images (PNG, JPEG, …; other files are skipped)",
                               height=ZIP_BOX_HEIGHT, elem_classes=["label-clear"], elem_id="fid-upload-a")
        with gr.Column():
            choice_b = gr.Radio([UPLOAD, *GENERATOR_CHOICES], value=DEFAULTS["choice_b"], label="Set B (to measure)",
                                elem_id="fid-set-b")
            upload_b = gr.File(file_types=[".zip"], label=f"Set B: zip of up to {MAX_UPLOADED:,} images", height=ZIP_BOX_HEIGHT,
                               elem_classes=["label-clear"], elem_id="fid-upload-b")
            with gr.Row():
                count = gr.Number(value=DEFAULTS["count"], precision=0, minimum=2, maximum=MAX_GENERATED,
                                  label="Generated samples (B; also rendered scenes in A)", elem_id="fid-count")
                seed = gr.Number(value=DEFAULTS["seed"], precision=0, minimum=0, maximum=MAX_SEED, label="Seed", elem_id="fid-seed")
    with gr.Row():
        features = gr.Radio(list(FEATURE_CHOICES), value=DEFAULTS["features"], label="Features", elem_id="fid-features")
        resize = gr.Dropdown(list(RESIZES), value=DEFAULTS["resize"], label="Resize convention to 299×299",
                             info=RESIZE_INFO["inception"], elem_id="fid-resize")
        with gr.Column(min_width=160):  # a checkbox's own minimum width is not applied: at 320 px they were 48 px, "KI"
            kid = gr.Checkbox(value=DEFAULTS["kid"], label="KID", elem_id="fid-kid")
            pr = gr.Checkbox(value=DEFAULTS["pr"], label="Precision / recall", elem_id="fid-pr")
    with gr.Row():
        measure = gr.Button("Measure", variant="primary", elem_id="fid-measure", scale=4)
        stop = gr.Button("Stop", variant="stop", elem_id="fid-stop", scale=1)
    not_measured = gr.Markdown("", label="refused request", elem_id="fid-not-measured")
    result = gr.Markdown("Choose two sets and press **Measure**.", label="result", elem_id="fid-result")
    with gr.Row():
        grid_a = gr.Image(buttons=IMAGE_BUTTONS, label="Set A (first images; none for reference statistics)", interactive=False, format="png",
                          elem_classes=["label-clear"], elem_id="fid-grid-a")
        grid_b = gr.Image(buttons=IMAGE_BUTTONS, label="Set B (first images)", interactive=False, format="png", elem_classes=["label-clear"],
                          elem_id="fid-grid-b")
    gr.Markdown(about_markdown(*(benchmark_report(name) for name in REPORTS)),
                elem_id="fid-about")
    features.change(resize_control, features, resize, api_visibility="private")
    for choice in (choice_a, choice_b):
        choice.change(drawn_set_controls, [choice_a, choice_b], [count, seed], api_visibility="private", queue=False)
    for upload, choice in ((upload_a, choice_a), (upload_b, choice_b)):
        upload.upload(measure_the_upload, None, choice, api_visibility="private")
    inputs, outputs = [choice_a, upload_a, choice_b, upload_b, count, seed, features, resize, kid, pr], [result, grid_a, grid_b]
    # One at a time, the page's and the API's together: a measurement can take both cores for minutes.
    one_at_a_time = {"preprocess": False, "concurrency_id": "fid-measure", "concurrency_limit": 1}
    # A new request clears the note of a refused one at once: it was about the request before.
    measure.click(lambda: "", None, not_measured, api_visibility="private", queue=False)
    in_page = noted_on_refusal(with_the_note_cleared(tab.measure), [not_measured, *outputs], not_measured, note=NOT_MEASURED)
    measuring = [measure.click(in_page, inputs, [not_measured, *outputs], api_visibility="private", **one_at_a_time),
                 # A generator, so that the API's job.cancel() stops a running measurement (the page has Stop).
                 api_endpoint("fid-api-measure", cancellable(tab.measure), inputs, outputs, api_name="fid_measure",
                              **one_at_a_time)]
    Context.root_block.unload(tab.page_closed)  # the gallery's Blocks: Gradio calls it when a page's session ends
    # The events stop running work (and tell the caller); `cancels` drops a queued request and the page's wait.
    stopping = {"queue": False, "cancels": measuring}
    stop.click(tab.stop_on_page, None, result, api_visibility="private", **stopping)
    api_endpoint("fid-api-stop", tab.stop_for_the_api, None, result, api_name="fid_stop", **stopping,
                 api_description="Stop the measurements of the same session (one gradio_client Client) that are "
                 "running: each answers \"Stopped after N of M images …\" before its next image (or \"Stopped during the "
                 f"comparison\"). This call answers \"{STOPPED}\", or with none running \"{NOTHING_TO_STOP}\"")
