"""The benchmark reports that the tabs quote belong to the checkpoints the app ships."""
import json
from importlib import import_module
from pathlib import Path

import pytest

from benchmarks import card_figures
from benchmarks.card_figures import CARDS, HEADING, section_for, with_section, written_card
from demos.reports import COLOUR_BM3D_RUN, RESULTS_DIR, measured_report
from generative.checkpoints import CGAN, CLASSIFIER, DAE_MNIST, PHOTO_DENOISER, SCENE_READER, TEXT2IMG, VAE_MAP, VAE_WALK

SERVED = {"denoise_quality": [DAE_MNIST], "photo_denoise_quality": [PHOTO_DENOISER], COLOUR_BM3D_RUN: [PHOTO_DENOISER],
          "cgan_quality": [CGAN, CLASSIFIER],
          "vae_quality": [VAE_WALK, VAE_MAP, CLASSIFIER], "text2img_quality": [TEXT2IMG, SCENE_READER],
          "fid_full_run": [CGAN, CLASSIFIER]}


@pytest.mark.parametrize("name", SERVED)
def test_each_shipped_report_measured_the_shipped_weights(name):
    """Fails when a checkpoint is retrained and committed without rerunning its benchmark: the tab would then
    silently drop the measured numbers from its explanation."""
    assert measured_report(name, *(checkpoint.shipped for checkpoint in SERVED[name])) is not None


@pytest.mark.parametrize("checkpoint", CARDS, ids=lambda checkpoint: checkpoint.name)
def test_the_cards_carry_their_benchmarks_figures_as_measured_and_are_as_the_script_writes_them(checkpoint):
    """Fails when a benchmark is rerun (or its checkpoint retrained) without `python benchmarks/card_figures.py`, and
    when the photo denoiser's card was edited by hand: a later stage's card, rendered from metrics.json, would drop
    the edit (how the test sets guided its stages once lived only in a hand-written paragraph)."""
    card = (Path(checkpoint.shipped) / "README.md").read_text()
    written, section = written_card(checkpoint)
    assert section is not None and card.count(HEADING) == 1
    assert written == card


def test_a_card_section_is_replaced_added_before_use_or_removed():
    card = "# model\n\ntext\n\n## Use\n\ncode\n"
    first = with_section(card, f"{HEADING}\n\n- 1\n")
    assert first == f"# model\n\ntext\n\n{HEADING}\n\n- 1\n\n## Use\n\ncode\n"
    assert with_section(first, f"{HEADING}\n\n- 2\n") == first.replace("- 1", "- 2")
    assert with_section(first, None) == card


def test_no_section_unless_every_report_measured_the_weights(monkeypatch):
    """The cGAN's figures come from two reports: one of another checkpoint's weights is enough to drop them."""
    monkeypatch.setattr(card_figures, "measured_report",
                        lambda name, *sources, results_dir: None if name == "fid_full_run" else measured_report(name, *sources))
    assert section_for(CGAN) is None and section_for(TEXT2IMG) is not None


def test_the_photo_card_keeps_its_section_without_the_run_of_cbm3d_on_cbsd68(monkeypatch):
    """That run is one of its own (50 min): a new checkpoint's card, written before it was redone, lost every figure."""
    assert "CBM3D on CBSD68 is from its own run" in section_for(PHOTO_DENOISER)  # as shipped, with it
    monkeypatch.setattr(card_figures, "measured_report",
                        lambda name, *sources, results_dir: None if name == COLOUR_BM3D_RUN else measured_report(name, *sources))
    section = section_for(PHOTO_DENOISER)
    assert "| BSD68 (68) | 25 | **28.81**" in section and "BM3D was not run on CBSD68 in this report." in section


# Reports a script writes from its JSON with ``to_markdown`` alone (archived runs that carry a note added by hand, like
# photo_color_spaces_stage3.md and photo_stage3_orthonormal/, are left out).
REWRITABLE = {"denoise_quality": "denoise_quality", "denoise_speed": "denoise_speed",
              "photo_color_spaces": "photo_color_spaces", "photo_color_spaces_stage2": "photo_color_spaces",
              "photo_denoise_quality": "photo_denoise_quality",
              "photo_cbsd68_cbm3d/photo_denoise_quality": "photo_denoise_quality", "vae_speed": "vae_speed"}


def with_int_keys(value):
    """A report as its script held it: JSON wrote its σ and step keys (15, 25, 50) as strings."""
    if isinstance(value, dict):
        return {int(key) if key.isdigit() else key: with_int_keys(item) for key, item in value.items()}
    return [with_int_keys(item) for item in value] if isinstance(value, list) else value


@pytest.mark.parametrize("report, script", REWRITABLE.items())
def test_a_reports_markdown_is_what_its_script_writes_from_its_json(report, script):
    """The markdown is what people read, the JSON what the tabs and cards quote: a report written by older code (the
    photo report's headings once lagged its script's wording) or edited by hand would tell them apart."""
    path = RESULTS_DIR / report
    written = import_module(f"benchmarks.{script}").to_markdown(with_int_keys(json.loads(path.with_suffix(".json").read_text())))
    assert path.with_suffix(".md").read_text() == written.rstrip() + "\n"
