"""Cancelling a call mid-flight leaves nothing behind and the client keeps working.

Each test starts a call against a real server that holds it (the server has
received the request and does not answer yet), cancels it, then checks: the
cancellation propagated, no background task survives, the client still
serves the next call, and after close the server sees no open connection. A
cancelled download leaves no file, partial or whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import pytest
from _faultkit import API_KEY, RawFaultServer, Seen, settle, stray_tasks_after

from floimg_async import FloImg, RunResult

pytestmark = pytest.mark.filterwarnings("error")


def client_for(server: RawFaultServer) -> FloImg:
    return FloImg(api_key=API_KEY, base_url=server.base_url, timeout=10.0, max_retries=2)


async def cancel_when(
    call: Awaitable[Any], ready: Awaitable[Any], *, within: float = 3.0
) -> asyncio.Task[Any]:
    """Run ``call`` as a task, cancel it once ``ready`` completes, and return it (done)."""
    task = asyncio.ensure_future(call)
    try:
        await asyncio.wait_for(ready, within)
    finally:
        task.cancel()
    started = time.monotonic()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(asyncio.shield(task), 2.0)
    assert time.monotonic() - started < 1.0, "cancellation did not stop the call at once"
    return task


async def assert_clean_and_usable(client: FloImg, server: RawFaultServer) -> None:
    """No task left but ours; the client serves another call."""
    stray = await stray_tasks_after(1.0)
    # The only tasks allowed are the server's own connection handlers.
    assert all("_handle" in repr(t.get_coro()) for t in stray), stray
    server.heal()
    workflow = await asyncio.wait_for(client.workflows.get("wf_next"), 3.0)
    assert workflow.id == "wf_next"


async def test_faults_cancel_run_while_polling(raw_server: RawFaultServer) -> None:
    raw_server.set_fault("hold", match="/executions/")
    async with client_for(raw_server) as client:
        task = await cancel_when(
            client.workflows.run("wf_1", {"prompt": "x"}),
            raw_server.wait_for_request("/executions/"),
        )
        assert task.cancelled()
        await assert_clean_and_usable(client, raw_server)
    await settle(raw_server)


async def test_faults_cancel_wait_mid_request(raw_server: RawFaultServer) -> None:
    raw_server.set_fault("hold", match="/executions/")
    async with client_for(raw_server) as client:
        task = await cancel_when(
            client.executions.wait("exec_1"), raw_server.wait_for_request("/executions/")
        )
        assert task.cancelled()
        await assert_clean_and_usable(client, raw_server)
    await settle(raw_server)


async def test_faults_cancel_wait_between_polls(raw_server: RawFaultServer) -> None:
    """Cancelled during its (real, 5 s) poll interval, the waiter stops at once."""
    raw_server.api.running_polls = 100
    async with client_for(raw_server) as client:
        task = await cancel_when(
            client.executions.wait("exec_1", poll_interval=5.0, max_poll_interval=5.0),
            raw_server.wait_for_request("/executions/"),
        )
        assert task.cancelled()
        await asyncio.sleep(0.1)
        assert len(raw_server.seen) == 1, "the waiter kept polling after it was cancelled"
        await assert_clean_and_usable(client, raw_server)
    await settle(raw_server)


def _slow_unless_first(seen: Seen) -> bool:
    return b'"n":0' not in seen.body


async def test_faults_break_out_of_run_many_then_aclose(raw_server: RawFaultServer) -> None:
    raw_server.set_fault("hold", match=_slow_unless_first)
    async with client_for(raw_server) as client:
        results = client.workflows.run_many("wf_1", ({"n": i} for i in range(20)), concurrency=4)
        first: RunResult | None = None
        async for result in results:
            first = result
            break
        assert first is not None and first.ok and first.index == 0
        # The others are held by the server, in flight.
        loop = asyncio.get_running_loop()
        stop_at = loop.time() + 3
        while len(raw_server.seen) < 4 and loop.time() < stop_at:
            await asyncio.sleep(0.01)
        assert len(raw_server.seen) >= 4
        started = time.monotonic()
        await results.aclose()  # type: ignore[attr-defined]
        assert time.monotonic() - started < 1.0
        # Nothing more was started after the close.
        sent = len(raw_server.seen)
        await asyncio.sleep(0.1)
        assert len(raw_server.seen) == sent
        await assert_clean_and_usable(client, raw_server)
    await settle(raw_server)


async def test_faults_cancel_task_consuming_run_many(raw_server: RawFaultServer) -> None:
    raw_server.set_fault("hold", match="/workflows/execute")
    async with client_for(raw_server) as client:

        async def consume() -> list[RunResult]:
            return [
                r async for r in client.workflows.run_many("wf_1", [{"n": i} for i in range(9)])
            ]

        async def three_in_flight() -> None:
            while sum("/execute" in p for p in raw_server.paths()) < 3:
                await asyncio.sleep(0.005)

        task = await cancel_when(consume(), three_in_flight())
        assert task.cancelled()
        await assert_clean_and_usable(client, raw_server)
    await settle(raw_server)


async def test_faults_cancel_listing_iteration(raw_server: RawFaultServer) -> None:
    raw_server.set_fault("hold", match="offset=2")
    async with client_for(raw_server) as client:
        got: list[str] = []

        async def iterate() -> None:
            async for item in client.workflows.list(page_size=2):
                got.append(item.id)

        task = await cancel_when(iterate(), raw_server.wait_for_request("offset=2"))
        assert task.cancelled()
        assert got == ["wf_0", "wf_1"]
        await assert_clean_and_usable(client, raw_server)
    await settle(raw_server)


async def test_faults_cancel_upload_waiting_for_answer(
    raw_server: RawFaultServer, tmp_path: Path
) -> None:
    source = tmp_path / "photo.png"
    source.write_bytes(b"p" * 300_000)
    raw_server.set_fault("hold", match="/storage/upload")
    async with client_for(raw_server) as client:
        task = await cancel_when(
            client.images.upload(source), raw_server.wait_for_request("/storage/upload")
        )
        assert task.cancelled()
        await assert_clean_and_usable(client, raw_server)
    await settle(raw_server)


async def test_faults_cancel_upload_mid_body_from_a_path(
    raw_server: RawFaultServer, tmp_path: Path
) -> None:
    """Cancelled while the file is still streaming out (the server reads slowly)."""
    source = tmp_path / "big.png"
    source.write_bytes(b"b" * (24 * 1024 * 1024))
    raw_server.read_delay = 0.05
    async with client_for(raw_server) as client:

        async def mid_body() -> None:
            await raw_server.headers_received.wait()
            await asyncio.sleep(0.2)

        task = await cancel_when(client.images.upload(source), mid_body())
        assert task.cancelled()
        assert raw_server.seen == [], "the whole body arrived: not cancelled mid-body"
        raw_server.read_delay = 0.0
        await assert_clean_and_usable(client, raw_server)
    await settle(raw_server)


async def test_faults_cancel_upload_mid_body_from_an_async_iterable(
    raw_server: RawFaultServer,
) -> None:
    first_sent = asyncio.Event()
    closed = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        try:
            yield b"a" * 100_000
            first_sent.set()
            await asyncio.sleep(30)
            yield b"never"
        finally:
            closed.set()

    async with client_for(raw_server) as client:
        source = stalled()
        task = await cancel_when(client.images.upload(source, name="s.png"), first_sent.wait())
        assert task.cancelled()
        assert raw_server.seen == []
        await source.aclose()  # type: ignore[attr-defined]
        await assert_clean_and_usable(client, raw_server)
    await settle(raw_server)


async def test_faults_cancel_download_mid_body(raw_server: RawFaultServer, tmp_path: Path) -> None:
    """Cancelled after some bytes were written: no file, partial or whole, remains."""
    raw_server.set_fault("trickle_body", match="/files/")
    dest = tmp_path / "out"
    dest.mkdir()

    async def some_bytes_later() -> None:
        await raw_server.body_started.wait()
        await asyncio.sleep(0.3)

    async with client_for(raw_server) as client:
        task = await cancel_when(
            client.images.download(f"{raw_server.origin}/files/img.png", dest=dest / "img.png"),
            some_bytes_later(),
        )
        assert task.cancelled()
        assert list(dest.iterdir()) == [], "a cancelled download left a file behind"
        await assert_clean_and_usable(client, raw_server)
    await settle(raw_server)


async def test_faults_cancel_download_at_every_early_step(
    raw_server: RawFaultServer, tmp_path: Path
) -> None:
    """Cancel a download 0, 1, 2 ... 24 event-loop steps after its body starts, which
    sweeps the cancellation across creating the temporary file, the first write and the
    first chunks. Whatever step it lands on: no file and no ``.part`` file remain, and the
    temporary file was closed (an unclosed file is a ResourceWarning, an error here)."""
    raw_server.set_fault("trickle_body", match="/files/")
    async with client_for(raw_server) as client:
        for steps in range(25):
            dest = tmp_path / f"out{steps}"
            dest.mkdir()
            raw_server.body_started.clear()
            task = asyncio.ensure_future(
                client.images.download(f"{raw_server.origin}/files/a.png", dest=dest / "a.png")
            )
            await asyncio.wait_for(raw_server.body_started.wait(), 3.0)
            for _ in range(steps):
                await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 2.0)
            assert task.cancelled(), f"step {steps}: the download was not cancelled"
            left = [p.name for p in dest.iterdir()]
            assert left == [], f"cancelled {steps} steps in, the download left {left}"
        gc.collect()  # an unclosed temporary file warns now, inside this test
        await assert_clean_and_usable(client, raw_server)
    await settle(raw_server)
