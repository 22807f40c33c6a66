"""What a screen reader and a low-vision reader get from the page, checked in the app's own objects.

axe-core (4.14, in Chromium) found every result picture announced as a bare "button" and the theme's labels, primary
buttons and notes under WCAG AA's 4.5:1 contrast for text; these tests keep both fixed without a browser."""
import json
from pathlib import Path

import gradio as gr
import pytest

import app
from demos.inputs import EXAMPLES_DIR, example_name, example_names_script, example_paths
from demos.photo import PHOTO_EXAMPLES_DIR, photo_example_paths

NAMED = {"white": "#ffffff", "black": "#000000"}
# (text, background) pairs of the theme that carry text on every tab
TEXT_ON = [("block_label_text_color", "block_label_background_fill"),
           ("block_title_text_color", "block_title_background_fill"),
           ("button_primary_text_color", "button_primary_background_fill"),
           ("button_primary_text_color_hover", "button_primary_background_fill_hover"),
           ("checkbox_label_text_color_selected", "checkbox_label_background_fill_selected"),
           ("body_text_color_subdued", "block_background_fill"),
           ("body_text_color", "block_background_fill"),
           ("link_text_color", "block_background_fill"),  # the download links under the strips and the photo
           ("link_text_color_visited", "block_background_fill")]


def resolved(theme: gr.themes.Base, setting: str) -> str:
    """A theme setting's colour as #rrggbb, following its "*other_setting" references."""
    value = getattr(theme, setting)
    while value.startswith("*"):
        value = getattr(theme, value[1:])
    return NAMED.get(value, value)


def relative_luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2.1's contrast ratio, from 1 (the same) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_contrast_formula_gives_wcags_known_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21) and contrast("#777777", "#777777") == 1
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the lightest grey that passes on white


@pytest.mark.parametrize("text, background", TEXT_ON)
def test_the_themes_text_meets_wcag_aa_contrast(text, background):
    ratio = contrast(resolved(app.THEME, text), resolved(app.THEME, background))
    assert ratio >= 4.5, (text, background, round(ratio, 2))


def test_gradios_soft_theme_alone_falls_short_where_the_app_darkens_it():
    """Why ``app.THEME`` is not plain Soft: its labels were 3.6:1 and its grey notes 2.5:1."""
    soft = gr.themes.Soft()
    assert contrast(resolved(soft, "block_label_text_color"), resolved(soft, "block_label_background_fill")) < 4.5
    assert contrast(resolved(soft, "body_text_color_subdued"), resolved(soft, "block_background_fill")) < 4.5


def test_every_picture_has_alt_text():
    """Gradio names the focusable button around a picture by its alt text, empty by default."""
    demo = app.build_demo()
    pictures = [block for block in demo.blocks.values() if isinstance(block, gr.Image)]
    assert len(pictures) >= 15 and all(picture.alt_text for picture in pictures)
    named = {picture.elem_id: picture.alt_text for picture in pictures}
    assert named["denoise-photo-denoised"] == "denoised" and named["vae-map"].startswith("Decoded latent plane")


def test_each_bundled_example_picture_gets_a_name_of_its_own_from_its_file():
    """The names the page's script gives the example buttons (Gradio leaves their pictures' alt text empty); the
    browser test checks that the buttons get them."""
    paths = example_paths() + photo_example_paths()
    names = {Path(path).name: example_name(path) for path in paths}
    assert len(paths) == 34 and len(set(names.values())) == 34
    assert names["7_0_test00000.png"] == "Example digit 7 (MNIST test image 0)"
    assert names["8_2_test00110.png"] == "Example digit 8 (MNIST test image 110)"
    assert names["chelsea-cat.png"] == "Example photo: chelsea cat"
    assert all(Path(path).parent in (EXAMPLES_DIR, PHOTO_EXAMPLES_DIR) for path in paths)
    script = example_names_script(paths)
    assert json.loads(script.split("const names = ", 1)[1].split(";\n", 1)[0]) == names
