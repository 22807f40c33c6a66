"""The gallery's trained checkpoints, in one table: each one's name, model class and the command that retrains it.

The tabs, the benchmarks and the training scripts that load another model's checkpoint all read them here,
so a name or a retraining command (which every "missing checkpoint" message gives) is written once.
"""
from __future__ import annotations

from dataclasses import dataclass

from generative.hub import PRETRAINED_DIR, load_model, model_source
from generative.models import VAE, DenoisingAutoencoder, DigitClassifier, Generator, PhotoDenoiser
from generative.models.matcher import ImageTextMatcher
from generative.models.scene_reader import SceneReader
from generative.models.text2img import TextToImage

MNIST = "--data-root <folder with MNIST/raw>"


@dataclass(frozen=True)
class Checkpoint:
    name: str  # its folder in pretrained/, and its repo's name under a Hub user
    model_class: type
    train_command: str

    def source(self, hub_user: str | None = None) -> str:
        """``pretrained/<name>``, or ``<hub_user>/<name>`` on the Hub (see ``generative.hub.model_source``)."""
        return model_source(self.name, hub_user)

    @property
    def shipped(self) -> str:
        """``pretrained/<name>`` whatever the Hub user: for a model whose use needs this very checkpoint."""
        return str(PRETRAINED_DIR / self.name)

    def load(self, source: str | None = None):
        """The model from ``source`` (default: ``self.source()``, the shipped folder unless ``GALLERY_HUB_USER``
        names a Hub user), in eval mode; a ``CheckpointError`` that gives ``train_command`` if it cannot be loaded."""
        return load_model(self.model_class, source or self.source(), train_command=self.train_command)


DAE_MNIST = Checkpoint("dae-mnist", DenoisingAutoencoder, f"python training/train_dae.py {MNIST}")
PHOTO_DENOISER = Checkpoint("photo-denoiser", PhotoDenoiser,
                            "python training/train_photo_denoiser.py --data-root <folder with denoising/Train400, BSD68 and Set12> "
                            "(one stage; the shipped checkpoint took nine, each listed in its model card)")
CLASSIFIER = Checkpoint("classifier-mnist", DigitClassifier, f"python training/train_classifier.py {MNIST}")
CGAN = Checkpoint("cgan-mnist", Generator, f"python training/train_cgan.py {MNIST} --epochs 50")
VAE_WALK = Checkpoint("vae-mnist-z16", VAE, f"python training/train_vae.py {MNIST} --latent-dim 16")
VAE_MAP = Checkpoint("vae-mnist-z2", VAE, f"python training/train_vae.py {MNIST} --latent-dim 2 --epochs 30")
TEXT2IMG = Checkpoint("text2img-shapes", TextToImage, "python training/train_text2img.py")
SCENE_READER = Checkpoint("scene-reader", SceneReader, "python training/train_scene_reader.py")
SCENE_MATCHER = Checkpoint("scene-matcher", ImageTextMatcher, "python training/train_matcher.py")
