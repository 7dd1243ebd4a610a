"""Uploads: judged by content, size-limited while streaming, chunked or not."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest


def multipart(fields: dict[str, str], file: bytes, filename: str) -> tuple[bytes, str]:
    """Encode a multipart/form-data body by hand; return (body, content type)."""
    boundary = uuid.uuid4().hex
    out = b""
    for name, value in fields.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    out += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    out += file + f"\r\n--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    ("fmt", "name", "api_format"),
    [("PNG", "a.png", "png"), ("JPEG", "b.jpg", "jpeg"), ("WEBP", "c.webp", "webp"),
     ("GIF", "d.gif", "gif")],
)  # fmt: skip
async def test_upload_reads_format_and_size_from_content(api, make_image, fmt, name, api_format):
    data = make_image(123, 45, fmt)
    reply = await api.upload(data, filename="misleading.txt", name=name)
    assert reply.status == 201
    body = reply.body
    assert body["id"].startswith("img_") and body["name"] == name
    assert (body["format"], body["width"], body["height"]) == (api_format, 123, 45)
    assert body["size"] == len(data) and body["createdAt"].endswith("Z")
    file = await api.get(body["url"], key=None)
    assert file.raw == data


async def test_name_defaults_to_filename(api, make_image) -> None:
    reply = await api.upload(make_image(), filename="hero-image.png")
    assert reply.body["name"] == "hero-image.png" and reply.body["projectId"] is None


async def test_upload_into_a_project(api, make_image) -> None:
    project = (await api.post("/projects", json={"name": "P"})).body
    reply = await api.upload(make_image(), project_id=project["id"])
    assert reply.status == 201 and reply.body["projectId"] == project["id"]
    missing = await api.upload(make_image(), project_id="proj_missing")
    assert missing.status == 400
    assert missing.error["details"] == {"field": "projectId", "reason": "not_found"}


@pytest.mark.parametrize(
    "data", [b"hello, not an image", b"\x89PNG\r\n\x1a\n truncated", b"", b"<svg></svg>"]
)
async def test_non_images_are_400(api, data) -> None:
    reply = await api.upload(data, filename="x.png")
    assert reply.status == 400
    assert reply.error["code"] == "invalid_request"
    assert reply.error["details"]["field"] == "file"
    assert await api.emu.count_images() == 0


async def test_unsupported_image_format_is_400(api, make_image) -> None:
    reply = await api.upload(make_image(8, 8, "BMP"), filename="x.bmp")
    assert reply.status == 400 and reply.error["details"]["reason"] == "not_an_image"


async def test_missing_file_part_and_non_multipart(api) -> None:
    form_without_file = await api.post("/storage/upload", data={"name": "x"})
    assert form_without_file.status == 400
    assert form_without_file.error["details"]["field"] == "file"
    as_json = await api.post("/storage/upload", json={"file": "abc"})
    assert as_json.status == 400


async def test_chunked_upload(api, make_image) -> None:
    data = make_image(300, 200)
    body, content_type = multipart({"name": "streamed.png"}, data, "s.png")

    async def chunks():
        for i in range(0, len(body), 1000):
            yield body[i : i + 1000]

    reply = await api.post("/storage/upload", data=chunks(), headers={"Content-Type": content_type})
    assert reply.status == 201, reply.raw
    assert (reply.body["width"], reply.body["height"], reply.body["size"]) == (300, 200, len(data))
    assert reply.body["name"] == "streamed.png"


async def test_over_limit_is_rejected(floimg_emulator_factory, api_for, make_image) -> None:
    api = api_for(await floimg_emulator_factory(max_upload_bytes=10_000))
    small = await api.upload(make_image(10, 10))
    assert small.status == 201
    big = await api.upload(b"\x89PNG" + bytes(20_000), filename="big.png")
    assert big.status == 400
    assert big.error["code"] == "invalid_request"
    assert big.error["details"]["reason"] == "too_large"
    assert await api.emu.count_images() == 1
    assert list((api.emu.data_dir / "tmp").iterdir()) == []  # the partial file is gone


async def test_over_limit_is_rejected_before_the_body_ends(
    floimg_emulator_factory, api_for
) -> None:
    """The server answers while the client still holds back the rest: nothing is buffered."""
    api = api_for(await floimg_emulator_factory(max_upload_bytes=1_000_000))
    head, content_type = multipart({}, b"", "huge.png")
    head = head[: head.rindex(b"\r\n--")]  # keep the part open
    never = asyncio.Event()

    async def endless():
        yield head
        for _ in range(8):  # 2 MB, past the limit
            yield bytes(256 * 1024)
        await asyncio.wait_for(never.wait(), timeout=5)  # the rest never comes
        yield b""

    began = time.monotonic()
    reply = await api.post(
        "/storage/upload", data=endless(), headers={"Content-Type": content_type}
    )
    assert reply.status == 400 and reply.error["details"]["reason"] == "too_large"
    assert time.monotonic() - began < 4
