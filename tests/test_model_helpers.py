"""The models' forward passes and helpers: each test fails on a small change to a forward pass or a model helper that the
rest of the suite let through (a softmax over the batch, a per-batch reseed, a dropped loss term, a vocabulary whose
ids follow the order it was given in ...). Expectations are written out here, not read back from the code."""
import math

import numpy as np
import pytest
import torch

from generative.checkpoints import CLASSIFIER, SCENE_MATCHER, SCENE_READER
from generative.data.scene_sets import EVAL_SEEDS, as_float, make_scene_set
from generative.data.shapes import vocabulary
from generative.metrics.classification import predict_all
from generative.models import DigitClassifier, Generator
from generative.models.cgan import generate_per_class
from generative.models.matcher import ImageTextMatcher, draw_distractors, own_caption_wins
from generative.models.scene_reader import read_all
from generative.models.text2img import (
    ConditionalBatchNorm2d, MatchingAwareDiscriminator, TextConditionedGenerator, TextToImage, draw_captions)
from generative.text import Tokenizer
from tiny_models import with_strong_weights


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------- the digit classifier and the cGAN's helpers

def test_a_predictions_confidence_is_its_own_softmax_whatever_else_is_in_the_batch():
    """The probability of the predicted digit is a softmax over the ten classes of that image: the same image alone or
    among others must get the same confidence (a softmax over the batch would make it depend on its neighbours)."""
    torch.manual_seed(0)
    model = DigitClassifier(width=4, feature_dim=8).eval()
    images = torch.rand(5, 1, 28, 28)
    digit, confidence = model.predict(images)
    with torch.no_grad():
        probabilities = softmax_rows(model(images).double().numpy())
    np.testing.assert_array_equal(digit.numpy(), probabilities.argmax(axis=1))
    np.testing.assert_allclose(confidence.numpy(), probabilities.max(axis=1), rtol=1e-5)
    alone = torch.cat([model.predict(image[None])[1] for image in images])
    torch.testing.assert_close(alone, confidence)


@pytest.mark.parametrize("count, batch_size", [(5, 2), (1, 1000), (7, 3)])
def test_predict_all_gives_one_label_per_image_whatever_the_batching(count, batch_size):
    """A last, partial batch (or a single image) must be predicted too, not dropped."""
    torch.manual_seed(0)
    model = DigitClassifier(width=4, feature_dim=8).eval()
    images = torch.rand(count, 1, 28, 28)
    predicted = predict_all(model, images, batch_size=batch_size)
    with torch.no_grad():
        expected = model(images).argmax(1)
    assert predicted.shape == (count,)
    torch.testing.assert_close(predicted, expected)


class LabelPainter(Generator):
    """A generator whose every picture is its label / 9 in every pixel: which digit each sample was drawn as."""

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return (labels.float() / 9).view(-1, 1, 1, 1).expand(len(z), 1, 28, 28)


@pytest.mark.parametrize("batch_size", [1000, 7])
def test_samples_per_class_come_in_blocks_of_one_digit_in_order(batch_size):
    """``generate_per_class`` promises the digits 0–9 in that order, ``per_class`` of each, and each sample drawn as
    the digit its label says: what a caller reshaping them into (10, per_class) rows of one digit each relies on."""
    images, labels = generate_per_class(LabelPainter(noise_dim=8, width=4).eval(), per_class=3, seed=0,
                                        batch_size=batch_size)
    assert labels.tolist() == [digit for digit in range(10) for _ in range(3)]
    assert images.shape == (30, 1, 28, 28)
    assert (images[:, 0, 0, 0] * 9).round().long().tolist() == labels.tolist()


# ---------------------------------------------------------------- the toy world's judges

def test_the_reader_reads_stored_uint8_scenes_as_it_reads_them_in_zero_to_one():
    """``read_all`` takes scenes as stored (uint8) or as floats in [0, 1]; uint8 ones must be scaled by 1/255 first.
    The shipped reader also gets the scenes' targets right, which it could not on 0–255 floats."""
    reader = SCENE_READER.load()
    scenes = make_scene_set(24, EVAL_SEEDS + 5_000_000)
    from_uint8 = read_all(reader, scenes.images, batch_size=10)
    from_float = reader.read(scenes.images.float() / 255)
    for name in ("shape", "colour", "size"):
        torch.testing.assert_close(from_uint8[name], from_float[name])
    assert (from_uint8["shape"] == scenes.targets["shape"]).float().mean() > 0.95


def test_the_shipped_matcher_picks_each_rendered_scenes_own_caption_over_99_others():
    """R-precision of the shipped matcher on fresh scenes: its card measured 99% on 5,000; an image encoder fed
    pixels on another scale than the [−1, 1] it was trained on loses that."""
    matcher = SCENE_MATCHER.load()
    scenes = make_scene_set(150, EVAL_SEEDS + 6_000_000)
    wins = own_caption_wins(matcher, as_float(scenes.images), scenes.captions, draw_distractors(scenes.scenes, 99, seed=0))
    assert wins.float().mean() >= 0.95


def infonce_by_hand(image_vectors: np.ndarray, caption_vectors: np.ndarray, scale: float) -> tuple[float, float]:
    """CLIP's two cross-entropies: each image against all captions (rows), each caption against all images (columns)."""
    logits = scale * image_vectors @ caption_vectors.T
    diagonal = np.arange(len(logits))
    rows = -np.log(softmax_rows(logits)[diagonal, diagonal]).mean()
    columns = -np.log(softmax_rows(logits.T)[diagonal, diagonal]).mean()
    return float(rows), float(columns)


def test_the_matcher_loss_is_clips_symmetric_infonce_with_the_temperature_capped_at_100():
    """The mean of the image→caption and caption→image cross-entropies, with logits scaled by exp(log_scale), starting at
    CLIP's 1/0.07 and never above CLIP's cap of 100."""
    torch.manual_seed(0)
    matcher = ImageTextMatcher(dim=8, width=4).eval()
    captions = ["a red circle on the left", "a blue box on the right", "a big green plus in the middle", "a small cyan disc"]
    ids, lengths = matcher.tokenizer.batch(captions)
    images = torch.rand(4, 3, 32, 32)
    with torch.no_grad():
        image_vectors = matcher.encode_images(images).double().numpy()
        caption_vectors = matcher.encode_tokens(ids, lengths).double().numpy()
        rows, columns = infonce_by_hand(image_vectors, caption_vectors, 1 / 0.07)
        assert abs(rows - columns) > 1e-3  # the two directions differ, so leaving one out shows
        assert matcher(images, ids, lengths).item() == pytest.approx((rows + columns) / 2, rel=1e-4)
        matcher.log_scale.fill_(math.log(1000.0))  # beyond the cap
        rows, columns = infonce_by_hand(image_vectors, caption_vectors, 100.0)
        assert matcher(images, ids, lengths).item() == pytest.approx((rows + columns) / 2, rel=1e-4)


# ---------------------------------------------------------------- text-to-image

def test_a_vocabulary_gives_the_same_ids_whatever_its_order_or_repeats():
    """Word i of the *sorted* vocabulary is id i + 1: a checkpoint's ids must not depend on how its word list was
    ordered when it was written."""
    words = vocabulary()
    tokenizer = Tokenizer.of(words)
    shuffled = Tokenizer.of(list(reversed(words)) + words[:5])
    assert shuffled == tokenizer
    expected = sorted(set(words))
    assert tokenizer.encode("a red circle") == [expected.index("a") + 1, expected.index("red") + 1,
                                                expected.index("circle") + 1]


def test_a_fresh_conditional_generator_starts_with_every_conditional_batch_norm_as_plain_batch_norm():
    """``dcgan_init`` draws every linear layer, the gain and bias of the conditional batch norms too; the generator
    must set them back, so that training starts from the unconditioned network (gain 1, bias 0 for any caption)."""
    torch.manual_seed(0)
    generator = TextConditionedGenerator(noise_dim=8, text_dim=16, width=4, compressed_dim=8, conditional_norm=True)
    layers = [module for module in generator.modules() if isinstance(module, ConditionalBatchNorm2d)]
    assert len(layers) == 2
    for layer in layers:
        channels = layer.norm.num_features
        x = torch.randn(6, channels, 3, 3)
        variance = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)  # training mode: the batch's own statistics
        plain = (x - x.mean(dim=(0, 2, 3), keepdim=True)) / torch.sqrt(variance + layer.norm.eps)
        for _ in range(2):
            torch.testing.assert_close(layer(x, torch.randn(6, 8)), plain, atol=1e-5, rtol=1e-5)


def test_the_matching_aware_discriminator_adds_the_projection_of_the_caption_onto_the_image_features():
    """Reed et al.'s joint score of the image features h and the tiled compressed caption c, plus Miyato & Koyama's
    projection ⟨W c, h⟩ (the module docstring's design, which a two-epoch trial found better than the joint alone)."""
    torch.manual_seed(0)
    discriminator = MatchingAwareDiscriminator(text_dim=16, width=4, compressed_dim=8).eval()
    images, text = torch.rand(3, 3, 32, 32), torch.randn(3, 16)
    with torch.no_grad():
        h = discriminator.image(2 * images - 1)
        c = discriminator.compress(text)
        joint = discriminator.joint(torch.cat([h, c[:, :, None, None].expand(-1, -1, 4, 4)], dim=1)).flatten()
        projection = (h.flatten(1) * discriminator.projection(c)).sum(1)
        assert projection.abs().min() > 1e-4
        torch.testing.assert_close(discriminator(images, text), joint + projection)


def test_a_caption_drawn_again_in_a_later_batch_gets_fresh_noise_from_the_one_stream():
    """``draw_captions`` draws all its noise from one stream seeded by ``seed``: a caption repeated in every batch must
    get new noise in each (restarting the stream per batch would draw the first batch's pictures again), and the same
    call repeats exactly. (Which noise a row gets does depend on the batch size: torch's CPU ``randn`` does not split
    one draw of 5 rows into draws of 2 + 2 + 1 with the same numbers.)"""
    torch.manual_seed(0)
    model = TextToImage(noise_dim=8, text_dim=16, width=4).eval()
    with_strong_weights(model.generator)  # DCGAN's N(0, 0.02) weights leave the noise almost no say
    captions = ["a red circle"] * 6
    pictures = draw_captions(model, captions, seed=3, batch_size=2)
    torch.testing.assert_close(draw_captions(model, captions, seed=3, batch_size=2), pictures, rtol=0, atol=0)
    for first, later in ((0, 2), (1, 3), (0, 4), (2, 4)):
        assert (pictures[first] - pictures[later]).abs().max() > 0.1
    with torch.no_grad():  # one batch: the same as generating all at once
        torch.testing.assert_close(draw_captions(model, captions, seed=3), model.generate(model.embed(captions), seed=3))


def test_loading_a_checkpoint_from_a_folder_reads_that_folder(tmp_path):
    """``Checkpoint.load(source)`` is how the scripts' ``--classifier``/``--reader`` flags are honoured: a given folder
    must be the one loaded, not the shipped default."""
    torch.manual_seed(0)
    DigitClassifier(width=4, feature_dim=8).save_pretrained(tmp_path)
    loaded = CLASSIFIER.load(str(tmp_path))
    assert (loaded.width, loaded.feature_dim) == (4, 8) and not loaded.training
    assert CLASSIFIER.load().width != 4  # the shipped one, when no folder is given
