"""The journal's lock: never two holders, and no ``.lock`` file left after a run."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from floimg_async.bulk import Journal, JournalLockedError
from floimg_async.bulk import _sqlite as sqlite_plumbing


def _hammer(lock: Path, threads: int = 6, rounds: int = 150) -> tuple[int, int]:
    """Threads take and release the lock as fast as they can; return (max holders, grants)."""
    holders = 0
    most = 0
    grants = 0
    guard = threading.Lock()
    start = threading.Barrier(threads)

    def worker() -> None:
        nonlocal holders, most, grants
        start.wait()
        for _ in range(rounds):
            try:
                handle = sqlite_plumbing.acquire_lock(lock)
            except JournalLockedError:
                continue
            with guard:
                holders += 1
                grants += 1
                most = max(most, holders)
            time.sleep(0)  # let another thread try while this one holds it
            with guard:
                holders -= 1
            sqlite_plumbing.release_lock(handle)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return most, grants


def test_bulk_lock_file_is_removed_yet_never_held_twice(tmp_path: Path) -> None:
    lock = tmp_path / "j.lock"
    most, grants = _hammer(lock)
    assert grants > 0
    assert most == 1
    assert not lock.exists()


def test_bulk_lock_without_the_identity_check_would_be_held_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check is what makes removing the file safe: without it the race shows up."""
    monkeypatch.setattr(sqlite_plumbing, "_same_inode", lambda handle, path: True)
    seen = 0
    for n in range(30):  # a race: bounded attempts until it shows (usually the first)
        seen = max(seen, _hammer(tmp_path / f"j{n}.lock", rounds=300)[0])
        if seen >= 2:
            break
    assert seen >= 2


def test_bulk_journal_leaves_no_lock_file_and_still_excludes_a_second_runner(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j"
    with Journal(path):
        assert (tmp_path / "j.lock").exists()
        with pytest.raises(JournalLockedError):
            Journal(path)
    assert not (tmp_path / "j.lock").exists()
    (tmp_path / "j.lock").write_bytes(b"")  # what a kill -9 leaves behind
    with Journal(path):
        pass
    assert not (tmp_path / "j.lock").exists()
