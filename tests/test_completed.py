"""What the narrowed types promise at run time: ``CompletedExecution`` and the ``RunResult`` union.

``run``/``execute``/``wait`` return a :class:`CompletedExecution` (``output`` never
``None``) or raise; ``run_many`` yields :class:`RunSucceeded` or :class:`RunFailed`.
The static side is ``tests/typing/readme_snippets.py`` under ``mypy --strict``.
"""

from __future__ import annotations

import contextlib

import attrs
import pytest
from _support import BASE_URL, FakeSleep
from aioresponses import aioresponses

from floimg_async import (
    CompletedExecution,
    Execution,
    ExecutionOutput,
    ExecutionStatus,
    FloImg,
    RunFailed,
    RunResult,
    RunSucceeded,
    WorkflowFailedError,
)

EXECUTE = f"{BASE_URL}/workflows/execute"
STATUS = f"{BASE_URL}/workflows/executions/exec_1"
OUTPUT = {"url": "https://x/1.png", "width": 1200, "height": 630}


def test_completed_execution_is_an_execution_that_equals_its_source() -> None:
    plain = Execution("exec_1", ExecutionStatus.COMPLETED, output=ExecutionOutput(url="u"))
    completed = CompletedExecution.of(plain)
    assert isinstance(completed, Execution)
    assert completed == plain and plain == completed and hash(completed) == hash(plain)
    assert completed.output == plain.output
    assert completed.to_dict() == plain.to_dict()
    assert CompletedExecution.of(completed) is completed
    assert completed != attrs.evolve(plain, duration_ms=5)


def test_a_completed_execution_without_output_gets_an_empty_one() -> None:
    completed = CompletedExecution.of(Execution("exec_1", ExecutionStatus.COMPLETED))
    assert completed.output == ExecutionOutput()
    assert completed.output.url is None


@pytest.mark.parametrize("status", ["pending", "running", "failed", "cancelled", "Queued"])
def test_only_a_completed_execution_converts(status: str) -> None:
    with pytest.raises(ValueError, match="not completed"):
        CompletedExecution.of(Execution("exec_1", ExecutionStatus(status)))


async def test_execute_returns_a_completed_execution(client: FloImg) -> None:
    with aioresponses() as mock:
        mock.post(
            EXECUTE, payload={"executionId": "exec_1", "status": "completed", "output": OUTPUT}
        )
        execution = await client.workflows.execute("wf", {"n": 1})
    assert type(execution) is CompletedExecution
    assert execution.output == ExecutionOutput(**OUTPUT)
    assert execution.workflow_id == "wf"


async def test_execute_polls_a_server_that_answers_before_the_work_is_done(
    client: FloImg, fake_sleep: FakeSleep
) -> None:
    with aioresponses() as mock:
        mock.post(EXECUTE, payload={"executionId": "exec_1", "status": "running"})
        mock.get(STATUS, payload={"executionId": "exec_1", "status": "running"})
        mock.get(STATUS, payload={"executionId": "exec_1", "status": "completed", "output": OUTPUT})
        execution = await client.workflows.execute("wf")
    assert type(execution) is CompletedExecution and execution.output.url == OUTPUT["url"]
    assert len(fake_sleep.calls) == 2  # backed off between polls, as wait() does


async def test_execute_raises_for_an_answer_that_ended_badly(client: FloImg) -> None:
    with aioresponses() as mock:
        mock.post(EXECUTE, payload={"executionId": "exec_1", "status": "failed", "error": "boom"})
        with pytest.raises(WorkflowFailedError) as info:
            await client.workflows.execute("wf")
    assert info.value.execution is not None and info.value.execution.error == "boom"


async def test_run_many_yields_the_two_result_kinds(client: FloImg) -> None:
    with aioresponses() as mock:
        mock.post(
            EXECUTE, payload={"executionId": "exec_1", "status": "completed", "output": OUTPUT}
        )
        mock.post(EXECUTE, payload={"executionId": "exec_2", "status": "failed", "error": "no"})
        async with contextlib.aclosing(
            client.workflows.run_many("wf", [{"n": 1}, {"n": 2}], concurrency=1)
        ) as results:
            collected = [result async for result in results]
    good, bad = sorted(collected, key=lambda result: result.index)
    assert isinstance(good, RunSucceeded) and isinstance(good, RunResult)
    assert good.ok is True and good.error is None
    assert type(good.execution) is CompletedExecution
    assert isinstance(bad, RunFailed) and isinstance(bad, RunResult)
    assert bad.ok is False and isinstance(bad.error, WorkflowFailedError)
    assert bad.execution is not None and bad.execution.status is ExecutionStatus.FAILED
