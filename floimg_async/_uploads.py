"""Streaming multipart/form-data bodies for ``images.upload``.

A body is built once per call and re-opened for every attempt, so a retried
upload from a path, bytes or a seekable file sends the whole file again. An
async iterable (or an unseekable file) can be read only once: once its first
byte has gone out, the upload is not retried. Files are read in chunks off the
event loop and never held whole in memory.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from pathlib import Path
from typing import IO, Any

__all__ = ["CHUNK_SIZE", "UploadBody", "UploadSource"]

CHUNK_SIZE = 512 * 1024

UploadSource = (
    str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes]
)


def _quote(value: str) -> str:
    """Quote a Content-Disposition parameter the way browsers do (WHATWG form encoding)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class UploadBody:
    """One upload's multipart body; :meth:`open` gives a fresh byte stream per attempt.

    Raises ``TypeError`` for an unsupported source and ``ValueError`` for a
    path that does not exist or is not a regular file, before any request.
    """

    def __init__(
        self,
        source: UploadSource,
        *,
        name: str | None = None,
        project_id: str | None = None,
        content_type: str | None = None,
    ) -> None:
        self._path: Path | None = None
        self._data: bytes | None = None
        self._file: IO[bytes] | None = None
        self._file_start = 0
        self._aiter: AsyncIterable[bytes] | None = None
        size: int | None = None
        default_name: str | None = None

        if isinstance(source, str | os.PathLike):
            path = Path(source)
            if not path.exists():
                raise ValueError(f"upload file {str(path)!r} does not exist")
            if not path.is_file():
                raise ValueError(f"upload path {str(path)!r} is not a regular file")
            self._path = path
            size = path.stat().st_size
            default_name = path.name
            self.replayable = True
        elif isinstance(source, bytes | bytearray | memoryview):
            self._data = bytes(source)
            size = len(self._data)
            self.replayable = True
        elif hasattr(source, "read"):
            file: Any = source
            if isinstance(file, io.TextIOBase):
                raise TypeError("upload needs a binary file object (open it with 'rb')")
            self._file = file
            file_name = getattr(file, "name", None)
            if isinstance(file_name, str):
                default_name = os.path.basename(file_name)
            seekable = bool(getattr(file, "seekable", lambda: False)())
            self.replayable = seekable
            if seekable:
                self._file_start = file.tell()
                try:
                    size = os.fstat(file.fileno()).st_size - self._file_start
                except (AttributeError, OSError, io.UnsupportedOperation):
                    end = file.seek(0, io.SEEK_END)
                    file.seek(self._file_start)
                    size = end - self._file_start
        elif isinstance(source, AsyncIterable):
            self._aiter = source
            self.replayable = False
        else:
            raise TypeError(
                "upload file must be a path (str or os.PathLike), bytes, a binary file object "
                f"or an async iterable of bytes, got {type(source).__name__}"
            )

        self.filename = name or default_name or "upload"
        self.content_type = (
            content_type or mimetypes.guess_type(self.filename)[0] or "application/octet-stream"
        )
        self.started = False
        self.boundary = uuid.uuid4().hex
        fields: list[tuple[str, str]] = []
        if project_id is not None:
            fields.append(("projectId", project_id))
        if name is not None or default_name is not None:
            fields.append(("name", self.filename))
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
            for key, value in fields
        )
        head += (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{_quote(self.filename)}"\r\n'
            f"Content-Type: {self.content_type}\r\n\r\n"
        ).encode()
        self._head = head
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.length = None if size is None else len(head) + size + len(self._tail)

    @property
    def header(self) -> str:
        """The request's Content-Type header value."""
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def can_retry(self) -> bool:
        """Whether another attempt could send the whole body again."""
        return self.replayable or not self.started

    def open(self) -> AsyncGenerator[bytes, None]:
        """A fresh stream of the whole body for one attempt. ``aclose()`` it afterwards."""
        return self._stream()

    async def _stream(self) -> AsyncGenerator[bytes, None]:
        yield self._head
        if self._data is not None:
            self.started = True
            yield self._data
        elif self._path is not None:
            async for chunk in _read_file(self._path, None):
                self.started = True
                yield chunk
        elif self._file is not None:
            async for chunk in _read_file(
                self._file, self._file_start if self.replayable else None
            ):
                self.started = True
                yield chunk
        elif self._aiter is not None:
            async for chunk in self._aiter:
                if not isinstance(chunk, bytes | bytearray | memoryview):
                    raise TypeError(
                        f"upload async iterable must yield bytes, got {type(chunk).__name__}"
                    )
                self.started = True
                yield bytes(chunk)
        yield self._tail


async def _read_file(source: Path | IO[bytes], start: int | None) -> AsyncIterator[bytes]:
    """Read a path or file object in chunks on the default executor."""
    loop = asyncio.get_running_loop()
    own = isinstance(source, Path)
    if isinstance(source, Path):
        file: IO[bytes] = await loop.run_in_executor(None, _open_binary, source)
    else:
        file = source
    try:
        if start is not None:
            await loop.run_in_executor(None, file.seek, start)
        while True:
            chunk = await loop.run_in_executor(None, file.read, CHUNK_SIZE)
            if not chunk:
                return
            yield chunk
    finally:
        if own:
            file.close()


def _open_binary(path: Path) -> IO[bytes]:
    return path.open("rb")
