"""What every resource shares: the sender, and small helpers to call and decode."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .._convert import fast_decoder, load_json
from .._models import Page
from .._pagination import AsyncPager, parse_page
from .._request import Request, check_max_items, check_offset, check_page_size, page_params
from .._sender import Sender

T = TypeVar("T")


_DECODERS: dict[tuple[type[Any], str], Callable[[bytes, int], Any]] = {}


def decoder(cls: type[T], what: str) -> Callable[[bytes, int], T]:
    """The cached fast decoder of ``cls`` for the call named ``what``."""
    key = (cls, what)
    decoder = _DECODERS.get(key)
    if decoder is None:
        decoder = _DECODERS[key] = fast_decoder(cls, what=what)
    return decoder


class Resource:
    """Base of the resource namespaces (``client.workflows`` …)."""

    def __init__(self, sender: Sender) -> None:
        self._sender = sender

    def _call(
        self, request: Request, cls: type[T], *, deadline_at: float | None = None
    ) -> Coroutine[Any, Any, T]:
        """Send ``request`` and decode the answer into ``cls`` (the coroutine of it).

        A plain method returning the transport's coroutine: one coroutine frame
        less per call. A bad body is a ResponseDecodeError, which is not retried.
        """
        return self._sender.decoded(request, decoder(cls, request.what), deadline_at=deadline_at)

    def _page(
        self, request: Request, key: str, cls: type[T], offset: int, limit: int
    ) -> Coroutine[Any, Any, Page[T]]:
        """Fetch one listing page (the coroutine of it), parsed inside the attempt."""
        what = request.what

        def decode(body: bytes, status: int) -> Page[T]:
            data = load_json(body, what=what, status=status)
            return parse_page(data, key, cls, offset=offset, limit=limit, what=what)

        return self._sender.decoded(request, decode)

    def _pager(
        self,
        path: str,
        key: str,
        cls: type[T],
        *,
        what: str,
        project_id: str | None,
        page_size: int,
        offset: int,
        max_items: int | None,
        prefetch: bool,
    ) -> AsyncPager[T]:
        """A lazy listing of ``path``; arguments are checked now, before any request."""
        size = check_page_size(page_size)

        async def fetch(start: int, limit: int) -> Page[T]:
            params = page_params(limit, start, project_id)
            request = Request("GET", path, what=what, params=params)
            return await self._page(request, key, cls, start, limit)

        return AsyncPager(
            fetch,
            page_size=size,
            offset=check_offset(offset),
            max_items=check_max_items(max_items),
            prefetch=bool(prefetch),
        )
