"""The GCRA pacer behind the shared budget, on a fake clock (no Ray needed)."""

from __future__ import annotations

import itertools

import pytest

pytest.importorskip("ray", reason="the ray extra is not installed")
pytest.importorskip("pyarrow", reason="the ray extra is not installed")

from floimg_async.ray._budget import Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _send_times(pacer: Pacer, clock: Clock, count: int) -> list[float]:
    """Each caller books, waits what it was told, and sends: the send times."""
    return [clock.now + pacer.reserve() for _ in range(count)]


def test_pacer_spaces_requests_at_the_limit_times_headroom() -> None:
    clock = Clock()
    pacer = Pacer(600, headroom=0.5, clock=clock)  # 300/min: one every 0.2 s
    times = _send_times(pacer, clock, 50)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == pytest.approx([0.2] * 49)
    assert times[0] == clock.now  # the first goes at once


def test_pacer_allows_a_burst_then_paces() -> None:
    clock = Clock()
    pacer = Pacer(60, burst=5, headroom=1.0, clock=clock)
    times = _send_times(pacer, clock, 8)
    assert times[:5] == [clock.now] * 5
    assert [t - clock.now for t in times[5:]] == pytest.approx([1.0, 2.0, 3.0])


def test_pacer_never_exceeds_the_limit_in_any_window() -> None:
    clock = Clock()
    pacer = Pacer(120, burst=3, headroom=1.0, clock=clock)
    times = []
    for step in range(400):
        clock.now = 1000.0 + step * 0.05  # callers arrive faster than the limit allows
        times.append(clock.now + pacer.reserve())
    for start in times:
        in_window = sum(1 for t in times if start <= t < start + 60)
        assert in_window <= 120 + 3


def test_pacer_a_429_pauses_everyone_for_retry_after() -> None:
    clock = Clock()
    pacer = Pacer(6000, headroom=1.0, clock=clock)
    pacer.observe(status=429, retry_after=7.0)
    assert pacer.reserve() == pytest.approx(7.0)
    assert pacer.stats()["rateLimited"] == 1


def test_pacer_learns_the_limit_from_headers_unless_given() -> None:
    clock = Clock()
    learning = Pacer(None, headroom=1.0, clock=clock)
    assert learning.interval == pytest.approx(1.0)  # 60/min until told
    learning.observe(status=200, limit=300, remaining=299)
    assert learning.interval == pytest.approx(0.2)
    fixed = Pacer(60, headroom=1.0, clock=clock)
    fixed.observe(status=200, limit=6000, remaining=10)
    assert fixed.interval == pytest.approx(1.0)  # the caller's limit wins


def test_pacer_an_empty_bucket_slows_down_by_a_slot() -> None:
    clock = Clock()
    pacer = Pacer(60, headroom=1.0, clock=clock)
    assert pacer.reserve() == 0
    pacer.observe(status=200, limit=60, remaining=0)
    assert pacer.reserve() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kwargs", [{"limit_per_minute": 0}, {"burst": 0}, {"headroom": 0}, {"headroom": 1.5}]
)
def test_pacer_rejects_nonsense(kwargs: dict[str, float]) -> None:
    options = {"limit_per_minute": 60.0, **kwargs}
    limit = options.pop("limit_per_minute")
    with pytest.raises(ValueError):
        Pacer(limit, **options)  # type: ignore[arg-type]
