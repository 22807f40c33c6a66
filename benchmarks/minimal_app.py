"""The smallest Gradio app: one Markdown in a gr.Blocks, the baseline for app.py's cold start.

    python benchmarks/minimal_app.py --port 7870

``denoise_speed.py`` starts it exactly as it starts app.py, so the difference between the two
start-up times is what the gallery itself adds (its imports, the model load, the tab's layout).
"""
from __future__ import annotations

import argparse

import gradio as gr


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:  # (app.py's own check would bring its imports into this baseline)
        parser.error(f"argument --port: must be from 1 to 65535, got {args.port}")
    return args


if __name__ == "__main__":
    args = parse_args()
    with gr.Blocks() as demo:
        gr.Markdown("# Minimal app")
    demo.launch(server_name=args.host, server_port=args.port)
