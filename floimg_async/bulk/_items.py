"""What the journal knows of one item: its state, its key, its outcome."""

from __future__ import annotations

import enum
from typing import Any

import attrs

__all__ = ["ItemState", "JournalItem", "idempotency_key"]


class ItemState(str, enum.Enum):
    """Where one item stands. ``queued → submitting → submitted → completed | failed``.

    ``submitting`` is recorded *before* the request goes out: an item found in
    that state after a crash may or may not have reached the server, and is
    sent again with the same Idempotency-Key.
    """

    QUEUED = "queued"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        """Whether the item has ended (``completed`` or ``failed``)."""
        return self in (ItemState.COMPLETED, ItemState.FAILED)


def idempotency_key(run_id: str, index: int, attempt: int) -> str:
    """The Idempotency-Key of an item's submission: ``bulk-<run>-<index>``.

    Retries of a failed item (``attempt`` 2, 3 …) get ``-r<attempt>`` appended:
    the first key would make the server replay the failure.
    """
    base = f"bulk-{run_id}-{index}"
    return base if attempt <= 1 else f"{base}-r{attempt}"


@attrs.frozen
class JournalItem:
    """One item as the journal knows it.

    ``parameters`` is ``None`` for an input line that was not a JSON object;
    ``output`` is the completed execution's output (``url``, ``width``,
    ``height``, ``format``); ``file`` the downloaded image; ``written`` whether
    its result line is in the results file.
    """

    index: int
    line: int
    parameters: dict[str, Any] | None
    state: ItemState
    attempt: int
    idempotency_key: str
    execution_id: str | None = None
    output: dict[str, Any] | None = None
    error: str | None = None
    error_code: str | None = None
    file: str | None = None
    written: bool = False

    @property
    def output_url(self) -> str | None:
        """The URL of the produced image, when the item completed."""
        url = (self.output or {}).get("url")
        return url if isinstance(url, str) else None
