"""``client.executions``: read an execution, and wait for one to finish."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from tenacity import wait_exponential

from .._errors import (
    APITimeoutError,
    DeadlineExceededError,
    FloImgError,
    RateLimitedError,
    WaitTimeoutError,
    WorkflowFailedError,
)
from .._models import CompletedExecution, Execution, ExecutionStatus
from .._request import Request, path, segment
from .._retry import strategy_wait
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

    async def get(self, execution_id: str) -> Execution:
        """Fetch an execution's current state (one request, plus retries)."""
        return await self._get(execution_id, None)

    def _get(self, execution_id: str, deadline_at: float | None) -> Coroutine[Any, Any, Execution]:
        request = Request(
            "GET",
            path("workflows", "executions", segment(execution_id, "execution_id")),
            what="executions.get",
        )
        return self._call(request, Execution, deadline_at=deadline_at)

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
        (doubling, tenacity's ``wait_exponential``), so a 60 s job costs about
        ten requests. Raises
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
        backoff = wait_exponential(multiplier=poll_interval, max=max_poll_interval)
        sleep = self._sender.sleep

        def timed_out(cause: BaseException | None = None) -> WaitTimeoutError:
            error = WaitTimeoutError(
                f"execution {execution_id} did not finish within {timeout:g}s "
                f"(last status: {latest.status.value if latest else 'unknown'}); "
                "wait on it again with its id",
                execution=latest,
            )
            error.__cause__ = cause
            return error

        polls = 0
        while latest is None or not latest.is_terminal:
            if latest is not None:  # seen running: back off before the next poll
                polls += 1
                delay = strategy_wait(backoff, polls)
                if deadline_at is not None:
                    left = deadline_at - loop.time()
                    if left <= 0:
                        raise timed_out()
                    delay = min(delay, left)
                await sleep(delay)
            try:
                current = await self._get(execution_id, deadline_at)
            except (APITimeoutError, RateLimitedError) as exc:
                if deadline_at is not None and _ended_by_deadline(exc, deadline_at, loop.time()):
                    raise timed_out(exc) from exc
                raise
            if on_update is not None and (latest is None or latest.status != current.status):
                result = on_update(current)
                if inspect.isawaitable(result):
                    await result
            latest = current
        if latest.status is not ExecutionStatus.COMPLETED:
            raise failure_of(latest)
        return CompletedExecution.of(latest)


def _ended_by_deadline(error: FloImgError, deadline_at: float, now: float) -> bool:
    """Whether the wait's own timeout is what stopped a poll that failed with ``error``."""
    if isinstance(error, DeadlineExceededError) or now >= deadline_at:
        return True
    # A Retry-After reaching past the timeout (even one too long to honour at all).
    asked = error.retry_after if isinstance(error, RateLimitedError) else None
    return asked is not None and now + asked >= deadline_at
