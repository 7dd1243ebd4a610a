"""Bounded resources against hostile servers (issue 10, item 2).

Bodies are read with a cap, compressed or not, success or error; every pager
ends; rate-limit pacing never waits past ``max_retry_after``; an upload whose
file changes size mid-send fails at once. Real servers on 127.0.0.1; sleeps
are recorded, never slept.
"""

from __future__ import annotations

import asyncio
import functools
import json
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from _faultkit import SleepRecorder
from _support import API_KEY, MakeServer
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from floimg_async import (
    AsyncPager,
    DeadlineExceededError,
    FloImg,
    LocalFileError,
    Page,
    ResponseTooLargeError,
    ServerError,
)

MiB = 1024 * 1024


@functools.cache
def gzip_bomb(mebibytes: int, prefix: bytes = b"") -> bytes:
    """``prefix`` then ``mebibytes`` MiB of spaces, gzip-compressed (a few hundred KiB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(prefix)]
    block = b" " * MiB
    parts += [packer.compress(block) for _ in range(mebibytes)]
    parts.append(packer.flush())
    return b"".join(parts)


def bomb_response(status: int, mebibytes: int, prefix: bytes = b"") -> web.Response:
    return web.Response(
        status=status,
        body=gzip_bomb(mebibytes, prefix),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )


async def serve(make_server: MakeServer, method: str, path: str, handler: Any) -> str:
    server = await make_server()
    server.route(method, path, handler)
    await server.start()
    return server.base_url


# -- body caps ----------------------------------------------------------------------------------


async def test_a_255_kib_gzip_bomb_stops_at_the_default_cap(make_server: MakeServer) -> None:
    """The issue's case: 255 MiB of JSON inflated from a small body, with default settings."""

    async def bomb(request: web.Request) -> web.Response:
        return bomb_response(200, 255, b'{"id": "wf_1", "name": "')

    base_url = await serve(make_server, "GET", "/v1/workflows/{id}", bomb)
    assert len(gzip_bomb(255, b'{"id": "wf_1", "name": "')) < 300 * 1024
    tracemalloc.start()
    try:
        async with FloImg(API_KEY, base_url=base_url, max_retries=3) as client:
            with pytest.raises(ResponseTooLargeError) as info:
                await client.workflows.get("wf_1")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.limit == 32 * MiB
    assert "max_response_bytes" in str(info.value)
    assert peak < 80 * MiB, f"reading grew memory by {peak / MiB:.0f} MiB"


@pytest.mark.parametrize("call", ["get", "list", "download_bytes", "download_file"])
@pytest.mark.parametrize("kind", ["gzip", "identity_with_length", "chunked_forever"])
async def test_every_success_body_is_capped(
    call: str, kind: str, make_server: MakeServer, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    requests = 0

    async def hostile(request: web.Request) -> web.StreamResponse:
        nonlocal requests
        requests += 1
        if kind == "gzip":
            return bomb_response(200, 8, b'{"workflows": [')
        if kind == "identity_with_length":
            return web.Response(body=b"[" + b" " * (3 * MiB), content_type="application/json")
        response = web.StreamResponse()
        response.content_type = "application/json"
        await response.prepare(request)
        await response.write(b'{"workflows": [')
        for _ in range(10_000):  # bounded, but far past any cap under test
            await response.write(b" " * 65536)
        return response

    server = await make_server()
    for path in ("/v1/workflows/{id}", "/v1/workflows", "/img.png"):
        server.route("GET", path, hostile)
    await server.start()
    async with FloImg(
        API_KEY,
        base_url=server.base_url,
        max_response_bytes=MiB,
        max_download_bytes=2 * MiB,
        sleep=sleeps,
    ) as client:
        with pytest.raises(ResponseTooLargeError) as info:
            if call == "get":
                await client.workflows.get("wf_1")
            elif call == "list":
                await client.workflows.list().to_list()
            elif call == "download_bytes":
                await client.images.download(f"{server.origin}/img.png")
            else:
                await client.images.download(f"{server.origin}/img.png", tmp_path / "a.png")
    assert info.value.limit == (MiB if call in {"get", "list"} else 2 * MiB)
    assert requests == 1, "an oversized body is not retried"
    assert sleeps.delays == []
    assert list(tmp_path.iterdir()) == [], "no partial file remains"


@pytest.mark.parametrize("status", [400, 500, 503])
async def test_error_bodies_are_read_only_up_to_their_cap(
    status: int, make_server: MakeServer, sleeps: SleepRecorder
) -> None:
    async def bomb(request: web.Request) -> web.Response:
        return bomb_response(status, 64, b"<html>proxy says no")

    base_url = await serve(make_server, "GET", "/v1/workflows/{id}", bomb)
    tracemalloc.start()
    try:
        async with FloImg(API_KEY, base_url=base_url, max_retries=1, sleep=sleeps) as client:
            with pytest.raises(Exception) as info:
                await client.workflows.get("wf_1")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert getattr(info.value, "status", None) == status
    assert "proxy says no" in str(info.value)
    assert peak < 16 * MiB, f"an error body grew memory by {peak / MiB:.0f} MiB"
    if status >= 500:
        assert isinstance(info.value, ServerError)


async def test_caps_can_be_raised_and_disabled(make_server: MakeServer) -> None:
    payload = json.dumps({"id": "wf_1", "name": "x" * (2 * MiB)}).encode()

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=payload, content_type="application/json")

    base_url = await serve(make_server, "GET", "/v1/workflows/{id}", big)
    for limit in (3 * MiB, None):
        async with FloImg(API_KEY, base_url=base_url, max_response_bytes=limit) as client:
            workflow = await client.workflows.get("wf_1")
        assert len(workflow.name) == 2 * MiB
    with pytest.raises(ValueError):
        FloImg(API_KEY, base_url=base_url, max_response_bytes=0)
    with pytest.raises(ValueError):
        FloImg(API_KEY, base_url=base_url, max_download_bytes=True)  # type: ignore[arg-type]


# -- pagers always end --------------------------------------------------------------------------


def summary(i: int) -> dict[str, Any]:
    return {"id": f"wf_{i}", "name": f"w{i}"}


@pytest.mark.parametrize(
    "behaviour", ["bare_list_full_forever", "envelope_has_more_forever", "past_total"]
)
async def test_pager_ends_against_a_server_that_ignores_limit_and_offset(
    behaviour: str, make_server: MakeServer
) -> None:
    hits = 0

    async def listing(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        assert hits < 50, "the pager does not stop"
        limit = int(request.query["limit"])
        if behaviour == "bare_list_full_forever":
            return web.json_response([summary(i) for i in range(limit)])
        if behaviour == "envelope_has_more_forever":
            return web.json_response(
                {"workflows": [summary(i) for i in range(limit)], "hasMore": True}
            )
        offset = int(request.query["offset"])
        items = [summary(offset + i) for i in range(limit)]  # new items, forever
        return web.json_response({"workflows": items, "total": 25, "hasMore": True})

    base_url = await serve(make_server, "GET", "/v1/workflows", listing)
    async with FloImg(API_KEY, base_url=base_url) as client:
        items = await client.workflows.list(page_size=10).to_list()
        pages = [page async for page in client.workflows.list(page_size=10).pages()]
    if behaviour == "past_total":
        assert len(items) == 30 and len(pages) == 3  # stops once offset reaches total
    else:
        assert len(items) == 10 and len(pages) == 1  # the repeated page is not yielded


MODES = st.sampled_from(["repeat", "cycle2", "honest", "total_lies", "ignore_offset"])


@settings(max_examples=150, deadline=None)
@given(
    mode=MODES,
    page_size=st.integers(1, 7),
    total=st.integers(0, 40),
    max_items=st.none() | st.integers(0, 50),
)
async def test_property_every_pager_ends_and_never_repeats_a_page(
    mode: str, page_size: int, total: int, max_items: int | None
) -> None:
    calls = 0

    async def fetch(offset: int, limit: int) -> Page[int]:
        nonlocal calls
        calls += 1
        assert calls <= 200, "the pager does not stop"
        if mode == "repeat" or mode == "ignore_offset":
            items = tuple(range(limit))
            return Page(items=items, total=None, has_more=True, offset=offset, limit=limit)
        if mode == "total_lies":
            items = tuple(range(offset, offset + limit))
            return Page(items=items, total=total, has_more=True, offset=offset, limit=limit)
        if mode == "cycle2":
            start = (calls % 2) * limit
            items = tuple(range(start, start + limit))
            return Page(items=items, total=total, has_more=True, offset=offset, limit=limit)
        items = tuple(range(offset, min(offset + limit, total)))
        return Page(
            items=items, total=total, has_more=offset + limit < total, offset=offset, limit=limit
        )

    pager = AsyncPager(fetch, page_size=page_size, offset=0, max_items=max_items)
    items = await pager.to_list()
    if max_items is not None:
        assert len(items) <= max_items
    if mode == "honest":
        expected = list(range(total))
        assert items == (expected if max_items is None else expected[:max_items])
    if mode in {"total_lies", "cycle2"}:
        assert len(items) <= total + page_size
    if mode in {"repeat", "ignore_offset"}:
        assert len(items) <= page_size


# -- rate-limit pacing is bounded ---------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0.001", "0", "-5", "1e308", "inf", "nan", "1", "garbage"])
async def test_pacing_never_waits_past_max_retry_after(
    limit: str, make_server: MakeServer, sleeps: SleepRecorder
) -> None:
    first = True

    async def limited(request: web.Request) -> web.Response:
        nonlocal first
        if first:
            first = False
            return web.json_response(
                {"error": {"code": "rate_limited", "message": "slow"}},
                status=429,
                headers={"Retry-After": "1", "X-RateLimit-Limit": limit},
            )
        return web.json_response({"id": "wf_1", "name": "w"})

    base_url = await serve(make_server, "GET", "/v1/workflows/{id}", limited)
    async with FloImg(API_KEY, base_url=base_url, max_retry_after=5, sleep=sleeps) as client:
        await client.workflows.get("wf_1")
        results = await asyncio.gather(*(client.workflows.get("wf_1") for _ in range(8)))
    assert len(results) == 8
    assert sleeps.delays, "the 429 was not honoured"
    assert max(sleeps.delays) <= 5, sleeps.delays


async def test_pacing_wait_past_the_deadline_raises_at_once(
    make_server: MakeServer, sleeps: SleepRecorder
) -> None:
    first = True

    async def limited(request: web.Request) -> web.Response:
        nonlocal first
        if first:
            first = False
            return web.json_response(
                {"error": {"code": "rate_limited", "message": "slow"}},
                status=429,
                headers={"Retry-After": "0", "X-RateLimit-Limit": "0.001"},
            )
        return web.json_response({"id": "wf_1", "name": "w"})

    base_url = await serve(make_server, "GET", "/v1/workflows/{id}", limited)
    async with FloImg(
        API_KEY, base_url=base_url, max_retry_after=30, deadline=2, sleep=sleeps
    ) as client:
        await client.workflows.get("wf_1")
        with pytest.raises(DeadlineExceededError):
            await asyncio.gather(*(client.workflows.get("wf_1") for _ in range(3)))
    assert all(delay <= 2 for delay in sleeps.delays), sleeps.delays


# -- uploads whose file changes size while being sent -------------------------------------------


@pytest.mark.parametrize("change", ["shrink", "grow", "empty"])
@pytest.mark.parametrize("source", ["path", "file"])
async def test_upload_of_a_file_changing_size_mid_send_fails_fast(
    change: str, source: str, make_server: MakeServer, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    path = tmp_path / "big.png"
    with path.open("wb") as f:
        f.truncate(64 * MiB)  # sparse: no real disk use
    requests = 0

    async def upload(request: web.Request) -> web.Response:
        nonlocal requests
        requests += 1
        # The client cannot have sent 64 MiB before the handler runs: change it now.
        with path.open("r+b") as f:
            if change == "grow":
                f.seek(0, 2)
                f.write(b"x" * MiB)
            else:
                f.truncate(MiB if change == "shrink" else 0)
        async for _ in request.content.iter_any():
            pass
        return web.json_response({"id": "img", "url": "http://127.0.0.1/x"})

    base_url = await serve(make_server, "POST", "/v1/storage/upload", upload)
    async with FloImg(
        API_KEY, base_url=base_url, max_retries=3, timeout=30, sleep=sleeps
    ) as client:
        with pytest.raises(LocalFileError) as info:
            if source == "path":
                await client.images.upload(path)
            else:
                with path.open("rb") as handle:
                    await client.images.upload(handle)
    assert "changed size" in str(info.value)
    assert info.value.path.endswith("big.png")
    assert requests == 1 and sleeps.delays == [], "not retried"


async def test_upload_from_an_async_iterable_is_not_size_checked(make_server: MakeServer) -> None:
    async def upload(request: web.Request) -> web.Response:
        return web.json_response({"id": "img", "url": "http://127.0.0.1/x", "size": 0})

    async def chunks() -> AsyncIterator[bytes]:
        yield b"a" * 10
        yield b"b" * 10

    base_url = await serve(make_server, "POST", "/v1/storage/upload", upload)
    async with FloImg(API_KEY, base_url=base_url) as client:
        image = await client.images.upload(chunks(), name="x.png")
    assert image.id == "img"
