"""SQLite and file-lock plumbing of the journal."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from types import TracebackType
from typing import IO

from ._errors import JournalLockedError

__all__ = ["Transaction", "acquire_lock", "release_lock"]


class Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def acquire_lock(path: Path) -> IO[bytes]:
    """Lock ``path`` exclusively without blocking, or raise :class:`JournalLockedError`.

    The lock file exists only while a run holds it: :func:`release_lock`
    removes it *before* letting go of the lock. A process that opened the old
    file just before it was removed could then lock a file no longer at
    ``path``; so after locking, the file's identity is compared with what is at
    ``path`` now, and on a mismatch the lock is taken again on the new file.
    Two runs can therefore never both hold a journal's lock. A killed process
    leaves the (empty, unlocked) file behind; the next run takes it over.
    """
    path = path.absolute()  # removal must hit this file even if the cwd changes
    for _ in range(100):
        handle = path.open("a+b")
        try:
            _lock(handle)
        except OSError as exc:
            handle.close()
            raise JournalLockedError(
                f"another process is running a bulk job on this journal (lock {str(path)!r} "
                "is held); wait for it to finish or stop it first"
            ) from exc
        if sys.platform == "win32" or _same_inode(handle, path):
            return handle
        handle.close()  # the file was removed by its last holder: lock the new one
    raise JournalLockedError(f"could not take the lock {str(path)!r}: it keeps being replaced")


def release_lock(handle: IO[bytes]) -> None:
    """Remove the lock file while still holding the lock, then release it (by closing).

    On Windows an open file cannot be removed, so the empty file stays there.
    """
    if sys.platform != "win32":
        path = Path(handle.name)
        if _same_inode(handle, path):
            path.unlink(missing_ok=True)
    handle.close()  # closing the file releases the lock on every platform


def _lock(handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _same_inode(handle: IO[bytes], path: Path) -> bool:
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(handle.fileno())
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)
