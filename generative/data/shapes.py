"""The toy world of the text-to-image tab: small RGB scenes of one or two shapes, and captions that describe them.

Everything is made here from a seed, so the data needs no download and every scene can be made again.

- One object: a shape of some colour and size (small / large) at one of five positions ("a large red circle on
  the left"). Two objects: two small shapes side by side or one above the other, and a relation between them
  ("a red circle left of a blue square").
- Captions come from several templates with synonyms, so a model must learn words, not sentences.
- ``HELD_OUT`` lists (colour, shape) pairs never drawn by ``sample_scene(..., split="train")``: every colour and
  every shape is seen in training, but not these pairs, which measure whether a model composes what it has
  not seen. ``split="held-out"`` draws scenes with at least one of them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from generative.text import split_caption

IMAGE_SIZE = 32
BACKGROUND = (24, 24, 24)
SHAPES = ("circle", "square", "triangle", "diamond", "cross")
COLOURS = {"red": (230, 45, 45), "green": (50, 200, 70), "blue": (60, 100, 245), "yellow": (240, 220, 50),
           "purple": (170, 70, 220), "cyan": (50, 215, 225)}
SIZES = ("small", "large")
POSITIONS = ("left", "right", "top", "bottom", "centre")
RELATIONS = ("left of", "right of", "above", "below")
HELD_OUT = (("red", "triangle"), ("green", "square"), ("blue", "circle"), ("yellow", "cross"),
            ("purple", "diamond"), ("cyan", "triangle"))
SPLITS = ("train", "held-out")

# centres on the 32×32 canvas; half-extent of a shape by size; jitter in pixels
CENTRES = {"left": (9, 16), "right": (23, 16), "top": (16, 9), "bottom": (16, 23), "centre": (16, 16)}
HALF_EXTENT = {"small": 4.5, "large": 7.5}
JITTER = 1
# the two slots of a two-object scene: (first object's position, second's) for each relation
RELATION_SLOTS = {"left of": ("left", "right"), "right of": ("right", "left"), "above": ("top", "bottom"),
                  "below": ("bottom", "top")}

SYNONYMS = {  # the first word is the canonical one
    "small": ("small", "little", "tiny"), "large": ("large", "big", "huge"),
    "circle": ("circle", "disc", "ball"), "square": ("square", "box"), "triangle": ("triangle",),
    "diamond": ("diamond", "rhombus"), "cross": ("cross", "plus"),
    "red": ("red",), "green": ("green",), "blue": ("blue",), "yellow": ("yellow",), "purple": ("purple", "violet"),
    "cyan": ("cyan", "turquoise"),
}
POSITION_PHRASES = {"left": ("on the left", "at the left"), "right": ("on the right", "at the right"),
                    "top": ("at the top", "near the top"), "bottom": ("at the bottom", "near the bottom"),
                    "centre": ("in the centre", "in the middle", "in the center")}
RELATION_PHRASES = {"left of": ("left of", "to the left of"), "right of": ("right of", "to the right of"),
                    "above": ("above", "over"), "below": ("below", "under", "beneath")}
ONE_OBJECT_TEMPLATES = ("a {size} {colour} {shape} {position}", "{position} there is a {size} {colour} {shape}",
                        "a {colour} {shape} , {size} , {position}", "one {size} {colour} {shape} {position}")
TWO_OBJECT_TEMPLATES = ("a {colour} {shape} {relation} a {colour2} {shape2}",
                        "a {colour2} {shape2} with a {colour} {shape} {relation} it")


@dataclass(frozen=True)
class Thing:
    shape: str
    colour: str
    size: str
    position: str


@dataclass(frozen=True)
class Scene:
    """One or two things; ``relation`` (two things only) reads "things[0] <relation> things[1]"."""
    things: tuple[Thing, ...]
    relation: str | None = None

    @property
    def pairs(self) -> set[tuple[str, str]]:
        return {(t.colour, t.shape) for t in self.things}

    @property
    def held_out(self) -> bool:
        return bool(self.pairs & set(HELD_OUT))


SEEN_PAIRS = tuple((c, s) for c in COLOURS for s in SHAPES if (c, s) not in HELD_OUT)


def _pair(rng: np.random.Generator, pairs) -> tuple[str, str]:
    return pairs[rng.integers(len(pairs))]


def sample_scene(rng: np.random.Generator, split: str = "train", two_objects: float = 0.3) -> Scene:
    """A random scene: with probability ``two_objects`` two things, else one.

    ``split="train"`` never uses a ``HELD_OUT`` pair; ``"held-out"`` always uses one (for the first thing, and
    any pair for the second).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    first_pairs = SEEN_PAIRS if split == "train" else HELD_OUT
    colour, shape = _pair(rng, first_pairs)
    if rng.random() >= two_objects:
        size, position = SIZES[rng.integers(len(SIZES))], POSITIONS[rng.integers(len(POSITIONS))]
        return Scene((Thing(shape, colour, size, position),))
    relation = RELATIONS[rng.integers(len(RELATIONS))]
    second = _pair(rng, SEEN_PAIRS)
    while second == (colour, shape):  # two different things, so that the relation is readable
        second = _pair(rng, SEEN_PAIRS)
    here, there = RELATION_SLOTS[relation]
    things = (Thing(shape, colour, "small", here), Thing(second[1], second[0], "small", there))
    if split == "held-out" and rng.random() < 0.5:  # the held-out pair second as often as first
        return Scene(things[::-1], {"left of": "right of", "right of": "left of", "above": "below",
                                    "below": "above"}[relation])
    return Scene(things, relation)


def _polygon(shape: str, x: float, y: float, r: float) -> list[tuple[float, float]]:
    if shape == "square":
        return [(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)]
    if shape == "triangle":
        return [(x, y - r), (x + r, y + r), (x - r, y + r)]
    if shape == "diamond":
        return [(x, y - r), (x + r, y), (x, y + r), (x - r, y)]
    w = r / 3  # cross: a plus sign with arms of width 2w
    return [(x - w, y - r), (x + w, y - r), (x + w, y - w), (x + r, y - w), (x + r, y + w), (x + w, y + w),
            (x + w, y + r), (x - w, y + r), (x - w, y + w), (x - r, y + w), (x - r, y - w), (x - w, y - w)]


def render(scene: Scene, rng: np.random.Generator | None = None) -> np.ndarray:
    """The scene as uint8 RGB (32, 32, 3); ``rng`` jitters each thing's centre by up to ``JITTER`` pixels."""
    image = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for thing in scene.things:
        x, y = CENTRES[thing.position]
        if rng is not None:
            x, y = x + rng.integers(-JITTER, JITTER + 1), y + rng.integers(-JITTER, JITTER + 1)
        x, y, r = x - 0.5, y - 0.5, HALF_EXTENT[thing.size]  # PIL centres pixel i at i: the middle is 15.5
        colour = COLOURS[thing.colour]
        if thing.shape == "circle":
            draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
        else:
            draw.polygon(_polygon(thing.shape, x, y, r), fill=colour)
    return np.asarray(image)


def _word(rng: np.random.Generator, canonical: str) -> str:
    words = SYNONYMS[canonical]
    return words[rng.integers(len(words))]


def _choice(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[rng.integers(len(options))]


def caption(scene: Scene, rng: np.random.Generator) -> str:
    """One of the scene's captions, lower case, words separated by single spaces (a comma is a word)."""
    first = scene.things[0]
    if len(scene.things) == 1:
        template = _choice(rng, ONE_OBJECT_TEMPLATES)
        return template.format(size=_word(rng, first.size), colour=_word(rng, first.colour),
                               shape=_word(rng, first.shape), position=_choice(rng, POSITION_PHRASES[first.position]))
    second = scene.things[1]
    template = _choice(rng, TWO_OBJECT_TEMPLATES)
    return template.format(colour=_word(rng, first.colour), shape=_word(rng, first.shape),
                           relation=_choice(rng, RELATION_PHRASES[scene.relation]),
                           colour2=_word(rng, second.colour), shape2=_word(rng, second.shape))


def vocabulary() -> list[str]:
    """Every word a caption can contain, sorted."""
    words = {w for options in SYNONYMS.values() for w in options}
    for phrases in (*POSITION_PHRASES.values(), *RELATION_PHRASES.values(),
                    ONE_OBJECT_TEMPLATES, TWO_OBJECT_TEMPLATES):
        for phrase in phrases:
            words.update(w for w in phrase.split() if not w.startswith("{"))
    return sorted(words)


def make_example(seed: int, split: str = "train") -> tuple[np.ndarray, str, Scene]:
    """Image, caption and scene, all determined by ``seed``."""
    rng = np.random.default_rng(seed)
    scene = sample_scene(rng, split)
    return render(scene, rng), caption(scene, rng), scene


# What a reader of a scene reports, slot by slot: a two-object scene fills two of the five position slots, a
# one-object scene one, so "which shape, colour and size is at each position" describes every scene exactly
# (a relation is where its two things are).
SLOTS = POSITIONS
SHAPE_CLASSES = ("none", *SHAPES)
IGNORE = -100  # colour and size of an empty slot: not a target (torch's cross-entropy ignore_index)


def slot_targets(scene: Scene) -> tuple[list[int], list[int], list[int]]:
    """Per slot: the shape class (0 = empty), the colour index and the size index (``IGNORE`` where empty)."""
    shape, colour, size = [0] * len(SLOTS), [IGNORE] * len(SLOTS), [IGNORE] * len(SLOTS)
    for thing in scene.things:
        slot = SLOTS.index(thing.position)
        shape[slot] = SHAPE_CLASSES.index(thing.shape)
        colour[slot] = list(COLOURS).index(thing.colour)
        size[slot] = SIZES.index(thing.size)
    return shape, colour, size


def _canonical(word: str) -> str | None:
    return next((canonical for canonical, words in SYNONYMS.items() if word in words), None)


def parse_caption(text: str) -> Scene | None:
    """The scene a caption of this world's grammar describes, or None when it does not pin one down.

    Inverts ``caption``: one thing needs a size, colour, shape and position phrase; two things need two
    colour–shape pairs and a relation phrase ("… with a red circle left of it" names the second thing first).
    The tab uses it to mark which pictures show what was asked for.
    """
    words = split_caption(text)
    joined = f" {' '.join(words)} "
    canon = [c for c in map(_canonical, words) if c]
    colours = [c for c in canon if c in COLOURS]
    shapes = [c for c in canon if c in SHAPES]
    sizes = [c for c in canon if c in SIZES]
    relations = [r for r, phrases in RELATION_PHRASES.items() if any(f" {p} " in joined for p in phrases)]
    positions = [p for p, phrases in POSITION_PHRASES.items() if any(f" {q} " in joined for q in phrases)]
    if len(colours) == len(shapes) == 1 and len(sizes) == 1 and len(positions) == 1 and not relations:
        return Scene((Thing(shapes[0], colours[0], sizes[0], positions[0]),))
    # "right of" contains "right", so a two-thing caption may also match a position phrase; sizes are never said
    if len(colours) == len(shapes) == 2 and len(relations) == 1 and not sizes:
        relation = relations[0]
        said = [w for w in words if w != ","]  # "… left of it," still ends in "it"
        first, second = (1, 0) if said[-1] == "it" and "with" in said else (0, 1)
        here, there = RELATION_SLOTS[relation]
        return Scene((Thing(shapes[first], colours[first], "small", here),
                      Thing(shapes[second], colours[second], "small", there)), relation)
    return None
