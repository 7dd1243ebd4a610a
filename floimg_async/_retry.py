"""The retry policy as small pure functions; the transport hands them to tenacity.

What is retried: connection errors and attempt timeouts, 429, and 5xx other
than ``workflow_failed``. Never 400/401/403/404, ``workflow_failed``, or a
response whose body could not be decoded. How long to wait: the server's
``Retry-After`` when it gave one (429/503), else exponential backoff with
jitter starting near 0.5 s and capped at 8 s.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import attrs

from ._errors import (
    APIConnectionError,
    APIError,
    RateLimitedError,
    ResponseDecodeError,
    ServerError,
)

__all__ = ["RetryPolicy", "backoff", "is_retryable", "server_wait"]


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
    if isinstance(error, ResponseDecodeError):
        return False
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
