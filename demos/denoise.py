"""The "Denoise an image" tab: a digit goes to the denoising autoencoder (with classical filters beside it),
a photo to the blind photo denoiser; which one is chosen from the upload, and the user can override it."""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr
import numpy as np
import torch

from demos.background import SessionWork, cancellable
from demos.inputs import (GALLERY_BUTTONS, IMAGE_BUTTONS, MAX_SEED, Refusal, UploadGuard, api_endpoint,
                          bring_into_sight, checked_choice, checked_flag, checked_seed, clicked_point,
                          digit_from_pixels, digit_from_sketch, digit_input, enlarge, example_paths, is_number,
                          noted_on_refusal, shown, sketch_path, tabs, upload_path)
from demos.output_files import OutputFolder
from demos.denoise_about import about_markdown, photo_about_markdown
from demos.photo import (AUTO, DIGIT, MAX_PHOTO_SIGMA, PHOTO, ZOOM_LABEL, PhotoResult, choose_model, denoise_upload, fit_to_limit,
                         photo_example_paths, percent_of, save_png, zoom_label, zoom_views)
from demos.reports import fixed, measured_report, photo_quality_report
from generative.checkpoints import DAE_MNIST, PHOTO_DENOISER, Checkpoint
from generative.classical import CLASSICAL_DENOISERS
from generative.digits import FIELD
from generative.hub import CheckpointError, load_metrics
from generative.image_io import MIN_SIDE, ImageInputError, load_photo
from generative.metrics.image_quality import Scores, score
from generative.models import DenoisingAutoencoder
from generative.photo import to_uint8
from generative.noise import NOISE_KINDS, corrupt

TITLE = "Denoise"
DAE = "denoising autoencoder"
NOISE_CHOICES = [
    ("Gaussian noise (level = σ)", "gaussian"),
    ("Salt-and-pepper (level = fraction of pixels)", "salt_and_pepper"),
    ("Masking (level = fraction of pixels set to 0)", "masking"),
]
MODEL_CHOICES = [("Automatic: digits to the autoencoder, photos to the photo denoiser", AUTO),
                 ("Digit autoencoder", DIGIT), ("Photo denoiser", PHOTO)]
ALREADY_NOISY, ENSEMBLE = "The “already noisy” box", "The “average over the 8 flips and rotations” box"


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


def scores_table(result: DenoiseResult | PhotoResult) -> list[list[str]]:
    """Rows of (method, PSNR, SSIM) as display strings; dashes where there is no clean reference."""
    if result.scores is None:
        methods = result.restored if isinstance(result, DenoiseResult) else ["photo denoiser"]
        return [[name, "—", "—"] for name in ["noisy input", *methods]]
    return [[name, "∞" if np.isinf(s.psnr) else fixed(s.psnr, 2), fixed(s.ssim, 3)] for name, s in result.scores.items()]


def describe_pixels(value) -> str:
    return f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else repr(value)


class DenoiseTab:
    """Holds the two loaded models (or why each could not load) and the Gradio handlers that use them.

    Every handler returns the same outputs: the input it ran on (for reruns), the digit panel's values,
    the photo panel's values, which panel is visible, and a line saying which model ran and why.
    """

    def __init__(self, hub_user: str | None = None):
        self.source = DAE_MNIST.source(hub_user)
        self.model, self.error = self._load(DAE_MNIST, self.source)
        self.metrics = load_metrics(self.source) if self.model else None
        self.comparison = measured_report("denoise_quality", self.source) if self.model else None
        self.photo_source = PHOTO_DENOISER.source(hub_user)
        self.photo_model, self.photo_error = self._load(PHOTO_DENOISER, self.photo_source)
        self.photo_metrics = load_metrics(self.photo_source) if self.photo_model else None
        self.photo_benchmark = photo_quality_report(self.photo_source) if self.photo_model else None
        self.work = SessionWork()  # per session: the stop events of its runs, for the Stop button
        self.files = OutputFolder("denoise")
        self.uploads = UploadGuard()

    @staticmethod
    def _load(checkpoint: Checkpoint, source: str):
        try:
            return checkpoint.load(source), None
        except CheckpointError as err:
            return None, str(err)

    # ---------------------------------------------------------------- the two models

    def run(self, digit, noise_kind, level, seed, already_noisy):
        """The digit panel's outputs for a 28×28 digit; raises ``Refusal`` for anything a user can fix."""
        if self.model is None:
            raise Refusal(self.error)
        checked_digit_noise(noise_kind, level)
        if not (isinstance(digit, np.ndarray) and digit.shape == (FIELD, FIELD)):
            raise Refusal(f"The digit autoencoder needs a {FIELD}×{FIELD} digit, got {describe_pixels(digit)}: upload an image, "
                           "draw one, or click an example.")
        result = denoise_digit(self.model, digit, noise_kind, float(level), checked_seed(seed),
                               checked_flag(already_noisy, ALREADY_NOISY))
        gallery = [(enlarge(image, 4), name) for name, image in result.restored.items() if name != DAE]
        return (enlarge(digit), enlarge(result.clean), enlarge(result.noisy), enlarge(result.restored[DAE]),
                gallery, scores_table(result))

    def run_photo(self, photo: np.ndarray, sigma, seed, already_noisy, ensemble=False):
        """The photo panel's outputs for a grey (H, W) or colour (H, W, 3) photo in [0, 1]."""
        if self.photo_model is None:
            raise Refusal(self.photo_error)
        checked_photo_sigma(sigma)
        if not (isinstance(photo, np.ndarray) and photo.ndim in (2, 3) and photo.shape[2:] in ((), (3,))
                and min(photo.shape[:2]) >= MIN_SIDE):
            raise Refusal(f"The photo denoiser needs a grey (H, W) or RGB (H, W, 3) photo of at least {MIN_SIDE}×{MIN_SIDE} "
                           f"pixels, got {describe_pixels(photo)}: upload an image or click an example.")
        result = denoise_upload(self.photo_model, photo, float(sigma), checked_seed(seed),
                                checked_flag(already_noisy, ALREADY_NOISY), checked_flag(ensemble, ENSEMBLE))
        images = {"original": result.clean, "noisy": result.noisy, "denoised": result.denoised}
        views = [(to_uint8(image), label) for label, image in images.items() if image is not None]
        return (None if result.clean is None else views[0][0], views[-2][0], views[-1][0], zoom_views(views),
                scores_table(result), save_png(result.denoised, self.files.new(), "denoised.png"), views)

    @classmethod
    def zoom_at_click(cls, views, evt: gr.SelectData):
        """A click on one of the three photos moves the sliders there (to the nearest per cent), and the detail with them."""
        if not views or (pixel := clicked_point(evt)) is None:
            return gr.skip(), gr.skip(), gr.skip()
        height, width = views[0][0].shape[:2]
        across, down = percent_of(pixel[0], width), percent_of(pixel[1], height)
        return cls.zoom_at(views, across, down), across, down

    @staticmethod
    def zoom_at(views, across, down):
        """The detail the sliders point at: ``across`` and ``down`` per cent of the photo's width and height.

        The sliders are the keyboard's way to move the detail, and keep it in place when a new σ or photo comes."""
        if not views or not (is_number(across) and is_number(down)):
            return gr.skip()
        details = zoom_views(views, (float(np.clip(down, 0, 100)) / 100, float(np.clip(across, 0, 100)) / 100))
        return gr.update(value=details, label=zoom_label(*views[0][0].shape[:2]))

    # ---------------------------------------------------------------- events

    def respond(self, source, route: str, why: str, digit=None, photo=None, controls=(), sigma=None, ensemble=False,
                read_notes=()):
        """All outputs of an event: run the model of ``route`` and leave the other panel as it is. ``read_notes`` (how
        the file was read, e.g. a large JPEG at a fraction of its size) go into the note under the result too."""
        noise_kind, level, seed, already_noisy = controls
        # Every setting is checked, whichever model runs: with "auto" an API caller cannot know which one will, and a
        # wrong value for the other model (salt-and-pepper noise for a photo) must not pass as if it had been used.
        checked_digit_noise(noise_kind, level)
        checked_photo_sigma(sigma)
        checked_flag(ensemble, ENSEMBLE)
        scaled = None
        if route == DIGIT:
            digit_values, photo_values = self.run(digit, noise_kind, level, seed, already_noisy), (gr.skip(),) * 7
        else:
            photo, scaled = fit_to_limit(photo)
            if scaled:
                gr.Warning(scaled)  # at once, as the run can take a while
            digit_values, photo_values = (gr.skip(),) * 6, self.run_photo(photo, sigma, seed, already_noisy, ensemble)
        note = f"Denoised by the **{'digit autoencoder' if route == DIGIT else 'photo denoiser'}**: {why}"
        note += "".join(f" {read}" for read in read_notes)
        if scaled:
            note += f" {scaled} The views, the scores and the download are of that size."
        if already_noisy:  # checked by the run above
            note += (" Your image was taken as already noisy, so there is no clean original to show or to score against "
                     "(PSNR and SSIM: —).")
        return ((*source, route), *digit_values, *photo_values,
                gr.Column(visible=route == DIGIT), gr.Column(visible=route == PHOTO), note)

    def from_upload(self, image, choice, noise_kind, level, seed, already_noisy, sigma, ensemble=False,
                    progress=gr.Progress(track_tqdm=True)):
        path = upload_path(image)
        photo = self.decoded(load_photo, path)
        for note in photo.notes:
            gr.Warning(note)
        route = self.checked_route(choice, photo.pixels)
        why = ("you chose it." if choice != AUTO else
               "the image looks like a digit (small, or strokes on a plain background)." if route == DIGIT else
               "the image looks like a photo, not a digit.") + " Change “Model” to override."
        digit = digit_from_pixels(photo.pixels, checked_flag(already_noisy, ALREADY_NOISY)) if route == DIGIT else None
        return self.respond(("upload", path), route, why, digit=digit, photo=photo.pixels,
                            controls=(noise_kind, level, seed, already_noisy), sigma=sigma, ensemble=ensemble,
                            read_notes=photo.notes)

    def from_sketch(self, sketch, choice, noise_kind, level, seed, already_noisy, sigma, ensemble=False,
                    progress=gr.Progress(track_tqdm=True)):
        """A drawing is a digit, unless the user asks for the photo denoiser."""
        self.checked_route(choice, None)
        controls = (noise_kind, level, seed, already_noisy)
        if choice == PHOTO:
            photo = self.decoded(load_photo, sketch_path(sketch))
            return self.respond(("sketch", sketch), PHOTO, "you chose it.", photo=photo.pixels, controls=controls, sigma=sigma,
                                ensemble=ensemble)
        return self.respond(("sketch", sketch), DIGIT, "a drawing is a digit. Change “Model” to override.",
                            digit=digit_from_sketch(sketch), controls=controls, sigma=sigma)

    def from_upload_change(self, image, source, choice, noise_kind, level, seed, already_noisy, sigma, ensemble=False,
                           request: gr.Request = None, progress=gr.Progress(track_tqdm=True)):
        """``from_upload`` for the page's upload box: clearing it is not an error (the outputs just stay), and the
        second of the two change events a dropped file fires is skipped (``UploadGuard``), also when a busy queue
        ran it after the first had put the file on show in ``source``. A setting changed since then has redone the
        file already (``rerun``), so what is shown is what a run would give."""
        on_show = source[1] if source and source[0] == "upload" else None
        return self.uploads.run(request, image, lambda: self.from_upload(image, choice, noise_kind, level, seed,
                                                                         already_noisy, sigma, ensemble), on_show)

    def rerun(self, source, choice, noise_kind, level, seed, already_noisy, sigma, ensemble=False,
              progress=gr.Progress(track_tqdm=True)):
        """Controls changed: redo the current input, if there is one yet."""
        if source is None:
            return gr.skip()
        kind, value, _ = source
        rerun = self.from_upload if kind == "upload" else self.from_sketch
        return rerun(value, choice, noise_kind, level, seed, already_noisy, sigma, ensemble)

    def stop_on_page(self, request: gr.Request | None) -> str:
        """The Stop button: this session's runs stop before their next tile, and the note says so. A cancelled run
        shows nothing, so the views stay as the last run left them."""
        self.work.stop(request)
        return STOPPED

    def rerun_if_shown(self, route: str):
        """The change handler of a setting only ``route``'s model uses: it reruns when that model made the result on
        show, and otherwise does nothing (a digit's noise level must not redo, and make the user wait for, a photo)."""
        def rerun_setting(source, choice, noise_kind, level, seed, already_noisy, sigma, ensemble=False,
                          progress=gr.Progress(track_tqdm=True)):
            if source is None or source[2] != route:
                return gr.skip()
            return self.rerun(source, choice, noise_kind, level, seed, already_noisy, sigma, ensemble)
        return rerun_setting

    def initial(self) -> tuple | None:
        """What the tab opens with (once, at start): the first example digit denoised with the default settings, and
        the stored input, so that changing a setting redoes it. None without the digit model."""
        if self.model is None:
            return None
        outputs = self.from_upload(example_paths()[0], AUTO, **DEFAULTS)
        return outputs[:7]

    @staticmethod
    def checked_route(choice, pixels) -> str | None:
        """The model to use for ``pixels`` (None: no pixels yet), after checking the user's ``choice``."""
        checked_choice(choice, "model choice", (AUTO, DIGIT, PHOTO))
        return None if pixels is None else choose_model(choice, pixels)

    @staticmethod
    def decoded(load, path):
        try:
            return load(path)
        except ImageInputError as err:
            raise Refusal(str(err)) from None


def noise_settings_in_use(already_noisy) -> tuple:
    """The noise settings (kind, level, σ, seed), greyed out while the image is taken as already noisy: they add no
    noise then, and looked as if they still did."""
    return (gr.update(interactive=not already_noisy),) * 4


def without_outputs(outputs: list, *left_out) -> tuple[list, Callable]:
    """``outputs`` less those ``left_out``, and a wrapper that makes a handler written for all of ``outputs`` fit them
    (it drops their values; a single ``gr.skip()`` for all outputs passes as it is)."""
    positions = [i for i, block in enumerate(outputs) if any(block is dropped for dropped in left_out)]

    def fitted(handler):
        @functools.wraps(handler)  # Gradio reads the handler's own signature (its progress argument) through the wrapper
        def handle(*args, **kwargs):
            result = handler(*args, **kwargs)
            return tuple(v for i, v in enumerate(result) if i not in positions) if isinstance(result, tuple) else result
        return handle
    return [block for i, block in enumerate(outputs) if i not in positions], fitted


def checked_digit_noise(noise_kind, level) -> None:
    """``Refusal`` unless the digits' corruption is one of ``NOISE_KINDS`` at a level in [0, 1]."""
    checked_choice(noise_kind, "noise kind", NOISE_KINDS)
    if not (is_number(level) and 0.0 <= level <= 1.0):
        raise Refusal(f"The noise level must be a number between 0 and 1, got {shown(level)}.")


def checked_photo_sigma(sigma) -> None:
    """``Refusal`` unless the photos' σ is a number in [0, ``MAX_PHOTO_SIGMA``] on the 0–255 scale."""
    if not (is_number(sigma) and 0 <= sigma <= MAX_PHOTO_SIGMA):
        raise Refusal(f"The photo noise σ must be a number from 0 to {MAX_PHOTO_SIGMA} (0–255 scale), got {shown(sigma)}.")


SCORE_HEADERS = ["method", "PSNR (dB)", "SSIM"]
SCORE_LAYOUT = {"wrap": True, "column_widths": ["50%", "25%", "25%"]}  # all three columns fit a phone's width
DEFAULTS = {"noise_kind": "gaussian", "level": 0.5, "seed": 0, "already_noisy": False, "sigma": 25, "ensemble": False}
# The events that run a model share two workers. Gradio gives each event its own limit, and this tab has eleven such
# events, so a few visitors could start many photo runs at once (tens of seconds each at 4 megapixels) on two cores.
MODEL_RUNS = {"concurrency_id": "denoise-models", "concurrency_limit": 2}
STOPPED = ("**Stopped.** A run in progress ends before its next tile. The views are the last finished run's, which may "
           "be for other settings than the controls now show: change one, or upload again, to run again.")
NOT_DENOISED = "⚠️ **Not denoised:** {reason} The pictures on show are still the last ones denoised."
OPENING_NOTE = ("Showing the first example digit with the default settings: draw a digit, upload a digit or a photo, "
                "or click an example to try your own.")


def build_tab(hub_user: str | None = None) -> None:
    """Lay out the tab inside the current ``gr.Blocks`` and wire its events."""
    tab = DenoiseTab(hub_user)
    start = tab.initial() or (None,) * 7
    gr.Markdown("## Denoise a handwritten digit or a photo")
    for error in (tab.error, tab.photo_error):
        if error:
            gr.Markdown(f"⚠️ **A model is not available.** {error}", elem_id="denoise-model-error")
    with gr.Row():
        with gr.Column(scale=1):
            with tabs():
                digit = digit_input("denoise", "Denoise my drawing", upload_label="Upload a digit or a photo",
                                    photo_examples=photo_example_paths())
            choice = gr.Radio(MODEL_CHOICES, value=AUTO, label="Model", elem_id="denoise-model-choice")
            noise_kind = gr.Radio(NOISE_CHOICES, value=DEFAULTS["noise_kind"], label="Corruption (digits)", elem_id="denoise-kind")
            level = gr.Slider(0.0, 1.0, value=DEFAULTS["level"], step=0.05, label="Noise level (digits)", elem_id="denoise-level",
                              info="Gaussian: σ on the 0–1 pixel scale (0.1 ≈ 25 on the photos' 0–255 scale, before the "
                                   "digits are clipped to 0–1, which photos are not); "
                                   "salt-and-pepper and masking: the share of pixels hit")
            sigma = gr.Slider(0, MAX_PHOTO_SIGMA, value=DEFAULTS["sigma"], step=1, precision=0, label="Gaussian noise σ (photos, 0–255 scale)",
                              elem_id="denoise-photo-sigma")
            seed = gr.Number(value=DEFAULTS["seed"], precision=0, minimum=0, maximum=MAX_SEED, label="Seed", elem_id="denoise-seed")
            already_noisy = gr.Checkbox(DEFAULTS["already_noisy"], label="My image is already noisy: denoise it as it is",
                                        elem_id="denoise-already-noisy")
            ensemble = gr.Checkbox(DEFAULTS["ensemble"], label="Photos: average over the 8 flips and rotations (≈0.1 dB better, 8× slower)",
                                   elem_id="denoise-photo-ensemble")
            stop = gr.Button("Stop", variant="stop", size="sm", elem_id="denoise-stop")
        with gr.Column(scale=2):
            route_note = gr.Markdown(OPENING_NOTE if start[0] else "", label="route note", elem_id="denoise-route")
            with gr.Column(visible=True) as digit_panel:
                model_input = gr.Image(start[1], buttons=IMAGE_BUTTONS, elem_classes=["pixelated", "label-clear"], format="png", label="What the model sees (28×28, enlarged)",
                                       interactive=False, elem_id="denoise-model-input")
                with gr.Row(elem_classes=["compare-row"]):
                    clean_out = gr.Image(start[2], buttons=IMAGE_BUTTONS, elem_classes=["pixelated", "label-clear"], format="png", label="clean", interactive=False,
                                         elem_id="denoise-clean")
                    noisy_out = gr.Image(start[3], buttons=IMAGE_BUTTONS, elem_classes=["pixelated", "label-clear"], format="png", label="noisy", interactive=False,
                                         elem_id="denoise-noisy")
                    denoised_out = gr.Image(start[4], buttons=IMAGE_BUTTONS, elem_classes=["pixelated", "label-clear"], format="png", label="autoencoder", interactive=False,
                                            elem_id="denoise-denoised")
                classical_out = gr.Gallery(start[5], buttons=GALLERY_BUTTONS, elem_classes=["pixelated", "fit-columns", "captions-below", "wrap-captions", "strip",
                                                                "label-clear"],
                                           format="png", label="Classical denoisers on the same noisy image", height="auto",
                                           elem_id="denoise-classical")
                scores_out = gr.Dataframe(start[6], headers=SCORE_HEADERS, label="Quality against the clean digit", **SCORE_LAYOUT,
                                          interactive=False, elem_id="denoise-scores")
                gr.Markdown(about_markdown(tab.metrics, tab.comparison), elem_id="denoise-about")
            with gr.Column(visible=False) as photo_panel:
                with gr.Row(elem_classes=["compare-row"]):
                    photo_clean = gr.Image(buttons=IMAGE_BUTTONS, format="png", label="original", elem_classes=["label-clear"], interactive=False,
                                          elem_id="denoise-photo-clean")
                    photo_noisy = gr.Image(buttons=IMAGE_BUTTONS, format="png", label="noisy", elem_classes=["label-clear"], interactive=False,
                                          elem_id="denoise-photo-noisy")
                    photo_denoised = gr.Image(buttons=IMAGE_BUTTONS, format="png", label="denoised", elem_classes=["label-clear"], interactive=False,
                                              elem_id="denoise-photo-denoised")
                photo_zoom = gr.Gallery(buttons=GALLERY_BUTTONS, elem_classes=["pixelated", "fit-columns", "zoom", "captions-below", "label-clear"], format="png",
                                        label=ZOOM_LABEL, height="auto", elem_id="denoise-photo-zoom")
                with gr.Row():
                    zoom_across = gr.Slider(0, 100, value=50, step=1, precision=0, label="Detail centre: across (% of the width)",
                                            elem_id="denoise-zoom-across")
                    zoom_down = gr.Slider(0, 100, value=50, step=1, precision=0, label="Detail centre: down (% of the height)", elem_id="denoise-zoom-down")
                photo_scores = gr.Dataframe(headers=SCORE_HEADERS, label="Quality against the original photo", **SCORE_LAYOUT,
                                            interactive=False, elem_id="denoise-photo-scores")
                photo_file = gr.File(label="Download the denoised photo (PNG)", elem_id="denoise-photo-download")
                gr.Markdown(photo_about_markdown(tab.photo_metrics, tab.photo_benchmark), elem_id="denoise-photo-about")

    source_state, photo_views = gr.State(start[0]), gr.State(None)
    controls = [choice, noise_kind, level, seed, already_noisy, sigma, ensemble]
    outputs = [source_state, model_input, clean_out, noisy_out, denoised_out, classical_out, scores_out,
               photo_clean, photo_noisy, photo_denoised, photo_zoom, photo_scores, photo_file, photo_views, digit_panel, photo_panel, route_note]
    # preprocess=False: files reach our own decoder undecoded, which checks their size from the header
    # and gives the clear messages for bad files (Gradio's would decode first and fail generically).
    # In the page a refused drawing, file or setting warns and keeps what is shown (an error marked every output "Error"
    # until a good input came), and the route note above the views says they are the last ones denoised; a cleared
    # upload box changes nothing. The API's endpoints, on hidden buttons, refuse both.
    # The page's own events leave the photo detail to the sliders' event below, which draws it where they point once
    # the views change; drawn here too, the centre's detail flashed up first. The API's endpoints keep the centre's.
    # The API's calls are whole in themselves: they keep no picture in the session's state for reruns or the detail
    # (an API client's session is never closed, so each kept three full-size copies of its photo, 21 MB for 1800×1350).
    page_outputs, fit_page = without_outputs(outputs, photo_zoom)
    api_outputs, fit_api = without_outputs(outputs, source_state, photo_views)

    # Every run is ``cancellable``: the tab's Stop (and an API caller's cancel) ends a photo's work before its next tile.
    # A plain handler ran on in its thread after a cancel, holding one of the two model workers for minutes. The page's
    # runs are also ``watched``, for the runs Gradio's cancel misses.
    def page_event(handler):
        return cancellable(tab.work.watched(fit_page(noted_on_refusal(handler, outputs, route_note, note=NOT_DENOISED))))
    model_runs = [
        digit.sketch_button.click(page_event(tab.from_sketch), [digit.sketch, *controls], page_outputs, api_visibility="private",
                                  preprocess=False, **MODEL_RUNS),
        digit.upload.change(page_event(tab.from_upload_change), [digit.upload, source_state, *controls], page_outputs,
                            api_visibility="private", preprocess=False, **MODEL_RUNS)]
    # The input on show changes only when a new one was denoised (or a new model choice shows the other panel): not for
    # a cleared box, a refused file or the second change event of a dropped file, which all keep what is shown. That is
    # when the results are brought into sight.
    source_state.change(None, js=bring_into_sight("denoise-route"), api_visibility="private")
    api_endpoint(
        "denoise-api-sketch", cancellable(fit_api(tab.from_sketch)), [digit.sketch, *controls], api_outputs, api_name="denoise_sketch",
        preprocess=False, **MODEL_RUNS,
        api_description="Denoise a drawn digit (the sketch pad's value; over the API, its `composite` image): noise is "
        "added as the controls say, then the digit autoencoder removes it (the photo denoiser if chosen). Returns the "
        "views and scores of the panel that applies; the other panel's outputs come back unchanged (Gradio's skip).")
    api_endpoint(
        "denoise-api-upload", cancellable(fit_api(tab.from_upload)), [digit.upload, *controls], api_outputs, api_name="denoise_upload",
        preprocess=False, **MODEL_RUNS,
        api_description="Denoise an uploaded image: noise is added as the controls say (or the upload is taken as "
        "already noisy), then the digit autoencoder or the photo denoiser, as chosen or as the image looks, removes it. "
        "Returns the views and scores of the panel that applies; the other panel's outputs come back unchanged "
        "(Gradio's skip).")
    digit_setting, photo_setting = tab.rerun_if_shown(DIGIT), tab.rerun_if_shown(PHOTO)
    for control, handler in ((choice, tab.rerun), (seed, tab.rerun), (already_noisy, tab.rerun), (noise_kind, digit_setting),
                             (level, digit_setting), (sigma, photo_setting), (ensemble, photo_setting)):
        model_runs.append(control.change(page_event(handler), [source_state, *controls], page_outputs, api_visibility="private",
                                         preprocess=False, **MODEL_RUNS))
    stop.click(tab.stop_on_page, None, route_note, cancels=model_runs, api_visibility="private", queue=False)
    already_noisy.change(noise_settings_in_use, already_noisy, [noise_kind, level, sigma, seed], api_visibility="private",
                         queue=False)
    for photo in (photo_clean, photo_noisy, photo_denoised):
        photo.select(tab.zoom_at_click, [photo_views], [photo_zoom, zoom_across, zoom_down], api_visibility="private")
    # "input", not "change": a click sets the sliders and their detail at once; "change" would compute it again.
    for moved in (zoom_across.input, zoom_down.input, photo_views.change):
        moved(tab.zoom_at, [photo_views, zoom_across, zoom_down], [photo_zoom], api_visibility="private")
