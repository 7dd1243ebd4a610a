"""The benchmark server: a minimal aiohttp app serving the FloImg API's shapes on 127.0.0.1.

It runs in its own process so its CPU never counts against the client being
measured. Bodies are pre-encoded (or generated once and cached), so the server
stays cheap and the same for the SDK and the raw-aiohttp baseline.

    python -m benchmarks._server --port 0 [--lifetime 1800]

prints ``BENCH_BASE_URL=...`` and ``BENCH_API_KEY=...`` once it listens, and
stops when its stdin closes, on SIGTERM, or after ``--lifetime`` seconds.

API routes (under /v1, Bearer key required):
  GET  /workflows/{id}                  a pre-encoded Workflow
  GET  /workflows?limit&offset          pages over a virtual 100,000 workflows
  POST /storage/upload                  drains the multipart body, answers an Image
  GET  /workflows/executions/{id}       a time-based job made by POST /_bench/jobs

Control routes (no key):
  GET  /_bench/connections              {"opened": n, "open": n} TCP connections
  POST /_bench/config                   {"page_latency": seconds} for the list route
  POST /_bench/jobs                     {"seconds": s} -> {"executionId", "completesAt"}
  GET  /_bench/jobs/{id}                {"polls": n, "completesAt": t} (time.monotonic)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import BodyPartReader, web

from benchmarks._proc import ServerProcess, python_module

API_KEY = "fsk_test_bench"
TOTAL_WORKFLOWS = 100_000
MAX_LIMIT = 100
_JSON = "application/json"
_STAMP = "2026-01-10T08:00:00Z"
_RATE_HEADERS = {
    "X-RateLimit-Limit": "100000",
    "X-RateLimit-Remaining": "99999",
    "X-RateLimit-Reset": "1893456000",
}


def _envelope(status: int, code: str, message: str) -> web.Response:
    body = json.dumps({"error": {"code": code, "message": message, "details": {}}})
    return web.Response(status=status, text=body, content_type=_JSON)


def workflow_body(workflow_id: str) -> bytes:
    """Encode the GET /workflows/{id} answer for ``workflow_id``."""
    return json.dumps(
        {
            "id": workflow_id,
            "name": "Social Media Image",
            "description": "Generate OG images for blog posts",
            "projectId": "proj_def456",
            "parameters": [
                {"name": "prompt", "type": "string", "required": True},
                {"name": "width", "type": "number", "default": 1200},
                {"name": "height", "type": "number", "default": 630},
            ],
            "createdAt": _STAMP,
            "updatedAt": "2026-01-14T12:00:00Z",
        }
    ).encode()


def page_body(offset: int, limit: int) -> bytes:
    """Encode one page of the virtual workflow list (cheap string assembly, no json.dumps)."""
    stop = min(offset + limit, TOTAL_WORKFLOWS)
    items = ",".join(
        f'{{"id":"wf_{i:06d}","name":"Workflow {i}","projectId":"proj_bench",'
        f'"createdAt":"{_STAMP}","updatedAt":"{_STAMP}"}}'
        for i in range(offset, stop)
    )
    has_more = "true" if stop < TOTAL_WORKFLOWS else "false"
    return f'{{"workflows":[{items}],"total":{TOTAL_WORKFLOWS},"hasMore":{has_more}}}'.encode()


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Job:
    """A time-based execution: pending, then running, then completed at ``completes_at``."""

    id: str
    created: float
    completes_at: float
    created_wall: float
    polls: int = 0

    def body(self, now: float) -> bytes:
        elapsed = now - self.created
        data: dict[str, Any] = {
            "executionId": self.id,
            "workflowId": "wf_bench_wait",
            "startedAt": _iso(self.created_wall),
        }
        if now >= self.completes_at:
            data["status"] = "completed"
            data["completedAt"] = _iso(self.created_wall + (self.completes_at - self.created))
            data["output"] = {
                "url": f"https://storage.floimg.com/images/{self.id}.png",
                "width": 64,
                "height": 64,
                "format": "png",
            }
            data["duration"] = int((self.completes_at - self.created) * 1000)
        else:
            total = self.completes_at - self.created
            data["status"] = "pending" if elapsed < 0.1 * total else "running"
        return json.dumps(data).encode()


@dataclass
class State:
    """Everything the server keeps between requests."""

    page_latency: float = 0.0
    opened: int = 0
    server: web.Server | None = None
    workflows: dict[str, bytes] = field(default_factory=dict)
    pages: dict[tuple[int, int], bytes] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    job_ids: itertools.count[int] = field(default_factory=itertools.count)
    upload_ids: itertools.count[int] = field(default_factory=itertools.count)


STATE = web.AppKey("state", State)
_AUTH = f"Bearer {API_KEY}"


def _authorised(request: web.Request) -> bool:
    return request.headers.get("Authorization") == _AUTH


def _json(body: bytes, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, content_type=_JSON, headers=_RATE_HEADERS)


async def get_workflow(request: web.Request) -> web.Response:
    if not _authorised(request):
        return _envelope(401, "unauthorized", "Invalid or missing API key")
    cache = request.app[STATE].workflows
    workflow_id = request.match_info["workflow_id"]
    body = cache.get(workflow_id)
    if body is None:
        body = cache[workflow_id] = workflow_body(workflow_id)
    return _json(body)


async def list_workflows(request: web.Request) -> web.Response:
    if not _authorised(request):
        return _envelope(401, "unauthorized", "Invalid or missing API key")
    state = request.app[STATE]
    try:
        limit = int(request.query.get("limit", "20"))
        offset = int(request.query.get("offset", "0"))
    except ValueError:
        return _envelope(400, "invalid_request", "limit and offset must be integers")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        return _envelope(400, "invalid_request", "limit must be 1..100, offset >= 0")
    if state.page_latency > 0:
        await asyncio.sleep(state.page_latency)
    key = (offset, limit)
    body = state.pages.get(key)
    if body is None:
        body = state.pages[key] = page_body(offset, limit)
    return _json(body)


async def upload(request: web.Request) -> web.Response:
    """Read the multipart body chunk by chunk, keep only its size, answer an Image."""
    if not _authorised(request):
        return _envelope(401, "unauthorized", "Invalid or missing API key")
    reader = await request.multipart()
    size, name, filename = -1, None, None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file":
            filename = part.filename
            size = 0
            while chunk := await part.read_chunk(1 << 18):
                size += len(chunk)
        elif part.name == "name":
            name = await part.text()
        else:
            await part.release()
    if size < 0:
        return _envelope(400, "invalid_request", "multipart field 'file' is required")
    image_id = f"img_{next(request.app[STATE].upload_ids):06d}"
    body = {
        "id": image_id,
        "url": f"https://storage.floimg.com/images/{image_id}.png",
        "name": name or filename or "upload.bin",
        "size": size,
        "format": "png",
        "width": 1200,
        "height": 630,
        "createdAt": _STAMP,
    }
    return _json(json.dumps(body).encode(), status=201)


async def get_execution(request: web.Request) -> web.Response:
    if not _authorised(request):
        return _envelope(401, "unauthorized", "Invalid or missing API key")
    job = request.app[STATE].jobs.get(request.match_info["execution_id"])
    if job is None:
        return _envelope(404, "not_found", "Execution doesn't exist")
    job.polls += 1
    return _json(job.body(time.monotonic()))


async def bench_connections(request: web.Request) -> web.Response:
    state = request.app[STATE]
    open_now = len(state.server.connections) if state.server is not None else -1
    return web.json_response({"opened": state.opened, "open": open_now})


async def bench_config(request: web.Request) -> web.Response:
    state = request.app[STATE]
    payload = await request.json()
    state.page_latency = float(payload.get("page_latency", state.page_latency))
    return web.json_response({"page_latency": state.page_latency})


async def bench_create_job(request: web.Request) -> web.Response:
    state = request.app[STATE]
    seconds = float((await request.json())["seconds"])
    now = time.monotonic()
    job = Job(
        id=f"exec_{next(state.job_ids):06d}",
        created=now,
        completes_at=now + seconds,
        created_wall=time.time(),
    )
    state.jobs[job.id] = job
    return web.json_response({"executionId": job.id, "completesAt": job.completes_at})


async def bench_job(request: web.Request) -> web.Response:
    job = request.app[STATE].jobs.get(request.match_info["execution_id"])
    if job is None:
        return _envelope(404, "not_found", "no such job")
    return web.json_response({"polls": job.polls, "completesAt": job.completes_at})


def make_app() -> web.Application:
    """Build the benchmark app (routes in the module docstring)."""
    app = web.Application()
    app[STATE] = State()
    app.router.add_get("/v1/workflows", list_workflows)
    app.router.add_get("/v1/workflows/executions/{execution_id}", get_execution)
    app.router.add_get("/v1/workflows/{workflow_id}", get_workflow)
    app.router.add_post("/v1/storage/upload", upload)
    app.router.add_get("/_bench/connections", bench_connections)
    app.router.add_post("/_bench/config", bench_config)
    app.router.add_post("/_bench/jobs", bench_create_job)
    app.router.add_get("/_bench/jobs/{execution_id}", bench_job)
    return app


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop the server when the parent closes our stdin (or dies)."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        loop.call_soon_threadsafe(stop.set)


async def serve(host: str, port: int, lifetime: float) -> None:
    """Serve until stdin closes or ``lifetime`` seconds pass."""
    app = make_app()
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    server = runner.server
    assert server is not None
    state = app[STATE]
    state.server = server

    def protocol() -> asyncio.Protocol:
        # Counting here, at accept time, is what shows connection churn.
        state.opened += 1
        return server()

    loop = asyncio.get_running_loop()
    listener = await loop.create_server(protocol, host, port, backlog=1024)
    bound = listener.sockets[0].getsockname()[1]
    print(f"BENCH_BASE_URL=http://{host}:{bound}/v1", flush=True)
    print(f"BENCH_API_KEY={API_KEY}", flush=True)
    stop = asyncio.Event()
    threading.Thread(target=_watch_stdin, args=(loop, stop), daemon=True).start()
    try:
        await asyncio.wait_for(stop.wait(), timeout=lifetime)
    except asyncio.TimeoutError:
        pass
    finally:
        listener.close()
        await runner.cleanup()


class BenchServer(ServerProcess):
    """Launch ``python -m benchmarks._server`` and know its URLs once it listens."""

    exits_on_eof = True

    def __init__(self, lifetime: float = 1800.0) -> None:
        argv = python_module("benchmarks._server", "--port", "0", "--lifetime", str(lifetime))
        super().__init__(argv, ("BENCH_BASE_URL", "BENCH_API_KEY"))

    @property
    def base_url(self) -> str:
        return self.values["BENCH_BASE_URL"]

    @property
    def api_key(self) -> str:
        return self.values["BENCH_API_KEY"]

    @property
    def origin(self) -> str:
        return self.base_url.removesuffix("/v1")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=1800.0, help="stop after N s")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, args.lifetime))


if __name__ == "__main__":
    main()
