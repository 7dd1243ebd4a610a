"""The journal on its own: states, keys, durability settings, locking, input checks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from floimg_async.bulk import (
    BulkError,
    ItemState,
    Journal,
    JournalCorruptError,
    JournalLockedError,
    JournalMismatchError,
    default_journal_path,
    download_name,
    fingerprint,
    idempotency_key,
    read_items,
)


def _source(tmp_path: Path, text: str = '{"a": 1}\n\n{"a": 2}\n') -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text(text)
    return path


def test_bulk_idempotency_keys_are_derived_and_retries_get_new_ones() -> None:
    assert idempotency_key("r1", 17, 1) == "bulk-r1-17"
    assert idempotency_key("r1", 17, 2) == "bulk-r1-17-r2"


def test_bulk_journal_walks_an_item_through_its_states(tmp_path: Path) -> None:
    source = _source(tmp_path)
    with Journal(tmp_path / "j") as journal:
        run_id = journal.bind("wf", str(source), fingerprint(source))
        item = journal.add(0, 1, {"a": 1})
        assert item.state is ItemState.QUEUED and item.idempotency_key == f"bulk-{run_id}-0"
        journal.mark_submitting(0)
        journal.mark_submitted(0, "exec_1")
        journal.mark_completed(0, "exec_1", {"url": "http://x/y.png", "format": "png"})
        done = journal.get(0)
        assert done is not None and done.state is ItemState.COMPLETED
        assert done.output_url == "http://x/y.png" and done.execution_id == "exec_1"
        journal.add(1, 3, None, error="line 3: bad")
        journal.mark_failed(1, "boom", "workflow_failed")
        retried = journal.retry(1)
        assert retried.attempt == 2 and retried.idempotency_key == f"bulk-{run_id}-1-r2"
        assert retried.state is ItemState.QUEUED
        assert journal.counts()[ItemState.COMPLETED] == 1
        with pytest.raises(ValueError):
            journal.retry(0)


def test_bulk_journal_uses_wal_and_keeps_its_run_id(tmp_path: Path) -> None:
    source = _source(tmp_path)
    with Journal(tmp_path / "j") as journal:
        run_id = journal.bind("wf", str(source), fingerprint(source))
    raw = sqlite3.connect(tmp_path / "j")
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()
    with Journal(tmp_path / "j") as journal:
        assert journal.bind("wf", str(source), fingerprint(source)) == run_id


def test_bulk_journal_refuses_other_inputs_and_workflows(tmp_path: Path) -> None:
    source = _source(tmp_path)
    with Journal(tmp_path / "j") as journal:
        journal.bind("wf", str(source), fingerprint(source))
    with Journal(tmp_path / "j") as journal, pytest.raises(JournalMismatchError):
        journal.bind("wf_other", str(source), fingerprint(source))
    source.write_text('{"a": 1}\n{"a": 3}\n')
    with Journal(tmp_path / "j") as journal, pytest.raises(JournalMismatchError):
        journal.bind("wf", str(source), fingerprint(source))


def test_bulk_journal_is_locked_against_a_second_runner(tmp_path: Path) -> None:
    with Journal(tmp_path / "j"):
        with pytest.raises(JournalLockedError):
            Journal(tmp_path / "j")
        with Journal(tmp_path / "j", readonly=True) as reader:  # readers are welcome
            assert reader.run_id is None
    with Journal(tmp_path / "j"):
        pass  # released on close


def test_bulk_input_is_read_lazily_with_bad_lines_as_items(tmp_path: Path) -> None:
    source = _source(tmp_path, '{"a": 1}\n\n"text"\n{bad\n\xff\n{"b": 2}\n')
    items = list(read_items(source))
    assert [i.index for i in items] == [0, 1, 2, 3, 4]
    assert [i.line for i in items] == [1, 3, 4, 5, 6]
    assert items[0].parameters == {"a": 1} and items[4].parameters == {"b": 2}
    assert "expected a JSON object" in str(items[1].error)
    assert "invalid JSON" in str(items[2].error)
    assert items[3].error is not None
    print_ = fingerprint(source)
    assert print_.items == 5 and print_.size == source.stat().st_size


def test_bulk_default_journal_path_and_download_names(tmp_path: Path) -> None:
    assert default_journal_path("in.jsonl", "out/results.jsonl") == Path(
        "out/results.jsonl.journal"
    )
    assert default_journal_path("data/in.jsonl") == Path("data/in.jsonl.journal")
    assert download_name(17, {"url": "http://h/files/img_1.webp"}) == "000017.webp"
    assert download_name(3, {"url": "http://h/x", "format": "jpeg"}) == "000003.jpg"
    assert download_name(3, None) == "000003.png"
    assert json.loads(json.dumps({"ok": True}))["ok"]


def test_bulk_journal_killed_while_it_is_being_created_resumes(tmp_path: Path) -> None:
    """kill -9 at random moments of a journal's creation never leaves one a resume refuses.

    The schema is created in one transaction; a half-made one would read as another
    program's database (JournalCorruptError, exit 5) and strand the run.
    """
    import random
    import signal
    import subprocess
    import sys
    import time

    code = (
        "import sys\n"
        "from floimg_async.bulk import Journal\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "Journal(sys.argv[1]).close()\n"
    )
    rng = random.Random(20261201)
    for attempt in range(5):
        path = tmp_path / f"j{attempt}.journal"
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "ready"  # imports done: kill during creation
        proc.stdin.write("\n")
        proc.stdin.flush()
        time.sleep(rng.uniform(0, 0.02))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdin.close()
        proc.stdout.close()
        if path.exists():
            try:  # inspecting first: fine, or told to resume (never "damaged")
                with Journal(path, readonly=True):
                    pass
            except BulkError as exc:
                assert not isinstance(exc, JournalCorruptError)
                assert "resume the run" in str(exc)
        with Journal(path) as journal:  # the resume: never JournalCorruptError
            assert journal.path == path
        with Journal(path, readonly=True):  # and after it, inspection works
            pass
