"""Handlers of ``/v1/storage…`` and the public ``/files/{name}`` image URLs."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from ._idempotency import Claim
from ._middleware import account_of, require
from ._params import parse_paging
from ._records import CONTENT_TYPES, EXTENSIONS, ImageRecord
from ._routes_api import idempotent
from ._state import STATE_KEY
from ._uploads import read_upload, sniff_image
from ._util import ApiResult, envelope, invalid, json_response, new_id, not_found, now

routes = web.RouteTableDef()
_FILE_NAME = re.compile(r"^(img_[0-9a-f]{24})\.(png|jpg|webp|gif)$")
_FORMAT_BY_EXT = {ext: fmt for fmt, ext in EXTENSIONS.items()}


@routes.post("/v1/storage/upload")
async def upload(request: web.Request) -> web.Response:
    """Store an uploaded image (201); the file is streamed to disk, checked by its content."""
    require(request, "storage:write")
    state = request.app[STATE_KEY]
    store = state.store
    parsed = await read_upload(request, store.tmp_dir, state.config.max_upload_bytes)
    account = account_of(request)
    try:
        project_id = parsed.fields.get("projectId") or None

        async def work(claim: Claim | None) -> ApiResult:
            fmt, width, height = await asyncio.to_thread(sniff_image, parsed.path)
            if project_id is not None and await store.get_project(account, project_id) is None:
                raise invalid(
                    f"Project {project_id} doesn't exist", field="projectId", reason="not_found"
                )
            image_id = new_id("img")
            name = parsed.fields.get("name") or parsed.filename or f"{image_id}.{EXTENSIONS[fmt]}"
            image = ImageRecord(
                id=image_id,
                account=account,
                name=name,
                project_id=project_id,
                size=parsed.size,
                format=fmt,
                width=width,
                height=height,
                created_at=now(),
                source="upload",
            )
            result = ApiResult(201, image.to_api(state.origin_for(request)))
            await store.add_image(image, parsed.path, claim.answer(result) if claim else None)
            return result

        return await idempotent(request, parsed.fingerprint(), work)
    finally:
        await asyncio.to_thread(parsed.path.unlink, True)  # gone already when it was stored


@routes.get("/v1/storage/images")
async def list_images(request: web.Request) -> web.Response:
    """List the account's images (uploads and execution outputs), oldest first."""
    require(request, "storage:read")
    limit, offset = parse_paging(request.query)
    state = request.app[STATE_KEY]
    project_id = request.query.get("projectId") or None
    images, total = await state.store.list_images(account_of(request), project_id, limit, offset)
    origin = state.origin_for(request)
    body = {
        "images": [i.to_api(origin) for i in images],
        "total": total,
        "hasMore": offset + len(images) < total,
    }
    return json_response(body)


@routes.get("/v1/storage/images/{imageId}")
async def get_image(request: web.Request) -> web.Response:
    """Return one image's metadata."""
    require(request, "storage:read")
    state = request.app[STATE_KEY]
    image_id = request.match_info["imageId"]
    image = await state.store.get_image(account_of(request), image_id)
    if image is None:
        raise not_found("Image", image_id)
    return json_response(image.to_api(state.origin_for(request)))


@routes.delete("/v1/storage/images/{imageId}")
async def delete_image(request: web.Request) -> web.Response:
    """Delete an image and its file; answer ``{"deleted": true}``."""
    require(request, "storage:write")
    image_id = request.match_info["imageId"]
    if not await request.app[STATE_KEY].store.delete_image(account_of(request), image_id):
        raise not_found("Image", image_id)
    return json_response({"deleted": True})


@routes.get("/files/{name}")
async def serve_file(request: web.Request) -> web.StreamResponse:
    """Serve a stored image from disk, without auth, like a public storage URL."""
    match = _FILE_NAME.match(request.match_info["name"])
    path = request.app[STATE_KEY].store.images_dir / request.match_info["name"]
    if match is None or not await asyncio.to_thread(path.is_file):
        return json_response(envelope("not_found", "No such file"), 404)
    content_type = CONTENT_TYPES[_FORMAT_BY_EXT[match.group(2)]]
    headers = {"Content-Type": content_type, "Cache-Control": "public, max-age=86400"}
    return web.FileResponse(path, headers=headers)
