"""``AsyncPager``: offset pagination as lazy async iteration.

A pager holds no items. Each ``async for`` starts from the pager's offset and
fetches the next page only when iteration reaches it, so memory stays flat
however long the listing is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import attrs

from ._convert import list_structurer, structure
from ._errors import ResponseDecodeError
from ._models import Page

__all__ = ["AsyncPager", "parse_page"]

T = TypeVar("T")

FetchPage = Callable[[int, int], Awaitable[Page[T]]]


def parse_page(data: Any, key: str, cls: type[T], *, offset: int, limit: int, what: str) -> Page[T]:
    """Turn a listing body into a :class:`Page`. Pure.

    Accepts ``{key: [...], "total": N, "hasMore": bool}`` and a bare JSON list.
    When ``hasMore`` is absent it is inferred from ``total``, else from whether
    the page came back full.
    """
    total: int | None = None
    has_more: bool | None = None
    if isinstance(data, list):
        raw_items: Any = data
        if len(data) > limit:  # a server that ignores limit/offset sent everything
            has_more = False
    elif isinstance(data, Mapping) and isinstance(data.get(key), list):
        raw_items = data[key]
        raw_total = data.get("total")
        if isinstance(raw_total, int) and not isinstance(raw_total, bool):
            total = raw_total
        raw_has_more = data.get("hasMore", data.get("has_more"))
        if isinstance(raw_has_more, bool):
            has_more = raw_has_more
    else:
        raise ResponseDecodeError(
            f"the API's {what} response has no {key!r} list",
            status=200,
            body_excerpt=repr(data)[:200],
        )
    try:
        items = tuple(list_structurer(cls)(raw_items))
    except Exception:
        # Slow path, only to produce a readable error naming the bad item.
        for index, item in enumerate(raw_items):
            structure(item, cls, what=f"{what} (item {index})")
        raise
    if has_more is None:
        # No hasMore: trust total when given, else assume a full page means more.
        has_more = offset + len(items) < total if total is not None else len(items) >= limit
    return Page(items=items, total=total, has_more=has_more, offset=offset, limit=limit)


class AsyncPager(Generic[T]):
    """Every item of a listing, page by page, fetched as iteration reaches it.

    ``async for item in pager`` yields items in order across pages and stops
    when the API says there are no more, when the offset reaches ``total``, at
    an empty page, at a page identical to the one before (a server ignoring
    ``offset``), or after ``max_items``. :meth:`pages` yields whole :class:`Page` objects and
    :meth:`to_list` collects everything. A pager can be iterated more than
    once; each iteration starts again from its first page. With ``prefetch``
    the next page is requested as soon as a page arrives, so the network
    overlaps the caller's work on the current page (one page held ahead; if
    iteration stops early, that request is cancelled).
    """

    def __init__(
        self,
        fetch: FetchPage[T],
        *,
        page_size: int,
        offset: int,
        max_items: int | None,
        prefetch: bool = False,
    ) -> None:
        self._fetch = fetch
        self.page_size = page_size
        self.offset = offset
        self.max_items = max_items
        self.prefetch = prefetch

    def __repr__(self) -> str:
        return (
            f"AsyncPager(page_size={self.page_size}, offset={self.offset}, "
            f"max_items={self.max_items})"
        )

    def __aiter__(self) -> AsyncIterator[T]:
        return _ItemIterator(self.pages())

    def pages(self) -> AsyncIterator[Page[T]]:
        """Iterate over whole pages (costs one request per page)."""
        return _PageIterator(
            self._fetch, self.page_size, self.offset, self.max_items, self.prefetch
        )

    async def to_list(self) -> list[T]:
        """Collect every item into a list (mind ``max_items`` on long listings)."""
        return [item async for item in self]


class _PageIterator(AsyncIterator[Page[T]]):
    __slots__ = (
        "_done",
        "_fetch",
        "_last",
        "_left",
        "_next",
        "_offset",
        "_page_size",
        "_prefetch",
    )

    def __init__(
        self,
        fetch: FetchPage[T],
        page_size: int,
        offset: int,
        max_items: int | None,
        prefetch: bool = False,
    ) -> None:
        self._fetch = fetch
        self._page_size = page_size
        self._offset = offset
        self._left = max_items
        self._done = max_items == 0
        self._prefetch = prefetch
        self._next: asyncio.Future[Page[T]] | None = None
        self._last: tuple[T, ...] = ()

    def _limit(self) -> int:
        return self._page_size if self._left is None else min(self._page_size, self._left)

    async def __anext__(self) -> Page[T]:
        if self._done:
            raise StopAsyncIteration
        upcoming, self._next = self._next, None
        if upcoming is not None:
            page = await upcoming
        else:
            page = await self._fetch(self._offset, self._limit())
        count = len(page.items)
        last, self._last = self._last, page.items
        if count and last and page.items[0] == last[0] and page.items == last[:count]:
            # The same page again (or its start, when the limit shrank): the server
            # ignores offset, or loops. Stop rather than yield the same items forever.
            self._done = True
            raise StopAsyncIteration
        if self._left is not None and count >= self._left:
            if count > self._left:
                page = attrs.evolve(page, items=page.items[: self._left])
                count = self._left
            self._done = True
        if count == 0:
            self._done = True
            raise StopAsyncIteration
        if not page.has_more:
            self._done = True
        if self._left is not None:
            self._left -= count
        self._offset += count
        if page.total is not None and self._offset >= page.total:
            self._done = True  # past the total, whatever hasMore says
        if self._prefetch and not self._done:
            # Fetch the next page while the caller works on this one. Yield once so
            # the request is on the wire before the caller's (often synchronous)
            # work on this page begins; otherwise nothing would overlap.
            self._next = asyncio.ensure_future(self._fetch(self._offset, self._limit()))
            self._next.add_done_callback(_retrieve)
            await asyncio.sleep(0)
        return page

    def __del__(self) -> None:
        # The caller stopped iterating: nobody will await the page fetched ahead.
        upcoming = self._next
        if upcoming is not None and not upcoming.done():
            upcoming.cancel()


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a prefetch's failure as seen; it is raised again when the page is awaited."""
    if not future.cancelled():
        future.exception()


class _ItemIterator(AsyncIterator[T]):
    __slots__ = ("_items", "_pages")

    def __init__(self, pages: AsyncIterator[Page[T]]) -> None:
        self._pages = pages
        self._items: Iterator[T] = iter(())

    async def __anext__(self) -> T:
        # One iterator step per item; a new page only when this one runs out.
        for item in self._items:
            return item
        while True:
            page = await self._pages.__anext__()
            self._items = iter(page.items)
            for item in self._items:
                return item
