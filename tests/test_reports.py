"""The benchmark reports that the tabs quote belong to the checkpoints the app ships."""
import pytest

from demos.reports import measured_report
from generative.checkpoints import CGAN, CLASSIFIER, DAE_MNIST, PHOTO_DENOISER, SCENE_READER, TEXT2IMG, VAE_MAP, VAE_WALK

SERVED = {"denoise_quality": [DAE_MNIST], "photo_denoise_quality": [PHOTO_DENOISER], "cgan_quality": [CGAN, CLASSIFIER],
          "vae_quality": [VAE_WALK, VAE_MAP, CLASSIFIER], "text2img_quality": [TEXT2IMG, SCENE_READER]}


@pytest.mark.parametrize("name", SERVED)
def test_each_shipped_report_measured_the_shipped_weights(name):
    """Fails when a checkpoint is retrained and committed without rerunning its benchmark: the tab would then
    silently drop the measured numbers from its explanation."""
    assert measured_report(name, *(checkpoint.shipped for checkpoint in SERVED[name])) is not None
