"""Keep a bulk run's writes away from the user's data: its input and other runs' outputs."""

from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._errors import UnsafePathError

__all__ = [
    "MARKER_NAME",
    "check_paths",
    "claim_download_dir",
    "journal_files",
    "output_problem",
    "same_file",
]

#: The file that says which run a download folder belongs to.
MARKER_NAME = ".floimg-bulk.json"
#: Names a run writes into its download folder: ``000017.png`` and the SDK's
#: temporary ``.000017.png.<8 hex>.part`` while a download is under way.
_OUR_FILE = re.compile(r"\d{6,}\.[A-Za-z0-9]{1,10}")
_OUR_PART = re.compile(r"\.\d{6,}\.[A-Za-z0-9]{1,10}\.[0-9a-f]{8}\.part")
_FORMAT = re.compile(r"[A-Za-z0-9]{1,10}")
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file: same path, symlink or hard link.

    ``os.path.samefile`` when both exist (it sees hard links); otherwise the
    fully resolved paths are compared (a dangling symlink to a file's future
    place counts as that file).
    """
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def journal_files(journal: Path) -> list[Path]:
    """Every file the journal at ``journal`` consists of: the database, its WAL, its lock."""
    name = journal.name
    return [journal, *(journal.with_name(name + tail) for tail in ("-wal", "-shm", ".lock"))]


def check_paths(
    input_path: Path, journal: Path, out: Path | None, download_dir: Path | None
) -> None:
    """Refuse, before anything is written, a run whose outputs would overwrite its input.

    Raises :class:`UnsafePathError` when the results file, the journal or one
    of the journal's side files is the input (any spelling: relative or
    absolute, through a symlink, a hard link), when the results file is the
    journal, or when the download folder is the input or the results file.
    """
    writes: list[tuple[str, Path]] = [("the journal", p) for p in journal_files(journal)]
    if out is not None:
        writes.append(("--out", out))
        writes.append(("--out's temporary copy", out.with_name(f".{out.name}.rebuild")))
    for what, path in writes:
        if same_file(path, input_path):
            raise UnsafePathError(
                f"{what} {str(path)!r} is the input file {str(input_path)!r}: the run would "
                "overwrite its own input. Choose another path; nothing was written"
            )
    if out is not None:
        for path in journal_files(journal):
            if same_file(out, path):
                raise UnsafePathError(
                    f"--out {str(out)!r} is the journal's file {str(path)!r}; "
                    "choose another --out or --journal; nothing was written"
                )
    if download_dir is not None:
        others: list[tuple[str, Path | None]] = [
            ("the input file", input_path),
            ("--out", out),
            ("the journal", journal),
        ]
        for what, other in others:
            if other is not None and same_file(download_dir, other):
                raise UnsafePathError(
                    f"--download {str(download_dir)!r} is {what}; give a folder of its own"
                )


def _read_marker(marker: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(marker.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def claim_download_dir(folder: Path, run_id: str, journal: Path) -> int:
    """Make ``folder`` this run's download folder, or refuse it; return .part files removed.

    A folder is the run's when its marker file names the run id. A folder
    without a marker is claimed (the marker is created atomically, so of two
    runs starting at once only one wins) unless it already holds files named
    like a run's outputs, which could then be taken for this run's own.
    Leftover temporary ``.part`` files of interrupted downloads are removed.
    Raises :class:`UnsafePathError` for another run's folder. Blocking.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise UnsafePathError(f"--download {str(folder)!r} exists and is not a folder") from exc
    marker = folder / MARKER_NAME
    mine = {"runId": run_id, "journal": os.path.realpath(journal)}
    if not marker.exists():
        foreign = sorted(
            entry.name
            for entry in os.scandir(folder)
            if _OUR_FILE.fullmatch(entry.name) or _OUR_PART.fullmatch(entry.name)
        )
        if foreign:
            raise UnsafePathError(
                f"--download {str(folder)!r} already holds {len(foreign)} image(s) named like a "
                f"bulk run's ({', '.join(foreign[:3])}…) that this run did not write; they "
                "could be taken for its own. Use an empty folder (or move those files)"
            )
        _create_marker(marker, mine)
    owner = _read_marker(marker)
    if owner is None or owner.get("runId") != run_id:
        who = "an unreadable marker" if owner is None else f"run {owner.get('runId')!r}"
        where = "" if owner is None else f" (journal {owner.get('journal')!r})"
        raise UnsafePathError(
            f"--download {str(folder)!r} belongs to another bulk run: {who}{where}. Its images "
            f"would be reported as this run's; give this run a folder of its own"
        )
    removed = 0
    for entry in os.scandir(folder):
        if _OUR_PART.fullmatch(entry.name):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed += 1
    return removed


def _create_marker(marker: Path, content: dict[str, Any]) -> None:
    """Write the marker whole under a temporary name, then link it into place if absent."""
    temporary = marker.with_name(f"{marker.name}.{uuid.uuid4().hex[:8]}.tmp")
    temporary.write_text(json.dumps(content) + "\n")
    try:
        os.link(temporary, marker)
    except FileExistsError:
        pass  # another run claimed it first: the caller reads whose it is
    except OSError:
        # A filesystem without hard links: exclusive create (may be seen half-written).
        with contextlib.suppress(FileExistsError), marker.open("x") as handle:
            handle.write(json.dumps(content) + "\n")
    finally:
        temporary.unlink(missing_ok=True)


def output_problem(output: dict[str, Any] | None) -> str | None:
    """Why a completed execution's output cannot be used safely, or ``None`` when it can.

    The URL must be an http(s) URL (or a path on the API's origin) without a
    user name or password in it and without control characters; ``format``,
    when given, a short alphanumeric word (it names the downloaded file).
    """
    if output is None:
        return None
    fmt = output.get("format")
    if fmt is not None and not (isinstance(fmt, str) and _FORMAT.fullmatch(fmt)):
        return f"the execution's output format {_clip(fmt)} is not a short alphanumeric word"
    url = output.get("url")
    if url is None:
        return None
    if not isinstance(url, str) or not url:
        return "the execution's output URL is not a non-empty string"
    if _CONTROL.search(url):
        return "the execution's output URL holds spaces or control characters"
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return "the execution's output URL cannot be parsed"
    if parts.scheme and parts.scheme.lower() not in {"http", "https"}:
        return f"the execution's output URL has scheme {parts.scheme[:20]!r}, not http(s)"
    if "@" in parts.netloc:
        return "the execution's output URL carries a user name or password; refused"
    if not parts.scheme and not parts.netloc and not parts.path.startswith("/"):
        return "the execution's output URL is neither absolute nor a path on the API's origin"
    return None


def _clip(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"
