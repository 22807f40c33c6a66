"""Variational autoencoders for 28×28 digits, with a Bernoulli likelihood, and their losses.

Two architectures behind one class, so one loader and one training script serve both: the
convolutional VAE the gallery ships, and the 784-400-z MLP of the well-known PyTorch example,
trained as the baseline row of the likelihood benchmark.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from generative.models.dae import REPO_URL

ARCHITECTURES = ("conv", "mlp")


class VAE(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="generative-gallery",
    tags=["variational-autoencoder", "mnist"],
    license="mit",
    repo_url=REPO_URL,
):
    """q(z|x) = N(μ(x), diag σ²(x)); p(z) = N(0, I); p(x|z) = Bernoulli(sigmoid(decoder(z))) per pixel.

    ``hidden`` units in the fully connected layer on each side of the code, in both architectures; ``width``
    channels in the conv architecture's first layer (the MLP has no convolutions and does not use it).
    """

    def __init__(self, latent_dim: int = 16, architecture: str = "conv", width: int = 32, hidden: int = 256):
        super().__init__()
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
        self.latent_dim, self.architecture, self.width, self.hidden = latent_dim, architecture, width, hidden
        if architecture == "mlp":
            self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU())
            self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, 784),
                                         nn.Unflatten(1, (1, 28, 28)))
        else:
            w = width
            self.encoder = nn.Sequential(
                nn.Conv2d(1, w, 4, stride=2, padding=1), nn.SiLU(),          # 14×14
                nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.SiLU(),      # 7×7
                nn.Flatten(), nn.Linear(2 * w * 7 * 7, hidden), nn.SiLU(),
            )
            self.decoder = nn.Sequential(
                nn.Linear(latent_dim, hidden), nn.SiLU(), nn.Linear(hidden, 2 * w * 7 * 7), nn.SiLU(),
                nn.Unflatten(1, (2 * w, 7, 7)),
                nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.SiLU(),  # 14×14
                nn.ConvTranspose2d(w, 1, 4, stride=2, padding=1),                 # 28×28 logits
            )
        self.to_mean = nn.Linear(hidden, latent_dim)
        self.to_log_variance = nn.Linear(hidden, latent_dim)

    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, 1, 28, 28) in [0, 1] → μ and log σ² of q(z|x), each (N, latent_dim)."""
        h = self.encoder(images)
        return self.to_mean(h), self.to_log_variance(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(N, latent_dim) → (N, 1, 28, 28) Bernoulli logits, what the loss takes; ``pixel_means`` gives the images."""
        return self.decoder(z)

    def pixel_means(self, z: torch.Tensor) -> torch.Tensor:
        """(N, latent_dim) → (N, 1, 28, 28) images in [0, 1]: the Bernoulli means of p(x|z), shown as the decoded digits."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, images: torch.Tensor, generator: torch.Generator | None = None):
        """Logits of a reconstruction from one posterior sample, and the posterior's μ and log σ²."""
        mean, log_variance = self.encode(images)
        return self.decode(reparameterize(mean, log_variance, generator)), mean, log_variance


def reparameterize(mean: torch.Tensor, log_variance: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = μ + σ ⊙ ε with ε ~ N(0, I): a sample whose gradient flows to μ and σ."""
    noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + torch.exp(0.5 * log_variance) * noise


def kl_to_standard_normal(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) per row, in closed form: ½ Σ (μ² + σ² − 1 − log σ²)."""
    return 0.5 * (mean.pow(2) + log_variance.exp() - 1 - log_variance).sum(dim=1)


def bernoulli_nll(logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """−log p(x|z) per image in nats, summed over pixels (binary cross-entropy; grey levels allowed)."""
    return F.binary_cross_entropy_with_logits(logits, images, reduction="none").flatten(1).sum(dim=1)


def negative_elbo(model: VAE, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """−ELBO per image in nats (one posterior sample): reconstruction term + KL to the prior."""
    logits, mean, log_variance = model(images, generator)
    return bernoulli_nll(logits, images) + kl_to_standard_normal(mean, log_variance)


def gaussian_log_density(z: torch.Tensor, mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """log N(z; μ, diag σ²), summed over the last dimension."""
    return -0.5 * (math.log(2 * math.pi) + log_variance + (z - mean).pow(2) / log_variance.exp()).sum(dim=-1)


@torch.no_grad()
def importance_weighted_nll(model: VAE, images: torch.Tensor, samples: int, generator: torch.Generator | None = None,
                            chunk: int = 500) -> torch.Tensor:
    """−log p(x) per image, estimated with ``samples`` importance samples from q(z|x) (Burda et al. 2016).

    log p(x) ≈ logsumexp_k [log p(x|z_k) + log p(z_k) − log q(z_k|x)] − log K; the estimate is a
    lower bound on log p(x) in expectation (Jensen) that tightens as K grows, so the NLL it gives is an upper
    bound in expectation: one draw can fall on either side.
    """
    mean, log_variance = model.encode(images)
    log_weights = []
    for start in range(0, samples, chunk):
        k = min(chunk, samples - start)
        z = reparameterize(mean.unsqueeze(0).expand(k, *mean.shape), log_variance.unsqueeze(0).expand(k, *mean.shape), generator)
        logits = model.decode(z.flatten(0, 1)).unflatten(0, (k, len(images)))
        log_likelihood = -bernoulli_nll(logits.flatten(0, 1), images.repeat(k, 1, 1, 1)).view(k, len(images))
        log_prior = gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z))
        log_posterior = gaussian_log_density(z, mean, log_variance)
        log_weights.append(log_likelihood + log_prior - log_posterior)
    return -(torch.logsumexp(torch.cat(log_weights), dim=0) - math.log(samples))
