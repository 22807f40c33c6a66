"""The gallery: one tab per demo in demos/, served by Gradio (locally or as a Hugging Face Space).

    python app.py                 # models from pretrained/
    python app.py --hub USER      # models from the Hub repos USER/<model-name> (or set GALLERY_HUB_USER)
    python app.py --hub ""        # models from pretrained/ whatever GALLERY_HUB_USER says
"""
from __future__ import annotations

import argparse
import os
import signal
import tempfile
from pathlib import Path

import gradio as gr
from gradio import processing_utils
from huggingface_hub.utils import HFValidationError, validate_repo_id

from demos import cgan, denoise, fid, text2img, vae
from demos.inputs import example_names_script, example_paths, tabs
from demos.photo import photo_example_paths
from generative.hub import HUB_USER_ENV

TABS = [denoise, vae, cgan, text2img, fid]  # each module has TITLE and build_tab(hub_user)
MAX_UPLOAD = "100mb"  # a zip of a few thousand images for the FID tab; anything bigger is refused
DELETE_CACHE = (1800, 7200)  # Gradio's copies of returned files: checked half-hourly, deleted after 2 h (a 4-MP photo: ~30 MB)
CSS = """
.pixelated img { image-rendering: pixelated; }  /* enlarged digits stay sharp at any display size */
/* An upload's preview fills its box: Gradio only scales one down to fit, so a picked 28×28 digit was a 28-px speck. */
.fit-preview .image-frame img { object-fit: contain !important; }
/* Gradio's gallery keeps its fixed number of columns, each at least 100 px, so 8 spill out of a narrow panel:
   instead, as many columns as fit, each at least --min-cell wide. */
.fit-columns .grid-container { grid-template-columns: repeat(auto-fill, minmax(var(--min-cell, 84px), 1fr)) !important;
                               grid-template-rows: none !important; grid-auto-rows: auto !important; }
/* Readouts sit under their picture, not over its bottom, where they hid the lower half of a digit and the lower
   thing of an "above" scene. */
.captions-below .thumbnail-item { display: flex !important; flex-direction: column !important; aspect-ratio: auto !important;
                                  height: auto !important; }
.captions-below .thumbnail-item img { width: 100% !important; height: auto !important; aspect-ratio: 1 / 1;
                                      object-fit: contain !important; }
.captions-below .caption-label { position: static !important; transform: none !important; max-width: none !important;
                                 margin: 4px !important; }
/* Long readouts wrap instead of ending in "…": they are the point of the text-to-image gallery. On a phone, narrower
   cells keep two pictures a row down to 320 px (one a row made 16 pictures a 4,500–5,700-px column). */
.wrap-captions { --min-cell: 160px; }
@media (max-width: 480px) { .wrap-captions { --min-cell: 112px; } }
.wrap-captions .caption-label { white-space: normal; }
/* A strip of frames (a walk, a blend, the classical filters) wraps into rows of cells wide enough for their readouts
   (narrower than .wrap-captions' cells, which it follows and overrides), a short strip stretched across the width:
   three frames a row on a 390-px phone (at 104 px, two: a 10-frame walk was five rows, 970 px tall). */
.strip { --min-cell: 96px; }
.strip .grid-container { grid-template-columns: repeat(auto-fit, minmax(var(--min-cell), 1fr)) !important; }
/* A strip or a grid of samples is as tall as its rows: Gradio keeps 450 px for an "auto" height and scrolls past
   55 % of the window, which on a phone hid the end of a walk (4 of 10 frames in sight) inside a small scroll box. */
.strip .grid-wrap, .fit-columns .grid-wrap { min-height: 0 !important; max-height: none !important; }
/* Pictures to compare (clean / noisy / denoised) are the same size however many fit in a row: a wrapped row
   stretched its last picture to twice the others', which invites a wrong comparison of sharpness. */
.compare-row { display: grid !important; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); }
/* The photo detail: cells of at least 192 px, so a phone shows one crop a row at about its size, not three at a quarter. */
.zoom { --min-cell: 192px; }
/* A table in the explanations keeps each word and number whole ("31.25" was drawn as "31." over "25" in a phone's narrow
   columns) and scrolls sideways where it is wider than the page. As a block it takes no padding or frame of its own:
   its cells draw the grid, as they did when it was a table. */
.prose table { display: block; width: fit-content; max-width: 100%; overflow-x: auto; padding: 0 !important;
               border: none !important; }
.prose :is(th, td) { overflow-wrap: normal !important; word-break: normal !important; }
/* A file path in the text breaks where it must: whole, benchmarks/results/photo_denoise_quality.md ran past a 320-px
   phone's edge. */
.prose code { overflow-wrap: anywhere; }
/* The label and icons Gradio lays over a picture's top corners hid its first row (two lines of label at phone width):
   they take a line of their own above it instead. */
.label-clear [data-testid="block-label"].float { position: static !important; }
.label-clear :is(.image-container, .grid-wrap) > .icon-button-wrapper.top-panel { position: static !important;
                                                                                  margin-left: auto; width: fit-content; }
/* A control greyed out because it does not apply (the FID tab's sample count with no set drawn; the Denoise tab's noise
   settings for an image already noisy) looked exactly like a live one: only typing into it showed it was off. */
input:disabled, textarea:disabled, label:has(> input:disabled) { opacity: 0.5; cursor: not-allowed; }
/* Keyboard focus is seen: a slider focused with Tab changed no pixel, so arrow keys moved (and reran) an unseen one. */
input[type=range]:focus-visible, input[type=radio]:focus-visible, input[type=checkbox]:focus-visible {
    outline: 2px solid var(--color-accent); outline-offset: 3px; }
"""
# The Soft theme's text colours, one step darker (lighter in dark mode): its indigo labels on their tint (3.6:1), white
# on its primary buttons (4.5:1, hover 3.0:1), its grey notes (2.4:1) and, in dark mode, its download links (4.0:1)
# are under WCAG AA's 4.5:1 for text (axe-core 4.14 in Chromium).
THEME = gr.themes.Soft().set(
    block_label_text_color="*primary_700", block_title_text_color="*primary_700", color_accent="*primary_600",
    button_primary_background_fill="*primary_600", button_primary_background_fill_hover="*primary_700",
    checkbox_label_background_fill_selected="*primary_600", body_text_color_subdued="*neutral_500",
    link_text_color_visited="*secondary_600", link_text_color_dark="*secondary_400",
    link_text_color_visited_dark="*secondary_400", link_text_color_hover_dark="*secondary_300")


def build_demo(hub_user: str | None = None) -> gr.Blocks:
    with gr.Blocks(title="Generative models gallery", delete_cache=DELETE_CACHE) as demo:
        gr.Markdown("# Generative models gallery\nClassic generative models, really trained and measured, to touch and compare.")
        with tabs():
            for module in TABS:
                with gr.Tab(module.TITLE, id=module.__name__.rsplit(".", 1)[-1]):
                    module.build_tab(hub_user)
    name_pictures(demo)
    return demo


def name_pictures(demo: gr.Blocks) -> None:
    """Every picture without alt text gets its label as one: Gradio wraps each in a focusable button named only by
    the image's alt text, which is empty by default, so a screen reader said "button" for every result."""
    for block in demo.blocks.values():
        if isinstance(block, gr.Image) and not block.alt_text and block.label:
            block.alt_text = block.label


def save_pil_to_cache_whole(image, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """Gradio's ``save_pil_to_cache``, but written under a temporary name and renamed into place, as Gradio already
    writes its copies of returned files. Gradio's own rewrites the file named by the picture's hash in place, so when
    two visitors got the same picture at once (the default settings, an example) one could be served the other's
    half-written copy: an empty or cut-off image (5 of 72 simultaneous identical cGAN calls here). A rename leaves
    the path holding a whole picture at every moment, and a copy already being served is read to its end."""
    data = processing_utils.encode_pil_to_bytes(image, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    path = (folder / f"{name}.{format}").resolve()
    descriptor, staging = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(staging, path)  # a fresh file each time, as before, so delete_cache ages it from this use
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return str(path)


def hub_user(text: str) -> str:
    """An argparse type: a Hub user or organisation, or "" for pretrained/. Checked at start: a repo id or a stray
    slash would otherwise be read as a folder, and every tab would say there is no checkpoint at ``me//dae-mnist``."""
    if "/" in text:
        raise argparse.ArgumentTypeError(f"{text!r}: give the user or organisation alone (each model comes from "
                                         f"USER/<model-name>), from --hub or {HUB_USER_ENV}")
    try:
        if text:
            validate_repo_id(f"{text}/model")
    except HFValidationError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a Hub user or organisation name "
                                         f"(from --hub or {HUB_USER_ENV})") from None
    return text


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hub", metavar="USER", type=hub_user, default=os.environ.get(HUB_USER_ENV, ""),
                        help=f"load each model from the Hub repo USER/<model-name> (env: {HUB_USER_ENV}); "
                             "an empty USER loads pretrained/")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=port_number, default=os.environ.get("GRADIO_SERVER_PORT", "7860"),
                        help="env: GRADIO_SERVER_PORT")
    return parser.parse_args(argv)


def port_number(text: str) -> int:
    """An argparse type: a TCP port. Past 65535 Gradio's bind raised an OverflowError traceback, once the tabs were
    built (a minute's work)."""
    port = int(text)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"must be from 1 to 65535, got {port}")
    return port


def launch(demo: gr.Blocks, host: str, port: int, **kwargs) -> None:
    processing_utils.save_pil_to_cache = save_pil_to_cache_whole  # every picture a tab returns is cached through it
    demo.queue(default_concurrency_limit=2, max_size=64)
    demo.launch(server_name=host, server_port=port, max_file_size=MAX_UPLOAD, show_error=True,
                theme=THEME, css=CSS, js=example_names_script(example_paths() + photo_example_paths()), **kwargs)


if __name__ == "__main__":
    # A plain kill (a test's teardown, a host stopping the app) closes the server as Ctrl-C does, so the atexit clean-up
    # of the tabs' output folders runs; by default SIGTERM ended the process at once and left them in the temp dir.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    args = parse_args()
    demo = build_demo(args.hub)
    try:
        launch(demo, args.host, args.port)
    except OSError as err:
        if "port" not in str(err):
            raise
        raise SystemExit(f"error: {err}\nChoose another port with --port.") from None  # Gradio's advice names its own variables
