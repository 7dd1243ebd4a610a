"""The one retry loop, over MockTransport: for any sequence of outcomes and any max_retries,
it sends exactly as many attempts as the policy allows and ends with the documented result."""

from __future__ import annotations

from typing import Any

from _support import API_KEY, BASE_URL, FakeSleep
from hypothesis import given, settings
from hypothesis import strategies as st

from floimg_async import (
    APIConnectionError,
    APITimeoutError,
    FloImg,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    WorkflowFailedError,
)
from floimg_async.transports import MockResponse, MockTransport, WireRequest

OK = ("ok", None, True)
# (name, expected error class, retried?)
OUTCOMES = [
    OK,
    ("503", ServerError, True),
    ("502_html", ServerError, True),
    ("429_small", RateLimitedError, True),
    ("429_huge", RateLimitedError, False),
    ("500_workflow_failed", WorkflowFailedError, False),
    ("400", InvalidRequestError, False),
    ("404", NotFoundError, False),
    ("reset", APIConnectionError, True),
    ("timeout", APITimeoutError, True),
]


def answer(name: str) -> MockResponse:
    if name == "ok":
        return MockResponse(200, json={"id": "wf_1", "name": "w"})
    if name == "503":
        return MockResponse(503, json={"error": {"code": "unavailable", "message": "m"}})
    if name == "502_html":
        return MockResponse(502, body=b"<html>Bad Gateway</html>")
    if name == "429_small":
        return MockResponse(
            429, json={"error": {"code": "rate_limited"}}, headers={"Retry-After": "1"}
        )
    if name == "429_huge":
        return MockResponse(
            429, json={"error": {"code": "rate_limited"}}, headers={"Retry-After": "9999"}
        )
    if name == "500_workflow_failed":
        return MockResponse(500, json={"error": {"code": "workflow_failed", "message": "m"}})
    if name == "400":
        return MockResponse(400, json={"error": {"code": "invalid_request", "message": "m"}})
    if name == "404":
        return MockResponse(404, json={"error": {"code": "not_found", "message": "m"}})
    if name == "reset":
        raise ConnectionResetError("reset by peer")
    raise TimeoutError("slow")


@settings(max_examples=120, deadline=None)
@given(
    outcomes=st.lists(st.sampled_from(OUTCOMES), min_size=1, max_size=7),
    max_retries=st.integers(0, 4),
)
async def test_property_the_retry_loop_follows_the_policy(
    outcomes: list[tuple[str, Any, bool]], max_retries: int
) -> None:
    script = list(outcomes) + [OK] * 8  # the server recovers eventually

    def handler(request: WireRequest) -> MockResponse:
        return answer(script[len(transport.requests) - 1][0])

    transport = MockTransport(handler)
    sleeps = FakeSleep()
    expected_attempts = 1
    for name, _, retried in script:
        if name == "ok" or not retried or expected_attempts > max_retries:
            final = (name, _)
            break
        expected_attempts += 1
    async with FloImg(
        API_KEY, base_url=BASE_URL, max_retries=max_retries, transport=transport, sleep=sleeps
    ) as client:
        try:
            result: Any = await client.workflows.get("wf_1")
        except Exception as exc:  # the property: which one, exactly
            result = exc
        stats = client.stats
    assert len(transport.requests) == expected_attempts == stats.requests
    assert stats.retries == expected_attempts - 1
    # One backoff per retry, plus rate-gate waits after a 429; none beyond max_retry_after.
    assert len(sleeps.calls) >= expected_attempts - 1
    assert all(0 <= s <= 60 for s in sleeps.calls)
    name, error_class = final
    if name == "ok":
        assert result.id == "wf_1"
    else:
        assert type(result) is error_class, (result, final)
    # Every request of the call carried the same method and URL.
    assert {(r.method, r.url) for r in transport.requests} == {
        ("GET", f"{BASE_URL}/workflows/wf_1")
    }
