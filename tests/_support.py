"""Helpers shared by the test suite: constants, a fake sleep, a real local server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

API_KEY = "fsk_test_unit_5ecret"
BASE_URL = "http://127.0.0.1:8931/v1"


class FakeSleep:
    """An injectable ``sleep`` that records every wait and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LocalServer:
    """A real aiohttp.web server on 127.0.0.1 with a random port."""

    def __init__(self, app: web.Application | None = None) -> None:
        self.app = app if app is not None else web.Application()
        self.runner: web.AppRunner | None = None
        self.port = 0

    def route(self, method: str, path: str, handler: Handler) -> None:
        self.app.router.add_route(method, path, handler)

    async def start(self) -> None:
        self.runner = web.AppRunner(self.app, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


MakeServer = Callable[[], Awaitable[LocalServer]]
"""The ``make_server`` fixture: ``server = await make_server()``, add routes, ``start()``."""
