"""The input of a bulk run: one JSON object of parameters per line, read lazily."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

__all__ = ["InputFingerprint", "InputItem", "fingerprint", "read_items"]

_HASH_CHUNK = 1024 * 1024


@attrs.frozen
class InputFingerprint:
    """What identifies an input file: its SHA-256, its size and its item count.

    ``items`` counts the non-blank lines, so a progress bar knows the total.
    """

    sha256: str
    size: int
    items: int


@attrs.frozen
class InputItem:
    """One non-blank input line: its item ``index`` (0-based), ``line`` number (1-based)
    and either its ``parameters`` or the ``error`` that made it unusable."""

    index: int
    line: int
    parameters: dict[str, Any] | None
    error: str | None = None


def fingerprint(path: str | os.PathLike[str]) -> InputFingerprint:
    """Hash the file in one streaming pass (flat memory) and count its items. Blocking."""
    digest = hashlib.sha256()
    size = 0
    items = 0
    with Path(path).open("rb") as handle:
        for raw in handle:  # line by line: buffered, never the whole file
            digest.update(raw)
            size += len(raw)
            if raw.strip():
                items += 1
    return InputFingerprint(sha256=digest.hexdigest(), size=size, items=items)


def parse_line(raw: bytes, line: int) -> tuple[dict[str, Any] | None, str | None]:
    """Decode one line into parameters, or return the reason it is not usable."""
    try:
        value = json.loads(raw)
    except UnicodeDecodeError:
        return None, f"line {line}: not UTF-8 text"
    except ValueError as exc:
        return None, f"line {line}: invalid JSON ({exc})"
    if not isinstance(value, dict):
        return None, (
            f"line {line}: expected a JSON object of parameters, got {type(value).__name__}"
        )
    return value, None


def read_items(path: str | os.PathLike[str]) -> Iterator[InputItem]:
    """Yield the file's items one line at a time; blank lines are skipped.

    A line that is not a JSON object is yielded with ``error`` set rather than
    raised, so one bad line never stops a run.
    """
    index = 0
    with Path(path).open("rb") as handle:
        for line, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            parameters, error = parse_line(raw, line)
            yield InputItem(index=index, line=line, parameters=parameters, error=error)
            index += 1
