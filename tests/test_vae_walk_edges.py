"""VAE tab plumbing the main tests leave open: the walk follows the path chosen, a new endpoint A (or B) keeps the walk
running from A to B, and the summary lists the classifier's readings without repeats."""
import numpy as np
import pytest
import torch

from demos import vae as demo
from generative.latent import lerp, slerp
from generative.models import VAE, DigitClassifier


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return VAE(latent_dim=3, width=4).eval(), DigitClassifier(width=4, feature_dim=8).eval()


def test_the_walk_follows_the_path_chosen(tiny):
    """"great circle (slerp)" must walk the great circle: its norm moves evenly from A's to B's, where the straight
    line dips towards the origin."""
    model, classifier = tiny
    a, b = demo.prior_sample(model, 0), demo.prior_sample(model, 3)
    za, zb = torch.from_numpy(a.mean), torch.from_numpy(b.mean)
    assert not torch.allclose(slerp(za, zb, 6), lerp(za, zb, 6), atol=1e-3)  # the two paths differ for these codes
    for path, expected in (("slerp", slerp(za, zb, 6)), ("lerp", lerp(za, zb, 6))):
        result = demo.walk(model, classifier, a, b, steps=6, path=path)
        torch.testing.assert_close(result.latents, expected, atol=1e-6, rtol=0)
        np.testing.assert_allclose(result.frames, demo.decode(model, expected), atol=1e-6)


def test_a_new_endpoint_keeps_the_walk_running_from_a_to_b(tiny):
    """Setting A (``first``) or B redoes the walk with the new endpoint in its own place: the strip still starts at A."""
    model, _ = tiny
    tab = demo.VAETab.__new__(demo.VAETab)  # the handler alone: the walk it asks for is recorded, not run
    asked = []
    tab.walk = lambda a, b, *settings: asked.append((a, b)) or ("walk",)
    new, other = demo.prior_sample(model, 1), demo.prior_sample(model, 2)
    out_a = tab.set_endpoint(new, other, 5, "lerp", "mean", 0, first=True)
    out_b = tab.set_endpoint(new, other, 5, "lerp", "mean", 0, first=False)
    assert asked[0][0] is new and asked[0][1] is other  # new A: from it to the B on show
    assert asked[1][0] is other and asked[1][1] is new  # new B: from the A on show to it
    assert out_a[0] is new and out_b[0] is new and out_a[-1] == "walk"


def test_the_summary_lists_each_reading_once_per_run_of_frames():
    """"4 → 9 → 7", not one arrow per frame: the summary says where the label changes, and how often."""
    result = demo.Walk(latents=torch.zeros(5, 3), frames=np.zeros((5, 28, 28), np.float32),
                       digits=np.array([4, 4, 9, 9, 7]), confidences=np.array([0.9, 0.8, 0.7, 0.6, 0.5]))
    summary = demo.walk_summary(result)
    assert "**Classifier along the path:** 4 → 9 → 7 ·" in summary
    assert "**label changes:** 2 " in summary and "**mean confidence:** 70.0%" in summary
