"""Crash-safe, resumable bulk generation: one workflow execution per input line.

::

    from floimg_async import FloImg
    from floimg_async.bulk import BulkJob

    async with FloImg() as client:
        job = BulkJob(
            client, "wf_social_card", "cards.jsonl", "cards.journal",
            concurrency=16, out_path="results.jsonl", download_dir="images",
        )
        summary = await job.run()

Run the same job again after a crash, a Ctrl-C or a ``kill -9`` and it picks
up where it stopped: nothing is lost and nothing runs twice. Every step of
every item is recorded in a SQLite :class:`Journal` before and after it
happens, and each submission's Idempotency-Key (``bulk-<run id>-<index>``) is
derived from the journal, so a request that may or may not have reached the
server is re-sent with the same key and answered from the server's
idempotency record instead of running again.

``mode="sync"`` sends each item as one synchronous execute (one request per
item) instead of submit + polls (about two); see ``docs/scaling.md`` for what
each mode relies on. Needs only the core dependencies and the standard
library (``sqlite3``).
"""

from ._errors import (
    BulkError,
    JournalCorruptError,
    JournalLockedError,
    JournalMismatchError,
    UnsafePathError,
)
from ._input import InputFingerprint, InputItem, fingerprint, read_items
from ._items import ItemState, JournalItem, idempotency_key
from ._job import BulkJob
from ._journal import Journal
from ._paths import output_problem
from ._results import download_name, result_line
from ._summary import BulkProgress, BulkSummary, OnProgress, default_journal_path

__all__ = [
    "BulkError",
    "BulkJob",
    "BulkProgress",
    "BulkSummary",
    "InputFingerprint",
    "InputItem",
    "ItemState",
    "Journal",
    "JournalCorruptError",
    "JournalItem",
    "JournalLockedError",
    "JournalMismatchError",
    "OnProgress",
    "UnsafePathError",
    "default_journal_path",
    "download_name",
    "fingerprint",
    "idempotency_key",
    "output_problem",
    "read_items",
    "result_line",
]
