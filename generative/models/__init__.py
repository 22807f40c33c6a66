"""The digit and photo models, importable from here (the toy world's text-to-image, scene-reader and matcher
models from their own modules).

The checkpointed ones (Generator, DigitClassifier, DenoisingAutoencoder, PhotoDenoiser, VAE) are Hub-mixin
classes that save to and load from config.json + model.safetensors; ConditionalGAN and Discriminator exist
only in training (the generator alone is saved).
"""
from generative.models.cgan import ConditionalGAN, Discriminator, Generator
from generative.models.classifier import DigitClassifier
from generative.models.dae import DenoisingAutoencoder
from generative.models.photo_denoiser import PhotoDenoiser
from generative.models.vae import VAE

__all__ = ["ConditionalGAN", "DenoisingAutoencoder", "Discriminator", "DigitClassifier", "Generator", "PhotoDenoiser", "VAE"]
