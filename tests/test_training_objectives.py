"""The model-specific parts of the training scripts: what each loss is made of, how its terms are
weighted, what is logged and written. Each test fails on a small change the end-to-end runs let through (one D step
whatever ``--d-steps``, an unweighted gradient penalty, γ instead of γ/2, a model left in training mode ...)."""
import json

import numpy as np
import pytest
import torch
from accelerate import Accelerator
from safetensors import safe_open
from safetensors.torch import load_file

from generative.data.mnist import load_mnist
from generative.data.scene_sets import make_scene_set
from generative.data.shapes import vocabulary
from generative.models import ConditionalGAN, DigitClassifier, Generator, PhotoDenoiser, VAE
from generative.models.scene_reader import SceneReader
from generative.models.text2img import TextToImage, TextToImageGAN
from generative.noise import corrupt_randomly
from generative.photo import psnr_8bit
from generative.text import Tokenizer
from training import train_cgan, train_dae, train_photo_denoiser, train_text2img, train_vae


def digits_batch(n: int = 8):
    generator = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 28, 28, generator=generator), torch.randint(0, 10, (n,), generator=generator)


def cgan_objective(*flags: str) -> train_cgan.AdversarialObjective:
    args = train_cgan.parse_args(["--width", "4", "--noise-dim", "8", *flags])
    torch.manual_seed(0)
    objective = train_cgan.AdversarialObjective(args)
    objective.setup(ConditionalGAN(8, 4, spectral_norm=args.loss != "wgan-gp"), Accelerator(cpu=True), args, total_steps=1)
    return objective


# ---------------------------------------------------------------- VAE

def test_dynamic_binarisation_draws_each_pixel_on_with_its_grey_level_as_probability():
    """``--binarize dynamic`` (the published likelihoods' protocol) samples a fresh binary digit each time: pixels are
    0 or 1, on with probability equal to the grey level (0.3 is on about 30% of the time, not never), and two draws differ."""
    grey = torch.full((4000, 1, 2, 2), 0.3)
    first = train_vae.binarized(grey, torch.Generator().manual_seed(0))
    second = train_vae.binarized(grey, torch.Generator().manual_seed(1))
    assert set(first.unique().tolist()) <= {0.0, 1.0}
    assert first.mean().item() == pytest.approx(0.3, abs=0.01)  # 16,000 draws: the standard error is 0.004
    assert not torch.equal(first, second)


def test_the_shipped_test_encodings_are_the_posterior_means_of_the_test_digits_with_their_labels(data_root):
    """The latent map's scatter is drawn from ``test_encodings``: μ(x) of q(z|x) for each MNIST test digit, in order,
    with its label (not log σ², which a model with σ far from 1 makes obvious)."""
    torch.manual_seed(0)
    model = VAE(latent_dim=2, architecture="mlp", hidden=16).eval()
    with torch.no_grad():
        model.to_log_variance.bias.fill_(-4.0)
    encodings = train_vae.test_encodings(model, data_root)
    images, labels = load_mnist("test", data_root)
    with torch.no_grad():
        mean, log_variance = model.encode(images[:50])
    assert encodings["mean"].shape == (10_000, 2)
    torch.testing.assert_close(encodings["mean"][:50], mean)
    assert (encodings["mean"][:50] - log_variance).abs().min() > 1.0
    assert torch.equal(encodings["label"].long(), labels)


def test_the_cards_held_out_elbo_is_the_last_epochs(tmp_path, data_root):
    """metrics.json and the card quote the held-out −ELBO of the model they describe: the last epoch's, as the loss
    curve's last point, not the first epoch's."""
    out = tmp_path / "out"
    train_vae.main(["--data-root", str(data_root), "--limit-train", "128", "--batch-size", "64", "--epochs", "2",
                    "--latent-dim", "3", "--architecture", "mlp", "--hidden", "16", "--lr", "3e-3",
                    "--run-dir", str(tmp_path / "run"), "--output-dir", str(out)])
    metrics = json.loads((out / "metrics.json").read_text())
    per_epoch = metrics["held_out_loss_per_epoch"]
    assert len(per_epoch) == 2 and per_epoch[0] != per_epoch[1]
    assert metrics["held_out_negative_elbo_nats"] == per_epoch[-1]
    assert f"{per_epoch[-1]:.2f} nats per digit" in (out / "README.md").read_text()


# ---------------------------------------------------------------- cGAN

def test_each_step_updates_d_d_steps_times_then_g_once():
    """``--d-steps 3``: three D updates (each against fresh fakes), then one G update."""
    objective = cgan_objective("--d-steps", "3")
    counts = {"D": 0, "G": 0}
    for name, optimizer in (("D", objective.d_optimizer), ("G", objective.g_optimizer)):
        def counted(*args, _step=optimizer.step, _name=name, **kwargs):
            counts[_name] += 1
            return _step(*args, **kwargs)
        optimizer.step = counted
    objective.step(digits_batch(), torch.Generator().manual_seed(0))
    assert counts == {"D": 3, "G": 1}


def test_the_gradient_penalty_enters_the_critics_loss_with_its_weight(monkeypatch):
    """WGAN-GP's critic loss is the Wasserstein term plus λ·GP: with the penalty fixed at 1, λ = 10 adds exactly 10 to
    the logged loss of the same first step, and λ = 0 nothing."""
    monkeypatch.setattr(train_cgan, "gradient_penalty", lambda *args, **kwargs: torch.tensor(1.0))
    logged = {weight: cgan_objective("--loss", "wgan-gp", "--d-steps", "1", "--gp-weight", weight).step(
        digits_batch(), torch.Generator().manual_seed(0))["loss"].item() for weight in ("0", "10")}
    assert logged["10"] - logged["0"] == pytest.approx(10.0, abs=1e-4)


def test_wgan_gp_uses_the_papers_adam_betas_and_the_other_losses_dcgans():
    """Gulrajani et al. 2017 (Algorithm 1): Adam with β₁ = 0, β₂ = 0.9; DCGAN (Radford et al. 2016): β₁ = 0.5, β₂ = 0.999."""
    for loss, betas in (("wgan-gp", (0.0, 0.9)), ("non-saturating", (0.5, 0.999)), ("hinge", (0.5, 0.999))):
        objective = cgan_objective("--loss", loss)
        assert objective.d_optimizer.param_groups[0]["betas"] == betas
        assert objective.g_optimizer.param_groups[0]["betas"] == betas


@pytest.mark.parametrize("training", [False, True])
def test_judging_a_generator_leaves_it_in_the_mode_it_was_in(training):
    """The per-epoch check judges G in eval mode, then hands it back as it was: a published (eval-mode) generator must
    not come back in training mode, nor the live one in eval mode."""
    torch.manual_seed(0)
    generator = Generator(noise_dim=8, width=4).train(training)
    classifier = DigitClassifier(width=4, feature_dim=8).eval()
    report = train_cgan.conditional_accuracy(generator, classifier, per_class=2, seed=0)
    assert report["n_images"] == 20 and generator.training is training


# ---------------------------------------------------------------- denoising autoencoder

class PassThrough(torch.nn.Module):
    """A stand-in autoencoder that redraws its input (logits 6·(x − ½)), so what it was fed shows in the loss."""

    def forward(self, images, *, logits=False):
        out = 6 * (images - 0.5)
        return out if logits else torch.sigmoid(out)


def test_the_denoising_loss_scores_the_output_for_a_corrupted_input_against_the_clean_digit():
    """Vincent et al.'s criterion: the model sees the corrupted digit (drawn from the step's generator first) and its
    output is scored by binary cross-entropy against the clean grey levels, written out here."""
    clean = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    loss = train_dae.denoising_loss(PassThrough(), (clean,), torch.Generator().manual_seed(2))
    noisy = corrupt_randomly(clean, torch.Generator().manual_seed(2))

    def bce(p):
        p = p.double()
        return (-(clean * torch.log(p) + (1 - clean) * torch.log(1 - p)).mean()).item()

    expected = bce(torch.sigmoid(6 * (noisy - 0.5)))
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert abs(bce(torch.sigmoid(6 * (clean - 0.5))) - expected) > 0.01  # feeding the clean digit would show


# ---------------------------------------------------------------- text-to-image

def text2img_objective(*flags: str) -> train_text2img.MatchingAwareObjective:
    args = train_text2img.parse_args(["--width", "4", "--noise-dim", "8", "--text-dim", "16", *flags])
    torch.manual_seed(0)
    objective = train_text2img.MatchingAwareObjective(args)
    objective.setup(TextToImageGAN(8, 16, 4, read_scene=True), Accelerator(cpu=True), args, total_steps=10)
    return objective


def step_recording_losses(*flags: str) -> tuple[dict, dict[str, float]]:
    """One step of a tiny text-to-image objective on six scenes: what it logged, and the loss each optimiser (text, G,
    D) stepped on. The step logs and updates with separate expressions, so a test of the log alone cannot see what
    trained."""
    objective, stepped = text2img_objective(*flags), {}
    names = {id(objective.text_optimizer): "text", id(objective.g_optimizer): "G", id(objective.d_optimizer): "D"}
    update = objective.update

    def recording_update(optimizer, loss):
        stepped[names[id(optimizer)]] = loss.item()
        update(optimizer, loss)

    objective.update = recording_update
    batch = make_scene_set(6, 0).dataset(Tokenizer.of(vocabulary())).tensors
    return objective.step(batch, torch.Generator().manual_seed(0)), stepped


def test_the_r1_penalty_is_gamma_over_two_times_the_squared_slope(monkeypatch):
    """Mescheder et al.'s R1 is (γ/2)·E‖∇D‖²: with the squared slope fixed at 3, γ = 2 logs 3 and adds 3 (not 6, nor 0)
    to the loss D's optimiser steps on."""
    monkeypatch.setattr(train_text2img, "r1_penalty", lambda scores, images: torch.tensor(3.0))
    (logged, with_r1), (_, without) = step_recording_losses("--r1", "2"), step_recording_losses("--r1", "0")
    assert logged["R1 penalty"].item() == pytest.approx(3.0)
    assert with_r1["D"] - without["D"] == pytest.approx(3.0, abs=1e-4)


def test_the_l1_weight_adds_exactly_its_share_of_the_pictures_distance_to_the_real_scenes():
    """λ = 10 adds 10 × the mean |G(z, t) − x| to G's loss, in the log and in what G's optimiser steps on."""
    (logged, with_l1), (plain, without) = (step_recording_losses("--l1-weight", weight) for weight in ("10", "0"))
    assert plain["G L1"] > 0 and torch.equal(plain["G L1"], logged["G L1"])
    assert torch.allclose(logged["G loss"] - plain["G loss"], 10 * plain["G L1"])
    assert with_l1["G"] - without["G"] == pytest.approx(10 * plain["G L1"].item(), abs=1e-4)


def test_g_and_ds_learning_rates_hold_for_the_first_half_then_fall_linearly_to_zero():
    """As in pix2pix: the multiplier is 1 up to half of the steps, then (total − step) / (total − half)."""
    objective = text2img_objective()
    total, half = 10, 5
    for schedule in objective.schedules:
        factor = schedule.scheduler.lr_lambdas[0]
        assert [factor(step) for step in range(half + 1)] == [1.0] * (half + 1)
        assert [factor(step) for step in range(half, total + 1)] == pytest.approx([1.0, 0.8, 0.6, 0.4, 0.2, 0.0])


def test_an_epoch_that_only_ties_the_best_check_does_not_replace_it(tmp_path):
    """``keep_if_best`` saves when the error is *below* the saved one: an equal error keeps the earlier epoch."""
    path = tmp_path / train_text2img.BEST_EPOCH_FILE
    torch.manual_seed(0)
    gan = TextToImageGAN(8, 16, 4)
    train_text2img.keep_if_best(gan, 0.25, path)
    saved = load_file(str(path))
    with torch.no_grad():
        for weight in gan.ema.model.parameters():
            weight.add_(1.0)
    train_text2img.keep_if_best(gan, 0.25, path)
    assert all(torch.equal(value, saved[key]) for key, value in load_file(str(path)).items())
    train_text2img.keep_if_best(gan, 0.125, path)
    with safe_open(str(path), "pt") as file:
        assert float(file.metadata()["error"]) == 0.125
    assert not all(torch.equal(value, saved[key]) for key, value in load_file(str(path)).items())


@pytest.mark.parametrize("training", [False, True])
def test_measuring_caption_alignment_leaves_the_models_in_their_modes(training):
    """The per-epoch check draws in eval mode, then hands the text encoder and G back as they were."""
    torch.manual_seed(0)
    model = TextToImage(noise_dim=8, text_dim=16, width=4).train(training)
    reader = SceneReader(width=4, feature_dim=8).eval()
    accuracy = train_text2img.caption_alignment(model, model.generator, reader, make_scene_set(6, 0), seed=0)
    assert 0 <= accuracy["all"] <= 1
    assert model.training is training and model.generator.training is training and model.text_encoder.training is training


# ---------------------------------------------------------------- photo denoiser

def test_each_test_image_gets_its_own_noise_seed():
    """The published protocol as the card states it: image i of a set gets noise seed i (plus the draw's offset).
    With an identity model the mean PSNR is that of the noisy images, worked out here with numpy's generator."""
    model = PhotoDenoiser(width=4, depth=2)
    with torch.no_grad():
        model.body[-1].weight.zero_()
        model.body[-1].bias.zero_()  # predicts no noise: the output is the input
    image = np.random.default_rng(0).integers(0, 256, (24, 24), dtype=np.uint8)
    sigma, seed = 25, 7
    noisy = [image / 255 + sigma / 255 * np.random.default_rng(seed + i).standard_normal(image.shape) for i in range(2)]
    per_image = [psnr_8bit(image, x) for x in noisy]
    assert abs(per_image[0] - per_image[1]) > 1e-3  # two seeds, two noise draws
    noisy_psnr, model_psnr = train_photo_denoiser.mean_psnr(model, [image, image], sigma, seed=seed)
    assert noisy_psnr == pytest.approx(np.mean(per_image), abs=1e-9)
    assert model_psnr == pytest.approx(np.mean(per_image), abs=1e-9)
