"""``client.images``: the API's ``/storage`` endpoints, plus streamed downloads."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import overload
from urllib.parse import unquote, urljoin, urlsplit

import aiohttp

from .._models import ExecutionOutput, Image
from .._pagination import AsyncPager
from .._request import (
    Request,
    origin_of,
    path,
    segment,
)
from .._uploads import CHUNK_SIZE, UploadBody, UploadSource
from ._base import Resource

__all__ = ["Images"]


class Images(Resource):
    """Stored images (``/storage``): upload, list, get, delete, download."""

    async def upload(
        self,
        file: UploadSource,
        *,
        name: str | None = None,
        project_id: str | None = None,
        content_type: str | None = None,
        idempotency_key: str | None = None,
    ) -> Image:
        """Upload an image, streamed from a path, bytes, a binary file or an async iterable.

        ``name`` defaults to the file's name where there is one. The file is
        read in chunks, never whole. A retried upload resends the whole body
        when the source can be re-read; an async iterable (or unseekable file)
        is not retried once its first byte was sent. Raises ``ValueError`` for
        a path that does not exist or is a directory, before any request.
        """
        if project_id is not None:
            segment(project_id, "project_id")
        body = UploadBody(file, name=name, project_id=project_id, content_type=content_type)
        request = Request(
            "POST",
            path("storage", "upload"),
            what="images.upload",
            upload=body,
            idempotency_key=idempotency_key,
        )
        return await self._call(request, Image)

    def list(
        self,
        *,
        project_id: str | None = None,
        page_size: int = 20,
        offset: int = 0,
        max_items: int | None = None,
        prefetch: bool = False,
    ) -> AsyncPager[Image]:
        """Iterate over stored images (one request per page, made lazily).

        ``prefetch=True`` requests each next page while you work on the current one.
        """
        return self._pager(
            "/storage/images",
            "images",
            Image,
            what="images.list",
            project_id=project_id,
            page_size=page_size,
            offset=offset,
            max_items=max_items,
            prefetch=prefetch,
        )

    async def get(self, image_id: str) -> Image:
        """Fetch one image's details (one request)."""
        request = Request(
            "GET", path("storage", "images", segment(image_id, "image_id")), what="images.get"
        )
        return await self._call(request, Image)

    async def delete(self, image_id: str) -> bool:
        """Delete an image; returns the API's ``deleted`` flag (one request)."""
        request = Request(
            "DELETE", path("storage", "images", segment(image_id, "image_id")), what="images.delete"
        )
        data = await self._call_json(request)
        return bool(data.get("deleted", True)) if isinstance(data, dict) else True

    @overload
    async def download(self, image: Image | ExecutionOutput | str, dest: None = None) -> bytes: ...

    @overload
    async def download(
        self, image: Image | ExecutionOutput | str, dest: str | os.PathLike[str]
    ) -> Path: ...

    async def download(
        self, image: Image | ExecutionOutput | str, dest: str | os.PathLike[str] | None = None
    ) -> bytes | Path:
        """Fetch an image's bytes, or stream them to ``dest`` and return that path.

        ``image`` is an :class:`Image`, an :class:`ExecutionOutput` or a URL (a
        relative URL is resolved against the API's origin). The API key is sent
        only when the URL is on the API's own origin. With ``dest`` the file is
        written to a temporary name beside it and renamed when complete, so a
        failed or cancelled download leaves no partial file. An existing
        directory as ``dest`` receives the file under the URL's file name.
        """
        url = _url_of(image)
        sender = self._sender
        absolute = urljoin(sender.base_url + "/", url)
        if urlsplit(absolute).scheme not in {"http", "https"}:
            raise ValueError(f"cannot download {url!r}: only http(s) URLs are supported")
        same_origin = origin_of(absolute) == origin_of(sender.base_url)
        request = Request("GET", absolute, what="images.download", authenticated=same_origin)
        if dest is None:
            response = await sender.send(request)
            return response.body
        target = _target_path(Path(dest), absolute)

        async def save(resp: aiohttp.ClientResponse) -> Path:
            await _stream_to(resp, target)
            return target

        return await sender.send_with(request, save)


def _url_of(image: Image | ExecutionOutput | str) -> str:
    if isinstance(image, str):
        url: str | None = image
    elif isinstance(image, Image | ExecutionOutput):
        url = image.url
    else:
        raise TypeError(
            f"download needs an Image, an ExecutionOutput or a URL, got {type(image).__name__}"
        )
    if not url:
        raise ValueError(f"{image!r} has no URL to download")
    return url


def _target_path(dest: Path, url: str) -> Path:
    if dest.is_dir():
        name = Path(unquote(urlsplit(url).path)).name
        if name in {"", ".", ".."}:
            raise ValueError(f"cannot name a file after {url!r}; give dest as a file path")
        return dest / name
    if not dest.parent.is_dir():
        raise ValueError(f"cannot download to {str(dest)!r}: its folder does not exist")
    return dest


async def _stream_to(resp: aiohttp.ClientResponse, target: Path) -> None:
    """Write the body to a temporary file beside ``target``, then rename it into place."""
    loop = asyncio.get_running_loop()
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    # Opened here, not in a worker thread: one syscall, and a cancellation can then
    # never land between the file's creation and the cleanup that removes it.
    handle = partial.open("wb")
    try:
        async for chunk in resp.content.iter_chunked(CHUNK_SIZE):
            await loop.run_in_executor(None, handle.write, chunk)
        await loop.run_in_executor(None, handle.close)
        await loop.run_in_executor(None, os.replace, partial, target)
    except BaseException:
        handle.close()
        partial.unlink(missing_ok=True)
        raise
