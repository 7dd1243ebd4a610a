"""``BulkJob`` against an in-process emulator: resume from every state, exactly once."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from floimg_async import FloImg
from floimg_async.bulk import (
    BulkJob,
    BulkProgress,
    ItemState,
    Journal,
    JournalMismatchError,
    fingerprint,
    idempotency_key,
)
from floimg_async.emulator import Emulator


def _input(path: Path, prompts: list[str], **extra: object) -> Path:
    path.write_text("".join(json.dumps({"prompt": p, **extra}) + "\n" for p in prompts))
    return path


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def _runs_per_prompt(emulator: Emulator) -> Counter[str]:
    return Counter(e.parameters.get("prompt") for e in await emulator.executions())


def _job(client: FloImg, workflow: str, tmp_path: Path, **kwargs: Any) -> BulkJob:
    options: dict[str, Any] = {"concurrency": 4, "poll_interval": 0.02}
    options.update(kwargs)
    return BulkJob(
        client,
        workflow,
        tmp_path / "in.jsonl",
        tmp_path / "bulk.journal",
        out_path=tmp_path / "out.jsonl",
        **options,
    )


async def test_bulk_runs_every_line_once_then_a_rerun_sends_nothing(
    client: FloImg, emulator: Emulator, tmp_path: Path
) -> None:
    prompts = [f"p{n}" for n in range(12)]
    _input(tmp_path / "in.jsonl", prompts, width=40, height=20)
    seen: list[BulkProgress] = []
    job = _job(client, "wf_social_card", tmp_path, download_dir=tmp_path / "img")
    summary = await job.run(on_progress=seen.append)
    assert (summary.completed, summary.failed, summary.skipped) == (12, 0, 0)
    assert summary.ok and summary.total == 12
    assert summary.requests is not None and summary.requests_per_execution is not None
    assert seen[0].done == 0 and seen[-1].done == 12 and seen[-1].total == 12
    lines = _lines(tmp_path / "out.jsonl")
    assert sorted(line["index"] for line in lines) == list(range(12))
    images = sorted(p.name for p in (tmp_path / "img").iterdir() if not p.name.startswith("."))
    assert images[:2] == ["000000.png", "000001.png"] and len(images) == 12
    assert all(Path(str(line["file"])).exists() for line in lines)

    again = await job.run()
    assert (again.completed, again.skipped, again.resumed) == (0, 12, 0)
    assert again.requests == 1  # the workflow check only: nothing is submitted again
    assert len(_lines(tmp_path / "out.jsonl")) == 12
    assert await _runs_per_prompt(emulator) == Counter(prompts)


async def test_bulk_resumes_items_left_submitting_or_submitted_without_running_twice(
    client: FloImg, emulator: Emulator, tmp_path: Path
) -> None:
    prompts = ["sent", "never-sent", "submitted", "queued"]
    source = _input(tmp_path / "in.jsonl", prompts)
    with Journal(tmp_path / "bulk.journal") as journal:
        run_id = journal.bind("wf_social_card", str(source), fingerprint(source))
        for index, prompt in enumerate(prompts):
            journal.add(index, index + 1, {"prompt": prompt})
        # 0: killed after the request reached the server, before its answer was recorded.
        journal.mark_submitting(0)
        await client.workflows.submit(
            "wf_social_card", {"prompt": "sent"}, idempotency_key=idempotency_key(run_id, 0, 1)
        )
        # 1: killed before the request left.
        journal.mark_submitting(1)
        # 2: killed while waiting.
        journal.mark_submitting(2)
        execution = await client.workflows.submit(
            "wf_social_card",
            {"prompt": "submitted"},
            idempotency_key=idempotency_key(run_id, 2, 1),
        )
        journal.mark_submitted(2, execution.id)

    summary = await _job(client, "wf_social_card", tmp_path).run()
    assert summary.completed == 4 and summary.resumed == 3 and summary.ok
    assert await _runs_per_prompt(emulator) == Counter(prompts)
    with Journal(tmp_path / "bulk.journal", readonly=True) as journal:
        resumed = journal.get(2)
        assert resumed is not None and resumed.execution_id == execution.id
    assert emulator.stats.idempotent_replays >= 1


async def test_bulk_failed_items_are_retried_only_when_asked_and_under_a_new_key(
    client: FloImg, emulator: Emulator, tmp_path: Path
) -> None:
    (tmp_path / "in.jsonl").write_text(
        '{"prompt": "fine"}\n{"prompt": "please fail"}\n{"prompt": "also fine"}\n'
    )
    first = await _job(client, "wf_flaky", tmp_path).run()
    assert (first.completed, first.failed, first.ok) == (2, 1, False)
    failed = [line for line in _lines(tmp_path / "out.jsonl") if line["status"] == "failed"]
    assert failed[0]["index"] == 1 and failed[0]["executionId"]
    assert "fail" in str(failed[0]["error"])

    again = await _job(client, "wf_flaky", tmp_path).run()
    assert (again.failed, again.skipped) == (0, 3)
    assert len(await emulator.executions()) == 3

    retried = await _job(client, "wf_flaky", tmp_path, retry_failed=True).run()
    assert (retried.failed, retried.skipped) == (1, 2)
    executions = await emulator.executions()
    assert len(executions) == 4
    run_id = retried.run_id
    keys = Counter(e.idempotency_key for e in executions)
    assert keys[f"bulk-{run_id}-1"] == 1 and keys[f"bulk-{run_id}-1-r2"] == 1
    lines = _lines(tmp_path / "out.jsonl")
    assert sorted(line["index"] for line in lines) == [0, 1, 2]
    assert next(line for line in lines if line["index"] == 1)["attempt"] == 2


async def test_bulk_bad_and_blank_lines(client: FloImg, emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text('{"prompt": "a"}\n\n   \n[1, 2]\n{oops\n{"prompt": "b"}\n')
    summary = await _job(client, "wf_social_card", tmp_path).run()
    assert (summary.total, summary.completed, summary.failed) == (4, 2, 2)
    by_index = {line["index"]: line for line in _lines(tmp_path / "out.jsonl")}
    assert by_index[1]["errorCode"] == "invalid_input" and by_index[1]["line"] == 4
    assert "line 5" in str(by_index[2]["error"])
    assert by_index[3]["parameters"] == {"prompt": "b"}
    assert len(await emulator.executions()) == 2


async def test_bulk_results_file_is_repaired_after_a_crash_between_write_and_journal(
    client: FloImg, tmp_path: Path
) -> None:
    _input(tmp_path / "in.jsonl", ["a", "b", "c"])
    await _job(client, "wf_social_card", tmp_path).run()
    out = tmp_path / "out.jsonl"
    with out.open("a") as handle:
        handle.write('{"index": 1, "status": "compl')  # half a line the journal never recorded
    await _job(client, "wf_social_card", tmp_path).run()
    assert sorted(line["index"] for line in _lines(out)) == [0, 1, 2]
    out.unlink()
    await _job(client, "wf_social_card", tmp_path).run()
    assert sorted(line["index"] for line in _lines(out)) == [0, 1, 2]


async def test_bulk_refuses_a_changed_input_or_another_workflow(
    client: FloImg, tmp_path: Path
) -> None:
    source = _input(tmp_path / "in.jsonl", ["a", "b"])
    await _job(client, "wf_social_card", tmp_path).run()
    with pytest.raises(JournalMismatchError, match="belongs to workflow"):
        await _job(client, "wf_flaky", tmp_path).run()
    source.write_text(source.read_text() + '{"prompt": "c"}\n')
    with pytest.raises(JournalMismatchError, match="content changed"):
        await _job(client, "wf_social_card", tmp_path).run()


async def test_bulk_cancelled_mid_run_resumes_exactly_once(
    client: FloImg, emulator: Emulator, tmp_path: Path
) -> None:
    prompts = [f"c{n}" for n in range(40)]
    _input(tmp_path / "in.jsonl", prompts)
    started = asyncio.Event()

    def progress(state: BulkProgress) -> None:
        if state.completed >= 8:
            started.set()

    task = asyncio.ensure_future(_job(client, "wf_social_card", tmp_path).run(progress))
    await asyncio.wait_for(started.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with Journal(tmp_path / "bulk.journal", readonly=True) as journal:
        counts = journal.counts()
    assert 8 <= counts[ItemState.COMPLETED] < 40

    summary = await _job(client, "wf_social_card", tmp_path).run()
    assert summary.completed_total == 40 and summary.ok
    assert await _runs_per_prompt(emulator) == Counter(prompts)
    assert sorted(line["index"] for line in _lines(tmp_path / "out.jsonl")) == list(range(40))


async def test_bulk_transient_errors_leave_items_resumable(
    emulator: Emulator, tmp_path: Path
) -> None:
    _input(tmp_path / "in.jsonl", ["t0", "t1", "t2"])
    emulator.inject_fault("503", path="/v1/workflows/execute", count=3)
    async with FloImg(emulator.api_key, base_url=emulator.base_url, max_retries=0) as client:
        first = await _job(client, "wf_social_card", tmp_path, concurrency=1).run()
        assert (first.completed, first.unfinished, first.ok) == (0, 3, False)
        with Journal(tmp_path / "bulk.journal", readonly=True) as journal:
            assert journal.counts()[ItemState.SUBMITTING] == 3
        second = await _job(client, "wf_social_card", tmp_path).run()
    assert (second.completed, second.resumed, second.ok) == (3, 3, True)
    assert await _runs_per_prompt(emulator) == Counter(["t0", "t1", "t2"])
