"""VAE maths on small tensors: reparameterisation, the closed-form KL, the ELBO, the IWAE bound, lerp/slerp."""
import math

import pytest
import torch
import torch.nn.functional as F

from generative.hub import load_model
from generative.latent import lerp, slerp
from generative.models import VAE
from generative.models.vae import (
    bernoulli_nll,
    gaussian_log_density,
    importance_weighted_nll,
    kl_to_standard_normal,
    negative_elbo,
    reparameterize,
)


@pytest.mark.parametrize("architecture", ["conv", "mlp"])
def test_both_architectures_encode_decode_and_survive_a_hub_round_trip(architecture, tmp_path):
    torch.manual_seed(0)
    model = VAE(latent_dim=3, architecture=architecture, width=4, hidden=16).eval()
    images = torch.rand(2, 1, 28, 28)
    mean, log_variance = model.encode(images)
    assert mean.shape == log_variance.shape == (2, 3)
    assert model.decode(mean).shape == (2, 1, 28, 28)
    model.save_pretrained(tmp_path)
    loaded = load_model(VAE, str(tmp_path), train_command="python training/train_vae.py")
    assert loaded.architecture == architecture
    assert torch.equal(loaded.decode(mean), model.decode(mean))


@pytest.mark.parametrize("architecture", ["conv", "mlp"])
def test_hidden_is_the_width_of_the_fully_connected_layers_on_each_side_of_the_code(architecture):
    """The conv VAE's layer was 256 units whatever ``hidden`` said, so its card and config.json showed hidden=400 for a
    network with no 400-unit layer."""
    model = VAE(latent_dim=3, architecture=architecture, width=4, hidden=24)
    widths = {layer.out_features for layer in model.encoder if isinstance(layer, torch.nn.Linear)}
    assert widths == {24} and model.to_mean.in_features == model.to_log_variance.in_features == 24
    assert model.decoder[0].out_features == 24


def test_an_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="architecture"):
        VAE(architecture="transformer")


def test_reparameterised_samples_have_the_posterior_moments_and_carry_gradients():
    mean = torch.tensor([[1.0, -2.0]], requires_grad=True)
    log_variance = torch.tensor([[0.0, math.log(0.25)]], requires_grad=True)
    z = reparameterize(mean.expand(200_000, 2), log_variance.expand(200_000, 2), torch.Generator().manual_seed(0))
    assert torch.allclose(z.mean(0), torch.tensor([1.0, -2.0]), atol=0.01)
    assert torch.allclose(z.std(0), torch.tensor([1.0, 0.5]), atol=0.01)
    z.sum().backward()
    assert mean.grad is not None and log_variance.grad is not None
    again = reparameterize(mean.detach(), log_variance.detach(), torch.Generator().manual_seed(1))
    assert torch.equal(again, reparameterize(mean.detach(), log_variance.detach(), torch.Generator().manual_seed(1)))


def test_closed_form_kl_matches_a_monte_carlo_estimate():
    mean, log_variance = torch.tensor([[0.5, -1.0, 2.0]]), torch.tensor([[0.3, -1.2, 0.0]])
    z = reparameterize(mean.expand(400_000, 3), log_variance.expand(400_000, 3), torch.Generator().manual_seed(0))
    monte_carlo = (gaussian_log_density(z, mean, log_variance) - gaussian_log_density(z, torch.zeros(3), torch.zeros(3))).mean()
    assert kl_to_standard_normal(mean, log_variance).item() == pytest.approx(monte_carlo.item(), rel=0.01)
    assert kl_to_standard_normal(torch.zeros(1, 4), torch.zeros(1, 4)).item() == 0.0  # q = p


def test_bernoulli_nll_is_summed_binary_cross_entropy_per_image():
    logits, images = torch.randn(3, 1, 28, 28), torch.rand(3, 1, 28, 28)
    expected = torch.stack([F.binary_cross_entropy(torch.sigmoid(l), x, reduction="sum") for l, x in zip(logits, images)])
    assert torch.allclose(bernoulli_nll(logits, images), expected, rtol=1e-4)


def test_importance_weighting_tightens_the_bound_and_k1_is_the_elbo_on_average():
    torch.manual_seed(0)
    model = VAE(latent_dim=2, architecture="mlp", hidden=32).eval()
    images = (torch.rand(4, 1, 28, 28) > 0.7).float()
    with torch.no_grad():
        elbo_nll = torch.stack([negative_elbo(model, images, torch.Generator().manual_seed(s)) for s in range(400)]).mean(0)
    k1 = torch.stack([importance_weighted_nll(model, images, 1, torch.Generator().manual_seed(s)) for s in range(400)]).mean(0)
    k256 = importance_weighted_nll(model, images, 256, torch.Generator().manual_seed(0), chunk=100)
    assert torch.allclose(k1, elbo_nll, rtol=0.01)
    assert (k256 < elbo_nll).all()  # the IWAE bound on −log p(x) is below the −ELBO


def test_with_the_prior_as_posterior_and_a_decoder_blind_to_z_the_estimate_is_exact():
    """q(z|x) = p(z) and p(x|z) = p(x) make every importance weight p(x): the estimate is −log p(x) whatever K and
    the chunking, i.e. the summed BCE of the decoder's constant logits, per image, in the images' own order."""
    torch.manual_seed(0)
    model = VAE(latent_dim=4, architecture="mlp", hidden=16).eval()
    with torch.no_grad():
        for layer in (model.to_mean, model.to_log_variance):  # q(z|x) = N(0, I), the prior
            layer.weight.zero_()
            layer.bias.zero_()
        model.decoder[0].weight.zero_()  # the logits no longer depend on z
    images = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1)).round()
    images[1] = 0  # three different images, so a mix-up of which image goes with which sample shows
    logits = model.decode(torch.zeros(3, 4))
    with torch.no_grad():
        estimate = importance_weighted_nll(model, images, samples=7, generator=torch.Generator().manual_seed(2), chunk=3)
    torch.testing.assert_close(estimate, bernoulli_nll(logits, images).detach(), atol=1e-4, rtol=0)


def test_with_a_decoder_blind_to_z_the_estimate_reweights_each_draw_by_prior_over_posterior():
    """q(z|x) ≠ p(z) now, so the weights p(z_k) / q(z_k|x) differ from 1 and from their inverse: the estimate must be
    −log p(x) − (logsumexp_k [log p(z_k) − log q(z_k|x)] − log K), written out here in float64 with the same draws."""
    torch.manual_seed(0)
    model = VAE(latent_dim=4, architecture="mlp", hidden=16).eval()
    with torch.no_grad():
        for layer, bias in ((model.to_mean, 1.5), (model.to_log_variance, -1.0)):  # q(z|x) = N(1.5, e⁻¹ I)
            layer.weight.zero_()
            layer.bias.fill_(bias)
        model.decoder[0].weight.zero_()
    images = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1)).round()
    samples = 7
    with torch.no_grad():
        estimate = importance_weighted_nll(model, images, samples, torch.Generator().manual_seed(2))
        nll_given_z = bernoulli_nll(model.decode(torch.zeros(3, 4)), images).double()
    z = 1.5 + math.exp(-0.5) * torch.randn(samples, 3, 4, generator=torch.Generator().manual_seed(2)).double()
    prior = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    posterior = torch.distributions.Normal(1.5, math.exp(-0.5)).log_prob(z).sum(-1)
    expected = nll_given_z - (torch.logsumexp(prior - posterior, dim=0) - math.log(samples))
    torch.testing.assert_close(estimate.double(), expected, atol=1e-3, rtol=0)
    assert (expected - nll_given_z).abs().min() > 0.5  # the reweighting matters at this tolerance


def test_slerp_between_opposite_codes_falls_back_to_the_straight_line():
    """a and −a span no plane, so there is no great circle: the path is the line through 0 (worked by hand)."""
    a = torch.tensor([3.0, -1.0, 2.0])
    torch.testing.assert_close(slerp(a, -a, 5), torch.tensor([1.0, 0.5, 0.0, -0.5, -1.0])[:, None] * a)


def test_lerp_and_slerp_start_and_end_at_the_endpoints():
    a, b = torch.tensor([3.0, 0.0, 0.0]), torch.tensor([0.0, 2.0, 1.0])
    for path in (lerp(a, b, 7), slerp(a, b, 7)):
        assert path.shape == (7, 3)
        assert torch.allclose(path[0], a, atol=1e-6) and torch.allclose(path[-1], b, atol=1e-6)


def test_slerp_keeps_the_norm_where_lerp_cuts_the_corner():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    assert torch.allclose(slerp(a, b, 5).norm(dim=1), torch.ones(5))
    angles = torch.arange(5) * math.pi / 8  # even steps in angle, which a normalised lerp is not (18.4° at the 2nd)
    torch.testing.assert_close(slerp(a, b, 5), torch.stack([angles.cos(), angles.sin()], dim=1))
    # unequal norms: the direction still turns evenly while the norm goes linearly from 2 to 4
    torch.testing.assert_close(slerp(2 * a, 4 * b, 5), torch.linspace(2, 4, 5)[:, None] * slerp(a, b, 5))
    assert lerp(a, b, 3)[1].norm().item() == pytest.approx(math.sqrt(0.5))
    assert torch.allclose(slerp(a, 2 * a, 3), lerp(a, 2 * a, 3))  # parallel vectors: the line itself


def test_negative_elbo_is_the_summed_bce_of_the_decoded_sample_plus_the_full_kl():
    """Rules out a −ELBO without the KL term, or with the KL weighted (β = ½): the posterior is pushed far from
    N(0, I) (μ ≈ 3 in every one of 8 dimensions), so the KL is about 8 % of the total, and the reference is written
    out here: −Σ [x log σ(ℓ) + (1 − x) log(1 − σ(ℓ))] of the logits ℓ decoded from z = μ + σ·ε, plus
    ½ Σ (μ² + σ² − 1 − log σ²)."""
    torch.manual_seed(0)
    model = VAE(latent_dim=8, architecture="mlp", hidden=32).eval()
    with torch.no_grad():
        model.to_mean.bias.fill_(3.0)
        model.to_log_variance.bias.fill_(-1.0)
    images = torch.rand(3, 1, 28, 28, dtype=torch.float64)
    model = model.double()
    with torch.no_grad():
        got = negative_elbo(model, images, torch.Generator().manual_seed(5))
        mean, log_variance = model.encode(images)
        epsilon = torch.randn(mean.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
        pixels = torch.sigmoid(model.decode(mean + torch.exp(log_variance / 2) * epsilon)).flatten(1)
        x = images.flatten(1)
        reconstruction = -(x * torch.log(pixels) + (1 - x) * torch.log(1 - pixels)).sum(dim=1)
        kl = 0.5 * (mean ** 2 + log_variance.exp() - 1 - log_variance).sum(dim=1)
    assert (kl > 0.05 * reconstruction).all()  # large enough that leaving it out, or halving it, shows
    torch.testing.assert_close(got, reconstruction + kl, rtol=1e-6, atol=1e-6)
