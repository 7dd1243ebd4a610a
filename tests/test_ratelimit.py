"""The rate-limit gate is pure: given a 429 and the time, when may each request leave?"""

from __future__ import annotations

import pytest

from floimg_async._ratelimit import RateGate


def test_an_open_gate_costs_nothing() -> None:
    gate = RateGate()
    assert gate.delay(100.0) == 0.0
    assert gate.hold_until == 0.0


def test_without_a_limit_header_everyone_waits_for_the_retry_after_moment() -> None:
    gate = RateGate()
    gate.rate_limited(10.0, 2.0, {})
    assert [gate.delay(10.5) for _ in range(3)] == [1.5, 1.5, 1.5]
    assert gate.delay(12.0) == 0.0


def test_with_a_limit_requests_leave_one_by_one_at_that_rate() -> None:
    gate = RateGate()
    gate.rate_limited(10.0, 1.0, {"x-ratelimit-limit": "600"})  # 10 a second
    delays = [gate.delay(10.0) for _ in range(4)]
    assert delays == pytest.approx([1.0, 1.1, 1.2, 1.3])
    # Later requests keep the pace (their slot is after the ones already taken).
    assert gate.delay(11.35) == pytest.approx(0.05)


def test_pacing_ends_a_minute_after_the_429() -> None:
    gate = RateGate()
    gate.rate_limited(0.0, 1.0, {"x-ratelimit-limit": "60"})  # one a second
    assert gate.delay(30.0) == 0.0  # nobody ahead: leaves at once
    assert gate.delay(30.0) == 1.0  # the next one a second later
    assert gate.delay(61.5) == 0.0 and gate.delay(61.5) == 0.0  # a minute on: unpaced


def test_a_later_429_never_shortens_the_hold() -> None:
    gate = RateGate()
    gate.rate_limited(0.0, 5.0, {})
    gate.rate_limited(1.0, 1.0, {})
    assert gate.delay(2.0) == 3.0


@pytest.mark.parametrize("value", ["0", "-5", "lots", "1e9"])
def test_an_unusable_limit_header_means_no_pacing(value: str) -> None:
    gate = RateGate()
    gate.rate_limited(0.0, 1.0, {"x-ratelimit-limit": value})
    assert gate.delay(1.0) == 0.0
