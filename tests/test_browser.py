"""The gallery in a real browser: headless Debian Chromium driven by Playwright, against the real app.

Denoise tab: it opens with the first example denoised; pick an example digit, then draw one, and check that
the outputs appear and the scores are numbers; pick an example photo and the photo denoiser's panel and
explanation replace the digit ones, and back. VAE tab: the opening walk is shown, picking an example changes endpoint A and the walk, and a click
on the latent map decodes the point under it. cGAN tab: Generate shows the samples with verdicts, and "New
seed" changes them. FID tab: the classifier-feature FID of cGAN samples, an uploaded zip selects
"Upload" for its set, and Stop ends a measurement of 10,000 samples. Text-to-image tab: clicking a
held-out example caption draws new pictures with the held-out note, and an unknown word is named back.
At phone width every tab is in sight; at phone, tablet and desktop width no label, icon or readout covers a picture
and no gallery hides pictures in a scroll box of its own. The cGAN's sliders redraw from the keyboard, and the photo
detail moves by keyboard and stays where it was put when σ changes. Every example picture has a name for screen
readers, on every page of examples. On a phone, a clicked example caption or a picked digit brings its pictures into
sight, as a new image does on the Denoise tab.
Screenshots go to test-artifacts/. Skipped where Chromium or playwright-python is missing
(never ``playwright install``: it downloads browsers; Debian's chromium is used instead).
"""
from __future__ import annotations

import io
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")  # Debian's; .ci/run installs it
if CHROMIUM is None:
    pytest.skip("no Chromium on PATH (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright-python is not installed (pip install playwright)")
expect = sync_api.expect
expect.set_options(timeout=30_000)  # one denoising request beside a training run (Playwright's default: 5 s)

from demos.fid import GENERATOR_CHOICES, UPLOAD  # noqa: E402
from demos.inputs import example_name, example_paths  # noqa: E402
from demos.photo import ZOOM_SCALE, ZOOM_SIDE, photo_example_paths  # noqa: E402
from generative.classical import CLASSICAL_DENOISERS  # noqa: E402
from input_files import random_digits_zip  # noqa: E402

pytestmark = pytest.mark.timeout(180)  # also covers the server start when this file runs alone

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCORED_ROWS = 2 + len(CLASSICAL_DENOISERS)  # noisy input, the autoencoder, each classical filter
NUMBER = re.compile(r"^-?\d+\.\d+$|^∞$")
DENOISED = "#denoise-denoised img"
NOISY = "#denoise-noisy img"  # changes with every new digit (the denoised image of a weak model may not)
MODEL_INPUT = "#denoise-model-input img"
CGAN_SAMPLES = next(iter(GENERATOR_CHOICES))
STOP_CLICK_S = 5.0  # from pressing Stop to the click being taken (0.27 s measured here; 15–29 s unthrottled)


@pytest.fixture(scope="module")
def page(app_url):
    """One browser page on the app, shared by this file's tests (each waits for its own outputs)."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(app_url)
            expect(page.get_by_role("tab", name="Denoise")).to_be_visible()
            yield page
        finally:
            browser.close()


@contextmanager
def own_page(page, width: int, height: int):
    """A new page on the app in the same browser, closed afterwards: for a test at another window size."""
    fresh = page.context.browser.new_page(viewport={"width": width, "height": height})
    try:
        fresh.goto(page.url)
        expect(fresh.get_by_role("tab", name="Denoise")).to_be_visible()
        yield fresh
    finally:
        fresh.close()


def src_of(page, selector: str) -> str | None:
    """The image's current ``src``, or None while the component is still empty."""
    image = page.locator(selector)
    return image.get_attribute("src") if image.count() else None


def wait_for_new_image(page, selector: str, previous: str | None) -> str:
    """Wait until ``selector`` shows an image other than ``previous``; return its ``src``."""
    image = page.locator(selector)
    expect(image).to_be_visible()
    if previous is not None:
        expect(image).not_to_have_attribute("src", previous)
    return image.get_attribute("src")


LOADED = """(selectors) => selectors.every(selector => {
  const img = document.querySelector(selector);
  return img !== null && img.complete && img.naturalWidth > 0;
})"""


def wait_until_loaded(page, *selectors: str) -> None:
    """Wait until the first picture of each selector has loaded: one still on its way from the server is drawn 0 px
    wide, so its size is not yet the layout's (a CI run measured a photo row as 0, 0 and 256 px)."""
    page.wait_for_function(LOADED, arg=list(selectors))


def assert_scores_are_numbers(page) -> None:
    rows = page.locator("#denoise-scores [role=row]:has([role=gridcell])")
    expect(rows).to_have_count(SCORED_ROWS)
    for cells in (row.locator("[role=gridcell]").all_inner_texts() for row in rows.all()):
        method, psnr, ssim = (cell.strip() for cell in cells)
        assert method and NUMBER.match(psnr) and NUMBER.match(ssim), cells


def open_subtab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def draw_stroke(page, canvas_selector: str, points: list[tuple[float, float]]) -> None:
    """Press, move through ``points`` (fractions of the canvas box), release. Each move costs about 0.25 s."""
    box = page.locator(canvas_selector).first.bounding_box()
    at = [(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy) for fx, fy in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y)
    page.mouse.up()


def assert_new_outputs(page, noisy_before: str | None, input_before: str | None) -> None:
    """Wait for the outputs of a new digit: new noisy image and model input, a denoised image, the filters."""
    wait_for_new_image(page, NOISY, noisy_before)
    wait_for_new_image(page, MODEL_INPUT, input_before)
    expect(page.locator(DENOISED)).to_be_visible()
    expect(page.locator("#denoise-classical img")).to_have_count(len(CLASSICAL_DENOISERS))
    assert_scores_are_numbers(page)


def test_the_denoise_tab_opens_with_a_denoised_example_and_clicking_another_denoises_it(page, artifacts_dir):
    expect(page.locator(DENOISED)).to_be_visible()  # not empty boxes: the first example, already denoised
    expect(page.locator("#denoise-route")).to_contain_text("Showing the first example digit")
    assert_scores_are_numbers(page)
    before = src_of(page, NOISY), src_of(page, MODEL_INPUT)
    open_subtab(page, "Upload or pick an example")
    page.get_by_role("button", name="Example digit 7 (MNIST test image 0)", exact=True).click()
    assert_new_outputs(page, *before)
    page.screenshot(path=str(artifacts_dir / "browser-denoise-example.png"), full_page=True)
    # the picked digit fills its upload box (180 px high here), not 28 px of it: its black ground spans the width drawn
    preview = Image.open(io.BytesIO(page.locator("#denoise-upload .image-frame").screenshot())).convert("L")
    assert (np.asarray(preview) < 40).any(axis=0).sum() > 150


def test_each_example_picture_has_a_name_for_screen_readers_on_every_page_of_examples(page):
    """Gradio draws an example as a button around an image whose alt text is empty: each of the 34 was announced as a
    bare "button". The page's script names them, and names the pictures of another page of examples too."""
    open_subtab(page, "Upload or pick an example")

    def expect_named(paths: list[str]) -> None:
        for path in paths:
            named = page.get_by_role("button", name=example_name(path), exact=True)
            expect(named.locator(f"img[src$='/{Path(path).name}']")).to_be_visible()

    expect_named(example_paths()[:10] + photo_example_paths())
    page.locator("#denoise-examples").get_by_role("button", name="2", exact=True).click()  # the same buttons, new pictures
    expect_named(example_paths()[10:20])
    page.locator("#denoise-examples").get_by_role("button", name="1", exact=True).click()  # as the later tests expect
    expect_named(example_paths()[:10])


def test_drawing_a_digit_and_pressing_the_button_denoises_it(page, artifacts_dir):
    before = src_of(page, NOISY), src_of(page, MODEL_INPUT)
    open_subtab(page, "Draw")
    page.locator("#denoise-sketch button[aria-label='Brush']").click()  # gradio 6: no drawing until picked
    draw_stroke(page, "#denoise-sketch canvas", [(0.3, 0.25), (0.7, 0.25), (0.5, 0.55), (0.4, 0.8)])  # a 7
    page.locator("#denoise-sketch-button").click()
    assert_new_outputs(page, *before)
    page.screenshot(path=str(artifacts_dir / "browser-denoise-sketch.png"), full_page=True)


def test_clicking_an_example_photo_shows_the_photo_denoiser_and_a_digit_brings_the_digit_panel_back(page, artifacts_dir):
    open_subtab(page, "Upload or pick an example")
    page.get_by_role("button", name="Example photo: chelsea cat", exact=True).click()
    expect(page.locator("#denoise-route")).to_contain_text("photo denoiser")
    expect(page.locator("#denoise-photo-denoised img")).to_be_visible()
    expect(page.locator("#denoise-photo-zoom img")).to_have_count(3)
    expect(page.locator("#denoise-model-input")).to_be_hidden()  # the digit panel makes way
    expect(page.locator("#denoise-photo-about")).to_contain_text("The photo denoiser")  # with its own explanation
    expect(page.locator("#denoise-about")).to_be_hidden()
    rows = page.locator("#denoise-photo-scores [role=row]:has([role=gridcell])")
    expect(rows).to_have_count(2)
    for cells in (row.locator("[role=gridcell]").all_inner_texts() for row in rows.all()):
        assert NUMBER.match(cells[1].strip()) and NUMBER.match(cells[2].strip()), cells
    expect(page.locator("#denoise-photo-download a").first).to_have_attribute("href", re.compile(r"denoised\.png"))
    centre_detail = page.locator("#denoise-photo-zoom img").last.get_attribute("src")
    page.locator("#denoise-photo-denoised img").click(position={"x": 5, "y": 5})  # the top-left corner
    expect(page.locator("#denoise-photo-zoom img").last).not_to_have_attribute("src", centre_detail)
    page.screenshot(path=str(artifacts_dir / "browser-denoise-photo.png"), full_page=True)

    page.locator("#denoise-examples button.gallery-item:has(img[src*='3_0_'])").click()
    expect(page.locator("#denoise-route")).to_contain_text("digit autoencoder")
    expect(page.locator("#denoise-photo-denoised")).to_be_hidden()
    expect(page.locator(MODEL_INPUT)).to_be_visible()
    expect(page.locator("#denoise-about")).to_contain_text("denoising autoencoder")
    expect(page.locator("#denoise-photo-about")).to_be_hidden()


def test_on_a_phone_a_new_image_brings_its_results_into_sight_and_on_a_wide_screen_nothing_moves(page):
    """On a phone the results come after all the settings: they were a screen and a half below the example just
    clicked, and nothing in sight showed that anything had happened. A cleared box, which denoises nothing, and a
    wide screen, where the results stand beside the examples, must leave the page where it is."""
    for width, height in ((390, 844), (1280, 1000)):
        with own_page(page, width, height) as sized:
            open_subtab(sized, "Upload or pick an example")
            example = sized.locator("#denoise-photo-examples button.gallery-item:has(img[src*='rocket'])")
            example.scroll_into_view_if_needed()
            scrolled = sized.evaluate("window.scrollY")
            denoised = sized.locator("#denoise-photo-denoised img")
            if width < 500:
                expect(sized.locator("#denoise-route")).not_to_be_in_viewport()  # so there is somewhere to go
            example.click()
            expect(sized.locator("#denoise-photo-zoom img")).to_have_count(3)
            expect(denoised).to_be_in_viewport()  # on a wide screen, beside the examples already
            if width < 500:  # clearing the upload box denoises nothing: the page must not jump to the old results
                clear = sized.locator("#denoise-upload button[aria-label='Remove Image']")
                clear.scroll_into_view_if_needed()
                scrolled = sized.evaluate("window.scrollY")
                clear.click()
            sized.wait_for_timeout(1500)  # a scroll would be under way by now
            assert sized.evaluate("window.scrollY") == scrolled


@pytest.mark.parametrize("tab, results", [("Text-to-image toy", "#t2i-gallery"), ("cGAN digit picker", "#cgan-samples")])
def test_on_a_phone_a_request_brings_the_tabs_results_into_sight_and_on_a_wide_screen_nothing_moves(page, tab, results):
    """As on the Denoise tab: at phone width a clicked example caption or a picked digit drew its pictures 900 px
    below, out of sight, and nothing in sight changed."""
    for width, height in ((390, 844), (1280, 1000)):
        with own_page(page, width, height) as sized:
            sized.get_by_role("tab", name=tab).click()
            if tab == "cGAN digit picker":
                control = sized.locator("#cgan-digit label").filter(has_text="3")
            else:
                control = sized.get_by_role("button", name="a small blue circle on the left (held out)", exact=True)
            control.scroll_into_view_if_needed()
            scrolled = sized.evaluate("window.scrollY")
            if width < 500:
                expect(sized.locator(results)).not_to_be_in_viewport()  # so there is somewhere to go
            control.click()
            expect(sized.locator(results)).to_be_in_viewport()
            if width >= 500:
                sized.wait_for_timeout(1500)  # a scroll would be under way by now
                assert sized.evaluate("window.scrollY") == scrolled


def pixels_of(page, selector: str) -> np.ndarray:
    """The pixels of the image ``selector`` shows, fetched from the server as the browser fetched them."""
    return np.asarray(Image.open(io.BytesIO(page.request.get(page.locator(selector).get_attribute("src")).body())))


def wait_for_top_right_detail(page) -> None:
    """Wait until the zoomed detail of the denoised photo is its top-right corner, enlarged."""
    deadline = time.monotonic() + 30
    while True:
        photo, detail = pixels_of(page, "#denoise-photo-denoised img"), pixels_of(page, "#denoise-photo-zoom img >> nth=-1")
        if np.array_equal(detail[::ZOOM_SCALE, ::ZOOM_SCALE], photo[:ZOOM_SIDE, -ZOOM_SIDE:]):
            return
        assert time.monotonic() < deadline, "the detail is not the denoised photo's top-right corner"
        time.sleep(0.5)


def test_the_photo_detail_moves_from_the_keyboard_and_stays_there_when_sigma_changes(page):
    """The detail was placed by clicking only, and a new σ put it back in the centre, away from what was compared."""
    open_subtab(page, "Upload or pick an example")
    page.locator("#denoise-photo-examples button.gallery-item:has(img[src*='coffee'])").click()
    expect(page.locator("#denoise-photo-zoom img")).to_have_count(3)
    page.locator("#denoise-zoom-across input[type=range]").press("End")  # 100 %: the right edge
    page.locator("#denoise-zoom-down input[type=range]").press("Home")  # 0 %: the top edge
    wait_for_top_right_detail(page)
    denoised = src_of(page, "#denoise-photo-denoised img")
    before = pixels_of(page, "#denoise-photo-denoised img")
    page.evaluate(RECORD_DETAILS)
    sigma = page.locator("#denoise-photo-sigma input[type=range]")
    sigma.press("ArrowRight")
    wait_for_new_image(page, "#denoise-photo-denoised img", denoised)
    wait_for_top_right_detail(page)
    after = pixels_of(page, "#denoise-photo-denoised img")
    # Every detail shown on the way was the top-right corner (of the old σ's photo, then the new's), never the
    # centre's for a moment, as when the run drew the centre and the sliders' event replaced it.
    shown = [np.asarray(Image.open(io.BytesIO(page.request.get(src).body()))) for src in page.evaluate("window.detailsShown")]
    assert shown and all(any(np.array_equal(detail[::ZOOM_SCALE, ::ZOOM_SCALE], photo[:ZOOM_SIDE, -ZOOM_SIDE:])
                             for photo in (before, after)) for detail in shown)
    sigma.press("ArrowLeft")  # back to the default for the tests after this one


def test_stop_ends_a_long_photo_run_and_the_tab_runs_again(page, tmp_path):
    """A 3-megapixel colour photo with the ×8 self-ensemble is minutes of work on two cores. Stop ends it: its progress
    goes, the note says what is shown, no output is marked "Error", and the next request runs at once."""
    big = tmp_path / "big-coffee.png"
    coffee = next(path for path in photo_example_paths() if "coffee" in path)
    Image.open(coffee).convert("RGB").resize((2000, 1500)).save(big)
    open_subtab(page, "Upload or pick an example")
    ensemble = page.locator("#denoise-photo-ensemble input")
    ensemble.check()
    page.locator("#denoise-upload input[type=file]").set_input_files(str(big))
    progress = page.get_by_text(re.compile(r"denoising \d+ tiles × 8 views × 3 channels - \d")).first
    expect(progress).to_be_visible(timeout=60_000)
    page.locator("#denoise-stop").click()
    expect(page.locator("#denoise-route")).to_contain_text("Stopped. A run in progress ends before its next tile.")
    expect(page.get_by_text(re.compile(r"denoising \d+ tiles × 8 views × 3 channels - \d"))).to_have_count(0)
    assert not [label for label in page.get_by_text("Error", exact=True).all() if label.is_visible()]
    assert page.locator(".toast-body").count() == 0, page.locator(".toast-body").all_inner_texts()
    ensemble.uncheck()
    page.get_by_role("button", name=example_name(example_paths()[7])).click()
    expect(page.locator("#denoise-route")).to_contain_text("digit autoencoder", timeout=15_000)


# Records every image the photo detail shows from now on (the denoised photo's detail, the last of the three).
RECORD_DETAILS = """() => {
    window.detailsShown = [];
    const box = document.querySelector("#denoise-photo-zoom");
    new MutationObserver(() => {
        const images = box.querySelectorAll("img");
        const src = images.length ? images[images.length - 1].getAttribute("src") : null;
        if (src && window.detailsShown.at(-1) !== src) window.detailsShown.push(src);
    }).observe(box, {subtree: true, childList: true, attributes: true, attributeFilter: ["src"]});
}"""


def open_vae_tab(page) -> None:
    page.get_by_role("tab", name="VAE latent walk").click()
    expect(page.locator("#vae-strip img").first).to_be_visible()


def test_vae_tab_opens_with_a_walk_and_an_example_changes_endpoint_a(page, artifacts_dir):
    from demos.vae import DEFAULT_STEPS

    open_vae_tab(page)
    expect(page.locator("#vae-strip img")).to_have_count(DEFAULT_STEPS)
    expect(page.locator("#vae-summary")).to_contain_text("label changes")
    before = src_of(page, "#vae-a-image img")
    page.get_by_role("tab", name="Upload or pick an example").first.click()  # endpoint A's (the Denoise tab's is hidden)
    page.locator("#vae-a-examples button.gallery-item:has(img[src*='3_0_test00018'])").click()  # a 3, walking to the opening 7
    wait_for_new_image(page, "#vae-a-image img", before)
    expect(page.locator("#vae-strip img").first).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "browser-vae-walk.png"), full_page=True)


def test_vae_map_click_decodes_the_point_under_it(page, artifacts_dir):
    from demos.vae import MAP_EXTENT  # the pictures show [−extent, extent]², z₂ growing upwards

    open_vae_tab(page)
    for picture, across, up in (("#vae-map img", 0.2, 0.3), ("#vae-map-codes img", 0.75, 0.8)):  # both share their axes
        before = src_of(page, "#vae-point img")
        page.locator(picture).scroll_into_view_if_needed()
        wait_until_loaded(page, picture)
        box = page.locator(picture).bounding_box()
        page.mouse.click(box["x"] + box["width"] * across, box["y"] + box["height"] * (1 - up))
        wait_for_new_image(page, "#vae-point img", before)
        expect(page.locator("#vae-point-readout")).to_contain_text("the classifier reads")
        z1, z2 = (float(page.locator(f"#vae-{name} input").input_value()) for name in ("z1", "z2"))
        assert abs(z1 - (2 * across - 1) * MAP_EXTENT) < 0.1 and abs(z2 - (2 * up - 1) * MAP_EXTENT) < 0.1, (picture, z1, z2)
    page.screenshot(path=str(artifacts_dir / "browser-vae-map-click.png"), full_page=True)


def test_the_latent_maps_two_pictures_sit_side_by_side_on_a_desktop_and_stack_on_a_phone(page):
    """As one picture of both panels the map was 326 px wide on a 390-px phone: each panel 160 px, its tick values
    too small to read. Two pictures stack there, each the width of the page."""
    from demos.vae import MAP_MIN_WIDTH

    for width, stacked in ((1280, False), (390, True)):
        with own_page(page, width=width, height=900) as view:
            open_vae_tab(view)
            pictures = ("#vae-map img", "#vae-map-codes img")
            for picture in pictures:
                view.locator(picture).scroll_into_view_if_needed()
                wait_until_loaded(view, picture)
            manifold, codes = boxes = [view.locator(picture).bounding_box() for picture in pictures]  # the same scroll
            assert (codes["y"] >= manifold["y"] + manifold["height"] - 1) == stacked, (width, boxes)
            assert min(manifold["width"], codes["width"]) >= (MAP_MIN_WIDTH if stacked else 500), (width, boxes)


def test_cgan_tab_generates_and_a_new_seed_changes_the_samples(page, artifacts_dir):
    page.get_by_role("tab", name="cGAN digit picker").click()
    first = "#cgan-samples img"
    expect(page.locator(first).first).to_be_visible()
    page.locator("#cgan-generate").click()
    expect(page.locator(first)).to_have_count(16)
    expect(page.locator("#cgan-verdict")).to_contain_text("The classifier reads")
    before = page.locator(first).first.get_attribute("src")
    page.locator("#cgan-new-seed").click()
    expect(page.locator(first).first).not_to_have_attribute("src", before)
    page.screenshot(path=str(artifacts_dir / "browser-cgan.png"), full_page=True)


def test_a_noise_scale_typed_past_its_range_is_sent_once_not_over_and_over(page):
    """With three events on the scale's change, a quick drag or a number typed past its range (2, then 0) made the
    page re-send them about 30 times a second, each run by the server, until a number in range was typed."""
    page.get_by_role("tab", name="cGAN digit picker").click()
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/queue/join" in request.url else None)
    box = page.locator("#cgan-scale input[type=number]")
    for typed in ("2", "0", "1.2"):
        sent.clear()
        box.fill(typed)
        box.press("Enter")
        page.wait_for_timeout(3000)
        assert len(sent) <= 2, (typed, len(sent))  # one redraw (two when the bar had clamped the last number)
    bar = page.locator("#cgan-scale input[type=range]")
    sent.clear()
    for value in ("0.3", "0.5", "0.7", "0.9"):
        bar.fill(value)
    page.wait_for_timeout(3000)
    settled = len(sent)
    page.wait_for_timeout(2000)
    assert len(sent) == settled, (settled, len(sent))  # nothing more once the drag has been drawn
    box.fill("1")
    box.press("Enter")


def test_the_cgan_sliders_redraw_from_the_keyboard(page):
    """The arrow keys move a slider without releasing it: the samples, rows and walk listened to "release" only and
    kept showing the old count (16 samples under a slider at 20). Four presses send at most a few requests."""
    page.get_by_role("tab", name="cGAN digit picker").click()
    expect(page.locator("#cgan-samples img")).to_have_count(16)
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/queue/join" in request.url else None)
    count = page.locator("#cgan-count input[type=range]")
    count.focus()
    for _ in range(4):
        count.press("ArrowRight")
    expect(page.locator("#cgan-samples img")).to_have_count(20)
    page.wait_for_timeout(2000)
    assert len(sent) <= 4, len(sent)
    styles = page.locator("#cgan-styles img").get_attribute("src")
    page.locator("#cgan-rows input[type=range]").press("ArrowRight")
    expect(page.locator("#cgan-styles img")).not_to_have_attribute("src", styles)
    expect(page.locator("#cgan-styles-verdict")).to_contain_text(re.compile(r"reads \d+ of 50 as their column's digit"))
    page.locator("#cgan-steps input[type=range]").press("ArrowLeft")
    expect(page.locator("#cgan-strip img")).to_have_count(9)
    expect(page.locator("#cgan-walk-verdict")).to_contain_text(re.compile(r"reads \d+ of 9 frames as a 7\."))
    for key, box in (("ArrowLeft", "#cgan-count"), ("ArrowLeft", "#cgan-count"), ("ArrowLeft", "#cgan-count"),
                     ("ArrowLeft", "#cgan-count"), ("ArrowLeft", "#cgan-rows"), ("ArrowRight", "#cgan-steps")):
        page.locator(f"{box} input[type=range]").press(key)  # back to the defaults for the tests after this one
    expect(page.locator("#cgan-samples img")).to_have_count(16)
    expect(page.locator("#cgan-strip img")).to_have_count(10)


# Each picture under a label-clear class against what Gradio lays over it: the label, the corner icons, the readouts
# under gallery pictures; and whether a gallery hides pictures in a scroll box of its own.
PICTURE_PROBLEMS = """() => {
  const problems = [];
  const overlaps = (a, b) => a.bottom > b.top + 1 && a.top < b.bottom - 1 && a.right > b.left + 1 && a.left < b.right - 1;
  for (const block of document.querySelectorAll('.label-clear')) {
    if (!block.offsetParent) continue;
    const pictures = [...block.querySelectorAll('img')].filter(img => img.getBoundingClientRect().width > 0);
    if (!pictures.length) continue;
    const boxes = pictures.map(img => img.getBoundingClientRect());
    const covers = [...block.querySelectorAll('[data-testid="block-label"], .icon-button-wrapper button, .caption-label')];
    for (const cover of covers.filter(c => c.getBoundingClientRect().width > 0))
      if (boxes.some(box => overlaps(cover.getBoundingClientRect(), box)))
        problems.push(`${block.id}: "${(cover.innerText || cover.getAttribute('aria-label') || '').trim()}" covers a picture`);
    const frame = block.getBoundingClientRect();
    if (boxes.some(box => box.bottom > frame.bottom + 1)) problems.push(`${block.id}: a picture is cut off at the bottom`);
    const scroller = block.querySelector('.grid-wrap');
    if (scroller && scroller.scrollHeight > scroller.clientHeight + 1) problems.push(`${block.id}: pictures hidden in a scroll box`);
  }
  return problems;
}"""


# A gallery's pictures load lazily, when they come near the window: those further down the page never load here.
EVERY_PICTURE_LOADED = """() => [...document.querySelectorAll('.label-clear img')].filter(img => img.offsetParent)
  .filter(img => img.loading !== 'lazy' || (img.getBoundingClientRect().top < innerHeight && img.getBoundingClientRect().bottom > 0))
  .every(img => img.complete && img.naturalWidth > 0)"""


def picture_problems(page) -> list[str]:
    """``PICTURE_PROBLEMS`` once every picture shown (in the window, for a gallery's) has loaded: one still on its way
    is 0 px wide, and was left out."""
    page.wait_for_function(EVERY_PICTURE_LOADED)
    return page.evaluate(PICTURE_PROBLEMS)


PICTURES_IN_FIRST_ROW = """(gallery) => {
  const tops = [...document.querySelectorAll(`${gallery} img`)].map(img => Math.round(img.getBoundingClientRect().top));
  return tops.filter(top => top === tops[0]).length;
}"""


def assert_same_size(page, *selectors: str) -> None:
    """Pictures meant to be compared are shown alike: a wrapped row stretched its last one to twice the others'."""
    wait_until_loaded(page, *selectors)
    widths = [round(page.locator(selector).bounding_box()["width"]) for selector in selectors]
    assert max(widths) - min(widths) <= 1, dict(zip(selectors, widths))


def test_no_label_icon_or_readout_covers_a_picture_at_phone_tablet_or_desktop_width(page, artifacts_dir):
    """At 390 px two lines of label hid a grid's first row, the classifier's readouts hid the lower half of the cGAN's
    digits at every width, the VAE's endpoints showed half a digit at 820 px, and a walk showed 4 of its 10 frames in a
    small scroll box of its own. The photo detail is shown near its real size on a phone, not at a quarter of it, and
    the pictures to compare are the same size at every width."""
    for width, height in ((390, 844), (820, 1180), (1280, 1000)):
        with own_page(page, width, height) as sized:
            expect(sized.locator(MODEL_INPUT)).to_be_visible()
            for title, ready in (("Denoise", "#denoise-classical img"), ("VAE latent walk", "#vae-strip img"),
                                 ("cGAN digit picker", "#cgan-strip img"), ("Text-to-image toy", "#t2i-strip img")):
                sized.get_by_role("tab", name=title).click()
                expect(sized.locator(ready).first).to_be_visible()
                sized.wait_for_timeout(500)  # the layout settles after the pictures load
                assert picture_problems(sized) == [], (width, title)
                if title == "Denoise":
                    assert_same_size(sized, "#denoise-clean img", "#denoise-noisy img", DENOISED)
                if title == "VAE latent walk":  # the decoded point (a fixed height cut it off under its label)
                    sized.locator("#vae-decode-button").click()
                    expect(sized.locator("#vae-point img")).to_be_visible()
                    assert picture_problems(sized) == [], (width, "decoded point")
                if title == "Text-to-image toy":  # the blend's captions are shown whole ("a large blue squ" on a phone)
                    for box in ("#t2i-caption-a input", "#t2i-caption-b input"):
                        assert sized.locator(box).evaluate("box => box.scrollWidth <= box.clientWidth"), (width, box)
                    # one picture a row made 16 a 5,700-px column on a phone, pushing the blend far out of sight
                    assert sized.evaluate(PICTURES_IN_FIRST_ROW, "#t2i-gallery") >= 2, width
            sized.get_by_role("tab", name="Denoise").click()
            open_subtab(sized, "Upload or pick an example")
            sized.locator("#denoise-photo-examples button.gallery-item:has(img[src*='chelsea-cat'])").click()
            expect(sized.locator("#denoise-photo-zoom img")).to_have_count(3)
            sized.wait_for_timeout(500)
            assert picture_problems(sized) == [], (width, "photo")
            assert_same_size(sized, "#denoise-photo-clean img", "#denoise-photo-noisy img", "#denoise-photo-denoised img")
            wait_until_loaded(sized, "#denoise-photo-zoom img")
            detail = sized.locator("#denoise-photo-zoom img").first.bounding_box()["width"]
            assert detail >= min(250, 0.7 * width), (width, detail)  # the crop is 384 px: 98 px on a phone before
            sized.screenshot(path=str(artifacts_dir / f"browser-pictures-{width}.png"), full_page=True)


def test_on_the_narrowest_phones_the_pictures_sit_two_a_row_and_a_walk_three(page):
    """At 320 px the text-to-image gallery's cells (120 px and a gap in a 240-px column) fell to one a row, 16 pictures
    4,546 px tall; at 390 px a 10-frame walk sat two a row, five rows and 970 px."""
    t2i, vae, cgan = "Text-to-image toy", "VAE latent walk", "cGAN digit picker"
    for width in (320, 390):
        frames = 2 if width < 390 else 3
        with own_page(page, width=width, height=844) as phone:
            for title, gallery, at_least in ((t2i, "#t2i-gallery", 2), (t2i, "#t2i-strip", frames), (vae, "#vae-strip", frames),
                                             (cgan, "#cgan-strip", frames)):
                phone.get_by_role("tab", name=title).click()
                expect(phone.locator(f"{gallery} img").first).to_be_visible()
                assert phone.evaluate(PICTURES_IN_FIRST_ROW, gallery) >= at_least, (width, gallery)


# What of an upload box's prompt (its icon, "Drop File Here - or - Click to Upload") its label covers or its frame cuts off
UPLOAD_PROMPT_PROBLEMS = """(box) => {
  const problems = [], frame = document.querySelector(box).getBoundingClientRect();
  const label = document.querySelector(`${box} [data-testid="block-label"]`).getBoundingClientRect();
  for (const part of document.querySelectorAll(`${box} [data-testid="upload-icon"], ${box} [data-testid="upload-text"]`)) {
    const drawn = document.createRange();  // the text and icon drawn, not their box (Gradio's is 240 px tall, centred)
    drawn.selectNodeContents(part);
    const r = drawn.getBoundingClientRect();
    if (r.top < label.bottom - 1 && r.bottom > label.top + 1) problems.push(`the label covers ${part.dataset.testid}`);
    if (r.bottom > frame.bottom + 1 || r.top < frame.top - 1) problems.push(`${part.dataset.testid} is cut off`);
  }
  return problems;
}"""


def test_the_fid_zip_boxes_are_short_and_their_labels_cover_none_of_their_prompt(page):
    """At Gradio's 240 px the two empty boxes, one above the other on a phone, pushed Measure far down; at 150 px Set A's
    label, two lines on a phone, covered the upload icon (and its top on a desktop)."""
    for width in (390, 1280):
        with own_page(page, width=width, height=844) as view:
            view.get_by_role("tab", name="FID calculator").click()
            for box in ("#fid-upload-a", "#fid-upload-b"):
                expect(view.locator(f"{box} [data-testid='upload-icon']")).to_be_visible()
                assert view.locator(box).bounding_box()["height"] <= 200, (width, box)
                assert view.evaluate(UPLOAD_PROMPT_PROBLEMS, box) == [], (width, box)


def test_fid_tab_measures_cgan_samples_and_an_upload_selects_itself(page, artifacts_dir, tmp_path):
    page.get_by_role("tab", name="FID calculator").click()
    page.get_by_label("MNIST classifier (digits only)").check()  # the fast feature space: seconds, not minutes
    expect(page.locator("#fid-resize input")).to_be_disabled()  # the classifier reads 28×28: no resize to choose
    page.locator("#fid-count input").fill("200")
    page.locator("#fid-measure").click()
    result = page.locator("#fid-result")
    expect(result).to_contain_text("Fréchet distance", timeout=60_000)
    expect(result).to_contain_text("N = 200")
    expect(result).to_contain_text("precision")
    expect(page.locator("#fid-grid-b img")).to_be_visible()
    assert_above(page, "#fid-grid-b [data-testid=block-label]", "#fid-grid-b img")  # the label hid the first row
    page.screenshot(path=str(artifacts_dir / "browser-fid.png"), full_page=True)
    page.locator("#fid-upload-b input[type=file]").set_input_files(str(random_digits_zip(tmp_path / "b.zip", 3, seed=0)))
    expect(page.locator("#fid-set-b").get_by_label(UPLOAD)).to_be_checked()  # the zip is what gets measured now
    # no set is drawn now: the sample count is off, and looks it (it looked exactly like a live box)
    count = page.locator("#fid-count input")
    expect(count).to_be_disabled()
    assert float(count.evaluate("box => getComputedStyle(box).opacity")) <= 0.5
    page.locator("#fid-set-b").get_by_label(CGAN_SAMPLES).check()
    expect(count).to_be_enabled()
    assert float(count.evaluate("box => getComputedStyle(box).opacity")) == 1


def test_fid_stop_ends_a_long_measurement_and_measure_works_again(page, artifacts_dir):
    """On the page the earlier tests used: a page that has been used a while took 15–29 s to take the click on Stop
    while a hundred progress updates a second arrived. The page's part only: that the server's work really stops is
    tests/test_fid_client.py's (the page's cancel shows "Stopped." either way, whenever something was running)."""
    page.get_by_role("tab", name="FID calculator").click()
    page.get_by_label("MNIST classifier (digits only)").check()
    page.locator("#fid-set-b").get_by_label(CGAN_SAMPLES).check()
    page.locator("#fid-count input").fill("10000")
    page.locator("#fid-measure").click()
    progress = page.locator("#fid-result").get_by_text(re.compile("features of 10,000 cGAN samples"))
    expect(progress).to_be_visible(timeout=60_000)
    started = time.monotonic()
    page.locator("#fid-stop").click()
    assert time.monotonic() - started < STOP_CLICK_S
    result = page.locator("#fid-result")
    # The Stop handler's text, or the stopped measurement's own when its answer beats the page's cancel.
    expect(result).to_have_text(re.compile(r"^\s*Stopped(\. | after [\d,]+ of 10,000 images of 10,000 cGAN samples "
                                           r"\(seed 0\)\. )Press Measure to start again\.\s*$"))
    expect(progress).to_have_count(0)  # the progress bar is gone
    page.screenshot(path=str(artifacts_dir / "browser-fid-stopped.png"), full_page=True)
    assert page.locator(".toast-body").count() == 0, page.locator(".toast-body").all_inner_texts()  # not an error
    page.locator("#fid-count input").fill("200")
    page.locator("#fid-measure").click()
    expect(result).to_contain_text("N = 200", timeout=60_000)


def assert_above(page, upper: str, lower: str) -> None:
    """The first ``upper`` element ends where the first ``lower`` one starts, or above: it does not cover it."""
    top, bottom = (page.locator(selector).first.bounding_box() for selector in (upper, lower))
    assert top["y"] + top["height"] <= bottom["y"] + 1, (upper, top, lower, bottom)


def test_text2img_tab_example_caption_generates_pictures_with_readouts(page, artifacts_dir):
    page.get_by_role("tab", name="Text-to-image toy").click()
    pictures = "#t2i-gallery img"
    expect(page.locator(pictures).first).to_be_visible()
    before = page.locator(pictures).first.get_attribute("src")
    page.get_by_text("a small blue circle on the left (held out)").click()  # draws it: no Generate needed
    expect(page.locator("#t2i-caption textarea")).to_have_value("a small blue circle on the left")
    expect(page.locator(pictures).first).not_to_have_attribute("src", before)
    expect(page.locator("#t2i-summary")).to_contain_text("never appeared in training")
    # The readout sits under its picture: laid over it, two lines hid the lower thing of an "above" scene.
    assert_above(page, "#t2i-gallery .thumbnail-item img", "#t2i-gallery .caption-label")
    page.locator("#t2i-caption textarea").fill("a red dragon")
    page.locator("#t2i-generate").click()
    expect(page.get_by_text("Unknown word: 'dragon'").first).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "browser-text2img.png"), full_page=True)


def test_a_refused_caption_for_the_blend_is_noted_under_the_blend_it_kept(page):
    """The blend kept its pictures under a caption it refused, with only a passing warning to say they were not the new
    caption's: the line under the strip says so until a caption it takes is blended."""
    page.get_by_role("tab", name="Text-to-image toy").click()
    summary, caption_b = page.locator("#t2i-blend-summary"), page.locator("#t2i-caption-b input")
    expect(summary).to_contain_text("The scene reader finds caption A's scene in")
    strip = page.locator("#t2i-strip img").first.get_attribute("src")
    caption_b.fill("a large blue unicorn on the right")
    caption_b.press("Enter")
    expect(summary).to_contain_text("Not drawn: Caption B: Unknown word: 'unicorn'")
    assert page.locator("#t2i-strip img").first.get_attribute("src") == strip
    caption_b.fill("a large blue square on the right")
    caption_b.press("Enter")
    expect(summary).to_contain_text("The scene reader finds caption A's scene in")


# Words drawn over two lines in sight inside the elements ``scope`` selects, with the element that holds them. Gradio
# shortens a long file name with an ellipsis, and a path in the text must break somewhere on a phone: both are left out.
WORDS_SPLIT = """([scope, word_pattern]) => {
  const split = [];
  for (const root of document.querySelectorAll(scope)) {
    const text = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (text.nextNode()) {
      const node = text.currentNode, holder = node.parentElement;
      if (!holder.offsetParent || getComputedStyle(holder).textOverflow === 'ellipsis' || holder.closest('code')) continue;
      for (const word of node.data.matchAll(new RegExp(word_pattern, 'g'))) {
        const drawn = document.createRange();
        drawn.setStart(node, word.index);
        drawn.setEnd(node, word.index + word[0].length);
        if ([...drawn.getClientRects()].filter(line => line.width > 0).length > 1)
          split.push(`${holder.closest('[id]')?.id}: ${word[0]}`);
      }
    }
  }
  return split;
}"""
WORDS = r"[^\s\-–—/_.,;:()]+"  # a hyphenated word, a path or a number may break at its punctuation
WHOLE_NUMBERS = r"[^\s-]+"  # in a table of results, "31.25" is one word


def words_split(page, scope: str = "body", word_pattern: str = WORDS) -> list[str]:
    return page.evaluate(WORDS_SPLIT, [scope, word_pattern])


def test_the_explanations_tables_keep_numbers_whole_on_a_phone_and_never_widen_the_page(page):
    """Gradio lets a table cell break anywhere: on a 390-px phone the photo denoiser's results read "31." over "25" in
    every number column. Whole words make a table wider, so one too wide for the page scrolls inside itself."""
    for width in (390, 320):
        with own_page(page, width=width, height=844) as phone:
            phone.get_by_text("Photo denoiser", exact=True).click()
            expect(phone.locator("#denoise-photo-about table").first).to_be_visible()
            if width == 390:
                assert words_split(phone, "#denoise-photo-about table", WHOLE_NUMBERS) == []
            phone.get_by_text("Digit autoencoder", exact=True).click()
            expect(phone.locator("#denoise-about table").first).to_be_visible()
            if width == 390:
                assert words_split(phone, "#denoise-about table", WHOLE_NUMBERS) == []
            assert phone.evaluate("() => document.documentElement.scrollWidth") <= width


# Elements in sight that reach past the window's right edge (a table's cells scroll inside it)
PAST_THE_EDGE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.offsetParent && !e.closest('table') && e.getBoundingClientRect().right > innerWidth + 1)
  .map(e => `${e.closest('[id]')?.id}: ${(e.innerText || e.tagName).slice(0, 40)}`)"""


def test_no_tab_draws_a_word_over_two_lines_or_past_the_window_at_phone_or_tablet_width(page):
    """A row of fixed-width controls squeezed the text beside them instead of wrapping: at 768 px the VAE tab's point
    readout was 16 px wide, a letter or two a line; at 320 px the FID tab's checkboxes were 48 px, "KI" and "Pr", and
    a file path in the photo denoiser's text ran past the edge."""
    for width in (320, 390, 768, 1024):
        with own_page(page, width=width, height=900) as view:
            for title in ("FID calculator", "VAE latent walk", "cGAN digit picker", "Text-to-image toy", "Denoise"):
                view.get_by_role("tab", name=title).click()
                view.wait_for_timeout(500)
                assert words_split(view) == [], (width, title)
                assert view.evaluate(PAST_THE_EDGE) == [], (width, title)
            view.get_by_text("Photo denoiser", exact=True).click()  # the photo panel and its text
            expect(view.locator("#denoise-photo-about table").first).to_be_visible()
            assert words_split(view) == [], (width, "photo")
            assert view.evaluate(PAST_THE_EDGE) == [], (width, "photo")


def test_on_a_phone_every_tab_is_in_sight(page, artifacts_dir):
    """Gradio's default puts the tabs that do not fit in a "…" menu: on a phone, all but the first."""
    with own_page(page, width=390, height=844) as phone:
        for title in ("Denoise", "VAE latent walk", "cGAN digit picker", "Text-to-image toy", "FID calculator"):
            expect(phone.get_by_role("tab", name=title)).to_be_visible()
        phone.get_by_role("tab", name="VAE latent walk").click()
        expect(phone.get_by_role("tab", name="Random from the prior").first).to_be_visible()
        phone.screenshot(path=str(artifacts_dir / "browser-phone-vae.png"))
