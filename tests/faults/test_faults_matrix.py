"""The fault matrix: every kind of call against every fault a real server can throw.

Each case runs against a real local server (127.0.0.1) that injects the fault,
and checks the documented exception class, a time bound derived from the
settings, the retry count (requests the server saw, sleeps the client asked
for), that POST retries reuse one Idempotency-Key, that a retried upload
resends the whole body, that a failed download leaves no file, and that no
connection or task is left behind (a one-connection pool still serves the next
call; the server sees every connection closed; no stray asyncio task).

``persistent`` cases inject the fault into every request: the call must fail
with the right error. ``transient`` cases inject it once: the call must recover.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from _faultkit import (
    API_KEY,
    IMAGE,
    LIST_TOTAL,
    HttpFaultServer,
    RawFaultServer,
    SleepRecorder,
    closed_port,
    no_dns_session,
    settle,
)

from floimg_async import (
    APIConnectionError,
    APITimeoutError,
    Execution,
    ExecutionStatus,
    FloImg,
    FloImgError,
    Image,
    RateLimitedError,
    ResponseDecodeError,
    ServerError,
    Workflow,
    WorkflowSummary,
)

MAX_RETRIES = 2
TIMEOUT = 0.2
#: Upper bound of one attempt that fails fast (a local error answer), very generous.
FAST_ATTEMPT = 0.1
UPLOAD = bytes(range(251)) * 800  # ~200 KB, not a multiple of any buffer size


# -- the calls ---------------------------------------------------------------------------------

CallFn = Callable[[FloImg, str, Path], Awaitable[Any]]


async def _get(client: FloImg, origin: str, tmp: Path) -> Any:
    return await client.workflows.get("wf_1")


async def _list(client: FloImg, origin: str, tmp: Path) -> Any:
    return await client.workflows.list(page_size=2).to_list()


async def _execute(client: FloImg, origin: str, tmp: Path) -> Any:
    return await client.workflows.execute("wf_1", {"prompt": "a mountain"})


async def _upload_path(client: FloImg, origin: str, tmp: Path) -> Any:
    source = tmp / "photo.png"
    source.write_bytes(UPLOAD)
    return await client.images.upload(source)


async def _upload_bytes(client: FloImg, origin: str, tmp: Path) -> Any:
    return await client.images.upload(UPLOAD, name="photo.png")


async def _wait(client: FloImg, origin: str, tmp: Path) -> Any:
    return await client.executions.wait("exec_7", poll_interval=0.01, max_poll_interval=0.01)


async def _download(client: FloImg, origin: str, tmp: Path) -> Any:
    folder = tmp / "out"
    folder.mkdir(exist_ok=True)
    return await client.images.download(f"{origin}/files/img_0.png", dest=folder / "img.png")


CALLS: dict[str, CallFn] = {
    "get": _get,
    "list": _list,
    "execute": _execute,
    "upload_path": _upload_path,
    "upload_bytes": _upload_bytes,
    "wait": _wait,
    "download": _download,
}
#: Requests a healthy run of each call makes.
HEALTHY_REQUESTS = {
    "get": 1,
    "list": 3,  # 5 items, 2 per page
    "execute": 1,
    "upload_path": 1,
    "upload_bytes": 1,
    "wait": 2,  # running, then completed
    "download": 1,
}
POSTS = {"execute", "upload_path", "upload_bytes"}
UPLOADS = {"upload_path", "upload_bytes"}


def check_result(call: str, result: Any, tmp: Path) -> None:
    """What a successful call must have returned."""
    if call == "get":
        assert isinstance(result, Workflow)
        assert result.id == "wf_1"
    elif call == "list":
        assert [type(item) for item in result] == [WorkflowSummary] * LIST_TOTAL
        assert [item.id for item in result] == [f"wf_{i}" for i in range(LIST_TOTAL)]
    elif call in ("execute", "wait"):
        assert isinstance(result, Execution)
        assert result.status is ExecutionStatus.COMPLETED
    elif call in UPLOADS:
        assert isinstance(result, Image)
    else:
        assert result == tmp / "out" / "img.png"
        assert result.read_bytes() == IMAGE
        assert sorted(p.name for p in (tmp / "out").iterdir()) == ["img.png"]


# -- the faults --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    name: str
    server: str | None  # "raw", "http", or None: no server answers at all
    error: type[FloImgError]
    retried: bool
    slow: bool = False  # each attempt lasts until the per-attempt timeout
    json_only: bool = False  # a fault in a JSON body: meaningless for a download

    def __str__(self) -> str:
        return self.name


FAULTS = [
    Fault("refused", None, APIConnectionError, retried=True),
    Fault("unresolvable", None, APIConnectionError, retried=True),
    Fault("reset_before", "raw", APIConnectionError, retried=True),
    Fault("reset_mid_body", "raw", APIConnectionError, retried=True),
    Fault("truncated_json", "raw", APIConnectionError, retried=True),
    Fault("invalid_json", "http", ResponseDecodeError, retried=False, json_only=True),
    Fault("wrong_shape", "http", ResponseDecodeError, retried=False, json_only=True),
    Fault("html_502", "http", ServerError, retried=True),
    Fault("html_503", "http", ServerError, retried=True),
    Fault("html_504", "http", ServerError, retried=True),
    Fault("slow_headers", "raw", APITimeoutError, retried=True, slow=True),
    Fault("trickle_body", "raw", APITimeoutError, retried=True, slow=True),
    Fault("retry_after_huge", "http", RateLimitedError, retried=False),
    Fault("retry_after_negative", "http", RateLimitedError, retried=True),
    Fault("retry_after_garbage", "http", RateLimitedError, retried=True),
    Fault("storm_5xx", "http", ServerError, retried=True),
]

PERSISTENT_CASES = [
    pytest.param(fault, call, id=f"{fault}-{call}")
    for fault in FAULTS
    for call in CALLS
    if not (fault.json_only and call == "download")
]
#: A fault that happens once and is retried must not be noticed by the caller.
TRANSIENT_CASES = [
    pytest.param(fault, call, id=f"{fault}-{call}")
    for fault in FAULTS
    if fault.retried and fault.server is not None
    for call in CALLS
]
#: The figure for the report: faults tried x calls.
MATRIX_SIZE = len(PERSISTENT_CASES) + len(TRANSIENT_CASES)


@dataclass
class Target:
    server: RawFaultServer | HttpFaultServer | None
    base_url: str
    origin: str
    session: aiohttp.ClientSession | None


@contextlib.asynccontextmanager
async def open_target(fault: Fault) -> AsyncIterator[Target]:
    """The server (or the lack of one) that plays ``fault``."""
    if fault.name == "refused":
        origin = f"http://127.0.0.1:{closed_port()}"
        yield Target(None, origin + "/v1", origin, None)
    elif fault.name == "unresolvable":
        # A reserved name (RFC 2606) and a resolver that fails it locally: nothing is sent.
        session = no_dns_session()
        try:
            yield Target(None, "http://floimg.invalid/v1", "http://floimg.invalid", session)
        finally:
            await session.close()
    else:
        server: RawFaultServer | HttpFaultServer = (
            RawFaultServer() if fault.server == "raw" else HttpFaultServer()
        )
        async with server:
            yield Target(server, server.base_url, server.origin, None)


def make_client(target: Target, sleeps: SleepRecorder) -> FloImg:
    return FloImg(
        api_key=API_KEY,
        base_url=target.base_url,
        timeout=TIMEOUT,
        max_retries=MAX_RETRIES,
        sleep=sleeps,
        # One connection: a call that leaked its connection would starve the next one.
        max_connections=1,
        session=target.session,
        allow_insecure_http=True,
    )


def assert_backoff(delays: list[float]) -> None:
    """Exponential backoff with +-20 % jitter from 0.5 s: 0.4-0.6, 0.8-1.2, 1.6-2.4 ..."""
    for index, delay in enumerate(delays):
        base = 0.5 * 2**index
        assert 0.8 * base - 1e-9 <= delay <= 1.2 * base + 1e-9, delays


def requests_per_attempt(fault: Fault, call: str) -> int:
    """aiohttp itself resends an idempotent request once when the connection drops before
    any response (RFC 9112, section 9.3.1), so a GET reset before its answer reaches the
    server twice per SDK attempt. POSTs are never resent by aiohttp."""
    return 2 if fault.name == "reset_before" and call not in POSTS else 1


def no_partial_files(tmp: Path) -> None:
    folder = tmp / "out"
    if folder.exists():
        assert list(folder.iterdir()) == [], "a failed download left a file behind"


@pytest.mark.parametrize(("fault", "call"), PERSISTENT_CASES)
async def test_faults_persistent(
    fault: Fault, call: str, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    attempts = MAX_RETRIES + 1 if fault.retried else 1
    async with open_target(fault) as target:
        server = target.server
        if server is not None:
            server.set_fault(fault.name)
        async with make_client(target, sleeps) as client:
            started = time.monotonic()
            with pytest.raises(FloImgError) as info:
                await CALLS[call](client, target.origin, tmp_path)
            elapsed = time.monotonic() - started
            error = info.value

            assert type(error) is fault.error, repr(error)
            assert API_KEY not in str(error)
            assert API_KEY not in repr(error)
            # Time: bounded by the settings (attempts x timeout for slow faults; sleeps are fake).
            per_attempt = TIMEOUT if fault.slow else FAST_ATTEMPT
            assert elapsed < 3 * attempts * per_attempt + 0.5, elapsed
            if fault.slow:
                assert elapsed >= attempts * TIMEOUT * 0.8, elapsed
            # Retries: what the server saw and what the client slept.
            assert len(sleeps.delays) == attempts - 1, sleeps.delays
            assert_backoff(sleeps.delays)
            if server is not None:
                assert len(server.seen) == attempts * requests_per_attempt(fault, call), (
                    server.paths()
                )
                seen = server.seen
                if call in POSTS:
                    keys = {s.headers.get("Idempotency-Key") for s in seen}
                    assert len(keys) == 1 and None not in keys and "" not in keys, keys
                if call in UPLOADS:
                    assert all(s.body == seen[0].body for s in seen), [len(s.body) for s in seen]
                    assert UPLOAD in seen[0].body
            if fault.name == "retry_after_huge":
                assert isinstance(error, RateLimitedError)
                assert error.retry_after == 3600
            if fault.name.startswith("retry_after_") and fault.name != "retry_after_huge":
                assert isinstance(error, RateLimitedError)
                assert error.retry_after is None
            if fault.name.startswith("html_"):
                assert isinstance(error, ServerError)
                assert error.status == int(fault.name[5:])
                assert "nginx" in error.message or "Gateway" in error.message, error.message
            if fault.error is ResponseDecodeError:
                assert isinstance(error, ResponseDecodeError)
                assert error.status == 200
            if fault.error is APIConnectionError and error.__cause__ is not None:
                # Translated at the boundary: nothing from aiohttp escapes unwrapped.
                assert not isinstance(error, aiohttp.ClientError)

            if server is not None:
                # The single pooled connection was released: the next call goes through.
                server.heal()
                follow_up = await client.workflows.get("wf_1")
                assert follow_up.id == "wf_1"
        if call == "download":
            no_partial_files(tmp_path)
        await settle(*([server] if server is not None else []))


@pytest.mark.parametrize(("fault", "call"), TRANSIENT_CASES)
async def test_faults_transient(
    fault: Fault, call: str, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    async with open_target(fault) as target:
        server = target.server
        assert server is not None
        # Enough faulty answers to fail exactly one SDK attempt.
        server.set_fault(fault.name, budget=requests_per_attempt(fault, call))
        async with make_client(target, sleeps) as client:
            started = time.monotonic()
            result = await CALLS[call](client, target.origin, tmp_path)
            elapsed = time.monotonic() - started

            check_result(call, result, tmp_path)
            extra = requests_per_attempt(fault, call)
            assert len(server.seen) == HEALTHY_REQUESTS[call] + extra, server.paths()
            # One retry, after a backoff (a poll interval may follow for the waiter).
            assert sleeps.delays, "the failed attempt was not retried after a wait"
            assert_backoff(sleeps.delays[:1])
            assert elapsed < 3 * (TIMEOUT if fault.slow else FAST_ATTEMPT) * 2 + 0.5, elapsed
            if call in POSTS:
                first, second = server.seen[0], server.seen[1]
                assert first.path == second.path
                key = first.headers.get("Idempotency-Key")
                assert key
                assert second.headers.get("Idempotency-Key") == key
            if call in UPLOADS:
                sizes = [len(s.body) for s in server.seen]
                assert sizes[0] == sizes[1] and server.seen[0].body == server.seen[1].body, sizes
                assert UPLOAD in server.seen[1].body
        await settle(server)


def test_faults_matrix_size() -> None:
    """The matrix covers every fault for every call (less the JSON faults for a download)."""
    assert len(FAULTS) == 16
    assert len(CALLS) == 7
    assert len(PERSISTENT_CASES) == 16 * 7 - 2
    assert len(PERSISTENT_CASES) + 11 * 7 == MATRIX_SIZE
