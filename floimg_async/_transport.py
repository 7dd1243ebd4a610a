"""The only module that talks to aiohttp: send a :class:`Request`, get a response.

It owns the connection pool (a lazily created ``ClientSession`` or the
caller's), the client-wide rate-limit gate, retries (tenacity driving the pure
policy in :mod:`._retry`), per-attempt timeouts and the call deadline, logging,
and the translation of aiohttp exceptions into the SDK's own.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import platform
import random
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from tenacity import AsyncRetrying, RetryCallState
from yarl import URL

from ._errors import (
    APIConnectionError,
    APITimeoutError,
    DeadlineExceededError,
    FloImgError,
    NotFoundError,
    RateLimitedError,
    ResponseTooLargeError,
    error_for_status,
)
from ._ratelimit import RateGate
from ._redact import mask_userinfo, redact, scrub
from ._request import Request, new_idempotency_key
from ._retry import RetryPolicy, is_retryable, wait_for
from ._version import __version__

__all__ = ["USER_AGENT", "Pool", "Response", "Sender", "logger"]

logger = logging.getLogger("floimg_async")

USER_AGENT = (
    f"floimg-async/{__version__} aiohttp/{aiohttp.__version__} Python/{platform.python_version()}"
)

# Error bodies are read only for their message: the first 64 KiB say all there is.
ERROR_BODY_BYTES = 64 * 1024
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024


T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Consumer = Callable[[aiohttp.ClientResponse], Awaitable[T]]
Decoder = Callable[[bytes, int], T]


@attrs.frozen(slots=True)
class Response:
    """A successful (2xx) answer, fully read."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Pool:
    """The connection pool and state shared by a client and its ``with_options`` copies.

    ``headers`` go with every request to the API's origin; requests to other
    origins (downloads) get them without ``Authorization``. When the pool
    creates its own connections it makes two sessions over one connector, each
    sending its headers itself: aiohttp copies a session's headers in C, while
    per-request headers cost a Python loop on every request. The API session
    only ever sends to the API's origin (aiohttp drops ``Authorization`` on a
    redirect to another origin); the public session never has the key. With
    the caller's session, the headers go with each request instead.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None,
        max_connections: int,
        trace_configs: list[aiohttp.TraceConfig] | None,
        headers: Mapping[str, str],
    ) -> None:
        self._session = session
        self._public_session: aiohttp.ClientSession | None = None
        self.owns_session = session is None
        self._max_connections = max_connections
        self._trace_configs = trace_configs
        self._headers = dict(headers)
        self._public_headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        auth = self._headers.get("Authorization", "")
        self.secret = auth[len("Bearer ") :] if auth.startswith("Bearer ") else auth
        """The API key, for scrubbing it from anything a server echoes back."""
        # What each request adds to its session's own headers: nothing, when the
        # sessions are ours.
        self.request_headers: Mapping[str, str] | None = (
            None if self.owns_session else self._headers
        )
        self.public_request_headers: Mapping[str, str] | None = (
            None if self.owns_session else self._public_headers
        )
        self.closed = False
        self.gate = RateGate()
        self.loop: asyncio.AbstractEventLoop | None = None
        """The event loop the pool's connections belong to, once known."""

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Tie the pool to ``loop`` on first use; refuse any other loop afterwards.

        aiohttp's connections belong to the loop that opened them; using them
        from another loop fails in obscure ways or hangs.
        """
        if self.loop is None:
            owner = getattr(self._session, "_loop", None) if self._session is not None else None
            self.loop = owner if isinstance(owner, asyncio.AbstractEventLoop) else loop
        if self.loop is not loop:
            raise FloImgError(
                "this FloImg client is being used from a different event loop than the one "
                "it first ran in; a client (and its connection pool) belongs to one event "
                "loop. Create the client inside the loop that uses it (e.g. within the "
                "coroutine you pass to asyncio.run), one client per loop."
            )

    def get_session(self) -> aiohttp.ClientSession:
        """The session for the API's origin, created on first use inside the running loop."""
        session = self._session
        if session is None:
            if self.closed:
                raise FloImgError("this FloImg client is closed; create a new FloImg to go on")
            session = self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                trace_configs=self._trace_configs,
                headers=self._headers,
            )
        return session

    def get_public_session(self) -> aiohttp.ClientSession:
        """The session for other origins (no API key), on the same connections."""
        if not self.owns_session:
            return self.get_session()
        public = self._public_session
        if public is None:
            api = self.get_session()
            public = self._public_session = aiohttp.ClientSession(
                connector=api.connector,
                connector_owner=False,
                trace_configs=self._trace_configs,
                headers=self._public_headers,
            )
        return public

    async def close(self) -> None:
        """Close the sessions if this pool created them. Idempotent.

        Raises FloImgError when called from another live event loop than the
        one the pool's connections belong to (they can only be closed there).
        """
        if self.loop is not None and self.owns_session and self._session is not None:
            running = asyncio.get_running_loop()
            if running is not self.loop and not self.loop.is_closed():
                raise FloImgError(
                    "close() was called from a different event loop than the one this "
                    "FloImg client runs in; close it in its own loop"
                )
        self.closed = True
        public, self._public_session = self._public_session, None
        session, self._session = self._session, None
        if public is not None:
            await public.close()
        if session is not None and self.owns_session:
            await session.close()


def _translate(exc: BaseException, request: Request, timeout: float | None) -> FloImgError:
    """Turn an aiohttp/OS exception from one attempt into the SDK's own."""
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        limit = f" after {timeout:g}s" if timeout else ""
        return APITimeoutError(f"{request.what}: the request timed out{limit}")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return APIConnectionError(f"{request.what}: the response body was cut short ({exc})")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return APIConnectionError(
            f"{request.what}: could not connect to {exc.host}:{exc.port} ({exc.os_error or exc})"
        )
    text = str(exc) or type(exc).__name__
    return APIConnectionError(f"{request.what}: the connection failed ({text})")


@attrs.define(slots=True)
class _Call(Generic[T]):
    """One logical call across its attempts: what to send and how far it has got."""

    request: Request
    # How a 2xx answer is read: handed to ``consume``, or read whole and decoded.
    consume: Consumer[T] | None
    decode: Decoder[T] | None
    deadline_at: float | None
    loop: asyncio.AbstractEventLoop
    attempts: int = 0
    # The wait chosen after a failed attempt, planned once so the deadline check and
    # the sleep see the same jittered number (tenacity 8 asks stop() first, 9 wait()).
    planned_wait: float = 0.0
    planned_for: int = 0
    # The fast path's failure, handed to tenacity as its first attempt.
    replay: FloImgError | None = None


_DEBUG_ON = functools.partial(logger.isEnabledFor, logging.DEBUG)

_CONNECTION_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError, TimeoutError)


class Sender:
    """Sends requests over a :class:`Pool` with one client's timeout, retries and deadline."""

    def __init__(
        self,
        pool: Pool,
        *,
        base_url: str,
        timeout: aiohttp.ClientTimeout,
        policy: RetryPolicy,
        deadline: float | None,
        sleep: Sleep | None,
        rand: Callable[[], float] = random.random,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        max_download_bytes: int | None = DEFAULT_MAX_DOWNLOAD_BYTES,
    ) -> None:
        self.pool = pool
        self.base_url = base_url
        self.max_response_bytes = max_response_bytes
        self.max_download_bytes = max_download_bytes
        # A base URL without a version segment is the usual cause of 404 everywhere.
        self._unversioned = re.search(r"/v\d+$", urlsplit(base_url).path) is None
        self.closed = False
        self.timeout = timeout
        self.policy = policy
        self.deadline = deadline
        self.sleep: Sleep = sleep or asyncio.sleep
        self._rand = rand

    def send(
        self, request: Request, *, limit: int | None, deadline_at: float | None = None
    ) -> Coroutine[Any, Any, Response]:
        """Send ``request`` with retries; return the 2xx response (body up to ``limit``)."""
        return self._send(request, reader(limit), None, deadline_at)

    def send_with(
        self, request: Request, consume: Consumer[T], *, deadline_at: float | None = None
    ) -> Coroutine[Any, Any, T]:
        """Send with retries; on a 2xx answer hand the live response to ``consume``.

        ``consume`` runs inside the attempt, so a connection that breaks while it
        reads is retried like any other. ``deadline_at`` (loop time) bounds the
        whole call, sleeps included; the client's ``deadline`` applies otherwise.
        """
        return self._send(request, consume, None, deadline_at)

    def send_decoded(
        self, request: Request, decode: Decoder[T], *, deadline_at: float | None = None
    ) -> Coroutine[Any, Any, T]:
        """Send with retries; read a 2xx body and return ``decode(body, status)``.

        The common case of :meth:`send_with`, without a coroutine per call for
        the consumer. ``decode`` raises ResponseDecodeError for a bad body
        (not retried).
        """
        return self._send(request, None, decode, deadline_at)

    async def _send(
        self,
        request: Request,
        consume: Consumer[T] | None,
        decode: Decoder[T] | None,
        deadline_at: float | None,
    ) -> T:
        if self.closed or self.pool.closed:
            raise FloImgError("this FloImg client is closed; create a new FloImg to go on")
        if request.method == "POST" and request.idempotency_key is None:
            request = request._replace(idempotency_key=new_idempotency_key())
        loop = asyncio.get_running_loop()
        if self.pool.loop is not loop:
            self.pool.bind(loop)
        if deadline_at is None and self.deadline is not None:
            deadline_at = loop.time() + self.deadline
        call = _Call(request, consume, decode, deadline_at, loop)
        # Fast path: most calls succeed at once, and building tenacity's machinery
        # costs as much CPU as aiohttp's own request. Only a failure worth retrying
        # hands over to tenacity, replayed to it as attempt 1 so one policy decides.
        try:
            return await self._attempt(call)
        except FloImgError as exc:
            if self.policy.max_retries == 0 or not self._retryable(call, exc):
                raise
            call.replay = exc
        retrying = AsyncRetrying(
            sleep=self.sleep,
            stop=self._stop,
            wait=self._wait,
            retry=self._should_retry,
            before_sleep=self._before_sleep,
            retry_error_callback=self._give_up,
        )
        result: T = await retrying(self._retry_attempt, call)
        return result

    async def _retry_attempt(self, call: _Call[T]) -> T:
        """An attempt under tenacity: the first is the failure the fast path already saw."""
        replay, call.replay = call.replay, None
        if replay is not None:
            raise replay
        return await self._attempt(call)

    def _retryable(self, call: _Call[Any], error: BaseException) -> bool:
        if self.closed or self.pool.closed or not is_retryable(error, self.policy):
            return False
        upload = call.request.upload
        return upload is None or upload.can_retry

    # -- one attempt -------------------------------------------------------------------------

    async def _attempt(self, call: _Call[T]) -> T:
        call.attempts += 1
        request, deadline_at, loop = call.request, call.deadline_at, call.loop
        attempt = call.attempts
        pool = self.pool
        now = loop.time()
        if now < pool.gate.hold_until:
            delay = min(pool.gate.delay(now), self.policy.max_retry_after)
            if delay > 0:
                await self._wait_for_gate(request, delay, deadline_at)
        timeout = self.timeout
        if deadline_at is not None:
            remaining = deadline_at - loop.time()
            if remaining <= 0:
                raise DeadlineExceededError(f"{request.what}: the call's deadline passed")
            if timeout.total is None or remaining < timeout.total:
                timeout = attrs.evolve(timeout, total=remaining)
        if request.authenticated:
            session, headers = pool.get_session(), pool.request_headers
        else:
            session, headers = pool.get_public_session(), pool.public_request_headers
        data: Any = None
        stream = None
        if request.method != "GET":
            headers = dict(headers or {})
            if request.idempotency_key is not None:
                headers["Idempotency-Key"] = request.idempotency_key
            if request.json is not None:
                headers["Content-Type"] = "application/json"
                data = request.json
            elif request.upload is not None:
                headers["Content-Type"] = request.upload.header
                if request.upload.length is not None:
                    headers["Content-Length"] = str(request.upload.length)
                data = stream = request.upload.open()
        url = request.path if request.path.startswith("http") else self.base_url + request.path
        debug = _DEBUG_ON()
        started = now if debug else 0.0
        try:
            async with session.request(
                request.method,
                url,
                params=request.params,
                data=data,
                headers=headers,
                timeout=timeout,
            ) as resp:
                status = resp.status
                if status >= 400:
                    body = await read_capped(resp, ERROR_BODY_BYTES, truncate=True)
                    api_error = error_for_status(status, resp.headers, body)
                    if debug:
                        self._log_attempt(request, attempt, status, started, resp.headers)
                    if isinstance(api_error, RateLimitedError):
                        self._close_gate(api_error.retry_after, resp.headers)
                    elif isinstance(api_error, NotFoundError) and self._unversioned:
                        _hint_missing_version(api_error, request, url, self.base_url)
                    raise api_error
                decode = call.decode
                if decode is not None:
                    result = decode(await read_capped(resp, self.max_response_bytes), status)
                else:
                    assert call.consume is not None
                    result = await call.consume(resp)
                if debug:
                    self._log_attempt(request, attempt, status, started, resp.headers)
                return result
        except FloImgError as exc:
            # Servers may echo the key back: in an error body, in a header, in a
            # body that does not decode. Nothing the SDK raises repeats it.
            if stream is not None and stream.failure is not None and exc is not stream.failure:
                raise redact(stream.failure, pool.secret) from None
            redact(exc, pool.secret, clean_aiohttp)
            raise
        except _CONNECTION_ERRORS as exc:
            if stream is not None and stream.failure is not None:
                # The upload's own file changed under it: not the network's fault.
                raise redact(stream.failure, pool.secret) from None
            redact(exc, pool.secret, clean_aiohttp)
            if self.closed or pool.closed:
                raise FloImgError(
                    f"{request.what}: the FloImg client was closed while this call was running"
                ) from exc
            error = redact(_translate(exc, request, timeout.total), pool.secret)
            upload = request.upload
            if upload is not None and not upload.can_retry:
                error = APIConnectionError(
                    f"{error}; not retried: the upload's source (an async iterable or an "
                    "unseekable file) was partly sent and cannot be replayed. Upload from a "
                    "path, bytes or a seekable file to have failed uploads retried."
                )
            if debug:
                self._log_attempt(request, attempt, None, started, None, error)
            raise error from exc
        except asyncio.CancelledError:
            # close() cancels the calls that wait for a pooled connection; a task that
            # nobody cancelled gets a FloImgError saying so, not a bare CancelledError.
            if (self.closed or pool.closed) and not _being_cancelled():
                raise FloImgError(
                    f"{request.what}: the FloImg client was closed while this call "
                    "waited for a connection"
                ) from None
            raise
        except ValueError as exc:
            # aiohttp refuses some URLs with ValueError (a redirect to a URL with a
            # password while the request carries the key, say). Not retried.
            redact(exc, pool.secret, clean_aiohttp)
            raise FloImgError(
                f"{request.what}: the request could not be sent to "
                f"{mask_userinfo(url)} ({scrub(str(exc), pool.secret)})"
            ) from exc
        except RuntimeError as exc:
            # aiohttp raises RuntimeError for a session the caller already closed.
            raise FloImgError(
                f"{request.what}: the aiohttp session cannot be used ({exc}); "
                "was the session passed to FloImg closed?"
            ) from exc
        finally:
            if stream is not None:
                stream.close()

    async def _wait_for_gate(
        self, request: Request, delay: float, deadline_at: float | None
    ) -> None:
        if deadline_at is not None:
            loop = asyncio.get_running_loop()
            if loop.time() + delay > deadline_at:
                raise DeadlineExceededError(
                    f"{request.what}: the API asked to wait {delay:.1f}s (rate limit), "
                    "longer than the call's deadline allows"
                )
        await self.sleep(delay)

    def _close_gate(self, retry_after: float | None, headers: Mapping[str, str]) -> None:
        if retry_after is None or retry_after > self.policy.max_retry_after:
            return
        self.pool.gate.rate_limited(asyncio.get_running_loop().time(), retry_after, headers)

    # -- tenacity hooks: thin adapters over the pure policy ---------------------------------

    def _should_retry(self, state: RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is None or not outcome.failed:
            return False
        error = outcome.exception()
        return error is not None and self._retryable(state.args[0], error)

    def _plan(self, state: RetryCallState) -> tuple[_Call[Any], float]:
        call: _Call[Any] = state.args[0]
        if call.planned_for != state.attempt_number:
            outcome = state.outcome
            error = outcome.exception() if outcome is not None else None
            assert error is not None
            call.planned_wait = wait_for(error, state.attempt_number, self.policy, self._rand)
            call.planned_for = state.attempt_number
        return call, call.planned_wait

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number > self.policy.max_retries:
            return True
        call, wait = self._plan(state)
        if call.deadline_at is None:
            return False
        return asyncio.get_running_loop().time() + wait >= call.deadline_at

    def _wait(self, state: RetryCallState) -> float:
        return self._plan(state)[1]

    def _before_sleep(self, state: RetryCallState) -> None:
        if logger.isEnabledFor(logging.INFO):
            outcome = state.outcome
            assert outcome is not None
            request: Request = state.args[0].request
            logger.info(
                "retrying %s %s in %.2fs (attempt %d failed: %s)",
                request.method,
                mask_userinfo(request.path),
                state.upcoming_sleep,
                state.attempt_number,
                outcome.exception(),
            )

    def _give_up(self, state: RetryCallState) -> Any:
        outcome = state.outcome
        assert outcome is not None
        error = outcome.exception()
        assert error is not None
        request: Request = state.args[0].request
        deadline_at = state.args[0].deadline_at
        if (
            deadline_at is not None
            and state.attempt_number <= self.policy.max_retries
            and is_retryable(error, self.policy)
        ):
            raise DeadlineExceededError(
                f"{request.what}: gave up after {state.attempt_number} attempt(s) to stay "
                f"within the call's deadline; last error: {error}"
            ) from error
        raise error

    def _log_attempt(
        self,
        request: Request,
        attempt: int,
        status: int | None,
        started: float,
        headers: Mapping[str, str] | None,
        error: BaseException | None = None,
    ) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            elapsed = asyncio.get_running_loop().time() - started
            request_id = headers.get("x-request-id") if headers is not None else None
            if request_id is not None:
                request_id = scrub(request_id, self.pool.secret)
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


async def read_capped(
    resp: aiohttp.ClientResponse, limit: int | None, *, truncate: bool = False
) -> bytes:
    """Read a body, decompressed, but never more than ``limit`` bytes of it.

    Over the limit: raise ResponseTooLargeError, or with ``truncate`` return the
    first ``limit`` bytes (error bodies, read only for their message). aiohttp
    inflates compressed bodies in bounded chunks, so a gzip bomb stops at the cap.
    """
    length = resp.content_length
    if limit is None or (
        length is not None and length <= limit and "Content-Encoding" not in resp.headers
    ):
        return await resp.read()  # the common case: a small, plain body of known size
    if length is not None and length > limit and not truncate:
        raise _too_large(resp.status, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_any():
        size += len(chunk)
        if size > limit:
            if truncate:
                chunks.append(chunk[: len(chunk) - (size - limit)])
                break
            raise _too_large(resp.status, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(status: int, limit: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"the response body is larger than {limit} bytes, the most this client accepts "
        "for this kind of call; raise it with FloImg(max_response_bytes=...) for API "
        "calls or max_download_bytes=... for downloads (None: no limit)",
        status=status,
        limit=limit,
    )


def _being_cancelled() -> bool:
    """Whether someone asked to cancel the running task (Python 3.11+; else assume so)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return cancelling is None or bool(cancelling())


def _hint_missing_version(error: FloImgError, request: Request, url: str, base_url: str) -> None:
    """A 404 under a base URL without ``/v1``: say so, and show the URL tried."""
    assert isinstance(error, NotFoundError)
    error.message = (
        f"{error.message} — {request.method} {mask_userinfo(url)} was not found. If every "
        f"call fails like this, base_url {mask_userinfo(base_url)!r} probably lacks the API "
        f"version: try {mask_userinfo(base_url)}/v1"
    )
    error.args = (error.message,)


def clean_aiohttp(exc: BaseException, scrub_text: Callable[[str], str]) -> None:
    """Scrub what aiohttp's exceptions carry besides their message.

    A ``ClientResponseError`` (a redirect loop's ``TooManyRedirects``, say)
    holds the request's headers, the key among them, in ``request_info`` and in
    every response of ``history``: rebuilt without them.
    """
    if isinstance(exc, aiohttp.ClientResponseError):
        info = exc.request_info
        if info is not None:
            exc.request_info = aiohttp.RequestInfo(
                URL(scrub_text(str(info.url))),
                info.method,
                _scrub_all(info.headers, scrub_text),
                URL(scrub_text(str(info.real_url))),
            )
        exc.history = ()
        if len(exc.args) >= 2 and exc.args[0] is info:  # (request_info, history, ...)
            exc.args = (exc.request_info, (), *exc.args[2:])
        if exc.headers is not None:
            exc.headers = _scrub_all(exc.headers, scrub_text)
    for name, value in list(getattr(exc, "__dict__", {}).items()):
        if isinstance(value, URL):
            cleaned = scrub_text(str(value))
            if cleaned != str(value):
                setattr(exc, name, URL(cleaned))


def _scrub_all(headers: Any, scrub_text: Callable[[str], str]) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(
        CIMultiDict(
            (name, scrub_text(value))
            for name, value in headers.items()
            if name.lower() not in {"authorization", "proxy-authorization"}
        )
    )


def reader(limit: int | None) -> Consumer[Response]:
    """A consumer that reads the whole body (up to ``limit`` bytes) into a Response."""

    async def read(resp: aiohttp.ClientResponse) -> Response:
        return Response(resp.status, resp.headers, await read_capped(resp, limit))

    return read
