"""call_overhead and concurrency: ``workflows.get`` against hand-written aiohttp GETs.

Both sides keep one session for the whole scenario and are warmed up first, so
the figures are the steady per-call cost, not connection setup.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks._harness import (
    Context,
    Sample,
    bearer,
    control,
    interleave,
    raw_session,
    sdk_client,
)
from benchmarks._profile import report
from benchmarks._stats import Row, Summary, Target

WORKFLOW_ID = "wf_x"
CPU_TARGET = Target("<=", 1.25)
Call = Callable[[], Awaitable[Any]]


async def sequential(call: Call, n: int) -> None:
    """Await ``call()`` ``n`` times, one after another."""
    for _ in range(n):
        await call()


async def in_flight(call: Call, n: int, workers: int) -> None:
    """Await ``call()`` ``n`` times with ``workers`` tasks pulling from one shared count."""
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    await asyncio.gather(*(worker() for _ in range(workers)))


def raw_get(session: Any, base_url: str, api_key: str) -> Call:
    """The hand-written baseline: GET, check the status, json.loads the body."""
    headers = bearer(api_key)

    async def call() -> Any:
        async with session.get(f"{base_url}/workflows/{WORKFLOW_ID}", headers=headers) as resp:
            resp.raise_for_status()
            return json.loads(await resp.read())

    return call


def per_call(samples: list[Sample], n: int, attr: str, scale: float = 1e6) -> Summary:
    """Summarise ``attr`` (cpu or wall) per call, in µs by default."""
    return Summary.of([getattr(s, attr) / n * scale for s in samples])


async def _calls(ctx: Context, name: str, n: int, rounds: int, workers: int) -> list[Row]:
    server = ctx.server
    client = sdk_client(server.base_url, server.api_key, max_connections=100)
    session = raw_session(limit=100)
    control_session = raw_session(limit=1)
    opened = {"sdk": 0, "raw": 0}
    try:

        def sdk_call() -> Awaitable[Any]:
            return client.workflows.get(WORKFLOW_ID)

        raw_call = raw_get(session, server.base_url, server.api_key)

        async def counted(side: str, work: Call) -> None:
            before = (await control(control_session, server, "connections"))["opened"]
            await work()
            after = (await control(control_session, server, "connections"))["opened"]
            opened[side] += after - before

        def round_of(side: str, call: Call, size: int) -> Call:
            if workers == 1:
                return lambda: sequential(call, size)
            return lambda: counted(side, lambda: in_flight(call, size, workers))

        warm = max(n // 10, 200)
        await round_of("sdk", sdk_call, warm)()
        await round_of("raw", raw_call, warm)()
        sdk, raw = await interleave(
            rounds, round_of("sdk", sdk_call, n), round_of("raw", raw_call, n)
        )
        if ctx.profile:
            await report(
                name, round_of("sdk", sdk_call, n), round_of("raw", raw_call, n), n, "call"
            )
    finally:
        await client.close()
        await session.close()
        await control_session.close()

    shape = f"{n:,} calls" + (f", {workers} in flight" if workers > 1 else ", sequential")
    rows = [
        Row(
            name,
            "client CPU per call",
            per_call(sdk, n, "cpu"),
            per_call(raw, n, "cpu"),
            unit="µs",
            target=CPU_TARGET,
            note=f"{shape}, {rounds} rounds",
        ),
        Row(name, "wall per call", per_call(sdk, n, "wall"), per_call(raw, n, "wall"), unit="µs"),
    ]
    if workers > 1:
        rows.append(
            Row(
                name,
                "connections opened (whole scenario)",
                opened["sdk"],
                opened["raw"],
                target=Target("<=", 100, on="value"),
                note="server-side accept count; pool limit 100, churn would show thousands",
            )
        )
    return rows


def run_call_overhead(ctx: Context) -> list[Row]:
    """2,000 sequential ``await client.workflows.get("wf_x")`` vs raw aiohttp GETs."""
    n, rounds = ctx.pick((2000, 9), (500, 3))
    return asyncio.run(_calls(ctx, "call_overhead", n, rounds, workers=1))


def run_concurrency(ctx: Context) -> list[Row]:
    """5,000 ``workflows.get`` at 64 in flight vs raw aiohttp, same worker structure."""
    n, rounds = ctx.pick((5000, 7), (1500, 3))
    return asyncio.run(_calls(ctx, "concurrency", n, rounds, workers=64))
