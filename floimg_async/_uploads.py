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
import re
import threading
import unicodedata
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any

from ._errors import LocalFileError

__all__ = ["CHUNK_SIZE", "BodyStream", "Progress", "UploadBody", "UploadSource"]

CHUNK_SIZE = 512 * 1024

Progress = Callable[[int, "int | None"], object]
"""``on_progress(bytes_done, bytes_total)``: bytes_total is None when the size is unknown."""

UploadSource = (
    str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes]
)


# Control (Cc), format (Cf: zero-width, bidi overrides), surrogate and line or
# paragraph separator characters: none belongs in a header or a file name.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+/[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*;[ -~]*)?")


def check_header_text(value: object, what: str) -> str:
    """Refuse a name with control characters (CR/LF could forge multipart headers)."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, got {type(value).__name__}")
    bad = next((ch for ch in value if unicodedata.category(ch) in _FORBIDDEN_CATEGORIES), None)
    if bad is not None:
        raise ValueError(
            f"{what} {value!r} contains the control character U+{ord(bad):04X}; control "
            "characters (CR, LF, NUL, zero-width and the like) are not allowed in upload "
            "names and headers. Pass name=... with plain text."
        )
    return value


def check_content_type(value: object) -> str:
    """Refuse a content type that is not ``type/subtype[; params]`` in printable ASCII."""
    if not isinstance(value, str):
        raise TypeError(f"content_type must be a string, got {type(value).__name__}")
    if not _CONTENT_TYPE.fullmatch(value):
        raise ValueError(
            f"content_type {value!r} is not a media type such as 'image/png' (printable "
            "ASCII type/subtype, optional ;parameters, no control characters)"
        )
    return value


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

        if name is not None:
            check_header_text(name, "upload name")
        elif default_name is not None:
            check_header_text(default_name, "upload file name (pass name=... to replace it)")
        if content_type is not None:
            check_content_type(content_type)
        self.filename = name or default_name or "upload"
        self.content_type = (
            content_type or mimetypes.guess_type(self.filename)[0] or "application/octet-stream"
        )
        # The file part's size when known up front: the stream checks the file
        # still has exactly that many bytes as it sends them.
        self.size = size
        self.source_name = str(self._path) if self._path is not None else (default_name or "")
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

    def open(self, on_progress: Progress | None = None) -> BodyStream:
        """A fresh stream of the whole body for one attempt; ``close()`` it afterwards.

        ``on_progress(bytes_done, bytes_total)`` is called as file bytes go out
        (``bytes_total`` is None for a source of unknown size).
        """
        return BodyStream(self, on_progress)


class BodyStream(AsyncIterator[bytes]):
    """The bytes of one attempt's body: head, file chunks, tail.

    Unlike a generator, it can be closed at any moment, even while aiohttp's
    writer task is abandoned halfway, and closing releases the file at once.
    """

    def __init__(self, body: UploadBody, on_progress: Progress | None = None) -> None:
        self._body = body
        self._on_progress = on_progress
        self._stage = 0  # 0: head, 1: file, 2: tail, 3: done
        self._file: IO[bytes] | None = None
        self._own_file = False
        self._source: AsyncIterator[bytes] | None = None
        self._closed = False
        self._sent = 0  # file bytes sent so far, checked against the size announced
        self._done = 0  # file bytes handed on, for on_progress
        self.failure: BaseException | None = None
        """Why the stream stopped, when the local side is at fault (not the network):
        the file changed size, or the progress callback raised."""
        # close() may run while an executor thread is opening the file; the lock
        # makes sure whichever comes second closes it.
        self._lock = threading.Lock()

    async def __anext__(self) -> bytes:
        body = self._body
        if self._closed or self._stage == 3:
            raise StopAsyncIteration
        if self._stage == 0:
            self._stage = 1
            return body._head
        if self._stage == 1:
            chunk = await self._next_chunk()
            if chunk:
                body.started = True
                if self._on_progress is not None:
                    self._done += len(chunk)
                    try:
                        self._on_progress(self._done, body.size)
                    except Exception as exc:
                        # The caller's callback failed: surface its error as it is,
                        # not as the connection error the HTTP library would make of it.
                        self.failure = exc
                        raise
                return chunk
            self._stage = 2
        self._stage = 3
        self.close()
        return body._tail

    async def _next_chunk(self) -> bytes | None:
        body = self._body
        if body._data is not None:
            self._stage = 2
            return body._data
        if body._aiter is not None:
            if self._source is None:
                self._source = aiter(body._aiter)
            try:
                chunk = await anext(self._source)
            except StopAsyncIteration:
                return None
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise TypeError(
                    f"upload async iterable must yield bytes, got {type(chunk).__name__}"
                )
            return bytes(chunk)
        loop = asyncio.get_running_loop()
        if self._file is None:
            if body._path is not None:
                self._own_file = True
                if not await loop.run_in_executor(None, self._open, body._path):
                    return None
            else:
                assert body._file is not None
                self._file = body._file
                if body.replayable:
                    await loop.run_in_executor(None, self._file.seek, body._file_start)
        file = self._file
        if file is None:  # closed meanwhile
            return None
        chunk = await loop.run_in_executor(None, file.read, CHUNK_SIZE)
        expected = body.size
        if expected is not None:
            # Content-Length announced ``expected`` bytes: a file that shrank would
            # leave the server waiting (a timeout on every retry), one that grew
            # would corrupt the body. Fail now, saying what happened.
            self._sent += len(chunk)
            if self._sent > expected or (not chunk and self._sent < expected):
                self.failure = LocalFileError(
                    f"upload source {body.source_name or '(file object)'!r} changed size "
                    f"while it was being sent: {expected} bytes were announced, "
                    f"{'more' if self._sent > expected else self._sent} were there; "
                    "not retried. Upload a file that is not being written to.",
                    path=body.source_name,
                )
                raise self.failure
        return chunk or None

    def _open(self, path: Path) -> bool:
        """Runs in a worker thread: open the file unless the stream was closed meanwhile."""
        file = path.open("rb")
        with self._lock:
            if not self._closed:
                self._file = file
                return True
        file.close()
        return False

    def close(self) -> None:
        """Stop the stream and close a file it opened. Safe to call at any time, twice."""
        with self._lock:
            self._closed = True
            file, self._file = self._file, None
        if file is not None and self._own_file:
            file.close()
