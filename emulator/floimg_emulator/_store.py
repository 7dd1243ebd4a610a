"""SQLite state plus image files, all touched from one worker thread, never the event loop."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from ._records import (
    ExecutionRecord,
    IdempotencyRecord,
    ImageRecord,
    ProjectRecord,
    WorkflowRecord,
)
from ._schema import (
    EXECUTION_COLUMNS,
    MIGRATIONS,
    SCHEMA,
    execution_from_row,
    image_from_row,
    project_from_row,
    workflow_from_row,
)

P = ParamSpec("P")
T = TypeVar("T")


class Store:
    """Own the SQLite connection and the image files of one emulator.

    Every method is a coroutine that hands its work to a single worker thread,
    which created the connection and is the only thread to use it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.images_dir = root / "images"
        self.tmp_dir = root / "tmp"
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="floimg-emulator-db")
        self._conn: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the emulator store is not open")
        return self._conn

    # -- lifecycle ---------------------------------------------------------------------

    async def open(self) -> None:
        """Create the directories, open the database and create the tables."""
        await self._run(self._open)

    def _open(self) -> None:
        self.images_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        for leftover in self.tmp_dir.iterdir():  # half-written files of a killed process
            leftover.unlink(missing_ok=True)
        conn = sqlite3.connect(self.root / "emulator.sqlite3", isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(SCHEMA)
        for table, column, kind in MIGRATIONS:
            have = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        self._conn = conn

    async def close(self) -> None:
        """Close the database and stop the worker thread."""
        try:
            await self._run(self._close)
        finally:
            await asyncio.to_thread(self._pool.shutdown, True)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- meta --------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        """Return a stored setting, or None."""
        return await self._run(self._get_meta, key)

    def _get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    async def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        await self._run(self._set_meta, key, value)

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- seeding -----------------------------------------------------------------------

    async def seed(self, projects: list[ProjectRecord], workflows: list[WorkflowRecord]) -> None:
        """Insert the given projects and workflows unless they exist already."""
        await self._run(self._seed, projects, workflows)

    def _seed(self, projects: list[ProjectRecord], workflows: list[WorkflowRecord]) -> None:
        db = self._db
        with db:
            db.execute("BEGIN")
            db.executemany(
                "INSERT OR IGNORE INTO projects (account, id, name, description, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(p.account, p.id, p.name, p.description, p.created_at) for p in projects],
            )
            db.executemany(
                "INSERT OR IGNORE INTO workflows (account, id, name, description, project_id,"
                " parameters, steps, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        w.account,
                        w.id,
                        w.name,
                        w.description,
                        w.project_id,
                        json.dumps(w.parameters),
                        json.dumps(w.steps),
                        w.created_at,
                        w.updated_at,
                    )
                    for w in workflows
                ],
            )

    # -- paging ------------------------------------------------------------------------

    def _page(
        self, table: str, account: str, project_id: str | None, limit: int, offset: int
    ) -> tuple[list[sqlite3.Row], int]:
        where, args = "account = ?", [account]
        if project_id is not None:
            where += " AND project_id = ?"
            args.append(project_id)
        total = int(
            self._db.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", args).fetchone()[0]
        )
        rows = self._db.execute(
            f"SELECT * FROM {table} WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
        return rows, total

    # -- projects ----------------------------------------------------------------------

    async def insert_project(
        self, project: ProjectRecord, claim: IdempotencyRecord | None = None
    ) -> None:
        """Store a new project (and, in the same transaction, its idempotency record)."""
        await self._run(self._insert_project, project, claim)

    def _insert_project(self, project: ProjectRecord, claim: IdempotencyRecord | None) -> None:
        db = self._db
        with db:
            db.execute("BEGIN")
            db.execute(
                "INSERT INTO projects (account, id, name, description, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    project.account,
                    project.id,
                    project.name,
                    project.description,
                    project.created_at,
                ),
            )
            self._put_idempotency(claim)

    async def get_project(self, account: str, project_id: str) -> ProjectRecord | None:
        """Return one project of ``account``, or None."""
        return await self._run(self._get_project, account, project_id)

    def _get_project(self, account: str, project_id: str) -> ProjectRecord | None:
        row = self._db.execute(
            "SELECT * FROM projects WHERE account = ? AND id = ?", (account, project_id)
        ).fetchone()
        return None if row is None else project_from_row(row)

    async def list_projects(
        self, account: str, limit: int, offset: int
    ) -> tuple[list[ProjectRecord], int]:
        """Return one page of the account's projects (oldest first) and the total."""
        rows, total = await self._run(self._page, "projects", account, None, limit, offset)
        return [project_from_row(r) for r in rows], total

    # -- workflows ---------------------------------------------------------------------

    async def get_workflow(self, account: str, workflow_id: str) -> WorkflowRecord | None:
        """Return one workflow of ``account``, or None."""
        return await self._run(self._get_workflow, account, workflow_id)

    def _get_workflow(self, account: str, workflow_id: str) -> WorkflowRecord | None:
        row = self._db.execute(
            "SELECT * FROM workflows WHERE account = ? AND id = ?", (account, workflow_id)
        ).fetchone()
        return None if row is None else workflow_from_row(row)

    async def list_workflows(
        self, account: str, project_id: str | None, limit: int, offset: int
    ) -> tuple[list[WorkflowRecord], int]:
        """Return one page of the account's workflows (oldest first) and the total."""
        rows, total = await self._run(self._page, "workflows", account, project_id, limit, offset)
        return [workflow_from_row(r) for r in rows], total

    # -- images ------------------------------------------------------------------------

    async def add_image(
        self, image: ImageRecord, source_file: Path, claim: IdempotencyRecord | None = None
    ) -> None:
        """Move ``source_file`` into the image store and record ``image`` (and ``claim``)."""
        await self._run(self._add_image, image, source_file, claim)

    def _add_image(
        self, image: ImageRecord, source_file: Path, claim: IdempotencyRecord | None
    ) -> None:
        target = self.images_dir / image.filename
        os.replace(source_file, target)
        db = self._db
        try:
            with db:
                db.execute("BEGIN")
                self._insert_image(image)
                self._put_idempotency(claim)
        except BaseException:
            target.unlink(missing_ok=True)
            raise

    def _insert_image(self, image: ImageRecord) -> None:
        self._db.execute(
            "INSERT INTO images (account, id, name, project_id, size, format, width, height,"
            " created_at, source, execution_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                image.account,
                image.id,
                image.name,
                image.project_id,
                image.size,
                image.format,
                image.width,
                image.height,
                image.created_at,
                image.source,
                image.execution_id,
            ),
        )

    async def get_image(self, account: str, image_id: str) -> ImageRecord | None:
        """Return one image of ``account``, or None."""
        return await self._run(self._get_image, account, image_id)

    def _get_image(self, account: str, image_id: str) -> ImageRecord | None:
        row = self._db.execute(
            "SELECT * FROM images WHERE account = ? AND id = ?", (account, image_id)
        ).fetchone()
        return None if row is None else image_from_row(row)

    async def list_images(
        self, account: str | None, project_id: str | None, limit: int, offset: int
    ) -> tuple[list[ImageRecord], int]:
        """Return one page of the account's images (oldest first) and the total."""
        if account is None:
            rows = await self._run(self._all, "images")
            return [image_from_row(r) for r in rows], len(rows)
        rows, total = await self._run(self._page, "images", account, project_id, limit, offset)
        return [image_from_row(r) for r in rows], total

    async def delete_image(self, account: str, image_id: str) -> bool:
        """Delete one image and its file; return whether it existed."""
        return await self._run(self._delete_image, account, image_id)

    def _delete_image(self, account: str, image_id: str) -> bool:
        image = self._get_image(account, image_id)
        if image is None:
            return False
        self._db.execute("DELETE FROM images WHERE id = ?", (image_id,))
        (self.images_dir / image.filename).unlink(missing_ok=True)
        return True

    def image_path(self, image: ImageRecord) -> Path:
        """Return where the bytes of ``image`` are kept."""
        return self.images_dir / image.filename

    # -- executions --------------------------------------------------------------------

    async def insert_execution(
        self, execution: ExecutionRecord, claim: IdempotencyRecord | None = None
    ) -> None:
        """Record a new execution (and, in the same transaction, its idempotency record)."""
        await self._run(self._insert_execution, execution, claim)

    def _insert_execution(self, e: ExecutionRecord, claim: IdempotencyRecord | None) -> None:
        db = self._db
        with db:
            db.execute("BEGIN")
            self._insert_execution_row(e)
            self._put_idempotency(claim)

    def _insert_execution_row(self, e: ExecutionRecord) -> None:
        self._db.execute(
            "INSERT INTO executions (account, id, workflow_id, parameters, status, mode,"
            " idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                e.account,
                e.id,
                e.workflow_id,
                json.dumps(e.parameters),
                e.status,
                e.mode,
                e.idempotency_key,
                e.created_at,
            ),
        )

    async def update_execution(self, execution_id: str, **fields: Any) -> ExecutionRecord:
        """Change some fields of an execution and return it as it now is."""
        bad = set(fields) - EXECUTION_COLUMNS
        if bad:
            raise ValueError(f"not execution columns: {sorted(bad)}")
        return await self._run(self._update_execution, execution_id, fields)

    def _update_execution(self, execution_id: str, fields: dict[str, Any]) -> ExecutionRecord:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self._db.execute(
            f"UPDATE executions SET {assignments} WHERE id = ?", [*fields.values(), execution_id]
        )
        row = self._db.execute("SELECT * FROM executions WHERE id = ?", (execution_id,)).fetchone()
        return execution_from_row(row)

    async def get_execution(self, account: str, execution_id: str) -> ExecutionRecord | None:
        """Return one execution of ``account``, or None."""
        return await self._run(self._get_execution, account, execution_id)

    def _get_execution(self, account: str, execution_id: str) -> ExecutionRecord | None:
        row = self._db.execute(
            "SELECT * FROM executions WHERE account = ? AND id = ?", (account, execution_id)
        ).fetchone()
        return None if row is None else execution_from_row(row)

    async def list_executions(
        self,
        *,
        account: str | None = None,
        workflow_id: str | None = None,
        status: str | None = None,
        unfinished: bool = False,
    ) -> list[ExecutionRecord]:
        """Return every execution matching the filters, oldest first."""
        where, args = ["1 = 1"], []
        for column, value in (
            ("account", account),
            ("workflow_id", workflow_id),
            ("status", status),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if unfinished:
            where.append("status IN ('pending', 'running')")
        sql = f"SELECT * FROM executions WHERE {' AND '.join(where)} ORDER BY seq"
        rows = await self._run(self._query, sql, args)
        return [execution_from_row(r) for r in rows]

    # -- idempotency -------------------------------------------------------------------

    async def get_idempotency(
        self, account: str, method: str, path: str, key: str
    ) -> IdempotencyRecord | None:
        """Return the recorded first answer for this key, or None."""
        rows = await self._run(
            self._query,
            "SELECT * FROM idempotency WHERE account = ? AND method = ? AND path = ? AND key = ?",
            [account, method, path, key],
        )
        if not rows:
            return None
        r = rows[0]
        return IdempotencyRecord(
            r["account"],
            r["method"],
            r["path"],
            r["key"],
            r["fingerprint"],
            int(r["status"]),
            bytes(r["body"]),
            float(r["created_at"]),
            r["execution_id"],
        )

    async def put_idempotency(self, rec: IdempotencyRecord) -> None:
        """Record (or replace) the answer for an idempotency key."""
        await self._run(self._put_idempotency, rec)

    def _put_idempotency(self, rec: IdempotencyRecord | None) -> None:
        if rec is None:
            return
        self._db.execute(
            "INSERT OR REPLACE INTO idempotency (account, method, path, key, fingerprint, status,"
            " body, created_at, execution_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                rec.account,
                rec.method,
                rec.path,
                rec.key,
                rec.fingerprint,
                rec.status,
                rec.body,
                rec.created_at,
                rec.execution_id,
            ],
        )

    async def count(self, table: str) -> int:
        """Return the number of rows of ``table`` (for introspection)."""
        if table not in ("projects", "workflows", "images", "executions", "idempotency"):
            raise ValueError(table)
        rows = await self._run(self._query, f"SELECT COUNT(*) AS n FROM {table}", [])
        return int(rows[0]["n"])

    def _query(self, sql: str, args: list[Any]) -> list[sqlite3.Row]:
        return self._db.execute(sql, args).fetchall()

    def _all(self, table: str) -> list[sqlite3.Row]:
        return self._db.execute(f"SELECT * FROM {table} ORDER BY seq").fetchall()
