"""Helpers shared by the test suite: constants, a fake sleep, a real local server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

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


class MockAPI:
    """Canned answers per (method, URL) over the SDK's own MockTransport: no sockets.

    Register like ``api.get(url, payload=..., status=..., headers=..., exception=...,
    repeat=...)``; answers for one URL are used in order (``repeat`` keeps the last).
    URLs include the query, as sent. ``api.sent(method, url)`` lists what went out.
    """

    def __init__(self) -> None:
        from floimg_async.transports import MockTransport

        self._routes: dict[tuple[str, str], list[tuple[Any, bool]]] = {}
        self.transport = MockTransport(self._answer)

    def add(
        self,
        method: str,
        url: str,
        *,
        status: int = 200,
        payload: Any = None,
        body: bytes | str = b"",
        headers: Mapping[str, str] | None = None,
        exception: BaseException | None = None,
        repeat: bool = False,
    ) -> None:
        from floimg_async.transports import MockResponse

        data = body.encode() if isinstance(body, str) else body
        answer: Any = exception or MockResponse(status, json=payload, body=data, headers=headers)
        self._routes.setdefault((method, url), []).append((answer, repeat))

    def get(self, url: str, **kwargs: Any) -> None:
        self.add("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> None:
        self.add("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> None:
        self.add("DELETE", url, **kwargs)

    @staticmethod
    def full_url(request: Any) -> str:
        return request.url + (f"?{urlencode(request.params)}" if request.params else "")

    def _answer(self, request: Any) -> Any:
        key = (request.method, self.full_url(request))
        queue = self._routes.get(key)
        if not queue:
            raise AssertionError(f"no answer registered for {key}")
        answer, repeat = queue[0]
        if not repeat:
            queue.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def sent(self, method: str, url: str) -> list[Any]:
        """The wire requests that went to ``method url``, in order."""
        return [r for r in self.transport.requests if (r.method, self.full_url(r)) == (method, url)]

    def __enter__(self) -> MockAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        return None
