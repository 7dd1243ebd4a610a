"""``client.images``: the API's ``/storage`` endpoints, plus streamed downloads."""

from __future__ import annotations

import asyncio
import os
import stat
import unicodedata
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import overload
from urllib.parse import unquote, urlsplit

from .._convert import load_json
from .._errors import (
    LocalFileError,
    ResponseDecodeError,
    error_for_status,
    excerpt,
)
from .._models import ExecutionOutput, Image
from .._pagination import AsyncPager
from .._redact import mask_userinfo
from .._request import Request, download_request, path, segment
from .._sender import read_all, too_large
from .._uploads import CHUNK_SIZE, Progress, UploadBody, UploadSource
from ..transports import TransportResponse
from ._base import Resource, decoder

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
        on_progress: Progress | None = None,
    ) -> Image:
        """Upload an image, streamed from a path, bytes, a binary file or an async iterable.

        ``name`` defaults to the file's name where there is one. The file is
        read in chunks, never whole. A retried upload resends the whole body
        when the source can be re-read; an async iterable (or unseekable file)
        is not retried once its first byte was sent. ``on_progress(bytes_done,
        bytes_total)`` is called as the file's bytes go out (``bytes_total`` is
        None when the size is unknown; a retry starts again from 0). Raises
        ``ValueError`` for a path that does not exist or is a directory, or a
        name or content type with control characters, before any request; and
        :class:`LocalFileError` when the file changes size while it is sent.
        One request, plus retries.
        """
        if project_id is not None:
            segment(project_id, "project_id")
        if on_progress is not None and not callable(on_progress):
            raise TypeError("on_progress must be a callable taking (bytes_done, bytes_total)")
        body = UploadBody(file, name=name, project_id=project_id, content_type=content_type)
        request = Request(
            "POST",
            path("storage", "upload"),
            what="images.upload",
            upload=body,
            idempotency_key=idempotency_key,
        )
        if on_progress is None:
            return await self._call(request, Image)
        decode = decoder(Image, request.what)
        limit = self._sender.max_response_bytes

        async def read(response: TransportResponse) -> Image:
            return decode(await read_all(response, limit, "max_response_bytes"), response.status)

        return await self._sender.streamed(request, read, on_progress=on_progress)

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
        return await self._sender.decoded(request, _deleted)

    @overload
    async def download(
        self,
        image: Image | ExecutionOutput | str,
        dest: None = None,
        *,
        on_progress: Progress | None = None,
    ) -> bytes: ...

    @overload
    async def download(
        self,
        image: Image | ExecutionOutput | str,
        dest: str | os.PathLike[str],
        *,
        on_progress: Progress | None = None,
    ) -> Path: ...

    async def download(
        self,
        image: Image | ExecutionOutput | str,
        dest: str | os.PathLike[str] | None = None,
        *,
        on_progress: Progress | None = None,
    ) -> bytes | Path:
        """Fetch an image's bytes, or stream them to ``dest`` and return that path.

        ``image`` is an :class:`Image`, an :class:`ExecutionOutput` or a URL (a
        relative URL is resolved against the API's origin). The API key is sent
        only when the URL is on the API's own origin. With ``dest`` the file is
        written to a temporary name beside it and renamed when complete, so a
        failed or cancelled download leaves no partial file. An existing
        directory as ``dest``, or a ``dest`` ending in a path separator (created
        when missing), receives the file under the URL's file name.
        ``on_progress(bytes_done, bytes_total)`` is called as bytes arrive
        (``bytes_total`` from ``Content-Length``, or None; a retry starts again
        from 0). A body over ``max_download_bytes`` raises
        :class:`ResponseTooLargeError`; a local file that cannot be written
        raises :class:`LocalFileError` (never retried). One request, plus retries.
        """
        if on_progress is not None and not callable(on_progress):
            raise TypeError("on_progress must be a callable taking (bytes_done, bytes_total)")
        sender = self._sender
        request = download_request(_url_of(image), sender.base_url)
        limit = sender.max_download_bytes
        if dest is None:
            if on_progress is None:
                return await sender.decoded(request, _raw_body, download=True)

            async def collect(response: TransportResponse) -> bytes:
                chunks = [c async for c in _counted(response, limit, on_progress)]
                return b"".join(chunks)

            return await sender.streamed(request, collect)
        target = _target_path(dest, request.path)

        async def save(response: TransportResponse) -> Path:
            await _stream_to(_counted(response, limit, on_progress), target)
            return target

        return await sender.streamed(request, save)


def _raw_body(body: bytes, status: int) -> bytes:
    return body


async def _counted(
    response: TransportResponse, limit: int | None, on_progress: Progress | None
) -> AsyncIterator[bytes]:
    """The body's chunks, stopped at ``limit`` bytes, reported to ``on_progress``."""
    total = response.content_length
    done = 0
    async for chunk in response.iter_chunks(CHUNK_SIZE):
        done += len(chunk)
        if limit is not None and done > limit:
            raise too_large(response.status, limit, "max_download_bytes")
        if on_progress is not None:
            on_progress(done, total)
        yield chunk


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
            return _not_special(folder)
    except OSError as exc:  # a name too long, a file where a folder should be, …
        raise LocalFileError(
            f"cannot download to {raw!r}: {exc.strerror or exc}; not retried", path=raw
        ) from exc
    name = Path(unquote(urlsplit(url).path)).name
    if name in {"", ".", ".."} or any(unicodedata.category(ch) == "Cc" for ch in name):
        raise ValueError(
            f"cannot name a file after {mask_userinfo(url)!r}; give dest as a file path"
        )
    return _not_special(folder / name)


_SPECIAL = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
}


def _not_special(target: Path) -> Path:
    """``target``, unless a device, pipe or socket sits there (the rename would replace it)."""
    try:
        kind = _SPECIAL.get(stat.S_IFMT(os.lstat(target).st_mode))
    except OSError:  # nothing there yet (or unreadable: the write will say so)
        return target
    if kind is not None:
        raise ValueError(
            f"cannot download to {str(target)!r}: it is {kind}, which the download would "
            "replace with a regular file; give the path of a regular file or a folder"
        )
    return target


def _partial_name(target: Path) -> Path:
    """A hidden temporary name beside ``target``, short enough for any file system."""
    stem = target.name
    # Names are limited to 255 bytes: keep room for the dot, the random tag and .part.
    while len(stem.encode()) > 200:
        stem = stem[:-1]
    return target.with_name(f".{stem}.{uuid.uuid4().hex[:8]}.part")


async def _stream_to(chunks: AsyncIterator[bytes], target: Path) -> None:
    """Write ``chunks`` to a temporary file beside ``target``, then rename it into place.

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
        async for chunk in chunks:
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
