"""Hub-mixin model classes: each saves to / loads from config.json + model.safetensors."""
from generative.models.cgan import ConditionalGAN, Discriminator, Generator
from generative.models.classifier import DigitClassifier
from generative.models.dae import DenoisingAutoencoder
from generative.models.photo_denoiser import PhotoDenoiser
from generative.models.vae import VAE

__all__ = ["ConditionalGAN", "DenoisingAutoencoder", "Discriminator", "DigitClassifier", "Generator", "PhotoDenoiser", "VAE"]
