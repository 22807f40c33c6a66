"""The text-to-image benchmarks' own logic: the weight-decay study on validation pairs (never the held-out ones)
and the quality benchmark's split of pictures by the text encoder's reading."""
import json

import pytest
import torch

from benchmarks import text2img_quality
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
    assert report["chosen_weight_decay"] in (0.01, 0.5, None)
    assert "Chosen" in (tmp_path / "text2img_text_weight_decay.md").read_text()


def test_pictures_are_scored_apart_for_captions_read_right_and_misread():
    read_right = torch.tensor([True, True, True, False])
    drawn_right = torch.tensor([True, False, True, False])
    split = text2img_quality.drawn_right_given_reading(read_right, drawn_right)
    assert split["read right"] == {"n": 3, "all": pytest.approx(2 / 3)} and split["misread"] == {"n": 1, "all": 0.0}
    assert text2img_quality.drawn_right_given_reading(read_right | True, drawn_right)["misread"] == {"n": 0, "all": None}
