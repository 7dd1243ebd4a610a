"""Only FloImgError (or TypeError/ValueError for misuse) escapes, and each case gets its
documented error (issue 10, items 3, 4 and 6). Real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import resource
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest
from _faultkit import SleepRecorder
from _support import API_KEY, MakeServer
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from floimg_async import (
    APIError,
    Execution,
    ExecutionStatus,
    FloImg,
    FloImgError,
    InvalidRequestError,
    LocalFileError,
    NotFoundError,
    ResponseDecodeError,
    WaitTimeoutError,
)
from floimg_async._errors import error_for_status
from floimg_async._redact import redact

IMAGE = bytes(range(256)) * 64  # 16 KiB


async def image_server(make_server: MakeServer, body: bytes = IMAGE) -> Any:
    hits: list[str] = []

    async def image(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=body, content_type="image/png")

    server = await make_server()
    server.route("GET", "/files/{name}", image)
    await server.start()
    server.hits = hits
    return server


# -- deep details never raise RecursionError ----------------------------------------------------


def nested(depth: int, leaf: str) -> str:
    """JSON text ``depth`` levels deep (lists and objects in turn) around ``leaf``."""
    opening = "".join('{"k": ' if i % 2 else "[" for i in range(depth))
    closing = "".join("}" if i % 2 else "]" for i in reversed(range(depth)))
    return opening + json.dumps(leaf) + closing


@settings(max_examples=40, deadline=None)
@given(depth=st.integers(1, 3000), flat=st.booleans())
def test_property_deep_details_scrub_and_print_without_recursion_error(
    depth: int, flat: bool
) -> None:
    details = nested(depth, f"echo {API_KEY}")
    if flat:
        body = '{"error": "bad", "code": "invalid_request", "details": {"d": ' + details + "}}"
    else:
        body = '{"error": {"code": "invalid_request", "details": {"d": ' + details + "}}}"
    error = error_for_status(400, {}, body.encode())
    redact(error, API_KEY)
    assert isinstance(error, InvalidRequestError)
    for text in (str(error), repr(error), repr(error.details), json.dumps(error.details)):
        assert API_KEY not in text


async def test_deep_details_end_to_end(make_server: MakeServer) -> None:
    depth = 990  # parses under the default recursion limit, prints only if cut

    async def deep(request: web.Request) -> web.Response:
        text = "[" * depth + json.dumps(request.headers["Authorization"]) + "]" * depth
        body = '{"error": {"code": "invalid_request", "message": "m", "details": {"d": '
        return web.Response(status=400, text=body + text + "}}}")

    server = await make_server()
    server.route("GET", "/v1/workflows/{id}", deep)
    await server.start()
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        with pytest.raises(InvalidRequestError) as info:
            await client.workflows.get("wf_1")
    assert API_KEY not in repr(info.value.details)
    json.dumps(info.value.details)


# -- close() while calls wait for a pooled connection -------------------------------------------


async def test_close_while_calls_wait_for_a_connection_gives_floimg_errors(
    make_server: MakeServer,
) -> None:
    started = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        started.set()
        await asyncio.sleep(0.3)
        return web.json_response({"id": "wf_1", "name": "w"})

    server = await make_server()
    server.route("GET", "/v1/workflows/{id}", slow)
    await server.start()
    client = FloImg(API_KEY, base_url=server.base_url, max_connections=1, max_retries=3)
    tasks = [asyncio.ensure_future(client.workflows.get("wf_1")) for _ in range(4)]
    await asyncio.wait_for(started.wait(), 5)
    await client.close()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        assert isinstance(result, FloImgError), repr(result)
        assert "closed" in str(result)
    assert not any(task.cancelled() for task in tasks)


async def test_cancelling_a_waiting_call_still_cancels_it(make_server: MakeServer) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)
        return web.json_response({"id": "wf_1", "name": "w"})

    server = await make_server()
    server.route("GET", "/v1/workflows/{id}", slow)
    await server.start()
    async with FloImg(API_KEY, base_url=server.base_url, max_connections=1) as client:
        first = asyncio.ensure_future(client.workflows.get("wf_1"))
        waiting = asyncio.ensure_future(client.workflows.get("wf_1"))
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert (await first).id == "wf_1"


# -- run_many yields every failure, whatever it is ----------------------------------------------


class BrokenMapping(Mapping[str, Any]):
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __getitem__(self, key: str) -> Any:
        raise self.exc

    def __iter__(self) -> Iterator[str]:
        raise self.exc

    def __len__(self) -> int:
        return 1


EXCEPTIONS = st.sampled_from(
    [RuntimeError("x"), KeyError("k"), ZeroDivisionError(), LookupError(), OSError(5, "io")]
)


@settings(max_examples=15, deadline=None)
@given(exc=EXCEPTIONS, where=st.integers(0, 4))
async def test_property_run_many_yields_every_failure(exc: Exception, where: int) -> None:
    server_sets = [{"n": i} for i in range(5)]
    sets: list[Any] = list(server_sets)
    sets[where] = BrokenMapping(exc)
    async with FloImg(API_KEY, base_url="http://127.0.0.1:9/v1", max_retries=0) as client:
        results = [r async for r in client.workflows.run_many("wf_1", sets, concurrency=2)]
    assert sorted(r.index for r in results) == list(range(5))
    broken = next(r for r in results if r.index == where)
    assert broken.error is exc and not broken.ok
    assert all(isinstance(r.error, Exception) for r in results)


async def test_run_many_yields_a_failing_parameter_iterator_and_stops(
    make_server: MakeServer,
) -> None:
    async def execute(request: web.Request) -> web.Response:
        return web.json_response({"executionId": "e", "status": "completed"})

    server = await make_server()
    server.route("POST", "/v1/workflows/execute", execute)
    await server.start()

    def sets() -> Iterator[dict[str, int]]:
        yield {"n": 0}
        yield {"n": 1}
        raise RuntimeError("the input file went away")

    client = FloImg(API_KEY, base_url=server.base_url)
    async with client, aclosing(client.workflows.run_many("wf_1", sets(), concurrency=1)) as runs:
        results = [r async for r in runs]
    assert [r.ok for r in results] == [True, True, False]
    assert isinstance(results[-1].error, RuntimeError) and results[-1].index == 2


async def test_run_many_yields_an_unexpected_error_from_a_retry_sleep(
    make_server: MakeServer,
) -> None:
    async def busy(request: web.Request) -> web.Response:
        return web.json_response({"error": {"code": "x", "message": "busy"}}, status=503)

    server = await make_server()
    server.route("POST", "/v1/workflows/execute", busy)
    await server.start()

    async def broken_sleep(_: float) -> None:
        raise RuntimeError("sleep broke")

    async with FloImg(API_KEY, base_url=server.base_url, sleep=broken_sleep) as client:
        results = [r async for r in client.workflows.run_many("wf_1", [{}, {}])]
    assert len(results) == 2
    assert all(isinstance(r.error, RuntimeError) for r in results)


# -- local filesystem errors during downloads ---------------------------------------------------


async def test_download_onto_a_folder_of_the_same_name_is_a_local_file_error(
    make_server: MakeServer, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    server = await image_server(make_server)
    (tmp_path / "a.png").mkdir()
    async with FloImg(API_KEY, base_url=server.base_url, sleep=sleeps) as client:
        with pytest.raises(LocalFileError) as info:
            await client.images.download(f"{server.origin}/files/a.png", tmp_path)
    assert info.value.path == str(tmp_path / "a.png")
    assert "folder" in str(info.value) and str(tmp_path / "a.png") in str(info.value)
    assert isinstance(info.value.__cause__, OSError)
    assert len(server.hits) == 1 and sleeps.delays == [], "never retried"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


async def test_download_with_a_name_too_long_is_a_local_file_error(
    make_server: MakeServer, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    server = await image_server(make_server)
    dest = tmp_path / ("n" * 300 + ".png")
    async with FloImg(API_KEY, base_url=server.base_url, sleep=sleeps) as client:
        with pytest.raises(LocalFileError) as info:
            await client.images.download(f"{server.origin}/files/a.png", dest)
        assert info.value.path == str(dest)
        assert isinstance(info.value.__cause__, OSError)
        assert info.value.__cause__.errno == errno.ENAMETOOLONG
        assert server.hits == [] and sleeps.delays == [], "refused before any request"
        # A name that is long but valid still works: the temporary name stays short.
        long_ok = tmp_path / ("m" * 250 + ".png")
        assert await client.images.download(f"{server.origin}/files/a.png", long_ok) == long_ok
    assert long_ok.read_bytes() == IMAGE
    assert [p.name for p in tmp_path.iterdir()] == [long_ok.name]


@pytest.mark.parametrize("where", ["dest", "url"])
async def test_download_with_a_nul_in_the_name_is_refused_before_any_request(
    where: str, make_server: MakeServer, tmp_path: Path
) -> None:
    server = await image_server(make_server)
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        with pytest.raises(ValueError) as info:
            if where == "dest":
                await client.images.download(f"{server.origin}/files/a.png", f"{tmp_path}/a\0b")
            else:
                await client.images.download(f"{server.origin}/files/a%00b.png", tmp_path)
    assert server.hits == []
    assert "NUL" in str(info.value) or "cannot name" in str(info.value)


async def test_download_that_fills_the_disk_is_a_local_file_error(
    make_server: MakeServer, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    """A real write failure: the file-size limit makes write() fail with EFBIG, as a full
    disk makes it fail with ENOSPC. Neither is a connection error, and neither is retried."""
    server = await image_server(make_server, body=b"x" * (4 * 1024 * 1024))
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    try:
        async with FloImg(API_KEY, base_url=server.base_url, sleep=sleeps) as client:
            resource.setrlimit(resource.RLIMIT_FSIZE, (1024 * 1024, hard))
            try:
                with pytest.raises(LocalFileError) as info:
                    await client.images.download(f"{server.origin}/files/a.png", tmp_path)
            finally:
                resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    finally:
        signal.signal(signal.SIGXFSZ, old_handler)
    assert info.value.path == str(tmp_path / "a.png")
    assert isinstance(info.value.__cause__, OSError)
    assert len(server.hits) == 1 and sleeps.delays == []
    assert list(tmp_path.iterdir()) == [], "the partial file is removed"


# -- item 6: a dest ending in a path separator is a folder --------------------------------------


class FolderLike(os.PathLike[str]):
    def __init__(self, path: str) -> None:
        self.path = path

    def __fspath__(self) -> str:
        return self.path


@pytest.mark.parametrize("form", ["missing", "nested_missing", "existing", "pathlike"])
async def test_dest_ending_in_a_separator_is_a_folder(
    form: str, make_server: MakeServer, tmp_path: Path
) -> None:
    server = await image_server(make_server)
    folder = tmp_path / ("a/b/c" if form == "nested_missing" else "images")
    if form == "existing":
        folder.mkdir()
    dest: Any = str(folder) + os.sep
    if form == "pathlike":
        dest = FolderLike(dest)
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        saved = await client.images.download(f"{server.origin}/files/photo.png", dest)
    assert saved == folder / "photo.png"
    assert saved.read_bytes() == IMAGE
    assert [p.name for p in folder.iterdir()] == ["photo.png"]


async def test_dest_folder_that_cannot_be_created_is_a_local_file_error(
    make_server: MakeServer, tmp_path: Path
) -> None:
    server = await image_server(make_server)
    (tmp_path / "file").write_bytes(b"")
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        with pytest.raises(LocalFileError) as info:
            await client.images.download(f"{server.origin}/files/a.png", f"{tmp_path}/file/sub/")
    assert "file/sub" in str(info.value)
    assert server.hits == []


# -- item 4: wait() timeouts, delete, missing /v1, a second event loop --------------------------


@pytest.mark.parametrize(
    ("status", "retry_after"), [(429, "30"), (503, "30"), (429, "600"), (429, "9")]
)
async def test_wait_timeout_ends_with_wait_timeout_error_even_inside_a_retry_after(
    status: int, retry_after: str, make_server: MakeServer, sleeps: SleepRecorder
) -> None:
    polls = 0

    async def poll(request: web.Request) -> web.Response:
        nonlocal polls
        polls += 1
        if polls == 1:
            return web.json_response({"executionId": "ex_1", "status": "running"})
        return web.json_response(
            {"error": {"code": "busy", "message": "later"}},
            status=status,
            headers={"Retry-After": retry_after},
        )

    server = await make_server()
    server.route("GET", "/v1/workflows/executions/{id}", poll)
    await server.start()
    async with FloImg(API_KEY, base_url=server.base_url, sleep=sleeps) as client:
        with pytest.raises(WaitTimeoutError) as info:
            await client.executions.wait("ex_1", timeout=5, poll_interval=0.1)
    assert info.value.execution is not None and info.value.execution.id == "ex_1"
    assert all(delay <= 5 for delay in sleeps.delays), sleeps.delays


async def test_wait_with_zero_timeout_on_a_running_execution() -> None:
    running = Execution(id="ex_1", status=ExecutionStatus.RUNNING)
    async with FloImg(API_KEY, base_url="http://127.0.0.1:9/v1") as client:
        with pytest.raises(WaitTimeoutError) as info:
            await client.executions.wait(running, timeout=0)
    assert info.value.execution is running


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (204, b"", True),
        (200, b"", True),
        (200, b"  ", True),
        (200, b'{"deleted": true}', True),
        (200, b'{"deleted": false}', False),
        (200, b'{"deleted": "false"}', False),
        (200, b'{"deleted": "true"}', True),
        (200, b'{"deleted": "maybe"}', ResponseDecodeError),
        (200, b'{"deleted": 0}', ResponseDecodeError),
        (200, b'{"error": {"code": "not_found", "message": "gone"}}', NotFoundError),
        (200, b'{"error": "nope", "code": "forbidden"}', APIError),
        (200, b"[]", ResponseDecodeError),
        (200, b"<html>", ResponseDecodeError),
    ],
)
async def test_delete_reads_the_answer_strictly(
    status: int, body: bytes, expected: Any, make_server: MakeServer
) -> None:
    async def delete(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body or None, content_type="application/json")

    server = await make_server()
    server.route("DELETE", "/v1/storage/images/{id}", delete)
    await server.start()
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        if isinstance(expected, bool):
            assert await client.images.delete("img_1") is expected
        else:
            with pytest.raises(expected):
                await client.images.delete("img_1")


@pytest.mark.parametrize("emulator_like", [True, False])
async def test_base_url_without_v1_says_so_and_shows_the_url(
    emulator_like: bool, make_server: MakeServer
) -> None:
    async def not_found(request: web.Request) -> web.Response:
        if emulator_like:
            return web.json_response(
                {"error": {"code": "not_found", "message": "No such endpoint"}}, status=404
            )
        return web.Response(status=404, text="404: Not Found")

    server = await make_server()
    server.app.router.add_route("*", "/{tail:.*}", not_found)
    await server.start()
    async with FloImg(API_KEY, base_url=server.origin) as client:
        with pytest.raises(NotFoundError) as info:
            await client.workflows.get("wf_1")
    text = str(info.value)
    assert "/v1" in text and f"{server.origin}/workflows/wf_1" in text
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        with pytest.raises(NotFoundError) as info:
            await client.workflows.get("wf_1")
    assert "probably lacks" not in str(info.value)


async def test_a_client_used_from_a_second_event_loop_says_so_and_opens_nothing(
    make_server: MakeServer,
) -> None:
    peers: set[Any] = set()

    async def get(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.add(request.transport.get_extra_info("peername"))
        return web.json_response({"id": "wf_1", "name": "w"})

    server = await make_server()
    server.route("GET", "/v1/workflows/{id}", get)
    await server.start()
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        await client.workflows.get("wf_1")
        errors: list[BaseException] = []

        def other_loop() -> None:
            try:
                asyncio.run(client.workflows.get("wf_1"))
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=other_loop)
        thread.start()
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
        assert len(errors) == 1 and isinstance(errors[0], FloImgError), errors
        assert "event loop" in str(errors[0]) and "asyncio.run" in str(errors[0])
        await client.workflows.get("wf_1")  # still fine in its own loop
    assert len(peers) == 1, "the second loop opened no connection"
