"""The font the gallery draws text into its pictures with (map legends, strip captions).

Pillow's bundled default (Aileron) has no ✓ or ✗, which the strips' verdicts use, and draws them as
empty boxes. DejaVu Sans has both, and ships inside matplotlib, already a requirement, so no system
font is needed (a bare Space has none to rely on).
"""
from __future__ import annotations

import functools
from pathlib import Path

import matplotlib
from PIL import ImageFont

DEJAVU_SANS = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


@functools.cache
def label_font(size: int) -> ImageFont.ImageFont:
    """DejaVu Sans at ``size`` pixels, or Pillow's own font if that file is somehow missing."""
    try:
        return ImageFont.truetype(str(DEJAVU_SANS), size)
    except OSError:
        try:
            return ImageFont.load_default(size=size)
        except TypeError:  # Pillow before 10.1 has only its small bitmap font
            return ImageFont.load_default()
