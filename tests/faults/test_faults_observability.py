"""Logging and tracing: one DEBUG line per attempt, one INFO line per retry, never the key."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from _faultkit import (
    API_KEY,
    HttpFaultServer,
    RawFaultServer,
    SleepRecorder,
    closed_port,
    settle,
)

from floimg_async import FloImg, FloImgError, ServerError

LOGGER = "floimg_async"


def sdk_records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(LOGGER) and r.levelno == level]


async def test_faults_log_one_debug_line_per_attempt(
    http_server: HttpFaultServer, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    http_server.set_fault("storm_5xx", budget=2)
    async with FloImg(
        api_key=API_KEY, base_url=http_server.base_url, max_retries=3, sleep=sleeps
    ) as client:
        await client.workflows.get("wf_1")
    debug = [r.getMessage() for r in sdk_records(caplog, logging.DEBUG)]
    assert len(debug) == 3, debug
    for attempt, (line, status) in enumerate(zip(debug, ["500", "500", "200"], strict=True), 1):
        assert "GET" in line
        assert "/workflows/wf_1" in line
        assert re.search(rf"\b{status}\b", line), line
        assert f"attempt={attempt}" in line, line
        assert f"request_id=req_{attempt}" in line, line
        assert re.search(r"elapsed=\d+\.\d+s", line), line
    await settle(http_server)


async def test_faults_log_one_info_line_per_retry_with_its_wait(
    http_server: HttpFaultServer, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    http_server.set_fault("html_503")
    async with FloImg(
        api_key=API_KEY, base_url=http_server.base_url, max_retries=2, sleep=sleeps
    ) as client:
        with pytest.raises(ServerError):
            await client.workflows.execute("wf_1", {"prompt": "x"})
    info = [r.getMessage() for r in sdk_records(caplog, logging.INFO)]
    assert len(info) == 2 == len(sleeps.delays), info
    for line, delay in zip(info, sleeps.delays, strict=True):
        assert "retry" in line.lower()
        assert "POST" in line and "/workflows/execute" in line
        assert f"{delay:.2f}s" in line, (line, delay)
    # DEBUG is off: no per-attempt lines leaked at INFO.
    assert sdk_records(caplog, logging.DEBUG) == []
    await settle(http_server)


def _texts(record: logging.LogRecord) -> list[str]:
    texts = [str(record.msg), record.getMessage(), repr(record.args)]
    if record.exc_info and record.exc_info[1] is not None:
        texts.append(repr(record.exc_info[1]))
        texts.append(str(record.exc_info[1]))
    if record.exc_text:
        texts.append(record.exc_text)
    texts.extend(repr(v) for v in vars(record).values())
    return texts


async def test_faults_logs_never_contain_the_key(
    http_server: HttpFaultServer,
    raw_server: RawFaultServer,
    sleeps: SleepRecorder,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """Every logger at DEBUG (the SDK's and aiohttp's), calls that fail and retry: neither
    the key nor the Authorization header shows up in any record."""
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []

    async def run(client: FloImg, coro: Any) -> None:
        try:
            await coro
        except FloImgError as exc:
            errors.append(exc)

    for server, fault in [
        (http_server, "storm_5xx"),
        (http_server, "retry_after_garbage"),
        (raw_server, "reset_before"),
        (raw_server, "truncated_json"),
        (raw_server, "slow_headers"),
    ]:
        server.set_fault(fault, budget=2)
        async with FloImg(
            api_key=API_KEY, base_url=server.base_url, timeout=0.2, max_retries=1, sleep=sleeps
        ) as client:
            await run(client, client.workflows.get("wf_1"))
            await run(client, client.workflows.execute("wf_1", {"p": 1}))
            await run(client, client.images.upload(b"x" * 1000, name="a.png"))
            await run(client, client.images.download(f"{server.origin}/files/a.png"))
    refused = f"http://127.0.0.1:{closed_port()}/v1"
    async with FloImg(api_key=API_KEY, base_url=refused, max_retries=1, sleep=sleeps) as client:
        await run(client, client.workflows.list().to_list())
    assert errors, "nothing failed: the test proves nothing"
    assert len(caplog.records) > 10
    assert any("retry" in r.getMessage().lower() for r in caplog.records)
    for record in caplog.records:
        for text in _texts(record):
            assert API_KEY not in text, (record.name, record.getMessage())
            assert "Bearer" not in text, (record.name, record.getMessage())
            assert "authorization" not in text.lower(), (record.name, record.getMessage())
    for error in errors:
        assert API_KEY not in str(error) and API_KEY not in repr(error)
        assert API_KEY not in str(error.__cause__) and API_KEY not in repr(error.__cause__)
    await settle(http_server, raw_server)


async def test_faults_trace_configs_receive_request_events(
    http_server: HttpFaultServer, sleeps: SleepRecorder
) -> None:
    events: list[tuple[str, str, str]] = []

    async def on_start(
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        events.append(("start", params.method, params.url.path))

    async def on_end(
        session: aiohttp.ClientSession, ctx: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        events.append(("end", params.method, str(params.response.status)))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_end.append(on_end)
    http_server.set_fault("storm_5xx", budget=1)
    async with FloImg(
        api_key=API_KEY,
        base_url=http_server.base_url,
        trace_configs=[trace],
        sleep=sleeps,
    ) as client:
        await client.workflows.get("wf_1")
        await client.workflows.execute("wf_1")
    assert events == [
        ("start", "GET", "/v1/workflows/wf_1"),
        ("end", "GET", "500"),
        ("start", "GET", "/v1/workflows/wf_1"),
        ("end", "GET", "200"),
        ("start", "POST", "/v1/workflows/execute"),
        ("end", "POST", "200"),
    ]
    await settle(http_server)
