"""run_many, the rate-limit gate and waiter cancellation against a real local server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator

import pytest
from _support import API_KEY, LocalServer
from aiohttp import web

from floimg_async import APIError, FloImg, RunResult, WorkflowFailedError


class ExecuteServer:
    """Sync execute that takes ``delay`` seconds; counts requests in flight server-side."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0
        self.started = 0
        self.cancelled = 0
        self.finished = 0

    async def execute(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.started += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1
        n = body["parameters"].get("n")
        if n == "boom":
            return web.json_response(
                {"error": {"code": "workflow_failed", "message": f"item {n} failed"}}, status=500
            )
        self.finished += 1
        return web.json_response(
            {"executionId": f"exec_{n}", "status": "completed", "output": {"url": f"/f/{n}.png"}}
        )


async def start(make_server, handler: ExecuteServer) -> LocalServer:
    server = await make_server()
    server.route("POST", "/v1/workflows/execute", handler.execute)
    await server.start()
    return server


async def test_run_many_bounds_concurrency_and_yields_every_result(make_server) -> None:
    handler = ExecuteServer(delay=0.03)
    server = await start(make_server, handler)
    sets = [{"n": i} for i in range(40)]
    sets[7] = {"n": "boom"}
    async with FloImg(API_KEY, base_url=server.base_url, max_retries=0) as client:
        results: list[RunResult] = [
            r async for r in client.workflows.run_many("wf", sets, concurrency=5)
        ]
    assert handler.max_in_flight == 5
    assert sorted(r.index for r in results) == list(range(40))
    failed = [r for r in results if not r.ok]
    assert [r.index for r in failed] == [7]
    assert isinstance(failed[0].error, WorkflowFailedError)
    assert failed[0].execution is None and failed[0].parameters == {"n": "boom"}
    assert all(
        r.execution is not None and r.execution.id == f"exec_{r.index}" for r in results if r.ok
    )


async def test_run_many_reads_parameter_sets_lazily(make_server) -> None:
    handler = ExecuteServer(delay=0.01)
    server = await start(make_server, handler)
    pulled = 0

    def endless() -> Iterator[dict[str, int]]:
        nonlocal pulled
        for i in range(1_000_000):
            pulled += 1
            yield {"n": i}

    async with FloImg(API_KEY, base_url=server.base_url) as client:
        got = 0
        async with contextlib.aclosing(
            client.workflows.run_many("wf", endless(), concurrency=4)
        ) as results:
            async for _ in results:
                got += 1
                if got == 10:
                    break
    assert pulled <= 10 + 4 + 1


async def test_run_many_accepts_an_async_iterable_and_bad_items(make_server) -> None:
    handler = ExecuteServer(delay=0.0)
    server = await start(make_server, handler)

    async def sets():
        yield {"n": 1}
        yield ["not", "a", "mapping"]
        yield {"n": 2}

    async with FloImg(API_KEY, base_url=server.base_url) as client:
        results = {r.index: r async for r in client.workflows.run_many("wf", sets())}
    assert results[0].ok and results[2].ok
    assert isinstance(results[1].error, TypeError) and handler.started == 2


async def test_closing_run_many_early_cancels_in_flight_work(make_server) -> None:
    server = await make_server()
    calls = 0
    hung_up = 0

    async def first_fast_then_hang(request: web.Request) -> web.Response:
        nonlocal calls, hung_up
        calls += 1
        await request.read()
        if calls > 1:
            # aiohttp no longer cancels handlers when the client goes away, so watch
            # the transport: the client's cancellation must close the connection.
            for _ in range(500):
                transport = request.transport
                if transport is None or transport.is_closing():
                    hung_up += 1
                    raise asyncio.CancelledError
                await asyncio.sleep(0.01)
        return web.json_response({"executionId": f"exec_{calls}", "status": "completed"})

    server.route("POST", "/v1/workflows/execute", first_fast_then_hang)
    await server.start()
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        gen = client.workflows.run_many("wf", [{"n": i} for i in range(10)], concurrency=3)
        first = await gen.__anext__()
        assert first.ok
        await gen.aclose()
        ours = [t for t in asyncio.all_tasks() if "_run_one" in repr(t.get_coro())]
        assert ours == []
        for _ in range(100):
            if hung_up == 2:
                break
            await asyncio.sleep(0.01)
        assert hung_up == 2 and calls == 3  # two in flight were abandoned; nothing more sent
        calls = 0  # the client is still usable after the early stop
        assert (await client.workflows.execute("wf", {"n": 99})).succeeded


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_run_many_concurrency_must_be_positive(bad: object) -> None:
    client = FloImg(API_KEY, base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ValueError, match="concurrency"):
        client.workflows.run_many("wf", [{}], concurrency=bad)  # type: ignore[arg-type]


async def test_after_a_429_every_request_waits_for_the_retry_after_moment(make_server) -> None:
    server = await make_server()
    loop = asyncio.get_running_loop()
    arrivals: list[tuple[float, str]] = []
    limited_at: list[float] = []

    async def get(request: web.Request) -> web.Response:
        arrivals.append((loop.time(), request.match_info["id"]))
        if request.match_info["id"] == "first" and not limited_at:
            limited_at.append(loop.time())
            return web.json_response(
                {"error": {"code": "rate_limited", "message": "slow down", "retryAfter": 0.4}},
                status=429,
            )
        return web.json_response({"id": request.match_info["id"]})

    server.route("GET", "/v1/workflows/{id}", get)
    await server.start()
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        first = asyncio.ensure_future(client.workflows.get("first"))
        # Until the client has read the 429 (not merely the server sent it), nothing
        # tells the others to wait: that is the moment this test starts from.
        while client.stats.rate_limited == 0:
            await asyncio.sleep(0.005)
        others = await asyncio.gather(*(client.workflows.get(f"w{i}") for i in range(5)))
        assert (await first).id == "first"
    assert [w.id for w in others] == [f"w{i}" for i in range(5)]
    later = [t for t, _ in arrivals[1:]]
    assert len(later) == 6
    assert min(later) >= limited_at[0] + 0.35  # nobody went out before the moment


async def test_cancelling_wait_stops_polling_at_once(make_server) -> None:
    server = await make_server()
    polls = 0

    async def status(request: web.Request) -> web.Response:
        nonlocal polls
        polls += 1
        return web.json_response({"executionId": "exec_1", "status": "running"})

    server.route("GET", "/v1/workflows/executions/{id}", status)
    await server.start()
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        task = asyncio.ensure_future(
            client.executions.wait("exec_1", poll_interval=0.02, max_poll_interval=0.02)
        )
        while polls < 3:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        seen = polls
        await asyncio.sleep(0.1)
        assert polls == seen
        assert (
            await client.executions.get("exec_1")
        ).status == "running"  # still usable afterwards


async def test_a_dropped_connection_is_retried_with_the_same_key(make_server) -> None:
    server = await make_server()
    keys: list[str] = []

    async def execute(request: web.Request) -> web.Response:
        keys.append(request.headers["Idempotency-Key"])
        await request.read()
        if len(keys) == 1:
            assert request.transport is not None
            request.transport.close()  # the server processed it, then the connection died
            raise asyncio.CancelledError
        return web.json_response({"executionId": "exec_1", "status": "completed"})

    server.route("POST", "/v1/workflows/execute", execute)
    await server.start()
    async with FloImg(API_KEY, base_url=server.base_url, sleep=_no_wait) as client:
        execution = await client.workflows.execute("wf", {"prompt": "x"})
    assert execution.succeeded
    assert len(keys) == 2 and keys[0] == keys[1]


async def _no_wait(seconds: float) -> None:
    return None


async def test_api_errors_from_a_real_server_keep_the_request_id(make_server) -> None:
    server = await make_server()

    async def missing(request: web.Request) -> web.Response:
        return web.Response(
            status=404,
            text=json.dumps(
                {"error": {"code": "not_found", "message": "Workflow wf_x doesn't exist"}}
            ),
            headers={"X-Request-Id": "req_123"},
            content_type="application/json",
        )

    server.route("GET", "/v1/workflows/{id}", missing)
    await server.start()
    async with FloImg(API_KEY, base_url=server.base_url) as client:
        with pytest.raises(APIError) as info:
            await client.workflows.get("wf_x")
    assert str(info.value) == "404 not_found: Workflow wf_x doesn't exist (request_id=req_123)"
