"""Poll an async execution as rarely as the workflow's own history allows.

A bulk run submits many executions of one workflow, so after the first few it
knows how long that workflow takes. :class:`DurationEstimator` keeps a running
estimate of the 90th percentile of submit-to-finish time; :class:`Poller` times
each execution's first poll at it (so about nine in ten executions cost one poll),
then backs off from ``poll_interval`` to ``max_poll_interval``. Every wait
between two polls is at most ``max_poll_interval``, so an execution is seen
finished at most that long after it finished, whatever the estimate says.

Before anything is known, one execution at a time (the *leader*) polls on the
plain backoff schedule; the others wait for the leader's first sample (or
their own fallback time) instead of all polling blind. A 429 during a poll is
honoured: the poller sleeps its ``Retry-After`` and polls again.
"""

from __future__ import annotations

import asyncio
import contextlib

from .. import (
    Execution,
    ExecutionStatus,
    FloImg,
    RateLimitedError,
    WaitTimeoutError,
    WorkflowFailedError,
)

__all__ = ["DurationEstimator", "Poller"]

#: Followers without an estimate poll at the latest after this many poll intervals.
_FOLLOWER_WAIT = 4.0


class DurationEstimator:
    """A running estimate of the 90th percentile of one workflow's submit-to-finish time.

    What a client can observe is censored: a poll ``d`` seconds after the
    submission either finds the execution finished (its time was ``<= d``) or
    not. That is exactly what online quantile estimation needs: after each
    first poll made at the estimate, :meth:`observe` moves it down a little on
    a hit and up more on a miss (``q *= 1 + step * (p - hit)``), which settles
    where a share ``p`` of first polls find the execution finished (only
    observations informative about the current estimate count, so a wave of
    executions planned together moves it once). The first
    execution seen to finish :meth:`seed` s it. The estimate follows a
    workflow that slows down or speeds up, in a few dozen executions.
    """

    def __init__(self, quantile: float = 0.9, step: float = 0.1) -> None:
        if not 0 < quantile < 1:
            raise ValueError(f"quantile must be between 0 and 1, got {quantile!r}")
        self.quantile = quantile
        self.step = step
        self.estimate: float | None = None
        self.hits = 0
        self.misses = 0
        self._changed = asyncio.Event()
        self.leader: object | None = None

    def seed(self, low: float, high: float, reported: float | None) -> None:
        """Start from the first finished execution: it ended between ``low`` and ``high``
        seconds after submission. ``reported`` (the server's own duration) leaves out
        time spent queued, so it only raises ``low``.

        The estimate starts at ``high``: too high costs some detection lag until
        hits bring it down, too low would cost a poll for every execution planned
        from it.
        """
        if self.estimate is not None:
            return
        floor = max(low, reported or 0.0)
        self.estimate = max(1e-3, high, floor)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def observe(self, planned: float, finished: bool) -> None:
        """Learn from a first poll made ``planned`` seconds after submission.

        Only an observation that says something about the current estimate
        counts: a poll that found the execution finished no later than the
        estimate, or running at or past it. So many executions planned from
        one estimate (a wave submitted together) move it once, not once each.
        """
        if self.estimate is None:
            return
        if finished and planned > self.estimate * 1.0001:
            return
        if not finished and planned < self.estimate * 0.9999:
            return
        if finished:
            self.hits += 1
        else:
            self.misses += 1
        self.estimate *= 1 + self.step * (self.quantile - float(finished))
        if not finished:
            # Wake executions sleeping towards the old estimate: they re-plan later.
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()

    async def changed(self, timeout: float) -> None:
        """Return when the estimate is first known or raised, or after ``timeout`` seconds."""
        event = self._changed
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


def duration_of(execution: Execution) -> float | None:
    """The execution's duration as the server reports it, in seconds, when it does."""
    if execution.duration_ms is not None and execution.duration_ms >= 0:
        return execution.duration_ms / 1000.0
    if execution.started_at is not None and execution.completed_at is not None:
        seconds = (execution.completed_at - execution.started_at).total_seconds()
        return seconds if seconds >= 0 else None
    return None


class Poller:
    """Wait for executions of one workflow, timing polls from a :class:`DurationEstimator`.

    ``poll_interval`` is the first backoff step (doubling up to
    ``max_poll_interval``, which also caps every single wait); ``timeout``
    (seconds per execution, ``None`` for none) ends a wait with
    :class:`~floimg_async.WaitTimeoutError`. ``sleep`` is injectable for tests.
    """

    def __init__(
        self,
        client: FloImg,
        estimator: DurationEstimator,
        *,
        poll_interval: float,
        max_poll_interval: float,
        timeout: float | None,
    ) -> None:
        self.client = client
        self.estimator = estimator
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.timeout = timeout
        self.sleep = asyncio.sleep

    async def wait(
        self, execution_id: str, *, submitted_at: float | None, latest: Execution | None = None
    ) -> Execution:
        """Poll until the execution ends; return it when it ``completed``.

        ``submitted_at`` is the event-loop time the submission was sent
        (``None`` for an execution submitted by an earlier process: it is
        polled at once). ``latest`` is a state already known (the submission's
        answer). Raises :class:`~floimg_async.WorkflowFailedError` when the
        execution ends any other way, ``WaitTimeoutError`` after ``timeout``,
        and whatever the client raises for a poll that fails (but a 429 is
        waited out and polled again).
        """
        loop = asyncio.get_running_loop()
        deadline = None if self.timeout is None else loop.time() + self.timeout
        estimator = self.estimator
        last = latest
        polls = 0
        leading = False
        planned: float | None = None  # the first poll went out at the estimate, this late
        seen_running_at = 0.0  # the latest moment (after submission) it was not finished
        try:
            while last is None or not last.is_terminal:
                if polls > 0 and deadline is not None and loop.time() >= deadline:
                    break
                if polls > 0:
                    delay = self._backoff(polls, leading)
                elif submitted_at is None:
                    delay = 0.0  # submitted by an earlier process: it has had its time
                else:
                    if estimator.estimate is None and not leading:
                        if estimator.leader is None:
                            estimator.leader = execution_id
                            leading = True
                        elif await self._follow(submitted_at, deadline):
                            continue  # an estimate arrived: plan the first poll from it
                    elapsed = loop.time() - submitted_at
                    target = estimator.estimate
                    if leading or target is None:
                        delay = self.poll_interval - elapsed
                    else:
                        if target <= self.max_poll_interval and elapsed <= target * 1.05:
                            planned = target
                        if planned is not None:
                            planned = await self._sleep_to_estimate(submitted_at, deadline)
                            delay = 0.0
                        else:
                            delay = min(target, self.max_poll_interval) - elapsed
                await self._pause(self._bounded(delay, deadline))
                try:
                    client = self.client
                    if deadline is not None:
                        # The poll may use what is left of the wait, never more.
                        left = max(deadline - loop.time(), 0.001)
                        client = client.with_options(deadline=left)
                    last = await client.executions.get(execution_id)
                except RateLimitedError as exc:
                    # Honour Retry-After (the client's own retries ran out): wait, poll again.
                    pause = exc.retry_after if exc.retry_after is not None else self.poll_interval
                    if deadline is not None and loop.time() + pause >= deadline:
                        raise
                    await self._pause(pause)
                    continue
                polls += 1
                if polls == 1 and planned is not None:
                    estimator.observe(planned, last.is_terminal)
                if submitted_at is not None and not last.is_terminal:
                    seen_running_at = loop.time() - submitted_at
        finally:
            if leading and estimator.leader == execution_id:
                estimator.leader = None
        if last is None or not last.is_terminal:
            status = last.status.value if last is not None else "unknown"
            raise WaitTimeoutError(
                f"execution {execution_id} did not finish within {self.timeout:g}s "
                f"(last status: {status}); the bulk run resumes it by id",
                execution=last,
            )
        if submitted_at is not None and self.estimator.estimate is None:
            self.estimator.seed(seen_running_at, loop.time() - submitted_at, duration_of(last))
        if last.status is not ExecutionStatus.COMPLETED:
            raise WorkflowFailedError(
                f"execution {execution_id} ended {last.status.value}: "
                f"{last.error or 'no reason given'}",
                status=500,
                code="workflow_failed",
                execution=last,
            )
        return last

    async def _sleep_to_estimate(self, submitted_at: float, deadline: float | None) -> float:
        """Sleep until ``submitted_at`` + the estimate, following it if a miss raises it
        meanwhile (so one wave of executions planned together misses at most once);
        return the delay the first poll is made at."""
        loop = asyncio.get_running_loop()
        planned = self.estimator.estimate
        assert planned is not None
        while True:
            remaining = submitted_at + planned - loop.time()
            if remaining <= 0 or (deadline is not None and loop.time() >= deadline):
                return planned
            await self.estimator.changed(self._bounded(remaining, deadline))
            current = self.estimator.estimate
            if current is not None and current > planned and current <= self.max_poll_interval:
                planned = current

    async def _follow(self, submitted_at: float, deadline: float | None) -> bool:
        """Wait for the leader's first sample; whether one arrived before our own time."""
        loop = asyncio.get_running_loop()
        due = submitted_at + min(self.max_poll_interval, _FOLLOWER_WAIT * self.poll_interval)
        if loop.time() >= due:
            return False
        await self.estimator.changed(self._bounded(due - loop.time(), deadline))
        return self.estimator.estimate is not None

    def _backoff(self, polls: int, leading: bool) -> float:
        """The wait before poll ``polls + 1`` (after ``polls`` polls found it running)."""
        estimate = self.estimator.estimate
        if leading and estimate is None:
            # The leader brackets the workflow's time for everyone: gently growing steps.
            step = self.poll_interval * 1.25 ** (polls - 1)
        elif estimate is not None:
            # Past the estimate it is nearly done: short steps, doubling.
            base = min(self.poll_interval, max(0.05, estimate / 4))
            step = base * 2.0 ** (polls - 1)
        else:
            step = self.poll_interval * 2.0 ** (polls - 1)
        return min(self.max_poll_interval, step)

    def _bounded(self, delay: float, deadline: float | None) -> float:
        delay = max(0.0, min(delay, self.max_poll_interval))
        if deadline is not None:
            delay = min(delay, max(0.0, deadline - asyncio.get_running_loop().time()))
        return delay

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            await self.sleep(seconds)
