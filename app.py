"""The gallery: one tab per demo in demos/, served by Gradio (locally or as a Hugging Face Space).

    python app.py                 # models from pretrained/
    python app.py --hub USER      # models from the Hub repos USER/<model-name> (or set GALLERY_HUB_USER)
"""
from __future__ import annotations

import argparse
import os

import gradio as gr

from demos import cgan, denoise, fid, text2img, vae
from demos.inputs import tabs
from generative.hub import HUB_USER_ENV

TABS = [denoise, vae, cgan, text2img, fid]  # each module has TITLE and build_tab(hub_user)
MAX_UPLOAD = "100mb"  # a zip of a few thousand images for the FID tab; anything bigger is refused
DELETE_CACHE = (3600, 86400)  # Gradio's copies of returned files: checked hourly, deleted after a day
CSS = """
.pixelated img { image-rendering: pixelated; }  /* enlarged digits stay sharp at any display size */
/* Gradio's gallery keeps its fixed number of columns, each at least 100 px, so 8 spill out of a narrow panel:
   instead, as many columns as fit, each at least --min-cell wide. */
.fit-columns .grid-container { grid-template-columns: repeat(auto-fill, minmax(var(--min-cell, 84px), 1fr)) !important;
                               grid-template-rows: none !important; grid-auto-rows: auto !important; }
/* Readouts under pictures wrap instead of ending in "…": they are the point of the text-to-image gallery. */
.wrap-captions { --min-cell: 160px; }
.wrap-captions .caption-label { white-space: normal; max-width: calc(100% - 2 * var(--block-label-margin)); }
/* ... and sit under their picture, not over its bottom, where two lines hid the lower thing of an "above" scene. */
.wrap-captions .thumbnail-item { display: flex !important; flex-direction: column !important; aspect-ratio: auto !important;
                                 height: auto !important; }
.wrap-captions .thumbnail-item img { width: 100% !important; height: auto !important; aspect-ratio: 1 / 1;
                                     object-fit: contain !important; }
.wrap-captions .caption-label { position: static !important; transform: none !important; max-width: none !important;
                                margin: 4px !important; }
/* A strip of frames (a walk, a blend, the classical filters) wraps into rows of cells wide enough for their readouts
   (narrower than .wrap-captions' cells, which it follows and overrides), a short strip stretched across the width. */
.strip { --min-cell: 104px; }
.strip .grid-container { grid-template-columns: repeat(auto-fit, minmax(var(--min-cell), 1fr)) !important; }
.strip .grid-wrap { min-height: 0 !important; }  /* as tall as its rows (Gradio keeps 450 px for an "auto" height) */
/* Room above a picture for the label Gradio lays over its top-left corner, which would hide the first row. */
.label-clear { padding-top: calc(var(--size-8) + var(--size-1)) !important; }
"""


def build_demo(hub_user: str | None = None) -> gr.Blocks:
    with gr.Blocks(title="Generative models gallery", delete_cache=DELETE_CACHE) as demo:
        gr.Markdown("# Generative models gallery\nClassic generative models, really trained and measured, to touch and compare.")
        with tabs():
            for module in TABS:
                with gr.Tab(module.TITLE, id=module.__name__.rsplit(".", 1)[-1]):
                    module.build_tab(hub_user)
    return demo


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hub", metavar="USER", default=os.environ.get(HUB_USER_ENV),
                        help=f"load each model from the Hub repo USER/<model-name> (env: {HUB_USER_ENV})")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    return parser.parse_args(argv)


def launch(demo: gr.Blocks, host: str, port: int, **kwargs) -> None:
    demo.queue(default_concurrency_limit=2, max_size=64)
    demo.launch(server_name=host, server_port=port, max_file_size=MAX_UPLOAD, show_error=True,
                theme=gr.themes.Soft(), css=CSS, **kwargs)


if __name__ == "__main__":
    args = parse_args()
    demo = build_demo(args.hub)
    try:
        launch(demo, args.host, args.port)
    except OSError as err:
        if "port" not in str(err):
            raise
        raise SystemExit(f"error: {err}\nChoose another port with --port.") from None  # Gradio's advice names its own variables
