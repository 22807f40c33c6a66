"""The tabs' output folders: a fresh folder per call, and the folders of calls long finished removed, not piled up."""
import atexit
import os
import shutil
import time

from app_server import running_app
from demos.output_files import KEEP_SECONDS, OutputFolder


def test_each_call_gets_its_own_empty_folder_and_old_ones_are_removed(monkeypatch):
    registered = []
    monkeypatch.setattr(atexit, "register", lambda *args, **kwargs: registered.append((args, kwargs)))
    folder = OutputFolder("test")
    try:
        assert folder.root.name.startswith("gallery-test-")
        # at exit, a tree that is already gone (or half gone) must not print a traceback
        assert registered == [((shutil.rmtree, folder.root), {"ignore_errors": True})]
        old, recent = folder.new(), folder.new()
        assert old != recent and old.parent == recent.parent == folder.root and not any(old.iterdir())
        (old / "walk.gif").write_bytes(b"GIF89a")
        long_ago, a_while_ago = time.time() - KEEP_SECONDS - 1, time.time() - KEEP_SECONDS + 60
        os.utime(old, (long_ago, long_ago))
        os.utime(recent, (a_while_ago, a_while_ago))  # nine minutes old: a slow call may still be writing into it
        current = folder.new()
        assert not old.exists() and recent.is_dir() and current.is_dir()  # only the finished call's folder went
    finally:
        shutil.rmtree(folder.root, ignore_errors=True)


def test_a_folder_removed_meanwhile_is_not_an_error(monkeypatch):
    folder = OutputFolder("test")
    try:
        gone = folder.new()
        real_stat = type(gone).stat

        def vanished(path, *args, **kwargs):  # another call removed it between the listing and the stat
            if path == gone:
                shutil.rmtree(gone)
            return real_stat(path, *args, **kwargs)
        monkeypatch.setattr(type(gone), "stat", vanished)
        assert folder.new().is_dir() and not gone.exists()
    finally:
        shutil.rmtree(folder.root, ignore_errors=True)


def test_the_app_deletes_gradios_copies_of_returned_files():
    import app
    frequency, age = app.DELETE_CACHE
    assert app.build_demo().delete_cache == app.DELETE_CACHE and 0 < frequency <= age
    assert age <= 2 * 3600  # a 4-megapixel photo's views and download are about 30 MB


def test_a_server_stopped_by_sigterm_removes_the_tabs_output_folders(tmp_path):
    """A kill (a test's teardown, a host stopping the app) used to end the process before its atexit clean-up:
    760 gallery-* folders had piled up in /tmp here."""
    with running_app(tmp_path):
        made = list((tmp_path / "tmp").glob("gallery-*"))
        assert len(made) >= 4  # one per tab that writes files, made at start
    assert not list((tmp_path / "tmp").glob("gallery-*"))
