"""A conditional DCGAN for 28×28 digits: the generator draws the digit it is asked for.

Both networks see the label through a learned embedding. The generator concatenates it with the
noise before its first layer; the discriminator is a *projection* discriminator (Miyato & Koyama
2018): its score is ψ(h) + ⟨embed(y), h⟩ for image features h, so it judges "is this a real digit
*of class y*", which is what makes the generator respect the label.
"""
from __future__ import annotations

import copy

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from generative.models.dae import REPO_URL

NUM_CLASSES = 10


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation: weights ~ N(0, 0.02) (Radford et al. 2016), batch-norm scales ~ N(1, 0.02) and biases
    0 (not in the paper: its reference code and the PyTorch DCGAN example)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if getattr(module, "bias", None) is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) and module.affine:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="generative-gallery",
    tags=["gan", "conditional-gan", "mnist"],
    license="mit",
    repo_url=REPO_URL,
):
    """(noise z ~ N(0, I), label y) → a 28×28 digit in [0, 1]: transposed convolutions up, batch norm, ReLU."""

    def __init__(self, noise_dim: int = 100, width: int = 32, embed_dim: int = 32):
        super().__init__()
        self.noise_dim, self.width, self.embed_dim = noise_dim, width, embed_dim
        self.embed = nn.Embedding(NUM_CLASSES, embed_dim)
        self.project = nn.Sequential(nn.Linear(noise_dim + embed_dim, 2 * width * 7 * 7, bias=False),
                                     nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU())
        self.net = nn.Sequential(
            nn.Unflatten(1, (2 * width, 7, 7)),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),  # 14×14
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),  # 28×28
            nn.Sigmoid(),
        )

        self.apply(dcgan_init)

    def forward(self, noise: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.net(self.project(torch.cat([noise, self.embed(labels)], dim=1)))

    def sample_noise(self, n: int, generator: torch.Generator | None = None, scale: float = 1.0,
                     device: torch.device | str = "cpu") -> torch.Tensor:
        """``n`` noise vectors; ``scale`` < 1 shrinks them towards 0 (a lower temperature: less variety, cleaner digits)."""
        return scale * torch.randn(n, self.noise_dim, generator=generator, device=device)


class Discriminator(nn.Module):
    """(28×28 digit in [0, 1], label) → a real-vs-fake score (a logit): strided convolutions, LeakyReLU, projection.

    With ``spectral_norm`` every layer's weight is divided by its largest singular value (Miyato et al.
    2018), which keeps D from overpowering G in the first hundred steps; WGAN-GP turns it off, since
    its gradient penalty already bounds D's slope.
    """

    def __init__(self, width: int = 32, spectral_norm: bool = True):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),              # 14×14
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),      # 7×7
            nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1), nn.LeakyReLU(0.2),  # 4×4
            nn.Flatten(), nn.Linear(4 * width * 16, 4 * width), nn.LeakyReLU(0.2),
        )
        self.score = nn.Linear(4 * width, 1)
        self.embed = nn.Embedding(NUM_CLASSES, 4 * width)
        self.apply(dcgan_init)
        if spectral_norm:  # after the initialisation, which would otherwise write to the parametrised weight
            for module in [*self.features, self.score, self.embed]:
                if isinstance(module, (nn.Conv2d, nn.Linear, nn.Embedding)):
                    nn.utils.parametrizations.spectral_norm(module)

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.features(2 * images - 1)
        return (self.score(h) + (self.embed(labels) * h).sum(dim=1, keepdim=True)).squeeze(1)


class ExponentialMovingAverage(nn.Module):
    """A copy of a model whose weights trail the live ones: θ_ema ← d · θ_ema + (1 − d) · θ after every step.

    d = min(decay, (1 + n) / (10 + n)) after n updates, so the average forgets the random initial
    weights early on. Buffers (batch-norm statistics) are copied, not averaged. The update count is a
    buffer, so a checkpoint of this module resumes the average exactly.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = copy.deepcopy(model).requires_grad_(False)
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def update(self, live: nn.Module, decay: float) -> None:
        n = self.updates.item()
        d = min(decay, (1 + n) / (10 + n))
        for ema, param in zip(self.model.parameters(), live.parameters()):
            ema.lerp_(param, 1 - d)
        for ema, buffer in zip(self.model.buffers(), live.buffers()):
            ema.copy_(buffer)
        self.updates += 1


class ConditionalGAN(nn.Module):
    """G and D trained together, and the moving average of G's weights; only a generator is published."""

    def __init__(self, noise_dim: int = 100, width: int = 32, embed_dim: int = 32, spectral_norm: bool = True):
        super().__init__()
        self.generator = Generator(noise_dim, width, embed_dim)
        self.discriminator = Discriminator(width, spectral_norm)
        self.ema = ExponentialMovingAverage(self.generator)

    @property
    def generator_ema(self) -> Generator:
        return self.ema.model


@torch.inference_mode()
def generate_per_class(generator: Generator, per_class: int, seed: int, scale: float = 1.0,
                       batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """``per_class`` samples of each digit 0–9 (in that order) and their labels, from a seeded noise stream.

    The training script's accuracy check, the quality benchmark and the tests all judge a generator on these.
    """
    device = next(generator.parameters()).device
    labels = torch.arange(10, device=device).repeat_interleave(per_class)
    rng = torch.Generator(device).manual_seed(seed)
    images = torch.cat([generator(generator.sample_noise(len(chunk), rng, scale, device=device), chunk)
                        for chunk in labels.split(batch_size)])
    return images.cpu(), labels.cpu()
