"""The text-to-image toy's parts on toy tensors: GAN-CLS's three pair types, the model, alignment and R-precision."""
import pytest
import torch
import torch.nn.functional as F

from generative.data.scene_sets import box_blur, make_scene_set, perturb
from generative.data.shapes import IGNORE, Scene, Thing
from generative.gan_losses import discriminator_loss, matching_aware_discriminator_loss, r1_penalty
from generative.hub import load_model
from generative.metrics.alignment import all_correct, attribute_accuracy
from generative.models.matcher import ImageTextMatcher, draw_distractors, own_caption_wins
from generative.models.scene_reader import SceneReader, describe
from generative.models.text2img import ConditionalBatchNorm2d, TextToImage, TextToImageGAN
from generative.text import CaptionError


def test_the_matching_aware_loss_counts_real_pairs_as_real_and_both_other_pair_types_as_half_fake():
    real, mismatched, fake = torch.tensor([2.0, 1.0]), torch.tensor([0.5, -1.0]), torch.tensor([-0.3, 0.7])
    loss = matching_aware_discriminator_loss("non-saturating", real, mismatched, fake)
    expected = F.softplus(-real).mean() + 0.5 * (F.softplus(mismatched).mean() + F.softplus(fake).mean())
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    hinge = matching_aware_discriminator_loss("hinge", real, mismatched, fake)
    assert hinge.item() == pytest.approx((F.relu(1 - real).mean() + 0.5 * (F.relu(1 + mismatched).mean()
                                                                          + F.relu(1 + fake).mean())).item())


def test_a_discriminator_that_ignores_the_caption_is_punished_by_the_mismatched_pairs():
    """Scoring every real image as real, whatever its caption, costs more than checking the caption does."""
    real, fake = torch.full((8,), 4.0), torch.full((8,), -4.0)
    blind = matching_aware_discriminator_loss("non-saturating", real, torch.full((8,), 4.0), fake)
    reading = matching_aware_discriminator_loss("non-saturating", real, torch.full((8,), -4.0), fake)
    assert blind > reading + 1.0
    # without the mismatched pairs (plain conditional GAN) the blind D would lose nothing
    assert discriminator_loss("non-saturating", real, fake) < 0.05


def test_the_published_model_embeds_captions_draws_seeded_pictures_and_names_unknown_words():
    torch.manual_seed(0)
    model = TextToImage(width=4, noise_dim=8, text_dim=16).eval()
    text = model.embed(["a large red circle in the centre", "a blue box left of a green plus"])
    assert text.shape == (2, 16) and text.abs().max() < 1
    pictures = model.generate(text, seed=3)
    assert pictures.shape == (2, 3, 32, 32) and 0 <= pictures.min() and pictures.max() <= 1
    assert torch.equal(pictures, model.generate(text, seed=3)) and not torch.equal(pictures, model.generate(text, seed=4))
    with pytest.raises(CaptionError) as err:
        model.embed(["a red dragon"])
    assert err.value.unknown == ["dragon"] and "circle" in str(err.value)


@pytest.mark.parametrize("conditional_norm", [False, True])
def test_the_published_model_round_trips_through_hub_layout_with_its_vocabulary(tmp_path, conditional_norm):
    gan = TextToImageGAN(noise_dim=8, text_dim=16, width=4, conditional_norm=conditional_norm)
    gan.model.save_pretrained(tmp_path)
    loaded = load_model(TextToImage, str(tmp_path), train_command="python training/train_text2img.py")
    assert loaded.words == gan.model.words and loaded.width == 4
    assert any(isinstance(m, ConditionalBatchNorm2d) for m in loaded.generator.modules()) == conditional_norm
    for key, value in gan.model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key


def test_conditional_batch_norm_starts_as_plain_batch_norm_then_sets_each_pictures_gain_and_bias_from_its_caption():
    torch.manual_seed(0)
    norm = ConditionalBatchNorm2d(3, condition_dim=2)
    x, condition = torch.randn(4, 3, 5, 5), torch.randn(4, 2)
    plain = F.batch_norm(x, None, None, training=True)
    assert torch.allclose(norm(x, condition), plain, atol=1e-5)
    for linear in (norm.gain, norm.bias):
        torch.nn.init.normal_(linear.weight), torch.nn.init.normal_(linear.bias)
    gain = 1 + condition @ norm.gain.weight.T + norm.gain.bias
    bias = condition @ norm.bias.weight.T + norm.bias.bias
    assert torch.allclose(norm(x, condition), plain * gain[:, :, None, None] + bias[:, :, None, None], atol=1e-5)


def test_r1_is_the_squared_slope_of_d_at_real_images_and_d_can_learn_from_it():
    """D(x) = ⟨w, x⟩ + ‖x‖² has slope w + 2x; R1 is its mean squared norm, and its gradient reaches w."""
    w = torch.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    real = torch.rand(4, 2, 2, requires_grad=True)
    scores = (real * w).flatten(1).sum(1) + real.pow(2).flatten(1).sum(1)
    penalty = r1_penalty(scores, real)
    slope = w + 2 * real
    assert penalty.item() == pytest.approx(slope.flatten(1).pow(2).sum(1).mean().item(), rel=1e-6)
    penalty.backward()
    assert torch.allclose(w.grad, 2 * slope.mean(0))


def test_the_discriminator_scores_one_logit_per_pair_and_depends_on_the_caption():
    torch.manual_seed(0)
    gan = TextToImageGAN(noise_dim=8, text_dim=16, width=4)
    images, text = torch.rand(3, 3, 32, 32), torch.rand(3, 16) * 2 - 1
    scores = gan.discriminator(images, text)
    assert scores.shape == (3,)
    assert not torch.allclose(scores, gan.discriminator(images, text.roll(1, 0)))


def targets(shape, colour, size):
    return {"shape": torch.tensor(shape), "colour": torch.tensor(colour), "size": torch.tensor(size)}


def test_alignment_scores_every_slot_for_shape_and_only_filled_slots_for_colour_and_size():
    X = IGNORE
    truth = targets([[1, 0, 0, 0, 0], [0, 2, 0, 3, 0]], [[4, X, X, X, X], [X, 1, X, 2, X]], [[1, X, X, X, X], [X, 0, X, 0, X]])
    perfect = {"shape": truth["shape"], "colour": truth["colour"].clamp(min=0), "size": truth["size"].clamp(min=0)}
    assert attribute_accuracy(perfect, truth) == {"shape": 1.0, "colour": 1.0, "size": 1.0, "all": 1.0}
    extra = {**perfect, "shape": torch.tensor([[1, 0, 0, 0, 5], [0, 2, 0, 3, 0]])}  # a thing nobody asked for
    assert all_correct(extra, truth).tolist() == [False, True]
    wrong_colour = {**perfect, "colour": torch.tensor([[4, 0, 0, 0, 0], [0, 1, 0, 5, 0]])}
    accuracy = attribute_accuracy(wrong_colour, truth)
    assert accuracy["colour"] == pytest.approx(2 / 3) and accuracy["all"] == 0.5 and accuracy["shape"] == 1.0
    wrong_size = {**perfect, "size": torch.tensor([[0, 0, 0, 0, 0], [1, 0, 1, 0, 1]])}  # slot 0 of the first scene
    accuracy = attribute_accuracy(wrong_size, truth)  # (slots the second scene leaves empty do not count)
    assert all_correct(wrong_size, truth).tolist() == [False, True]
    assert accuracy["size"] == pytest.approx(2 / 3) and accuracy["all"] == 0.5 and accuracy["colour"] == 1.0


def test_the_reader_reports_a_readout_per_slot_and_describes_it_in_words():
    reader = SceneReader(width=4, feature_dim=8).eval()
    readout = reader.read(torch.rand(2, 3, 32, 32))
    assert {name: tuple(value.shape) for name, value in readout.items()} == {"shape": (2, 5), "colour": (2, 5), "size": (2, 5)}
    manual = {"shape": torch.tensor([[1, 0, 0, 0, 0]]), "colour": torch.tensor([[0, 0, 0, 0, 0]]),
              "size": torch.tensor([[1, 0, 0, 0, 0]])}
    assert describe(manual, 0) == "large red circle (left)"
    assert describe({**manual, "shape": torch.zeros(1, 5, dtype=torch.long)}, 0) == "nothing"


def test_distractors_are_captions_of_other_scenes_and_r_precision_counts_wins():
    scenes = make_scene_set(150, 0).scenes
    duplicate = Scene((Thing("circle", "red", "large", "left"),))
    scenes = [duplicate, duplicate, *scenes[2:]]
    distractors = draw_distractors(scenes, 99, seed=0)
    assert distractors.shape == (150, 99)
    for i, row in enumerate(distractors.tolist()):
        assert i not in row and len(set(row)) == 99 and all(scenes[j] != scenes[i] for j in row)
    assert torch.equal(distractors, draw_distractors(scenes, 99, seed=0))
    with pytest.raises(ValueError, match="more than 99"):
        draw_distractors(scenes[:99], 99, seed=0)
    with pytest.raises(ValueError, match="one scene has only 98 others unlike it"):  # it used to search for ever
        draw_distractors([duplicate] * 3 + scenes[3:101], 99, seed=0)  # 101 captions, 3 of one scene


def test_own_caption_wins_when_the_image_is_nearest_its_own_caption():
    matcher = ImageTextMatcher(dim=8, width=4).eval()
    captions = ["a red circle on the left", "a blue box on the right", "a big green plus in the middle"]
    caption_vectors = matcher.encode_captions(captions)
    matcher.encode_images = lambda images: caption_vectors[images[:, 0, 0, 0].long()]  # image i "shows" caption i
    images = torch.zeros(3, 3, 32, 32)
    images[:, 0, 0, 0] = torch.tensor([0.0, 1.0, 2.0])
    distractors = torch.tensor([[1, 2], [0, 2], [0, 1]])
    assert own_caption_wins(matcher, images, captions, distractors).all()
    images[2, 0, 0, 0] = 0.0  # the third image now shows the first caption
    assert own_caption_wins(matcher, images, captions, distractors).tolist() == [True, True, False]
    # ties count against the image: a matcher that collapsed every caption to one vector must score 0, not 1
    matcher.encode_captions = lambda texts: caption_vectors[:1].expand(len(texts), -1)
    assert not own_caption_wins(matcher, images, captions, distractors).any()


def test_the_judges_perturbation_is_seeded_stays_in_range_and_blurs_only_locally():
    images = torch.zeros(16, 3, 8, 8)
    images[:, :, 4, 4] = 1.0  # one bright pixel

    def perturbed(seed):
        return perturb(images, torch.Generator().manual_seed(seed))

    assert torch.equal(perturbed(0), perturbed(0)) and not torch.equal(perturbed(0), perturbed(1))
    assert perturbed(0).min() >= 0 and perturbed(0).max() <= 1 and perturbed(0).shape == images.shape
    blurred = box_blur(images)
    assert blurred[0, 0, 3:6, 3:6] == pytest.approx(torch.full((3, 3), 1 / 9)) and blurred.sum() == pytest.approx(images.sum())
    assert torch.equal(box_blur(torch.full((1, 3, 4, 4), 0.5)), torch.full((1, 3, 4, 4), 0.5))  # flat stays flat at the borders


def test_a_scene_set_selects_its_rows_in_order_keeping_images_targets_and_captions_together():
    scenes = make_scene_set(6, 0)
    picked = scenes.select([4, 1])
    assert picked.captions == [scenes.captions[4], scenes.captions[1]] and picked.scenes == [scenes.scenes[4], scenes.scenes[1]]
    assert torch.equal(picked.images, scenes.images[[4, 1]]) and torch.equal(picked.shape, scenes.shape[[4, 1]])
