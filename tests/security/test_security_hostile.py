"""Secrets against hostile servers and careless input (issue 10, items 1 and 8).

The key (and any URL password) must not survive in anything the SDK hands
back: message, ``args``, ``request_id``, ``headers``, ``details``, ``repr``,
any attribute of any exception along ``__cause__``/``__context__`` (aiohttp's
own, with their ``request_info`` and ``history``, included), or a log line.
Every server here is a real aiohttp server on 127.0.0.1.
"""

from __future__ import annotations

import logging
import string
from typing import Any

import pytest
from _support import MakeServer
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from floimg_async import (
    APIConnectionError,
    FloImg,
    FloImgError,
    ServerError,
    UnauthorizedError,
)

KEY = "fsk_test_h0stile-5ecret-9d2f"
PASSWORD = "hunter2-pa55word"


def texts_of(error: BaseException) -> list[str]:
    """Everything a user, a log formatter or a debugger could print about an error chain."""
    out: list[str] = []
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        exc = todo.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        out += [str(exc), repr(exc), repr(exc.args)]
        for name, value in vars(exc).items():
            out.append(f"{name}={value!r}")
            if name == "history":
                out += [repr(getattr(r, "request_info", None)) for r in value]
        for linked in (exc.__cause__, exc.__context__):
            if linked is not None:
                todo.append(linked)
    return out


def assert_clean(error: BaseException, *secrets: str) -> None:
    texts = texts_of(error)
    assert len(texts) > 3, "nothing was inspected"
    for text in texts:
        for secret in secrets:
            assert secret not in text, text


def assert_logs_clean(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    for record in caplog.records:
        line = record.getMessage() + repr(record.args)
        for secret in secrets:
            assert secret not in line, line


# -- a proxy that echoes the key into every header it can ---------------------------------------


@pytest.mark.parametrize("status", [401, 429, 503])
async def test_hostile_echo_in_headers_request_id_and_body_is_scrubbed(
    status: int, make_server: MakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="floimg_async")

    async def echo(request: web.Request) -> web.Response:
        auth = request.headers["Authorization"]
        return web.json_response(
            {"error": {"code": "boom", "message": auth, "details": {"deep": [{"x": auth}]}}},
            status=status,
            headers={
                "X-Request-Id": f"req-{auth}",
                "X-Echo": auth,
                "Retry-After": "0",
                "Set-Cookie": f"session={KEY}",
                "X-Link": f"http://admin:{PASSWORD}@127.0.0.1/x",
            },
        )

    server = await make_server()
    server.route("GET", "/v1/workflows/{id}", echo)
    await server.start()

    async def no_sleep(_: float) -> None:
        return None

    async with FloImg(KEY, base_url=server.base_url, max_retries=1, sleep=no_sleep) as client:
        with pytest.raises(FloImgError) as info:
            await client.workflows.get("wf_1")
    error = info.value
    assert isinstance(error, UnauthorizedError if status == 401 else FloImgError)
    assert getattr(error, "request_id", None), "the request id itself is kept, only scrubbed"
    assert "X-Echo" in error.headers and "x-echo" in error.headers  # still case-insensitive
    assert_clean(error, KEY, PASSWORD)
    assert_logs_clean(caplog, KEY, PASSWORD)


async def test_hostile_redirect_loop_on_the_api_origin_leaks_nothing(
    make_server: MakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp's TooManyRedirects carries the request headers (the key) in request_info and
    in every response of its history; the Location itself carries the key too."""
    caplog.set_level(logging.DEBUG, logger="floimg_async")
    hits = 0

    async def loop(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        key = request.headers["Authorization"].split()[-1]
        raise web.HTTPFound(f"/v1/workflows/wf_1?echo={key}&n={hits}")

    server = await make_server()
    server.route("GET", "/v1/workflows/{id}", loop)
    await server.start()
    async with FloImg(KEY, base_url=server.base_url, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.workflows.get("wf_1")
    assert hits > 5, "the loop never ran"
    assert_clean(info.value, KEY)
    assert_logs_clean(caplog, KEY)


async def test_hostile_redirect_to_a_url_with_a_password_is_a_floimg_error(
    make_server: MakeServer,
) -> None:
    """aiohttp raises a bare ValueError when a request carrying the key is redirected to a
    URL with credentials; the SDK says what happened, without the password."""

    async def to_userinfo(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://admin:{PASSWORD}@127.0.0.1:{request.url.port}/v1/x")

    server = await make_server()
    server.route("GET", "/v1/workflows/{id}", to_userinfo)
    await server.start()
    async with FloImg(KEY, base_url=server.base_url, max_retries=2) as client:
        with pytest.raises(FloImgError) as info:
            await client.workflows.get("wf_1")
    assert not isinstance(info.value, ValueError)
    assert_clean(info.value, KEY, PASSWORD)


async def test_hostile_download_redirect_loop_with_userinfo_hides_the_password(
    make_server: MakeServer,
) -> None:
    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://u:{PASSWORD}@127.0.0.1:{request.url.port}/img.png")

    foreign = await make_server()
    foreign.route("GET", "/img.png", loop)
    await foreign.start()
    async with FloImg(KEY, base_url="http://127.0.0.1:9/v1", max_retries=0) as client:
        with pytest.raises(FloImgError) as info:
            await client.images.download(f"http://u:{PASSWORD}@127.0.0.1:{foreign.port}/img.png")
    assert_clean(info.value, KEY, PASSWORD)


async def test_hostile_download_with_userinfo_on_the_api_origin_is_refused(
    make_server: MakeServer,
) -> None:
    server = await make_server()
    await server.start()
    async with FloImg(KEY, base_url=server.base_url) as client:
        with pytest.raises(ValueError) as info:
            await client.images.download(f"http://u:{PASSWORD}@127.0.0.1:{server.port}/a.png")
    assert PASSWORD not in str(info.value) and "u:***@" in str(info.value)


# -- URL passwords in base_url ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"https://admin:{PASSWORD}@api.example.com/v1",
        f"http://:{PASSWORD}@127.0.0.1:8080/v1",
        f"http://admin:{PASSWORD}@localhost/v1",
    ],
)
def test_base_url_with_userinfo_is_refused_without_showing_the_password(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError) as info:
        FloImg(KEY, base_url=url)
    assert PASSWORD not in str(info.value) and "user name or password" in str(info.value)
    monkeypatch.setenv("FLOIMG_BASE_URL", url)
    with pytest.raises(ValueError) as info:
        FloImg(KEY)
    assert PASSWORD not in str(info.value)


def test_repr_of_client_never_shows_key_or_password() -> None:
    client = FloImg(KEY, base_url="http://127.0.0.1:9/v1")
    assert KEY not in repr(client) and KEY not in str(client)


# -- keys with any Unicode whitespace or control character --------------------------------------

INVISIBLE = st.characters(categories=["Zs", "Zl", "Zp", "Cc", "Cf"])


@settings(max_examples=60, deadline=None)
@given(
    INVISIBLE,
    st.integers(min_value=0, max_value=3),
    st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=12),
)
def test_keys_with_any_unicode_whitespace_or_control_character_are_refused(
    bad: str, where: int, body: str
) -> None:
    key = [bad + "fsk_" + body, "fsk_" + body + bad, "fsk_" + bad + body, "fsk_" + body][where]
    if where == 3:
        FloImg(key, base_url="http://127.0.0.1:9/v1")  # the control case: accepted
        return
    with pytest.raises(FloImgError) as info:
        FloImg(key, base_url="http://127.0.0.1:9/v1")
    assert body not in str(info.value) or len(body) < 3
    assert key not in str(info.value)


@pytest.mark.parametrize(
    "char", ["\u00a0", "\u2028", "\u200b", "\ufeff", "\u3000", "\x85", "\u202e", "\x7f"]
)
def test_named_invisible_characters_in_keys_are_refused(char: str) -> None:
    with pytest.raises(FloImgError):
        FloImg(f"fsk_test_{char}abc", base_url="http://127.0.0.1:9/v1")


# -- upload names and content types (item 8) ----------------------------------------------------

CONTROL = st.characters(categories=["Cc", "Cf", "Zl", "Zp"])


@settings(max_examples=40, deadline=None)
@given(CONTROL, st.text(string.ascii_letters, min_size=1, max_size=8))
async def test_upload_name_with_control_characters_is_refused_before_sending(
    bad: str, stem: str
) -> None:
    async with FloImg(KEY, base_url="http://127.0.0.1:9/v1", max_retries=0) as client:
        with pytest.raises(ValueError) as info:
            await client.images.upload(b"data", name=f"{stem}{bad}.png")
    assert "control character" in str(info.value)


@pytest.mark.parametrize(
    "content_type",
    [
        "image/png\r\nX-Evil: 1",
        "image/png\n",
        "image/png\x00",
        "text/html\r\n\r\n<script>",
        "image/png; charset=\u2028x",
        "image/p\u00e9ng",
        "png",
        "",
    ],
)
async def test_upload_content_type_with_control_characters_is_refused(content_type: str) -> None:
    async with FloImg(KEY, base_url="http://127.0.0.1:9/v1", max_retries=0) as client:
        with pytest.raises(ValueError) as info:
            await client.images.upload(b"data", name="a.png", content_type=content_type)
    assert "content_type" in str(info.value)


async def test_upload_file_whose_own_name_has_a_newline_is_refused(tmp_path: Any) -> None:
    path = tmp_path / "evil\r\nX-Evil: 1.png"
    path.write_bytes(b"data")
    async with FloImg(KEY, base_url="http://127.0.0.1:9/v1", max_retries=0) as client:
        with pytest.raises(ValueError) as info:
            await client.images.upload(path)
    assert "name=" in str(info.value)


async def test_plain_names_and_parameters_still_upload(make_server: MakeServer) -> None:
    seen: list[bytes] = []

    async def upload(request: web.Request) -> web.Response:
        seen.append(await request.read())
        return web.json_response({"id": "img_1", "url": "http://127.0.0.1/x.png"})

    server = await make_server()
    server.route("POST", "/v1/storage/upload", upload)
    await server.start()
    async with FloImg(KEY, base_url=server.base_url) as client:
        await client.images.upload(
            b"data", name="caf\u00e9 photo.png", content_type="image/png; q=1"
        )
    assert "caf\u00e9 photo.png".encode() in seen[0]
    assert b"Content-Type: image/png; q=1\r\n" in seen[0]


async def test_server_error_echo_in_retry_log_is_scrubbed(
    make_server: MakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="floimg_async")

    async def echo(request: web.Request) -> web.Response:
        return web.Response(status=502, text=f"bad gateway for {request.headers['Authorization']}")

    server = await make_server()
    server.route("GET", "/v1/workflows/{id}", echo)
    await server.start()

    async def no_sleep(_: float) -> None:
        return None

    async with FloImg(KEY, base_url=server.base_url, max_retries=2, sleep=no_sleep) as client:
        with pytest.raises(ServerError) as info:
            await client.workflows.get("wf_1")
    assert any("retrying" in r.getMessage() for r in caplog.records)
    assert_clean(info.value, KEY)
    assert_logs_clean(caplog, KEY)
