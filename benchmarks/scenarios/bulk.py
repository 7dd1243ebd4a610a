"""bulk: ``client.workflows.run_many(..., concurrency=64)`` against the emulator.

Part 1, unthrottled: N executions, wall time against the ideal
N / concurrency x (one execution's time, measured), with 64 raw-aiohttp workers
POSTing synchronous executes as the reference.

Part 2, under a rate limit: run_many over more executions than the window can
finish; completions per minute inside a steady window (after a warm-up) against
what the limit allows, and API requests per completed execution from the
emulator's own counters (/_emulator/stats).

Part 3, the crash-safe journaled runner (floimg_async.bulk.BulkJob): requests
per execution in both modes for 64 two-second executions at 16 in flight
(sync: one execute each; async: submit + polls timed from the learned p90),
counted by the emulator. Before the timed polls, async mode spent 3.02.

Part 4, floimg_async.ray (only when the ray extra is installed): 500 rows on a
local two-CPU Ray cluster, 4 async actors sharing one rate budget, against an
emulator limited to 3,000 requests/min: the aggregate request rate (requests
over the span from first to last execution) against the limit, and the share
of requests refused with 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
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


async def _journaled(mode: str, n: int, execution_time: float) -> tuple[float, int, float]:
    """One BulkJob run; (API requests per execution from the emulator, completed, wall s)."""
    from floimg_async.bulk import BulkJob

    with Emulator(execution_time) as emulator, tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.jsonl"
        source.write_text("".join(json.dumps(p) + "\n" for p in parameter_sets(n)))
        session = raw_session(limit=4)
        client = sdk_client(emulator.base_url, emulator.api_key, max_connections=100)
        try:
            before = await emulator_stats(session, emulator)
            started = time.perf_counter()
            summary = await BulkJob(
                client, WORKFLOW, source, Path(folder) / "journal", concurrency=16, mode=mode
            ).run()
            wall = time.perf_counter() - started
            after = await emulator_stats(session, emulator)
        finally:
            await client.close()
            await session.close()
    settled = summary.completed + summary.failed
    requests = after["requests"] - before["requests"]
    return requests / settled if settled else float("nan"), summary.completed, wall


async def _bulk_modes(n: int, execution_time: float) -> list[Row]:
    rows: list[Row] = []
    for mode, bound in (("sync", 1.05), ("async", 2.2)):
        per, completed, wall = await _journaled(mode, n, execution_time)
        note = (
            f"{n} executions of {execution_time:g} s at 16 in flight, emulator latency "
            f"{LATENCY} s; {completed} completed in {wall:.1f} s; API requests counted by "
            "the emulator, the workflow check included"
        )
        rows.append(
            Row(
                f"bulk journal ({mode})",
                "API requests per execution",
                per,
                None,
                target=Target("<=", bound, on="value"),
                note=note,
            )
        )
    return rows


def _ray_rate(rows_n: int, limit: int) -> list[Row]:
    """The Ray runner at a rate limit: aggregate request rate and 429 share."""
    import ray

    from floimg_async.ray import generate

    with Emulator(0.4, rate_limit=limit) as emulator:
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="ERROR",
            configure_logging=False,
        )
        try:
            before = asyncio.run(_stats(emulator))
            ds = ray.data.from_items(
                [{"id": i, **p} for i, p in enumerate(parameter_sets(rows_n))],
                override_num_blocks=25,
            )
            started = time.perf_counter()
            out = generate(
                ds, WORKFLOW, run_id=f"bench{int(started)}", api_key=emulator.api_key,
                base_url=emulator.base_url, actors=4, batch_size=10, rate_limit=limit,
            ).take_all()  # fmt: skip
            wall = time.perf_counter() - started
            after = asyncio.run(_stats(emulator))
            created = asyncio.run(_created_times(emulator))
        finally:
            ray.shutdown()
    completed = sum(1 for row in out if row["status"] == "completed")
    requests = after["requests"] - before["requests"]
    refused = after["rate_limited"] - before["rate_limited"]
    span = max(created) - min(created) if len(created) > 1 else float("nan")
    rate = requests / span * 60
    note = (
        f"{rows_n} rows, 4 actors, 2 CPUs, limit {limit}/min, executions 0.4 s; {completed} "
        f"completed, {requests} requests over {span:.1f} s ({wall:.1f} s with Ray start-up)"
    )
    return [
        Row("ray", "aggregate request rate / limit", rate / limit, None,
            target=Target(">=", 0.9, on="value"), note=note),
        Row("ray", "share of requests refused (429)", refused / requests if requests else None,
            None, target=Target("<", 0.01, on="value")),
        Row("ray", "completed rows", completed, None,
            target=Target(">=", rows_n, on="value"), show_ratio=False),
    ]  # fmt: skip


async def _stats(emulator: Emulator) -> dict[str, int]:
    session = raw_session(limit=2)
    try:
        return await emulator_stats(session, emulator)
    finally:
        await session.close()


async def _created_times(emulator: Emulator) -> list[float]:
    session = raw_session(limit=2)
    try:
        url = f"{emulator.origin}/_emulator/executions?workflowId={WORKFLOW}"
        async with session.get(url) as resp:
            resp.raise_for_status()
            found = json.loads(await resp.read())["executions"]
    finally:
        await session.close()
    return [datetime.fromisoformat(e["created_at"]).timestamp() for e in found]


def run(ctx: Context) -> list[Row]:
    """Unthrottled wall time vs ideal, throughput under a rate limit, journaled bulk modes,
    and the Ray runner's aggregate rate."""
    n, execution_time, warmup, window = ctx.pick((2000, 1.0, 10.0, 60.0), (500, 0.25, 5.0, 20.0))
    rows = asyncio.run(_unthrottled(n, execution_time))
    rows += asyncio.run(_rate_limited(warmup, window, execution_time))
    rows += asyncio.run(_bulk_modes(*ctx.pick((64, 2.0), (64, 0.5))))
    if importlib.util.find_spec("ray") is not None:
        rows += _ray_rate(500, 3000)
    return rows
