"""Requests per execution: sync mode (one request), async mode (polls timed by an estimate).

The request counts come from the client's ``stats`` (every request, retries and
polls included) and, by method, from the in-process emulator; no wall-clock assertions.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from floimg_async import Execution, ExecutionStatus, FloImg, RateLimitedError
from floimg_async.bulk import (
    BulkJob,
    Journal,
    JournalMismatchError,
    fingerprint,
    idempotency_key,
)
from floimg_async.bulk._polling import DurationEstimator, Poller
from floimg_async.emulator import Emulator


def _input(path: Path, count: int, tag: str) -> Path:
    path.write_text(
        "".join(json.dumps({"prompt": f"{tag}-{n}", "width": 24, "height": 24}) + "\n"
                for n in range(count))
    )  # fmt: skip
    return path


async def _run(
    emulator: Emulator, tmp_path: Path, count: int, **options: Any
) -> tuple[Any, Counter[str]]:
    """Run a job; return its summary and the requests the emulator saw, by method."""
    source = _input(tmp_path / "in.jsonl", count, "m")
    async with FloImg(emulator.api_key, base_url=emulator.base_url) as client:
        summary = await BulkJob(client, "wf_social_card", source, tmp_path / "j", **options).run()
        assert summary.requests == client.stats.requests  # the run was all the client sent
    by_method: Counter[str] = Counter()
    for route, answers in emulator.stats.by_route.items():
        by_method[route.split(" ", 1)[0]] += sum(answers.values())
    return summary, by_method


async def test_bulk_sync_mode_costs_one_request_per_execution(tmp_path: Path) -> None:
    async with Emulator(port=0, execution_time=0.05) as emulator:
        summary, by_method = await _run(emulator, tmp_path, 60, mode="sync", concurrency=12)
        executions = await emulator.executions()
    assert summary.ok and summary.completed == 60 and summary.mode == "sync"
    assert by_method == Counter({"POST": 60, "GET": 1})  # + the workflow check
    assert summary.requests == 61
    assert summary.requests_per_execution is not None
    assert summary.requests_per_execution <= 1.05
    assert {e.mode for e in executions} == {"sync"}
    assert len(executions) == 60


async def test_bulk_async_mode_polls_about_once_per_execution(tmp_path: Path) -> None:
    # 2-second executions scaled down by 8 (the poll settings too): same arithmetic.
    async with Emulator(port=0, execution_time=0.25) as emulator:
        summary, by_method = await _run(
            emulator, tmp_path, 64, concurrency=16, poll_interval=0.125, max_poll_interval=1.25
        )
    assert summary.ok and summary.mode == "async"
    assert by_method["POST"] == 64
    assert summary.requests == sum(by_method.values())
    per = summary.requests_per_execution
    assert per is not None and per <= 2.2, f"{per:.3f} requests per execution"


async def test_bulk_mode_belongs_to_the_journal(client: FloImg, tmp_path: Path) -> None:
    source = _input(tmp_path / "in.jsonl", 3, "j")
    first = await BulkJob(
        client, "wf_social_card", source, tmp_path / "j", mode="sync", poll_interval=0.02
    ).run()
    assert first.mode == "sync"
    with pytest.raises(JournalMismatchError, match="sync mode"):
        await BulkJob(client, "wf_social_card", source, tmp_path / "j", mode="async").run()
    again = await BulkJob(client, "wf_social_card", source, tmp_path / "j").run()
    assert again.mode == "sync" and again.skipped == 3
    with pytest.raises(ValueError, match="mode"):
        BulkJob(client, "wf_social_card", source, mode="fast")


async def test_bulk_sync_mode_resends_in_flight_items_under_their_key(
    client: FloImg, emulator: Emulator, tmp_path: Path
) -> None:
    prompts = ["sent", "never-sent", "queued"]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in prompts))
    with Journal(tmp_path / "j") as journal:
        run_id = journal.bind("wf_social_card", str(source), fingerprint(source), "sync")
        for index, prompt in enumerate(prompts):
            journal.add(index, index + 1, {"prompt": prompt})
        # 0: the key was journaled, the request reached the server, then the process died.
        journal.mark_submitting(0)
        await client.workflows.execute(
            "wf_social_card", {"prompt": "sent"}, idempotency_key=idempotency_key(run_id, 0, 1)
        )
        # 1: journaled, killed before the request left.
        journal.mark_submitting(1)
    summary = await BulkJob(client, "wf_social_card", source, tmp_path / "j").run()
    assert summary.ok and summary.resumed == 2 and summary.mode == "sync"
    ran = Counter(e.parameters.get("prompt") for e in await emulator.executions())
    assert ran == Counter(prompts)
    assert emulator.stats.idempotent_replays >= 1


# -- the poller on its own ------------------------------------------------------------------


class _Executions:
    """``client.executions`` of a fake client: running until ``finish_at`` (loop time)."""

    def __init__(self, finish_at: float, *, rate_limited: int = 0, retry_after: float = 0.03):
        self.finish_at = finish_at
        self.rate_limited = rate_limited
        self.retry_after = retry_after
        self.polls: list[float] = []

    async def get(self, execution_id: str, *, deadline_at: float | None = None) -> Execution:
        now = asyncio.get_running_loop().time()
        if self.rate_limited:
            self.rate_limited -= 1
            raise RateLimitedError(
                "slow down", status=429, code="rate_limited", retry_after=self.retry_after
            )
        self.polls.append(now)
        done = now >= self.finish_at
        return Execution(
            id=execution_id,
            status=ExecutionStatus.COMPLETED if done else ExecutionStatus.RUNNING,
        )


class _Client:
    def __init__(self, executions: _Executions) -> None:
        self.executions = executions


def _poller(executions: _Executions, estimator: DurationEstimator, **options: Any) -> Poller:
    settings: dict[str, Any] = {"poll_interval": 0.02, "max_poll_interval": 0.08, "timeout": None}
    settings.update(options)
    poller = Poller(_Client(executions), estimator, **settings)  # type: ignore[arg-type]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(seconds)

    poller.sleep = sleep  # type: ignore[method-assign]
    poller.waits = waits  # type: ignore[attr-defined]
    return poller


async def test_bulk_poller_lag_stays_bounded_by_max_poll_interval_whatever_the_estimate() -> None:
    estimator = DurationEstimator()
    estimator.seed(50.0, 60.0, None)  # "this workflow takes a minute": wrong for this one
    loop = asyncio.get_running_loop()
    executions = _Executions(finish_at=loop.time() + 0.3)
    poller = _poller(executions, estimator)
    final = await poller.wait("exec_1", submitted_at=loop.time())
    assert final.status is ExecutionStatus.COMPLETED
    assert poller.waits and max(poller.waits) <= 0.08  # type: ignore[attr-defined]
    gaps = [b - a for a, b in zip(executions.polls, executions.polls[1:], strict=False)]
    assert len(executions.polls) >= 2 and len(gaps) == len(executions.polls) - 1


async def test_bulk_poller_first_poll_goes_out_at_the_estimate() -> None:
    estimator = DurationEstimator()
    estimator.seed(0.05, 0.07, None)
    loop = asyncio.get_running_loop()
    start = loop.time()
    executions = _Executions(finish_at=start + 0.04)
    poller = _poller(executions, estimator, max_poll_interval=1.0)
    await poller.wait("exec_1", submitted_at=start)
    assert len(executions.polls) == 1  # one poll, made after it finished: found it done
    assert executions.polls[0] >= executions.finish_at
    assert estimator.hits == 1 and estimator.misses == 0


async def test_bulk_poller_a_miss_replans_the_executions_sleeping_towards_the_estimate() -> None:
    """A wave planned from one (too low) estimate misses once, not once per execution."""
    estimator = DurationEstimator()
    estimator.seed(0.08, 0.085, None)  # the truth is 0.1
    loop = asyncio.get_running_loop()
    start = loop.time()
    executions = _Executions(finish_at=start + 0.1)
    poller = _poller(executions, estimator, poll_interval=0.2, max_poll_interval=1.0)

    async def one(n: int) -> None:
        await asyncio.sleep(0.002 * n)  # submitted one after another
        await poller.wait(f"exec_{n}", submitted_at=start + 0.002 * n)

    await asyncio.gather(*(one(n) for n in range(12)))
    assert estimator.misses <= 3
    assert len(executions.polls) <= 12 + 2 * estimator.misses


async def test_bulk_poller_honours_retry_after_of_a_429() -> None:
    estimator = DurationEstimator()
    loop = asyncio.get_running_loop()
    executions = _Executions(finish_at=loop.time(), rate_limited=2, retry_after=0.03)
    poller = _poller(executions, estimator)
    final = await poller.wait("exec_1", submitted_at=None)
    assert final.status is ExecutionStatus.COMPLETED
    assert poller.waits.count(0.03) == 2  # type: ignore[attr-defined]


async def test_bulk_poller_followers_wait_for_the_leader_instead_of_polling_blind() -> None:
    estimator = DurationEstimator()
    loop = asyncio.get_running_loop()
    start = loop.time()
    executions = _Executions(finish_at=start + 0.1)
    poller = _poller(executions, estimator, poll_interval=0.04, max_poll_interval=1.0)
    await asyncio.gather(*(poller.wait(f"exec_{n}", submitted_at=start) for n in range(10)))
    # The leader polls a few times; the nine others poll once each, after its sample.
    assert len(executions.polls) <= 3 + 9 + 2
    assert estimator.estimate is not None


def test_bulk_estimator_settles_near_the_90th_percentile() -> None:
    rng = random.Random(7)
    durations = [rng.uniform(1.0, 3.0) for _ in range(4000)]  # p90 = 2.8
    estimator = DurationEstimator()
    estimator.seed(2.0, 2.2, None)
    seen: list[float] = []
    for duration in durations:
        assert estimator.estimate is not None
        estimator.observe(estimator.estimate, duration <= estimator.estimate)
        seen.append(estimator.estimate)
    assert statistics.median(seen[2000:]) == pytest.approx(2.8, rel=0.1)
    assert 0.8 <= estimator.hits / (estimator.hits + estimator.misses) <= 0.95
    # Stale observations (planned from another estimate) do not move it.
    before = estimator.estimate
    estimator.observe(before * 2, True)
    estimator.observe(before / 2, False)
    assert estimator.estimate == before
