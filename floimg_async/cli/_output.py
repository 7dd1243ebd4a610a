"""Everything the CLI prints on stdout: JSON (one object per result) or human text.

JSON of a model is its ``to_dict()``: the API's own camelCase field names
(``executionId``, ``projectId``, ``createdAt``, ``duration``), so ``floimg …
--json`` looks like the HTTP API's answers and the API reference applies to
it. Datetimes are ISO 8601 in UTC with a ``Z``.
"""

from __future__ import annotations

import contextlib
import enum
import json
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any

import attrs
import click

__all__ = [
    "REDACTED",
    "TableWriter",
    "emit_json",
    "forget_secrets",
    "human_time",
    "json_text",
    "keep_secret",
    "safe_lines",
    "safe_text",
    "show_object",
    "stdout_is_terminal",
    "to_jsonable",
    "tolerate_any_encoding",
]

# Characters a terminal may act on instead of showing: C0 and C1 controls (ESC starts
# CSI/OSC sequences such as OSC-8 links; 0x9b is a one-byte CSI), DEL, the Unicode
# line/paragraph separators, the bidi overrides and isolates (they reorder what the
# reader sees), and lone surrogates (they cannot even be encoded). Server text is shown
# with each of them spelled as a visible escape, never sent to the terminal as is.
_BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE_TEXT = re.compile(rf"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")
# In JSON the C0 controls are already escaped by json.dumps; the rest are escaped as
# \uXXXX, which keeps the line valid JSON that decodes to the original string.
_UNSAFE_JSON = re.compile(rf"[\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")


REDACTED = "[redacted]"
# The API key of this run (see keep_secret). The SDK scrubs it from what it raises, but
# a server can put it anywhere (an echoed Authorization header as X-Request-Id, a name,
# an id): every line the CLI prints passes safe_text or json_text, which blank it out.
_SECRETS: list[str] = []


def keep_secret(secret: str | None) -> None:
    """Never print ``secret`` (the API key): from now on it shows as ``[redacted]``."""
    if secret and secret not in _SECRETS:
        _SECRETS.append(secret)
        _SECRETS.sort(key=len, reverse=True)  # a key inside another key: the longer first


def forget_secrets() -> None:
    """Forget every secret given to :func:`keep_secret` (a new run of ``floimg``)."""
    _SECRETS.clear()


# The password of a URL's userinfo (scheme://user:PASSWORD@host): text output (error
# lines and -v logs included) shows it as ***, the user name kept so the URL is still
# recognisable. JSON keeps URLs exact: a program reading it may need them.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/?#@:]*:)[^\s/?#@]*@")


def _redact(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, REDACTED)
    return text


def _visible_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """Spell every control, bidi override and lone surrogate in ``text`` as a visible escape.

    Everything the CLI prints as text that may hold a server's words goes through
    this, so a name can never move the cursor, colour the screen, open a link
    (OSC 8) or reorder a line. Rich markup is never parsed from such text either.
    The API key (see :func:`keep_secret`) shows as ``[redacted]``, and the password
    of a URL (``https://user:PASSWORD@host``) as ``***``.
    """
    return _UNSAFE_TEXT.sub(_visible_escape, _URL_PASSWORD.sub(r"\1***@", _redact(text)))


def safe_lines(text: str) -> str:
    """:func:`safe_text` line by line: the line breaks of a log record or traceback stay."""
    return "\n".join(safe_text(line) for line in text.split("\n"))


def json_text(value: Any) -> str:
    """One line of JSON for ``value`` (see :func:`to_jsonable`), safe to print to a terminal.

    Non-ASCII text stays readable; controls, bidi overrides and lone surrogates
    are ``\\uXXXX`` escapes, so ``json.loads`` gives back the original strings. The
    API key (see :func:`keep_secret`) is ``[redacted]`` wherever a server put it.
    """
    text = json.dumps(_redact_data(to_jsonable(value)), ensure_ascii=False, separators=(",", ":"))
    return _UNSAFE_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _redact_data(data: Any) -> Any:
    """``data`` (plain JSON data) with the API key blanked out of every key and string."""
    if not _SECRETS:
        return data
    if isinstance(data, str):
        return _redact(data)
    if isinstance(data, dict):
        return {_redact(key): _redact_data(item) for key, item in data.items()}
    if isinstance(data, list):
        return [_redact_data(item) for item in data]
    return data


def to_jsonable(value: Any) -> Any:
    """Turn a model, or data holding models, into plain JSON data.

    A model becomes its ``to_dict(include_none=True)`` (the API's field names,
    ISO 8601 UTC timestamps, every field present); enums their values, paths strings,
    exceptions ``{"type", "message"}``, anything else its ``str``.
    """
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict(include_none=True)
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(item) for item in value]
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, BaseException):
        return {"type": type(value).__name__, "message": str(value)}
    return str(value)


def human_time(moment: datetime) -> str:
    """The one timestamp format of text output: ISO 8601 UTC to the second (``…T10:30:00Z``)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moments(value: Any) -> set[datetime]:
    """Every timestamp a model holds (nested models and lists included)."""
    if isinstance(value, datetime):
        return {value}
    found: set[datetime] = set()
    if attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            found |= _moments(getattr(value, field.name))
    elif isinstance(value, list | tuple):
        for item in value:
            found |= _moments(item)
    return found


def _as_moment(text: str, moments: set[datetime]) -> datetime | None:
    """The model's timestamp that ``to_dict()`` wrote as ``text``, if it is one."""
    if not moments or not text.endswith("Z"):
        return None
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00")
    except ValueError:
        return None
    return moment if moment in moments else None


def emit_json(value: Any) -> None:
    """Print one JSON object on one line and flush, so consumers see it at once.

    On a stdout that cannot encode every character (a non-UTF-8 locale or
    ``PYTHONIOENCODING``), the line is pure ASCII JSON instead: still valid, still
    decoding to the server's exact strings.
    """
    text = json_text(value)
    if not _encodable_on(sys.stdout, text):
        text = _UNSAFE_JSON.sub(
            lambda m: f"\\u{ord(m.group()):04x}",
            json.dumps(_redact_data(to_jsonable(value)), ensure_ascii=True, separators=(",", ":")),
        )
    click.echo(text)


def _encodable_on(stream: Any, text: str) -> bool:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def tolerate_any_encoding() -> None:
    """Make stdout and stderr show a character their encoding lacks as an escape (``\\xe9``).

    Under a non-UTF-8 locale (or ``PYTHONIOENCODING=latin-1``) a server's name in
    another script raised ``UnicodeEncodeError`` halfway through a listing.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # a closed or odd stream
                reconfigure(errors="backslashreplace")


def stdout_is_terminal() -> bool:
    """Whether stdout is a terminal, as rich decides it (``FORCE_COLOR``/``TTY_COMPATIBLE``
    override the check); looked up at each call, since tests swap stdout."""
    from rich.console import Console

    return Console(file=sys.stdout).is_terminal


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return human_time(value)  # seconds are enough for people
    if isinstance(value, enum.Enum):
        return str(value.value)
    return safe_text(" ".join(str(value).split()))  # one line per row, whatever it holds


def show_object(value: Any, *, title: str | None = None) -> None:
    """Print one object as aligned ``key  value`` lines (nested objects as ``a.b``)."""
    flat: list[tuple[str, str]] = []
    moments = _moments(value)

    def walk(prefix: str, data: Any) -> None:
        if isinstance(data, Mapping) and data:
            for key, item in data.items():
                name = safe_text(" ".join(str(key).split()))
                walk(f"{prefix}.{name}" if prefix else name, item)
        elif isinstance(data, list) and data and all(isinstance(x, Mapping) for x in data):
            for position, item in enumerate(data):
                walk(f"{prefix}[{position}]", item)
        else:
            text = json.dumps(data, ensure_ascii=False) if isinstance(data, list | dict) else data
            if isinstance(text, str):
                text = _as_moment(text, moments) or text  # people get seconds
            flat.append((prefix, _cell(text)))

    walk("", to_jsonable(value))
    if title:
        click.echo(title)
    width = max((len(key) for key, _ in flat), default=0)
    for key, text in flat:
        click.echo(f"{key.ljust(width)}  {text}".rstrip())


class TableWriter:
    """Aligned columns for a listing of any length, printed as rows arrive.

    Rows are buffered ``batch`` at a time: the first batch fixes the column
    widths (so memory stays flat however long the listing), and every batch is
    printed with those widths. A terminal gets a rich table; anything else gets
    plain space-aligned columns.
    """

    def __init__(self, headers: Sequence[str], *, batch: int = 200, max_width: int = 60) -> None:
        self.headers = list(headers)
        self._batch = batch
        self._max_width = max_width
        self._rows: list[list[str]] = []
        self._widths: list[int] | None = None
        self._rich = stdout_is_terminal()
        self.count = 0

    def add(self, *cells: Any) -> None:
        """Add one row (values are shown as text; ``None`` as blank)."""
        self._rows.append([_cell(cell) for cell in cells])
        self.count += 1
        if len(self._rows) >= self._batch:
            self._flush()

    def close(self) -> None:
        """Print the rows still buffered (and the headers, even for an empty listing)."""
        if self._rows or self._widths is None:
            self._flush()

    def _flush(self) -> None:
        first = self._widths is None
        if self._widths is None:
            self._widths = [
                min(self._max_width, max([len(h)] + [len(row[i]) for row in self._rows]))
                for i, h in enumerate(self.headers)
            ]
        rows, self._rows = self._rows, []
        if self._rich:
            self._print_rich(rows, first)
        else:
            self._print_plain(rows, first)

    def _print_plain(self, rows: list[list[str]], header: bool) -> None:
        assert self._widths is not None
        widths = self._widths
        lines = [self.headers] if header else []
        for cells in [*lines, *rows]:
            padded = [
                _fit(cell, width).ljust(width) for cell, width in zip(cells, widths, strict=True)
            ]
            click.echo("  ".join(padded).rstrip())

    def _print_rich(self, rows: list[list[str]], header: bool) -> None:
        from rich import box
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        assert self._widths is not None
        table = Table(
            box=box.SIMPLE_HEAD if header else None,
            show_header=header,
            show_edge=False,
            pad_edge=False,
            header_style="bold",
        )
        for position, (name, width) in enumerate(zip(self.headers, self._widths, strict=True)):
            if position == 0:  # the id: never cut, people copy it
                table.add_column(name, min_width=width, no_wrap=True)
            else:  # sized by the first batch so batches line up; wraps on narrow screens
                table.add_column(
                    name, min_width=min(width, max(len(name), 8)), max_width=width, overflow="fold"
                )
        for cells in rows:
            # Text, never str: a cell is shown as it is, not parsed as rich markup.
            table.add_row(*(Text(cell) for cell in cells))
        Console(file=sys.stdout, markup=False, emoji=False, highlight=False).print(table)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
