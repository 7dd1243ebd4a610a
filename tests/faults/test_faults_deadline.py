"""``deadline`` bounds a whole call: attempts, backoff sleeps and rate-limit gate waits.

These use the real ``asyncio.sleep`` (the backoff policy is not configurable, so
a deadline shorter than the ~0.5 s first backoff is what cuts retries short).
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from _faultkit import API_KEY, HttpFaultServer, RawFaultServer, settle

from floimg_async import APITimeoutError, FloImg, RateLimitedError, ServerError

SLACK = 0.25


def client_for(server: HttpFaultServer | RawFaultServer, **options: object) -> FloImg:
    settings: dict[str, object] = {"timeout": 5.0, "max_retries": 3}
    settings.update(options)
    return FloImg(api_key=API_KEY, base_url=server.base_url, **settings)  # type: ignore[arg-type]


@pytest.mark.parametrize("how", ["client", "with_options"])
async def test_faults_deadline_cuts_a_5xx_storm_short(
    http_server: HttpFaultServer, how: str
) -> None:
    http_server.set_fault("storm_5xx")
    async with client_for(http_server, deadline=0.3 if how == "client" else None) as client:
        caller = client if how == "client" else client.with_options(deadline=0.3)
        assert caller.deadline == 0.3
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as info:
            await caller.workflows.get("wf_1")
        elapsed = time.monotonic() - started
    assert elapsed < 0.3 + SLACK, elapsed
    # The ~0.5 s backoff would overrun 0.3 s: no second attempt, and the real cause is kept.
    assert len(http_server.seen) == 1
    assert isinstance(info.value.__cause__, ServerError)
    assert "deadline" in str(info.value)
    await settle(http_server)


async def test_faults_deadline_allows_retries_that_fit(http_server: HttpFaultServer) -> None:
    """With 1.2 s the first backoff (0.4-0.6 s) fits and the second (0.8-1.2 s) cannot."""
    http_server.set_fault("storm_5xx")
    async with client_for(http_server, deadline=1.2) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as info:
            await client.workflows.execute("wf_1")
        elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 1.2 + SLACK, elapsed
    assert len(http_server.seen) == 2
    assert isinstance(info.value.__cause__, ServerError)
    keys = {s.headers["Idempotency-Key"] for s in http_server.seen}
    assert len(keys) == 1
    await settle(http_server)


@pytest.mark.parametrize("how", ["client", "with_options"])
async def test_faults_deadline_bounds_a_slow_server(raw_server: RawFaultServer, how: str) -> None:
    """The per-attempt timeout is 5 s, but the call's 0.3 s deadline wins."""
    raw_server.set_fault("slow_headers")
    async with client_for(raw_server, deadline=0.3 if how == "client" else None) as client:
        caller = client if how == "client" else client.with_options(deadline=0.3)
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await caller.workflows.get("wf_1")
        elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 0.3 + SLACK, elapsed
    await settle(raw_server)


async def test_faults_deadline_bounds_a_trickling_download(
    raw_server: RawFaultServer, tmp_path: object
) -> None:
    raw_server.set_fault("trickle_body")
    async with client_for(raw_server) as owner:
        client = owner.with_options(deadline=0.3)
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await client.images.download(f"{raw_server.origin}/files/a.png")
        elapsed = time.monotonic() - started
    assert elapsed < 0.3 + SLACK, elapsed
    await settle(raw_server)


async def test_faults_deadline_bounds_the_rate_limit_gate(http_server: HttpFaultServer) -> None:
    """After a 429 asking for 5 s, a call with a 0.3 s deadline fails at once, not after 5 s."""
    http_server.set_fault("retry_after", budget=1)
    http_server.retry_after = "5"
    async with client_for(http_server, max_retries=0) as client:
        with pytest.raises(RateLimitedError) as info:
            await client.workflows.get("wf_1")
        assert info.value.retry_after == 5
        bounded = client.with_options(deadline=0.3)
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as waited:
            await bounded.workflows.get("wf_1")
        elapsed = time.monotonic() - started
    assert elapsed < 0.3 + SLACK, elapsed
    assert "rate limit" in str(waited.value)
    # The gated call never went out.
    assert len(http_server.seen) == 1
    await settle(http_server)


async def test_faults_deadline_gives_up_on_a_retry_after_beyond_it(
    http_server: HttpFaultServer,
) -> None:
    http_server.set_fault("retry_after")
    http_server.retry_after = "5"
    async with client_for(http_server, deadline=0.3) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as info:
            await client.workflows.get("wf_1")
        elapsed = time.monotonic() - started
    assert elapsed < 0.3 + SLACK
    assert isinstance(info.value.__cause__, RateLimitedError)
    assert len(http_server.seen) == 1
    await settle(http_server)


async def test_faults_rate_limit_gate_holds_every_task(http_server: HttpFaultServer) -> None:
    """After one 429 (Retry-After 0.3 s), concurrent calls of the client and of its
    ``with_options`` copies all wait for the gate instead of stampeding."""
    http_server.set_fault("retry_after", budget=1)
    http_server.retry_after = "0.3"
    async with client_for(http_server, max_retries=0, deadline=2.0) as client:
        with pytest.raises(RateLimitedError):
            await client.workflows.get("wf_1")
        limited_at = time.monotonic()
        other = client.with_options(timeout=3.0)
        results = await asyncio.gather(
            client.workflows.get("wf_a"), other.workflows.get("wf_b"), client.images.get("img_c")
        )
        elapsed = time.monotonic() - limited_at
    assert [r.id for r in results] == ["wf_a", "wf_b", "img_c"]
    assert 0.2 <= elapsed < 2.0, elapsed
    first = http_server.seen[0].at
    assert all(s.at - first >= 0.25 for s in http_server.seen[1:]), [
        round(s.at - first, 3) for s in http_server.seen
    ]
    await settle(http_server)


async def test_faults_deadline_never_sleeps_past_itself(http_server: HttpFaultServer) -> None:
    """No backoff sleep may end after the deadline (the jitter must not push it over)."""
    http_server.set_fault("storm_5xx")
    deadline = 0.55  # inside the first backoff's jitter band (0.4-0.6 s)
    overruns: dict[str, list[tuple[float, float]]] = {"late": [], "sleeps": []}
    saved = random.getstate()
    random.seed(20260115)  # the jitter comes from the random module: make the run repeatable
    try:
        await _storm_calls(http_server, deadline, overruns)
    finally:
        random.setstate(saved)
    assert overruns["sleeps"], "the deadline never allowed a retry: the test proves nothing"
    assert overruns["late"] == [], (
        f"backoff sleeps that end past the {deadline}s deadline: {overruns['late']}"
    )
    await settle(http_server)


async def _storm_calls(
    http_server: HttpFaultServer, deadline: float, overruns: dict[str, list[tuple[float, float]]]
) -> None:
    for _ in range(40):
        started = time.monotonic()

        async def recording_sleep(delay: float, started: float = started) -> None:
            spent = time.monotonic() - started
            overruns["sleeps"].append((round(spent, 3), round(delay, 3)))
            if spent + delay > deadline + 0.01:
                overruns["late"].append((round(spent, 3), round(delay, 3)))

        async with FloImg(
            api_key=API_KEY,
            base_url=http_server.base_url,
            timeout=5.0,
            max_retries=5,
            deadline=deadline,
            sleep=recording_sleep,
        ) as client:
            with pytest.raises(APITimeoutError):
                await client.workflows.get("wf_1")
