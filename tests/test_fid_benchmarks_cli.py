"""The FID benchmarks refuse counts they cannot use before any work, measure what their reports say, leave the peers'
~183 MB of weights unwritten when no peer is installed, and show progress while they work.

Where a real run would take minutes, Inception is swapped for fid_memory's stand-in (the same 2048-d output), the
2048×2048 square root for a number and the 17-minute FID command for the file it writes; the rest is the scripts' own
code."""
import contextlib
import io
import json
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks import fid_agreement, fid_distance_speed, fid_full_run, fid_memory, fid_speed
from benchmarks.fid_agreement import write_pngs
from benchmarks.fid_memory import StandIn


def must_not_run(*args):
    raise AssertionError("~183 MB of peer weights written though no peer is installed")


def no_peer_installed(monkeypatch):
    monkeypatch.setattr(fid_agreement, "PEERS", {name: (("no_such_peer_module",), None) for name in fid_agreement.PEERS})


def run_fid_speed(monkeypatch, tmp_path, data_root, *flags) -> tuple[dict, str]:
    """fid_speed.py on 4 digits, one pass, with the stand-in for both networks and no peer: its JSON and markdown."""
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(fid_speed, "load_fid_inception", lambda: StandIn().eval())
    monkeypatch.setattr(fid_speed, "load_scripted", lambda: StandIn().eval())
    no_peer_installed(monkeypatch)
    out = tmp_path / "out"
    fid_speed.main(["--data-root", str(data_root), "--images", "4", "--repeats", "1", "--out-dir", str(out), *flags])
    return json.loads((out / "fid_speed.json").read_text()), (out / "fid_speed.md").read_text()


@pytest.mark.parametrize("flags", [["--batch-sizes", "8", "--peer-batch-sizes", "16"],
                                   ["--batch-sizes", "1", "--peer-batch-sizes", "1"]], ids=["peers at 16", "batch 1"])
def test_fid_speed_times_every_pipeline_at_the_default_batch_size_the_verdict_compares(flags, tmp_path, monkeypatch,
                                                                                       data_root):
    """The verdict compares ours with the TorchScript at batch 8, which the peers' sizes lacked (a StopIteration after
    all the timing); a batch of 1 warmed up on 1 digit, fewer than FID takes."""
    report, markdown = run_fid_speed(monkeypatch, tmp_path, data_root, *flags)
    timed = {(row["pipeline"].split()[0], row["batch_size"]) for row in report["speed"]}
    ours, peers = int(flags[1]), int(flags[3])
    assert {("ours", 8), ("ours", ours), ("default_1.pt", 8), ("default_1.pt", peers)} <= timed
    assert report["verdict"]["rebuild_vs_torchscript"] > 0 and "same data path, batch 8" in markdown


def test_fid_speed_without_a_peer_skips_the_peers_with_a_note_and_writes_no_weights(tmp_path, monkeypatch, data_root):
    monkeypatch.setattr(fid_agreement, "prepare_peer_weights", must_not_run)
    monkeypatch.setattr(fid_speed, "prepare_peer_weights", must_not_run, raising=False)  # the name it was imported by
    report, markdown = run_fid_speed(monkeypatch, tmp_path, data_root, "--batch-sizes", "8", "--peer-batch-sizes", "8")
    assert set(report["skipped_peers"]) == set(fid_agreement.PEERS)
    assert "No peer is installed (pip install pytorch-fid clean-fid)" in markdown
    assert not (tmp_path / "cache" / "fid-peers").exists()


@pytest.mark.parametrize("installed", [False, True], ids=["none installed", "one installed"])
def test_the_peer_weights_are_written_only_when_a_peer_will_load_them(installed, monkeypatch):
    module = "json" if installed else "no_such_peer_module"
    monkeypatch.setattr(fid_agreement, "PEERS", {"peer": ((module,), lambda: "built")})
    written = []
    monkeypatch.setattr(fid_agreement, "prepare_peer_weights", lambda: written.append("weights") or {"file": "where"})
    peers, skipped, weights = fid_agreement.available_peers()
    if installed:
        assert (peers, skipped, weights, written) == ({"peer": "built"}, {}, {"file": "where"}, ["weights"])
    else:
        assert (peers, weights, written) == ({}, {}, []) and "pip install pytorch-fid clean-fid" in skipped["peer"]


def test_fid_agreement_without_a_peer_says_what_to_install_before_writing_weights(tmp_path, monkeypatch):
    digits = np.zeros((3, 28, 28), np.uint8)
    monkeypatch.setattr(fid_agreement, "load_sets", lambda data_root, n: {"A": digits, "B": digits, "C": digits})
    monkeypatch.setattr(fid_agreement, "prepare_peer_weights", must_not_run)
    no_peer_installed(monkeypatch)
    with pytest.raises(SystemExit) as exit_info:
        fid_agreement.main(["--n", "3", "--out-dir", str(tmp_path / "out")])
    assert exit_info.value.code == "error: no peer to compare with is installed: pip install pytorch-fid clean-fid"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("parse_args, flags, message", [
    (fid_speed.parse_args, ["--images", "1"], "argument --images: must be from 2 to 9,968 "),
    (fid_speed.parse_args, ["--images", "10000"], "argument --images: must be from 2 to 9,968 "),
    (fid_speed.parse_args, ["--images", "100", "--batch-sizes", "9999"],
     "argument --batch-sizes/--peer-batch-sizes: must be at most 9,998 "),
    (fid_agreement.parse_args, ["--n", "1"], "argument --n: must be from 2 to 5,000 "),
    (fid_agreement.parse_args, ["--n", "5001"], "argument --n: must be from 2 to 5,000 "),
    (fid_full_run.parse_args, ["--count", "1"], "argument --count: must be at least 4 "),
    (fid_full_run.parse_args, ["--count", "3"], "argument --count: must be at least 4 "),
    (fid_memory.parse_args, ["--stream", "1"], "argument --stream: must be from 2 to 60,000 "),
    (fid_memory.parse_args, ["--stream", "60001"], "argument --stream: must be from 2 to 60,000 "),
], ids=["speed --images 1", "speed --images 10000", "speed --batch-sizes 9999", "agreement --n 1",
        "agreement --n 5001", "full run --count 1", "full run --count 3", "memory --stream 1", "memory --stream 60001"])
def test_counts_the_run_cannot_use_are_usage_errors(parse_args, flags, message, capsys):
    """Each passed ``positive_int`` and ended, once the data or the model had loaded, in a traceback naming a temp
    folder (or, for fid_memory, streamed the 60,000 there are)."""
    with pytest.raises(SystemExit) as exit_info:
        parse_args(flags)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_the_ends_of_those_ranges_are_accepted():
    assert fid_speed.parse_args(["--images", "9968"]).images == 9968
    assert fid_speed.parse_args(["--images", "2", "--batch-sizes", "1", "--peer-batch-sizes", "1"]).batch_sizes == [1, 8]
    assert fid_agreement.parse_args(["--n", "5000"]).n == 5000 and fid_agreement.parse_args(["--n", "2"]).n == 2
    assert fid_full_run.parse_args(["--count", "4"]).count == 4
    assert fid_memory.parse_args(["--stream", "2"]).stream == 2
    assert fid_memory.parse_args(["--stream", "60000"]).stream == 60000


def test_a_failing_fid_command_ends_with_its_message_and_one_line_not_a_traceback(tmp_path, capfd):
    write_pngs(np.zeros((1, 28, 28), np.uint8), tmp_path / "samples")
    with pytest.raises(SystemExit) as exit_info:
        fid_full_run.timed_cli(tmp_path / "samples", "classifier", tmp_path / "classifier.json")
    assert exit_info.value.code == ("error: the FID command with --features classifier failed (exit status 1; "
                                    "its message is above)")
    assert "holds 1 image file, at least 2 are needed" in capfd.readouterr().err  # the command's own message


def fake_fid_command(command, **kwargs):
    """What ``python -m generative.metrics.fid mnist-test SAMPLES ... --json PATH`` writes, without its 17 minutes."""
    samples = len(list(Path(command[4]).glob("*.png")))
    result = {"metric": "FID", "value": 7.0, "kid": [0.005, 0.001], "precision_recall": [0.7, 0.7],
              "extractor": f"{command[command.index('--features') + 1]} features", "resize": "pytorch-fid",
              "a": {"source": "mnist-test", "n": 10000, "skipped": 0},
              "b": {"source": command[4], "n": samples, "skipped": 0}}
    Path(command[command.index("--json") + 1]).write_text(json.dumps(result))
    time.sleep(0.1)  # a wall time that the report's 0.1 s rounding keeps above 0
    return subprocess.CompletedProcess(command, 0)


@pytest.mark.parametrize("count, vectors, subset", [(40, 40, 40), (2_000, 1_000, 1_000)])
def test_fid_full_run_reports_the_feature_vectors_kid_and_precision_recall_used(count, vectors, subset, tmp_path,
                                                                                 monkeypatch):
    """The report said "the first 1,000 feature vectors" and "subsets of 1,000" whatever --count was."""
    monkeypatch.setattr(fid_full_run, "subprocess", SimpleNamespace(run=fake_fid_command))
    fid_full_run.main(["--count", str(count), "--out-dir", str(tmp_path)])
    report = json.loads((tmp_path / "fid_full_run.json").read_text())
    markdown = (tmp_path / "fid_full_run.md").read_text()
    for run in report["runs"]:
        assert (run["precision_recall_vectors"], run["kid_subset_size"]) == (vectors, subset)
        assert run["kept"] == {"reference": 1_000, "samples": count}
    assert markdown.count(f"(the first {vectors:,} vectors of each set)") == markdown.count(f"subsets of {subset:,})") == 2
    assert f"the samples' {count:,}" in markdown


@pytest.fixture(scope="module")
def quick_memory_run(tmp_path_factory, data_root):
    """fid_memory.py --stream 200 (seconds): its JSON and what it printed on stderr."""
    out, stderr = tmp_path_factory.mktemp("fid-memory"), io.StringIO()
    with contextlib.redirect_stderr(stderr):
        fid_memory.main(["--data-root", str(data_root), "--stream", "200", "--out-dir", str(out)])
    return json.loads((out / "fid_memory.json").read_text())["memory"], stderr.getvalue()


def test_fid_memory_measures_growth_from_a_tenth_of_any_stream(quick_memory_run):
    """--stream 2,000 (the quick check) measured "growth from 2,000 to 2,000 images": the checkpoints began at 5,000."""
    memory, _ = quick_memory_run
    assert list(memory["peak_rss_mb_up_to"]) == ["20", "40", "80", "200"] and memory["first_checkpoint"] == 20
    assert memory["images"] == 200


def test_fid_memory_shows_its_progress(quick_memory_run):
    assert "features of digits.zip" in quick_memory_run[1]


def test_fid_agreement_shows_progress_through_our_pipeline_and_the_peers(tmp_path, monkeypatch, capsys):
    """Each resize convention took 45–72 s at --n 20 without a line on the screen (500 by default)."""
    monkeypatch.setattr(fid_agreement, "compare", lambda a, b: SimpleNamespace(fid=1.0))  # a ~12 s square root per pair
    folders = {name: write_pngs(np.full((3, 28, 28), value, np.uint8), tmp_path / name)
               for name, value in (("A", 0), ("B", 100), ("C", 200))}
    ours = fid_agreement.ours(folders, StandIn().eval(), "pytorch-fid", 8)
    err = capsys.readouterr().err
    assert all(f"features of {folder}" in err for folder in folders.values())  # a bar for each set
    peer = fid_agreement.Peer("stand-in peer", "numpy", "pytorch-fid",
                              lambda folder, batch_size: ours["features"][folder.name], lambda a, b: 1.0)
    fid_agreement.run_peer(peer, folders, 8, ours)
    assert "stand-in peer, sets" in capsys.readouterr().err


def test_fid_distance_speed_shows_its_progress(monkeypatch, capsys):
    """About 35 s with nothing on the screen: three square roots of 2048×2048, then the command in a fresh process."""
    monkeypatch.setattr(fid_distance_speed, "frechet_distance", lambda a, b: 176.6)  # the ~12 s square root
    monkeypatch.setattr(fid_distance_speed.subprocess, "run", lambda command, **kwargs: SimpleNamespace(returncode=0))
    fid_distance_speed.measure(2)
    err = capsys.readouterr().err
    assert "frechet_distance" in err and "python -m generative.metrics.fid mnist-test fashion-mnist-test` in a fresh" in err


def test_a_failing_fid_distance_command_ends_with_its_message_and_one_line_not_a_traceback(monkeypatch, capfd):
    monkeypatch.setattr(fid_distance_speed, "frechet_distance", lambda a, b: 176.6)
    failing = [fid_distance_speed.sys.executable, "-c", "import sys; sys.exit('error: no statistics here')"]
    monkeypatch.setattr(fid_distance_speed, "COMMAND", failing)
    with pytest.raises(SystemExit) as exit_info:
        fid_distance_speed.measure(1)
    assert exit_info.value.code == ("error: `python -c import sys; sys.exit('error: no statistics here')` failed "
                                    "(exit status 1; its message is above)")
    assert "error: no statistics here" in capfd.readouterr().err  # the command's own message
