"""``FloImg``: the client, its configuration, and the resource namespaces."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any

import aiohttp

from ._errors import FloImgError
from ._logenv import configure_from_env
from ._request import DEFAULT_BASE_URL, normalize_base_url
from ._resources.executions import Executions
from ._resources.images import Images
from ._resources.projects import Projects
from ._resources.workflows import Workflows
from ._retry import RetryPolicy
from ._transport import USER_AGENT, Pool, Sender, Sleep

__all__ = ["FloImg"]

_UNSET: Any = object()


def _check_api_key(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get("FLOIMG_API_KEY")
    if key is None or key == "":
        raise FloImgError(
            "no FloImg API key: pass FloImg(api_key=...) or set the FLOIMG_API_KEY "
            "environment variable (keys look like fsk_live_… or fsk_test_…)"
        )
    if not isinstance(key, str):
        raise TypeError(f"api_key must be a string, got {type(key).__name__}")
    if key != key.strip() or any(ord(ch) < 33 or ord(ch) == 127 for ch in key):
        # Never echo the key itself: it is a secret.
        raise FloImgError("the API key contains whitespace or control characters; check it")
    return key


def _check_timeout(timeout: float | aiohttp.ClientTimeout) -> aiohttp.ClientTimeout:
    if isinstance(timeout, aiohttp.ClientTimeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    return aiohttp.ClientTimeout(total=float(timeout))


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
    and polling wait (tests pass a fake one).

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
    ) -> None:
        key = _check_api_key(api_key)
        configure_from_env(key)
        if base_url is None:
            base_url = os.environ.get("FLOIMG_BASE_URL") or DEFAULT_BASE_URL
        elif not isinstance(base_url, str) or not base_url.strip():
            raise ValueError(f"base_url must be a non-empty URL, got {base_url!r}")
        self._base_url = normalize_base_url(base_url, allow_insecure_http=allow_insecure_http)
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise TypeError(
                f"session must be an aiohttp.ClientSession, got {type(session).__name__}"
            )
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise TypeError(f"max_connections must be an int, got {max_connections!r}")
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        if not max_retry_after >= 0:
            raise ValueError(f"max_retry_after must be >= 0 seconds, got {max_retry_after!r}")
        pool = Pool(
            session=session,
            max_connections=max_connections,
            trace_configs=trace_configs,
            headers={
                "Authorization": f"Bearer {key}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
        )
        sender = Sender(
            pool,
            base_url=self._base_url,
            timeout=_check_timeout(timeout),
            policy=RetryPolicy(
                max_retries=_check_retries(max_retries), max_retry_after=float(max_retry_after)
            ),
            deadline=_check_deadline(deadline),
            sleep=sleep,
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
        return self._sender.timeout

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
        return self._sender.closed or self._sender.pool.closed

    def with_options(
        self,
        *,
        timeout: float | aiohttp.ClientTimeout = _UNSET,
        max_retries: int = _UNSET,
        deadline: float | None = _UNSET,
    ) -> FloImg:
        """A client on the same connection pool with some settings replaced.

        Cheap (no new connections). Closing the derived client does not close
        the shared pool; closing the original closes it for both.
        """
        old = self._sender
        sender = Sender(
            old.pool,
            base_url=old.base_url,
            timeout=old.timeout if timeout is _UNSET else _check_timeout(timeout),
            policy=old.policy
            if max_retries is _UNSET
            else RetryPolicy(
                max_retries=_check_retries(max_retries),
                max_retry_after=old.policy.max_retry_after,
            ),
            deadline=old.deadline if deadline is _UNSET else _check_deadline(deadline),
            sleep=old.sleep,
        )
        clone = object.__new__(FloImg)
        clone._base_url = self._base_url
        clone._owner = False
        clone._bind(sender)
        return clone

    async def close(self) -> None:
        """Close the connection pool if this client created it. Idempotent.

        A client passed an external ``session`` leaves that session open.
        """
        self._sender.closed = True
        if self._owner:
            await self._sender.pool.close()

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
