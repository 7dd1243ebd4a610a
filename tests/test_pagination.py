"""AsyncPager over a fake page source: laziness, stop conditions, max_items."""

from __future__ import annotations

import asyncio

import pytest

from floimg_async import AsyncPager, Page, ResponseDecodeError, WorkflowSummary
from floimg_async._pagination import parse_page


class FakeSource:
    """Serves ``total`` items; records every (offset, limit) asked for."""

    def __init__(
        self, total: int, *, has_more: bool | None = None, send_total: bool = True
    ) -> None:
        self.total = total
        self.calls: list[tuple[int, int]] = []
        self._has_more = has_more
        self._send_total = send_total

    async def __call__(self, offset: int, limit: int) -> Page[int]:
        self.calls.append((offset, limit))
        items = tuple(range(offset, min(offset + limit, self.total)))
        more = offset + len(items) < self.total if self._has_more is None else self._has_more
        total = self.total if self._send_total else None
        return Page(items=items, total=total, has_more=more, offset=offset, limit=limit)


def pager(
    source: FakeSource, page_size: int = 10, offset: int = 0, max_items: int | None = None
) -> AsyncPager[int]:
    return AsyncPager(source, page_size=page_size, offset=offset, max_items=max_items)


async def test_yields_every_item_in_order_across_pages() -> None:
    source = FakeSource(35)
    assert await pager(source).to_list() == list(range(35))
    assert source.calls == [(0, 10), (10, 10), (20, 10), (30, 10)]


async def test_fetches_the_next_page_only_when_iteration_reaches_it() -> None:
    source = FakeSource(1000)
    seen = []
    async for item in pager(source):
        seen.append(item)
        if item == 12:
            break
    assert source.calls == [(0, 10), (10, 10)]


async def test_creating_a_pager_sends_nothing() -> None:
    source = FakeSource(5)
    pager(source)
    assert source.calls == []


async def test_stops_on_an_empty_page_even_if_the_server_says_more() -> None:
    source = FakeSource(15, has_more=True, send_total=False)
    assert await pager(source).to_list() == list(range(15))
    assert source.calls[-1] == (15, 10)


async def test_max_items_trims_and_asks_only_for_what_is_needed() -> None:
    source = FakeSource(1000)
    assert await pager(source, max_items=23).to_list() == list(range(23))
    assert source.calls == [(0, 10), (10, 10), (20, 3)]


async def test_max_items_zero_sends_nothing() -> None:
    source = FakeSource(10)
    assert await pager(source, max_items=0).to_list() == []
    assert source.calls == []


async def test_offset_starts_later() -> None:
    source = FakeSource(25)
    assert await pager(source, offset=20).to_list() == [20, 21, 22, 23, 24]


async def test_pages_carry_paging_facts() -> None:
    pages = [p async for p in pager(FakeSource(25)).pages()]
    assert [(p.offset, len(p.items), p.has_more, p.total) for p in pages] == [
        (0, 10, True, 25),
        (10, 10, True, 25),
        (20, 5, False, 25),
    ]


async def test_a_pager_can_be_iterated_again() -> None:
    source = FakeSource(12)
    p = pager(source)
    assert await p.to_list() == await p.to_list()


async def test_offset_advances_by_items_received_when_the_server_caps_the_limit() -> None:
    calls: list[tuple[int, int]] = []

    async def capped(offset: int, limit: int) -> Page[int]:
        calls.append((offset, limit))
        items = tuple(range(offset, min(offset + 4, 10)))  # the server gives at most 4
        return Page(items, 10, offset + len(items) < 10, offset, limit)

    assert await AsyncPager(capped, page_size=10, offset=0, max_items=None).to_list() == list(
        range(10)
    )
    assert [c[0] for c in calls] == [0, 4, 8]


def test_parse_page_envelope() -> None:
    data = {"workflows": [{"id": "a"}, {"id": "b"}], "total": 42, "hasMore": True}
    page = parse_page(data, "workflows", WorkflowSummary, offset=0, limit=2, what="x")
    assert [w.id for w in page.items] == ["a", "b"]
    assert (page.total, page.has_more, page.offset, page.limit) == (42, True, 0, 2)


def test_parse_page_bare_list_infers_has_more_from_a_full_page() -> None:
    full = parse_page(
        [{"id": "a"}, {"id": "b"}], "projects", WorkflowSummary, offset=0, limit=2, what="x"
    )
    short = parse_page([{"id": "a"}], "projects", WorkflowSummary, offset=2, limit=2, what="x")
    everything = parse_page(
        [{"id": str(i)} for i in range(5)], "p", WorkflowSummary, offset=0, limit=2, what="x"
    )
    assert full.has_more and not short.has_more and full.total is None
    assert not everything.has_more


def test_parse_page_without_has_more_uses_total() -> None:
    page = parse_page(
        {"images": [{"id": "a"}], "total": 3},
        "images",
        WorkflowSummary,
        offset=1,
        limit=1,
        what="x",
    )
    assert page.has_more is True
    last = parse_page(
        {"images": [{"id": "c"}], "total": 3},
        "images",
        WorkflowSummary,
        offset=2,
        limit=1,
        what="x",
    )
    assert last.has_more is False


@pytest.mark.parametrize("data", [{"items": []}, {"workflows": "nope"}, "text", None, 3])
def test_parse_page_wrong_shape(data: object) -> None:
    with pytest.raises(ResponseDecodeError, match="workflows"):
        parse_page(data, "workflows", WorkflowSummary, offset=0, limit=2, what="workflows.list")


def test_parse_page_names_the_bad_item() -> None:
    with pytest.raises(ResponseDecodeError, match="item 1"):
        parse_page(
            {"workflows": [{"id": "a"}, {"name": "no id"}]},
            "workflows",
            WorkflowSummary,
            offset=0,
            limit=2,
            what="workflows.list",
        )


class SlowSource(FakeSource):
    """A page source that takes real time, and notes when each fetch starts and ends."""

    def __init__(self, total: int, delay: float = 0.02) -> None:
        super().__init__(total)
        self.delay = delay
        self.events: list[str] = []

    async def __call__(self, offset: int, limit: int) -> Page[int]:
        self.events.append(f"start {offset}")
        await asyncio.sleep(self.delay)
        self.events.append(f"end {offset}")
        return await super().__call__(offset, limit)


async def test_prefetch_requests_the_next_page_while_the_caller_works() -> None:
    source = SlowSource(30)
    pages = AsyncPager(source, page_size=10, offset=0, max_items=None, prefetch=True).pages()
    first = await pages.__anext__()
    assert first.items[0] == 0
    # Already under way when the page is handed over, so that even a caller whose
    # work on the page never yields to the loop overlaps with the next request.
    assert source.events == ["start 0", "end 0", "start 10"]
    rest = [p async for p in pages]
    assert [p.offset for p in rest] == [10, 20]
    assert source.calls == [(0, 10), (10, 10), (20, 10)]  # no fetch past the last page


async def test_prefetch_yields_the_same_items() -> None:
    plain = await pager(FakeSource(95)).to_list()
    ahead = AsyncPager(FakeSource(95), page_size=10, offset=0, max_items=23, prefetch=True)
    assert plain == list(range(95))
    assert await ahead.to_list() == list(range(23))


async def test_stopping_early_cancels_the_page_fetched_ahead() -> None:
    source = SlowSource(1000, delay=0.05)
    async for item in AsyncPager(source, page_size=10, offset=0, max_items=None, prefetch=True):
        await asyncio.sleep(0.001)  # work on the item; the page ahead is being fetched
        if item == 3:
            break
    await asyncio.sleep(0.1)
    assert source.events == ["start 0", "end 0", "start 10"]  # the page ahead never finished
    stray = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert stray == []


async def test_a_failed_prefetch_is_raised_when_its_page_is_reached() -> None:
    calls = 0

    async def fails_second(offset: int, limit: int) -> Page[int]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("page 2 broke")
        return Page(tuple(range(offset, offset + limit)), None, True, offset, limit)

    pages = AsyncPager(fails_second, page_size=5, offset=0, max_items=None, prefetch=True).pages()
    assert (await pages.__anext__()).offset == 0
    with pytest.raises(RuntimeError, match="page 2 broke"):
        await pages.__anext__()
