"""``client.executions``: read an execution, and wait for one to finish."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, retry_if_result

from .._errors import APITimeoutError, WaitTimeoutError, WorkflowFailedError
from .._models import CompletedExecution, Execution, ExecutionStatus
from .._request import Request, path, segment
from ._base import Resource

__all__ = ["Executions", "OnUpdate"]

OnUpdate = Callable[[Execution], Awaitable[Any] | Any]


def check_poll_settings(
    poll_interval: float, max_poll_interval: float, timeout: float | None
) -> None:
    """Reject settings that would poll in a tight loop or never stop sensibly."""
    if not poll_interval > 0:
        raise ValueError(f"poll_interval must be > 0 seconds, got {poll_interval!r}")
    if not max_poll_interval >= poll_interval:
        raise ValueError(
            f"max_poll_interval ({max_poll_interval!r}) must be >= "
            f"poll_interval ({poll_interval!r})"
        )
    if timeout is not None and not timeout >= 0:
        raise ValueError(f"timeout must be None or >= 0 seconds, got {timeout!r}")


def failure_of(execution: Execution) -> WorkflowFailedError:
    """The error for an execution that ended any way other than ``completed``."""
    reason = execution.error or "no reason given"
    return WorkflowFailedError(
        f"execution {execution.id} ended {execution.status.value}: {reason}",
        status=500,
        code="workflow_failed",
        execution=execution,
    )


class Executions(Resource):
    """Executions of workflows (``/workflows/executions``)."""

    async def get(self, execution_id: str, *, deadline_at: float | None = None) -> Execution:
        """Fetch an execution's current state (one request)."""
        request = Request(
            "GET",
            path("workflows", "executions", segment(execution_id, "execution_id")),
            what="executions.get",
        )
        return await self._call(request, Execution, deadline_at=deadline_at)

    async def wait(
        self,
        execution: Execution | str,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        max_poll_interval: float = 10.0,
        on_update: OnUpdate | None = None,
    ) -> CompletedExecution:
        """Poll until the execution ends; return it when it ``completed``.

        Polls back off from ``poll_interval`` to ``max_poll_interval`` seconds
        (doubling), so a 60 s job costs about ten requests. Raises
        :class:`WorkflowFailedError` (``.execution`` set) when it ends
        ``failed``, ``error`` or ``cancelled``, and :class:`WaitTimeoutError`
        (``.execution`` the last state seen) after ``timeout`` seconds.
        ``on_update`` (a function or coroutine function) gets the execution
        whenever its status changes. Cancelling the awaiting task stops at once.
        """
        check_poll_settings(poll_interval, max_poll_interval, timeout)
        if on_update is not None and not callable(on_update):
            raise TypeError("on_update must be a callable taking an Execution")
        if isinstance(execution, Execution):
            execution_id, latest = execution.id, execution
        else:
            segment(execution, "execution")
            execution_id, latest = execution, None
        loop = asyncio.get_running_loop()
        deadline_at = None if timeout is None else loop.time() + timeout
        last: Execution | None = latest
        use_given = latest is not None

        async def poll() -> Execution:
            nonlocal last, use_given
            if use_given:  # the caller's copy counts as the first poll
                use_given = False
                assert latest is not None
                return latest
            current = await self.get(execution_id, deadline_at=deadline_at)
            if on_update is not None and (last is None or last.status != current.status):
                result = on_update(current)
                if inspect.isawaitable(result):
                    await result
            last = current
            return current

        def interval(state: RetryCallState) -> float:
            wait = min(max_poll_interval, poll_interval * 2.0 ** (state.attempt_number - 1))
            if deadline_at is not None:
                wait = max(0.0, min(wait, deadline_at - loop.time()))
            return wait

        def out_of_time(state: RetryCallState) -> bool:
            return deadline_at is not None and loop.time() >= deadline_at

        retrying = AsyncRetrying(
            sleep=self._sender.sleep,
            retry=retry_if_result(_not_terminal),
            wait=interval,
            stop=out_of_time,
            retry_error_callback=lambda state: None,
        )
        try:
            final: Execution | None = await retrying(poll)
        except APITimeoutError as exc:
            if deadline_at is None or loop.time() < deadline_at:
                raise
            final = None
            cause: BaseException | None = exc
        else:
            cause = None
        if final is None:
            raise WaitTimeoutError(
                f"execution {execution_id} did not finish within {timeout:g}s "
                f"(last status: {last.status.value if last else 'unknown'}); "
                "wait on it again with its id",
                execution=last,
            ) from cause
        if final.status is not ExecutionStatus.COMPLETED:
            raise failure_of(final)
        return CompletedExecution.of(final)


def _not_terminal(execution: Execution) -> bool:
    return not execution.is_terminal
