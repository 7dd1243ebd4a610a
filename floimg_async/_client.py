"""``FloImg``: the client, its configuration, and the resource namespaces."""

from __future__ import annotations

import copy
import os
from collections.abc import Coroutine, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from ._aiohttp import USER_AGENT, AiohttpTransport, check_session, check_timeout
from ._convert import decode_optional_json
from ._errors import FloImgError
from ._logenv import configure_from_env
from ._ratelimit import RateLimitInfo
from ._request import DEFAULT_BASE_URL, check_headers, normalize_base_url, raw_request
from ._resources.executions import Executions
from ._resources.images import Images
from ._resources.projects import Projects
from ._resources.workflows import Workflows
from ._response import RawResponse, RawResponses, raw_response
from ._retry import RetryPolicy
from ._sender import (
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    ClientStats,
    Sender,
    Shared,
    Sleep,
)
from .transports import OnRequest, OnResponse, Transport

if TYPE_CHECKING:  # only for the constructor's signature: aiohttp is imported by _aiohttp
    import aiohttp

__all__ = ["FloImg"]

_UNSET: Any = object()
T = TypeVar("T")


def _check_api_key(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get("FLOIMG_API_KEY")
    if key is None or key == "":
        raise FloImgError(
            "no FloImg API key: pass FloImg(api_key=...) or set the FLOIMG_API_KEY "
            "environment variable (keys look like fsk_live_… or fsk_test_…)"
        )
    if not isinstance(key, str):
        raise TypeError(f"api_key must be a string, got {type(key).__name__}")
    if not key.isprintable() or any(ch.isspace() for ch in key):
        # isprintable() is false for every Unicode control, format, separator and
        # unassigned character; isspace() adds the ASCII space. Never echo the key.
        raise FloImgError(
            "the API key contains whitespace, control or other invisible characters "
            "(a copy-paste accident?); check it"
        )
    return key


def _check_retries(max_retries: int) -> int:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries must be an int >= 0, got {max_retries!r}")
    return max_retries


def _check_deadline(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    if isinstance(deadline, bool) or not isinstance(deadline, int | float) or not deadline > 0:
        raise ValueError(f"deadline must be None or a number of seconds > 0, got {deadline!r}")
    return float(deadline)


H = TypeVar("H")


def _check_hook(name: str, hook: H | None) -> H | None:
    if hook is not None and not callable(hook):
        raise TypeError(f"{name} must be an async function (a coroutine function), got {hook!r}")
    return hook


def _check_size(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be None (no limit) or an int of bytes >= 1, got {value!r}")
    return value


class FloImg:
    """An async client for the FloImg API.

    ``api_key`` falls back to ``FLOIMG_API_KEY`` and ``base_url`` to
    ``FLOIMG_BASE_URL``, then ``https://api.floimg.com/v1``. ``timeout`` bounds
    one HTTP attempt; ``deadline`` (optional) bounds a whole call, retries and
    their waits included. ``max_retries`` retries connection errors, timeouts,
    429 and 5xx (not ``workflow_failed``). ``session`` is an existing
    ``aiohttp.ClientSession`` to share (never closed by the client); otherwise
    the client creates one lazily with at most ``max_connections`` connections
    and closes it in :meth:`close`. ``max_retry_after`` caps how long a
    ``Retry-After`` may make a call wait before it raises instead.
    ``allow_insecure_http`` permits a plain-http base URL to a non-loopback
    host. ``trace_configs`` are handed to the session the client creates, for
    metrics. ``sleep`` replaces ``asyncio.sleep`` for every backoff, rate-limit
    and polling wait (tests pass a fake one). ``max_response_bytes`` (default
    32 MiB) caps an API answer's body and ``max_download_bytes`` (default
    256 MiB) a download's, counted after decompression (``None``: no cap); a
    body over its cap raises :class:`ResponseTooLargeError`.

    ``transport`` replaces the aiohttp transport (e.g. a
    :class:`~floimg_async.transports.MockTransport` in tests; then ``session``
    and ``trace_configs`` do not apply). ``client.stats`` counts requests,
    retries and rate-limit events; ``client.rate_limit`` is the API's latest
    ``X-RateLimit-*`` state, and :meth:`raw_response` shows what a call's
    response said (request id, headers).

    ``on_request(wire_request)`` and ``on_response(wire_request, response)``
    are coroutine functions awaited around every HTTP attempt (retries and
    downloads included; see :mod:`floimg_async.transports`): for metrics,
    pacing or reading rate-limit headers without aiohttp. The API key is not
    in what they see.

    ``default_headers`` go with every request to the API (not to other
    origins); ``Authorization`` and ``Idempotency-Key`` there raise
    ``ValueError``. With ``FLOIMG_LOG=debug`` (or ``info``) in the environment
    the ``floimg_async`` logger writes to stderr at that level (key redacted).

    A client belongs to the event loop it first runs in; using it from another
    loop raises :class:`FloImgError`.

    Use it as ``async with FloImg(...) as client:``.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | aiohttp.ClientTimeout = 60.0,
        max_retries: int = 3,
        session: aiohttp.ClientSession | None = None,
        max_connections: int = 100,
        deadline: float | None = None,
        max_retry_after: float = 60.0,
        allow_insecure_http: bool = False,
        trace_configs: list[aiohttp.TraceConfig] | None = None,
        sleep: Sleep | None = None,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        max_download_bytes: int | None = DEFAULT_MAX_DOWNLOAD_BYTES,
        transport: Transport | None = None,
        default_headers: Mapping[str, str] | None = None,
        on_request: OnRequest | None = None,
        on_response: OnResponse | None = None,
    ) -> None:
        key = _check_api_key(api_key)
        configure_from_env(key)
        if base_url is None:
            base_url = os.environ.get("FLOIMG_BASE_URL") or DEFAULT_BASE_URL
        elif not isinstance(base_url, str) or not base_url.strip():
            raise ValueError(f"base_url must be a non-empty URL, got {base_url!r}")
        self._base_url = normalize_base_url(base_url, allow_insecure_http=allow_insecure_http)
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise TypeError(f"max_connections must be an int, got {max_connections!r}")
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        if not max_retry_after >= 0:
            raise ValueError(f"max_retry_after must be >= 0 seconds, got {max_retry_after!r}")
        if transport is None:
            transport = AiohttpTransport(
                session=check_session(session),
                max_connections=max_connections,
                trace_configs=trace_configs,
                headers={
                    "Authorization": f"Bearer {key}",
                    "User-Agent": USER_AGENT,
                    "Accept": "application/json",
                },
            )
        elif session is not None or trace_configs is not None:
            raise ValueError("pass either transport= or session=/trace_configs=, not both")
        elif not isinstance(transport, Transport):
            raise TypeError(
                f"transport must provide send() and aclose(), got {type(transport).__name__}"
            )
        sender = Sender(
            Shared(
                transport,
                key,
                on_request=_check_hook("on_request", on_request),
                on_response=_check_hook("on_response", on_response),
            ),
            base_url=self._base_url,
            timeout=check_timeout(timeout),
            policy=RetryPolicy(
                max_retries=_check_retries(max_retries), max_retry_after=float(max_retry_after)
            ),
            deadline=_check_deadline(deadline),
            sleep=sleep,
            max_response_bytes=_check_size("max_response_bytes", max_response_bytes),
            max_download_bytes=_check_size("max_download_bytes", max_download_bytes),
            headers=check_headers(default_headers, "default_headers"),
        )
        self._owner = True
        self._bind(sender)

    def _bind(self, sender: Sender) -> None:
        self._sender = sender
        self.executions = Executions(sender)
        """Executions: ``get`` and ``wait``."""
        self.workflows = Workflows(sender, self.executions)
        """Workflows: ``list``, ``get``, ``execute``, ``submit``, ``run``, ``run_many``."""
        self.images = Images(sender)
        """Stored images: ``upload``, ``list``, ``get``, ``delete``, ``download``."""
        self.projects = Projects(sender)
        """Projects: ``list`` and ``create``."""

    @property
    def base_url(self) -> str:
        """The API base URL every endpoint path is appended to (no trailing slash)."""
        return self._base_url

    @property
    def timeout(self) -> aiohttp.ClientTimeout:
        """The timeout of one HTTP attempt."""
        timeout: aiohttp.ClientTimeout = self._sender.timeout
        return timeout

    @property
    def max_retries(self) -> int:
        """How many times a failed call is retried."""
        return self._sender.policy.max_retries

    @property
    def deadline(self) -> float | None:
        """Seconds a whole call may take, retries included (``None``: no bound)."""
        return self._sender.deadline

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (on this client or the one it was derived from)."""
        return self._sender.closed or self._sender.shared.closed

    @property
    def stats(self) -> ClientStats:
        """Live counters: HTTP requests sent, retries, 429s and rate-limit waits.

        Shared with the clients :meth:`with_options` derives from this one.
        """
        return self._sender.shared.stats

    @property
    def rate_limit(self) -> RateLimitInfo | None:
        """The rate-limit state the API reported last: ``limit``, ``remaining``, ``reset_at``.

        From the ``X-RateLimit-*`` headers of the latest response (success or
        error) that carried ``X-RateLimit-Remaining``, on this client's
        connection pool (shared with :meth:`with_options` copies); ``None``
        before the first such response. Costs no request: pace a bulk job by
        it, e.g. sleep until ``reset_at`` when ``remaining`` gets low, before
        the API answers 429. Values that make no sense read as ``None``.
        """
        return self._sender.shared.rate_limit

    async def raw_response(self, call: Coroutine[Any, Any, T]) -> RawResponse[T]:
        """Await the SDK call ``call`` and return its value with what its response said.

        ``await client.raw_response(client.workflows.get("wf_1"))`` gives a
        :class:`RawResponse` whose ``parse()`` is the :class:`Workflow`, with
        the status, headers (key scrubbed), ``request_id``, ``rate_limit``,
        ``attempts`` and ``elapsed`` of the call's last 2xx response. Works for
        every coroutine method and :meth:`request`; pass the call un-awaited.
        Costs no extra request. Raises what the call raises; ``TypeError``
        for a pager, a task or anything but an un-awaited call.
        """
        return await raw_response(call, self._sender.shared.secret)

    @property
    def with_raw_response(self) -> RawResponses:
        """The resources again, each coroutine method returning a :class:`RawResponse`.

        ``await client.with_raw_response.workflows.get("wf_1")``: openai's
        spelling of :meth:`raw_response` (whose result is typed; this one's
        value is ``Any`` to a type checker). Listings are not wrapped.
        """
        return RawResponses(self)

    def with_options(
        self,
        *,
        timeout: float | aiohttp.ClientTimeout = _UNSET,
        max_retries: int = _UNSET,
        deadline: float | None = _UNSET,
        headers: Mapping[str, str] | None = _UNSET,
    ) -> FloImg:
        """A client on the same connection pool with some settings replaced.

        ``headers`` are added to (and override) the client's ``default_headers``.
        Cheap (no new connections). Closing the derived client does not close
        the shared pool; closing the original closes it for both.
        """
        old = self._sender
        merged = old.headers
        if headers is not _UNSET:
            extra = check_headers(headers, "headers") or {}
            merged = {**(old.headers or {}), **extra} or None
        sender = Sender(
            old.shared,
            base_url=old.base_url,
            timeout=old.timeout if timeout is _UNSET else check_timeout(timeout),
            policy=old.policy
            if max_retries is _UNSET
            else RetryPolicy(
                max_retries=_check_retries(max_retries),
                max_retry_after=old.policy.max_retry_after,
            ),
            deadline=old.deadline if deadline is _UNSET else _check_deadline(deadline),
            sleep=old.sleep,
            max_response_bytes=old.max_response_bytes,
            max_download_bytes=old.max_download_bytes,
            headers=merged,
        )
        clone = copy.copy(self)
        clone._owner = False
        clone._bind(sender)
        return clone

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | float | bool] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one request to ``{base_url}{path}`` and return its decoded JSON.

        For endpoints the SDK has no method for yet. The call gets the client's
        auth, retries, deadline, rate-limit gate, body cap and (for POST) an
        ``Idempotency-Key``. Returns None for an empty body. Raises the same
        errors as every other call; ``ValueError``/``TypeError`` for a bad
        method, a ``path`` that is not ``/...`` on the API, or a body that is
        not JSON-serialisable. One request, plus retries.
        """
        return await self._sender.decoded(
            raw_request(method, path, params=params, json=json), decode_optional_json
        )

    async def close(self) -> None:
        """Close the connection pool if this client created it. Idempotent.

        A client passed an external ``session`` leaves that session open.
        """
        self._sender.closed = True
        if self._owner:
            await self._sender.shared.transport.aclose()
            self._sender.shared.closed = True

    async def __aenter__(self) -> FloImg:
        if self.closed:
            raise FloImgError("this FloImg client is closed; create a new FloImg to go on")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        # Never the API key.
        return (
            f"FloImg(base_url={self._base_url!r}, timeout={self.timeout.total}, "
            f"max_retries={self.max_retries}, closed={self.closed})"
        )
