"""The results file (JSON Lines, completion order) kept consistent with the journal.

A line is appended and flushed first, then the journal records it as written
together with the file's new size, in one transaction. A process killed
between the two leaves a line (or half a line) the journal does not know of:
the next run truncates the file back to the size the journal recorded and
writes that item again. A file shorter than recorded (deleted, or a different
``--out``) is rebuilt from the journal, and so is a file holding the old line of
a failed item that ``retry_failed`` ran again. So every item appears exactly once.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from ._errors import UnsafePathError
from ._journal import Journal, JournalItem

__all__ = ["ResultsFile", "download_name", "result_line"]

_SUFFIXES = {"jpeg": ".jpg", "jpg": ".jpg", "png": ".png", "webp": ".webp", "gif": ".gif"}
_SAFE_SUFFIX = re.compile(r"\.[a-z0-9]{1,5}")
_SAFE_FORMAT = re.compile(r"[a-z0-9]{1,10}")


def result_line(item: JournalItem) -> dict[str, Any]:
    """The JSON object written for one item (the API's camelCase, like the CLI's ``--json``)."""
    return {
        "index": item.index,
        "line": item.line,
        "parameters": item.parameters,
        "status": item.state.value,
        "executionId": item.execution_id,
        "outputUrl": item.output_url,
        "file": item.file,
        "attempt": item.attempt,
        "error": item.error,
        "errorCode": item.error_code,
    }


def download_name(index: int, output: dict[str, Any] | None) -> str:
    """The file name of an item's image: its zero-padded index, e.g. ``000017.png``.

    The extension comes from the URL's path or else the output's ``format``,
    and only when it is a short alphanumeric word (``.png`` otherwise), so a
    server's answer can never put a path separator or ``..`` into the name.
    """
    output = output or {}
    suffix = ""
    url = output.get("url")
    if isinstance(url, str):
        try:
            suffix = Path(unquote(urlsplit(url).path)).suffix.lower()
        except ValueError:
            suffix = ""
    if not _SAFE_SUFFIX.fullmatch(suffix):
        fmt = str(output.get("format") or "png").lower()
        suffix = _SUFFIXES.get(fmt, f".{fmt}" if _SAFE_FORMAT.fullmatch(fmt) else ".png")
    return f"{index:06d}{suffix}"


class ResultsFile:
    """The ``--out`` file of a run, appended to in completion order."""

    def __init__(self, path: str | os.PathLike[str], journal: Journal) -> None:
        self.path = Path(path)
        self._journal = journal
        self._handle: IO[bytes] | None = None

    def open(self) -> None:
        """Make the file agree with the journal, then open it for appending. Blocking."""
        path, journal = self.path, self._journal
        recorded = journal.out_size
        key = str(path.resolve())
        size = path.stat().st_size if path.exists() else -1
        self._partial().unlink(missing_ok=True)  # a rebuild a crash interrupted
        if journal.out_path != key and size > 0:
            raise UnsafePathError(
                f"--out {str(path)!r} already holds {size} bytes this journal did not write "
                f"({str(journal.path)!r} wrote {journal.out_path or 'no results file yet'!r}); "
                "it is left untouched. Give another --out, or delete the file to have the "
                "journal write it afresh"
            )
        if journal.out_path != key or size < recorded or journal.out_dirty:
            self._rebuild(key)
        elif size > recorded:
            # Lines written just before a crash, before the journal recorded them.
            with path.open("r+b") as handle:
                handle.truncate(recorded)
        self._handle = path.open("ab")

    def _partial(self) -> Path:
        return self.path.with_name(f".{self.path.name}.rebuild")

    def _rebuild(self, key: str) -> None:
        partial = self._partial()
        with partial.open("wb") as handle:
            for item in self._journal.written_items():
                handle.write(_encode(result_line(item)))
            handle.flush()
            os.fsync(handle.fileno())
            size = handle.tell()
        os.replace(partial, self.path)
        self._journal.set_out(key, size)

    def finish(self) -> None:
        """Close the file, rebuilding it first if a retried item left a stale line in it."""
        self.close()
        if self._journal.out_dirty:
            self._rebuild(str(self.path.resolve()))

    def write(self, item: JournalItem) -> None:
        """Append the item's line, then record it as written in the journal."""
        handle = self._handle
        if handle is None:
            raise RuntimeError("the results file is not open")
        handle.write(_encode(result_line(item)))
        handle.flush()
        self._journal.mark_written(item.index, handle.tell())

    def close(self) -> None:
        """Close the file. Idempotent."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _encode(line: dict[str, Any]) -> bytes:
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
