"""The toy world of the text-to-image tab: determinism, captions that match their scenes, held-out pairs."""
from __future__ import annotations

import numpy as np
import pytest

from generative.data.shapes import (BACKGROUND, COLOURS, HELD_OUT, POSITION_PHRASES, RELATION_PHRASES, SHAPES,
                                    SYNONYMS, Scene, Thing, caption, make_example, render, sample_scene, vocabulary)


def canonical_words(text: str) -> set[str]:
    """The canonical attribute words a caption names (synonyms mapped back)."""
    lookup = {word: canonical for canonical, words in SYNONYMS.items() for word in words}
    return {lookup[word] for word in text.split() if word in lookup}


def test_the_same_seed_gives_the_same_image_and_caption_and_another_seed_another():
    image, text, scene = make_example(7)
    again, text_again, scene_again = make_example(7)
    assert np.array_equal(image, again) and text == text_again and scene == scene_again
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    others = [make_example(seed) for seed in range(8, 20)]
    assert any(not np.array_equal(image, other[0]) for other in others)
    assert len({other[1] for other in others}) > 6


def check_caption(seed: int) -> None:
    _, text, scene = make_example(seed, "train" if seed % 3 else "held-out")
    named, things = canonical_words(text), scene.things
    assert {t.colour for t in things} | {t.shape for t in things} <= named
    assert named <= {t.colour for t in things} | {t.shape for t in things} | {t.size for t in things}
    if len(things) == 1:
        assert things[0].size in named
        said = {position for position, phrases in POSITION_PHRASES.items() for phrase in phrases if phrase in text}
        assert said == {things[0].position}
    else:
        assert any(f" {phrase} " in f" {text} " for phrase in RELATION_PHRASES[scene.relation])


def test_a_caption_names_exactly_its_scenes_attributes():
    for seed in range(300):
        try:
            check_caption(seed)
        except AssertionError as err:
            raise AssertionError(f"seed {seed}: {make_example(seed)[1]!r}") from err


def test_the_relation_matches_where_the_things_are_drawn():
    for relation in ("left of", "above"):
        scene = Scene((Thing("circle", "red", "small", "left" if relation == "left of" else "top"),
                       Thing("square", "blue", "small", "right" if relation == "left of" else "bottom")), relation)
        image = render(scene)
        red = np.argwhere((image == COLOURS["red"]).all(-1)).mean(0)
        blue = np.argwhere((image == COLOURS["blue"]).all(-1)).mean(0)
        axis = 1 if relation == "left of" else 0  # columns for left/right, rows for above/below
        assert red[axis] < blue[axis] - 8


def test_each_shape_and_size_draws_a_different_mask():
    masks = {(shape, size): (render(Scene((Thing(shape, "yellow", size, "centre"),))) != BACKGROUND).any(-1)
             for shape in SHAPES for size in ("small", "large")}
    assert len({mask.tobytes() for mask in masks.values()}) == len(masks)
    for shape in SHAPES:
        assert masks[shape, "large"].sum() > 2 * masks[shape, "small"].sum()


def test_held_out_pairs_never_appear_in_the_training_stream_and_always_in_the_held_out_one():
    rng = np.random.default_rng(0)
    train = [sample_scene(rng, "train") for _ in range(20_000)]
    assert not any(scene.held_out for scene in train)
    seen = {pair for scene in train for pair in scene.pairs}
    assert seen == {(c, s) for c in COLOURS for s in SHAPES} - set(HELD_OUT)  # every other pair is drawn
    held_out = [sample_scene(rng, "held-out") for _ in range(2_000)]
    assert all(scene.held_out for scene in held_out)
    assert {pair for scene in held_out for pair in scene.pairs} >= set(HELD_OUT)
    assert {scene.things[0].colour for scene in held_out} == set(COLOURS)  # every colour has a held-out shape
    pairs_of_things = [scene for scene in held_out if len(scene.things) == 2]
    held_out_second = np.mean([(scene.things[1].colour, scene.things[1].shape) in HELD_OUT for scene in pairs_of_things])
    assert 0.4 < held_out_second < 0.6, held_out_second  # the held-out pair second as often as first (~600 scenes)


def test_the_two_things_of_a_scene_always_differ_so_that_the_relation_is_readable():
    rng = np.random.default_rng(2)
    scenes = [sample_scene(rng, split) for split in ("train", "held-out") for _ in range(5_000)]
    assert sum(len(scene.things) == 2 for scene in scenes) > 2_000
    assert all(len(scene.pairs) == len(scene.things) for scene in scenes)  # "a red circle left of a red circle": never


def test_the_vocabulary_covers_every_caption():
    words = set(vocabulary())
    rng = np.random.default_rng(1)
    for _ in range(2_000):
        assert set(caption(sample_scene(rng, "train"), rng).split()) <= words
    with pytest.raises(ValueError, match="split"):
        sample_scene(rng, "test")


def test_slot_targets_put_each_thing_at_its_position_and_nothing_elsewhere():
    from generative.data.shapes import COLOURS, IGNORE, SHAPE_CLASSES, SIZES, SLOTS, slot_targets

    scene = Scene((Thing("cross", "cyan", "small", "top"), Thing("circle", "red", "small", "bottom")), "above")
    shape, colour, size = slot_targets(scene)
    top, bottom = SLOTS.index("top"), SLOTS.index("bottom")
    assert SHAPE_CLASSES[shape[top]] == "cross" and list(COLOURS)[colour[top]] == "cyan" and SIZES[size[top]] == "small"
    assert SHAPE_CLASSES[shape[bottom]] == "circle" and list(COLOURS)[colour[bottom]] == "red"
    empty = [i for i in range(len(SLOTS)) if i not in (top, bottom)]
    assert all(shape[i] == 0 and colour[i] == IGNORE and size[i] == IGNORE for i in empty)


def test_parse_caption_recovers_the_scene_of_every_caption_and_refuses_vague_ones():
    from generative.data.shapes import parse_caption

    for seed in range(3_000):
        _, text, scene = make_example(seed, "train" if seed % 4 else "held-out")
        assert parse_caption(text) == scene, text
    for vague in ("a red circle", "a big circle on the left", "a red circle and a blue square", "hello"):
        assert parse_caption(vague) is None, vague


def test_parse_caption_reads_punctuation_as_the_tokenizer_does():
    from generative.data.shapes import Scene, Thing, parse_caption

    scene = Scene((Thing("circle", "red", "large", "centre"),))
    for text in ("a large red circle in the centre.", "A large red circle in the centre!", "a large red circle, in the centre"):
        assert parse_caption(text) == scene, text
    two = Scene((Thing("circle", "red", "small", "left"), Thing("square", "blue", "small", "right")), "left of")
    for text in ("a blue square with a red circle left of it", "a blue square with a red circle left of it,",
                 "a blue square with a red circle left of it ,", "a red circle left of a blue square,"):
        assert parse_caption(text) == two, text


def test_the_text_to_image_training_set_holds_no_held_out_pair():
    from generative.data.scene_sets import TRAIN_SEEDS, make_scene_set
    from generative.data.shapes import parse_caption

    scenes = make_scene_set(3_000, TRAIN_SEEDS, "train")
    assert not any(scene.held_out for scene in scenes.scenes)
    assert not any(parse_caption(text).held_out for text in scenes.captions)  # nor does any caption name one


def test_about_a_third_of_the_scenes_hold_two_things():
    """``two_objects=0.3``: the relation captions are the minority the text-to-image model must still learn."""
    rng = np.random.default_rng(3)
    share = np.mean([len(sample_scene(rng, "train").things) == 2 for _ in range(4_000)])
    assert 0.27 < share < 0.33, share
    assert all(len(sample_scene(rng, "train", two_objects=0.0).things) == 1 for _ in range(200))


def test_positions_are_placed_symmetrically_on_the_canvas():
    """The centre is the canvas's centre and left/right, top/bottom mirror each other: a half-pixel shift puts every
    thing off-centre, and "left" and "right" at different distances from the edges."""
    def mask(shape, position):
        return (render(Scene((Thing(shape, "red", "large", position),))) != BACKGROUND).any(-1)
    for shape in ("circle", "square", "cross"):  # shapes symmetric about both axes
        centre = mask(shape, "centre")
        np.testing.assert_allclose(np.argwhere(centre).mean(0), (15.5, 15.5))  # the middle of 32 pixels
        assert np.array_equal(centre, centre[::-1, ::-1])
        assert np.array_equal(mask(shape, "left"), mask(shape, "right")[:, ::-1])
        assert np.array_equal(mask(shape, "top"), mask(shape, "bottom")[::-1])


def test_a_one_thing_caption_with_a_relation_in_it_pins_down_no_scene():
    """A relation needs two things; "… on the left below" says where, twice, and the tab must not claim a match."""
    from generative.data.shapes import parse_caption

    for text in ("a large red circle on the left below", "a small blue square above in the centre"):
        assert parse_caption(text) is None, text
    assert parse_caption("a large red circle on the left") == Scene((Thing("circle", "red", "large", "left"),))
