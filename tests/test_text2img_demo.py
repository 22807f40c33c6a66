"""The text-to-image tab's functions: pictures, blends, readouts, verdicts, errors; the shipped checkpoint's alignment."""
import gradio as gr
import numpy as np
import pytest
import torch

from demos import text2img
from demos.text2img import (HELD_OUT_EXAMPLES, SEEN_EXAMPLES, TextToImageTab, blend, matches, pictures,
                            readout_captions)
from event_wiring import events_of, handlers_of
from generative.data.scene_sets import BENCHMARK_SEEDS, make_scene_set
from generative.data.shapes import Scene, Thing, parse_caption, render, slot_targets
from generative.gan_losses import LOSSES
from generative.metrics.alignment import attribute_accuracy

# Measured on these 200 captions per split with the shipped checkpoint: 100.0% (seen pairs), 93.5% (held-out pairs);
# the bounds leave room for a retrained checkpoint's noise and catch a broken one (an untrained G scores 0%) or one
# that stops composing (the checkpoint without the pixel loss scored 47.0% on the held-out captions).
SHIPPED_ALL_CORRECT_BOUND = {"train": 0.97, "held-out": 0.85}


@pytest.fixture(scope="module")
def tab():
    tab = TextToImageTab()
    assert tab.error is None, tab.error
    return tab


def test_every_example_caption_parses_to_a_scene_and_the_held_out_ones_are_held_out():
    for caption in SEEN_EXAMPLES:
        assert not parse_caption(caption).held_out, caption
    for caption in HELD_OUT_EXAMPLES:
        assert parse_caption(caption).held_out, caption


def test_pictures_follow_their_seed_and_blends_run_from_caption_a_to_caption_b(tab):
    first = pictures(tab.model, "a large red circle in the centre", 4, seed=1)
    assert first.shape == (4, 32, 32, 3) and first.dtype == np.float32
    assert np.array_equal(first, pictures(tab.model, "a large red circle in the centre", 4, seed=1))
    assert not np.array_equal(first, pictures(tab.model, "a large red circle in the centre", 4, seed=2))
    caption_a, caption_b = "a large red circle in the centre", "a large blue square in the centre"
    strip = blend(tab.model, caption_a, caption_b, 5, seed=0)
    assert strip.shape == (5, 32, 32, 3)
    # the ends are the captions themselves, with the same noise; the middle step is halfway between their embeddings
    assert np.allclose(strip[0], pictures(tab.model, caption_a, 1, seed=0)[0], atol=1e-5)
    assert np.allclose(strip[-1], pictures(tab.model, caption_b, 1, seed=0)[0], atol=1e-5)
    noise = torch.randn(1, tab.model.noise_dim, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        halfway = tab.model.generator(noise, (text2img.embed(tab.model, caption_a) + text2img.embed(tab.model, caption_b)) / 2)
    assert np.allclose(strip[2], halfway[0].permute(1, 2, 0).numpy(), atol=1e-5)


def test_a_setting_redraws_every_view_that_uses_it(tab):
    """As in the cGAN tab: the pictures stayed 16 under a Pictures slider moved to 3, the blend kept 8 frames under
    Steps set to 4, and a new seed redrew the pictures but left the blend drawn from the old one."""
    with gr.Blocks() as blocks:
        text2img.build_tab()
    uses = {("t2i-count", "change"): {"generate"}, ("t2i-caption", "submit"): {"generate"},
            ("t2i-seed", "submit"): {"pictures_and_blend"}, ("t2i-steps", "change"): {"blend"},
            ("t2i-caption-a", "submit"): {"blend"}, ("t2i-caption-b", "submit"): {"blend"}}
    for (elem_id, event), views in uses.items():
        assert {handler.__name__ for handler in handlers_of(blocks, elem_id, event)} == views, (elem_id, event)
    [seeded] = handlers_of(blocks, "t2i-seed", "submit")  # one event for both views; a refused value: test_page_events.py
    gallery, summary, strip, png, gif, _ = seeded("a large red circle in the centre", 2, "a red circle", "a blue square", 3, 5)
    assert len(gallery) == 2 and "of 2** pictures" in summary and len(strip) == 3
    assert [item[0].tolist() for item in strip] == [item[0].tolist() for item in tab.blend("a red circle", "a blue square", 3, 5)[0]]
    # "New seed": the seed and every view it feeds in one event, so the box cannot show another seed than they do
    [reseed] = events_of(blocks, "t2i-new-seed", "click")
    assert [block.elem_id for block in reseed.outputs] == ["t2i-seed", "t2i-gallery", "t2i-summary", "t2i-strip", "t2i-png",
                                                           "t2i-gif", "t2i-blend-summary"]
    seed, gallery, _, strip, _, _, _ = reseed.fn("a large red circle in the centre", 2, "a red circle", "a blue square", 3)
    again, _, same_strip, _, _, _ = seeded("a large red circle in the centre", 2, "a red circle", "a blue square", 3, seed)
    assert [item[0].tolist() for item in gallery + strip] == [item[0].tolist() for item in again + same_strip]


def test_a_reader_verdict_marks_exactly_the_captions_scene(tab):
    reader = tab.reader
    scene = Scene((Thing("circle", "red", "large", "centre"),))
    wrong = Scene((Thing("square", "red", "large", "centre"),))
    images = np.stack([render(scene), render(wrong)]).astype(np.float32) / 255
    readout = text2img.read(reader, images)
    assert matches(readout, scene) == [True, False]
    captions = readout_captions(readout, scene)
    assert captions == ["✓ large red circle (centre)", "✗ large red square (centre)"]
    assert readout_captions(readout, None) == ["large red circle (centre)", "large red square (centre)"]


def test_the_tab_reports_how_many_pictures_show_the_scene_and_flags_held_out_pairs(tab):
    items, summary = tab.generate("a large red triangle in the centre", 4, 0)
    assert len(items) == 4 and all(text[:1] in "✓✗" for _, text in items)
    assert "of 4** pictures" in summary and "red triangle never appeared in training" in summary
    _, vague = tab.generate("a red circle", 2, 0)
    assert "does not pin down one scene" in vague
    _, sized_pair = tab.generate("a large red circle left of a blue square", 2, 0)
    assert "two things a colour and shape each and a relation, and no size word" in sized_pair


@pytest.mark.parametrize("caption, words", [
    ("a red dragon on the left", ["Unknown word", "'dragon'", "circle", "triangle"]),
    ("", ["empty"]),
    ("   ", ["empty"]),
    (None, ["caption must be text"]),
    ("," * 100_000, ["100,000 characters long", "limit is 300"]),
    (("a large red circle on the left and " * 9)[:300], ["Unknown word", "'o'", "stops at 300 characters", "cut off"]),
    # copied from the examples' list with its mark: the message says what the mark is
    (f"{HELD_OUT_EXAMPLES[1]} (held out)", ["Unknown words: 'held', 'out'", "“(held out)” only marks the examples", "leave it out"]),
])
def test_bad_captions_are_refused_with_the_words_the_model_knows(tab, caption, words):
    with pytest.raises(gr.Error) as err:
        tab.generate(caption, 4, 0)
    for word in words:
        assert word in str(err.value)
    assert ("may have been cut off" in str(err.value)) == ("cut off" in words)  # only for a full box's unknown word
    assert ("only marks the examples" in str(err.value)) == ("leave it out" in words)
    with pytest.raises(gr.Error, match="Caption B: "):
        tab.blend("a large red circle on the left", caption, 4, 0)
    with pytest.raises(gr.Error, match="Caption A: "):
        tab.blend(caption, "a large red circle on the left", 4, 0)


@pytest.mark.parametrize("count, seed, words", [(0, 0, "number of pictures"), (33, 0, "number of pictures"),
                                                (4, -1, "seed"), (4, 2**40, "seed")])
def test_out_of_range_numbers_for_pictures_are_refused_naming_the_control(tab, count, seed, words):
    with pytest.raises(gr.Error, match=words):
        tab.generate("a large red circle in the centre", count, seed)


@pytest.mark.parametrize("steps, seed, words", [(1, 0, "number of steps"), (17, 0, "number of steps"),
                                                (4, -1, "seed"), (4, 2**40, "seed")])
def test_out_of_range_numbers_for_a_blend_are_refused_naming_the_control(tab, steps, seed, words):
    with pytest.raises(gr.Error, match=words):
        tab.blend("a large red circle in the centre", "a small blue box on the left", steps, seed)


def test_the_shipped_model_draws_what_its_captions_ask_for(tab):
    """All-attributes accuracy on 200 fresh captions per split, far below the benchmark's N but a fixed floor."""
    for split, bound in SHIPPED_ALL_CORRECT_BOUND.items():
        scenes = make_scene_set(200, BENCHMARK_SEEDS + 40_000_000, split)
        with torch.inference_mode():
            images = tab.model.generate(tab.model.embed(scenes.captions), seed=0)
        accuracy = attribute_accuracy(tab.reader.read(images), scenes.targets)
        assert accuracy["all"] >= bound, (split, accuracy)


def test_slot_targets_of_a_parsed_caption_match_the_rendered_scene():
    scene = parse_caption("a cyan ball above a red square")
    assert slot_targets(scene)[0] == [0, 0, 1, 2, 0]  # circle at the top, square at the bottom


def test_the_explanation_says_which_targets_the_measured_numbers_meet_and_names_the_stabilisers_and_pixel_loss_used():
    report = {"alignment": {"seen": {"all": 0.98}, "held-out": {"all": 0.5}}, "targets_all_correct": {"seen": 0.97, "held-out": 0.9},
              "pictures_per_split": 2000, "r_precision": {"seen": 0.6, "held-out": 0.8},
              "r_precision_real": {"seen": 0.9, "held-out": 0.99}, "fid": 100.0, "fid_n": 1000, "fid_real_floor": 2.7,
              "variety": {"generated": 0.003, "rendered": 0.0176},
              "alignment_by_number_of_things": {"seen": {"1 thing": {"n": 500}, "2 things": {"n": 1500}},
                                                "held-out": {"1 thing": {"n": 1000, "all": 1.0}, "2 things": {"n": 1000, "all": 0.8}}}}
    metrics = {"parameters": 1000, "epochs": 10, "train_seconds": 600, "hardware": "a CPU", "r1": 1.0,
               "command": "python training/train_text2img.py"}
    text = text2img.about_markdown(metrics, report, conditional_norm=True)
    assert "Not met: held-out pairs (50.00% < 90%)." in text and "seen pairs (" not in text
    assert "R1 penalty" in text and "conditional batch norm" in text
    # D takes pixels in [0, 1]: against [−1, 1] a gradient doubles, its square ×4, and an L1 difference halves
    assert "γ = 1 on pixels in [0, 1], as γ = 4 on the [−1, 1] scale of most GAN code" in text
    assert "after epoch" not in text and "pixel loss" not in text and "0.0030 (rendered" in text
    assert "λ = 100 on pixels in [0, 1], as λ = 50 on pix2pix's [−1, 1] scale" in text2img.about_markdown(
        metrics | {"l1_weight": 100.0}, report)
    assert text.endswith("so they served as a validation set as much as a test set.")
    assert "weights after epoch 7, the best per-epoch check" in text2img.about_markdown(metrics | {"published_epoch": 7}, report)
    report["alignment"]["held-out"]["all"] = 0.95
    plain = text2img.about_markdown(metrics | {"r1": 0.0}, report)
    assert "Both targets (97% and 90% all-correct) are met." in plain and "R1" not in plain and "conditional batch" not in plain
    # met on the held-out set's own mix of captions, which has twice the seen set's share of the easy one-thing ones
    assert ("Only 6 (colour, shape) pairs are held out, and 50% of their captions show one thing (seen: 25%), which is "
            "easier: weighted like the seen captions, the held-out rate is 85.00%, under the 90% target: the held-out "
            "target is met only on that easier mix.") in plain  # 0.25·1 + 0.75·0.8
    assert "85.00%, under the 90% target." in text  # not met either way: nothing more to say


def test_the_tab_explains_the_shipped_generators_conditional_batch_norm(tab):
    assert tab.model.conditional_norm  # the shipped run's default
    assert "conditional batch norm" in text2img.about_markdown(tab.metrics, tab.report, conditional_norm=tab.model.conditional_norm)


def test_the_shipped_text_encoder_reads_seen_pair_captions_back_exactly(tab):
    """Its heads read the whole scene of every one of 200 fresh seen-pair captions (measured 100%)."""
    scenes = make_scene_set(200, BENCHMARK_SEEDS + 40_000_000, "train")
    assert attribute_accuracy(tab.model.read_captions(scenes.captions), scenes.targets)["all"] == 1.0


def test_a_blends_summary_counts_the_pictures_of_each_captions_scene_and_the_empty_ones(tab):
    """Rendered scenes, read by the shipped scene reader: A's scene once, B's twice, and a blank picture."""
    a, b = "a large red circle on the left", "a small blue square at the top"
    scene_a, scene_b = render(parse_caption(a)), render(parse_caption(b))
    frames = np.stack([scene_a, scene_b, scene_b, np.broadcast_to(scene_a[0, 0], scene_a.shape)]).astype(np.float32) / 255
    seen = text2img.read(tab.reader, frames)
    assert text2img.blend_summary(seen, a, b) == ("The scene reader finds caption A's scene in **1**, caption B's scene in "
                                                  "**2** and no shape at all in **1** of the 4 pictures.")
    assert text2img.blend_summary(seen, "a red circle", b) == (
        "The scene reader finds caption B's scene in **2** and no shape at all in **1** of the 4 pictures. Caption A does "
        "not pin down one scene of the toy world, so its scene is not counted.")
    assert text2img.blend_summary(seen, "a red circle", "a box").endswith(
        "no shape at all in **1** of the 4 pictures. Neither caption pins down one scene of the toy world, so neither "
        "scene is counted.")


def test_the_explanation_of_blends_matches_what_the_shipped_model_draws(tab):
    """The tab says the middle of a blend often shows no shape (`python benchmarks/text2img_blends.py`: in 40 random
    blends of 8 pictures the reader found nothing in 27.5%, 72.5%, 72.5% and 32.5% of the middle four). A retrained model that
    fills the space between captions would make that sentence wrong: this fails, so the text gets rewritten with it."""
    assert "the middle pictures of a blend often show no shape at all" in text2img.about_markdown(None, None)
    gallery, _, _, _ = tab.blend(text2img.DEFAULTS["caption_a"], text2img.DEFAULTS["caption_b"], 8, 0)
    readouts = [caption for _, caption in gallery]
    assert readouts[0] != "nothing" and readouts[-1] != "nothing" and "nothing" in readouts[2:6], readouts


@pytest.mark.parametrize("loss, says", [("non-saturating", "G minimises −log D(G(z, t), t)."),
                                        ("hinge", "max(0, 1 + D(x, t̂))")])
def test_the_loss_formula_is_the_checkpoints_own(loss, says):
    """A model retrained with ``--loss hinge`` and loaded with ``--hub`` was given the shipped model's formula."""
    metrics = {"loss": loss, "parameters": 1, "epochs": 1, "train_seconds": 60, "hardware": "CPU"}
    text = text2img.about_markdown(metrics, None)
    assert says in text and sum(words in text for words in text2img.LOSS_WORDS.values()) == 1
    assert set(text2img.LOSS_WORDS) == set(LOSSES[:2])  # train_text2img.py's --loss choices
