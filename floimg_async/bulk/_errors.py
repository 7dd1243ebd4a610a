"""The errors of bulk runs; all are :class:`~floimg_async.FloImgError` subclasses."""

from __future__ import annotations

from .._errors import FloImgError

__all__ = ["BulkError", "JournalLockedError", "JournalMismatchError"]


class BulkError(FloImgError):
    """Base class of the errors a bulk run raises before or instead of doing its work."""


class JournalMismatchError(BulkError):
    """The journal belongs to another workflow or another input file.

    Resuming it would pair stored results with different inputs, so the run is
    refused before any request. Use another journal path, or delete the journal
    to start afresh (items it already ran would then run again).
    """


class JournalLockedError(BulkError):
    """Another process is running a bulk job on the same journal."""
