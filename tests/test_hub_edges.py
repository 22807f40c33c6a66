"""Edges of checkpoint loading and the pre-training Hub check that the main hub tests leave open: a Windows drive path
without backslashes, an empty source, a bare (namespace-less) repo id, and Hub errors that are not a refusal of the
token."""
import httpx
import huggingface_hub
import pytest

from generative.hub import CheckpointError, is_local, load_model, token_refused
from generative.models import DenoisingAutoencoder

TRAIN = "python training/train_dae.py"


def test_a_windows_drive_path_written_with_forward_slashes_is_a_folder(tmp_path, monkeypatch):
    """"D:/dae" has one slash, like a repo id, but its drive makes it a path: its error is "no such folder", not the
    Hub's "invalid repo id"."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    for source in ("D:/dae", "C:dae"):
        assert is_local(source), source
        with pytest.raises(CheckpointError) as refusal:
            load_model(DenoisingAutoencoder, source, train_command=TRAIN)
        assert str(refusal.value) == (f"No checkpoint at {source} (there is no such folder). Train one into it, adding "
                                      f"`--output-dir {source}` to: {TRAIN}")
    assert not is_local("someone/dae-mnist")


@pytest.mark.parametrize("source", ["", " "])
def test_an_empty_source_is_refused_not_taken_for_the_working_folder(tmp_path, monkeypatch, source):
    """``Path("")`` is the working folder: an empty ``--model`` loaded whatever checkpoint was there, without a word."""
    DenoisingAutoencoder().save_pretrained(tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError) as refusal:
        load_model(DenoisingAutoencoder, source, train_command=TRAIN)
    assert str(refusal.value) == (f"No checkpoint source given: name a folder or a Hub repo id (user/name). "
                                  f"To train one: {TRAIN}")


def test_a_bare_repo_id_that_fails_is_not_called_a_mistyped_path(tmp_path, monkeypatch):
    """A repo id without a namespace ("gpt2"-style) is a Hub source; that the working folder exists does not make it a
    mistyped path, and the advice is the Hub's (push there), not only "train one"."""
    cache = tmp_path / "hub-cache"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.chdir(tmp_path)
    assert not is_local("dae-nowhere")
    with pytest.raises(CheckpointError) as refusal:
        load_model(DenoisingAutoencoder, "dae-nowhere", train_command=TRAIN)
    message = str(refusal.value)
    assert message.startswith("Could not load DenoisingAutoencoder from Hub repo dae-nowhere:")
    assert "mistyped" not in message and f"adding `--push-to-hub dae-nowhere` to: {TRAIN}" in message


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_hub_error_that_is_not_a_refusal_of_the_token_is_only_a_note(monkeypatch, capsys, status):
    """Only 401 and 403 stop a run before training: a rate limit or a server error may differ between the processes of
    a data-parallel run (one stopping would leave the others waiting) and may be gone by the time training ends."""
    def failing(self, *args, **kwargs):
        response = httpx.Response(status, request=httpx.Request("GET", "https://huggingface.co/api/whoami-v2"))
        raise huggingface_hub.errors.HfHubHTTPError(f"{status} Server Error\nbusy", response=response)
    monkeypatch.setattr(huggingface_hub.HfApi, "whoami", failing)
    assert token_refused() is None
    err = capsys.readouterr().err
    assert "note: the Hub could not be asked whether it accepts the token (HfHubHTTPError: " in err
    assert f"{status} Server Error" in err and "training anyway" in err
