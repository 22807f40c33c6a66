"""The "VAE latent walk" tab: encode two digits, walk the latent space between them, and see the 2-D map."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial, wraps

import gradio as gr
import numpy as np
import torch

from demos.checkpoints import CheckpointTab
from demos.inputs import (GALLERY_BUTTONS, IMAGE_BUTTONS, MAX_SEED, Refusal, UploadGuard, api_endpoint, checked_choice,
                          checked_int, checked_seed, clicked_point, digit_from_sketch, digit_from_upload, digit_input,
                          enlarge, example_paths, is_number, noted_on_refusal, shown, tabs,
                          upload_path)
from demos.reports import fixed, hardware_words, measured_report
from demos.strips import GIF_LABEL, caption, gallery_items, readout, save_strip
from generative.checkpoints import CLASSIFIER, VAE_MAP, VAE_WALK
from generative.hub import CheckpointError, how_to_get, load_metrics, load_tensors
from generative.latent import PATHS, latent_path
from generative.latent_map import LatentMap, Overlay
from generative.metrics.interpolation import label_flips
from generative.models import VAE, DigitClassifier

TITLE = "VAE latent walk"
TEST_ENCODINGS = "test_encodings.safetensors"
PATH_CHOICES = [("straight line (lerp)", "lerp"), ("great circle (slerp)", "slerp")]
CODES = {"mean": "the posterior mean μ", "sample": "a posterior sample z = μ + σ ⊙ ε"}
MIN_STEPS, MAX_STEPS, DEFAULT_STEPS = 2, 24, 10
MAP_EXTENT = 3.5       # the map shows z ∈ [−3.5, 3.5]²: 98.3 % of the test digits' codes (posterior means) fall inside
POINT_LIMIT = 10.0     # "decode this point" accepts |z| up to this; the decoder has never seen anything near it
MAP_PATH_POINTS = 64   # points of the path drawn on the map
MAP_MIN_WIDTH = 300    # pixels: narrower than two of these (a phone), the map's two pictures stack
DEFAULT_ENDPOINTS = (4, 7)  # bundled example digits the tab opens with


# ---------------------------------------------------------------- pure functions

@dataclass
class Endpoint:
    """One end of a walk: the posterior q(z|x) of a digit, or a point drawn from the prior."""
    image: np.ndarray           # the 28×28 digit it stands for (for a prior sample: the sample decoded)
    mean: np.ndarray            # (d,) posterior mean; for a prior sample, the sampled z itself
    std: np.ndarray             # (d,) posterior standard deviation; zero for a prior sample
    reconstruction: np.ndarray  # the decoder's image of ``mean``
    upload: str | None = None   # the uploaded file it was encoded from, if it was: the page skips that file's repeat
    from_prior: bool = False    # drawn from N(0, I), never encoded: its two pictures are one decoded z


@dataclass
class Walk:
    latents: torch.Tensor     # (steps, d)
    frames: np.ndarray        # (steps, 28, 28) pixel means in [0, 1]
    digits: np.ndarray        # (steps,) classifier's predicted digit per frame
    confidences: np.ndarray   # (steps,) its softmax probability

    @property
    def flips(self) -> int:
        return int(label_flips(torch.from_numpy(self.digits)))


@torch.inference_mode()
def decode(model: VAE, z: torch.Tensor) -> np.ndarray:
    """(n, d) latents → (n, 28, 28) Bernoulli means in [0, 1]."""
    return model.pixel_means(z.float())[:, 0].numpy()


@torch.inference_mode()
def encode_digit(model: VAE, digit: np.ndarray) -> Endpoint:
    mean, log_variance = (t[0] for t in model.encode(torch.from_numpy(digit).float()[None, None]))
    return Endpoint(digit, mean.numpy(), torch.exp(0.5 * log_variance).numpy(), decode(model, mean[None])[0])


def prior_sample(model: VAE, seed: int) -> Endpoint:
    z = torch.randn(model.latent_dim, generator=torch.Generator().manual_seed(seed))
    image = decode(model, z[None])[0]
    return Endpoint(image, z.numpy(), np.zeros(model.latent_dim, np.float32), image, from_prior=True)


def endpoint_labels(name: str, endpoint: Endpoint | None = None) -> tuple[str, str]:
    """The captions of endpoint ``name``'s two pictures. A prior sample was never encoded, so neither picture is a
    digit or the reconstruction of a μ: both are its z decoded."""
    if endpoint is not None and endpoint.from_prior:
        return f"{name}: a prior sample z, decoded", f"{name}: the same z (never encoded)"
    return f"{name}: the digit (28×28)", f"{name}: reconstruction of μ"


def with_endpoint_labels(handler: Callable, name: str) -> Callable:
    """``handler`` (one that sets endpoint ``name``) for the page: the endpoint's two pictures come with the captions
    that say what they are now, as labels and as alt text (what a screen reader says of them). The API's endpoints
    send the pictures alone, so their callers get plain files."""
    @wraps(handler)  # Gradio reads the handler's own signature (its request argument) through the wrapper
    def labelled(*args, **kwargs):
        result = handler(*args, **kwargs)
        if not isinstance(result, tuple):  # gr.skip(): nothing shown changes
            return result
        endpoint, image, reconstruction, *walk_views = result
        image_label, reconstruction_label = endpoint_labels(name, endpoint)
        return (endpoint, gr.update(value=image, label=image_label, alt_text=image_label),
                gr.update(value=reconstruction, label=reconstruction_label, alt_text=reconstruction_label), *walk_views)
    return labelled


def endpoint_code(endpoint: Endpoint, code: str, generator: torch.Generator) -> torch.Tensor:
    """The latent the walk starts or ends at: μ, or one draw z = μ + σ ⊙ ε from q(z|x)."""
    mean = torch.from_numpy(endpoint.mean)
    if code == "mean":
        return mean
    return mean + torch.from_numpy(endpoint.std) * torch.randn(mean.shape, generator=generator)


def walk(model: VAE, classifier: DigitClassifier, a: Endpoint, b: Endpoint, steps: int, path: str = "lerp",
         code: str = "mean", seed: int = 0) -> Walk:
    """Decode ``steps`` evenly spaced points from A to B along ``path``, each judged by the classifier."""
    generator = torch.Generator().manual_seed(seed)
    latents = latent_path(endpoint_code(a, code, generator), endpoint_code(b, code, generator), steps, path)
    frames = decode(model, latents)
    return Walk(latents, frames, *readout(classifier, frames))


def walk_captions(result: Walk) -> list[str]:
    return [caption(d, c) for d, c in zip(result.digits, result.confidences)]


@torch.inference_mode()
def map_overlay(map_model: VAE, a: Endpoint, b: Endpoint, result: Walk, path: str) -> Overlay:
    """Where the walk shows on the 2-d map: the endpoints' digits encoded by the 2-d model, the same kind of
    path between them in its plane, and the walk's frames encoded by it (where the 16-d walk lands)."""
    ends = map_model.encode(torch.from_numpy(np.stack([a.image, b.image]))[:, None].float())[0]
    line = latent_path(ends[0], ends[1], MAP_PATH_POINTS, path)
    frames = map_model.encode(torch.from_numpy(result.frames)[:, None])[0]
    return Overlay(endpoints=ends.numpy(), path=line.numpy(), frames=frames.numpy())


def walk_summary(result: Walk) -> str:
    labels = " → ".join(str(d) for i, d in enumerate(result.digits) if i == 0 or d != result.digits[i - 1])
    return (f"**Classifier along the path:** {labels} · **label changes:** {result.flips} (1 is ideal between two "
            f"different digits) · **mean confidence:** {result.confidences.mean():.1%}")


# ---------------------------------------------------------------- text

def about_markdown(walk_metrics: dict | None, map_metrics: dict | None, report: dict | None) -> str:
    text = (
        "**What it is.** A *variational autoencoder* (Kingma & Welling, 2014) learns a probabilistic code for "
        "digits. The encoder maps a digit x to the mean μ and log-variance log σ² of a Gaussian q(z|x); a code is "
        "drawn with the *reparameterisation* z = μ + σ ⊙ ε, ε ~ N(0, I), so gradients flow through the sampling; "
        "the decoder turns z into the probability of each of the 784 pixels being on (a Bernoulli likelihood).\n\n"
        "**Loss.** The negative evidence lower bound, per digit: the reconstruction cross-entropy summed over the "
        "pixels plus KL(q(z|x) ‖ N(0, I)). The KL term pulls every code towards the standard normal prior, so the "
        "codes of all digits together spread over it: that is why most points *between* two digits decode to "
        "plausible digits, and most random z ~ N(0, I) too. Only most: the term acts on each digit's code alone, "
        "so the codes together need not fill the prior exactly (Hoffman & Johnson 2016), and some points decode "
        "to blurred, in-between shapes.\n\n"
        "**The walk** uses the 16-d model. A straight line between two typical codes passes closer to the origin "
        "than typical codes do (in d dimensions they lie near the sphere of radius √d); slerp follows the great "
        "circle instead and moves the norm evenly from A's to B's, so it does not dip. Each frame is judged by a "
        "separate MNIST classifier.\n\n"
        "**The map** is a second VAE with a 2-d latent space, so its whole code space can be drawn: the decoded "
        "digit at each point of the plane, and beside it (below it on a narrow screen) where the 10,000 MNIST test "
        "digits are encoded (μ), coloured by their true label, on the same axes. The yellow line is the 2-d model's "
        "own path of the same kind (lerp or slerp) between its codes (means) for A and B; the white dots are where the "
        "16-d walk's frames land when the 2-d encoder reads them. Click anywhere on either picture to decode that "
        "point.")
    rows = [(name, m) for name, m in (("16-d (walk)", walk_metrics), ("2-d (map)", map_metrics)) if m]
    if rows:
        text += "\n\n**Trained here:** " + "; ".join(
            f"{name}: {m['parameters']:,} parameters, {m['epochs']} epochs on {hardware_words(m['hardware'])}" for name, m in rows) + "."
    if report:
        text += "\n\n" + report["summary_markdown"]
    return text


# ---------------------------------------------------------------- the tab

class VAETab(CheckpointTab):
    """Holds the models (or why they could not load) and the Gradio handlers that use them."""

    model = map_model = classifier = map = None

    def __init__(self, hub_user: str | None = None):
        super().__init__("vae", (VAE_WALK, VAE_MAP, CLASSIFIER), hub_user)
        self.metrics = {c.name: load_metrics(self.sources[c.name]) for c in (VAE_WALK, VAE_MAP)} if not self.error else {}
        self.report = measured_report("vae_quality", *self.sources.values()) if not self.error else None
        self.uploads = {True: UploadGuard(), False: UploadGuard()}  # endpoints A and B: the same example may go to both

    def load_models(self) -> None:
        self.model = self.load(VAE_WALK)
        self.map_model = self.load(VAE_MAP)
        self.classifier = self.load(CLASSIFIER)
        source = self.sources[VAE_MAP.name]
        if self.map_model.latent_dim != 2:  # a sound VAE of another size stopped the whole app in LatentMap
            raise CheckpointError(f"The latent map needs a VAE with a 2-d latent space, and {source} holds a "
                                  f"{self.map_model.latent_dim}-d one. {how_to_get(source, VAE_MAP.train_command)}")
        encodings = load_tensors(source, TEST_ENCODINGS, train_command=VAE_MAP.train_command, names=("mean", "label"))
        self.map = LatentMap(self.map_model, encodings["mean"].numpy(), encodings["label"].numpy(), MAP_EXTENT)

    # ---- endpoints

    def endpoint_from_digit(self, digit: np.ndarray) -> Endpoint:
        self.check()
        return encode_digit(self.model, digit)

    def endpoint_views(self, endpoint: Endpoint) -> tuple:
        return endpoint, enlarge(endpoint.image, 4), enlarge(endpoint.reconstruction, 4)

    def upload_change(self, *, first: bool):
        """The page's upload event for endpoint A (``first``) or B: ``set_from_upload``, but clearing the box is not an
        error (what is shown stays), and the second of the two change events a dropped file fires is skipped
        (``UploadGuard``), also when a busy queue ran it after the first had made the file this endpoint (``mine``).
        A plain function rather than a partial: Gradio reads the request's annotation from it."""
        def on_upload(image, mine, other, steps, path, code, seed, request: gr.Request = None):
            return self.uploads[first].run(request, image,
                                           lambda: self.set_from_upload(image, other, steps, path, code, seed, first=first),
                                           on_show=mine.upload if mine else None)
        return on_upload

    def set_from_upload(self, image, other, steps, path, code, seed, *, first: bool):
        endpoint = replace(self.endpoint_from_digit(digit_from_upload(image)), upload=upload_path(image))
        return self.set_endpoint(endpoint, other, steps, path, code, seed, first=first)

    def set_from_sketch(self, sketch, other, steps, path, code, seed, *, first: bool):
        return self.set_endpoint(self.endpoint_from_digit(digit_from_sketch(sketch)), other, steps, path, code, seed,
                                 first=first)

    def set_from_prior(self, prior_seed, other, steps, path, code, seed, *, first: bool):
        self.check()
        endpoint = prior_sample(self.model, checked_seed(prior_seed, "The prior seed"))
        return self.set_endpoint(endpoint, other, steps, path, code, seed, first=first)

    def set_endpoint(self, endpoint: Endpoint, other: Endpoint, steps, path, code, seed, *, first: bool):
        """New endpoint A (``first``) or B: its views, then the walk redone with it."""
        a, b = (endpoint, other) if first else (other, endpoint)
        return (*self.endpoint_views(endpoint), *self.walk(a, b, steps, path, code, seed))

    # ---- the walk

    def walk(self, a: Endpoint | None, b: Endpoint | None, steps, path, code, seed):
        """Strip, its readout captions, the PNG and GIF downloads, the summary, and the map's two pictures with the
        walk on them."""
        self.check()
        if a is None or b is None:
            raise Refusal("Choose both endpoints first.")
        steps = checked_int(steps, "The number of steps", MIN_STEPS, MAX_STEPS)
        checked_choice(path, "path", PATHS)
        checked_choice(code, "endpoint code", CODES)
        result = walk(self.model, self.classifier, a, b, steps, path, code, checked_seed(seed, "The posterior-sample seed"))
        captions = walk_captions(result)
        png, gif = save_strip(result.frames, captions, self.files.new(), "vae-walk")
        strip = gallery_items(result.frames, captions)
        overlay = map_overlay(self.map_model, a, b, result, path)
        return strip, str(png), str(gif), walk_summary(result), *self.map.render(overlay), overlay

    # ---- the map

    def decode_point(self, overlay: Overlay | None, z1, z2):
        """Decode the 2-d map model at (z₁, z₂): the map's pictures with the point marked, the digit, and the
        classifier's view."""
        self.check()
        for name, value in (("z₁", z1), ("z₂", z2)):
            if not (is_number(value) and abs(value) <= POINT_LIMIT):
                raise Refusal(f"{name} must be a number from −{POINT_LIMIT:g} to {POINT_LIMIT:g}, got {shown(value)}.")
        point = np.array([z1, z2], dtype=np.float32)
        digit = decode(self.map_model, torch.from_numpy(point)[None])[0]
        (predicted,), (confidence,) = readout(self.classifier, digit[None])
        overlay = Overlay(**{**(overlay.__dict__ if overlay else {}), "clicked": point})
        readout_text = (f"z = ({fixed(z1, 2)}, {fixed(z2, 2)}) decodes to this; the classifier reads **{predicted}** "
                        f"({confidence:.0%} confident).")
        if not self.map.contains(point):
            readout_text += (f" The point lies outside the map, which shows z₁, z₂ ∈ [−{self.map.extent:g}, {self.map.extent:g}]: "
                             "its mark is cut off at the edge, or not shown.")
        return *self.map.render(overlay), overlay, enlarge(digit, 4), readout_text, round(float(z1), 3), round(float(z2), 3)

    def click_map(self, overlay: Overlay | None, evt: gr.SelectData):
        """A click on either of the map's pictures (they share their axes): decode the point under it."""
        self.check()
        if (pixel := clicked_point(evt)) is None or (point := self.map.pixel_to_latent(*pixel)) is None:
            return gr.skip()
        return self.decode_point(overlay, float(point[0]), float(point[1]))

    def initial(self) -> tuple | None:
        """What the tab opens with: two bundled test digits and the walk between them (computed once, at start)."""
        if self.error:
            return None
        paths = example_paths()
        a, b = (self.endpoint_from_digit(digit_from_upload(paths[i])) for i in DEFAULT_ENDPOINTS)
        return (*self.endpoint_views(a), *self.endpoint_views(b), *self.walk(a, b, DEFAULT_STEPS, "slerp", "mean", 0))


def endpoint_column(name: str, prefix: str, image_value, reconstruction_value):
    """One endpoint's inputs (draw, upload/example, prior sample) and its input and reconstruction images."""
    gr.Markdown(f"### Endpoint {name}")
    with tabs():
        digit = digit_input(prefix, f"Use my drawing as {name}", canvas=224, upload_height=160)
        with gr.Tab("Random from the prior", id=f"{prefix}-prior-tab"):
            prior_seed = gr.Number(value=0, precision=0, minimum=0, maximum=MAX_SEED, label="Seed", elem_id=f"{prefix}-prior-seed")
            prior_button = gr.Button(f"Sample z ~ N(0, I) as {name}", elem_id=f"{prefix}-prior-button")
    image_label, reconstruction_label = endpoint_labels(name)
    with gr.Row():
        image = gr.Image(buttons=IMAGE_BUTTONS, elem_classes=["pixelated", "label-clear"], format="png", label=image_label,
                         interactive=False, value=image_value, elem_id=f"{prefix}-image")
        reconstruction = gr.Image(buttons=IMAGE_BUTTONS, elem_classes=["pixelated", "label-clear"], format="png", label=reconstruction_label,
                                  interactive=False, value=reconstruction_value, elem_id=f"{prefix}-reconstruction")
    return digit, prior_seed, prior_button, image, reconstruction


def build_tab(hub_user: str | None = None) -> None:
    """Lay out the tab inside the current ``gr.Blocks`` and wire its events."""
    tab = VAETab(hub_user)
    start = tab.initial() or (None,) * 13
    # The point boxes open at (0, 0), so the picture beside them opens as that point decoded (and marked on the map)
    # rather than empty.
    opening_point = tab.decode_point(start[12], 0.0, 0.0) if start[0] else (None,) * 5
    gr.Markdown("## Walk a variational autoencoder's latent space between two digits")
    if tab.error:
        gr.Markdown(f"⚠️ **The models are not available.** {tab.error}", elem_id="vae-model-error")
    with gr.Row():
        with gr.Column():
            digit_a, prior_seed_a, prior_a, image_a, recon_a = endpoint_column("A", "vae-a", start[1], start[2])
        with gr.Column():
            digit_b, prior_seed_b, prior_b, image_b, recon_b = endpoint_column("B", "vae-b", start[4], start[5])
    with gr.Row():
        steps = gr.Slider(MIN_STEPS, MAX_STEPS, value=DEFAULT_STEPS, step=1, precision=0, label="Steps (frames, both ends included)",
                          elem_id="vae-steps")
        path = gr.Radio(PATH_CHOICES, value="slerp", label="Path", elem_id="vae-path")
        code = gr.Radio([(text, key) for key, text in CODES.items()], value="mean", label="Each endpoint's code",
                        elem_id="vae-code")
        seed = gr.Number(value=0, precision=0, minimum=0, maximum=MAX_SEED, label="Seed (posterior sample)",
                         info="used only when each endpoint's code is a posterior sample", elem_id="vae-seed")
    strip = gr.Gallery(buttons=GALLERY_BUTTONS, value=start[6], elem_classes=["pixelated", "fit-columns", "captions-below", "strip", "label-clear"],
                       format="png", label="The walk, decoded (classifier: digit · confidence)", height="auto", elem_id="vae-strip")
    summary = gr.Markdown(start[9] or "", label="summary", elem_id="vae-summary")
    with gr.Row():
        png = gr.File(value=start[7], label="Strip (PNG)", interactive=False, elem_id="vae-png")
        gif = gr.File(value=start[8], label=GIF_LABEL, interactive=False, elem_id="vae-gif")
    gr.Markdown("### The latent map of a 2-d VAE (click anywhere on either picture)")
    # Two pictures, each at least MAP_MIN_WIDTH: side by side where they fit, one above the other on a phone, where
    # one picture of both panels was 326 px wide (tick values too small to read)
    map_picture = {"buttons": IMAGE_BUTTONS, "format": "png", "elem_classes": ["label-clear"], "interactive": False,
                   "min_width": MAP_MIN_WIDTH}
    with gr.Row():
        manifold = gr.Image(opening_point[0], label="Decoded latent plane", elem_id="vae-map", **map_picture)
        codes = gr.Image(opening_point[1], label="MNIST test digits' codes (colour: true label)", elem_id="vae-map-codes",
                         **map_picture)
    map_views = [manifold, codes]
    with gr.Row():
        z1 = gr.Number(value=0.0, label="z₁", elem_id="vae-z1")
        z2 = gr.Number(value=0.0, label="z₂", elem_id="vae-z2")
        decode_button = gr.Button("Decode this point", elem_id="vae-decode-button")
        point_image = gr.Image(opening_point[3], buttons=IMAGE_BUTTONS, elem_classes=["pixelated", "label-clear"], format="png",
                               label="decoded point", interactive=False, elem_id="vae-point")
        # In a column with a minimum width (the Markdown's own is not applied): the row squeezed the readout instead of
        # wrapping it, 16 px wide at 768 px, a letter or two a line
        with gr.Column(min_width=200):
            point_readout = gr.Markdown(opening_point[4] or "", label="point readout", elem_id="vae-point-readout")
    gr.Markdown(about_markdown(tab.metrics.get(VAE_WALK.name), tab.metrics.get(VAE_MAP.name), tab.report), elem_id="vae-about")

    state_a, state_b, overlay = gr.State(start[0]), gr.State(start[3]), gr.State(opening_point[2])
    controls = [steps, path, code, seed]
    walk_outputs = [strip, png, gif, summary, *map_views, overlay]

    def page_event(handler, name: str, outputs: list):
        """The page's way to set endpoint ``name``: its pictures captioned as what they are; a refusal warns, keeps
        what is shown, and the walk's summary says that the walk is the last one drawn."""
        return noted_on_refusal(with_endpoint_labels(handler, name.upper()), outputs, summary)
    for first, digit, prior_seed, prior_button, views, other in (
            (True, digit_a, prior_seed_a, prior_a, [state_a, image_a, recon_a], state_b),
            (False, digit_b, prior_seed_b, prior_b, [state_b, image_b, recon_b], state_a)):
        name = "a" if first else "b"
        outputs = [*views, *walk_outputs]
        end = f"Set endpoint {name.upper()} of the walk"
        also = "; returns it, its reconstruction and the new walk (frames, PNG, GIF, summary, the latent map's two pictures)"
        # preprocess=False on every event: our own decoder checks files from their header, and our own range
        # checks name the control; Gradio's would answer first, with messages that do neither.
        # In the page a refused file or drawing warns and keeps what is shown, and a cleared upload box changes
        # nothing; the API's endpoints, on hidden buttons, refuse both (as the Denoise tab's do).
        digit.upload.change(page_event(tab.upload_change(first=first), name, outputs), [digit.upload, views[0], other, *controls], outputs,
                            api_visibility="private", preprocess=False)
        digit.sketch_button.click(page_event(partial(tab.set_from_sketch, first=first), name, outputs),
                                  [digit.sketch, other, *controls], outputs, api_visibility="private", preprocess=False)
        api_endpoint(
            f"vae-api-{name}-upload", partial(tab.set_from_upload, first=first), [digit.upload, other, *controls], outputs,
            api_name=f"vae_{name}_upload", preprocess=False, api_description=f"{end} from an uploaded digit image{also}.")
        api_endpoint(
            f"vae-api-{name}-sketch", partial(tab.set_from_sketch, first=first), [digit.sketch, other, *controls], outputs,
            api_name=f"vae_{name}_sketch", preprocess=False,
            api_description=f"{end} from a drawn digit (over the API, the sketch's `composite` image){also}.")
        from_prior = partial(tab.set_from_prior, first=first)
        gr.on([prior_button.click, prior_seed.submit], page_event(from_prior, name, outputs), [prior_seed, other, *controls], outputs,
              api_visibility="private", preprocess=False)
        api_endpoint(f"vae-api-{name}-prior", from_prior, [prior_seed, other, *controls], outputs, api_name=f"vae_{name}_prior",
                     preprocess=False, api_description=f"{end} from a draw z ~ N(0, I) of the given prior seed{also}.")
    for control in controls:
        # a refused setting keeps the walk, and the summary under it says it is not the new setting's
        control.change(noted_on_refusal(tab.walk, walk_outputs, summary), [state_a, state_b, *controls], walk_outputs,
                       api_visibility="private", preprocess=False)
    # The API's walk: a refused value must reach an API caller as an error, which the controls' events turn into a
    # warning. A hidden button carries the endpoint.
    api_endpoint("vae-api-walk", tab.walk, [state_a, state_b, *controls], walk_outputs, api_name="vae_walk", preprocess=False)
    point_outputs = [*map_views, overlay, point_image, point_readout, z1, z2]
    # The button and Enter in a box (as in the seed boxes) warn on a refused point, keep the map and the decoded
    # point, and the readout under it says so; the API's endpoint, on a hidden button, refuses it.
    gr.on([decode_button.click, z1.submit, z2.submit], noted_on_refusal(tab.decode_point, point_outputs, point_readout),
          [overlay, z1, z2], point_outputs, api_visibility="private", preprocess=False)
    api_endpoint("vae-api-decode", tab.decode_point, [overlay, z1, z2], point_outputs, api_name="vae_decode_point",
                 preprocess=False)
    # A click is the browser's way in; over the API, /vae_decode_point takes the point itself (a call without the
    # click's event data would fail inside Gradio before reaching the tab).
    for view in map_views:
        view.select(tab.click_map, [overlay], point_outputs, preprocess=False, api_visibility="private")
