"""The conditional GAN's parts on small tensors: shapes, labels, the three losses, the gradient penalty, the EMA."""
import math

import numpy as np
import pytest
import torch

from generative.gan_losses import LOSSES, discriminator_loss, generator_loss, gradient_penalty
from generative.hub import load_model
from generative.metrics.frechet import GaussianStats, frechet_distance
from generative.models import ConditionalGAN, Discriminator, Generator
from generative.models.cgan import ExponentialMovingAverage


def test_generator_and_discriminator_shapes_and_label_handling(tmp_path):
    torch.manual_seed(0)
    g, d = Generator(noise_dim=8, width=4).eval(), Discriminator(width=4)
    noise, labels = g.sample_noise(5), torch.tensor([0, 3, 9, 3, 1])
    images = g(noise, labels)
    assert images.shape == (5, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    assert d(images, labels).shape == (5,)
    d.eval()  # spectral norm updates its power iteration on every training-mode call
    scores = {label: d(images, torch.full((5,), label)) for label in (0, 7)}  # the projection reads the label
    assert (scores[0] != scores[7]).all()
    other = g(noise, torch.tensor([1, 3, 8, 2, 1]))  # same noise, other labels: only those images change
    changed = (other - images).flatten(1).abs().amax(1) > 1e-6
    assert changed.tolist() == [True, False, True, True, False]
    with pytest.raises(IndexError):
        g(noise[:1], torch.tensor([10]))
    g.save_pretrained(tmp_path)
    loaded = load_model(Generator, str(tmp_path), train_command="python training/train_cgan.py")
    assert torch.equal(loaded(noise, labels), images)


def test_truncation_scales_the_noise_and_a_seed_repeats_it():
    g = Generator(noise_dim=16, width=4)
    full = g.sample_noise(1000, torch.Generator().manual_seed(1))
    half = g.sample_noise(1000, torch.Generator().manual_seed(1), scale=0.5)
    assert torch.allclose(half, 0.5 * full) and abs(full.std().item() - 1) < 0.05


def test_losses_have_the_right_signs_and_optima():
    confident, fooled = (torch.tensor([10.0, 12.0]), torch.tensor([-10.0, -12.0])), (torch.tensor([-5.0]), torch.tensor([5.0]))
    assert discriminator_loss("non-saturating", *confident) < 1e-4 < 5 < discriminator_loss("non-saturating", *fooled)
    assert discriminator_loss("hinge", torch.tensor([1.0, 2.0]), torch.tensor([-1.0, -3.0])) == 0  # outside the margin
    assert discriminator_loss("hinge", torch.tensor([0.5]), torch.tensor([0.5])) == pytest.approx(0.5 + 1.5)
    assert discriminator_loss("wgan-gp", torch.tensor([3.0, 1.0]), torch.tensor([0.0, -2.0])) == pytest.approx(-1 - 2)
    # G: non-saturating is −log σ(s), so its gradient stays large where D rejects the fakes
    score = torch.tensor([-8.0], requires_grad=True)
    generator_loss("non-saturating", score).backward()
    assert score.grad.item() == pytest.approx(-1.0, abs=1e-3)
    assert generator_loss("non-saturating", torch.tensor([0.0])).item() == pytest.approx(math.log(2))
    for kind in ("hinge", "wgan-gp"):
        assert generator_loss(kind, torch.tensor([1.0, 3.0])).item() == -2.0
    with pytest.raises(ValueError, match="loss must be one of"):
        discriminator_loss("least-squares", *confident)
    assert set(LOSSES) == {"non-saturating", "hinge", "wgan-gp"}


def test_gradient_penalty_of_a_linear_critic_is_the_squared_norm_gap():
    """D(x) = ⟨w, x⟩ has gradient w everywhere, so the penalty is (‖w‖ − 1)² at every interpolate."""
    w = torch.zeros(1, 1, 28, 28)
    w[0, 0, 0, :3] = torch.tensor([2.0, 2.0, 1.0])  # ‖w‖ = 3
    critic = lambda x, y: (x * w).flatten(1).sum(1)  # noqa: E731
    real, fake = torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28)
    assert gradient_penalty(critic, real, fake, torch.zeros(4, dtype=torch.long)).item() == pytest.approx(4.0)
    assert gradient_penalty(lambda x, y: (x * w / 3).flatten(1).sum(1), real, fake, None).item() == pytest.approx(0.0, abs=1e-10)


def test_the_gradient_penalty_trains_the_critic():
    """The penalty is a function of D's gradient, so backward through it must reach D's weights (the gradient is taken
    with create_graph=True): for D(x) = ⟨w, x⟩, (‖w‖ − 1)² has gradient 2(‖w‖ − 1)·w/‖w‖, here 4w/3 at ‖w‖ = 3."""
    w = torch.zeros(1, 1, 28, 28)
    w[0, 0, 0, :3] = torch.tensor([2.0, 2.0, 1.0])  # ‖w‖ = 3
    weight = torch.nn.Parameter(w.clone())
    critic = lambda x, y: (x * weight).flatten(1).sum(1)  # noqa: E731
    gradient_penalty(critic, torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28), None).backward()
    assert torch.allclose(weight.grad, 4 * w / 3, atol=1e-5)


def test_gradient_penalty_is_taken_at_the_random_point_between_real_and_fake():
    """A linear critic's gradient is the same everywhere, so the tests above cannot tell where the penalty is taken.
    D(x) = ½‖x‖² has gradient x̂ itself: the penalty must be the mean of (‖ε·real + (1 − ε)·fake‖ − 1)², with ε
    drawn per image from the same generator, not that of the real images, the fakes, or their midpoint."""
    real, fake = torch.rand(6, 1, 28, 28) / 10, torch.rand(6, 1, 28, 28) / 10
    half_square = lambda x, y: 0.5 * x.pow(2).flatten(1).sum(1)  # noqa: E731
    penalty = gradient_penalty(half_square, real, fake, None, generator=torch.Generator().manual_seed(3))
    epsilon = torch.rand(6, 1, 1, 1, generator=torch.Generator().manual_seed(3))
    interpolates = epsilon * real + (1 - epsilon) * fake
    expected = (interpolates.flatten(1).norm(dim=1) - 1).pow(2).mean()
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-5)
    for wrong_point in (real, fake, (real + fake) / 2):
        assert (wrong_point.flatten(1).norm(dim=1) - 1).pow(2).mean().item() != pytest.approx(expected.item(), rel=1e-3)


def test_the_moving_average_warms_up_then_trails_and_resumes_from_its_state():
    live = torch.nn.Linear(1, 1, bias=False)
    ema = ExponentialMovingAverage(live)
    with torch.no_grad():
        live.weight.fill_(1.0)
        ema.model.weight.fill_(0.0)
    ema.update(live, decay=0.999)  # first update: d = 1/10, so 90 % of the way at once
    assert ema.model.weight.item() == pytest.approx(0.9)
    copy = ExponentialMovingAverage(live)
    copy.load_state_dict(ema.state_dict())
    assert copy.updates.item() == 1 and copy.model.weight.item() == pytest.approx(0.9)
    copy.update(live, decay=0.999)  # second update: d = 2/11
    assert copy.model.weight.item() == pytest.approx(2 / 11 * 0.9 + 9 / 11 * 1.0)
    copy.updates.fill_(10_000)  # late in training the decay itself caps d
    copy.update(live, decay=0.5)
    assert copy.model.weight.item() == pytest.approx(0.5 * (2 / 11 * 0.9 + 9 / 11) + 0.5)
    gan = ConditionalGAN(noise_dim=4, width=4)
    assert not any(p.requires_grad for p in gan.generator_ema.parameters())


def test_the_moving_average_copies_batch_norm_statistics_instead_of_averaging_them():
    """The published generator is the average, and it runs in eval mode on its running statistics: they must be the
    live model's own (copied each update), else it normalises with the statistics of the random initial network."""
    live = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3))
    ema = ExponentialMovingAverage(live)
    live.train()(torch.randn(16, 3, generator=torch.Generator().manual_seed(0)) * 4 + 2)  # moves the running stats
    ema.update(live, decay=0.999)
    batch_norm, averaged = live[1], ema.model[1]
    assert not torch.allclose(batch_norm.running_mean, torch.zeros(3))
    assert torch.equal(averaged.running_mean, batch_norm.running_mean)
    assert torch.equal(averaged.running_var, batch_norm.running_var)
    assert torch.equal(averaged.num_batches_tracked, batch_norm.num_batches_tracked)


def test_frechet_distance_of_known_gaussians():
    rng = np.random.default_rng(0)
    a = GaussianStats(np.zeros(3), np.eye(3), 10)
    b = GaussianStats(np.array([1.0, 2.0, 2.0]), 4 * np.eye(3), 10)
    # ‖μ‖² = 9; Tr(I + 4I − 2·2I) = 3
    assert frechet_distance(a, b) == pytest.approx(12.0)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    features = rng.normal(size=(5000, 4))
    assert frechet_distance(GaussianStats.of(features), GaussianStats.of(features + 1)) == pytest.approx(4.0, rel=1e-6)
    singular = GaussianStats(np.zeros(3), np.diag([1.0, 0.0, 0.0]), 2)  # rank-deficient: still the right answer
    assert frechet_distance(singular, singular) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="feature dimensions differ"):
        frechet_distance(a, GaussianStats(np.zeros(2), np.eye(2), 10))
    with pytest.raises(ValueError, match="at least 2"):
        GaussianStats.of(np.zeros((1, 3)))


def test_gradient_penalty_is_two_sided_and_penalises_a_slope_below_one():
    """Rules out a one-sided penalty, max(0, ‖∇‖ − 1)²: WGAN-GP (Gulrajani et al. 2017) pulls the norm towards 1 from
    both sides. A linear critic of slope ‖w‖ = ½ has penalty (½ − 1)² = ¼, not 0; images with slopes ½ and 2 average
    (¼ + 1) / 2."""
    w = torch.zeros(1, 1, 28, 28)
    w[0, 0, 5, :2] = torch.tensor([0.3, 0.4])  # ‖w‖ = ½
    real, fake = torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28)
    gentle = lambda x, y: (x * w).flatten(1).sum(1)  # noqa: E731
    assert gradient_penalty(gentle, real, fake, None).item() == pytest.approx(0.25)
    slopes = torch.tensor([1.0, 4.0, 1.0, 4.0]).view(4, 1, 1, 1)  # per-image gradient w·s: norms ½, 2, ½, 2
    mixed = lambda x, y: (x * w * slopes).flatten(1).sum(1)  # noqa: E731
    assert gradient_penalty(mixed, real, fake, None).item() == pytest.approx((0.25 + 1.0) / 2)
