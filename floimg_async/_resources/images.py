"""``client.images``: the API's ``/storage`` endpoints, plus streamed downloads."""

from __future__ import annotations

import asyncio
import os
import unicodedata
import uuid
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import aiohttp

from .._convert import load_json
from .._errors import (
    LocalFileError,
    ResponseDecodeError,
    ResponseTooLargeError,
    error_for_status,
    excerpt,
)
from .._models import ExecutionOutput, Image
from .._pagination import AsyncPager
from .._redact import mask_userinfo
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
        """Delete an image; return whether the API says it was deleted (one request).

        A 204 or an empty body counts as deleted. ``{"deleted": false}`` (or
        ``"false"``) returns False. A 2xx body that carries an error envelope
        raises that error; any other body raises :class:`ResponseDecodeError`.
        """
        request = Request(
            "DELETE", path("storage", "images", segment(image_id, "image_id")), what="images.delete"
        )
        return await self._sender.send_decoded(request, _deleted)

    async def download(
        self, image: Image | ExecutionOutput | str, dest: str | os.PathLike[str] | None = None
    ) -> bytes | Path:
        """Fetch an image's bytes, or stream them to ``dest`` and return that path.

        ``image`` is an :class:`Image`, an :class:`ExecutionOutput` or a URL (a
        relative URL is resolved against the API's origin). The API key is sent
        only when the URL is on the API's own origin. With ``dest`` the file is
        written to a temporary name beside it and renamed when complete, so a
        failed or cancelled download leaves no partial file. An existing
        directory as ``dest``, or a ``dest`` ending in a path separator (created
        when missing), receives the file under the URL's file name. A body over
        ``max_download_bytes`` raises :class:`ResponseTooLargeError`; a local
        file that cannot be written raises :class:`LocalFileError` (never
        retried). One request, plus retries.
        """
        url = _url_of(image)
        sender = self._sender
        absolute = urljoin(sender.base_url + "/", url)
        parts = urlsplit(absolute)
        if parts.scheme not in {"http", "https"}:
            raise ValueError(
                f"cannot download {mask_userinfo(url)!r}: only http(s) URLs are supported"
            )
        same_origin = origin_of(absolute) == origin_of(sender.base_url)
        if same_origin and (parts.username is not None or parts.password is not None):
            # The API key is the credential on the API's origin; aiohttp cannot send both.
            raise ValueError(
                f"cannot download {mask_userinfo(url)!r}: a URL on the API's origin must not "
                "carry a user name or password"
            )
        request = Request("GET", absolute, what="images.download", authenticated=same_origin)
        limit = sender.max_download_bytes
        if dest is None:
            response = await sender.send(request, limit=limit)
            return response.body
        target = _target_path(dest, absolute)

        async def save(resp: aiohttp.ClientResponse) -> Path:
            await _stream_to(resp, target, limit)
            return target

        return await sender.send_with(request, save)


def _deleted(body: bytes, status: int) -> bool:
    """Read a delete's answer: True/False from ``deleted``, True for an empty body."""
    if status == 204 or not body.strip():
        return True
    data = load_json(body, what="images.delete", status=status)
    if isinstance(data, dict):
        if "error" in data:
            raise error_for_status(status, {}, body)
        flag = data.get("deleted", True)
        if isinstance(flag, bool):
            return flag
        if isinstance(flag, str) and flag.strip().lower() in {"true", "false"}:
            return flag.strip().lower() == "true"
        raise ResponseDecodeError(
            f"the API's images.delete response has a 'deleted' that is not true or false: {flag!r}",
            status=status,
            body_excerpt=excerpt(body),
        )
    raise ResponseDecodeError(
        "the API's images.delete response is not a JSON object",
        status=status,
        body_excerpt=excerpt(body),
    )


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


def _target_path(dest: str | os.PathLike[str], url: str) -> Path:
    """Where a download goes: ``dest`` itself, or inside it when it is a folder."""
    raw = os.fspath(dest)
    if not isinstance(raw, str):
        raise TypeError(f"dest must be a str or os.PathLike[str] path, got {type(raw).__name__}")
    if "\0" in raw:
        raise ValueError(f"cannot download to {raw!r}: the path contains a NUL character")
    seps = (os.sep, os.altsep) if os.altsep else (os.sep,)
    folder = Path(raw)
    try:
        if raw.endswith(seps):
            # "images/" names a folder even when it does not exist yet.
            folder.mkdir(parents=True, exist_ok=True)
        elif not folder.is_dir():
            if not folder.parent.is_dir():
                raise ValueError(f"cannot download to {raw!r}: its folder does not exist")
            return folder
    except OSError as exc:  # a name too long, a file where a folder should be, …
        raise LocalFileError(
            f"cannot download to {raw!r}: {exc.strerror or exc}; not retried", path=raw
        ) from exc
    name = Path(unquote(urlsplit(url).path)).name
    if name in {"", ".", ".."} or any(unicodedata.category(ch) == "Cc" for ch in name):
        raise ValueError(
            f"cannot name a file after {mask_userinfo(url)!r}; give dest as a file path"
        )
    return folder / name


def _partial_name(target: Path) -> Path:
    """A hidden temporary name beside ``target``, short enough for any file system."""
    stem = target.name
    # Names are limited to 255 bytes: keep room for the dot, the random tag and .part.
    while len(stem.encode()) > 200:
        stem = stem[:-1]
    return target.with_name(f".{stem}.{uuid.uuid4().hex[:8]}.part")


async def _stream_to(resp: aiohttp.ClientResponse, target: Path, limit: int | None) -> None:
    """Write the body to a temporary file beside ``target``, then rename it into place.

    Local file errors become LocalFileError (not retried: the server is not at
    fault); errors reading the response stay connection errors (retried).
    """
    loop = asyncio.get_running_loop()
    partial = _partial_name(target)
    # Opened here, not in a worker thread: one syscall, and a cancellation can then
    # never land between the file's creation and the cleanup that removes it.
    try:
        handle = partial.open("wb")
    except OSError as exc:
        raise _file_error(target, exc) from exc
    try:
        size = 0
        async for chunk in resp.content.iter_chunked(CHUNK_SIZE):
            size += len(chunk)
            if limit is not None and size > limit:
                raise ResponseTooLargeError(
                    f"the download is larger than max_download_bytes={limit}; raise it with "
                    "FloImg(max_download_bytes=...) (None: no limit)",
                    status=resp.status,
                    limit=limit,
                )
            try:
                await loop.run_in_executor(None, handle.write, chunk)
            except OSError as exc:
                raise _file_error(target, exc) from exc
        try:
            await loop.run_in_executor(None, handle.close)
            await loop.run_in_executor(None, os.replace, partial, target)
        except OSError as exc:
            raise _file_error(target, exc) from exc
    except BaseException:
        handle.close()
        partial.unlink(missing_ok=True)
        raise


def _file_error(target: Path, exc: OSError) -> LocalFileError:
    reason = exc.strerror or str(exc)
    if isinstance(exc, IsADirectoryError) or target.is_dir():
        reason = f"{reason} (a folder of that name is in the way)"
    return LocalFileError(
        f"cannot write the download to {str(target)!r}: {reason}; not retried",
        path=str(target),
    )
