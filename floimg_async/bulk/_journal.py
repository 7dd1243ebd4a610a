"""The journal of a bulk run: one SQLite file that records every item's progress.

Durability. The database runs in WAL mode with ``synchronous=NORMAL``: every
committed transaction has been written to the OS before ``commit`` returns, so
a killed process (``kill -9``, a crash, Ctrl-C) loses nothing. Only a power cut
or OS crash can roll back the last few commits, and that is safe too, because
no decision depends on them: each submission's Idempotency-Key is *derived*
(run id, item index, attempt), so a rolled-back step is simply redone with the
same key and the server answers it from its idempotency record. The one write
that must survive even a power cut, the run id itself, is committed with
``synchronous=FULL``. ``FULL`` everywhere would cost an fsync per step
(several per item) for no gain in correctness.

Every state change is one transaction, so the journal is consistent at any
instant a process may die.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ._errors import BulkError, JournalCorruptError, JournalMismatchError
from ._input import InputFingerprint
from ._items import ItemState, JournalItem, idempotency_key
from ._sqlite import Transaction, acquire_lock, release_lock

__all__ = ["ItemState", "Journal", "JournalItem", "idempotency_key"]

_FORMAT = "1"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_OUR_TABLES = {"meta", "items"}
_ITEM_COLUMNS = {
    "idx", "line", "parameters", "state", "attempt", "idempotency_key", "execution_id",
    "output", "error", "error_code", "file", "written_seq", "updated_at",
}  # fmt: skip

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    idx INTEGER PRIMARY KEY,
    line INTEGER NOT NULL,
    parameters TEXT,
    state TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1,
    idempotency_key TEXT NOT NULL,
    execution_id TEXT,
    output TEXT,
    error TEXT,
    error_code TEXT,
    file TEXT,
    written_seq INTEGER,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_state ON items (state);
CREATE INDEX IF NOT EXISTS items_by_written ON items (written_seq) WHERE written_seq IS NOT NULL;
"""


class Journal:
    """The SQLite journal of one bulk run (see the module docstring for durability).

    ``Journal(path)`` opens or creates the file and takes an exclusive lock on
    ``<path>.lock`` so two processes never drive one journal (raises
    :class:`JournalLockedError`). ``readonly=True`` opens an existing journal
    for inspection only, without the lock, even while a run is writing to it.
    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._lock: IO[bytes] | None = None
        self._db: sqlite3.Connection | None = None
        if readonly:
            if not self.path.exists():
                raise FileNotFoundError(f"no bulk journal at {str(self.path)!r}")
            self._check_header()
            uri = self.path.resolve().as_uri() + "?mode=ro"
            with self._guard():
                self._db = sqlite3.connect(uri, uri=True, isolation_level=None)
                self._db.execute("PRAGMA busy_timeout = 5000")
        else:
            self._lock = acquire_lock(self.path.with_name(self.path.name + ".lock"))
            try:
                self._check_header()
                with self._guard():
                    self._db = sqlite3.connect(self.path, isolation_level=None)
                    self._db.execute("PRAGMA busy_timeout = 5000")
                    self._check_schema()
                    mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    if str(mode).lower() != "wal":
                        raise OSError(f"cannot put the journal {str(self.path)!r} in WAL mode")
                    self._db.execute("PRAGMA synchronous = NORMAL")
                    # One transaction: a crash mid-creation leaves no half a schema, which
                    # a resume would refuse as another program's database.
                    self._db.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
            except BaseException:
                if self._db is not None:
                    self._db.close()
                    self._db = None
                release_lock(self._lock)
                self._lock = None
                raise
        self._db.row_factory = sqlite3.Row
        self._meta: dict[str, str] = {}
        self._empty = False
        if readonly and not self._has_tables():
            # A journal being created this very moment: nothing in it yet. Its schema
            # is created in one transaction, so once a table is seen, all of them are.
            self._empty = True
        else:
            try:
                with self._guard():
                    rows = self._db.execute("SELECT key, value FROM meta").fetchall()
            except JournalCorruptError:
                self.close()
                raise
            self._meta = {str(row["key"]): str(row["value"]) for row in rows}
        if self._meta and self._meta.get("format") not in (None, _FORMAT):
            self.close()
            raise JournalMismatchError(
                f"the journal {str(self.path)!r} has format {self._meta.get('format')!r}, "
                f"this version reads {_FORMAT!r}"
            )

    def _check_header(self) -> None:
        """Refuse a non-empty file that is not SQLite, before SQLite touches it."""
        try:
            with self.path.open("rb") as handle:
                head = handle.read(len(_SQLITE_MAGIC))
        except FileNotFoundError:
            return
        except IsADirectoryError as exc:
            raise JournalCorruptError(f"the journal {str(self.path)!r} is a folder") from exc
        if head and head != _SQLITE_MAGIC:
            raise JournalCorruptError(
                f"{str(self.path)!r} is not a bulk journal (not a SQLite database); it was "
                "left untouched. Give another --journal path"
            )

    def _check_schema(self) -> None:
        """Refuse another program's database, and a damaged one, before writing to it."""
        db = self._require_db()
        tables = {
            str(row[0]) for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if tables and not tables >= _OUR_TABLES:
            raise JournalCorruptError(
                f"{str(self.path)!r} is a SQLite database of another program (tables: "
                f"{', '.join(sorted(tables)[:5])}), not a bulk journal; it was left untouched. "
                "Give another --journal path"
            )
        if tables:
            columns = {str(row[1]) for row in db.execute("PRAGMA table_info(items)")}
            if not columns >= _ITEM_COLUMNS:
                raise JournalCorruptError(
                    f"the journal {str(self.path)!r} lacks columns "
                    f"{sorted(_ITEM_COLUMNS - columns)}: it is damaged or not a bulk journal"
                )
            verdict = db.execute("PRAGMA quick_check(1)").fetchone()
            if verdict is None or str(verdict[0]).lower() != "ok":
                raise JournalCorruptError(
                    f"the journal {str(self.path)!r} is damaged (SQLite: "
                    f"{None if verdict is None else verdict[0]})"
                )

    def _has_tables(self) -> bool:
        try:
            row = self._require_db().execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError:
            return True
        return bool(row and row[0])

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn SQLite's reports of a damaged database into :class:`JournalCorruptError`."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if "locked" in text or "busy" in text or "unable to open" in text:
                raise
            if self.readonly and "readonly database" in text:
                # A run stopped mid-write (kill -9, power loss): SQLite must roll its
                # last transaction back before anyone reads, which a read-only open
                # cannot do. Nothing is damaged; a resume recovers it.
                raise BulkError(
                    f"the journal {str(self.path)!r} was left mid-write by a run that "
                    "stopped; resume the run (which recovers it) before inspecting it"
                ) from exc
            raise JournalCorruptError(
                f"the journal {str(self.path)!r} is damaged or not a bulk journal ({exc})"
            ) from exc
        except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"
            raise JournalCorruptError(
                f"the journal {str(self.path)!r} is damaged or not a bulk journal ({exc})"
            ) from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise JournalCorruptError(
                f"the journal {str(self.path)!r} holds a value this version cannot read "
                f"({type(exc).__name__}: {exc}); it is damaged"
            ) from exc

    def _require_db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"the journal {str(self.path)!r} is closed")
        return self._db

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database and release the lock. Idempotent."""
        db = self._db
        if db is not None:
            db.close()
            self._db = None
        if self._lock is not None:
            release_lock(self._lock)
            self._lock = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the run this journal belongs to ---------------------------------------------------

    @property
    def run_id(self) -> str | None:
        """The run's id (part of every Idempotency-Key), or ``None`` before :meth:`bind`."""
        return self._meta.get("run_id")

    @property
    def workflow_id(self) -> str | None:
        """The workflow the journal belongs to, or ``None`` before :meth:`bind`."""
        return self._meta.get("workflow_id")

    @property
    def total(self) -> int | None:
        """How many items the input has, or ``None`` before :meth:`bind`."""
        value = self._meta.get("input_items")
        return int(value) if value is not None else None

    @property
    def mode(self) -> str:
        """How the run sends executions: ``"async"`` (submit + poll) or ``"sync"``."""
        return self._meta.get("mode", "async")

    def bind(
        self,
        workflow_id: str,
        input_path: str,
        source: InputFingerprint,
        mode: str | None = None,
    ) -> str:
        """Tie a new journal to a workflow, an input and a mode, or check an existing one;
        return the run id.

        ``mode`` ``None`` means the journal's own mode (``"async"`` for a new one).
        Raises :class:`JournalMismatchError` when the journal was made for another
        workflow, an input with different content, or another mode (an item in
        flight must be re-sent exactly as first sent, or a key-honouring server
        refuses it).
        """
        if mode not in (None, "async", "sync"):
            raise ValueError(f"mode must be 'async' or 'sync', got {mode!r}")
        if self.run_id is None:
            run_id = uuid.uuid4().hex[:12]
            values = {
                "format": _FORMAT,
                "run_id": run_id,
                "workflow_id": workflow_id,
                "input_path": input_path,
                "input_sha256": source.sha256,
                "input_size": str(source.size),
                "input_items": str(source.items),
                "created_at": str(time.time()),
                "out_size": "0",
                "out_seq": "0",
                "mode": mode or "async",
            }
            # The run id must survive even a power cut: every key is derived from it.
            self._exec("PRAGMA synchronous = FULL")
            with self._transaction():
                self._execmany("INSERT INTO meta (key, value) VALUES (?, ?)", list(values.items()))
            self._exec("PRAGMA synchronous = NORMAL")
            self._meta.update(values)
            return run_id
        if self._meta.get("format") != _FORMAT:
            raise JournalMismatchError(
                f"the journal {str(self.path)!r} has format {self._meta.get('format')!r}, "
                f"this version writes {_FORMAT!r}"
            )
        if self.workflow_id != workflow_id:
            raise JournalMismatchError(
                f"the journal {str(self.path)!r} belongs to workflow {self.workflow_id!r}, "
                f"not {workflow_id!r}; use another --journal (or delete it to start over)"
            )
        if mode is not None and mode != self.mode:
            raise JournalMismatchError(
                f"the journal {str(self.path)!r} was started in {self.mode} mode, not {mode}: "
                f"items in flight must be re-sent as they were first sent. Resume with "
                f"--mode {self.mode} (or leave --mode out), or use another --journal"
            )
        if self._meta.get("input_sha256") != source.sha256:
            raise JournalMismatchError(
                f"the input {input_path!r} is not the file this journal was started with "
                f"({self._meta.get('input_path')!r}, {self._meta.get('input_items')} items, "
                f"sha256 {self._meta.get('input_sha256', '')[:12]}…): its content changed. "
                "Resume with the original file, or use another --journal for the new one"
            )
        return self.run_id

    # -- reading ---------------------------------------------------------------------------

    def get(self, index: int) -> JournalItem | None:
        """The item at ``index``, or ``None`` when the run has not read that far."""
        if self._empty:
            return None
        with self._guard():
            row = self._exec("SELECT * FROM items WHERE idx = ?", (index,)).fetchone()
            return None if row is None else _item(row)

    def items(self, *, state: ItemState | None = None) -> Iterator[JournalItem]:
        """Iterate over the items in index order (streamed from the database)."""
        if self._empty:
            return
        if state is None:
            cursor = self._exec("SELECT * FROM items ORDER BY idx")
        else:
            cursor = self._exec("SELECT * FROM items WHERE state = ? ORDER BY idx", (state.value,))
        with self._guard():
            for row in cursor:
                yield _item(row)

    def written_items(self) -> Iterator[JournalItem]:
        """Iterate over the items whose result line was written, in the order written."""
        if self._empty:
            return
        cursor = self._exec(
            "SELECT * FROM items WHERE written_seq IS NOT NULL ORDER BY written_seq"
        )
        with self._guard():
            for row in cursor:
                yield _item(row)

    def counts(self) -> dict[ItemState, int]:
        """How many items are in each state (every state present, zero when none)."""
        counts = dict.fromkeys(ItemState, 0)
        if self._empty:
            return counts
        with self._guard():
            db = self._require_db()
            for row in db.execute("SELECT state, COUNT(*) AS n FROM items GROUP BY state"):
                counts[ItemState(row["state"])] = int(row["n"])
        return counts

    @property
    def out_path(self) -> str | None:
        """The results file the written lines went to, or ``None``."""
        return self._meta.get("out_path")

    @property
    def out_size(self) -> int:
        """The results file's size after the last line recorded as written."""
        with self._guard():
            return int(self._meta.get("out_size", "0"))

    # -- writing: one transaction per state change -----------------------------------------

    def add(
        self, index: int, line: int, parameters: dict[str, Any] | None, error: str | None = None
    ) -> JournalItem:
        """Record a newly read item: ``queued``, or ``failed`` when its line was unusable."""
        run_id = self._require_run()
        state = ItemState.QUEUED if error is None else ItemState.FAILED
        self._exec(
            "INSERT INTO items (idx, line, parameters, state, attempt, idempotency_key, error,"
            " error_code, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)",
            (
                index,
                line,
                None if parameters is None else json.dumps(parameters, ensure_ascii=False),
                state.value,
                idempotency_key(run_id, index, 1),
                error,
                None if error is None else "invalid_input",
                time.time(),
            ),
        )
        item = self.get(index)
        assert item is not None
        return item

    def mark_submitting(self, index: int) -> None:
        """Record that the submission is about to be sent (call it *before* sending)."""
        self._update(index, state=ItemState.SUBMITTING.value)

    def mark_submitted(self, index: int, execution_id: str) -> None:
        """Record the execution id the server answered the submission with."""
        self._update(index, state=ItemState.SUBMITTED.value, execution_id=execution_id)

    def mark_completed(self, index: int, execution_id: str, output: dict[str, Any] | None) -> None:
        """Record a completed execution and its output."""
        self._update(
            index,
            state=ItemState.COMPLETED.value,
            execution_id=execution_id,
            output=None if output is None else json.dumps(output),
            error=None,
            error_code=None,
        )

    def mark_failed(
        self, index: int, error: str, code: str | None, execution_id: str | None = None
    ) -> None:
        """Record a failure (keeping the execution id, when there was an execution)."""
        fields: dict[str, Any] = {"state": ItemState.FAILED.value, "error": error}
        fields["error_code"] = code
        if execution_id is not None:
            fields["execution_id"] = execution_id
        self._update(index, **fields)

    def note_error(self, index: int, error: str | None, code: str | None) -> None:
        """Remember (or clear) an item's last transient error without changing its state."""
        self._update(index, error=error, error_code=code)

    def mark_file(self, index: int, file: str) -> None:
        """Record where the item's image was downloaded."""
        self._update(index, file=file)

    def retry(self, index: int) -> JournalItem:
        """Queue a failed item again with the next attempt number and a new key."""
        item = self.get(index)
        if item is None or item.state is not ItemState.FAILED:
            raise ValueError(f"item {index} is not failed; only failed items are retried")
        attempt = item.attempt + 1
        with self._transaction():
            self._update(
                index,
                state=ItemState.QUEUED.value,
                attempt=attempt,
                idempotency_key=idempotency_key(self._require_run(), index, attempt),
                execution_id=None,
                output=None,
                error=None,
                error_code=None,
                file=None,
                written_seq=None,
            )
            if item.written:
                # Its old line is in the results file: rebuild the file before trusting it.
                self._set_meta({"out_dirty": "1"})
        retried = self.get(index)
        assert retried is not None
        return retried

    def mark_written(self, index: int, out_size: int) -> None:
        """Record that the item's result line is in the results file, now ``out_size`` long."""
        with self._guard():
            seq = int(self._meta.get("out_seq", "0")) + 1
        with self._transaction():
            self._exec(
                "UPDATE items SET written_seq = ?, updated_at = ? WHERE idx = ?",
                (seq, time.time(), index),
            )
            self._set_meta({"out_seq": str(seq), "out_size": str(out_size)})

    @property
    def out_dirty(self) -> bool:
        """Whether the results file holds a stale line (of an item retried since)."""
        return self._meta.get("out_dirty") == "1"

    def set_out(self, out_path: str, out_size: int) -> None:
        """Record which results file the written lines are in, its size, and that it is clean."""
        with self._transaction():
            self._set_meta({"out_path": out_path, "out_size": str(out_size), "out_dirty": "0"})

    # -- helpers ---------------------------------------------------------------------------

    def _require_run(self) -> str:
        run_id = self.run_id
        if run_id is None:
            raise RuntimeError("bind() the journal to a workflow and input first")
        return run_id

    def _update(self, index: int, **fields: Any) -> None:
        columns = ", ".join(f"{name} = ?" for name in fields)
        cursor = self._exec(
            f"UPDATE items SET {columns}, updated_at = ? WHERE idx = ?",
            (*fields.values(), time.time(), index),
        )
        if cursor.rowcount != 1:
            raise KeyError(f"the journal has no item {index}")

    def _set_meta(self, values: dict[str, str]) -> None:
        self._execmany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items())
        )
        self._meta.update(values)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._guard(), Transaction(self._require_db()):
            yield

    def _exec(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        with self._guard():
            return self._require_db().execute(sql, parameters)

    def _execmany(self, sql: str, rows: list[tuple[str, str]]) -> sqlite3.Cursor:
        with self._guard():
            return self._require_db().executemany(sql, rows)


def _item(row: sqlite3.Row) -> JournalItem:
    return JournalItem(
        index=row["idx"],
        line=row["line"],
        parameters=None if row["parameters"] is None else json.loads(row["parameters"]),
        state=ItemState(row["state"]),
        attempt=row["attempt"],
        idempotency_key=row["idempotency_key"],
        execution_id=row["execution_id"],
        output=None if row["output"] is None else json.loads(row["output"]),
        error=row["error"],
        error_code=row["error_code"],
        file=row["file"],
        written=row["written_seq"] is not None,
    )
