"""Request ids and rate-limit headers arrive through the real aiohttp transport (127.0.0.1)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from _support import API_KEY, FakeSleep, MakeServer
from aiohttp import web
from multidict import CIMultiDict

from floimg_async import FloImg, NotFoundError, RateLimitInfo

RESET = 1_900_000_000


async def test_headers_request_id_and_rate_limit_arrive(make_server: MakeServer) -> None:
    seen: list[int] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(1)
        # A careless server echoes the Authorization header into the request id.
        echo = request.headers["Authorization"].removeprefix("Bearer ")
        headers = CIMultiDict(
            {
                "x-request-id": f"req_{len(seen)}_{echo}",
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": str(300 - len(seen)),
                "X-RateLimit-Reset": str(RESET),
            }
        )
        headers.add("X-Trace", "first")
        headers.add("X-Trace", "second")
        return web.json_response({"id": "wf_1", "name": "Resize"}, headers=headers)

    server = await make_server()
    server.route("GET", "/v1/workflows/{id}", handle)
    await server.start()
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        assert client.rate_limit is None
        response = await client.raw_response(client.workflows.get("wf_1"))
        assert response.parse().name == "Resize"
        assert response.status == 200
        assert response.request_id == "req_1_[redacted]"
        assert response.headers["X-Trace"] == "first"
        assert response.headers["content-type"].startswith("application/json")
        expected = RateLimitInfo(300, 299, datetime.fromtimestamp(RESET, tz=timezone.utc))
        assert response.rate_limit == client.rate_limit == expected

        again = await client.with_raw_response.workflows.get("wf_1")
        assert again.request_id == "req_2_[redacted]"
        assert client.rate_limit is not None and client.rate_limit.remaining == 298
        for text in (repr(response), str(dict(response.headers)), repr(again)):
            assert API_KEY not in text


async def test_rate_limit_is_updated_by_error_responses(make_server: MakeServer) -> None:
    async def handle(request: web.Request) -> web.Response:
        return web.json_response(
            {"error": {"code": "not_found", "message": "no such workflow"}},
            status=404,
            headers={"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0"},
        )

    server = await make_server()
    server.route("GET", "/v1/workflows/{id}", handle)
    await server.start()
    async with FloImg(API_KEY, base_url=server.base_url, sleep=FakeSleep()) as client:
        with pytest.raises(NotFoundError):
            await client.raw_response(client.workflows.get("wf_1"))
        assert client.rate_limit == RateLimitInfo(60, 0, None)
