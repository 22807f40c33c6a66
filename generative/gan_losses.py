"""The three GAN objectives the cGAN script offers, on the discriminator's raw scores (logits).

- ``non-saturating`` (Goodfellow et al. 2014, the default): D minimises the binary cross-entropy of
  real vs fake; G minimises −log D(G(z)) rather than log(1 − D(G(z))), whose gradient vanishes exactly
  when G is losing, early in training.
- ``hinge`` (Lim & Ye 2017; Miyato et al. 2018): D is penalised only inside a margin.
- ``wgan-gp`` (Gulrajani et al. 2017): D is a critic whose score gap approximates the Wasserstein-1 distance
  (exactly, for an optimal 1-Lipschitz critic), pushed towards 1-Lipschitz by a soft penalty on ‖∇D‖ ≠ 1 at random
  interpolates of real and fake images.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("non-saturating", "hinge", "wgan-gp")


def spectral_norm_in_d(kind: str) -> bool:
    """Whether D is spectrally normalised for this loss: not for WGAN-GP, whose gradient penalty bounds D's slope
    itself (its paper's critic has no normalisation that would fight the penalty)."""
    return kind != "wgan-gp"


def spectral_norm_words(kind: str) -> str:
    """The clause the cGAN tab and model card add to D's description for this loss ("" where D has no spectral norm)."""
    if not spectral_norm_in_d(kind):
        return ""
    return "; every layer of D is spectrally normalised (Miyato et al. 2018), which bounds how fast its score can change"


def discriminator_loss(kind: str, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """What D minimises, given its scores on real and on generated images (without WGAN-GP's penalty)."""
    if kind == "non-saturating":  # −log σ(D(x)) − log(1 − σ(D(G(z))))
        return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()
    if kind == "hinge":
        return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()
    if kind == "wgan-gp":
        return fake_scores.mean() - real_scores.mean()
    raise ValueError(f"loss must be one of {LOSSES}, got {kind!r}")


def generator_loss(kind: str, fake_scores: torch.Tensor) -> torch.Tensor:
    """What G minimises, given D's scores on its images."""
    if kind == "non-saturating":  # −log σ(D(G(z)))
        return F.softplus(-fake_scores).mean()
    if kind in ("hinge", "wgan-gp"):
        return -fake_scores.mean()
    raise ValueError(f"loss must be one of {LOSSES}, got {kind!r}")


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """E[(‖∇_x̂ D(x̂, y)‖₂ − 1)²] at x̂ = ε·real + (1 − ε)·fake, ε ~ U(0, 1) per image."""
    epsilon = torch.rand(len(real), 1, 1, 1, generator=generator, device=real.device)
    mixed = (epsilon * real + (1 - epsilon) * fake.detach()).requires_grad_(True)
    gradients, = torch.autograd.grad(critic(mixed, labels).sum(), mixed, create_graph=True)
    return (gradients.flatten(1).norm(dim=1) - 1).pow(2).mean()


def r1_penalty(real_scores: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E‖∇_x D(x)‖² on real images, from scores of ``real`` (which requires grad).

    Penalising D's slope on the data keeps it from sharpening without limit around real images, the runaway
    that otherwise lets it overpower G late in training; it needs no fake images and adds one double backward.
    """
    gradients, = torch.autograd.grad(real_scores.sum(), real, create_graph=True)
    return gradients.flatten(1).pow(2).sum(1).mean()


# The toy world's D and G work on pixels in [0, 1]; pix2pix, Mescheder et al. and most GAN code on [−1, 1], where a
# difference of pixels is twice as large and a gradient with respect to them half. So an L1 weight λ here weighs as
# λ/2 there and an R1 γ here as 4γ: a student comparing with a paper's value must know which scale it is on.
def r1_gamma_words(gamma: float) -> str:
    return f"γ = {gamma:g} on pixels in [0, 1], as γ = {4 * gamma:g} on the [−1, 1] scale of most GAN code"


def l1_weight_words(weight: float) -> str:
    return f"λ = {weight:g} on pixels in [0, 1], as λ = {weight / 2:g} on pix2pix's [−1, 1] scale"


def matching_aware_discriminator_loss(kind: str, real_matching: torch.Tensor, real_mismatched: torch.Tensor,
                                      fake_matching: torch.Tensor) -> torch.Tensor:
    """GAN-CLS (Reed et al. 2016): D's loss over three kinds of (image, caption) pair.

    A real image with its own caption is real; a real image with another caption and a generated image with
    the caption it was drawn from are both fake, each weighted ½ (they share the fake term). The mismatched pairs
    are what teach D to check the caption, not only the image.
    """
    return discriminator_loss(kind, real_matching, torch.cat([real_mismatched, fake_matching]))
