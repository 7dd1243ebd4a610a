"""The waiter: polling schedule, terminal states, on_update, timeouts (MockTransport)."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

import attrs
import pytest
from _support import API_KEY, BASE_URL, FakeSleep

from floimg_async import (
    Execution,
    ExecutionOutput,
    ExecutionStatus,
    FloImg,
    WaitTimeoutError,
    WorkflowFailedError,
)
from floimg_async.transports import MockResponse, MockTransport, WireRequest

STATUS = f"{BASE_URL}/workflows/executions/exec_1"
EXECUTE = f"{BASE_URL}/workflows/execute"


class Script:
    """A MockTransport handler answering each URL from its own queue (the last repeats)."""

    def __init__(self) -> None:
        self.answers: dict[str, deque[dict[str, Any]]] = {}

    def states(self, *statuses: str, error: str | None = None) -> None:
        for status in statuses:
            body: dict[str, Any] = {"executionId": "exec_1", "workflowId": "wf", "status": status}
            if status == "completed":
                body["output"] = {"url": "http://127.0.0.1/files/x.png"}
            if error and status in {"failed", "error", "cancelled"}:
                body["error"] = error
            self.answers.setdefault(STATUS, deque()).append(body)

    def __call__(self, request: WireRequest) -> MockResponse:
        queue = self.answers[request.url]
        body = queue.popleft() if len(queue) > 1 else queue[0]
        return MockResponse(200, json=body)


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def transport(script: Script) -> MockTransport:
    return MockTransport(script)


@pytest.fixture
async def client(transport: MockTransport, fake_sleep: FakeSleep) -> Any:
    async with FloImg(API_KEY, base_url=BASE_URL, sleep=fake_sleep, transport=transport) as c:
        yield c


def polls(transport: MockTransport) -> int:
    return sum(1 for r in transport.requests if r.url == STATUS)


async def test_polls_with_doubling_backoff_up_to_the_cap(
    client: FloImg, script: Script, transport: MockTransport, fake_sleep: FakeSleep
) -> None:
    script.states(*["pending"] * 3, *["running"] * 4, "completed")
    execution = await client.executions.wait("exec_1", poll_interval=1.0, max_poll_interval=5.0)
    assert execution.succeeded and execution.output is not None
    assert polls(transport) == 8
    assert fake_sleep.calls == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]


async def test_a_given_execution_counts_as_the_first_poll(
    client: FloImg, script: Script, transport: MockTransport, fake_sleep: FakeSleep
) -> None:
    pending = Execution("exec_1", ExecutionStatus.PENDING)
    script.states("completed")
    await client.executions.wait(pending)
    assert polls(transport) == 1
    assert fake_sleep.calls == [1.0]  # slept before the first request


async def test_an_already_finished_execution_costs_nothing(
    client: FloImg, transport: MockTransport
) -> None:
    done = Execution("exec_1", ExecutionStatus.COMPLETED)
    finished = await client.executions.wait(done)
    assert transport.requests == []
    # The same execution, as a CompletedExecution: no output from the server reads as empty.
    assert finished == attrs.evolve(done, output=ExecutionOutput())


@pytest.mark.parametrize("status", ["failed", "error", "cancelled"])
async def test_any_other_end_raises_workflow_failed_with_the_execution(
    client: FloImg, script: Script, status: str
) -> None:
    script.states("running", status, error="the resize step ran out of memory")
    with pytest.raises(WorkflowFailedError) as info:
        await client.executions.wait("exec_1")
    assert info.value.execution.status == status
    assert "ran out of memory" in str(info.value)


async def test_unknown_status_keeps_polling(client: FloImg, script: Script) -> None:
    script.states("queued_for_gpu", "completed")
    assert (await client.executions.wait("exec_1")).succeeded


async def test_on_update_sees_each_change_once_sync_and_async(
    client: FloImg, script: Script
) -> None:
    seen_sync: list[str] = []
    seen_async: list[str] = []

    async def record(execution: Execution) -> None:
        seen_async.append(execution.status.value)

    script.states("pending", "pending", "running", "running", "completed")
    await client.executions.wait("exec_1", on_update=lambda e: seen_sync.append(e.status.value))
    script.answers.clear()
    script.states("pending", "running", "completed")
    await client.executions.wait("exec_1", on_update=record)
    assert seen_sync == ["pending", "running", "completed"]
    assert seen_async == ["pending", "running", "completed"]


async def test_timeout_raises_with_the_last_execution_seen(script: Script) -> None:
    script.states("running")
    async with FloImg(API_KEY, base_url=BASE_URL, transport=MockTransport(script)) as client:
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


async def test_run_submits_then_waits(client: FloImg, script: Script) -> None:
    script.answers[EXECUTE] = deque([{"executionId": "exec_1", "status": "pending"}])
    script.states("running", "completed")
    execution = await client.workflows.run("wf", {"prompt": "x"})
    assert execution.succeeded and execution.id == "exec_1"


async def test_run_passes_its_idempotency_key_to_the_submission(
    client: FloImg, script: Script, transport: MockTransport
) -> None:
    script.answers[EXECUTE] = deque([{"executionId": "exec_1", "status": "completed"}])
    await client.workflows.run("wf", {"prompt": "x"}, idempotency_key="job-7")
    (call,) = transport.requests
    assert call.method == "POST" and call.headers is not None
    assert call.headers["Idempotency-Key"] == "job-7"
    assert isinstance(call.body, bytes)
    assert json.loads(call.body) == {
        "workflowId": "wf",
        "parameters": {"prompt": "x"},
        "async": True,
    }
