"""The SQLite schema of the emulator's store and how rows become records."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ._records import ExecutionRecord, ImageRecord, ProjectRecord, WorkflowRecord

#: Tables of the store; ``seq`` keeps insertion order for stable paging.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, id TEXT NOT NULL,
    name TEXT NOT NULL, description TEXT, created_at REAL NOT NULL, UNIQUE (account, id));
CREATE TABLE IF NOT EXISTS workflows (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, id TEXT NOT NULL,
    name TEXT NOT NULL, description TEXT NOT NULL, project_id TEXT, parameters TEXT NOT NULL,
    steps TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    UNIQUE (account, id));
CREATE TABLE IF NOT EXISTS images (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL, project_id TEXT, size INTEGER NOT NULL, format TEXT NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL, created_at REAL NOT NULL,
    source TEXT NOT NULL, execution_id TEXT);
CREATE TABLE IF NOT EXISTS executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, id TEXT NOT NULL UNIQUE,
    workflow_id TEXT NOT NULL, parameters TEXT NOT NULL, status TEXT NOT NULL,
    mode TEXT NOT NULL, idempotency_key TEXT, created_at REAL NOT NULL, started_at REAL,
    completed_at REAL, duration_ms INTEGER, error TEXT, output_image_id TEXT,
    output_format TEXT, output_width INTEGER, output_height INTEGER);
CREATE TABLE IF NOT EXISTS idempotency (
    account TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, key TEXT NOT NULL,
    fingerprint TEXT NOT NULL, status INTEGER NOT NULL, body BLOB NOT NULL,
    created_at REAL NOT NULL, execution_id TEXT, PRIMARY KEY (account, method, path, key));
"""

#: Columns added after the first release, for data dirs created before them.
MIGRATIONS = (("idempotency", "execution_id", "TEXT"),)

#: The execution columns that may change after the row is created.
EXECUTION_COLUMNS = frozenset(
    {
        "status",
        "started_at",
        "completed_at",
        "duration_ms",
        "error",
        "output_image_id",
        "output_format",
        "output_width",
        "output_height",
    }
)


def _fields(r: sqlite3.Row) -> dict[str, Any]:
    return {k: r[k] for k in r.keys() if k != "seq"}  # noqa: SIM118 - Row is not a dict


def project_from_row(r: sqlite3.Row) -> ProjectRecord:
    """Build a project from its row."""
    return ProjectRecord(**_fields(r))


def workflow_from_row(r: sqlite3.Row) -> WorkflowRecord:
    """Build a workflow from its row."""
    fields = _fields(r)
    fields["parameters"] = json.loads(fields["parameters"])
    fields["steps"] = json.loads(fields["steps"])
    return WorkflowRecord(**fields)


def image_from_row(r: sqlite3.Row) -> ImageRecord:
    """Build an image from its row."""
    return ImageRecord(**_fields(r))


def execution_from_row(r: sqlite3.Row) -> ExecutionRecord:
    """Build an execution from its row."""
    fields = _fields(r)
    fields["parameters"] = json.loads(fields["parameters"])
    return ExecutionRecord(**fields)
