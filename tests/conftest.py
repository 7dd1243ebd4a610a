"""Fixtures shared by the whole suite, and the aioresponses shim for aiohttp 3.14.

aioresponses 0.7.9 builds ``ClientResponse`` without the ``stream_writer``
argument aiohttp 3.14 made required (pnuckowski/aioresponses#289; the fix is
pending in #288). The shim below supplies a stub writer, and only when the
installed aiohttp needs one. Delete it once an aioresponses release has the fix.
Socket-level behaviour is tested against real local servers, never through it.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from _support import API_KEY, BASE_URL, FakeSleep, LocalServer

import floimg_async


def _install_aioresponses_shim() -> None:
    import aioresponses.core as core

    params = inspect.signature(aiohttp.ClientResponse.__init__).parameters
    if "stream_writer" not in params or core.ClientResponse is not aiohttp.ClientResponse:
        return

    class _NoStreamWriter:
        output_size = 0

    class _ShimmedClientResponse(aiohttp.ClientResponse):
        def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
            kwargs.setdefault("stream_writer", _NoStreamWriter())
            super().__init__(method, url, **kwargs)

    core.ClientResponse = _ShimmedClientResponse  # type: ignore[misc]


_install_aioresponses_shim()


@pytest.fixture
def fake_sleep() -> FakeSleep:
    """A recording sleep, so backoff and polling never really wait."""
    return FakeSleep()


@pytest_asyncio.fixture
async def client(fake_sleep: FakeSleep) -> AsyncIterator[floimg_async.FloImg]:
    """A client for aioresponses-mocked tests (its base URL is never really reached)."""
    async with floimg_async.FloImg(API_KEY, base_url=BASE_URL, sleep=fake_sleep) as c:
        yield c


@pytest_asyncio.fixture
async def make_server() -> AsyncIterator[Callable[[], Awaitable[LocalServer]]]:
    """Start real local servers on demand; all are stopped after the test."""
    servers: list[LocalServer] = []

    async def make() -> LocalServer:
        server = LocalServer()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.close()
