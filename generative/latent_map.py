"""The classic picture of a 2-D VAE: decoded digits over the latent plane, beside test digits' codes.

Two square panels share one coordinate frame, z ∈ [−extent, extent]²: the *manifold* (the decoder's
output at the centre of each grid cell) and the *scatter* (the posterior means of test digits,
coloured by their true label). They are two pictures, so that a narrow screen can stack them at
full width instead of shrinking both into one row. Both are drawn with exact pixel ↔ latent
arithmetic, so a click on either names one latent point, and overlays (endpoints, a path, a
clicked point) land where they belong.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw

from generative.fonts import label_font
from generative.models import VAE

CELL = 28                 # pixels per decoded digit
LABEL_COLOURS = [         # matplotlib's tab10: ten colours told apart by most colour-blind readers
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
PATH_COLOUR, FRAME_COLOUR, CLICK_COLOUR = (255, 200, 0), (255, 255, 255), (0, 230, 255)
TICK, TICK_COLOUR = 6, (60, 60, 60)  # the scatter's axis ticks: length in pixels, colour


@dataclass
class Overlay:
    """What to draw over the map: endpoints A and B, a path through the plane, points along it, a clicked point."""
    endpoints: np.ndarray | None = None   # (2, 2)
    path: np.ndarray | None = None        # (k, 2), drawn as a line
    frames: np.ndarray | None = None      # (m, 2), drawn as dots
    clicked: np.ndarray | None = None     # (2,)


class LatentMap:
    """Renders the map of a 2-D VAE and converts between its pixels and latent points."""

    def __init__(self, model: VAE, test_means: np.ndarray, test_labels: np.ndarray, extent: float = 3.0, cells: int = 20):
        if model.latent_dim != 2:
            raise ValueError(f"the latent map needs a VAE with a 2-d latent space, got {model.latent_dim}-d")
        self.model, self.extent, self.cells = model, float(extent), cells
        self.panel = cells * CELL  # each panel's width and height in pixels
        self.font = label_font(13)
        self.manifold = Image.fromarray(self._manifold()).convert("RGB")
        self.scatter = self._scatter(test_means, test_labels)

    # ----------------------------------------------------------- coordinates

    def latent_to_pixel(self, z: np.ndarray) -> np.ndarray:
        """(…, 2) latent points → (…, 2) pixel (x, y) in either panel; y grows downwards."""
        z = np.asarray(z, dtype=np.float64)
        fraction = (z + self.extent) / (2 * self.extent)
        return np.stack([fraction[..., 0] * self.panel, (1 - fraction[..., 1]) * self.panel], axis=-1)

    def pixel_to_latent(self, x: float, y: float) -> np.ndarray | None:
        """The latent point under pixel (x, y) of either panel, or None outside it."""
        if not (0 <= x < self.panel and 0 <= y < self.panel):
            return None
        fraction = np.array([(x + 0.5) / self.panel, 1 - (y + 0.5) / self.panel])
        return fraction * 2 * self.extent - self.extent

    def cell_centres(self) -> np.ndarray:
        """(cells, cells, 2) latent points at the centre of each manifold cell, top row = largest z₂."""
        ticks = (np.arange(self.cells) + 0.5) / self.cells * 2 * self.extent - self.extent
        z1, z2 = np.meshgrid(ticks, ticks[::-1])
        return np.stack([z1, z2], axis=-1)

    # ----------------------------------------------------------- drawing

    @torch.inference_mode()
    def _manifold(self) -> np.ndarray:
        z = torch.from_numpy(self.cell_centres().reshape(-1, 2)).float()
        digits = self.model.pixel_means(z)[:, 0].numpy()  # (cells², 28, 28)
        grid = digits.reshape(self.cells, self.cells, CELL, CELL).transpose(0, 2, 1, 3).reshape(self.panel, self.panel)
        return (grid * 255).round().astype(np.uint8)

    def _scatter(self, means: np.ndarray, labels: np.ndarray) -> Image.Image:
        panel = Image.new("RGB", (self.panel, self.panel), (255, 255, 255))
        draw = ImageDraw.Draw(panel)
        for x, y, label in zip(*self.latent_to_pixel(means).T, labels):
            draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=LABEL_COLOURS[int(label)])
        centre = self.latent_to_pixel(np.zeros(2))
        draw.line([(0, centre[1]), (self.panel, centre[1])], fill=(200, 200, 200))
        draw.line([(centre[0], 0), (centre[0], self.panel)], fill=(200, 200, 200))
        draw.rectangle([2, 2, 32, 8 + 16 * len(LABEL_COLOURS)], fill=(255, 255, 255), outline=(200, 200, 200))  # over the dots
        for digit, colour in enumerate(LABEL_COLOURS):  # legend, top-left
            draw.rectangle([6, 6 + 16 * digit, 16, 16 + 16 * digit], fill=colour)
            draw.text((20, 4 + 16 * digit), str(digit), fill=(0, 0, 0), font=self.font)
        self._draw_ticks(draw)
        draw.text((self.panel - 6, 4), f"z1 across, z2 up, both in [-{self.extent:g}, {self.extent:g}]", fill=(80, 80, 80),
                  font=self.font, anchor="ra")
        return panel

    def tick_values(self) -> list[int]:
        """The whole numbers strictly inside (−extent, extent): the scatter's ticks on both axes."""
        return list(range(-int(np.ceil(self.extent)) + 1, int(np.ceil(self.extent))))

    def _draw_ticks(self, draw: ImageDraw.ImageDraw) -> None:
        """Tick marks and values of z₁ along the scatter's bottom edge and of z₂ along its right edge (the legend has
        the left), so a point can be read off the map and typed into the z₁ and z₂ boxes. The manifold shares the
        frame, so the same values hold there; its digits are left unmarked."""
        last = self.panel - 1
        halo = {"font": self.font, "fill": TICK_COLOUR, "stroke_width": 2, "stroke_fill": (255, 255, 255)}  # legible over dots
        for value in self.tick_values():
            # the pixel column and row that hold z₁ = value and z₂ = value
            column, row = np.floor(self.latent_to_pixel(np.array([value, value], dtype=np.float64))).astype(int)
            draw.line([(column, last - TICK), (column, last)], fill=TICK_COLOUR)
            draw.line([(last - TICK, row), (last, row)], fill=TICK_COLOUR)
            draw.text((column, last - TICK - 2), str(value), anchor="ms", **halo)
            draw.text((last - TICK - 3, row), str(value), anchor="rm", **halo)

    def contains(self, z: np.ndarray) -> bool:
        """Is the latent point ``z`` (2,) inside the square the panels show?"""
        return bool(np.all(np.abs(np.asarray(z)) <= self.extent))

    def render(self, overlay: Overlay | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The manifold and the scatter as (panel, panel, 3) uint8 arrays, with ``overlay`` drawn on each (a point
        beyond the map's square is cut off at the edge)."""
        panels = []
        for base in (self.manifold, self.scatter):
            image = base.copy()
            if overlay is not None:
                self._draw_overlay(ImageDraw.Draw(image), overlay)
            panels.append(np.asarray(image))
        return panels[0], panels[1]

    def _draw_overlay(self, draw: ImageDraw.ImageDraw, overlay: Overlay) -> None:
        if overlay.path is not None:
            draw.line([tuple(p) for p in self.latent_to_pixel(overlay.path)], fill=PATH_COLOUR, width=3)
        if overlay.frames is not None:
            for x, y in self.latent_to_pixel(overlay.frames):
                draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=FRAME_COLOUR, outline=(0, 0, 0))
        if overlay.endpoints is not None:
            for name, (x, y) in zip("AB", self.latent_to_pixel(overlay.endpoints)):
                draw.ellipse([x - 8, y - 8, x + 8, y + 8], fill=PATH_COLOUR, outline=(0, 0, 0), width=2)
                draw.text((x, y), name, fill=(0, 0, 0), font=self.font, anchor="mm")
        if overlay.clicked is not None:
            x, y = self.latent_to_pixel(overlay.clicked)
            draw.line([(x - 10, y), (x + 10, y)], fill=CLICK_COLOUR, width=3)
            draw.line([(x, y - 10), (x, y + 10)], fill=CLICK_COLOUR, width=3)
