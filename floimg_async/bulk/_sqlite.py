"""SQLite and file-lock plumbing of the journal."""

from __future__ import annotations

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
    """Open ``path`` and lock it exclusively without blocking, or raise JournalLockedError."""
    handle = path.open("a+b")
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.close()
        raise JournalLockedError(
            f"another process is running a bulk job on this journal (lock {str(path)!r} "
            "is held); wait for it to finish or stop it first"
        ) from exc
    return handle


def release_lock(handle: IO[bytes]) -> None:
    # Closing the file releases the lock on every platform.
    handle.close()
