"""The transport seam: MockTransport drives the whole client without sockets; progress and
stats; and the aiohttp transport against a real local server where sockets matter."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from _support import API_KEY, BASE_URL, FakeSleep, MakeServer
from aiohttp import web

from floimg_async import (
    APIConnectionError,
    APITimeoutError,
    ClientStats,
    DeadlineExceededError,
    FloImg,
    FloImgError,
    NotFoundError,
    RateLimitedError,
    ResponseTooLargeError,
)
from floimg_async.transports import (
    MockResponse,
    MockTransport,
    Transport,
    TransportResponse,
    WireRequest,
)

WORKFLOW = {"id": "wf_1", "name": "Resize"}


def client_for(handler: Any, sleep: FakeSleep | None = None, **kwargs: Any) -> FloImg:
    return FloImg(
        API_KEY, base_url=BASE_URL, transport=MockTransport(handler), sleep=sleep, **kwargs
    )


async def test_mock_transport_answers_a_call_and_records_it() -> None:
    async with client_for(lambda r: MockResponse(200, json=WORKFLOW)) as client:
        workflow = await client.workflows.get("wf/1")
        transport = client._sender.shared.transport
    assert workflow.name == "Resize"
    assert isinstance(transport, MockTransport) and isinstance(transport, Transport)
    (request,) = transport.requests
    assert request.method == "GET" and request.url == f"{BASE_URL}/workflows/wf%2F1"
    assert request.authenticated and request.body is None


async def test_an_async_handler_works_too() -> None:
    async def handler(request: WireRequest) -> MockResponse:
        await asyncio.sleep(0)
        return MockResponse(200, json=WORKFLOW)

    async with client_for(handler) as client:
        assert (await client.workflows.get("wf_1")).id == "wf_1"


async def test_retries_backoff_and_stats_run_for_real_over_a_mock(fake_sleep: FakeSleep) -> None:
    answers = [
        MockResponse(503, json={"error": {"code": "unavailable", "message": "busy"}}),
        MockResponse(429, json={"error": {"code": "rate_limited"}}, headers={"Retry-After": "2"}),
        MockResponse(200, json=WORKFLOW),
    ]

    async with client_for(lambda r: answers.pop(0), fake_sleep) as client:
        assert (await client.workflows.get("wf_1")).id == "wf_1"
        stats = client.stats
        assert isinstance(stats, ClientStats)
        assert (stats.requests, stats.retries, stats.rate_limited) == (3, 2, 1)
        assert client.with_options(max_retries=0).stats is stats  # shared with copies
    assert 0.4 <= fake_sleep.calls[0] <= 0.6 and fake_sleep.calls[1] == 2.0


@pytest.mark.parametrize(
    ("raised", "expected"),
    [(ConnectionResetError("reset"), APIConnectionError), (TimeoutError(), APITimeoutError)],
)
async def test_a_handler_raising_network_errors_simulates_them(
    raised: Exception, expected: type[Exception], fake_sleep: FakeSleep
) -> None:
    def handler(request: WireRequest) -> MockResponse:
        raise raised

    async with client_for(handler, fake_sleep, max_retries=2) as client:
        with pytest.raises(expected) as info:
            await client.workflows.get("wf_1")
        assert client.stats.requests == 3  # retried like a real failure
    assert str(info.value).startswith("workflows.get: ")


async def test_error_statuses_become_the_documented_classes() -> None:
    answer = MockResponse(404, json={"error": {"code": "not_found", "message": "no wf"}})
    async with client_for(lambda r: answer) as client:
        with pytest.raises(NotFoundError) as info:
            await client.workflows.get("wf_1")
    assert info.value.message == "no wf" and answer.closed


async def test_a_handler_returning_something_else_is_a_type_error() -> None:
    async with client_for(lambda r: {"id": "wf_1"}) as client:
        with pytest.raises(TypeError, match="MockResponse"):
            await client.workflows.get("wf_1")


async def test_transport_and_session_are_exclusive() -> None:
    with pytest.raises(TypeError):
        FloImg(API_KEY, base_url=BASE_URL, transport=object())  # type: ignore[arg-type]


async def test_uploads_reach_the_handler_as_bytes_with_progress() -> None:
    seen: list[WireRequest] = []
    progress: list[tuple[int, int | None]] = []

    def handler(request: WireRequest) -> MockResponse:
        seen.append(request)
        return MockResponse(200, json={"id": "img_1", "url": "http://127.0.0.1/x.png"})

    async with client_for(handler) as client:
        image = await client.images.upload(
            b"x" * 1000,
            name="a.png",
            on_progress=lambda done, total: progress.append((done, total)),
        )
    assert image.id == "img_1"
    assert isinstance(seen[0].body, bytes) and b"x" * 1000 in seen[0].body
    assert progress == [(1000, 1000)]


async def test_download_progress_counts_every_chunk_up_to_the_total(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40  # 10240 bytes in 1 KiB chunks
    answer = MockResponse(200, body=data, chunk_size=1024)
    progress: list[tuple[int, int | None]] = []

    async with client_for(lambda r: answer) as client:
        saved = await client.images.download(
            "https://cdn.example.com/a.png",
            tmp_path / "a.png",
            on_progress=lambda done, total: progress.append((done, total)),
        )
        in_memory = await client.images.download(
            "https://cdn.example.com/a.png", on_progress=lambda d, t: progress.append((d, t))
        )
        request = client._sender.shared.transport.requests[0]  # type: ignore[attr-defined]
    assert isinstance(saved, Path) and saved.read_bytes() == data and in_memory == data
    assert progress[:10] == [(1024 * i, len(data)) for i in range(1, 11)]
    assert len(progress) == 20
    assert not request.authenticated  # another origin: no key


async def test_a_progress_callback_that_raises_surfaces_its_own_error(tmp_path: Path) -> None:
    def broken(done: int, total: int | None) -> None:
        raise KeyError("progress bar broke")

    calls = 0

    def handler(request: WireRequest) -> MockResponse:
        nonlocal calls
        calls += 1
        return MockResponse(200, body=b"x" * 100)

    async with client_for(handler) as client:
        with pytest.raises(KeyError):
            await client.images.download("https://cdn.example.com/a.png", on_progress=broken)
    assert calls == 1, "the caller's error is not retried"


async def test_download_cap_applies_while_streaming() -> None:
    answer = MockResponse(200, body=b"x" * 5000, chunk_size=1000)
    async with client_for(lambda r: answer, max_download_bytes=2500) as client:
        with pytest.raises(ResponseTooLargeError):
            await client.images.download("https://cdn.example.com/a.png", on_progress=print)
        with pytest.raises(ResponseTooLargeError):
            await client.images.download("https://cdn.example.com/a.png")


async def test_on_progress_must_be_callable() -> None:
    async with client_for(lambda r: MockResponse()) as client:
        with pytest.raises(TypeError):
            await client.images.download("https://x.example/a.png", on_progress=3)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await client.images.upload(b"x", on_progress="no")  # type: ignore[arg-type]


async def test_closing_closes_the_transport() -> None:
    transport = MockTransport(lambda r: MockResponse(200, json=WORKFLOW))
    client = FloImg(API_KEY, base_url=BASE_URL, transport=transport)
    await client.close()
    assert transport.closed
    with pytest.raises(FloImgError, match="closed"):
        await client.workflows.get("wf_1")


async def test_rate_limit_gate_holds_the_next_request(fake_sleep: FakeSleep) -> None:
    answers = [
        MockResponse(429, json={"error": {"code": "rate_limited"}}, headers={"Retry-After": "3"}),
        MockResponse(200, json=WORKFLOW),
        MockResponse(200, json=WORKFLOW),
    ]
    async with client_for(lambda r: answers.pop(0), fake_sleep, max_retries=0) as client:
        with pytest.raises(RateLimitedError):
            await client.workflows.get("wf_1")
        await client.workflows.get("wf_1")
        assert client.stats.rate_waits == 1
    assert fake_sleep.calls == [pytest.approx(3.0, abs=0.5)]


# -- the aiohttp transport, where sockets matter ------------------------------------------------


async def test_aiohttp_responses_follow_the_protocol(make_server: MakeServer) -> None:
    async def image(request: web.Request) -> web.Response:
        return web.Response(body=b"y" * 3000)

    server = await make_server()
    server.route("GET", "/img.png", image)
    await server.start()
    progress: list[tuple[int, int | None]] = []
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        data = await client.images.download(
            f"{server.origin}/img.png", on_progress=lambda d, t: progress.append((d, t))
        )
        transport = client._sender.shared.transport
        assert isinstance(transport, Transport)
        response = await transport.send(
            WireRequest("GET", f"{server.origin}/img.png", timeout=client.timeout)
        )
        assert isinstance(response, TransportResponse)
        assert response.status == 200 and response.content_length == 3000
        assert await response.read(100) == b"y" * 101
        await response.aclose()
    assert data == b"y" * 3000 and progress[-1] == (3000, 3000)


async def test_upload_progress_over_aiohttp_and_a_raising_callback(
    make_server: MakeServer, tmp_path: Path
) -> None:
    uploads = 0

    async def upload(request: web.Request) -> web.Response:
        nonlocal uploads
        uploads += 1
        async for _ in request.content.iter_any():
            pass
        return web.json_response({"id": "img_1", "url": "http://127.0.0.1/x.png"})

    server = await make_server()
    server.route("POST", "/v1/storage/upload", upload)
    await server.start()
    path = tmp_path / "big.png"
    path.write_bytes(b"z" * (1024 * 1024 + 5))
    progress: list[tuple[int, int | None]] = []

    def explode(done: int, total: int | None) -> None:
        raise LookupError("the progress bar is gone")

    async with FloImg(API_KEY, base_url=server.base_url, max_retries=3) as client:
        await client.images.upload(path, on_progress=lambda d, t: progress.append((d, t)))
        assert uploads == 1
        with pytest.raises(LookupError):
            await client.images.upload(path, on_progress=explode)
    size = 1024 * 1024 + 5
    assert [done for done, _ in progress] == [512 * 1024, 1024 * 1024, size]
    assert {total for _, total in progress} == {size}
    assert client.stats.requests == 2, "the failing callback's upload was not retried"


# -- on_request / on_response: every attempt, without aiohttp ----------------------------------


async def test_hooks_see_every_attempt_retries_and_downloads_included(
    fake_sleep: FakeSleep,
) -> None:
    answers = [
        MockResponse(503, json={"error": {"code": "unavailable", "message": "busy"}}),
        MockResponse(200, json=WORKFLOW, headers={"X-RateLimit-Remaining": "7"}),
        MockResponse(200, body=b"png"),
    ]
    seen: list[tuple[str, ...]] = []

    async def on_request(wire: WireRequest) -> None:
        seen.append(("request", wire.method, wire.url))

    async def on_response(wire: WireRequest, response: TransportResponse) -> None:
        remaining = response.headers.get("x-ratelimit-remaining", "-")
        seen.append(("response", wire.url, str(response.status), remaining))

    async with client_for(
        lambda r: answers.pop(0), fake_sleep, on_request=on_request, on_response=on_response
    ) as client:
        await client.workflows.get("wf_1")
        assert await client.with_options(max_retries=0).images.download("https://cdn.x/a") == b"png"
        assert client.stats.requests == 3
    url = f"{BASE_URL}/workflows/wf_1"
    assert seen == [
        ("request", "GET", url),
        ("response", url, "503", "-"),
        ("request", "GET", url),
        ("response", url, "200", "7"),
        ("request", "GET", "https://cdn.x/a"),  # a with_options copy shares the hooks
        ("response", "https://cdn.x/a", "200", "-"),
    ]


async def test_a_raising_hook_ends_the_call_unretried_and_nothing_is_sent() -> None:
    class Refused(Exception):
        pass

    async def on_request(wire: WireRequest) -> None:
        raise Refused("no budget")

    async with client_for(lambda r: MockResponse(200, json=WORKFLOW), on_request=on_request) as c:
        with pytest.raises(Refused):
            await c.workflows.get("wf_1")
        assert c._sender.shared.transport.requests == []  # type: ignore[attr-defined]
        assert c.stats.requests == 0


async def test_a_raising_response_hook_ends_the_call_and_closes_the_response() -> None:
    closed: list[bool] = []

    class Tracked(MockResponse):
        async def aclose(self) -> None:
            closed.append(True)

    async def on_response(wire: WireRequest, response: TransportResponse) -> None:
        raise LookupError("bad header")

    async with client_for(lambda r: Tracked(503), on_response=on_response) as c:
        with pytest.raises(LookupError):
            await c.workflows.get("wf_1")
        assert c.stats.requests == 1 and c.stats.retries == 0
    assert closed == [True]


async def test_time_spent_in_on_request_comes_off_the_deadline() -> None:
    async def slow(wire: WireRequest) -> None:
        await asyncio.sleep(0.05)

    remaining: list[float | None] = []

    def handler(wire: WireRequest) -> MockResponse:
        remaining.append(wire.remaining)
        return MockResponse(200, json=WORKFLOW)

    async with client_for(handler, on_request=slow, deadline=30) as client:
        await client.workflows.get("wf_1")
        with pytest.raises(DeadlineExceededError, match="deadline"):
            await client.with_options(deadline=0.01).workflows.get("wf_1")
    (left,) = remaining
    assert left is not None and left <= 30 - 0.05


@pytest.mark.parametrize("name", ["on_request", "on_response"])
async def test_hooks_must_be_callable(name: str) -> None:
    with pytest.raises(TypeError, match=name):
        FloImg(API_KEY, base_url=BASE_URL, **{name: "not a function"})


async def test_hooks_over_aiohttp_never_see_the_key(make_server: MakeServer) -> None:
    async def workflow(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == f"Bearer {API_KEY}"
        return web.json_response(WORKFLOW, headers={"X-RateLimit-Limit": "60"})

    server = await make_server()
    server.route("GET", "/v1/workflows/wf_1", workflow)
    await server.start()
    seen: list[str] = []

    async def on_request(wire: WireRequest) -> None:
        seen.append(repr(wire))

    async def on_response(wire: WireRequest, response: TransportResponse) -> None:
        seen.append(f"{response.status} {response.headers['x-ratelimit-limit']}")

    async with FloImg(
        API_KEY, base_url=server.base_url, on_request=on_request, on_response=on_response
    ) as client:
        assert (await client.workflows.get("wf_1")).id == "wf_1"
    assert len(seen) == 2 and seen[1] == "200 60"
    assert API_KEY not in seen[0] and "Authorization" not in seen[0]


@pytest.mark.parametrize(
    "echo",
    [
        {"X-Request-Id": f"Bearer {API_KEY}"},
        {"Set-Cookie": f"k={API_KEY}"},
        {"X-Debug": f"auth={API_KEY}; more", "Authorization": f"Bearer {API_KEY}"},
        {"Location": f"https://user:{API_KEY}@cdn.example.com/a"},
    ],
)
async def test_on_response_sees_headers_with_the_key_scrubbed_and_no_body(
    fake_sleep: FakeSleep, echo: dict[str, str]
) -> None:
    seen: list[str] = []
    refused: list[str] = []

    async def on_response(wire: WireRequest, response: TransportResponse) -> None:
        seen.append(repr(dict(response.headers)))
        for attempt in (lambda: response.read(None), response.aclose):
            try:
                await attempt()
            except RuntimeError as exc:
                refused.append(str(exc))

    answer = MockResponse(200, json={"id": "wf_1"}, headers=echo)
    async with client_for(lambda r: answer, fake_sleep, on_response=on_response) as client:
        workflow = await client.workflows.get("wf_1")
    assert workflow.id == "wf_1"  # the call still read its body
    assert seen and all(API_KEY not in text for text in seen)
    assert len(refused) == 2 and all("on_response" in text for text in refused)
