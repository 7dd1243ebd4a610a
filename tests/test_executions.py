"""The waiter: polling schedule, terminal states, on_update, timeouts (mocked HTTP)."""

from __future__ import annotations

import attrs
import pytest
from _support import API_KEY, BASE_URL, FakeSleep
from aioresponses import aioresponses
from yarl import URL

from floimg_async import (
    Execution,
    ExecutionOutput,
    ExecutionStatus,
    FloImg,
    WaitTimeoutError,
    WorkflowFailedError,
)

STATUS = f"{BASE_URL}/workflows/executions/exec_1"


def states(mock: aioresponses, *statuses: str, error: str | None = None) -> None:
    for status in statuses:
        body = {"executionId": "exec_1", "workflowId": "wf", "status": status}
        if status == "completed":
            body["output"] = {"url": "http://127.0.0.1/files/x.png"}
        if error and status in {"failed", "error", "cancelled"}:
            body["error"] = error
        mock.get(STATUS, payload=body)


async def test_polls_with_doubling_backoff_up_to_the_cap(
    client: FloImg, fake_sleep: FakeSleep
) -> None:
    with aioresponses() as mock:
        states(mock, *["pending"] * 3, *["running"] * 4, "completed")
        execution = await client.executions.wait("exec_1", poll_interval=1.0, max_poll_interval=5.0)
        polls = len(mock.requests[("GET", URL(STATUS))])
    assert execution.succeeded and execution.output is not None
    assert polls == 8
    assert fake_sleep.calls == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]


async def test_a_given_execution_counts_as_the_first_poll(
    client: FloImg, fake_sleep: FakeSleep
) -> None:
    pending = Execution("exec_1", ExecutionStatus.PENDING)
    with aioresponses() as mock:
        states(mock, "completed")
        await client.executions.wait(pending)
        assert len(mock.requests[("GET", URL(STATUS))]) == 1
    assert fake_sleep.calls == [1.0]  # slept before the first request


async def test_an_already_finished_execution_costs_nothing(client: FloImg) -> None:
    done = Execution("exec_1", ExecutionStatus.COMPLETED)
    with aioresponses() as mock:
        finished = await client.executions.wait(done)
        assert not mock.requests
    # The same execution, as a CompletedExecution: no output from the server reads as empty.
    assert finished == attrs.evolve(done, output=ExecutionOutput())


@pytest.mark.parametrize("status", ["failed", "error", "cancelled"])
async def test_any_other_end_raises_workflow_failed_with_the_execution(
    client: FloImg, status: str
) -> None:
    with aioresponses() as mock:
        states(mock, "running", status, error="the resize step ran out of memory")
        with pytest.raises(WorkflowFailedError) as info:
            await client.executions.wait("exec_1")
    assert info.value.execution.status == status
    assert "ran out of memory" in str(info.value)


async def test_unknown_status_keeps_polling(client: FloImg) -> None:
    with aioresponses() as mock:
        states(mock, "queued_for_gpu", "completed")
        assert (await client.executions.wait("exec_1")).succeeded


async def test_on_update_sees_each_change_once_sync_and_async(client: FloImg) -> None:
    seen_sync: list[str] = []
    seen_async: list[str] = []

    async def record(execution: Execution) -> None:
        seen_async.append(execution.status.value)

    with aioresponses() as mock:
        states(mock, "pending", "pending", "running", "running", "completed")
        await client.executions.wait("exec_1", on_update=lambda e: seen_sync.append(e.status.value))
        states(mock, "pending", "running", "completed")
        await client.executions.wait("exec_1", on_update=record)
    assert seen_sync == ["pending", "running", "completed"]
    assert seen_async == ["pending", "running", "completed"]


async def test_timeout_raises_with_the_last_execution_seen() -> None:
    async with FloImg(API_KEY, base_url=BASE_URL) as client:
        with aioresponses() as mock:
            mock.get(STATUS, payload={"executionId": "exec_1", "status": "running"}, repeat=True)
            with pytest.raises(WaitTimeoutError) as info:
                await client.executions.wait(
                    "exec_1", timeout=0.15, poll_interval=0.02, max_poll_interval=0.05
                )
    assert info.value.execution is not None
    assert info.value.execution.status is ExecutionStatus.RUNNING
    assert "exec_1" in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [{"poll_interval": 0}, {"poll_interval": 2, "max_poll_interval": 1}, {"timeout": -1}],
)
async def test_bad_poll_settings(client: FloImg, kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        await client.executions.wait("exec_1", **kwargs)


async def test_run_submits_then_waits(client: FloImg) -> None:
    with aioresponses() as mock:
        mock.post(
            f"{BASE_URL}/workflows/execute", payload={"executionId": "exec_1", "status": "pending"}
        )
        states(mock, "running", "completed")
        execution = await client.workflows.run("wf", {"prompt": "x"})
    assert execution.succeeded and execution.id == "exec_1"


async def test_run_passes_its_idempotency_key_to_the_submission(client: FloImg) -> None:
    url = f"{BASE_URL}/workflows/execute"
    with aioresponses() as mock:
        mock.post(url, payload={"executionId": "exec_1", "status": "completed"})
        await client.workflows.run("wf", idempotency_key="job-7")
        (call,) = mock.requests[("POST", URL(url))]
    assert call.kwargs["headers"]["Idempotency-Key"] == "job-7"
