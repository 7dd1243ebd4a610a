"""What a successful response said: ``client.raw_response(...)`` and ``client.with_raw_response``.

A call's value (a :class:`~floimg_async.Workflow`, say) carries no HTTP
details. To read them, await the call through :meth:`FloImg.raw_response`
(typed) or ``client.with_raw_response.<resource>.<method>(...)`` (openai's
spelling); both give a :class:`RawResponse` holding the value and what the
last HTTP response of the call said: status, headers (key scrubbed), request
id, rate-limit headers, attempts.

How, in one place for every coroutine method: the wrapper puts a
:class:`Seen` slot in a :class:`~contextvars.ContextVar` for the duration of
the call, and the sender (``Sender._attempt``) fills it on every 2xx response.
Context variables are per task, so concurrent calls (``asyncio.gather``) never
see each other's responses. Until the first wrapped call the sender reads
one class attribute per response; after it, one ``ContextVar.get`` too.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from ._errors import FloImgError, _request_id
from ._ratelimit import RateLimitInfo
from ._redact import scrub, scrub_headers
from .transports import TransportResponse

__all__ = ["CAPTURING", "SEEN", "RawResponse", "RawResponses", "Seen", "raw_response"]

T = TypeVar("T")


class Seen:
    """The slot a wrapped call's 2xx responses are recorded in (the last one wins)."""

    __slots__ = ("attempts", "body", "headers", "received", "responses", "status")

    def __init__(self) -> None:
        self.responses = 0
        self.status = 0
        self.headers: Mapping[str, str] = {}
        self.attempts = 0
        self.body: bytes | None = None
        self.received = 0.0

    def record(
        self, response: TransportResponse, attempt: int, body: bytes | None, secret: str
    ) -> None:
        """Keep what ``response`` said (the key scrubbed from its headers)."""
        self.responses += 1
        self.status = response.status
        self.headers = scrub_headers(response.headers, secret)
        self.attempts = attempt
        self.body = body
        self.received = time.time()


SEEN: ContextVar[Seen | None] = ContextVar("floimg_async_seen", default=None)
"""The slot of the call being awaited through ``raw_response``, if any (per task)."""


class CAPTURING:
    """Whether ``raw_response`` was ever used in this process (any task, thread or client).

    Until then the sender skips even the ``ContextVar`` lookup. Only ever set
    to True, so threads cannot race it into a wrong state.
    """

    used = False


class RawResponse(Generic[T]):
    """A call's value together with what its last HTTP response said.

    ``status`` and ``headers`` (looked up case-insensitively; the API key and
    ``Authorization``-like headers scrubbed) are the last 2xx response's.
    ``request_id`` is its ``X-Request-Id`` (quote it to FloImg support);
    ``rate_limit`` is its ``X-RateLimit-*`` headers as a
    :class:`~floimg_async.RateLimitInfo` (``None`` without them).
    ``attempts`` is how many attempts that request took (1: no retry) and
    ``retries`` the retries among them; ``responses`` counts the successful
    HTTP responses of the whole call (more than 1 for ``workflows.run`` or
    ``executions.wait``, which poll); ``elapsed`` is the call's duration in
    seconds, retries and waits included. ``content`` is the last response's
    raw body (``None`` when it was streamed, as by ``images.download(dest=...)``).
    :meth:`parse` returns the value the call returns without the wrapper.
    """

    __slots__ = (
        "_value",
        "attempts",
        "content",
        "elapsed",
        "headers",
        "rate_limit",
        "request_id",
        "responses",
        "status",
    )

    def __init__(self, value: T, seen: Seen, elapsed: float, secret: str) -> None:
        self._value = value
        self.status: int = seen.status
        self.headers: Mapping[str, str] = seen.headers
        request_id = _request_id(seen.headers)
        self.request_id: str | None = scrub(request_id, secret) if request_id else None
        self.rate_limit: RateLimitInfo | None = RateLimitInfo.from_headers(
            seen.headers, received=seen.received
        )
        self.attempts: int = seen.attempts
        self.responses: int = seen.responses
        self.elapsed: float = elapsed
        self.content: bytes | None = seen.body

    @property
    def retries(self) -> int:
        """Retries the last request needed (``attempts - 1``)."""
        return self.attempts - 1

    def parse(self) -> T:
        """Return the call's value: what awaiting the call without the wrapper returns.

        Already decoded (the SDK decodes inside the attempt), so this costs nothing.
        """
        return self._value

    def __repr__(self) -> str:
        return (
            f"RawResponse(status={self.status}, request_id={self.request_id!r}, "
            f"attempts={self.attempts}, elapsed={self.elapsed:.3f}, "
            f"rate_limit={self.rate_limit!r})"
        )


_NOT_A_CALL = (
    "raw_response() takes the call itself, not yet awaited: "
    "await client.raw_response(client.workflows.get('wf_1'))"
)
_PAGER = (
    "a listing is a pager of many requests, not one response: iterate it and read "
    "client.rate_limit for the rate-limit headers, or page with "
    "client.raw_response(client.request('GET', '/workflows', params={...}))"
)


async def raw_response(call: Coroutine[Any, Any, T], secret: str) -> RawResponse[T]:
    """Await ``call`` and return its value with what its last 2xx response said.

    Raises what the call raises; ``TypeError`` when ``call`` is not an
    un-awaited coroutine of an SDK call (a pager, a task, a value);
    :class:`FloImgError` when the call got no HTTP response at all.
    """
    if not inspect.iscoroutine(call):
        if hasattr(call, "pages") and hasattr(call, "to_list"):
            raise TypeError(_PAGER)
        if inspect.isawaitable(call):
            # A task or future runs in its own context: its responses are not seen here.
            raise TypeError(f"{_NOT_A_CALL}; got a {type(call).__name__}")
        raise TypeError(f"{_NOT_A_CALL}; got {type(call).__name__}")
    if inspect.getcoroutinestate(call) != inspect.CORO_CREATED:
        raise TypeError(f"{_NOT_A_CALL}; this coroutine was already started")
    seen = Seen()
    token = SEEN.set(seen)
    loop = asyncio.get_running_loop()
    started = loop.time()
    CAPTURING.used = True
    try:
        value = await call
    finally:
        SEEN.reset(token)
    if seen.responses == 0:
        raise FloImgError(
            "raw_response(): the awaited call got no HTTP response from a FloImg client; "
            "pass an SDK call such as client.workflows.get('wf_1')"
        )
    return RawResponse(value, seen, loop.time() - started, secret)


class RawResponses:
    """``client.with_raw_response``: every resource, each coroutine method returning a RawResponse.

    ``await client.with_raw_response.workflows.get("wf_1")`` is
    ``await client.raw_response(client.workflows.get("wf_1"))``, spelled as in
    openai-python. Built generically: any coroutine method of any resource is
    wrapped, none is listed here. Listings (``list``, ``run_many``) are not
    single responses and raise ``AttributeError`` here; read
    ``client.rate_limit`` while iterating them. For a typed result use
    :meth:`FloImg.raw_response`.
    """

    __slots__ = ("_client",)

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> _RawResource:
        resource = getattr(self._client, name, None)
        if name.startswith("_") or resource is None or not hasattr(resource, "_sender"):
            raise AttributeError(
                f"with_raw_response has no resource {name!r}; use one of "
                "workflows, executions, images, projects"
            )
        return _RawResource(resource, name, self._client)

    def __repr__(self) -> str:
        return f"<with_raw_response of {self._client!r}>"


class _RawResource:
    """One resource under ``with_raw_response``: its coroutine methods, wrapped."""

    __slots__ = ("_client", "_name", "_resource")

    def __init__(self, resource: Any, name: str, client: Any) -> None:
        self._resource = resource
        self._name = name
        self._client = client

    def __getattr__(self, name: str) -> Callable[..., Awaitable[RawResponse[Any]]]:
        method = getattr(self._resource, name, None)
        if name.startswith("_") or method is None:
            raise AttributeError(f"{self._name} has no method {name!r}")
        if not inspect.iscoroutinefunction(method):
            raise AttributeError(f"with_raw_response.{self._name}.{name}: {_PAGER}")
        client = self._client

        def call(*args: Any, **kwargs: Any) -> Awaitable[RawResponse[Any]]:
            return client.raw_response(method(*args, **kwargs))  # type: ignore[no-any-return]

        call.__name__ = name
        call.__doc__ = method.__doc__
        return call

    def __repr__(self) -> str:
        return f"<with_raw_response.{self._name}>"
