"""The transport seam: how a :class:`~floimg_async.FloImg` client reaches the network.

A transport sends one :class:`WireRequest` and returns a
:class:`TransportResponse` (status, headers, and the body as a stream). It does
nothing else: retries, deadlines, rate limits, decoding and errors for error
statuses live above it, in the client. The default transport is aiohttp's
(``floimg_async._aiohttp``, the only SDK module that imports aiohttp).

:class:`MockTransport` is a test double: pass it to ``FloImg(transport=...)``
and your handler answers every request, without sockets::

    from floimg_async import FloImg
    from floimg_async.transports import MockResponse, MockTransport

    def handler(request):
        if request.url.endswith("/workflows/wf_1"):
            return MockResponse(200, json={"id": "wf_1", "name": "Resize"})
        return MockResponse(404, json={"error": {"code": "not_found", "message": "no"}})

    async with FloImg("fsk_test_x", transport=MockTransport(handler)) as client:
        workflow = await client.workflows.get("wf_1")

Everything the client does above the transport (retries and their backoff,
``Retry-After``, the rate-limit gate, decoding, error classes) runs for real.
"""

from __future__ import annotations

import inspect
import json as _json
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, NamedTuple, Protocol, runtime_checkable

from ._errors import APIConnectionError, APITimeoutError, FloImgError

__all__ = [
    "MockResponse",
    "MockTransport",
    "OnRequest",
    "OnResponse",
    "Transport",
    "TransportResponse",
    "WireRequest",
]


class WireRequest(NamedTuple):
    """One HTTP request exactly as it goes on the wire (one attempt of a call).

    ``url`` is absolute; ``params`` are query parameters still to be encoded;
    ``headers`` are this request's own (``Idempotency-Key``, ``Content-Type``)
    — the transport adds the client's default ones, and ``Authorization`` only
    when ``authenticated`` (a URL on the API's origin). ``body`` is ``None``,
    encoded bytes, or an async iterable of bytes (a streamed upload).
    ``timeout`` is the transport's own per-attempt timeout setting (for
    aiohttp, an ``aiohttp.ClientTimeout``), and ``remaining`` the seconds left
    before the call's deadline, when it has one; a transport ends the attempt
    by then.
    """

    method: str
    url: str
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None
    body: bytes | AsyncIterable[bytes] | None = None
    authenticated: bool = True
    timeout: Any = None
    remaining: float | None = None


@runtime_checkable
class TransportResponse(Protocol):
    """An answer whose body has not been read yet; ``aclose()`` it when done."""

    status: int
    headers: Mapping[str, str]
    """Response headers; names are looked up case-insensitively."""

    @property
    def content_length(self) -> int | None:
        """The body's announced length (``Content-Length``), when there is one."""

    async def read(self, limit: int | None) -> bytes:
        """The whole (decompressed) body, but at most ``limit + 1`` bytes of it.

        A result longer than ``limit`` tells the caller the body is over its
        cap, without the transport holding more of it than that.
        """

    def iter_chunks(self, size: int) -> AsyncIterator[bytes]:
        """The (decompressed) body in chunks of at most ``size`` bytes."""

    async def aclose(self) -> None:
        """Release the connection (unread body: the connection is not reused)."""


@runtime_checkable
class Transport(Protocol):
    """Sends wire requests. Raises APIConnectionError/APITimeoutError, never its own errors.

    Errors while reading a body (``read``, ``iter_chunks``) are translated the
    same way. A transport never looks at the status: a 404 is a response.
    """

    async def send(self, request: WireRequest) -> TransportResponse:
        """Send one request and return its response, body unread."""

    async def aclose(self) -> None:
        """Release every connection. Idempotent."""


OnRequest = Callable[[WireRequest], Awaitable[None]]
"""``FloImg(on_request=...)``: awaited before each attempt is sent.

It sees every HTTP attempt the client makes (retries and image downloads
included) as the :class:`WireRequest` about to go out, whose headers never
hold the API key. Awaiting in it delays the attempt (to pace requests, say);
the call's ``deadline`` still applies. What it raises ends the call.
"""

OnResponse = Callable[[WireRequest, TransportResponse], Awaitable[None]]
"""``FloImg(on_response=...)``: awaited with each attempt's request and response.

Called as soon as the status and headers arrive (error statuses and 429s
included), before the body is read. The response it gets carries ``status``,
``headers`` (with the API key scrubbed, like every header the SDK hands out)
and ``content_length``; reading or closing its body raises ``RuntimeError``
(the call reads it). What it raises ends the call.
"""


# -- the test double ---------------------------------------------------------------------------


class MockResponse:
    """A canned answer for :class:`MockTransport`.

    Give ``json`` (encoded for you, ``Content-Type: application/json``) or
    ``body`` bytes; ``headers`` are looked up case-insensitively. ``chunks``
    splits the body when it is streamed (downloads), to exercise progress.
    """

    def __init__(
        self,
        status: int = 200,
        *,
        json: Any = None,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        chunk_size: int = 65536,
    ) -> None:
        if json is not None:
            body = _json.dumps(json).encode()
        self.status = status
        self.headers: Mapping[str, str] = _Headers(headers or {})
        if json is not None and "content-type" not in self.headers:
            self.headers = _Headers({**dict(headers or {}), "Content-Type": "application/json"})
        self.body = body
        self._chunk_size = max(1, chunk_size)
        self.closed = False

    @property
    def content_length(self) -> int | None:
        """The length of ``body``."""
        return len(self.body)

    async def read(self, limit: int | None) -> bytes:
        """The body (at most ``limit + 1`` bytes of it)."""
        return self.body if limit is None else self.body[: limit + 1]

    async def iter_chunks(self, size: int) -> AsyncIterator[bytes]:
        """The body in chunks."""
        step = max(1, min(size, self._chunk_size))
        for start in range(0, len(self.body), step):
            yield self.body[start : start + step]

    async def aclose(self) -> None:
        """Mark the response closed."""
        self.closed = True

    def __repr__(self) -> str:
        return f"MockResponse({self.status}, {len(self.body)} bytes)"


Handler = Callable[[WireRequest], "MockResponse | Awaitable[MockResponse]"]


class MockTransport:
    """A transport whose answers come from ``handler(request)``: no sockets at all.

    ``handler`` takes a :class:`WireRequest` and returns a :class:`MockResponse`
    (or a coroutine of one). To simulate the network failing, raise
    ``ConnectionError``/``OSError`` (becomes :class:`APIConnectionError`) or
    ``TimeoutError`` (:class:`APITimeoutError`) from the handler; they are
    retried like real ones. Streamed upload bodies are read in full before the
    handler runs, so ``request.body`` is always bytes or None. Every request
    is kept in ``requests``, in order.
    """

    def __init__(self, handler: Handler) -> None:
        if not callable(handler):
            raise TypeError("MockTransport needs a handler: a function of a WireRequest")
        self.handler = handler
        self.requests: list[WireRequest] = []
        self.closed = False

    async def send(self, request: WireRequest) -> MockResponse:
        """Hand ``request`` to the handler and return its answer."""
        if self.closed:
            raise FloImgError("this MockTransport is closed")
        body = request.body
        if body is not None and not isinstance(body, bytes):
            chunks = [bytes(chunk) async for chunk in body]
            request = request._replace(body=b"".join(chunks))
        self.requests.append(request)
        try:
            answer = self.handler(request)
            if inspect.isawaitable(answer):
                answer = await answer
        except FloImgError:
            raise
        except TimeoutError as exc:
            raise APITimeoutError(f"{request.method} {request.url}: timed out ({exc})") from exc
        except OSError as exc:
            raise APIConnectionError(
                f"{request.method} {request.url}: the connection failed ({exc})"
            ) from exc
        if not isinstance(answer, MockResponse):
            raise TypeError(
                f"a MockTransport handler must return a MockResponse, got {type(answer).__name__}"
            )
        return answer

    async def aclose(self) -> None:
        """Mark the transport closed. Idempotent."""
        self.closed = True


class _Headers(Mapping[str, str]):
    """A read-only mapping with case-insensitive names (no dependency on multidict)."""

    def __init__(self, items: Mapping[str, str]) -> None:
        self._items = {name.lower(): (name, value) for name, value in items.items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Any:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(dict(self.items()))
