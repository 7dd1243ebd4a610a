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


_MAX_DEPTH = 64


def _depth_ok(value: Any) -> bool:
    """Whether ``value`` nests at most ``_MAX_DEPTH`` containers deep (iteratively)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > _MAX_DEPTH:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_line(raw: bytes, line: int) -> tuple[dict[str, Any] | None, str | None]:
    """Decode one line into parameters, or return the reason it is not usable.

    Never raises: whatever the bytes, the answer is parameters or a reason.
    A usable line is UTF-8 text holding one JSON object, nested at most
    64 levels deep, whose strings are valid Unicode (no lone surrogates) and
    whose numbers are finite, so it can be journaled and sent as it was read.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"line {line}: not UTF-8 text (byte {exc.start})"
    if line == 1:
        text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        return None, f"line {line}: JSON nested too deeply (at most {_MAX_DEPTH} levels)"
    except ValueError as exc:
        return None, f"line {line}: invalid JSON ({_short(str(exc))})"
    if not isinstance(value, dict):
        return None, (
            f"line {line}: expected a JSON object of parameters, got {type(value).__name__}"
        )
    if not _depth_ok(value):
        return None, f"line {line}: JSON nested too deeply (at most {_MAX_DEPTH} levels)"
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        return None, f"line {line}: a string holds a lone surrogate (\\ud800-\\udfff), not text"
    except ValueError:
        return None, f"line {line}: a number is out of range (not a finite float)"
    except RecursionError:
        return None, f"line {line}: JSON nested too deeply (at most {_MAX_DEPTH} levels)"
    return value, None


def _short(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


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
