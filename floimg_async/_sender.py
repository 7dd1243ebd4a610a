"""The request path: one call, its retries, its deadline — over any transport.

:meth:`Sender.call` is the one retry loop, to be read top to bottom::

    attempt 1, 2, … :
        wait at the rate-limit gate (bounded by max_retry_after and the deadline)
        build the wire request (pure: ``_wire.build_wire``)
        transport.send → status, headers, body stream
        error status → classify (pure: ``_wire.classify_error``) and raise
        else → read the body (capped) and decode it, or hand the stream on
    on a failure: the policy (tenacity's stop and wait) says whether and how
    long to wait; past the deadline we stop; else log, count, sleep, go again.

Nothing here imports aiohttp: the transport is a
:class:`~floimg_async.transports.Transport`. Errors leave with the key
scrubbed (:func:`~floimg_async._redact.redact`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeVar

import attrs

from ._errors import (
    APIConnectionError,
    DeadlineExceededError,
    FloImgError,
    RateLimitedError,
    ResponseTooLargeError,
)
from ._ratelimit import RateGate, RateLimitInfo
from ._redact import mask_userinfo, redact, scrub, scrub_headers
from ._request import Request, new_idempotency_key
from ._response import CAPTURING, SEEN
from ._retry import RetryPolicy
from ._uploads import Progress
from ._wire import ERROR_BODY_BYTES, build_wire, classify_error
from .transports import OnRequest, OnResponse, Transport, TransportResponse, WireRequest

__all__ = ["ClientStats", "Decoder", "Sender", "Shared", "logger", "read_all", "too_large"]

logger = logging.getLogger("floimg_async")

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Decoder = Callable[[bytes, int], T]
"""Turns a 2xx body (read whole, capped) and its status into the call's value."""
Consumer = Callable[[TransportResponse], Awaitable[T]]
"""Reads a 2xx response's body stream itself (downloads to a file)."""

DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024


@attrs.define(slots=True)
class ClientStats:
    """Live counters of a client (shared with its ``with_options`` copies).

    ``requests``: HTTP attempts sent (retries included). ``retries``: attempts
    that were retries. ``rate_limited``: 429 answers received. ``rate_waits``:
    requests held at the rate-limit gate. Read them any time; they only grow.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    rate_waits: int = 0


class _HookView:
    """What ``on_response`` sees: status and headers (key scrubbed), never the body.

    The body belongs to the call that is reading it; a hook reading it would
    leave the call nothing. Headers a server echoed the key into are scrubbed
    like everything else the SDK hands out (``scrub_headers`` returns the same
    mapping when nothing needs it, so a clean response costs one pass).
    """

    __slots__ = ("content_length", "headers", "status")

    def __init__(self, response: TransportResponse, secret: str) -> None:
        self.status = response.status
        self.headers = scrub_headers(response.headers, secret)
        self.content_length = response.content_length

    async def read(self, limit: int | None) -> bytes:
        raise RuntimeError("on_response must not read the body; the call reads it")

    def iter_chunks(self, size: int) -> AsyncIterator[bytes]:
        raise RuntimeError("on_response must not read the body; the call reads it")

    async def aclose(self) -> None:
        raise RuntimeError("on_response must not close the response; the call does")


class Shared:
    """What a client and its ``with_options`` copies share: transport, gate, counters."""

    __slots__ = (
        "_rate_info",
        "closed",
        "gate",
        "on_request",
        "on_response",
        "rate_seen",
        "secret",
        "stats",
        "transport",
    )

    def __init__(
        self,
        transport: Transport,
        secret: str,
        *,
        on_request: OnRequest | None = None,
        on_response: OnResponse | None = None,
    ) -> None:
        self.transport = transport
        self.on_request = on_request
        """Awaited with each attempt's wire request before it is sent."""
        self.on_response = on_response
        """Awaited with each attempt's wire request and response (body unread)."""
        self.secret = secret
        """The API key, scrubbed from everything a server echoes back."""
        self.gate = RateGate()
        self.stats = ClientStats()
        self.closed = False
        self.rate_seen: Mapping[str, str] | None = None
        """The headers of the latest API response carrying ``X-RateLimit-Remaining``;
        parsed only when someone reads ``rate_limit``."""
        self._rate_info: tuple[object, RateLimitInfo | None] = (None, None)

    @property
    def rate_limit(self) -> RateLimitInfo | None:
        """The latest response's ``X-RateLimit-*`` headers, parsed once per response."""
        seen = self.rate_seen
        if seen is None:
            return None
        cached_for, info = self._rate_info
        if cached_for is not seen:
            info = RateLimitInfo.from_headers(seen)
            self._rate_info = (seen, info)
        return info


_DEBUG_ON = logger.isEnabledFor
_RATE_HEADER = "x-ratelimit-remaining"


class Sender:
    """Sends calls over a :class:`Shared` transport with one client's settings."""

    def __init__(
        self,
        shared: Shared,
        *,
        base_url: str,
        timeout: Any,
        policy: RetryPolicy,
        deadline: float | None,
        sleep: Sleep | None,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        max_download_bytes: int | None = DEFAULT_MAX_DOWNLOAD_BYTES,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.shared = shared
        self.headers = headers
        """Extra headers for every request to the API (``default_headers``)."""
        self.base_url = base_url
        self.closed = False
        self.timeout = timeout
        self.policy = policy
        self.deadline = deadline
        self.sleep: Sleep = sleep or asyncio.sleep
        self.max_response_bytes = max_response_bytes
        self.max_download_bytes = max_download_bytes

    # -- the entry points ------------------------------------------------------------------------

    def decoded(
        self,
        request: Request,
        decode: Decoder[T],
        *,
        deadline_at: float | None = None,
        download: bool = False,
    ) -> Coroutine[Any, Any, T]:
        """Send ``request``; read the 2xx body and return ``decode(body, status)``.

        The body is capped by ``max_response_bytes`` (``max_download_bytes``
        for a ``download``).
        """
        return self.call(request, decode, None, deadline_at, None, download)

    def streamed(
        self,
        request: Request,
        consume: Consumer[T],
        *,
        deadline_at: float | None = None,
        on_progress: Progress | None = None,
    ) -> Coroutine[Any, Any, T]:
        """Send ``request``; hand a 2xx response to ``consume`` inside the attempt.

        ``consume`` runs inside the attempt, so a connection that breaks while
        it reads is retried like any other failure. ``on_progress`` follows an
        upload's body.
        """
        return self.call(request, None, consume, deadline_at, on_progress, False)

    # -- the retry loop --------------------------------------------------------------------------

    async def call(
        self,
        request: Request,
        decode: Decoder[T] | None,
        consume: Consumer[T] | None,
        deadline_at: float | None,
        on_progress: Progress | None,
        download: bool,
    ) -> T:
        """Send ``request`` until it succeeds, cannot be retried, or runs out of time."""
        if self.closed or self.shared.closed:
            raise FloImgError("this FloImg client is closed; create a new FloImg to go on")
        if request.method == "POST" and request.idempotency_key is None:
            request = request._replace(idempotency_key=new_idempotency_key())
        loop = asyncio.get_running_loop()
        if deadline_at is None and self.deadline is not None:
            deadline_at = loop.time() + self.deadline
        attempt = 1
        while True:
            try:
                return await self._attempt(
                    request, attempt, decode, consume, deadline_at, on_progress, download
                )
            except FloImgError as error:
                wait = self._plan(request, error, attempt)
                if wait is None:
                    raise
                if deadline_at is not None and loop.time() + wait >= deadline_at:
                    raise DeadlineExceededError(
                        f"{request.what}: gave up after {attempt} attempt(s) to stay within "
                        f"the call's deadline; last error: {error}"
                    ) from error
                self.shared.stats.retries += 1
                if logger.isEnabledFor(logging.INFO):
                    logger.info(
                        "retrying %s %s in %.2fs (attempt %d failed: %s)",
                        request.method,
                        mask_userinfo(request.path),
                        wait,
                        attempt,
                        error,
                    )
                await self.sleep(wait)
                attempt += 1

    def _plan(self, request: Request, error: FloImgError, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None to raise ``error`` now."""
        if self.closed or self.shared.closed:
            return None
        upload = request.upload
        if upload is not None and not upload.can_retry:
            return None
        return self.policy.plan(error, attempt)

    # -- one attempt -----------------------------------------------------------------------------

    async def _attempt(
        self,
        request: Request,
        attempt: int,
        decode: Decoder[T] | None,
        consume: Consumer[T] | None,
        deadline_at: float | None,
        on_progress: Progress | None,
        download: bool,
    ) -> T:
        shared = self.shared
        loop = asyncio.get_running_loop()
        if loop.time() < shared.gate.hold_until:
            await self._wait_at_gate(request, loop, deadline_at)
        remaining = None
        if deadline_at is not None:
            remaining = deadline_at - loop.time()
            if remaining <= 0:
                raise DeadlineExceededError(f"{request.what}: the call's deadline passed")
        wire, stream = build_wire(
            request,
            base_url=self.base_url,
            timeout=self.timeout,
            remaining=remaining,
            on_progress=on_progress,
            headers=self.headers,
        )
        debug = _DEBUG_ON(logging.DEBUG)
        started = loop.time() if debug else 0.0
        response: TransportResponse | None = None
        try:
            if shared.on_request is not None:
                wire = await self._before_send(request, wire, loop, deadline_at)
            shared.stats.requests += 1
            response = await shared.transport.send(wire)
            if _RATE_HEADER in response.headers and request.authenticated:
                # The API's (not a download host's); kept unparsed until read.
                shared.rate_seen = response.headers
            if shared.on_response is not None:
                await shared.on_response(wire, _HookView(response, shared.secret))
            status = response.status
            if status >= 400:
                body = await response.read(ERROR_BODY_BYTES)
                error = classify_error(
                    status,
                    response.headers,
                    body[:ERROR_BODY_BYTES],
                    method=request.method,
                    url=wire.url,
                    base_url=self.base_url,
                )
                if isinstance(error, RateLimitedError):
                    shared.stats.rate_limited += 1
                    self._close_gate(error, response, loop)
                raise error
            if decode is not None:
                if download:
                    body = await read_all(response, self.max_download_bytes, "max_download_bytes")
                else:
                    body = await read_all(response, self.max_response_bytes, "max_response_bytes")
                result = decode(body, status)
            else:
                assert consume is not None
                result = await consume(response)
            if CAPTURING.used:  # client.raw_response(...) was used in this process
                slot = SEEN.get()
                if slot is not None:  # and it is this one
                    slot.record(response, attempt, body if decode else None, shared.secret)
            if debug:
                self._log(request, attempt, status, started, response)
            return result
        except FloImgError as error:
            if stream is not None and stream.failure is not None:
                # The upload's own file (or the progress callback) failed, not the network.
                failure = stream.failure
                if isinstance(failure, FloImgError):
                    redact(failure, shared.secret)
                raise failure from None
            if isinstance(error, APIConnectionError) and not error.args[0].startswith(request.what):
                error.args = (f"{request.what}: {error.args[0]}", *error.args[1:])
            redact(error, shared.secret)
            upload = request.upload
            if (
                isinstance(error, APIConnectionError)
                and upload is not None
                and not upload.can_retry
            ):
                raise APIConnectionError(
                    f"{error}; not retried: the upload's source (an async iterable or an "
                    "unseekable file) was partly sent and cannot be replayed. Upload from "
                    "a path, bytes or a seekable file to have failed uploads retried."
                ) from error
            if debug:
                seen = response.status if response is not None else None
                self._log(request, attempt, seen, started, response, error)
            raise
        finally:
            if response is not None:
                await response.aclose()
            if stream is not None:
                stream.close()

    async def _before_send(
        self,
        request: Request,
        wire: WireRequest,
        loop: asyncio.AbstractEventLoop,
        deadline_at: float | None,
    ) -> WireRequest:
        """Await the ``on_request`` hook; the time it took comes off the attempt's deadline."""
        assert self.shared.on_request is not None
        await self.shared.on_request(wire)
        if deadline_at is None:
            return wire
        remaining = deadline_at - loop.time()
        if remaining <= 0:
            raise DeadlineExceededError(f"{request.what}: the call's deadline passed")
        return wire._replace(remaining=remaining)

    async def _wait_at_gate(
        self, request: Request, loop: asyncio.AbstractEventLoop, deadline_at: float | None
    ) -> None:
        """Hold a request while the rate limit says so: never past max_retry_after or deadline."""
        delay = min(self.shared.gate.delay(loop.time()), self.policy.max_retry_after)
        if delay <= 0:
            return
        if deadline_at is not None and loop.time() + delay > deadline_at:
            raise DeadlineExceededError(
                f"{request.what}: the API asked to wait {delay:.1f}s (rate limit), "
                "longer than the call's deadline allows"
            )
        self.shared.stats.rate_waits += 1
        await self.sleep(delay)

    def _close_gate(
        self, error: RateLimitedError, response: TransportResponse, loop: asyncio.AbstractEventLoop
    ) -> None:
        retry_after = error.retry_after
        if retry_after is None or retry_after > self.policy.max_retry_after:
            return
        self.shared.gate.rate_limited(loop.time(), retry_after, response.headers)

    def _log(
        self,
        request: Request,
        attempt: int,
        status: int | None,
        started: float,
        response: TransportResponse | None,
        error: BaseException | None = None,
    ) -> None:
        elapsed = asyncio.get_running_loop().time() - started
        request_id = response.headers.get("x-request-id") if response is not None else None
        if request_id is not None:
            request_id = scrub(request_id, self.shared.secret)
        logger.debug(
            "%s %s -> %s attempt=%d elapsed=%.3fs request_id=%s%s",
            request.method,
            mask_userinfo(request.path),
            status if status is not None else "no response",
            attempt,
            elapsed,
            request_id,
            f" error={error}" if error is not None else "",
        )


def too_large(status: int, limit: int, setting: str) -> ResponseTooLargeError:
    """The error for a body over its cap, naming the setting that raises it."""
    return ResponseTooLargeError(
        f"the response body is larger than {setting}={limit} bytes; raise it with "
        f"FloImg({setting}=...) (None: no limit)",
        status=status,
        limit=limit,
    )


async def read_all(response: TransportResponse, limit: int | None, setting: str) -> bytes:
    """The whole body, or ResponseTooLargeError when it is over ``limit`` bytes."""
    body = await response.read(limit)
    if limit is not None and len(body) > limit:
        raise too_large(response.status, limit, setting)
    return body
