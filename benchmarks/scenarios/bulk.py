"""bulk: ``client.workflows.run_many(..., concurrency=64)`` against the emulator.

Part 1, unthrottled: N executions, wall time against the ideal
N / concurrency x (one execution's time, measured), with 64 raw-aiohttp workers
POSTing synchronous executes as the reference.

Part 2, under a rate limit: run_many over more executions than the window can
finish; completions per minute inside a steady window (after a warm-up) against
what the limit allows, and API requests per completed execution from the
emulator's own counters (/_emulator/stats).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
from collections.abc import Iterator
from typing import Any

from benchmarks._harness import Context, Sample, bearer, measure, raw_session, sdk_client
from benchmarks._proc import ServerProcess, python_module
from benchmarks._stats import Row, Target

WORKFLOW = "wf_social_card"
CONCURRENCY = 64
LATENCY = 0.05
RATE_LIMIT = 600
BURST = 10


def parameter_sets(n: int) -> Iterator[dict[str, Any]]:
    """Small images keep the emulator's Pillow rendering cheap."""
    for i in range(n):
        yield {"prompt": f"bench {i}", "width": 64, "height": 64}


class Emulator(ServerProcess):
    """``python -m floimg_async.emulator`` in its own process."""

    def __init__(self, execution_time: float, rate_limit: int | None = None) -> None:
        args = ["--port", "0", "--latency", str(LATENCY), "--execution-time", str(execution_time)]
        if rate_limit is not None:
            args += ["--rate-limit", str(rate_limit), "--burst", str(BURST)]
        super().__init__(
            python_module("floimg_async.emulator", *args), ("FLOIMG_BASE_URL", "FLOIMG_API_KEY")
        )

    @property
    def base_url(self) -> str:
        return self.values["FLOIMG_BASE_URL"].rstrip("/")

    @property
    def api_key(self) -> str:
        return self.values["FLOIMG_API_KEY"]

    @property
    def origin(self) -> str:
        return self.base_url.removesuffix("/v1")


async def raw_execute(session: Any, emulator: Emulator, parameters: dict[str, Any]) -> None:
    """One synchronous execute by hand: POST, check, json.loads."""
    body = {"workflowId": WORKFLOW, "parameters": parameters, "async": False}
    async with session.post(
        f"{emulator.base_url}/workflows/execute", json=body, headers=bearer(emulator.api_key)
    ) as resp:
        resp.raise_for_status()
        if json.loads(await resp.read())["status"] != "completed":
            raise RuntimeError("execution did not complete")


async def raw_many(session: Any, emulator: Emulator, n: int) -> int:
    """64 workers pulling parameter sets from one iterator, like run_many's pool."""
    sets = parameter_sets(n)
    done = 0

    async def worker() -> None:
        nonlocal done
        for parameters in sets:
            await raw_execute(session, emulator, parameters)
            done += 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return done


async def sdk_many(client: Any, n: int) -> int:
    """run_many over ``n`` parameter sets; return how many succeeded."""
    ok = 0
    async for result in client.workflows.run_many(
        WORKFLOW, parameter_sets(n), concurrency=CONCURRENCY
    ):
        ok += bool(result.ok)
    return ok


async def emulator_stats(session: Any, emulator: Emulator) -> dict[str, int]:
    """API requests and 429s the emulator has answered (its /_emulator routes not counted)."""
    async with session.get(f"{emulator.origin}/_emulator/stats") as resp:
        resp.raise_for_status()
        stats = json.loads(await resp.read())
    return {"requests": int(stats["requests"]), "rate_limited": int(stats["rateLimited"])}


async def _unthrottled(n: int, execution_time: float) -> list[Row]:
    with Emulator(execution_time) as emulator:
        session = raw_session(limit=100)
        client = sdk_client(emulator.base_url, emulator.api_key, max_connections=100)
        try:
            singles = []
            for parameters in parameter_sets(3):
                started = time.perf_counter()
                await raw_execute(session, emulator, parameters)
                singles.append(time.perf_counter() - started)
            one = statistics.median(singles)
            ideal = n / CONCURRENCY * one
            counts: dict[str, int] = {}

            async def sdk() -> None:
                counts["sdk"] = await sdk_many(client, n)

            async def raw() -> None:
                counts["raw"] = await raw_many(session, emulator, n)

            sdk_s: Sample = await measure(sdk)
            raw_s: Sample = await measure(raw)
        finally:
            await client.close()
            await session.close()
    note = (
        f"{n:,} executions at {CONCURRENCY} in flight, emulator latency {LATENCY} s + "
        f"execution {execution_time} s; one execution measured {one:.3f} s -> ideal {ideal:.1f} s"
    )
    return [
        Row("bulk", "wall time", sdk_s.wall, raw_s.wall, unit="s", note=note),
        Row(
            "bulk",
            "wall / ideal",
            sdk_s.wall / ideal,
            raw_s.wall / ideal,
            target=Target("<=", 1.15, on="value"),
            show_ratio=False,
        ),
        Row(
            "bulk",
            "completed executions",
            counts.get("sdk"),
            counts.get("raw"),
            target=Target(">=", n, on="value"),
            show_ratio=False,
        ),
        Row(
            "bulk", "client CPU per execution", sdk_s.cpu / n * 1e3, raw_s.cpu / n * 1e3, unit="ms"
        ),
    ]


async def _rate_limited(warmup: float, window: float, execution_time: float) -> list[Row]:
    with Emulator(execution_time, rate_limit=RATE_LIMIT) as emulator:
        session = raw_session(limit=4)
        client = sdk_client(emulator.base_url, emulator.api_key, max_connections=100)
        finished: list[float] = []
        failed = 0

        async def consume() -> None:
            nonlocal failed
            upper = int((warmup + window) * RATE_LIMIT / 60 * 2) + BURST + CONCURRENCY
            results = client.workflows.run_many(
                WORKFLOW, parameter_sets(upper), concurrency=CONCURRENCY
            )
            async with contextlib.aclosing(results):
                async for result in results:
                    if result.ok:
                        finished.append(time.monotonic())
                    else:
                        failed += 1

        task = asyncio.create_task(consume())
        try:
            # asyncio.wait returns early if run_many fails: no point sitting out the window.
            await asyncio.wait({task}, timeout=warmup)
            before = await emulator_stats(session, emulator)
            window_start = time.monotonic()
            await asyncio.wait({task}, timeout=window)
            after = await emulator_stats(session, emulator)
            window_end = time.monotonic()
            if task.done():
                await task  # raises what run_many raised; finishing early is a failure too
                raise RuntimeError("run_many ran out of executions before the window ended")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=15)
            await client.close()
            await session.close()
    in_window = sum(1 for t in finished if window_start <= t < window_end)
    per_minute = in_window / (window_end - window_start) * 60
    requests = after["requests"] - before["requests"]
    refused = after["rate_limited"] - before["rate_limited"]
    note = (
        f"limit {RATE_LIMIT}/min burst {BURST}; {window:.0f} s window after {warmup:.0f} s warm-up;"
        f" in the window {in_window} completed, {requests} API requests of which {refused} got 429"
    )
    return [
        Row("bulk (rate-limited)", "completed executions / min", per_minute, None, note=note),
        Row(
            "bulk (rate-limited)",
            "share of what the limit allows",
            per_minute / RATE_LIMIT,
            None,
            target=Target(">=", 0.9, on="value"),
        ),
        Row(
            "bulk (rate-limited)",
            "API requests per completed execution",
            requests / in_window if in_window else None,
            None,
            target=Target("<=", 1.2, on="value"),
        ),
        Row(
            "bulk (rate-limited)",
            "results yielded with an error (whole run)",
            failed,
            None,
            note="e.g. RateLimitedError once retries ran out; not counted as completed",
        ),
    ]


def run(ctx: Context) -> list[Row]:
    """Unthrottled wall time vs ideal, then throughput and request cost under a rate limit."""
    n, execution_time, warmup, window = ctx.pick((2000, 1.0, 10.0, 60.0), (500, 0.25, 5.0, 20.0))
    rows = asyncio.run(_unthrottled(n, execution_time))
    rows += asyncio.run(_rate_limited(warmup, window, execution_time))
    return rows
