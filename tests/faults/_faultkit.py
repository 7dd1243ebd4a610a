"""Local servers that play the FloImg API and inject faults, for the reliability tests.

Everything listens on 127.0.0.1 only. Two servers share one recorder and one
healthy "API":

* :class:`HttpFaultServer` (aiohttp.web) for HTTP-level faults: status pages,
  bad JSON, wrong shapes, ``Retry-After`` values, redirects;
* :class:`RawFaultServer` (``asyncio.start_server``, hand-written HTTP/1.1) for
  socket-level faults: a reset before any response, a reset mid-body, a body
  shorter than its ``Content-Length``, slow headers, a trickling body.

A fault applies to the next ``budget`` requests (``None``: all of them); after
that the server answers like the API. Both record every request (method, raw
path, headers, body) and count the TCP connections still open, so a test can
prove that a call leaked no connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict

HOST = "127.0.0.1"
#: The key every test client uses; no log line, repr or error may ever contain it.
API_KEY = "fsk_test_S3CRET-k3y-7f9c2e61b0d4"
#: 64 KiB of "image": big enough that a reset mid-body happens mid-download.
IMAGE = bytes(range(256)) * 256
LIST_TOTAL = 5

HTML_PAGE = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
REASONS = {
    200: "OK",
    302: "Found",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}

#: Faults the raw (socket-level) server injects.
RAW_FAULTS = frozenset(
    {"reset_before", "reset_mid_body", "truncated_json", "slow_headers", "trickle_body", "hold"}
)
#: Faults the aiohttp.web server injects.
HTTP_FAULTS = frozenset(
    {
        "invalid_json",
        "wrong_shape",
        "html_502",
        "html_503",
        "html_504",
        "storm_5xx",
        "retry_after_huge",
        "retry_after_negative",
        "retry_after_garbage",
        "retry_after_small",
        "retry_after",
        "custom",
    }
)


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str  # the raw path with its query, exactly as sent
    headers: CIMultiDict[str]
    body: bytes
    at: float = field(default_factory=time.monotonic)


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, payload: Any) -> Answer:
    return Answer(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})


def html_page(status: int) -> bytes:
    return HTML_PAGE.format(code=status, reason=REASONS[status]).encode()


class FakeAPI:
    """The healthy behaviour of the API, enough for every call the tests make."""

    def __init__(self) -> None:
        self.polls: dict[str, int] = {}
        self.executions = 0
        #: How many polls of an execution answer ``running`` before ``completed``.
        self.running_polls = 1

    def answer(
        self, method: str, raw_path: str, body: bytes, origin: str, *, commit: bool = True
    ) -> Answer:
        """The API's answer; ``commit=False`` (a faulted request) leaves no trace in its state."""
        parts = urlsplit(raw_path)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if method == "GET" and path.startswith("/files/"):
            return Answer(200, IMAGE, {"Content-Type": "image/png"})
        if method == "GET" and path in ("/v1/workflows", "/v1/storage/images", "/v1/projects"):
            limit, offset = int(query.get("limit", "20")), int(query.get("offset", "0"))
            key = path.rsplit("/", 1)[1]
            items = [
                self._item(key, i, origin) for i in range(offset, min(LIST_TOTAL, offset + limit))
            ]
            more = offset + len(items) < LIST_TOTAL
            return _json(200, {key: items, "total": LIST_TOTAL, "hasMore": more})
        if method == "GET" and path.startswith("/v1/workflows/executions/"):
            exec_id = unquote(path.rsplit("/", 1)[1])
            seen = self.polls.get(exec_id, 0) + 1
            if commit:
                self.polls[exec_id] = seen
            status = "running" if seen <= self.running_polls else "completed"
            return _json(200, self._execution(exec_id, status, origin))
        if method == "GET" and path.startswith("/v1/workflows/"):
            return _json(200, self._item("workflows", 0, origin, unquote(path.rsplit("/", 1)[1])))
        if method == "POST" and path == "/v1/workflows/execute":
            number = self.executions + 1
            if commit:
                self.executions = number
            request = json.loads(body or b"{}")
            status = "pending" if request.get("async") else "completed"
            return _json(200, self._execution(f"exec_{number}", status, origin))
        if method == "POST" and path == "/v1/storage/upload":
            return _json(200, self._item("images", 0, origin))
        if method == "DELETE" and path.startswith("/v1/storage/images/"):
            return _json(200, {"deleted": True})
        if method == "POST" and path == "/v1/projects":
            name = json.loads(body or b"{}").get("name")
            return _json(200, {"id": "proj_new", "name": name, "createdAt": "2026-01-15T10:00:00Z"})
        if method == "GET" and path.startswith("/v1/storage/images/"):
            return _json(200, self._item("images", 0, origin, unquote(path.rsplit("/", 1)[1])))
        return _json(404, {"error": {"code": "not_found", "message": f"no route {path}"}})

    @staticmethod
    def _item(key: str, index: int, origin: str, item_id: str | None = None) -> dict[str, Any]:
        stamp = "2026-01-15T10:00:00Z"
        if key == "workflows":
            return {
                "id": item_id or f"wf_{index}",
                "name": f"Workflow {index}",
                "projectId": "proj_1",
                "parameters": [{"name": "prompt", "type": "string", "required": True}],
                "createdAt": stamp,
                "updatedAt": stamp,
            }
        if key == "images":
            return {
                "id": item_id or f"img_{index}",
                "url": f"{origin}/files/img_{index}.png",
                "name": "hero.png",
                "size": len(IMAGE),
                "format": "png",
                "createdAt": stamp,
            }
        return {"id": f"proj_{index}", "name": f"Project {index}", "createdAt": stamp}

    @staticmethod
    def _execution(exec_id: str, status: str, origin: str) -> dict[str, Any]:
        payload: dict[str, Any] = {"executionId": exec_id, "workflowId": "wf_1", "status": status}
        if status == "completed":
            payload["output"] = {"url": f"{origin}/files/{exec_id}.png", "format": "png"}
            payload["duration"] = 12
        return payload


class _Base:
    """What both servers share: the fault switch, the recorder and the fake API."""

    def __init__(self) -> None:
        self.fault: str | None = None
        self.budget: int | None = None
        self.match: Callable[[Seen], bool] | None = None
        self.seen: list[Seen] = []
        self.api = FakeAPI()
        self.port = 0
        #: Seconds a slow fault waits (it stops early when the client hangs up).
        self.slow_for = 5.0
        #: Seconds between two bytes of a trickling body.
        self.trickle_every = 0.05
        #: Set when a request has been recorded (cancellation tests wait on it).
        self.received = asyncio.Event()
        #: Set when a trickling body has started going out.
        self.body_started = asyncio.Event()
        #: Set when a request's headers have arrived (before its body is read).
        self.headers_received = asyncio.Event()
        #: Seconds to pause between 64 KiB reads of a request body (a slow reader).
        self.read_delay = 0.0
        self.on_request: Callable[[Seen], None] | None = None

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def set_fault(
        self,
        fault: str | None,
        budget: int | None = None,
        match: str | Callable[[Seen], bool] | None = None,
    ) -> None:
        """Inject ``fault`` into the next ``budget`` requests (``None``: every one).

        ``match`` limits it to requests whose raw path contains that text, or for
        which that predicate is true.
        """
        if isinstance(match, str):
            fragment = match
            self.match = lambda seen: fragment in seen.path
        else:
            self.match = match
        self.fault, self.budget = fault, budget

    def heal(self) -> None:
        self.fault, self.budget, self.match = None, None, None

    async def wait_for_request(self, fragment: str, within: float = 3.0) -> Seen:
        """Wait until a request whose raw path contains ``fragment`` has arrived."""
        loop = asyncio.get_running_loop()
        stop_at = loop.time() + within
        while loop.time() < stop_at:
            for seen in self.seen:
                if fragment in seen.path:
                    return seen
            await asyncio.sleep(0.005)
        raise AssertionError(f"no request for {fragment!r} within {within}s: {self.paths()}")

    def _record(self, seen: Seen) -> str | None:
        """Record a request and return the fault it gets (if any)."""
        self.seen.append(seen)
        self.received.set()
        if self.on_request is not None:
            self.on_request(seen)
        fault = self.fault
        if fault is None:
            return None
        if self.match is not None and not self.match(seen):
            return None
        if self.budget is not None:
            if self.budget <= 0:
                return None
            self.budget -= 1
        return fault

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]

    async def __aenter__(self) -> Any:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    async def stop(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def open_connections(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError


# -- the raw, socket-level server --------------------------------------------------------------


class RawFaultServer(_Base):
    """A hand-written HTTP/1.1 server on ``asyncio.start_server`` for socket-level faults."""

    def __init__(self) -> None:
        super().__init__()
        self._server: asyncio.Server | None = None
        self._open = 0
        self.connections_total = 0

    @property
    def open_connections(self) -> int:
        return self._open

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open += 1
        self.connections_total += 1
        try:
            while True:
                seen = await _read_request(reader, self)
                if seen is None:
                    return
                fault = self._record(seen)
                if not await self._respond(seen, fault, reader, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            self._open -= 1
            if not writer.is_closing():
                writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _respond(
        self,
        seen: Seen,
        fault: str | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Answer one request; return whether the connection stays usable."""
        answer = self.api.answer(
            seen.method, seen.path, seen.body, self.origin, commit=fault is None
        )
        if fault == "reset_before":
            _reset(writer)
            return False
        if fault in ("slow_headers", "hold") and await _client_hung_up(reader, self.slow_for):
            return False
        head = _head(answer, len(answer.body))
        if fault == "reset_mid_body":
            writer.write(head + answer.body[: max(1, len(answer.body) // 4)])
            await writer.drain()
            await asyncio.sleep(0.02)
            _reset(writer)
            return False
        if fault == "truncated_json":
            # Content-Length promises the whole body; half of it comes, then a clean close.
            writer.write(head + answer.body[: len(answer.body) // 2])
            await writer.drain()
            writer.close()
            return False
        if fault == "trickle_body":
            writer.write(head)
            await writer.drain()
            self.body_started.set()
            for index in range(len(answer.body)):
                if writer.is_closing() or reader.at_eof():
                    return False
                writer.write(answer.body[index : index + 1])
                await writer.drain()
                if await _client_hung_up(reader, self.trickle_every):
                    return False
            return True
        writer.write(head + answer.body)
        await writer.drain()
        return True


def _head(answer: Answer, length: int) -> bytes:
    lines = [f"HTTP/1.1 {answer.status} {REASONS.get(answer.status, 'Whatever')}"]
    lines += [f"{k}: {v}" for k, v in answer.headers.items()]
    lines += [f"Content-Length: {length}", "Connection: keep-alive", "", ""]
    return "\r\n".join(lines).encode()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), not a clean FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _client_hung_up(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Wait up to ``seconds``; return True as soon as the client closes the connection."""
    try:
        data = await asyncio.wait_for(reader.read(65536), seconds)
    except asyncio.TimeoutError:
        return False
    except ConnectionError:
        return True
    return data == b""


async def _read_request(reader: asyncio.StreamReader, server: _Base) -> Seen | None:
    line = await reader.readline()
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: CIMultiDict[str] = CIMultiDict()
    for _ in range(200):
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers.add(name.strip(), value.strip())
    server.headers_received.set()
    body = b""
    if "Content-Length" in headers:
        left = int(headers["Content-Length"])
        parts = []
        while left > 0:
            if server.read_delay:
                await asyncio.sleep(server.read_delay)
            part = await reader.readexactly(min(left, 65536))
            parts.append(part)
            left -= len(part)
        body = b"".join(parts)
    elif headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        for _ in range(1_000_000):
            size = int((await reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readline()
                break
            chunks.append(await reader.readexactly(size))
            await reader.readline()
        body = b"".join(chunks)
    return Seen(method, target, headers, body)


# -- the aiohttp.web server ------------------------------------------------------------------------


class HttpFaultServer(_Base):
    """An aiohttp.web server for HTTP-level faults (and for redirects and header checks).

    With ``ssl_context`` it serves https (for the TLS-verification tests).
    """

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__()
        self._ssl_context = ssl_context
        self._runner: web.AppRunner | None = None
        #: path -> absolute URL to redirect to (302), for the cross-origin tests.
        self.redirects: dict[str, str] = {}
        #: The Retry-After header value of the plain ``retry_after`` fault.
        self.retry_after = "1"
        #: The answer of the ``custom`` fault: status, body, content type.
        self.custom: tuple[int, bytes, str] = (200, b"{}", "application/json")

    @property
    def origin(self) -> str:
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://{HOST}:{self.port}"

    @property
    def open_connections(self) -> int:
        if self._runner is None or self._runner.server is None:
            return 0
        return len(self._runner.server.connections)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0, ssl_context=self._ssl_context)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        seen = Seen(request.method, request.raw_path, CIMultiDict(request.headers), body)
        fault = self._record(seen)
        target = self.redirects.get(urlsplit(request.raw_path).path)
        if target is not None and fault is None:
            raise web.HTTPFound(target)
        request_id = f"req_{len(self.seen)}"
        if fault is None:
            answer = self.api.answer(request.method, request.raw_path, body, self.origin)
            headers = {**answer.headers, "X-Request-Id": request_id}
            return web.Response(status=answer.status, body=answer.body, headers=headers)
        if fault == "custom":
            status, payload, content_type = self.custom
            response = web.Response(status=status, body=payload, content_type=content_type)
        else:
            response = _http_fault(fault, self.retry_after)
        response.headers["X-Request-Id"] = request_id
        return response


def _http_fault(fault: str, retry_after_value: str) -> web.Response:
    if fault == "invalid_json":
        return web.Response(
            status=200, body=b'{"id": "wf_1", "name": ', content_type="application/json"
        )
    if fault == "wrong_shape":
        return web.json_response({"hello": "world", "items": "not-a-list"})
    if fault.startswith("html_"):
        status = int(fault[5:])
        return web.Response(status=status, body=html_page(status), content_type="text/html")
    if fault == "storm_5xx":
        return web.json_response(
            {"error": {"code": "internal_error", "message": "the server fell over"}}, status=500
        )
    retry_after = {
        "retry_after_huge": "3600",
        "retry_after_negative": "-5",
        "retry_after_garbage": "soon, maybe",
        "retry_after_small": "0.05",
        "retry_after": retry_after_value,
    }[fault]
    return web.json_response(
        {"error": {"code": "rate_limited", "message": "slow down"}},
        status=429,
        headers={"Retry-After": retry_after},
    )


# -- helpers for tests ---------------------------------------------------------------------------


class SleepRecorder:
    """An injectable ``sleep`` that records every delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def closed_port() -> int:
    """A local port nothing listens on (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class NoNetworkResolver(aiohttp.abc.AbstractResolver):
    """A resolver that fails every name at once and never sends a DNS query anywhere."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        raise OSError(socket.EAI_NONAME, f"Name or service not known: {host}")

    async def close(self) -> None:
        return None


def no_dns_session() -> aiohttp.ClientSession:
    """A session whose every name lookup fails locally (for the unresolvable-host case)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=NoNetworkResolver()))


async def settle(*servers: _Base, within: float = 2.0) -> None:
    """Wait until no server has an open connection and no task but the caller's is alive.

    Then assert it: a leaked connection or background task fails the test.
    """
    current = asyncio.current_task()
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + within
    while True:
        open_count = sum(s.open_connections for s in servers)
        stray = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        if (open_count == 0 and not stray) or loop.time() > stop_at:
            break
        await asyncio.sleep(0.01)
    assert open_count == 0, f"{open_count} connection(s) still open on the server"
    assert not stray, f"stray tasks left behind: {stray}"


async def stray_tasks_after(within: float = 1.0) -> list[asyncio.Task[Any]]:
    """Tasks other than the caller's still alive after ``within`` seconds of grace."""
    current = asyncio.current_task()
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + within
    while True:
        stray = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        if not stray or loop.time() > stop_at:
            return stray
        await asyncio.sleep(0.01)


async def wait_for_event(event: asyncio.Event, within: float = 2.0) -> None:
    await asyncio.wait_for(event.wait(), within)


Call = Callable[..., Awaitable[Any]]


# -- fixtures (conftest files of the other test folders import these) ---------------------------


@pytest.fixture
async def raw_server() -> AsyncIterator[RawFaultServer]:
    """A socket-level fault server on 127.0.0.1."""
    async with RawFaultServer() as server:
        yield server


@pytest.fixture
async def http_server() -> AsyncIterator[HttpFaultServer]:
    """An aiohttp.web fault server on 127.0.0.1."""
    async with HttpFaultServer() as server:
        yield server


@pytest.fixture
async def tripwire() -> AsyncIterator[HttpFaultServer]:
    """A server that fails the test if it receives anything at all."""
    async with HttpFaultServer() as server:
        yield server
        assert server.seen == [], f"a request went out although it should not: {server.paths()}"


@pytest.fixture
def sleeps() -> SleepRecorder:
    """A fake ``sleep`` that records delays: tests never really wait for backoff."""
    return SleepRecorder()
