"""Uploads and downloads over real sockets: streaming, fields, origins, partial files."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest
from _support import API_KEY, LocalServer
from aiohttp import web

from floimg_async import APIConnectionError, FloImg, Image, NotFoundError


class UploadServer:
    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []

    async def upload(self, request: web.Request) -> web.Response:
        reader = await request.multipart()
        fields: dict[str, object] = {
            "content_length": request.content_length,
            "chunked": request.headers.get("Transfer-Encoding") == "chunked",
            "key": request.headers.get("Idempotency-Key"),
        }
        while (part := await reader.next()) is not None:
            if part.name == "file":
                digest = hashlib.sha256()
                size = 0
                while chunk := await part.read_chunk(256 * 1024):
                    digest.update(chunk)
                    size += len(chunk)
                fields.update(
                    file_size=size,
                    sha=digest.hexdigest(),
                    filename=part.filename,
                    content_type=part.headers.get("Content-Type"),
                )
            else:
                fields[part.name or ""] = (await part.read()).decode()
        self.received.append(fields)
        return web.json_response(
            {
                "id": "img_1",
                "url": "/files/img_1.png",
                "name": fields.get("name"),
                "size": fields.get("file_size"),
                "format": "png",
            }
        )


async def upload_server(make_server) -> tuple[LocalServer, UploadServer]:
    handler = UploadServer()
    server = await make_server()
    server.route("POST", "/v1/storage/upload", handler.upload)
    await server.start()
    return server, handler


async def test_upload_streams_a_multi_megabyte_file_from_a_path(
    make_server, tmp_path: Path
) -> None:
    server, handler = await upload_server(make_server)
    data = os.urandom(6 * 1024 * 1024 + 123)
    path = tmp_path / "hero image.png"
    path.write_bytes(data)
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        image = await client.images.upload(path, project_id="proj_1")
    (got,) = handler.received
    assert got["file_size"] == len(data)
    assert got["sha"] == hashlib.sha256(data).hexdigest()
    assert got["filename"] == "hero image.png" and got["name"] == "hero image.png"
    assert got["projectId"] == "proj_1"
    assert got["content_type"] == "image/png"
    assert got["content_length"] is not None and not got["chunked"]
    assert got["key"]
    assert isinstance(image, Image) and image.size == len(data)


async def test_upload_from_bytes_file_object_and_async_iterable(
    make_server, tmp_path: Path
) -> None:
    server, handler = await upload_server(make_server)
    data = os.urandom(300_000)
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)

    async def chunks():
        for start in range(0, len(data), 65536):
            yield data[start : start + 65536]

    async with FloImg(API_KEY, base_url=server.base_url) as client:
        await client.images.upload(data, name="raw.webp")
        with path.open("rb") as handle:
            await client.images.upload(handle)
        await client.images.upload(chunks(), name="streamed.png", content_type="image/png")
    as_bytes, as_file, as_stream = handler.received
    digest = hashlib.sha256(data).hexdigest()
    assert [r["sha"] for r in handler.received] == [digest] * 3
    assert as_bytes["filename"] == "raw.webp" and as_bytes["content_type"] == "image/webp"
    assert as_file["filename"] == "photo.jpg" and as_file["content_type"] == "image/jpeg"
    assert as_stream["chunked"] and as_stream["content_type"] == "image/png"


async def test_a_retried_upload_sends_the_whole_file_again(make_server, tmp_path: Path) -> None:
    server = await make_server()
    handler = UploadServer()
    attempts = 0

    async def flaky(request: web.Request) -> web.Response:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            await request.content.read(1000)  # read a little, then fail
            return web.json_response(
                {"error": {"code": "server_error", "message": "x"}}, status=503
            )
        return await handler.upload(request)

    server.route("POST", "/v1/storage/upload", flaky)
    await server.start()
    data = os.urandom(2 * 1024 * 1024)
    path = tmp_path / "a.png"
    path.write_bytes(data)

    async def no_wait(_: float) -> None:
        return None

    async with FloImg(API_KEY, base_url=server.base_url, sleep=no_wait) as client:
        await client.images.upload(path)
    assert attempts == 2
    assert handler.received[0]["file_size"] == len(data)


async def files_server(make_server, payload: bytes) -> tuple[LocalServer, list[dict[str, str]]]:
    seen: list[dict[str, str]] = []
    server = await make_server()

    async def serve(request: web.Request) -> web.StreamResponse:
        seen.append(dict(request.headers))
        if request.match_info["name"] == "missing.png":
            return web.Response(status=404, text="<h1>Not Found</h1>", content_type="text/html")
        return web.Response(body=payload, content_type="image/png")

    server.route("GET", "/files/{name}", serve)
    server.route("GET", "/v1/files/{name}", serve)
    await server.start()
    return server, seen


async def test_download_to_a_path_and_to_memory(make_server, tmp_path: Path) -> None:
    payload = os.urandom(3 * 1024 * 1024)
    server, _ = await files_server(make_server, payload)
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        image = Image(id="img_1", url=f"{server.origin}/files/out.png")
        target = await client.images.download(image, tmp_path / "saved.png")
        in_memory = await client.images.download(f"{server.origin}/files/out.png")
        into_dir = await client.images.download("/files/named.png", tmp_path)
    assert target == tmp_path / "saved.png" and target.read_bytes() == payload
    assert in_memory == payload
    assert into_dir == tmp_path / "named.png" and into_dir.read_bytes() == payload
    assert sorted(p.name for p in tmp_path.iterdir()) == ["named.png", "saved.png"]


async def test_a_failed_download_leaves_no_file(make_server, tmp_path: Path) -> None:
    server, _ = await files_server(make_server, b"x")
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        with pytest.raises(NotFoundError):
            await client.images.download(f"{server.origin}/files/missing.png", tmp_path / "a.png")
    assert list(tmp_path.iterdir()) == []


async def test_the_key_goes_only_to_the_api_origin(make_server) -> None:
    api, api_seen = await files_server(make_server, b"api")
    other, other_seen = await files_server(make_server, b"other")
    async with FloImg(API_KEY, base_url=api.base_url) as client:
        await client.images.download(f"{api.origin}/files/a.png")
        await client.images.download(f"{other.origin}/files/b.png")
    assert api_seen[0]["Authorization"] == f"Bearer {API_KEY}"
    assert "Authorization" not in other_seen[0]
    assert other_seen[0]["User-Agent"].startswith("floimg-async/")


async def test_refused_connection_is_an_api_connection_error() -> None:
    import socket

    with socket.socket() as sock:  # find a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def no_wait(_: float) -> None:
        return None

    async with FloImg(API_KEY, base_url=f"http://127.0.0.1:{port}/v1", sleep=no_wait) as client:
        with pytest.raises(APIConnectionError, match="could not connect"):
            await client.workflows.get("wf")
    await asyncio.sleep(0)


@pytest.mark.parametrize("external", [False, True], ids=["own-session", "shared-session"])
async def test_every_request_carries_auth_user_agent_and_accept(
    make_server, external: bool
) -> None:
    import re

    import aiohttp

    import floimg_async

    seen: list[dict[str, str]] = []
    server = await make_server()

    async def workflow(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"id": "wf_1"})

    server.route("GET", "/v1/workflows/{id}", workflow)
    server.route("POST", "/v1/projects", workflow)
    await server.start()
    async with aiohttp.ClientSession() as shared:
        session = shared if external else None
        async with FloImg(API_KEY, base_url=server.base_url, session=session) as client:
            await client.workflows.get("wf_1")
            await client.projects.create("p")
    for headers in seen:
        assert headers["Authorization"] == f"Bearer {API_KEY}"
        assert headers["Accept"] == "application/json"
        assert re.fullmatch(r"floimg-async/\S+ aiohttp/\S+ Python/\S+", headers["User-Agent"])
        assert floimg_async.__version__ in headers["User-Agent"]
    assert "Idempotency-Key" not in seen[0] and seen[1]["Idempotency-Key"]
    # A session the caller shares keeps its own defaults: we never touch them.
    assert not shared.headers
