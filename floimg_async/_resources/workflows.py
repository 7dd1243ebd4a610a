"""``client.workflows``: list, inspect and execute workflows, singly or in bulk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any

import attrs

from .._errors import WaitTimeoutError, WorkflowFailedError
from .._models import (
    CompletedExecution,
    Execution,
    ExecutionStatus,
    RunFailed,
    RunOutcome,
    RunSucceeded,
    Workflow,
    WorkflowSummary,
)
from .._pagination import AsyncPager
from .._request import (
    Request,
    json_body,
    path,
    segment,
)
from ._base import Resource
from .executions import Executions

__all__ = ["ParameterSets", "Workflows"]

ParameterSets = Iterable[Mapping[str, Any] | None] | AsyncIterable[Mapping[str, Any] | None]


def _check_parameters(parameters: object) -> Mapping[str, Any]:
    if parameters is None:
        return {}
    if not isinstance(parameters, Mapping):
        raise TypeError(
            f"workflow parameters must be a mapping (e.g. a dict), got {type(parameters).__name__}"
        )
    return parameters


class Workflows(Resource):
    """Saved workflows and their executions (``/workflows``)."""

    def __init__(self, sender: Any, executions: Executions) -> None:
        super().__init__(sender)
        self._executions = executions

    def list(
        self,
        *,
        project_id: str | None = None,
        page_size: int = 20,
        offset: int = 0,
        max_items: int | None = None,
        prefetch: bool = False,
    ) -> AsyncPager[WorkflowSummary]:
        """Iterate over the account's workflows (one request per page, made lazily).

        Raises ``ValueError`` for a ``page_size`` outside 1..100 before any request.
        ``prefetch=True`` requests each next page while you work on the current one.
        """
        return self._pager(
            "/workflows",
            "workflows",
            WorkflowSummary,
            what="workflows.list",
            project_id=project_id,
            page_size=page_size,
            offset=offset,
            max_items=max_items,
            prefetch=prefetch,
        )

    async def get(self, workflow_id: str) -> Workflow:
        """Fetch one workflow with its parameter schema (one request)."""
        request = Request(
            "GET", path("workflows", segment(workflow_id, "workflow_id")), what="workflows.get"
        )
        return await self._call(request, Workflow)

    async def execute(
        self,
        workflow_id: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> CompletedExecution:
        """Run a workflow in synchronous mode and return the finished execution.

        One request that lasts as long as the workflow. Raises
        :class:`WorkflowFailedError` when the workflow fails. Retries reuse one
        ``Idempotency-Key`` (pass your own to make re-runs after a crash safe).
        A server that answers before the work is done is polled as
        ``executions.wait`` does (bounded by the client's ``deadline``).
        """
        execution = await self._start(workflow_id, parameters, False, idempotency_key, None)
        if execution.status is ExecutionStatus.COMPLETED:
            return CompletedExecution.of(execution)
        # Not finished yet, or ended badly: wait() polls the one, raises for the other.
        return await self._executions.wait(execution)

    async def submit(
        self,
        workflow_id: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Execution:
        """Start a workflow in async mode; returns at once, usually ``pending`` (one request)."""
        return await self._start(workflow_id, parameters, True, idempotency_key, None)

    async def run(
        self,
        workflow_id: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        idempotency_key: str | None = None,
    ) -> CompletedExecution:
        """``submit`` then ``executions.wait``: the completed execution, or an error.

        Raises :class:`WorkflowFailedError` or :class:`WaitTimeoutError` as
        ``executions.wait`` does. ``idempotency_key`` is the submission's.
        """
        execution = await self.submit(workflow_id, parameters, idempotency_key=idempotency_key)
        return await self._executions.wait(execution, timeout=timeout)

    def run_many(
        self,
        workflow_id: str,
        parameter_sets: ParameterSets,
        *,
        concurrency: int = 8,
        timeout: float | None = None,
    ) -> AsyncGenerator[RunOutcome, None]:
        """Run the workflow once per parameter set, ``concurrency`` at a time.

        Yields a :class:`RunResult` for each as it finishes (completion order;
        ``index`` is the input position). ``parameter_sets`` (an iterable or
        async iterable of mappings) is read lazily. A failure is yielded, never
        raised, and never stops the others. Each set costs one request (a
        synchronous execute) unless the server answers before the work is done,
        in which case it is polled. ``timeout`` bounds each set. Close the
        iterator (``contextlib.aclosing``) to cancel work still in flight.
        Each result is a :class:`RunSucceeded` or a :class:`RunFailed`;
        ``if result.ok:`` tells a type checker which.
        """
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be an int >= 1, got {concurrency!r}")
        segment(workflow_id, "workflow_id")
        if not isinstance(parameter_sets, Iterable | AsyncIterable) or isinstance(
            parameter_sets, str | bytes | Mapping
        ):
            raise TypeError(
                "parameter_sets must be an iterable or async iterable of mappings, "
                f"got {type(parameter_sets).__name__}"
            )
        return self._run_many(workflow_id, parameter_sets, concurrency, timeout)

    async def _run_many(
        self,
        workflow_id: str,
        parameter_sets: ParameterSets,
        concurrency: int,
        timeout: float | None,
    ) -> AsyncGenerator[RunOutcome, None]:
        sets = _aiter(parameter_sets)
        in_flight: set[asyncio.Task[RunOutcome]] = set()
        # Each task reports itself here when done: O(1) per result, where
        # asyncio.wait() would re-arm a callback on every task in flight.
        finished: asyncio.Queue[asyncio.Task[RunOutcome]] = asyncio.Queue()
        index = 0
        exhausted = False
        try:
            while True:
                while not exhausted and len(in_flight) < concurrency:
                    try:
                        parameters = await sets.__anext__()
                    except StopAsyncIteration:
                        exhausted = True
                        break
                    except Exception as exc:
                        # The caller's iterable failed: report it as a failed item and
                        # read no further (a broken iterator cannot be resumed).
                        exhausted = True
                        yield RunFailed(index, {}, None, exc)
                        break
                    task = asyncio.ensure_future(
                        self._run_one(workflow_id, index, parameters, timeout)
                    )
                    task.add_done_callback(finished.put_nowait)
                    in_flight.add(task)
                    index += 1
                if not in_flight:
                    return
                task = await finished.get()
                in_flight.discard(task)
                yield task.result()
        finally:
            for task in in_flight:
                task.cancel()
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            aclose = getattr(sets, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _run_one(
        self, workflow_id: str, index: int, parameters: Any, timeout: float | None
    ) -> RunOutcome:
        execution: Execution | None = None
        try:
            checked = _check_parameters(parameters)
            loop = asyncio.get_running_loop()
            deadline_at = None if timeout is None else loop.time() + timeout
            execution = await self._start(workflow_id, checked, False, None, deadline_at)
            if execution.status is ExecutionStatus.COMPLETED:
                completed = CompletedExecution.of(execution)
            else:
                # Not finished yet (polled), or ended badly (wait() raises at once).
                remaining = None if deadline_at is None else max(0.0, deadline_at - loop.time())
                completed = await self._executions.wait(execution, timeout=remaining)
            return RunSucceeded(index, checked, completed, None)
        except (WorkflowFailedError, WaitTimeoutError) as exc:
            return RunFailed(index, _as_mapping(parameters), exc.execution or execution, exc)
        except Exception as exc:  # every failure is yielded, whatever it is
            return RunFailed(index, _as_mapping(parameters), execution, exc)

    async def _start(
        self,
        workflow_id: str,
        parameters: Mapping[str, Any] | None,
        run_async: bool,
        idempotency_key: str | None,
        deadline_at: float | None,
    ) -> Execution:
        segment(workflow_id, "workflow_id")
        body = {
            "workflowId": workflow_id,
            "parameters": dict(_check_parameters(parameters)),
            "async": run_async,
        }
        what = "workflows.submit" if run_async else "workflows.execute"
        request = Request(
            "POST",
            path("workflows", "execute"),
            what=what,
            json=json_body(body),
            idempotency_key=idempotency_key,
        )
        try:
            execution = await self._call(request, Execution, deadline_at=deadline_at)
        except WorkflowFailedError as exc:
            if exc.execution is None:
                exc.execution = _failed_execution(exc, workflow_id)
            raise
        if execution.workflow_id is None:
            # The execute answer omits workflowId; fill it in so the model is complete.
            execution = attrs.evolve(execution, workflow_id=workflow_id)
        return execution


def _failed_execution(error: WorkflowFailedError, workflow_id: str) -> Execution | None:
    """The failed execution a 500 ``workflow_failed`` names in its details, if any."""
    execution_id = error.details.get("executionId") or error.details.get("execution_id")
    if not isinstance(execution_id, str):
        return None
    return Execution(
        id=execution_id,
        status=ExecutionStatus.FAILED,
        workflow_id=workflow_id,
        error=error.message,
    )


def _as_mapping(parameters: Any) -> Mapping[str, Any]:
    return parameters if isinstance(parameters, Mapping) else {}


async def _aiter(sets: ParameterSets) -> AsyncIterator[Any]:
    """One async iterator over either kind of iterable, pulling lazily."""
    if isinstance(sets, AsyncIterable):
        async for item in sets:
            yield item
    else:
        for item in sets:
            yield item
