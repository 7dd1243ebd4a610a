"""What a bulk run reports: progress while it runs, a summary when it ends."""

from __future__ import annotations

import enum
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs

__all__ = ["BulkProgress", "BulkSummary", "OnProgress", "default_journal_path"]


@attrs.frozen
class BulkProgress:
    """A snapshot of a running job, handed to ``on_progress`` after each item.

    ``done`` counts items settled in this run (completed, failed, skipped or
    left unfinished) out of ``total``; ``in_flight`` are being worked on now.
    """

    total: int
    done: int
    completed: int
    failed: int
    skipped: int
    unfinished: int
    in_flight: int


#: ``on_progress`` callback: a function (or coroutine function) taking a :class:`BulkProgress`.
OnProgress = Callable[[BulkProgress], Awaitable[Any] | Any]


@attrs.frozen
class BulkSummary:
    """What a run did.

    ``completed``/``failed`` count items that ended that way *in this run*;
    ``skipped`` those already settled by an earlier run (not sent again);
    ``unfinished`` those left resumable (a transient error, a wait timeout, a
    failed download): run the same job again to finish them. ``resumed`` counts
    items a previous run had left in flight. ``completed_total`` and
    ``failed_total`` are the journal's totals over all runs. ``requests`` is the
    number of HTTP requests the client sent during the run (from ``client.stats``,
    retries included; ``None`` when not counted);
    ``mode`` how executions were sent (``"async"`` or ``"sync"``).
    """

    run_id: str
    workflow_id: str
    journal_path: Path
    out_path: Path | None
    total: int
    completed: int
    failed: int
    skipped: int
    unfinished: int
    resumed: int
    completed_total: int
    failed_total: int
    elapsed: float
    requests: int | None = None
    mode: str = "async"

    @property
    def ok(self) -> bool:
        """Whether every item of the input has completed."""
        return self.completed_total == self.total and self.unfinished == 0

    @property
    def requests_per_execution(self) -> float | None:
        """HTTP requests per item settled in this run, when requests were counted."""
        settled = self.completed + self.failed
        if self.requests is None or settled == 0:
            return None
        return self.requests / settled


def default_journal_path(
    input_path: str | os.PathLike[str], out_path: str | os.PathLike[str] | None = None
) -> Path:
    """Where a job keeps its journal by default: ``<out>.journal``, else ``<input>.journal``."""
    base = Path(out_path) if out_path is not None else Path(input_path)
    return base.with_name(base.name + ".journal")


class Outcome(enum.Enum):
    """How one item's turn in a run ended (internal)."""

    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNFINISHED = "unfinished"


@attrs.define
class Tally:
    """Counters of one run (internal)."""

    total: int
    completed: int = 0
    failed: int = 0
    skipped: int = 0
    unfinished: int = 0
    resumed: int = 0

    def add(self, outcome: Outcome) -> None:
        if outcome is Outcome.COMPLETED:
            self.completed += 1
        elif outcome is Outcome.FAILED:
            self.failed += 1
        elif outcome is Outcome.SKIPPED:
            self.skipped += 1
        else:
            self.unfinished += 1

    def progress(self, in_flight: int) -> BulkProgress:
        done = self.completed + self.failed + self.skipped + self.unfinished
        return BulkProgress(
            self.total,
            done,
            self.completed,
            self.failed,
            self.skipped,
            self.unfinished,
            in_flight,
        )
