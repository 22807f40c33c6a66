"""The DAE's shapes and the one loading function, for local folders and Hub repo ids (offline)."""
import hashlib
import json
import os

import httpx
import huggingface_hub
import pytest
import torch
from safetensors.torch import load_file, save_file

from generative.hub import CheckpointError, load_metrics, load_model, model_source, push_folder_to_hub, token_refused
from generative.models import DenoisingAutoencoder

TRAIN = "python training/train_dae.py"


def test_autoencoder_shapes_and_range():
    model = DenoisingAutoencoder(width=8, code_dim=16)
    x = torch.rand(5, 1, 28, 28)
    assert model.encode(x).shape == (5, 16)
    assert model.decode(model.encode(x)).shape == (5, 1, 28, 28)
    y = model(x)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1


def saved(tmp_path, **config):
    torch.manual_seed(0)
    model = DenoisingAutoencoder(**config)
    folder = tmp_path / "ckpt"
    model.save_pretrained(folder)
    return model, folder


def test_save_load_round_trip_in_hub_layout(tmp_path, capsys):
    model, folder = saved(tmp_path, width=8, code_dim=16)
    assert {"config.json", "model.safetensors"} <= set(os.listdir(folder))
    assert json.loads((folder / "config.json").read_text()) == {"code_dim": 16, "width": 8}
    capsys.readouterr()
    loaded = load_model(DenoisingAutoencoder, str(folder), train_command=TRAIN)
    assert capsys.readouterr().out == ""  # huggingface_hub prints a line per local load: eleven at the app's start
    assert not loaded.training
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(loaded(x), model.eval()(x))


def seed_hub_cache(cache_dir, repo_id, folder):
    """Lay out ``folder`` as huggingface_hub's cache does after a download: blobs, snapshot symlinks, refs/main."""
    repo_dir = cache_dir / ("models--" + repo_id.replace("/", "--"))
    commit = hashlib.sha1(repo_id.encode()).hexdigest()
    snapshot = repo_dir / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (repo_dir / "blobs").mkdir()
    (repo_dir / "refs").mkdir()
    for file in folder.iterdir():
        data = file.read_bytes()
        blob = repo_dir / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        (snapshot / file.name).symlink_to(os.path.relpath(blob, snapshot))
    (repo_dir / "refs" / "main").write_text(commit)


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    cache = tmp_path / "hub-cache"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return cache


def test_load_by_repo_id_through_the_real_hub_code(tmp_path, offline_hub):
    model, folder = saved(tmp_path, width=8, code_dim=16)
    (folder / "metrics.json").write_text(json.dumps({"parameters": 123}))
    seed_hub_cache(offline_hub, "someone/dae-mnist", folder)
    source = model_source("dae-mnist", hub_user="someone")
    assert source == "someone/dae-mnist"
    loaded = load_model(DenoisingAutoencoder, source, train_command=TRAIN)
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(loaded(x), model.eval()(x))
    assert load_metrics(source) == {"parameters": 123}


def test_a_hub_repo_with_pickled_weights_only_is_refused_unread(tmp_path, offline_hub, monkeypatch):
    """Given a repo id, the mixin itself would fall back on pytorch_model.bin; weights are read from safetensors only."""
    model, folder = saved(tmp_path, width=8, code_dim=16)
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    seed_hub_cache(offline_hub, "someone/dae-mnist", folder)
    unpickled = []
    monkeypatch.setattr(torch, "load", lambda *args, **kwargs: unpickled.append(args))
    with pytest.raises(CheckpointError, match="model.safetensors is missing.*train_dae.py"):
        load_model(DenoisingAutoencoder, "someone/dae-mnist", train_command=TRAIN)
    assert not unpickled


def test_a_hub_repo_is_fetched_as_its_config_and_safetensors_only(tmp_path, monkeypatch):
    """A repo may also hold pickled weights, samples or training state: only the two files the load reads are asked for."""
    model, folder = saved(tmp_path, width=8, code_dim=16)
    asked = []

    def snapshot_download(repo_id, **kwargs):
        asked.append((repo_id, kwargs))
        return str(folder)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    loaded = load_model(DenoisingAutoencoder, "someone/dae-mnist", train_command=TRAIN)
    [(repo_id, kwargs)] = asked
    assert repo_id == "someone/dae-mnist"
    assert sorted(kwargs.get("allow_patterns") or []) == ["config.json", "model.safetensors"]
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(loaded(x), model.eval()(x))


def test_hub_user_comes_from_the_environment_when_not_given(monkeypatch):
    monkeypatch.setenv("GALLERY_HUB_USER", "teacher")
    assert model_source("dae-mnist") == "teacher/dae-mnist"
    monkeypatch.delenv("GALLERY_HUB_USER")
    assert model_source("dae-mnist").endswith(os.path.join("pretrained", "dae-mnist"))


def test_an_empty_hub_user_means_pretrained_whatever_the_environment_says(monkeypatch):
    import app

    monkeypatch.setenv("GALLERY_HUB_USER", "teacher")
    assert app.parse_args([]).hub == "teacher"
    assert model_source("dae-mnist", app.parse_args(["--hub", ""]).hub).endswith(os.path.join("pretrained", "dae-mnist"))


@pytest.mark.parametrize("given, says", [("me/", "give the user or organisation alone"),
                                         ("me/dae-mnist", "give the user or organisation alone"),
                                         ("bad..name", "is not a Hub user or organisation name")])
def test_the_app_refuses_a_hub_user_that_is_not_one_at_start(given, says, monkeypatch, capsys):
    """Read as a path, "me/" would have every tab say there is no checkpoint at me//dae-mnist."""
    import app

    monkeypatch.delenv("GALLERY_HUB_USER", raising=False)
    with pytest.raises(SystemExit):
        app.parse_args(["--hub", given])
    assert says in capsys.readouterr().err
    monkeypatch.setenv("GALLERY_HUB_USER", given)
    with pytest.raises(SystemExit):
        app.parse_args([])
    assert says in capsys.readouterr().err


def test_unknown_repo_names_the_training_command_that_pushes_there(offline_hub):
    """A plain training command writes pretrained/, which a Hub source never reads: the advice must push."""
    with pytest.raises(CheckpointError, match="train_dae.py") as refusal:
        load_model(DenoisingAutoencoder, "nobody/dae-mnist", train_command=TRAIN)
    assert "mistyped" not in str(refusal.value) and ".." not in str(refusal.value)
    assert str(refusal.value).endswith(f"or train one, adding `--push-to-hub nobody/dae-mnist` to: {TRAIN}")
    assert 'the app: with `--hub ""`, or without --hub and GALLERY_HUB_USER' in str(refusal.value)


def test_a_mistyped_local_path_is_named_as_one(offline_hub, tmp_path, monkeypatch):
    """"pretrained/dae-mnstt" is also a valid repo id, so it goes to the Hub; the message must not only blame the Hub."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pretrained").mkdir()
    with pytest.raises(CheckpointError, match="There is no folder pretrained/dae-mnstt either: is the path mistyped") as refusal:
        load_model(DenoisingAutoencoder, "pretrained/dae-mnstt", train_command=TRAIN)
    assert "--push-to-hub" not in str(refusal.value)  # pushing to a repo named after the typo would be bad advice


def test_a_missing_folder_deeper_than_a_repo_id_is_named_as_a_folder(offline_hub, tmp_path, monkeypatch):
    """"runs/cgan-compare/hinge" cannot be a repo id (namespace/name): before any Hub call or its "Repo id must be
    in the form" error, the message says the folder is not there."""
    monkeypatch.chdir(tmp_path)
    for source in ("runs/cgan-compare/hinge", "runs/", "runs\\hinge", "C:\\models\\dae"):
        with pytest.raises(CheckpointError) as refusal:
            load_model(DenoisingAutoencoder, source, train_command=TRAIN)
        assert str(refusal.value) == (f"No checkpoint at {source} (there is no such folder). Train one into it, adding "
                                      f"`--output-dir {source}` to: {TRAIN}")  # the plain command writes pretrained/
    (tmp_path / "model.safetensors").write_bytes(b"")  # a checkpoint's file given for its folder
    with pytest.raises(CheckpointError, match=r"\(it is a file, not a folder\)"):
        load_model(DenoisingAutoencoder, "./model.safetensors", train_command=TRAIN)


def test_missing_and_corrupt_checkpoints_name_the_training_command(tmp_path):
    with pytest.raises(CheckpointError, match="missing.*train_dae.py"):
        load_model(DenoisingAutoencoder, str(tmp_path / "nothing-here"), train_command=TRAIN)
    _, folder = saved(tmp_path)
    (folder / "model.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="train_dae.py") as refusal:
        load_model(DenoisingAutoencoder, str(folder), train_command=TRAIN)
    assert "mistyped" not in str(refusal.value)  # the folder exists: its file is what is wrong


def test_weights_damaged_inside_a_whole_file_are_refused_not_served(tmp_path):
    """Bytes overwritten in the middle of model.safetensors leave its header whole: the model loaded and every output
    was NaN ("nan" PSNR, "0 · nan%" readouts) while the tab's text gave the trained scores."""
    _, folder = saved(tmp_path)
    weights = load_file(folder / "model.safetensors")
    damaged = sorted(weights)[1]
    weights[damaged] = weights[damaged].clone().fill_(float("nan"))
    save_file(weights, folder / "model.safetensors")
    with pytest.raises(CheckpointError, match=rf"1 of its weight tensors hold NaN or infinite values \({damaged}\), so "
                                              r"model.safetensors is damaged\. Train one into it, adding `--output-dir .*` to: python training/train_dae"):
        load_model(DenoisingAutoencoder, str(folder), train_command=TRAIN)


def test_a_folder_named_without_a_leading_dot_is_read_as_a_folder(tmp_path, monkeypatch):
    model, folder = saved(tmp_path)
    monkeypatch.chdir(tmp_path)
    loaded = load_model(DenoisingAutoencoder, folder.name, train_command=TRAIN)  # "ckpt", which could be a repo id
    x = torch.rand(2, 1, 28, 28)
    assert torch.equal(loaded(x), model.eval()(x))


def test_a_checkpoint_missing_a_weight_is_refused_not_left_random(tmp_path):
    """The mixin's default (strict=False) would fill a missing tensor with its random initialisation."""
    _, folder = saved(tmp_path)
    weights = load_file(folder / "model.safetensors")
    save_file({name: tensor for name, tensor in weights.items() if name != sorted(weights)[0]}, folder / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"\(of its \d+ tensors: 1 missing\)"):
        load_model(DenoisingAutoencoder, str(folder), train_command=TRAIN)


def test_a_checkpoint_of_another_shape_is_refused_not_half_loaded(tmp_path):
    _, folder = saved(tmp_path, width=8, code_dim=16)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(config | {"code_dim": 32}))
    with pytest.raises(CheckpointError) as refusal:
        load_model(DenoisingAutoencoder, str(folder), train_command=TRAIN)
    # torch names each tensor on lines of its own (2 kB for another model's weights); the tab shows one line. code_dim
    # shapes three: the code layer's weight and bias, and the weight of the layer that reads the code back
    assert "\n" not in str(refusal.value)
    assert "do not fit the model its config.json describes (of its 20 tensors: 3 of another shape)" in str(refusal.value)


def test_a_checkpoint_without_its_config_is_refused_not_built_from_defaults(tmp_path):
    """The mixin only logs a missing config.json and builds the class defaults, which fit these weights."""
    _, folder = saved(tmp_path)
    (folder / "config.json").unlink()
    with pytest.raises(CheckpointError, match=r"\(config.json is missing: .*train_dae.py"):
        load_model(DenoisingAutoencoder, str(folder), train_command=TRAIN)


def test_a_setting_the_model_does_not_take_is_named_not_dropped(tmp_path):
    """The mixin drops unknown settings: a misspelt one would silently build the class default instead."""
    _, folder = saved(tmp_path, code_dim=64)
    (folder / "config.json").write_text(json.dumps({"code_dimm": 64, "width": 32}))
    with pytest.raises(CheckpointError, match=r"settings that DenoisingAutoencoder does not take: code_dimm "
                                              r"\(it takes width, code_dim\)"):
        load_model(DenoisingAutoencoder, str(folder), train_command=TRAIN)
    (folder / "config.json").write_text("[32, 64]")
    with pytest.raises(CheckpointError, match="config.json holds a list, not an object of settings"):
        load_model(DenoisingAutoencoder, str(folder), train_command=TRAIN)


def test_push_calls_the_hub_and_survives_its_failure(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", lambda self, repo_id, **kw: calls.append(("create", repo_id)))
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder",
                        lambda self, repo_id, folder_path, **kw: calls.append(("upload", repo_id, folder_path)))
    assert push_folder_to_hub(tmp_path, "me/dae-mnist")
    assert calls == [("create", "me/dae-mnist"), ("upload", "me/dae-mnist", str(tmp_path))]

    def offline(self, repo_id, **kw):
        raise ConnectionError("no network")

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", offline)
    assert not push_folder_to_hub(tmp_path, "me/dae-mnist")


@pytest.mark.parametrize("status", [401, 403])
def test_a_token_the_hub_refuses_stops_training_before_it_starts(monkeypatch, status):
    """``whoami`` answers 401 for a token that is not valid and 403 for one that may not be used: both are refusals
    (every process of a run gets the same answer), unlike a network error, which is only a note."""
    def refusing(self, *args, **kwargs):
        response = httpx.Response(status, request=httpx.Request("GET", "https://huggingface.co/api/whoami-v2"))
        raise huggingface_hub.errors.HfHubHTTPError(f"{status} Client Error\nno", response=response)
    monkeypatch.setattr(huggingface_hub.HfApi, "whoami", refusing)
    assert token_refused() == f"the Hub refuses the token ({status} Client Error)"


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_the_app_refuses_a_port_that_is_not_one_before_building_the_tabs(port, monkeypatch, capsys):
    """Past 65535 the app built every tab and then ended in Gradio's OverflowError traceback."""
    import app

    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        app.parse_args(["--port", port])
    says = f"must be from 1 to 65535, got {port}" if port.isdigit() else f"invalid port_number value: '{port}'"
    assert exit_info.value.code == 2 and f"argument --port: {says}" in capsys.readouterr().err
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7871")
    assert app.parse_args([]).port == 7871 and app.parse_args(["--port", "8000"]).port == 8000
