"""The aiohttp transport: the only SDK module that imports aiohttp.

It owns the connection pool (a lazily created ``ClientSession``, or the
caller's), sends :class:`~floimg_async.transports.WireRequest` s, and
translates aiohttp's exceptions into the SDK's at this one boundary (the table
in :func:`translate`), scrubbing the key from what they carry first.
"""

from __future__ import annotations

import asyncio
import math
import platform
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._errors import APIConnectionError, APITimeoutError, FloImgError
from ._redact import mask_userinfo, redact, scrub
from ._version import __version__
from .transports import WireRequest

__all__ = ["USER_AGENT", "AiohttpTransport", "check_session", "check_timeout"]

USER_AGENT = (
    f"floimg-async/{__version__} aiohttp/{aiohttp.__version__} Python/{platform.python_version()}"
)

_CONNECTION_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError, TimeoutError)
# Python 3.10's tasks cannot tell who cancelled them (Task.cancelling() is 3.11+).
_NO_CANCELLING = sys.version_info < (3, 11)


def check_timeout(timeout: object) -> aiohttp.ClientTimeout:
    """A per-attempt timeout from seconds (> 0) or an ``aiohttp.ClientTimeout``."""
    if isinstance(timeout, aiohttp.ClientTimeout):
        total = timeout.total
        if total is not None and not (0 < total < math.inf):
            raise ValueError(
                f"timeout.total must be None or a finite number of seconds > 0, got {total!r}"
            )
        return timeout
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 0 < timeout < math.inf  # inf overflows the event loop's timer
    ):
        raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout!r}")
    return aiohttp.ClientTimeout(total=float(timeout))


def check_session(session: object) -> aiohttp.ClientSession | None:
    """``session`` if it is an ``aiohttp.ClientSession`` (or None); TypeError otherwise."""
    if session is not None and not isinstance(session, aiohttp.ClientSession):
        raise TypeError(f"session must be an aiohttp.ClientSession, got {type(session).__name__}")
    return session


class AiohttpTransport:
    """Sends wire requests over aiohttp; shared by a client and its ``with_options`` copies.

    ``headers`` go with every request to the API's origin; requests to other
    origins (downloads) get them without ``Authorization``. When the transport
    creates its own connections it makes two sessions over one connector, each
    sending its headers itself: aiohttp copies a session's headers in C, while
    per-request headers cost a Python loop on every request. The API session
    only ever sends to the API's origin (aiohttp drops ``Authorization`` on a
    redirect to another origin); the public session never has the key. With
    the caller's session, the headers go with each request instead.

    A transport belongs to the event loop it first sends in: aiohttp's
    connections cannot move between loops.
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
        self._secret = auth[len("Bearer ") :] if auth.startswith("Bearer ") else auth
        # What each request adds to its session's own headers: nothing, when the
        # sessions are ours.
        self._request_headers: Mapping[str, str] | None = (
            None if self.owns_session else self._headers
        )
        self._public_request_headers: Mapping[str, str] | None = (
            None if self.owns_session else self._public_headers
        )
        self.closed = False
        self.loop: asyncio.AbstractEventLoop | None = None
        # Python 3.10 only: the tasks inside session.request() now, and those that
        # were when close() began (close() cancels the ones waiting for a connection).
        self._sending: set[asyncio.Task[Any]] = set()
        self._sending_at_close: frozenset[asyncio.Task[Any]] = frozenset()

    # -- sessions -------------------------------------------------------------------------------

    def _bind(self) -> None:
        """Tie the transport to the running loop on first use; refuse any other loop later."""
        loop = asyncio.get_running_loop()
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

    async def aclose(self) -> None:
        """Close the sessions if this transport created them. Idempotent.

        Raises FloImgError when called from another live event loop than the
        one the connections belong to (they can only be closed there).
        """
        if self.loop is not None and self.owns_session and self._session is not None:
            running = asyncio.get_running_loop()
            if running is not self.loop and not self.loop.is_closed():
                raise FloImgError(
                    "close() was called from a different event loop than the one this "
                    "FloImg client runs in; close it in its own loop"
                )
        self.closed = True
        self._sending_at_close = frozenset(self._sending)
        public, self._public_session = self._public_session, None
        session, self._session = self._session, None
        if public is not None:
            await public.close()
        if session is not None and self.owns_session:
            await session.close()

    # -- sending --------------------------------------------------------------------------------

    async def send(self, request: WireRequest) -> AiohttpResponse:
        """Send one request; return the response with its body unread."""
        if self.loop is not asyncio.get_running_loop():
            self._bind()
        if request.authenticated:
            session, headers = self.get_session(), self._request_headers
        else:
            session, headers = self.get_public_session(), self._public_request_headers
        extra = request.headers
        if extra:
            headers = {**headers, **extra} if headers else extra
        timeout = request.timeout
        remaining = request.remaining
        if remaining is not None and (timeout.total is None or remaining < timeout.total):
            timeout = attrs.evolve(timeout, total=remaining)
        task = asyncio.current_task() if _NO_CANCELLING else None
        if task is not None:
            self._sending.add(task)
        try:
            resp = await session.request(
                request.method,
                request.url,
                params=request.params,
                data=request.body,
                headers=headers,
                timeout=timeout,
            )
        except _CONNECTION_ERRORS as exc:
            if self.closed:
                raise FloImgError(
                    "the FloImg client was closed while this call was running"
                ) from exc
            raise self._translate(exc, timeout.total) from exc
        except asyncio.CancelledError:
            # close() cancels the calls that wait for a pooled connection; a task that
            # nobody cancelled gets a FloImgError saying so, not a bare CancelledError.
            if self.closed and not self._being_cancelled():
                raise FloImgError(
                    "the FloImg client was closed while this call waited for a connection"
                ) from None
            raise
        except ValueError as exc:
            # aiohttp refuses some URLs with ValueError (a redirect to a URL with a
            # password while the request carries the key, say).
            redact(exc, self._secret, clean_aiohttp)
            raise FloImgError(
                f"the request could not be sent to {mask_userinfo(request.url)} "
                f"({scrub(str(exc), self._secret)})"
            ) from exc
        except RuntimeError as exc:
            # aiohttp raises RuntimeError for a session the caller already closed.
            raise FloImgError(
                f"the aiohttp session cannot be used ({exc}); was the session passed to "
                "FloImg closed?"
            ) from exc
        finally:
            if task is not None:
                self._sending.discard(task)
        return AiohttpResponse(resp, self, timeout.total)

    def _being_cancelled(self) -> bool:
        """Whether someone other than close() asked to cancel the running task.

        Python 3.11+ counts the task's cancel requests. Python 3.10 cannot: there a
        task that was inside ``session.request()`` when close() began counts as
        cancelled by close() (a caller's own cancel in that same moment reads as
        the close, and the call raises FloImgError instead of CancelledError).
        """
        task = asyncio.current_task()
        if _NO_CANCELLING:
            return task not in self._sending_at_close
        cancelling = getattr(task, "cancelling", None)
        return cancelling is None or bool(cancelling())

    def _translate(self, exc: BaseException, timeout: float | None) -> FloImgError:
        redact(exc, self._secret, clean_aiohttp)
        return translate(exc, timeout)


def translate(exc: BaseException, timeout: float | None) -> FloImgError:
    """The SDK's error for an aiohttp/OS exception: the one table of the boundary."""
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        limit = f" after {timeout:g}s" if timeout else ""
        return APITimeoutError(f"the request timed out{limit}")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return APIConnectionError(f"the response body was cut short ({exc})")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return APIConnectionError(
            f"could not connect to {exc.host}:{exc.port} ({exc.os_error or exc})"
        )
    text = str(exc) or type(exc).__name__
    return APIConnectionError(f"the connection failed ({text})")


class AiohttpResponse:
    """An aiohttp response behind the transport protocol; errors translated on read."""

    __slots__ = ("_resp", "_timeout", "_transport", "headers", "status")

    def __init__(
        self, resp: aiohttp.ClientResponse, transport: AiohttpTransport, timeout: float | None
    ) -> None:
        self._resp = resp
        self._transport = transport
        self._timeout = timeout
        self.status = resp.status
        self.headers: Mapping[str, str] = resp.headers

    @property
    def content_length(self) -> int | None:
        """The announced body length, if any."""
        return self._resp.content_length

    async def read(self, limit: int | None) -> bytes:
        """The decompressed body, at most ``limit + 1`` bytes of it.

        aiohttp inflates compressed bodies in bounded chunks, so a gzip bomb
        stops at the cap.
        """
        resp = self._resp
        try:
            length = resp.content_length
            if limit is None or (
                length is not None and length <= limit and "Content-Encoding" not in resp.headers
            ):
                return await resp.read()  # the common case: small, plain, of known size
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.content.iter_any():
                size += len(chunk)
                if size > limit:  # keep limit + 1 bytes: enough to tell it is over
                    chunks.append(chunk[: len(chunk) - (size - limit - 1)])
                    break
                chunks.append(chunk)
            return b"".join(chunks)
        except _CONNECTION_ERRORS as exc:
            raise self._transport._translate(exc, self._timeout) from exc

    async def iter_chunks(self, size: int) -> AsyncIterator[bytes]:
        """The decompressed body in chunks of at most ``size`` bytes."""
        try:
            async for chunk in self._resp.content.iter_chunked(size):
                yield chunk
        except _CONNECTION_ERRORS as exc:
            raise self._transport._translate(exc, self._timeout) from exc

    async def aclose(self) -> None:
        """Release the connection back to the pool (closed if the body was not read)."""
        self._resp.release()


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
