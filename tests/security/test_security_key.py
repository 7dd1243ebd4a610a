"""The API key: where it comes from, where it goes, and where it never shows."""

from __future__ import annotations

import logging

import pytest
from _faultkit import API_KEY, HttpFaultServer, RawFaultServer, SleepRecorder, settle
from _support import MakeServer
from aiohttp import web

from floimg_async import (
    APIConnectionError,
    FloImg,
    FloImgError,
    ResponseDecodeError,
    ServerError,
    UnauthorizedError,
)


def test_security_key_not_in_client_repr_or_str() -> None:
    client = FloImg(api_key=API_KEY, base_url="http://127.0.0.1:9/v1")
    derived = client.with_options(timeout=3, max_retries=1, deadline=5)
    for text in (repr(client), str(client), repr(derived), str(derived)):
        assert API_KEY not in text
        assert "Bearer" not in text
    assert "127.0.0.1:9" in repr(client)  # the repr is still useful


async def test_security_key_from_env_is_sent_as_bearer(
    http_server: HttpFaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOIMG_API_KEY", "fsk_test_from_env_123")
    monkeypatch.setenv("FLOIMG_BASE_URL", http_server.base_url)
    async with FloImg() as client:
        assert "fsk_test_from_env_123" not in repr(client)
        await client.workflows.get("wf_1")
    assert http_server.seen[0].headers["Authorization"] == "Bearer fsk_test_from_env_123"
    await settle(http_server)


async def test_security_explicit_key_beats_env(
    http_server: HttpFaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOIMG_API_KEY", "fsk_test_env_loses")
    async with FloImg(api_key=API_KEY, base_url=http_server.base_url) as client:
        await client.workflows.get("wf_1")
    assert http_server.seen[0].headers["Authorization"] == f"Bearer {API_KEY}"
    await settle(http_server)


@pytest.mark.parametrize("env_value", [None, ""])
def test_security_missing_or_empty_key_raises_without_echo(
    monkeypatch: pytest.MonkeyPatch, env_value: str | None
) -> None:
    if env_value is None:
        monkeypatch.delenv("FLOIMG_API_KEY", raising=False)
    else:
        monkeypatch.setenv("FLOIMG_API_KEY", env_value)
    with pytest.raises(FloImgError) as info:
        FloImg(base_url="http://127.0.0.1:9/v1")
    message = str(info.value)
    assert "FLOIMG_API_KEY" in message  # says how to provide one
    assert "api_key" in message


@pytest.mark.parametrize(
    "bad_key",
    [
        "fsk_test_abc def",
        " fsk_test_leading",
        "fsk_test_trailing\n",
        "fsk_test_ctrl\x00x",
        "fsk_test_crlf\r\nX-Evil: 1",
    ],
)
def test_security_malformed_key_is_refused_without_echo(bad_key: str) -> None:
    """A key that could break the header (or smuggle another) is refused, never echoed."""
    with pytest.raises(FloImgError) as info:
        FloImg(api_key=bad_key, base_url="http://127.0.0.1:9/v1")
    text = str(info.value) + repr(info.value)
    assert bad_key.strip() not in text
    assert "fsk_test_" not in text


async def test_security_key_not_in_any_error(
    http_server: HttpFaultServer, raw_server: RawFaultServer, sleeps: SleepRecorder
) -> None:
    """Every failure a call can meet: the key appears in no exception's str, repr or cause."""
    errors: list[BaseException] = []
    cases = [
        (http_server, "storm_5xx"),
        (http_server, "html_502"),
        (http_server, "invalid_json"),
        (http_server, "wrong_shape"),
        (http_server, "retry_after_huge"),
        (raw_server, "reset_before"),
        (raw_server, "reset_mid_body"),
        (raw_server, "truncated_json"),
        (raw_server, "slow_headers"),
    ]
    for server, fault in cases:
        server.set_fault(fault)
        async with FloImg(
            api_key=API_KEY, base_url=server.base_url, timeout=0.2, max_retries=1, sleep=sleeps
        ) as client:
            for call in (
                client.workflows.get("wf_1"),
                client.workflows.execute("wf_1", {"k": "v"}),
                client.images.upload(b"data", name="a.png"),
            ):
                with pytest.raises(FloImgError) as info:
                    await call
                errors.append(info.value)
        server.heal()
    assert {type(e) for e in errors} >= {ServerError, ResponseDecodeError, APIConnectionError}
    for error in errors:
        chain: BaseException | None = error
        while chain is not None:
            assert API_KEY not in str(chain), repr(chain)
            assert API_KEY not in repr(chain), repr(chain)
            assert API_KEY not in repr(getattr(chain, "args", ())), repr(chain)
            chain = chain.__cause__ or chain.__context__
    await settle(http_server, raw_server)


@pytest.mark.parametrize(("status", "code"), [(401, "unauthorized"), (503, "unavailable")])
async def test_security_key_echoed_by_server_is_redacted(
    status: int,
    code: str,
    sleeps: SleepRecorder,
    caplog: pytest.LogCaptureFixture,
    make_server: MakeServer,
) -> None:
    """A server (or proxy) that echoes the Authorization header back in its error body must
    not make the key show up in the exception text, nor (when retried) in the retry log."""
    caplog.set_level(logging.DEBUG)

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "error": {
                    "code": code,
                    "message": f"invalid key in header {request.headers['Authorization']}",
                    "details": {"received": request.headers["Authorization"]},
                }
            },
            status=status,
        )

    server = await make_server()
    server.route("GET", "/v1/workflows/{id}", echo)
    await server.start()
    async with FloImg(
        api_key=API_KEY, base_url=server.base_url, max_retries=1, sleep=sleeps
    ) as client:
        with pytest.raises(UnauthorizedError if status == 401 else ServerError) as info:
            await client.workflows.get("wf_1")
    error = info.value
    assert API_KEY not in str(error), str(error)
    assert API_KEY not in repr(error)
    assert API_KEY not in error.message
    assert API_KEY not in repr(error.details)
    for record in caplog.records:
        assert API_KEY not in record.getMessage(), record.getMessage()


@pytest.mark.parametrize("call", ["get", "list", "list_bad_item"])
async def test_security_key_echoed_in_an_undecodable_2xx_body_is_redacted(
    call: str, make_server: MakeServer
) -> None:
    """A 200 whose body does not decode (a proxy's page echoing the request, say) becomes a
    ResponseDecodeError with a body excerpt: the excerpt and message never hold the key."""

    async def echo(request: web.Request) -> web.Response:
        auth = request.headers["Authorization"]
        if call == "get":
            return web.Response(text=f"<html>you sent {auth}</html>", content_type="text/html")
        if call == "list":
            return web.json_response({"echo": auth})
        return web.json_response({"workflows": [{"name": auth}], "hasMore": False})

    server = await make_server()
    server.route("GET", "/v1/workflows/{id}", echo)
    server.route("GET", "/v1/workflows", echo)
    await server.start()
    async with FloImg(api_key=API_KEY, base_url=server.base_url) as client:
        with pytest.raises(ResponseDecodeError) as info:
            if call == "get":
                await client.workflows.get("wf_1")
            else:
                await client.workflows.list().to_list()
    error = info.value
    assert error.body_excerpt, "the test proves nothing without an excerpt"
    chain: BaseException | None = error
    while chain is not None:
        assert API_KEY not in str(chain) and API_KEY not in repr(chain), repr(chain)
        assert API_KEY not in repr(getattr(chain, "body_excerpt", "")), repr(chain)
        chain = chain.__cause__ or chain.__context__
