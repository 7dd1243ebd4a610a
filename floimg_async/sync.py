"""A blocking ``FloImg`` for scripts, Django/Flask views and Celery tasks.

::

    from floimg_async.sync import FloImg

    with FloImg() as client:                       # key and URL from the environment
        execution = client.workflows.run("wf_social_card", {"prompt": "Hi"})
        client.images.download(execution.output, "card.png")
        for workflow in client.workflows.list():
            print(workflow.id)

It is the async client, not a copy of it: every call is handed to a private
event loop on a thread of its own and the calling thread waits for the answer
(see :mod:`floimg_async._portal`). The resource namespaces forward every public
method generically; the ``Sync*`` protocols of :mod:`floimg_async._sync_types`
only describe them to type checkers (a test holds them to the async signatures).
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from ._client import FloImg as AsyncFloImg
from ._errors import FloImgError
from ._pagination import AsyncPager
from ._portal import CLOSED_MESSAGE, Portal, iterate
from ._ratelimit import RateLimitInfo
from ._sender import DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_MAX_RESPONSE_BYTES, ClientStats
from ._sync_types import SyncExecutions, SyncImages, SyncPager, SyncProjects, SyncWorkflows
from .transports import OnRequest, OnResponse, Transport

if TYPE_CHECKING:  # only for signatures: aiohttp is imported by the transport alone
    import aiohttp

__all__ = [
    "FloImg",
    "SyncExecutions",
    "SyncImages",
    "SyncPager",
    "SyncProjects",
    "SyncWorkflows",
]

_UNSET: Any = object()


def _adapt(portal: Portal, value: Any) -> Any:
    """Turn what an async method returned into its blocking counterpart."""
    if isinstance(value, AsyncPager):
        return SyncPager(portal, value)
    if hasattr(value, "__anext__"):
        return iterate(portal, lambda: value)
    return value


def _blocking(portal: Portal, method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` run on the portal: awaited if it returns an awaitable, then adapted."""

    def blocking(*args: Any, **kwargs: Any) -> Any:
        return _adapt(portal, portal.call(method, *args, **kwargs))

    for name in ("__name__", "__qualname__", "__doc__", "__module__"):
        setattr(blocking, name, getattr(method, name, None))
    blocking.__wrapped__ = method  # type: ignore[attr-defined]
    return blocking


class _Blocking:
    """Forwards every public method of an async object, blocking; one mechanism for all."""

    def __init__(self, target: Any, portal: Portal, *, nested: bool = False) -> None:
        self._target = target
        self._portal = portal
        self._nested = nested  # attributes are namespaces of methods (with_raw_response)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self._target, name)
        if self._nested:
            return _Blocking(value, self._portal)
        if not callable(value):
            return value
        method = _blocking(self._portal, value)
        setattr(self, name, method)  # looked up once per name
        return method

    def __dir__(self) -> list[str]:
        return [name for name in dir(self._target) if not name.startswith("_")]

    def __repr__(self) -> str:
        return f"<blocking {type(self._target).__name__}>"


def _shutdown(portal: Portal, client: AsyncFloImg) -> None:
    """Close the async client on the portal, then stop the portal (once)."""
    try:
        if not portal.closed and not portal.in_portal_thread():
            portal.call(client.close)
    finally:
        portal.stop()


class FloImg:
    """A blocking client for the FloImg API: the async :class:`floimg_async.FloImg`, driven for you.

    Takes the same arguments as the async client, except ``session``: the
    client runs its own event loop, and an ``aiohttp.ClientSession`` belongs to
    the loop that created it, so passing one raises ``ValueError``. Every
    method of ``workflows``, ``executions``, ``images`` and ``projects`` has the
    async name and arguments and returns the result directly; ``list(...)``
    returns a :class:`SyncPager` and ``run_many(...)`` a plain iterator of
    :class:`~floimg_async.RunResult` (closing it cancels work in flight).
    Safe to share between threads and to call from a thread whose own event
    loop is running. ``on_update`` callbacks and the ``on_request``/``on_response``
    hooks (coroutine functions) run on the client's loop thread.
    Each client owns one daemon thread until :meth:`close` (or ``with``).
    """

    workflows: SyncWorkflows
    """Workflows: ``list``, ``get``, ``execute``, ``submit``, ``run``, ``run_many``."""
    executions: SyncExecutions
    """Executions: ``get`` and ``wait``."""
    images: SyncImages
    """Stored images: ``upload``, ``list``, ``get``, ``delete``, ``download``."""
    projects: SyncProjects
    """Projects: ``list`` and ``create``."""

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
        sleep: Callable[[float], Awaitable[None]] | None = None,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        max_download_bytes: int | None = DEFAULT_MAX_DOWNLOAD_BYTES,
        transport: Transport | None = None,
        default_headers: Mapping[str, str] | None = None,
        on_request: OnRequest | None = None,
        on_response: OnResponse | None = None,
    ) -> None:
        if session is not None:
            raise ValueError(
                "the sync FloImg runs its own event loop and cannot share an "
                "aiohttp.ClientSession, which belongs to the loop that created it; "
                "leave session out (max_connections sets the size of the client's own pool)"
            )
        client = AsyncFloImg(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            max_connections=max_connections,
            deadline=deadline,
            max_retry_after=max_retry_after,
            allow_insecure_http=allow_insecure_http,
            trace_configs=trace_configs,
            sleep=sleep,
            max_response_bytes=max_response_bytes,
            max_download_bytes=max_download_bytes,
            transport=transport,
            default_headers=default_headers,
            on_request=on_request,
            on_response=on_response,
        )
        portal = Portal()
        self._bind(client, portal, owner=None)
        self._finalizer = weakref.finalize(self, _shutdown, portal, client)

    def _bind(self, client: AsyncFloImg, portal: Portal, owner: FloImg | None) -> None:
        self._client = client
        self._portal = portal
        self._owner = owner  # a with_options copy keeps its original (and so the loop) alive
        self.workflows = cast(SyncWorkflows, _Blocking(client.workflows, portal))
        self.executions = cast(SyncExecutions, _Blocking(client.executions, portal))
        self.images = cast(SyncImages, _Blocking(client.images, portal))
        self.projects = cast(SyncProjects, _Blocking(client.projects, portal))

    @property
    def base_url(self) -> str:
        """The API base URL every endpoint path is appended to (no trailing slash)."""
        return self._client.base_url

    @property
    def timeout(self) -> aiohttp.ClientTimeout:
        """The timeout of one HTTP attempt."""
        return self._client.timeout

    @property
    def max_retries(self) -> int:
        """How many times a failed call is retried."""
        return self._client.max_retries

    @property
    def deadline(self) -> float | None:
        """Seconds a whole call may take, retries included (``None``: no bound)."""
        return self._client.deadline

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (on this client or the one it was derived from)."""
        return self._portal.closed or self._client.closed

    def with_options(
        self,
        *,
        timeout: float | aiohttp.ClientTimeout = _UNSET,
        max_retries: int = _UNSET,
        deadline: float | None = _UNSET,
        headers: Mapping[str, str] | None = _UNSET,
    ) -> FloImg:
        """A client on the same loop thread and connection pool with some settings replaced.

        ``headers`` are added to (and override) the client's ``default_headers``.
        Cheap (no thread, no connections). Closing it does not close the
        original; closing the original closes both.
        """
        options: dict[str, Any] = {
            name: value
            for name, value in (
                ("timeout", timeout),
                ("max_retries", max_retries),
                ("deadline", deadline),
                ("headers", headers),
            )
            if value is not _UNSET
        }
        clone = copy.copy(self)  # then re-bound: its own client, the shared loop thread
        clone._bind(self._client.with_options(**options), self._portal, self._owner or self)
        return clone

    @property
    def rate_limit(self) -> RateLimitInfo | None:
        """The rate-limit state the API reported last (see the async ``FloImg.rate_limit``)."""
        return self._client.rate_limit

    @property
    def with_raw_response(self) -> Any:
        """The resources again, each method returning a :class:`~floimg_async.RawResponse`.

        ``client.with_raw_response.workflows.get("wf_1").request_id``: the async
        client's ``with_raw_response``, blocking. Listings are not wrapped.
        """
        return _Blocking(self._client.with_raw_response, self._portal, nested=True)

    @property
    def stats(self) -> ClientStats:
        """Counters of this client's connection pool: requests, retries, 429s, rate waits."""
        return self._client.stats

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | float | bool] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one request to ``{base_url}{path}`` and return its decoded JSON (blocking).

        The async :meth:`floimg_async.FloImg.request`, with the client's auth,
        retries, deadline, rate gate and (for POST) an ``Idempotency-Key``.
        """
        return self._portal.call(self._client.request, method, path, params=params, json=json)

    def close(self) -> None:
        """Close the connection pool and end the client's loop thread. Idempotent.

        A ``with_options`` copy only marks itself closed. Calls made afterwards
        raise :class:`~floimg_async.FloImgError`.
        """
        if self._owner is None:
            self._finalizer()
        elif not self._portal.closed:
            self._portal.call(self._client.close)

    def __enter__(self) -> FloImg:
        if self.closed:
            raise FloImgError(CLOSED_MESSAGE)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        # Never the API key.
        return (
            f"sync.FloImg(base_url={self.base_url!r}, timeout={self.timeout.total}, "
            f"max_retries={self.max_retries}, closed={self.closed})"
        )

    if not TYPE_CHECKING:
        # Client-level methods the async FloImg gains later work here at once (blocking);
        # type checkers see only what is declared above.
        def __getattr__(self, name: str) -> Any:
            if name.startswith("_"):
                raise AttributeError(name)
            value = getattr(self._client, name)
            return _blocking(self._portal, value) if callable(value) else value
