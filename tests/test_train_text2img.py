"""The toy world's three training scripts end to end on a few hundred scenes, GAN-CLS's pair types, exact resume."""
import json

import pytest
import torch
from safetensors.torch import load_file

from generative.data.scene_sets import make_scene_set
from generative.data.shapes import vocabulary
from generative.hub import load_model
from generative.models.matcher import ImageTextMatcher
from generative.models.scene_reader import SceneReader
from generative.models.text2img import TextToImage, TextToImageGAN
from generative.text import Tokenizer
from saved_states import assert_same_saved_state
from training import loop, train_matcher, train_scene_reader, train_text2img
from training.loop import save_sample_grid

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(autouse=True)
def fewer_judged_scenes(monkeypatch):
    """The final judgements on thousands of scenes cost more than the tiny training itself; the plumbing needs few."""
    for module in (train_scene_reader, train_matcher, train_text2img):
        monkeypatch.setattr(module, "EPOCH_EVAL_SIZE", 120)
        monkeypatch.setattr(module, "FINAL_EVAL_SIZE", 120)


@pytest.fixture(scope="module")
def tiny_reader(tmp_path_factory):
    out = tmp_path_factory.mktemp("reader") / "out"
    train_scene_reader.main(["--limit-train", "256", "--batch-size", "64", "--width", "4", "--epochs", "1",
                             "--run-dir", str(out.parent / "run"), "--output-dir", str(out)])
    return out


def test_the_reader_script_writes_a_loadable_reader_and_a_card_with_both_splits(tiny_reader):
    metrics = json.loads((tiny_reader / "metrics.json").read_text())
    assert set(metrics["accuracy"]) == {"train", "held-out"}
    assert all(0 <= v <= 1 for split in metrics["accuracy"].values() for v in split.values())
    assert "| held-out |" in (tiny_reader / "README.md").read_text()
    assert train_scene_reader.USAGE in (tiny_reader / "README.md").read_text()
    assert load_model(SceneReader, str(tiny_reader), train_command="x").width == 4


def test_the_matcher_script_writes_a_loadable_matcher_and_its_r_precision(tmp_path):
    out = tmp_path / "out"
    argv = ["--limit-train", "256", "--batch-size", "64", "--width", "4", "--dim", "8", "--epochs", "1",
            "--run-dir", str(tmp_path / "run"), "--output-dir", str(out)]
    train_matcher.main(argv)
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["r_precision"]) == set(metrics["r_precision_blurred"]) == {"train", "held-out"}
    assert metrics["distractors"] == 99
    card = (out / "README.md").read_text()
    assert "R-precision" in card and "box blur" in card and train_matcher.USAGE in card
    assert "negatives" not in card
    data_parallel = train_matcher.model_card(metrics | {"processes": 2}, train_matcher.parse_args(argv))
    assert "(128 in all)" in data_parallel and "each process's own 64 pairs" in data_parallel  # InfoNCE sees 64, not 128
    assert load_model(ImageTextMatcher, str(out), train_command="x").dim == 8


def run_text2img(tmp_path, name, reader, *flags):
    out = tmp_path / name / "out"
    train_text2img.main(["--limit-train", "128", "--batch-size", "32", "--width", "4", "--noise-dim", "8",
                         "--text-dim", "16", "--reader", str(reader), "--run-dir", str(tmp_path / name / "run"),
                         "--output-dir", str(out), *flags])
    return out


def test_the_text2img_script_writes_the_text_encoder_and_generator_with_a_card(tmp_path, tiny_reader):
    out = run_text2img(tmp_path, "one", tiny_reader, "--epochs", "1")
    metrics = json.loads((out / "metrics.json").read_text())
    best = "EMA of G after epoch 1 (best check)"
    assert set(metrics["alignment_seen_captions"]) == {"G", "EMA of G", best} and metrics["published"] in metrics["alignment_seen_captions"]
    assert metrics["published_epoch"] == 1
    assert len(metrics["per_epoch"]["alignment_error_500_ema_pictures"]) == 1
    card = (out / "README.md").read_text()
    assert "matching-aware" in card and "--width 4" in card and train_text2img.USAGE in card
    model = load_model(TextToImage, str(out), train_command="x")
    assert model.text_dim == 16 and model.words == vocabulary()


def test_the_cards_samples_are_drawn_by_the_published_generator_when_g_wins_too(tmp_path, tiny_reader, monkeypatch):
    """Each epoch's grid is the moving average's (the one judged per epoch): the shipped card, where G won, showed the
    pictures of a generator it does not publish."""
    judge, verdicts = train_text2img.caption_alignment, iter([0.9, 0.1, 0.1])  # the final judgement's, G's first
    monkeypatch.setattr(train_text2img, "caption_alignment", lambda model, generator, reader, scenes, seed: judge(
        model, generator, reader, scenes, seed) | ({"all": next(verdicts)} if seed == 4 else {}))
    out = run_text2img(tmp_path, "g-wins", tiny_reader, "--epochs", "1")
    assert json.loads((out / "metrics.json").read_text())["published"] == "G"
    model = load_model(TextToImage, str(out), train_command="x").eval()
    with torch.inference_mode():
        save_sample_grid(train_text2img.draw_grid(model, model.generator), tmp_path / "drawn.png", train_text2img.GRID_COLUMNS)
    assert (out / "samples.png").read_bytes() == (tmp_path / "drawn.png").read_bytes()
    assert "drawn by the published generator: G](samples.png)" in (out / "README.md").read_text()


def test_a_refused_run_leaves_the_earlier_runs_best_epoch_for_its_resume(tmp_path, tiny_reader, monkeypatch):
    """The script deleted its best-epoch file before the loop's checks: a refused run (no token for --push-to-hub)
    left the finished run unable to resume ("No such file … best_epoch.safetensors")."""
    run_text2img(tmp_path, "one", tiny_reader, "--epochs", "1")
    monkeypatch.setattr(loop, "hub_login_problem", lambda: "no Hugging Face token")
    with pytest.raises(SystemExit, match="the upload after training would fail"):
        run_text2img(tmp_path, "one", tiny_reader, "--epochs", "1", "--push-to-hub", "me/text2img")
    assert (tmp_path / "one" / "run" / train_text2img.BEST_EPOCH_FILE).exists()
    run_text2img(tmp_path, "one", tiny_reader, "--epochs", "1", "--resume")  # measures and publishes it again


def test_the_best_checked_epoch_is_kept_until_a_better_one_comes(tmp_path):
    """The file keeps the averaged model of the lowest error so far, and its error, whatever later epochs do."""
    torch.manual_seed(0)
    gan, path = TextToImageGAN(8, 16, 4), tmp_path / train_text2img.BEST_EPOCH_FILE

    def nudge_and_keep(error):
        with torch.no_grad():
            for parameter in gan.ema.model.parameters():
                parameter.add_(0.1)
        train_text2img.keep_if_best(gan, error, path)
        return {key: value.clone() for key, value in train_text2img.averaged_model(gan).state_dict().items()}

    first = nudge_and_keep(0.3)
    nudge_and_keep(0.4)  # worse: not kept
    kept = load_file(path)
    assert all(torch.equal(kept[key], first[key]) for key in first)
    third = nudge_and_keep(0.2)
    kept = load_file(path)
    assert all(torch.equal(kept[key], third[key]) for key in third) and not torch.equal(third["generator.net.1.weight"], first["generator.net.1.weight"])


def test_r1_conditional_norm_and_l1_reach_the_step_the_checkpoint_and_the_card(tmp_path, tiny_reader):
    out = run_text2img(tmp_path, "r1", tiny_reader, "--epochs", "1", "--r1", "2", "--conditional-norm")
    assert json.loads((out / "config.json").read_text())["conditional_norm"] is True
    history = json.loads((tmp_path / "r1" / "run" / "state" / "history.json").read_text())
    assert all(value > 0 for value in history["step_metrics"]["R1 penalty"])
    card = (out / "README.md").read_text()
    assert "R1 penalty" in card and "γ = 2 on pixels in [0, 1], as γ = 8 on the [−1, 1] scale" in card
    assert "conditional batch norm" in card
    plain = run_text2img(tmp_path, "plain", tiny_reader, "--epochs", "1", "--r1", "0", "--no-conditional-norm",
                         "--l1-weight", "0")
    card = (plain / "README.md").read_text()
    assert "R1" not in card and "conditional batch" not in card and "L1" not in card


def test_the_text_encoders_weight_decay_reaches_its_optimiser():
    from accelerate import Accelerator

    args = train_text2img.parse_args(["--text-weight-decay", "0.3"])
    objective = train_text2img.MatchingAwareObjective(args)
    objective.setup(TextToImageGAN(8, 16, 4), Accelerator(cpu=True), args, total_steps=1)
    assert objective.text_optimizer.param_groups[0]["weight_decay"] == 0.3
    assert train_text2img.parse_args([]).text_weight_decay == 0.5  # the study's choice is the shipped run's


def test_the_card_gives_the_l1_weight_on_pix2pixs_scale_too():
    """What λ = 10 adds to G's loss is tested in test_training_objectives.py; here what the card says of it."""
    args = train_text2img.parse_args(["--l1-weight", "10"])
    assert "same caption, λ = 10 on pixels in [0, 1], as λ = 5 on pix2pix's [−1, 1] scale (as pix2pix" in train_text2img.model_card(
        {"alignment_seen_captions": {}, "discriminator_parameters": 1, "parameters": 1, "train_examples": 6, "train_seconds": 60,
         "hardware": "cpu", "resumed": False, "published": "G", "per_epoch": {"alignment_error_500_ema_pictures": [0.1]},
         "command": "python training/train_text2img.py", "published_epoch": 1}, args)


def test_each_step_shows_d_the_three_pair_types_and_g_the_blended_captions():
    """D sees (real, own caption), (real, another's caption) and (generated, own caption); G is judged on blends too."""
    args = train_text2img.parse_args(["--width", "4", "--noise-dim", "8", "--text-dim", "16"])
    torch.manual_seed(0)
    gan = TextToImageGAN(8, 16, 4, read_scene=True)
    from accelerate import Accelerator

    objective = train_text2img.MatchingAwareObjective(args)
    objective.setup(gan, Accelerator(cpu=True), args, total_steps=1)
    calls, d_forward = [], objective.d.forward

    def spy(images, text, read_scene=False):
        calls.append((images.detach().clone(), text.detach().clone(), read_scene))
        return d_forward(images, text, read_scene)

    objective.d.forward = spy
    batch = make_scene_set(6, 0).dataset(Tokenizer.of(vocabulary())).tensors
    objective.step(batch, torch.Generator().manual_seed(0))
    real = batch[0].float() / 255
    own = calls[0][1]
    assert torch.equal(calls[0][0], real)                                           # real + own caption
    assert torch.equal(calls[1][0], real) and torch.equal(calls[1][1], own.roll(1, 0))  # real + mismatched
    assert not torch.equal(calls[2][0], real) and torch.equal(calls[2][1], own)         # fake + own caption
    assert torch.equal(calls[3][1], own)                                             # G's turn: fake + own
    assert torch.allclose(calls[4][1], (own + own.flip(0)) / 2)                       # G's turn: GAN-INT blend
    assert len(calls) == 5
    # the auxiliary head reads the real scenes (D's turn) and the pictures drawn for real captions (G's turn)
    assert [read for _, _, read in calls] == [True, False, False, True, False]


def test_resume_after_an_interruption_reproduces_the_unbroken_run(tmp_path, tiny_reader, monkeypatch):
    """Text encoder, G, D, their three optimisers and the moving average all come back from the saved state."""
    unbroken = run_text2img(tmp_path, "unbroken", tiny_reader, "--epochs", "2")
    real_step, steps = train_text2img.MatchingAwareObjective.step, []

    def step_then_crash(self, batch, generator):
        steps.append(1)
        if len(steps) > 4:  # 128 scenes / 32 per batch = 4 steps: crash at the start of epoch 2
            raise KeyboardInterrupt
        return real_step(self, batch, generator)

    monkeypatch.setattr(train_text2img.MatchingAwareObjective, "step", step_then_crash)
    with pytest.raises(KeyboardInterrupt):
        run_text2img(tmp_path, "resumed", tiny_reader, "--epochs", "2")
    monkeypatch.setattr(train_text2img.MatchingAwareObjective, "step", real_step)
    resumed = run_text2img(tmp_path, "resumed", tiny_reader, "--epochs", "2", "--resume")
    a, b = load_file(unbroken / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert (a[key] - b[key]).abs().max().item() < 1e-5, key
    assert_same_saved_state(unbroken.parent / "run", resumed.parent / "run", registered=1)  # the moving average too
