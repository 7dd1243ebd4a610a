"""The retry policy: pure decisions, with tenacity's strategies for backoff and stopping.

What is retried: connection errors and attempt timeouts, 429, and 5xx other
than ``workflow_failed``. Never 400/401/403/404, ``workflow_failed``, a body
that could not be decoded, or a local file error. How long to wait: the
server's ``Retry-After`` when it gave one (429/503), else exponential backoff
with ±20 % jitter starting near 0.5 s and capped at 8 s.

The sender's retry loop asks :meth:`RetryPolicy.plan` after each failed
attempt; ``plan`` hands the outcome to tenacity's ``stop`` and ``wait``
strategies as a ``RetryCallState``, so any tenacity strategy can stand in.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import attrs
from tenacity import RetryCallState, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from ._errors import (
    APIConnectionError,
    APIError,
    RateLimitedError,
    ServerError,
)

__all__ = ["RetryPolicy", "backoff", "is_retryable", "server_wait", "strategy_wait", "wait_for"]


def backoff(attempt: int, policy: RetryPolicy, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based), with ±20 % jitter."""
    base = policy.initial_backoff * (2.0 ** (attempt - 1))
    return min(policy.max_backoff, base * (0.8 + 0.4 * rand()))


def server_wait(error: BaseException) -> float | None:
    """The wait the server asked for (``Retry-After``), when it asked for one."""
    if isinstance(error, APIError):
        return error.retry_after
    return None


def is_retryable(error: BaseException, policy: RetryPolicy) -> bool:
    """Whether a failed attempt should be tried again (if attempts remain)."""
    if isinstance(error, APIConnectionError):
        return True
    if isinstance(error, RateLimitedError | ServerError):
        asked = server_wait(error)
        return asked is None or asked <= policy.max_retry_after
    return False


def wait_for(
    error: BaseException,
    attempt: int,
    policy: RetryPolicy,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before the next attempt: ``Retry-After`` first, else backoff."""
    asked = server_wait(error)
    if asked is not None:
        return asked
    return backoff(attempt, policy, rand)


class wait_server_or_backoff(wait_base):
    """A tenacity wait: the server's ``Retry-After``, else :func:`backoff`."""

    def __init__(self, policy: RetryPolicy, rand: Callable[[], float] = random.random) -> None:
        self.policy = policy
        self.rand = rand

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        assert error is not None
        return wait_for(error, retry_state.attempt_number, self.policy, self.rand)


@attrs.frozen
class RetryPolicy:
    """How a client retries: counts, backoff curve, and the cap on ``Retry-After``.

    ``max_retry_after``: a server asking for a longer wait than this gets a
    :class:`~floimg_async.RateLimitedError` raised at once instead of a sleep.
    """

    max_retries: int = 3
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    rand: Callable[[], float] = attrs.field(default=random.random, eq=False, repr=False)
    stop: stop_base = attrs.field(init=False, eq=False, repr=False)
    wait: wait_base = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "stop", stop_after_attempt(self.max_retries + 1))
        object.__setattr__(self, "wait", wait_server_or_backoff(self, self.rand))

    def plan(self, error: BaseException, attempt: int) -> float | None:
        """Seconds to wait before retrying after failed attempt ``attempt``; None: give up."""
        if not is_retryable(error, self):
            return None
        state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.attempt_number = attempt
        state.set_exception((type(error), error, error.__traceback__))
        if self.stop(state):
            return None
        return float(self.wait(state))


def strategy_wait(strategy: wait_base, attempt: int) -> float:
    """What a tenacity wait strategy says to wait before attempt ``attempt + 1``."""
    state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
    state.attempt_number = attempt
    return float(strategy(state))
