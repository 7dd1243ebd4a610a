"""Client configuration, lifecycle and the headers every request carries."""

from __future__ import annotations

import aiohttp
import pytest
from _support import API_KEY, BASE_URL, LocalServer, MakeServer
from aiohttp import web

import floimg_async
from floimg_async import FloImg, FloImgError
from floimg_async.transports import MockResponse, MockTransport, WireRequest

WF_URL = f"{BASE_URL}/workflows/wf_1"


def test_api_key_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOIMG_API_KEY", "fsk_test_from_env")
    monkeypatch.setenv("FLOIMG_BASE_URL", "http://127.0.0.1:9/v1/")
    client = FloImg()
    assert client.base_url == "http://127.0.0.1:9/v1"


def test_missing_key_says_how_to_provide_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOIMG_API_KEY", raising=False)
    with pytest.raises(FloImgError, match="FLOIMG_API_KEY"):
        FloImg()
    with pytest.raises(FloImgError, match="api_key="):
        FloImg(api_key="")


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOIMG_BASE_URL", raising=False)
    assert FloImg(API_KEY).base_url == "https://api.floimg.com/v1"


def test_key_with_a_newline_is_refused_without_echoing_it() -> None:
    with pytest.raises(FloImgError) as info:
        FloImg("fsk_live_secret\r\nX-Evil: 1")
    assert "secret" not in str(info.value)


def test_repr_never_shows_the_key() -> None:
    client = FloImg(API_KEY, base_url=BASE_URL)
    assert API_KEY not in repr(client)
    assert "5ecret" not in repr(client) and "5ecret" not in str(client)
    assert BASE_URL in repr(client)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": 0},
        {"timeout": -1},
        {"max_retries": -1},
        {"max_connections": 0},
        {"deadline": 0},
        {"max_retry_after": -5},
    ],
)
def test_bad_settings_are_value_errors(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        FloImg(API_KEY, base_url=BASE_URL, **kwargs)  # type: ignore[arg-type]


async def wf_server(make_server: MakeServer) -> LocalServer:
    async def get(request: web.Request) -> web.Response:
        return web.json_response({"id": request.match_info["id"]})

    server = await make_server()
    server.route("GET", "/v1/workflows/{id}", get)
    await server.start()
    return server


async def test_session_is_created_lazily_and_closed_by_close(make_server: MakeServer) -> None:
    server = await wf_server(make_server)
    client = FloImg(API_KEY, base_url=server.base_url)
    # Nothing is created outside a running call.
    assert client._sender.shared.transport._session is None
    await client.workflows.get("wf_1")
    session = client._sender.shared.transport._session
    assert session is not None and not session.closed
    await client.close()
    assert session.closed
    await client.close()  # idempotent


async def test_use_after_close_raises() -> None:
    client = FloImg(API_KEY, base_url=BASE_URL)
    await client.close()
    with pytest.raises(FloImgError, match="closed"):
        await client.workflows.get("wf_1")
    with pytest.raises(FloImgError, match="closed"):
        async with client:
            pass


async def test_external_session_is_used_and_never_closed(make_server: MakeServer) -> None:
    server = await wf_server(make_server)
    async with aiohttp.ClientSession() as session:
        async with FloImg(API_KEY, base_url=server.base_url, session=session) as client:
            assert (await client.workflows.get("wf_1")).id == "wf_1"
            assert client._sender.shared.transport._session is session
        assert not session.closed


async def test_with_options_shares_the_pool_and_overrides_settings() -> None:
    calls = 0

    def busy(request: WireRequest) -> MockResponse:
        nonlocal calls
        calls += 1
        return MockResponse(503)

    client = FloImg(API_KEY, base_url=BASE_URL, transport=MockTransport(busy))
    quick = client.with_options(timeout=2.5, max_retries=0, deadline=9)
    assert quick._sender.shared is client._sender.shared
    assert (quick.timeout.total, quick.max_retries, quick.deadline) == (2.5, 0, 9.0)
    assert (client.timeout.total, client.max_retries, client.deadline) == (60.0, 3, None)
    with pytest.raises(floimg_async.ServerError):
        await quick.workflows.get("wf_1")
    assert calls == 1  # max_retries=0: one attempt
    await quick.close()
    assert not client.closed  # closing the copy leaves the shared pool open
    await client.close()


async def test_closing_the_original_closes_copies() -> None:
    client = FloImg(API_KEY, base_url=BASE_URL)
    copy = client.with_options(max_retries=1)
    await client.close()
    assert copy.closed
    with pytest.raises(FloImgError, match="closed"):
        await copy.workflows.get("wf_1")


def test_an_explicit_empty_base_url_is_an_error_not_a_silent_default() -> None:
    with pytest.raises(ValueError, match="base_url"):
        FloImg(API_KEY, base_url="")
