"""The text-to-image benchmarks' own logic: the weight-decay study and the generator probe on validation pairs (never
the held-out ones), the quality benchmark's split of pictures by the text encoder's reading and its variety measure,
and the blend benchmark's readout along each blend."""
import json

import pytest
import torch

from benchmarks import text2img_blends, text2img_quality
from benchmarks import text2img_text_weight_decay as study
from generative.data.shapes import HELD_OUT, SEEN_PAIRS


def test_validation_pairs_are_seen_pairs_one_per_colour():
    assert set(study.VALIDATION_PAIRS) <= set(SEEN_PAIRS)
    assert not set(study.VALIDATION_PAIRS) & set(HELD_OUT)
    assert len({colour for colour, _ in study.VALIDATION_PAIRS}) == len(study.VALIDATION_PAIRS)


def test_the_choice_skips_a_decay_that_underfits_the_other_captions():
    results = {0.01: [{"validation pairs": 0.7, "other pairs": 1.0}],
               0.5: [{"validation pairs": 0.9, "other pairs": 0.999}],
               2.0: [{"validation pairs": 0.95, "other pairs": 0.8}]}  # best validation, but underfits
    assert study.choose(results) == 0.5
    assert study.choose({2.0: results[2.0]}) is None


def test_the_choice_reads_the_last_epoch_where_the_first_one_ranks_the_decays_otherwise():
    """The study ranks the encoders as training leaves them: 0.01 reads best after epoch 1 but worst after epoch 3,
    0.5 underfits the other captions in epoch 1 only, and 1.0 reads them well in epoch 1 but underfits by the end."""
    results = {0.01: [{"validation pairs": 0.9, "other pairs": 1.0}, {"validation pairs": 0.7, "other pairs": 1.0},
                      {"validation pairs": 0.6, "other pairs": 1.0}],
               0.5: [{"validation pairs": 0.5, "other pairs": 0.99}, {"validation pairs": 0.7, "other pairs": 0.995},
                     {"validation pairs": 0.8, "other pairs": 0.999}],
               1.0: [{"validation pairs": 0.85, "other pairs": 1.0}, {"validation pairs": 0.9, "other pairs": 0.99},
                     {"validation pairs": 0.95, "other pairs": 0.9}]}
    assert study.choose(results) == 0.5
    assert study.choose({0.01: results[0.01], 1.0: results[1.0]}) == 0.01
    assert study.choose({1.0: results[1.0]}) is None


def test_the_validation_sets_split_by_validation_pair():
    sets = study.validation_sets(50)
    assert all(study.holds_validation_pair(scene) for scene in sets["validation pairs"].scenes)
    assert not any(study.holds_validation_pair(scene) for scene in sets["other pairs"].scenes)
    assert len(sets["validation pairs"]) == len(sets["other pairs"]) == 50


def test_the_study_trains_and_reports_every_decay_and_epoch(tmp_path):
    study.main(["--train-scenes", "1500", "--epochs", "2", "--weight-decays", "0.01", "0.5", "--count", "100",
                "--out-dir", str(tmp_path)])
    report = json.loads((tmp_path / "text2img_text_weight_decay.json").read_text())["report"]
    readings = report["all_correct_reading_per_epoch"]
    assert list(readings) == ["0.01", "0.5"] and all(len(r) == 2 for r in readings.values())
    assert report["training_captions"] + report["training_captions_dropped"] == 1500
    assert report["training_captions_dropped"] > 0
    recorded = {float(wd): epochs for wd, epochs in readings.items()}
    assert report["chosen_weight_decay"] == study.choose(recorded)  # the choice is made on the readings it reports
    assert "Chosen" in (tmp_path / "text2img_text_weight_decay.md").read_text()


def test_pictures_are_scored_apart_for_captions_read_right_and_misread():
    read_right = torch.tensor([True, True, True, False])
    drawn_right = torch.tensor([True, False, True, False])
    split = text2img_quality.drawn_right_given_reading(read_right, drawn_right)
    assert split["read right"] == {"n": 3, "all": pytest.approx(2 / 3)} and split["misread"] == {"n": 1, "all": 0.0}
    assert text2img_quality.drawn_right_given_reading(read_right | True, drawn_right)["misread"] == {"n": 0, "all": None}


def test_the_generator_probe_trains_the_encoder_then_g_and_reports_every_epoch(tmp_path):
    from benchmarks import text2img_generator_probe as probe

    probe.main(["--train-scenes", "1500", "--epochs", "2", "--count", "100", "--out-dir", str(tmp_path)])
    report = json.loads((tmp_path / "text2img_generator_probe.json").read_text())["report"]
    assert len(report["text_encoder_reading_per_epoch"]) == len(report["drawn_all_correct_per_epoch"]) == 2
    assert all(0 <= value <= 1 for epoch in report["drawn_all_correct_per_epoch"] for value in epoch.values())
    assert "| 2 |" in (tmp_path / "text2img_generator_probe.md").read_text()


def test_variety_is_zero_for_identical_draws_and_grows_with_their_spread():
    picture = torch.rand(5, 3, 4, 4)
    assert text2img_quality.spread(torch.stack([picture] * 8)) == 0
    noisy = [torch.stack([picture + scale * torch.randn(5, 3, 4, 4, generator=torch.Generator().manual_seed(k))
                          for k in range(8)]) for scale in (0.01, 0.1)]
    assert 0 < text2img_quality.spread(noisy[0]) < text2img_quality.spread(noisy[1])


def test_the_background_level_is_read_only_two_pixels_clear_of_any_thing():
    from generative.data.shapes import BACKGROUND

    rendered = torch.full((1, 3, 9, 9), BACKGROUND[0], dtype=torch.uint8)
    rendered[0, :, 0, 0] = 200  # a thing in the corner
    pictures = torch.full((1, 3, 9, 9), 30 / 255)
    pictures[0, :, :3, :3] = 1.0  # paint near the thing is not background two pixels deep
    level = text2img_quality.background_level(pictures, rendered)
    assert level["mean"] == pytest.approx(30) and level["sd"] == pytest.approx(0, abs=1e-4)
    assert level["rendered"] == BACKGROUND[0]


def test_the_background_level_reads_the_pixels_three_pixels_from_a_thing():
    """Two pixels clear, not more: the ring three pixels from the thing is background and enters the mean. Of the 81
    pixels, the 9 within two pixels of the corner thing are left out; the 7 at distance three hold 102, the other 65
    hold 30, so the mean is (7 · 102 + 65 · 30) / 72 = 37. Were a wider ring left out, it would read 30."""
    from generative.data.shapes import BACKGROUND

    rendered = torch.full((1, 3, 9, 9), BACKGROUND[0], dtype=torch.uint8)
    rendered[0, :, 0, 0] = 200  # a thing in the corner
    pictures = torch.full((1, 3, 9, 9), 30 / 255)
    pictures[0, :, :4, :4] = 102 / 255  # distance three from the thing: rows 0–3 of column 3, columns 0–3 of row 3
    pictures[0, :, :3, :3] = 1.0  # within two pixels: not background
    level = text2img_quality.background_level(pictures, rendered)
    assert level["mean"] == pytest.approx(37)
    # over the 3 × 72 channel values: squared deviations 3 · (7 · 65² + 65 · 7²), over 215 degrees of freedom
    assert level["sd"] == pytest.approx((3 * (7 * 65 ** 2 + 65 * 7 ** 2) / 215) ** 0.5, rel=1e-4)  # 21.38


def test_the_blend_benchmark_reads_every_step_and_the_captions_themselves_show_a_scene(tmp_path):
    text2img_blends.main(["--pairs", "3", "--steps", "5", "--out-dir", str(tmp_path)])
    report = json.loads((tmp_path / "text2img_blends.json").read_text())
    share = report["share_nothing_by_step"]
    assert (report["pairs"], report["steps"], len(share)) == (3, 5, 5)
    assert share[0] == share[-1] == 0 and all(value in (0, 1 / 3, 2 / 3, 1) for value in share)  # counts of 3 pairs
