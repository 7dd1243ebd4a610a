"""The errors of bulk runs; all are :class:`~floimg_async.FloImgError` subclasses."""

from __future__ import annotations

from .. import FloImgError

__all__ = [
    "BulkError",
    "JournalCorruptError",
    "JournalLockedError",
    "JournalMismatchError",
    "UnsafePathError",
]


class BulkError(FloImgError):
    """Base class of the errors a bulk run raises before or instead of doing its work."""

    code = "bulk_error"


class JournalMismatchError(BulkError):
    """The journal belongs to another workflow or another input file.

    Resuming it would pair stored results with different inputs, so the run is
    refused before any request. Use another journal path, or delete the journal
    to start afresh (items it already ran would then run again).
    """

    code = "journal_mismatch"


class JournalLockedError(BulkError):
    """Another process is running a bulk job on the same journal."""

    code = "journal_locked"


class JournalCorruptError(BulkError):
    """The journal file is damaged, or is not a bulk journal at all.

    Raised before any request when the file is not a SQLite database of this
    format (for example another program's file given as ``--journal``), and
    during a run when SQLite reports the database malformed. Nothing is
    written to such a file. ``floimg bulk`` exits with status 5. Restore the
    journal from a backup, or start afresh with another ``--journal`` (items
    the damaged journal had run would then run again).
    """

    code = "journal_corrupt"


class UnsafePathError(BulkError):
    """A path of the run would overwrite the user's data, so the run is refused.

    Raised before anything is written when ``out_path``, the journal (or its
    lock and SQLite side files) is the input file under any spelling (the same
    path, a symlink, a hard link), when two outputs are the same file, when
    ``out_path`` holds results this journal did not write, or when the
    download folder holds another run's images.
    """

    code = "unsafe_path"
