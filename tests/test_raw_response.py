"""What a successful response said: raw_response / with_raw_response and client.rate_limit.

Unit tests over MockTransport (no sockets); the real-socket test is in
tests/local/test_local_raw_response.py.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from _support import API_KEY, BASE_URL, FakeSleep

from floimg_async import (
    ExecutionStatus,
    FloImg,
    FloImgError,
    Image,
    NotFoundError,
    RateLimitedError,
    RateLimitInfo,
    RawResponse,
    Workflow,
)
from floimg_async._response import SEEN
from floimg_async.transports import MockResponse, MockTransport, WireRequest

RESET = 1_900_000_000  # 2030-03-17, Unix seconds
WORKFLOW = {"id": "wf_1", "name": "Resize"}
DONE = {"executionId": "exec_1", "status": "completed", "output": {"url": "/files/a.png"}}
IMAGE = {"id": "img_1", "url": "/files/a.png", "name": "a.png"}


def limits(remaining: int | str, limit: int | str = 60, reset: int | str = RESET) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
    }


class Counter:
    """A handler answering every endpoint, each response numbered in X-Request-Id."""

    def __init__(self) -> None:
        self.n = 0
        self.polls = 0

    def __call__(self, request: WireRequest) -> MockResponse:
        self.n += 1
        headers = {"X-Request-Id": f"req_{self.n}", **limits(60 - self.n)}
        url, method = request.url, request.method
        if url.endswith("/files/a.png"):
            return MockResponse(200, body=b"PNGDATA", headers=headers)
        if url.endswith("/workflows/execute"):
            body = json.loads(request.body or b"{}")
            payload = {"executionId": "exec_1", "status": "pending"} if body.get("async") else DONE
            return MockResponse(200, json=payload, headers=headers)
        if "/workflows/executions/" in url:
            self.polls += 1
            status = "completed" if self.polls >= 2 else "running"
            return MockResponse(200, json={**DONE, "status": status}, headers=headers)
        if "/workflows/" in url:
            return MockResponse(200, json=WORKFLOW, headers=headers)
        if url.endswith("/storage/upload"):
            return MockResponse(200, json=IMAGE, headers=headers)
        if "/storage/images/" in url:
            if method == "DELETE":
                return MockResponse(200, json={"deleted": True}, headers=headers)
            return MockResponse(200, json=IMAGE, headers=headers)
        if url.endswith("/projects"):
            return MockResponse(200, json={"id": "p_1", "name": "Ads"}, headers=headers)
        return MockResponse(404, json={"error": {"code": "not_found", "message": "no"}})


@pytest.fixture
def counter() -> Counter:
    return Counter()


@pytest.fixture
async def client(counter: Counter, fake_sleep: FakeSleep) -> AsyncIterator[FloImg]:
    transport = MockTransport(counter)
    async with FloImg(API_KEY, base_url=BASE_URL, sleep=fake_sleep, transport=transport) as c:
        yield c


# -- one call, its response --------------------------------------------------------------------


async def test_raw_response_holds_the_value_and_what_the_response_said(client: FloImg) -> None:
    response = await client.raw_response(client.workflows.get("wf_1"))
    assert isinstance(response, RawResponse)
    assert response.parse() == Workflow(id="wf_1", name="Resize")
    assert response.parse() == await client.workflows.get("wf_1")
    assert response.status == 200
    assert response.request_id == "req_1"
    assert response.headers["x-request-id"] == "req_1"  # case-insensitive
    assert response.rate_limit == RateLimitInfo(
        limit=60, remaining=59, reset_at=datetime.fromtimestamp(RESET, tz=timezone.utc)
    )
    assert (response.attempts, response.retries, response.responses) == (1, 0, 1)
    assert json.loads(response.content or b"") == WORKFLOW
    assert response.elapsed >= 0
    assert "req_1" in repr(response) and "Resize" not in repr(response)


async def test_retried_call_reports_its_attempts_and_the_last_response(
    fake_sleep: FakeSleep,
) -> None:
    answers = [
        MockResponse(503, json={"error": {"code": "x", "message": "busy"}}),
        MockResponse(429, json={"error": {"code": "rate_limited", "message": "slow"}}),
        MockResponse(200, json=WORKFLOW, headers={"X-Request-Id": "req_ok"}),
    ]
    transport = MockTransport(lambda request: answers.pop(0))
    async with FloImg(API_KEY, base_url=BASE_URL, sleep=fake_sleep, transport=transport) as c:
        response = await c.raw_response(c.workflows.get("wf_1"))
    assert (response.attempts, response.retries, response.request_id) == (3, 2, "req_ok")
    assert response.rate_limit is None  # the 200 carried no X-RateLimit-* headers


async def test_a_polling_call_reports_its_last_response_and_counts_them(
    client: FloImg, counter: Counter
) -> None:
    response = await client.raw_response(client.workflows.run("wf_1", {"p": 1}))
    assert response.parse().status is ExecutionStatus.COMPLETED
    # submit + two polls, the last one answered
    assert response.responses == counter.n == 3
    assert response.request_id == "req_3"
    assert response.rate_limit is not None and response.rate_limit.remaining == 57


async def test_a_streamed_download_has_headers_but_no_content(
    client: FloImg, tmp_path: Path
) -> None:
    response = await client.raw_response(client.images.download("/files/a.png", tmp_path / "a"))
    assert response.parse() == tmp_path / "a" and (tmp_path / "a").read_bytes() == b"PNGDATA"
    assert response.content is None and response.request_id == "req_1"
    in_memory = await client.raw_response(client.images.download("/files/a.png"))
    assert in_memory.parse() == in_memory.content == b"PNGDATA"


# -- every coroutine method, through one mechanism ---------------------------------------------

# Every coroutine method and arguments the Counter handler answers.
CALLS: dict[str, tuple[Any, ...]] = {
    "workflows.get": ("wf_1",), "workflows.execute": ("wf_1",),
    "workflows.submit": ("wf_1",), "workflows.run": ("wf_1",),
    "executions.get": ("exec_1",), "executions.wait": ("exec_1",),
    "images.upload": (b"\x89PNG",), "images.get": ("img_1",), "images.delete": ("img_1",),
    "images.download": ("/files/a.png",), "projects.create": ("Ads",),
}  # fmt: skip


def method_of(namespace: Any, what: str) -> Callable[..., Any]:
    resource, method = what.split(".")
    return getattr(getattr(namespace, resource), method)  # type: ignore[no-any-return]


def coroutine_methods() -> set[str]:
    client = FloImg(API_KEY, base_url=BASE_URL, transport=MockTransport(Counter()))
    found = set()
    for resource in ("workflows", "executions", "images", "projects"):
        namespace = getattr(client, resource)
        for name in dir(namespace):
            if not name.startswith("_") and inspect.iscoroutinefunction(getattr(namespace, name)):
                found.add(f"{resource}.{name}")
    return found


def test_the_table_below_covers_every_coroutine_method() -> None:
    # A new coroutine method must be added to CALLS, so the tests below cover it.
    assert coroutine_methods() == set(CALLS)


@pytest.mark.parametrize("what", sorted(CALLS))
async def test_every_coroutine_method_gives_its_usual_value_and_response(
    what: str, fake_sleep: FakeSleep
) -> None:
    plain_counter, raw_counter, attr_counter = Counter(), Counter(), Counter()

    def fresh(counter: Counter) -> FloImg:
        return FloImg(
            API_KEY, base_url=BASE_URL, sleep=fake_sleep, transport=MockTransport(counter)
        )

    async with (
        fresh(plain_counter) as plain,
        fresh(raw_counter) as raw,
        fresh(attr_counter) as attr,
    ):
        value = await method_of(plain, what)(*CALLS[what])
        response = await raw.raw_response(method_of(raw, what)(*CALLS[what]))
        spelled = await method_of(attr.with_raw_response, what)(*CALLS[what])
    assert response.parse() == value == spelled.parse()
    # the same requests were sent; the response is the last of them
    assert raw_counter.n == plain_counter.n == attr_counter.n
    assert response.request_id == spelled.request_id == f"req_{raw_counter.n}"
    assert response.responses == raw_counter.n
    assert response.rate_limit is not None and response.rate_limit.remaining == 60 - raw_counter.n


async def test_the_escape_hatch_is_covered_too(client: FloImg) -> None:
    response = await client.raw_response(client.request("GET", "/workflows/wf_1"))
    assert response.parse() == WORKFLOW and response.request_id == "req_1"


async def test_a_derived_client_gives_raw_responses_of_its_own(client: FloImg) -> None:
    derived = client.with_options(max_retries=0)
    response = await derived.with_raw_response.workflows.get("wf_1")
    assert response.parse().name == "Resize"


# -- the key never shows -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "echo",
    [
        {"X-Request-Id": f"req_{API_KEY}"},
        {"X-Request-Id": API_KEY, "X-Debug": f"Bearer {API_KEY}"},
        {"Request-Id": f"r-{API_KEY}-x", "Authorization": f"Bearer {API_KEY}"},
        {"X-Request-Id": "ok", "Set-Cookie": f"k={API_KEY}", "Location": "https://u:pw@h/x"},
    ],
)
async def test_a_key_echoed_in_any_header_is_scrubbed(
    echo: dict[str, str], fake_sleep: FakeSleep
) -> None:
    def handler(request: WireRequest) -> MockResponse:
        return MockResponse(200, json=WORKFLOW, headers={**echo, **limits(5)})

    async with FloImg(
        API_KEY, base_url=BASE_URL, sleep=fake_sleep, transport=MockTransport(handler)
    ) as c:
        response = await c.raw_response(c.workflows.get("wf_1"))
        rate = c.rate_limit
    shown = [repr(response), str(dict(response.headers)), str(response.request_id), repr(rate)]
    for text in shown:
        assert API_KEY not in text and "pw@" not in text
    assert response.request_id is not None and response.request_id != ""
    assert "authorization" not in {name.lower() for name in response.headers}


# -- concurrency: per task, never mixed --------------------------------------------------------


async def test_concurrent_calls_each_see_their_own_response(fake_sleep: FakeSleep) -> None:
    async def handler(request: WireRequest) -> MockResponse:
        wid = request.url.rsplit("/", 1)[1]
        # The later a call starts, the sooner it is answered: responses cross.
        await asyncio.sleep(0.001 * (10 - int(wid.split("_")[1])))
        return MockResponse(200, json={"id": wid, "name": wid}, headers={"X-Request-Id": wid})

    async with FloImg(
        API_KEY, base_url=BASE_URL, sleep=fake_sleep, transport=MockTransport(handler)
    ) as c:
        plain = [c.workflows.get(f"wf_{i}") for i in range(0, 10, 2)]
        raw = [c.raw_response(c.workflows.get(f"wf_{i}")) for i in range(1, 10, 2)]
        results = await asyncio.gather(*plain, *raw)
    for response in results[5:]:
        assert isinstance(response, RawResponse)
        assert response.request_id == response.parse().id
        assert response.responses == 1


async def test_the_slot_is_gone_after_the_call_even_when_it_fails(client: FloImg) -> None:
    with pytest.raises(NotFoundError):
        await client.raw_response(client.request("GET", "/nothing/here"))
    assert SEEN.get() is None
    await client.raw_response(client.workflows.get("wf_1"))
    assert SEEN.get() is None


async def test_nested_raw_responses_keep_their_own_slots(client: FloImg) -> None:
    async def two_calls() -> str:
        inner = await client.raw_response(client.workflows.get("wf_1"))
        await client.workflows.get("wf_1")
        return str(inner.request_id)

    outer = await client.raw_response(two_calls())
    assert outer.parse() == "req_1"
    assert (outer.request_id, outer.responses) == ("req_2", 1)


# -- misuse: clear errors ----------------------------------------------------------------------


async def test_listings_are_refused_with_a_pointer_to_rate_limit(client: FloImg) -> None:
    with pytest.raises(TypeError, match=r"client\.rate_limit"):
        await client.raw_response(client.workflows.list())  # type: ignore[arg-type]
    for resource, name in [("workflows", "list"), ("workflows", "run_many"), ("images", "list")]:
        with pytest.raises(AttributeError, match=r"client\.rate_limit"):
            getattr(getattr(client.with_raw_response, resource), name)


async def test_anything_but_an_unawaited_call_is_a_type_error(client: FloImg) -> None:
    with pytest.raises(TypeError, match=r"not yet awaited"):
        await client.raw_response(WORKFLOW)  # type: ignore[arg-type]
    task = asyncio.ensure_future(client.workflows.get("wf_1"))
    with pytest.raises(TypeError, match="Task"):
        await client.raw_response(task)
    await task

    async def started() -> Workflow:
        return await client.workflows.get("wf_1")

    coroutine = started()
    runner = asyncio.ensure_future(coroutine)
    await asyncio.sleep(0)
    with pytest.raises(TypeError, match="already started"):
        await client.raw_response(coroutine)
    await runner


async def test_a_call_that_sent_nothing_is_an_error(client: FloImg) -> None:
    async def nothing() -> int:
        return 1

    with pytest.raises(FloImgError, match="no HTTP response"):
        await client.raw_response(nothing())


async def test_with_raw_response_knows_only_resources_and_their_methods(client: FloImg) -> None:
    for name in ("stats", "base_url", "_sender", "nope"):
        with pytest.raises(AttributeError, match="no resource"):
            getattr(client.with_raw_response, name)
    for name in ("nope", "_call", "_sender"):
        with pytest.raises(AttributeError, match="no method"):
            getattr(client.with_raw_response.workflows, name)
    assert client.with_raw_response.workflows.get.__doc__ == client.workflows.get.__doc__


# -- client.rate_limit -------------------------------------------------------------------------


async def test_rate_limit_follows_the_latest_response(
    fake_sleep: FakeSleep, tmp_path: Path
) -> None:
    answers: list[MockResponse] = []
    transport = MockTransport(lambda request: answers.pop(0))
    async with FloImg(
        API_KEY, base_url=BASE_URL, sleep=fake_sleep, transport=transport, max_retries=0
    ) as c:
        assert c.rate_limit is None
        answers.append(MockResponse(200, json=WORKFLOW, headers=limits(9)))
        await c.workflows.get("wf_1")
        first = c.rate_limit
        assert first is not None and (first.limit, first.remaining) == (60, 9)
        assert c.rate_limit is first  # parsed once per response

        # An error answer counts too: a 429 says nothing is left.
        body = {"error": {"code": "rate_limited", "message": "slow"}}
        answers.append(MockResponse(429, json=body, headers={**limits(0), "Retry-After": "1"}))
        with pytest.raises(RateLimitedError):
            await c.workflows.get("wf_1")
        assert c.rate_limit is not None and c.rate_limit.remaining == 0

        # A response without X-RateLimit-Remaining leaves the last known state.
        answers.append(MockResponse(200, json=WORKFLOW))
        await c.workflows.get("wf_1")
        assert c.rate_limit is not None and c.rate_limit.remaining == 0

        # Another host's rate-limit headers (a download) are not the API's.
        answers.append(MockResponse(200, body=b"x", headers=limits(1000, 1000)))
        await c.images.download("https://cdn.example.com/a.png")
        assert c.rate_limit is not None and c.rate_limit.remaining == 0

        # Shared with with_options copies (same pool).
        answers.append(MockResponse(200, json=WORKFLOW, headers=limits(7)))
        derived = c.with_options(timeout=5)
        await derived.workflows.get("wf_1")
        assert c.rate_limit is not None and c.rate_limit.remaining == 7
        assert derived.rate_limit == c.rate_limit


@pytest.mark.parametrize(
    "headers",
    [
        limits("lots", "-3", "soon"),
        limits("1e999", "nan", "-1"),
        limits("9" * 40, "inf", "9" * 40),
        {"X-RateLimit-Remaining": ""},
    ],
)
async def test_rate_limit_garbage_reads_as_none(
    headers: dict[str, str], fake_sleep: FakeSleep
) -> None:
    def handler(request: WireRequest) -> MockResponse:
        return MockResponse(200, json=WORKFLOW, headers=headers)

    async with FloImg(
        API_KEY, base_url=BASE_URL, sleep=fake_sleep, transport=MockTransport(handler)
    ) as c:
        response = await c.raw_response(c.workflows.get("wf_1"))
        assert c.rate_limit is None and response.rate_limit is None
        assert response.parse().id == "wf_1"  # the call itself is unaffected


async def test_images_are_models_too(client: FloImg) -> None:
    response = await client.raw_response(client.images.get("img_1"))
    assert isinstance(response.parse(), Image)
