"""Stream a multipart upload to a temporary file, hashing it, then check it is an image."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from aiohttp import BodyPartReader, web

from ._util import ApiError, control_characters, invalid

_CHUNK = 64 * 1024
_FLUSH = 1024 * 1024
_MAX_FIELD = 64 * 1024
_MAX_PARTS = 16
#: Pillow's format names the API accepts, and how the API spells them.
ACCEPTED_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "GIF": "gif"}


@dataclass
class ParsedUpload:
    """What a multipart upload carried: the file (in a temp file) and the text fields."""

    path: Path
    size: int
    filename: str | None
    fields: dict[str, str] = field(default_factory=dict)
    digest: str = ""

    def fingerprint(self) -> str:
        """Return a hash of the file bytes, its filename and every field (for idempotency)."""
        h = hashlib.sha256(self.digest.encode())
        h.update(repr((self.filename, sorted(self.fields.items()))).encode())
        return h.hexdigest()


def too_large(limit: int) -> ApiError:
    """Return the error for a file over ``limit`` bytes (400 ``invalid_request``).

    The API's error table has no 413, and its ``invalid_request`` covers "bad request
    body or parameters", so that is what an oversized upload gets.
    """
    return invalid(
        f"The file is larger than the {limit} byte upload limit",
        field="file",
        reason="too_large",
        maxBytes=limit,
    )


async def read_upload(request: web.Request, tmp_dir: Path, max_bytes: int) -> ParsedUpload:
    """Read the multipart body of ``request`` without holding the file in memory.

    The file part goes to a temporary file in chunks; reading stops with a 400
    once it passes ``max_bytes``. Any body that is not well-formed multipart —
    truncated, a bad boundary, control characters or undecodable bytes in a
    part's headers, a malformed ``Content-Disposition`` — is a 400
    ``invalid_request``, as is one without a ``file`` part.
    """
    if not request.content_type.startswith("multipart/"):
        raise invalid("Send the upload as multipart/form-data", field="file", reason="required")
    if request.content_length is not None and request.content_length > max_bytes + _FLUSH:
        raise too_large(max_bytes)
    upload: ParsedUpload | None = None
    fields: dict[str, str] = {}
    try:
        reader = await request.multipart()
        for _ in range(_MAX_PARTS):
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise invalid("Nested multipart bodies are not supported")
            name, filename = _disposition(part)
            if name == "file":
                if upload is not None:
                    raise invalid("Send exactly one file part", field="file", reason="duplicate")
                upload = await _stream_file(part, filename, tmp_dir, max_bytes)
            elif name:
                fields[name] = await _read_field(part, name)
        else:
            raise invalid(f"Too many multipart parts (at most {_MAX_PARTS})")
    except BaseException as exc:
        if upload is not None:
            await asyncio.to_thread(upload.path.unlink, True)
        if isinstance(exc, Exception) and not isinstance(exc, ApiError):
            # aiohttp's reader raises ValueError, AssertionError, InvalidHeader, warnings
            # turned errors, ...: all of them mean the client sent a broken body.
            raise invalid(f"Malformed multipart body: {_describe(exc)}") from None
        raise
    if upload is None:
        raise invalid("The multipart body has no 'file' part", field="file", reason="required")
    upload.fields = fields
    return upload


def _describe(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.encode("ascii", "backslashreplace").decode()[:200]


def _disposition(part: BodyPartReader) -> tuple[str | None, str | None]:
    """Return the part's ``name`` and ``filename``, or raise a 400 if its headers are unusable."""
    for header, value in part.headers.items():
        if control_characters(header) or control_characters(value):
            raise invalid(
                f"A multipart part's {header!r} header holds control characters or bytes "
                "that are not UTF-8",
                field="file",
                reason="invalid_header",
            )
    with warnings.catch_warnings(record=True) as caught:
        # aiohttp warns (rather than raises) on a malformed Content-Disposition; no await
        # runs in this block, so no other request shares the temporary filter.
        warnings.simplefilter("always")
        name, filename = part.name, part.filename
    if caught:
        raise invalid(
            f"Malformed Content-Disposition header: {_describe(Exception(caught[0].message))}",
            field="file",
            reason="invalid_header",
        )
    return name, filename


async def _read_field(part: BodyPartReader, name: str) -> str:
    data = bytearray()
    for _ in range(_MAX_FIELD // 1024 + 2):
        chunk = await part.read_chunk(_CHUNK)
        if not chunk:
            text = data.decode("utf-8", errors="replace")
            if control_characters(text):
                raise invalid(
                    f"The field {name!r} holds control characters",
                    field=name,
                    reason="control_characters",
                )
            return text
        data += chunk
        if len(data) > _MAX_FIELD:
            break
    raise invalid(f"The field {name!r} is too long", field=name, reason="too_long")


async def _stream_file(
    part: BodyPartReader, filename: str | None, tmp_dir: Path, max_bytes: int
) -> ParsedUpload:
    fd, name = await asyncio.to_thread(tempfile.mkstemp, prefix="upload-", dir=tmp_dir)
    path = Path(name)
    out: BinaryIO = os.fdopen(fd, "wb")
    digest = hashlib.sha256()
    size = 0
    pending = bytearray()
    try:
        while True:  # ends at the part's end or at the size limit
            chunk = await part.read_chunk(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise too_large(max_bytes)
            digest.update(chunk)
            pending += chunk
            if len(pending) >= _FLUSH:
                await asyncio.to_thread(out.write, bytes(pending))
                pending.clear()
        await asyncio.to_thread(_finish, out, bytes(pending))
    except BaseException:
        await asyncio.to_thread(_discard, out, path)
        raise
    return ParsedUpload(path=path, size=size, filename=filename, digest=digest.hexdigest())


def _finish(out: BinaryIO, tail: bytes) -> None:
    out.write(tail)
    out.close()


def _discard(out: BinaryIO, path: Path) -> None:
    out.close()
    path.unlink(missing_ok=True)


def sniff_image(path: Path) -> tuple[str, int, int]:
    """Return ``(format, width, height)`` of the image at ``path``, judged by its content.

    Runs in a worker thread. Raises a 400 ``invalid_request`` when the bytes are
    not a PNG, JPEG, WebP or GIF image.
    """
    from PIL import Image  # the emulator's only optional dependency

    try:
        with Image.open(path, formats=list(ACCEPTED_FORMATS)) as image:
            fmt, (width, height) = image.format, image.size
            image.verify()
    except Exception:
        raise invalid(
            "The file is not a PNG, JPEG, WebP or GIF image",
            field="file",
            reason="not_an_image",
        ) from None
    if fmt not in ACCEPTED_FORMATS:
        raise invalid("Unsupported image format", field="file", reason="not_an_image")
    return ACCEPTED_FORMATS[fmt], width, height
