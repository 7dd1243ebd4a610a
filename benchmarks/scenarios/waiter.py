"""waiter: ``client.executions.wait`` on time-scaled jobs of 1, 10 and 60 s.

Time runs at SCALE (0.05: a 60 s job takes 3 s) and the SDK's poll_interval
and max_poll_interval are scaled the same way, so polls and lag (reported back
in unscaled seconds) read against the defaults 1.0 s and 10.0 s. The server
counts GETs per execution and knows its completion time (time.monotonic, the
same clock in both processes on Linux). The raw side is the naive "poll every
second" loop from FloImg's own examples, for comparison.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks._harness import Context, bearer, control, raw_session, sdk_client
from benchmarks._stats import Row, Summary, Target

SCALE = 0.05
DURATIONS = (1, 10, 60)
POLL_INTERVAL = 1.0
MAX_POLL_INTERVAL = 10.0

Waiter = Callable[[str, float], Awaitable[Any]]


async def naive_wait(session: Any, base_url: str, api_key: str, execution_id: str) -> None:
    """Poll every (scaled) second until the execution is completed; bounded."""
    headers = bearer(api_key)
    url = f"{base_url}/workflows/executions/{execution_id}"
    for _ in range(int(max(DURATIONS) / POLL_INTERVAL * 3) + 10):
        async with session.get(url, headers=headers) as resp:
            resp.raise_for_status()
            if json.loads(await resp.read())["status"] == "completed":
                return
        await asyncio.sleep(POLL_INTERVAL * SCALE)
    raise TimeoutError(f"{execution_id} never completed")


async def _one(ctx: Context, session: Any, wait: Waiter, duration: int) -> tuple[int, float]:
    """Create a job, wait for it, return (polls, lag in unscaled seconds)."""
    job = await control(session, ctx.server, "jobs", {"seconds": duration * SCALE})
    await wait(job["executionId"], duration)
    returned = time.monotonic()
    seen = await control(session, ctx.server, f"jobs/{job['executionId']}")
    return seen["polls"], (returned - job["completesAt"]) / SCALE


async def _run(ctx: Context, repeats: int) -> list[Row]:
    server = ctx.server
    client = sdk_client(server.base_url, server.api_key)
    session = raw_session()
    try:

        async def sdk_wait(execution_id: str, duration: float) -> Any:
            execution = await client.executions.wait(
                execution_id,
                poll_interval=POLL_INTERVAL * SCALE,
                max_poll_interval=MAX_POLL_INTERVAL * SCALE,
                timeout=duration * SCALE * 3 + 5,
            )
            if not execution.succeeded:
                raise RuntimeError(f"{execution_id} ended {execution.status}")
            return execution

        async def raw_wait(execution_id: str, duration: float) -> None:
            await naive_wait(session, server.base_url, server.api_key, execution_id)

        figures: dict[str, dict[int, list[tuple[int, float]]]] = {}
        for side, wait in (("sdk", sdk_wait), ("raw", raw_wait)):
            jobs = [(d, _one(ctx, session, wait, d)) for d in DURATIONS for _ in range(repeats)]
            done = await asyncio.gather(*(coro for _, coro in jobs))
            figures[side] = {d: [] for d in DURATIONS}
            for (duration, _), result in zip(jobs, done, strict=True):
                figures[side][duration].append(result)
    finally:
        await client.close()
        await session.close()

    def column(side: str, duration: int, index: int) -> Summary:
        return Summary.of([float(r[index]) for r in figures[side][duration]])

    rows: list[Row] = []
    for duration in DURATIONS:
        rows.append(
            Row(
                "waiter",
                f"polls, {duration} s job",
                column("sdk", duration, 0),
                column("raw", duration, 0),
                target=Target("<=", 12, on="max") if duration == 60 else None,
                note=(
                    f"time scale {SCALE}: a 60 s job takes {60 * SCALE:g} s; "
                    f"{repeats} jobs per duration per side; raw polls every 1 s"
                )
                if duration == DURATIONS[0]
                else "",
            )
        )
    for duration in DURATIONS:
        rows.append(
            Row(
                "waiter",
                f"detection lag, {duration} s job",
                column("sdk", duration, 1),
                column("raw", duration, 1),
                unit="s",
                target=Target("<=", MAX_POLL_INTERVAL, on="max", unit="s"),
                show_ratio=False,
            )
        )
    return rows


def run(ctx: Context) -> list[Row]:
    """Polls per execution and detection lag of the SDK's waiter (and a naive loop)."""
    return asyncio.run(_run(ctx, repeats=ctx.pick(3, 2)))
