"""How a failure is told: its code, one-line message and exit status; per-item outcomes.

Exit statuses: 0 success; 1 a command that ran but did not fully succeed (bulk
items failed) or an unexpected error; 2 usage or configuration (bad option,
no API key, a journal for another input, a local file problem); 3 the API
answered with an error (including a failed workflow); 4 no usable answer
(connection, timeout, a wait that timed out); 130 interrupted (Ctrl-C,
SIGTERM); 141 stdout closed by its reader (``| head``), the SIGPIPE convention.
"""

from __future__ import annotations

from typing import Any

import click

from .. import (
    APIConnectionError,
    APIError,
    FloImgError,
    ResponseDecodeError,
    WaitTimeoutError,
)
from ..bulk import BulkError
from ._context import Settings
from ._output import emit_json, safe_text

__all__ = [
    "EXIT_API",
    "EXIT_BROKEN_PIPE",
    "EXIT_CONNECTION",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "ItemsFailed",
    "NotDeletedError",
    "Outcomes",
    "describe",
    "print_error",
]

EXIT_USAGE = 2
EXIT_API = 3
EXIT_CONNECTION = 4
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `yes | head -1`

_FILE_ERRORS = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


class NotDeletedError(FloImgError):
    """The API answered a delete without confirming that the image was deleted."""

    code = "not_deleted"


def describe(exc: BaseException) -> tuple[str, str, int]:
    """``(code, message, exit status)`` of an error that ends a command or an item."""
    if isinstance(exc, APIError):
        message = exc.message
        if exc.request_id:
            message += f" (request_id={exc.request_id})"
        return exc.code or f"http_{exc.status}", message, EXIT_API
    if isinstance(exc, FloImgError):  # every SDK error names itself with a stable code
        if isinstance(exc, NotDeletedError):
            status = EXIT_API
        elif isinstance(exc, APIConnectionError | ResponseDecodeError | WaitTimeoutError):
            status = EXIT_CONNECTION
        elif isinstance(exc, BulkError):
            status = EXIT_USAGE
        else:
            status = 1
        return exc.code, str(exc), status
    if isinstance(exc, ValueError | TypeError):
        return "invalid_argument", str(exc), EXIT_USAGE
    if isinstance(exc, _FILE_ERRORS):
        return "file_error", str(exc), EXIT_USAGE
    if isinstance(exc, OSError):
        return "os_error", str(exc), 1
    return "internal_error", f"{type(exc).__name__}: {exc}", 1


def print_error(code: str, message: str) -> None:
    """Print ``error: <code>: <message>`` on one line; server words shown, never obeyed."""
    click.echo(safe_text(f"error: {code}: {' '.join(message.split())}"), err=True)


class ItemsFailed(Exception):
    """Some items of a multi-item command failed (each was already reported)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Outcomes:
    """The outcome of each item of a multi-item command (upload, delete, download).

    Every item is tried whatever happened to the ones before; a failure is
    reported at once by the item's name (one ``error:`` line on stderr, and in
    ``--json`` mode a JSON line on stdout with an ``error`` object), and
    :meth:`finish` ends the command with the exit status of the first failure.
    """

    def __init__(self, settings: Settings, what: str) -> None:
        self._settings = settings
        self._what = what
        self.total = 0
        self.failed: list[str] = []
        self._status: int | None = None

    def succeeded(self) -> None:
        """Count one item that went well (its output was printed by the caller)."""
        self.total += 1

    def failure(self, name: str, exc: Exception, record: dict[str, Any]) -> None:
        """Report that the item ``name`` failed with ``exc``; ``record`` names it in JSON."""
        self.total += 1
        code, message, status = describe(exc)
        self.failed.append(name)
        if self._status is None:
            self._status = status
        if self._settings.json:
            emit_json({**record, "error": {"code": code, "message": message}})
        print_error(code, f"{name}: {message}")

    def finish(self) -> None:
        """Raise :class:`ItemsFailed` if any item failed."""
        if not self.failed or self._status is None:
            return
        shown = ", ".join(self.failed[:5]) + (", …" if len(self.failed) > 5 else "")
        raise ItemsFailed(
            f"{len(self.failed)} of {self.total} {self._what} failed: {shown}", self._status
        )
