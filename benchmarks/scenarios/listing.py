"""streaming_listing: ``async for w in client.workflows.list(page_size=100)`` over 100,000 items.

The raw baseline loops GET pages, json.loads each and iterates the dicts: it
builds nothing more than dicts, while the SDK builds a WorkflowSummary (with
parsed datetimes) per item, so the ratio includes the cost of models.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import sys
import time
from collections.abc import AsyncIterator
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
from benchmarks._proc import emit, run_worker
from benchmarks._profile import report
from benchmarks._rss import hwm_bytes, mb, reset_hwm, rss_bytes
from benchmarks._stats import Row, Summary, Target

PAGE = 100
TOTAL = 100_000
RSS_FROM = 10_000
PAGE_LATENCY = 0.002
WORK_PER_PAGE = 0.001


async def raw_items(session: Any, base_url: str, api_key: str, limit: int) -> AsyncIterator[Any]:
    """The hand-written pager: GET page after page, json.loads, yield the dicts."""
    headers = bearer(api_key)
    offset, seen = 0, 0
    while seen < limit:
        url = f"{base_url}/workflows?limit={PAGE}&offset={offset}"
        async with session.get(url, headers=headers) as resp:
            resp.raise_for_status()
            page = json.loads(await resp.read())
        items = page["workflows"]
        for item in items:
            yield item
            seen += 1
            if seen >= limit:
                return
        if not page["hasMore"] or not items:
            return
        offset += len(items)


async def raw_model_items(
    session: Any, base_url: str, api_key: str, limit: int
) -> AsyncIterator[Any]:
    """The hand-written pager building the SDK's own models by hand, with no checks.

    The least code that yields what the contract's ``WorkflowSummary`` holds
    (a frozen attrs object with aware datetimes): the cost of the output's shape
    on its own, so the SDK's machinery can be told apart from it.
    """
    from datetime import datetime

    from floimg_async import WorkflowSummary

    when = datetime.fromisoformat
    if sys.version_info < (3, 11):  # 3.10's fromisoformat does not read a trailing "Z"

        def when(text: str) -> datetime:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))

    async for d in raw_items(session, base_url, api_key, limit):
        yield WorkflowSummary(
            d["id"], d["name"], d["projectId"], when(d["createdAt"]), when(d["updatedAt"])
        )


def sdk_items(client: Any, limit: int, **options: Any) -> AsyncIterator[Any]:
    """The SDK pager for ``limit`` items."""
    pager: AsyncIterator[Any] = client.workflows.list(page_size=PAGE, max_items=limit, **options)
    return pager


def busy(seconds: float) -> None:
    """Spin the CPU for ``seconds``: the consumer's work on a page, blocking the loop."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def consume(items: AsyncIterator[Any], work_per_page: float = 0.0) -> int:
    """Iterate every item, optionally doing ``work_per_page`` of CPU work per page."""
    count = 0
    async for _ in items:
        count += 1
        if work_per_page and count % PAGE == 0:
            busy(work_per_page)
    return count


def prefetch_value(client: Any) -> Any:
    """Return a value for the pager's ``prefetch`` option, or None if it has none."""
    parameter = inspect.signature(client.workflows.list).parameters.get("prefetch")
    if parameter is None:
        return None
    return True if isinstance(parameter.default, bool) else 2


def throughput_rows(
    speed: str, cpu: str, sdk: list[Sample], raw: list[Sample], n: int, note: str
) -> list[Row]:
    """Items/s (the target, >= 0.9x) and CPU per item of ``n`` items, SDK against a baseline."""
    return [
        Row(
            "streaming_listing",
            speed,
            Summary.of([n / s.wall for s in sdk]),
            Summary.of([n / s.wall for s in raw]),
            target=Target(">=", 0.9),
            note=note,
        ),
        Row(
            "streaming_listing",
            cpu,
            Summary.of([s.cpu / n * 1e6 for s in sdk]),
            Summary.of([s.cpu / n * 1e6 for s in raw]),
            unit="µs",
        ),
    ]


async def _throughput(ctx: Context, n: int, rounds: int) -> list[Row]:
    server = ctx.server
    client = sdk_client(server.base_url, server.api_key)
    session = raw_session()
    rows: list[Row] = []
    try:
        counts: dict[str, int] = {}

        async def sdk(limit: int = n, work: float = 0.0, **options: Any) -> None:
            counts["sdk"] = await consume(sdk_items(client, limit, **options), work)

        async def raw(limit: int = n, work: float = 0.0) -> None:
            counts["raw"] = await consume(
                raw_items(session, server.base_url, server.api_key, limit), work
            )

        async def raw_models(limit: int = n) -> None:
            counts["raw_models"] = await consume(
                raw_model_items(session, server.base_url, server.api_key, limit)
            )

        await sdk(10 * PAGE)
        await raw(10 * PAGE)
        await raw_models(10 * PAGE)
        sdk_s, raw_s = await interleave(rounds, sdk, raw)
        sdk_m, raw_m = await interleave(rounds, sdk, raw_models)
        if counts != {"sdk": n, "raw": n, "raw_models": n}:
            raise RuntimeError(f"expected {n} items each, got {counts}")
        rows += throughput_rows(
            "items/s (wall)",
            "client CPU per item",
            sdk_s,
            raw_s,
            n,
            f"{n:,} items in pages of {PAGE}, {rounds} rounds; raw builds only dicts, "
            "the SDK a model with parsed datetimes per item",
        )
        rows += throughput_rows(
            "items/s vs raw + same models",
            "client CPU per item, raw + same models",
            sdk_m,
            raw_m,
            n,
            "the raw loop also builds each WorkflowSummary by hand (constructor + "
            "datetime.fromisoformat, no checks): the SDK's machinery alone, without "
            "the price of the models the contract asks for",
        )
        if ctx.profile:
            await report("streaming_listing", sdk, raw, n, "item")

        prefetch = prefetch_value(client)
        if prefetch is None:
            rows.append(
                Row(
                    "streaming_listing",
                    "prefetch sub-scenario",
                    "skipped",
                    note="workflows.list() has no prefetch parameter",
                )
            )
            return rows
        m = n // 5
        await control(session, server, "config", {"page_latency": PAGE_LATENCY})
        try:
            pre_s, seq_s = await interleave(
                rounds,
                lambda: sdk(m, WORK_PER_PAGE, prefetch=prefetch),
                lambda: raw(m, WORK_PER_PAGE),
            )
        finally:
            await control(session, server, "config", {"page_latency": 0.0})
        rows.append(
            Row(
                "streaming_listing",
                f"items/s, prefetch={prefetch!r}",
                Summary.of([m / s.wall for s in pre_s]),
                Summary.of([m / s.wall for s in seq_s]),
                target=Target(">", 1.0),
                note=f"{m:,} items, server {PAGE_LATENCY * 1e3:g} ms per page, consumer "
                f"{WORK_PER_PAGE * 1e3:g} ms CPU per page; raw is the sequential page loop",
            )
        )
    finally:
        await client.close()
        await session.close()
    return rows


async def _rss_worker(side: str, base_url: str, api_key: str) -> dict[str, Any]:
    """Iterate 100,000 items; report RSS at item 10,000 and the peak after it."""
    if side == "sdk":
        client = sdk_client(base_url, api_key)
        session = None
        items = sdk_items(client, TOTAL)
    else:
        client = None
        session = raw_session()
        items = raw_items(session, base_url, api_key, TOTAL)
    count, at_mark, peak, hwm_ok = 0, 0, 0, False
    try:
        async for _ in items:
            count += 1
            if count == RSS_FROM:
                gc.collect()
                at_mark = peak = rss_bytes()
                hwm_ok = reset_hwm()
            elif count > RSS_FROM and count % 1000 == 0:
                peak = max(peak, rss_bytes())
        end = rss_bytes()
        if hwm_ok:
            peak = max(peak, hwm_bytes())
    finally:
        if client is not None:
            await client.close()
        if session is not None:
            await session.close()
    return {"count": count, "at_mark": at_mark, "peak": peak, "end": end}


async def _rss_rows(ctx: Context, runs: int) -> list[Row]:
    server = ctx.server
    growth: dict[str, list[float]] = {"sdk": [], "raw": []}
    for _ in range(runs):
        for side in ("sdk", "raw"):
            result = await asyncio.to_thread(
                run_worker,
                "benchmarks.scenarios.listing",
                ["--rss-worker", side, server.base_url, server.api_key],
            )
            if result["count"] != TOTAL:
                raise RuntimeError(f"{side} RSS run saw {result['count']} items")
            growth[side].append(mb(result["peak"] - result["at_mark"]))
    return [
        Row(
            "streaming_listing",
            "peak RSS growth, item 10k → 100k",
            Summary.of(growth["sdk"]),
            Summary.of(growth["raw"]),
            unit="MB",
            target=Target("<", 5, on="max", unit="MB"),
            show_ratio=False,
            note=f"fresh process per run ({runs} each); /proc VmRSS + VmHWM",
        )
    ]


def run(ctx: Context) -> list[Row]:
    """Items/s of the SDK pager vs a raw page loop, RSS growth, and prefetch if offered."""
    n, rounds, rss_runs = ctx.pick((TOTAL, 5, 3), (20_000, 2, 1))
    rows = asyncio.run(_throughput(ctx, n, rounds))
    rows += asyncio.run(_rss_rows(ctx, rss_runs))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="one RSS measurement of the listing scenario")
    parser.add_argument("--rss-worker", choices=("sdk", "raw"), required=True)
    parser.add_argument("base_url")
    parser.add_argument("api_key")
    args = parser.parse_args()
    emit(asyncio.run(_rss_worker(args.rss_worker, args.base_url, args.api_key)))


if __name__ == "__main__":
    main()
