"""Uploads under faults: replayable sources are resent whole, one-shot sources never twice."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _faultkit import API_KEY, RawFaultServer, SleepRecorder, settle

from floimg_async import APIConnectionError, FloImg, Image

CHUNKS = [bytes([n]) * 70_000 for n in range(5)]
WHOLE = b"".join(CHUNKS)


def client_for(server: RawFaultServer, sleeps: SleepRecorder) -> FloImg:
    return FloImg(
        api_key=API_KEY, base_url=server.base_url, timeout=1.0, max_retries=3, sleep=sleeps
    )


async def chunks() -> AsyncIterator[bytes]:
    for chunk in CHUNKS:
        yield chunk


class OneShotFile(io.RawIOBase):
    """A binary file object that cannot seek (a pipe, a socket, a stream from elsewhere)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.name = "stream.png"

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._data.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


async def test_faults_async_iterable_upload_is_not_retried_and_says_so(
    raw_server: RawFaultServer, sleeps: SleepRecorder
) -> None:
    """Once an async iterable's bytes went out they cannot be sent again: one attempt only,
    and the error tells the caller why it was not retried."""
    raw_server.set_fault("reset_before")
    async with client_for(raw_server, sleeps) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.images.upload(chunks(), name="stream.png")
    assert len(raw_server.seen) == 1, "a one-shot upload was sent twice"
    assert WHOLE in raw_server.seen[0].body
    assert sleeps.delays == []
    message = str(info.value)
    assert re.search(r"retr|replay", message, re.IGNORECASE), (
        f"the error does not say the upload could not be retried/replayed: {message!r}"
    )
    assert API_KEY not in message
    await settle(raw_server)


async def test_faults_unseekable_file_upload_is_not_retried(
    raw_server: RawFaultServer, sleeps: SleepRecorder
) -> None:
    raw_server.set_fault("reset_before")
    async with client_for(raw_server, sleeps) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.images.upload(OneShotFile(WHOLE))
    assert len(raw_server.seen) == 1
    assert re.search(r"retr|replay", str(info.value), re.IGNORECASE), str(info.value)
    await settle(raw_server)


async def test_faults_async_iterable_upload_streams_whole_body(
    raw_server: RawFaultServer, sleeps: SleepRecorder
) -> None:
    async with client_for(raw_server, sleeps) as client:
        image = await client.images.upload(chunks(), name="stream.png")
    assert isinstance(image, Image)
    assert len(raw_server.seen) == 1
    assert WHOLE in raw_server.seen[0].body
    assert b'filename="stream.png"' in raw_server.seen[0].body
    await settle(raw_server)


@pytest.mark.parametrize("source", ["path", "bytes", "seekable_file"])
@pytest.mark.parametrize("fault", ["reset_before", "reset_mid_body", "truncated_json"])
async def test_faults_replayable_upload_resends_full_body(
    raw_server: RawFaultServer, sleeps: SleepRecorder, tmp_path: Path, source: str, fault: str
) -> None:
    """Every attempt of a retried upload carries the whole file and the same Idempotency-Key."""
    path = tmp_path / "photo.png"
    path.write_bytes(WHOLE)
    raw_server.set_fault(fault, budget=2)
    async with client_for(raw_server, sleeps) as client:
        if source == "path":
            image = await client.images.upload(path)
        elif source == "bytes":
            image = await client.images.upload(WHOLE, name="photo.png")
        else:
            with path.open("rb") as handle:
                image = await client.images.upload(handle)
    assert isinstance(image, Image)
    seen = raw_server.seen
    assert len(seen) == 3
    assert len({len(s.body) for s in seen}) == 1, [len(s.body) for s in seen]
    assert all(WHOLE in s.body for s in seen)
    keys = {s.headers["Idempotency-Key"] for s in seen}
    assert len(keys) == 1
    assert len(sleeps.delays) == 2
    await settle(raw_server)
