"""Soak: many mixed calls, 100 in flight, against the emulator with faults and a rate limit.

Proves, on the emulator's own records, that no execution is lost or run twice
(each execute carries a unique prompt: exactly one execution per prompt), that
every call ends in a result or a documented ``FloImgError`` (never anything
else), and that memory stays flat (VmRSS sampled at start, middle and end).

The reduced run (~600 calls) is part of the default suite; the full run
(10,000 calls) is marked ``soak`` and runs with ``make soak``. Figures are
printed (see them with ``-s``).
"""

from __future__ import annotations

import asyncio
import io
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from floimg_async import Execution, FloImg, FloImgError, Image, Workflow

emulator = pytest.importorskip("floimg_async.emulator")
PIL_Image = pytest.importorskip("PIL.Image")

WORKFLOW = "wf_social_card"
IN_FLIGHT = 100
FAULT_KINDS = ("500", "503", "reset", "reset_after")


def rss_kib() -> int:
    """This process's resident set size (VmRSS) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    PIL_Image.new("RGB", (8, 8), (200, 40, 90)).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class Figures:
    requests: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)
    executes_ok: set[str] = field(default_factory=set)
    executes_failed: set[str] = field(default_factory=set)
    rss: list[int] = field(default_factory=list)


async def run_soak(total: int, *, rate_limit: int, burst: int, seed: int) -> dict[str, Any]:
    png = tiny_png()
    figures = Figures()
    async with emulator.Emulator(
        port=0,
        execution_time=0.02,
        rate_limit=rate_limit,
        burst=burst,
        fault_rate=0.01,
        fault_kinds=FAULT_KINDS,
        seed=seed,
    ) as emu:
        async with FloImg(
            api_key=emu.api_key,
            base_url=emu.base_url,
            timeout=15.0,
            max_retries=5,
            max_connections=IN_FLIGHT,
        ) as client:

            async def one(index: int) -> None:
                kind = ("get", "list", "execute", "upload")[index % 4]
                figures.by_kind[kind] += 1
                prompt = f"soak-{seed}-{index}"
                try:
                    if kind == "get":
                        workflow = await client.workflows.get(WORKFLOW)
                        assert isinstance(workflow, Workflow)
                    elif kind == "list":
                        items = await client.workflows.list(page_size=2, max_items=4).to_list()
                        assert len(items) == 4
                    elif kind == "execute":
                        execution = await client.workflows.execute(
                            WORKFLOW, {"prompt": prompt, "width": 24, "height": 16}
                        )
                        assert isinstance(execution, Execution) and execution.succeeded
                        figures.executes_ok.add(prompt)
                    else:
                        image = await client.images.upload(png, name=f"{prompt}.png")
                        assert isinstance(image, Image)
                except FloImgError as exc:
                    figures.errors[type(exc).__name__] += 1
                    if kind == "execute":
                        figures.executes_failed.add(prompt)
                except Exception as exc:  # anything else is a crash the SDK let escape
                    figures.crashes.append(f"{kind}: {exc!r}")
                figures.requests += 1
                if figures.requests == total // 2:
                    figures.rss.append(rss_kib())

            # Warm up (imports, first connections, Pillow) before the first RSS sample.
            for index in range(-40, 0):
                await one(index)
            warm = figures.requests
            figures.requests = 0
            figures.by_kind.clear()
            figures.rss.append(rss_kib())
            started = time.monotonic()
            jobs: Iterator[int] = iter(range(total))

            async def worker() -> None:
                for index in jobs:  # shared: each index is taken by exactly one worker
                    await one(index)

            await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
            elapsed = time.monotonic() - started
            figures.rss.append(rss_kib())

        records = await emu.executions(workflow_id=WORKFLOW)
        per_prompt = Counter(str(r.parameters.get("prompt")) for r in records)
        stats = emu.stats.snapshot()

    soaked = {f"soak-{seed}-{i}" for i in range(total) if i % 4 == 2}
    duplicated = sorted(p for p in soaked if per_prompt[p] > 1)
    lost = sorted(p for p in soaked if p not in figures.executes_ok or per_prompt[p] != 1)
    return {
        "requests": figures.requests,
        "warmup_requests": warm,
        "by_kind": dict(figures.by_kind),
        "http_requests_seen_by_emulator": stats["requests"],
        "faults_injected": sum(stats["faults"].values()),
        "faults_by_kind": stats["faults"],
        "rate_limited_429s": stats["rateLimited"],
        "idempotent_replays": stats["idempotentReplays"],
        "errors": dict(figures.errors),
        "crashes": figures.crashes,
        "executes": len(soaked),
        "lost": len(lost),
        "lost_examples": lost[:5],
        "duplicated": len(duplicated),
        "duplicated_examples": duplicated[:5],
        "rss_kib": figures.rss,
        "seconds": round(elapsed, 2),
    }


def report(name: str, figures: dict[str, Any]) -> None:
    rss = figures["rss_kib"]
    print(
        f"\n[{name}] requests={figures['requests']} (by kind {figures['by_kind']}), "
        f"HTTP requests at emulator={figures['http_requests_seen_by_emulator']}, "
        f"faults injected={figures['faults_injected']} {figures['faults_by_kind']}, "
        f"429s={figures['rate_limited_429s']}, idempotent replays={figures['idempotent_replays']}, "
        f"errors={figures['errors']}, executes={figures['executes']}, "
        f"lost={figures['lost']}, duplicated={figures['duplicated']}, "
        f"RSS start/middle/end={rss[0] / 1024:.1f}/{rss[1] / 1024:.1f}/{rss[-1] / 1024:.1f} MiB, "
        f"time={figures['seconds']}s"
    )


def check(figures: dict[str, Any], *, total: int, rss_growth_mib: float) -> None:
    assert figures["requests"] == total
    assert figures["crashes"] == [], figures["crashes"]
    assert figures["faults_injected"] > 0, "no fault was injected: the soak proves nothing"
    assert figures["duplicated"] == 0, figures["duplicated_examples"]
    assert figures["lost"] == 0, (figures["lost_examples"], figures["errors"])
    rss = figures["rss_kib"]
    assert len(rss) == 3
    assert (rss[-1] - rss[0]) / 1024 < rss_growth_mib, rss


async def test_soak_reduced() -> None:
    """~600 mixed calls, 100 in flight, 1 % faults, a rate limit: part of ``make test``."""
    total = 600
    started = time.monotonic()
    figures = await run_soak(total, rate_limit=24_000, burst=120, seed=11)
    report("soak reduced", figures)
    check(figures, total=total, rss_growth_mib=30)
    assert time.monotonic() - started < 15


@pytest.mark.soak
async def test_soak_full() -> None:
    """10,000 mixed calls, 100 in flight, 1 % faults, a rate limit (``make soak``)."""
    total = 10_000
    figures = await run_soak(total, rate_limit=24_000, burst=120, seed=12)
    report("soak full", figures)
    check(figures, total=total, rss_growth_mib=30)
