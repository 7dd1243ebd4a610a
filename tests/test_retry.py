"""The retry policy is a set of pure functions; tenacity only drives them."""

from __future__ import annotations

import itertools

import pytest
from multidict import CIMultiDict

from floimg_async import (
    APIConnectionError,
    APITimeoutError,
    ResponseDecodeError,
)
from floimg_async._errors import error_for_status
from floimg_async._retry import RetryPolicy, backoff, is_retryable, wait_for

POLICY = RetryPolicy()


def err(status: int, code: str | None = None, retry_after: str | None = None) -> BaseException:
    headers = CIMultiDict({"Retry-After": retry_after} if retry_after else {})
    body = f'{{"error": {{"code": "{code}", "message": "m"}}}}'.encode() if code else b""
    return error_for_status(status, headers, body)


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (APIConnectionError("reset"), True),
        (APITimeoutError("slow"), True),
        (err(429, "rate_limited"), True),
        (err(500), True),
        (err(502), True),
        (err(503), True),
        (err(500, "workflow_failed"), False),
        (err(400, "invalid_request"), False),
        (err(401, "unauthorized"), False),
        (err(403, "forbidden"), False),
        (err(404, "not_found"), False),
        (ResponseDecodeError("bad json", status=200), False),
        (ValueError("bug"), False),
    ],
)
def test_which_outcomes_are_retried(error: BaseException, retry: bool) -> None:
    assert is_retryable(error, POLICY) is retry


def test_retry_after_beyond_the_cap_is_not_waited_for() -> None:
    assert is_retryable(err(429, "rate_limited", "60"), POLICY)
    assert not is_retryable(err(429, "rate_limited", "3600"), POLICY)
    assert not is_retryable(err(503, None, "3600"), POLICY)


def test_backoff_starts_near_half_a_second_doubles_and_caps_at_eight() -> None:
    low = [backoff(n, POLICY, lambda: 0.0) for n in range(1, 8)]
    high = [backoff(n, POLICY, lambda: 1.0) for n in range(1, 8)]
    assert low[0] == pytest.approx(0.4) and high[0] == pytest.approx(0.6)
    assert low[1] == pytest.approx(0.8) and high[1] == pytest.approx(1.2)
    assert max(high) == 8.0 and high[-1] == 8.0
    assert all(a < b for a, b in itertools.pairwise(low[:6]))


def test_jitter_spreads_waits() -> None:
    waits = {round(backoff(2, POLICY, lambda v=v: v), 3) for v in (0.0, 0.25, 0.5, 0.75, 1.0)}
    assert len(waits) == 5


def test_server_wait_overrides_backoff_and_garbage_falls_back() -> None:
    assert wait_for(err(429, "rate_limited", "7"), 1, POLICY) == 7.0
    assert wait_for(err(503, None, "2"), 3, POLICY) == 2.0
    fallback = wait_for(err(429, "rate_limited", "-1"), 1, POLICY, lambda: 0.5)
    assert fallback == pytest.approx(0.5)
