"""What every scenario shares: the run context, clients, interleaved timing."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks._server import BenchServer

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Context:
    """Settings of one run and the benchmark server, started on first use."""

    quick: bool = False
    profile: bool = False
    _server: BenchServer | None = field(default=None, repr=False)

    def pick(self, full: Any, quick: Any) -> Any:
        """Return ``quick`` in a --quick run, else ``full``."""
        return quick if self.quick else full

    @property
    def server(self) -> BenchServer:
        """The benchmark server process (started lazily, stopped by close())."""
        if self._server is None:
            self._server = BenchServer()
            self._server.start()
        return self._server

    def close(self) -> None:
        """Stop the benchmark server if it was started."""
        if self._server is not None:
            self._server.stop()
            self._server = None


def sdk_client(base_url: str, api_key: str, **options: Any) -> Any:
    """Create ``FloImg(api_key=..., base_url=..., **options)`` (imported late: it may not exist)."""
    from floimg_async import FloImg

    return FloImg(api_key=api_key, base_url=base_url, **options)


def raw_session(limit: int = 100) -> aiohttp.ClientSession:
    """Create the baseline's session: aiohttp defaults, a pool of ``limit`` connections."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit))


def bearer(api_key: str) -> dict[str, str]:
    """Return the Authorization header the raw baselines send."""
    return {"Authorization": f"Bearer {api_key}"}


@dataclass
class Sample:
    """Client CPU seconds and wall seconds of one measured round."""

    cpu: float
    wall: float


async def measure(work: Callable[[], Awaitable[Any]]) -> Sample:
    """Run ``work`` once and return its client CPU and wall time.

    A collection first, so garbage left by the other side is not billed here.
    """
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await work()
    return Sample(time.process_time() - cpu0, time.perf_counter() - wall0)


async def interleave(
    rounds: int,
    sdk: Callable[[], Awaitable[Any]],
    raw: Callable[[], Awaitable[Any]],
) -> tuple[list[Sample], list[Sample]]:
    """Measure SDK, raw, SDK, raw... ``rounds`` times each; return both lists of samples."""
    sdk_samples: list[Sample] = []
    raw_samples: list[Sample] = []
    for _ in range(rounds):
        sdk_samples.append(await measure(sdk))
        raw_samples.append(await measure(raw))
    return sdk_samples, raw_samples


async def control(
    session: aiohttp.ClientSession,
    server: BenchServer,
    path: str,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Call one of the bench server's /_bench control routes (POST when a payload is given)."""
    url = f"{server.origin}/_bench/{path}"
    method = "POST" if payload is not None else "GET"
    async with session.request(method, url, json=payload) as resp:
        resp.raise_for_status()
        data: dict[str, Any] = json.loads(await resp.read())
        return data
