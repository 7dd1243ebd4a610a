"""The sans-I/O core: building wire requests and classifying responses, without any I/O."""

from __future__ import annotations

import itertools

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from floimg_async import (
    APIConnectionError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ResponseDecodeError,
    ServerError,
)
from floimg_async._ratelimit import RateGate
from floimg_async._request import Request, download_request, json_body
from floimg_async._retry import RetryPolicy
from floimg_async._uploads import UploadBody
from floimg_async._wire import build_wire, classify_error, is_unversioned

BASE = "https://api.example.com/v1"
TIMEOUT = aiohttp.ClientTimeout(total=30)


def test_a_get_is_sent_as_it_is() -> None:
    request = Request("GET", "/workflows/wf_1", what="workflows.get", params={"a": "1"})
    wire, stream = build_wire(request, base_url=BASE, timeout=TIMEOUT, remaining=None)
    assert stream is None
    assert (wire.method, wire.url, wire.params, wire.headers, wire.body) == (
        "GET",
        f"{BASE}/workflows/wf_1",
        {"a": "1"},
        None,
        None,
    )
    assert wire.authenticated and wire.timeout is TIMEOUT and wire.remaining is None


def test_a_json_post_carries_its_body_type_and_idempotency_key() -> None:
    request = Request(
        "POST", "/projects", what="projects.create", json=json_body({"name": "x"}),
        idempotency_key="key-1",
    )  # fmt: skip
    wire, stream = build_wire(request, base_url=BASE, timeout=TIMEOUT, remaining=2.5)
    assert stream is None
    assert wire.headers == {"Idempotency-Key": "key-1", "Content-Type": "application/json"}
    assert wire.body == b'{"name":"x"}' and wire.remaining == 2.5


def test_an_upload_gets_a_fresh_stream_and_its_length_per_attempt() -> None:
    body = UploadBody(b"12345", name="a.png")
    request = Request("POST", "/storage/upload", what="images.upload", upload=body)
    first, stream_1 = build_wire(request, base_url=BASE, timeout=TIMEOUT, remaining=None)
    second, stream_2 = build_wire(request, base_url=BASE, timeout=TIMEOUT, remaining=None)
    assert stream_1 is not None and stream_2 is not None and stream_1 is not stream_2
    assert first.body is stream_1 and second.body is stream_2
    assert first.headers is not None
    assert first.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert first.headers["Content-Length"] == str(body.length)
    stream_1.close()
    stream_2.close()


@pytest.mark.parametrize(
    ("url", "authenticated"),
    [
        ("/files/a.png", True),
        ("https://api.example.com/files/a.png", True),
        ("https://api.example.com:443/files/a.png", True),
        ("https://cdn.example.com/a.png", False),
        ("https://api.example.com:8443/a.png", False),
        ("http://api.example.com/a.png", False),
    ],
)
def test_download_requests_carry_the_key_only_to_the_api_origin(
    url: str, authenticated: bool
) -> None:
    request = download_request(url, BASE)
    assert request.authenticated is authenticated
    wire, _ = build_wire(request, base_url=BASE, timeout=TIMEOUT, remaining=None)
    assert wire.url.startswith("http") and wire.authenticated is authenticated


@pytest.mark.parametrize("url", ["ftp://x/a.png", "file:///etc/passwd", "javascript:alert(1)"])
def test_download_requests_refuse_other_schemes(url: str) -> None:
    with pytest.raises(ValueError):
        download_request(url, BASE)


@pytest.mark.parametrize(
    ("status", "headers", "body", "cls", "retry_after"),
    [
        (429, {"Retry-After": "7"}, b"", RateLimitedError, 7.0),
        (429, {}, b'{"error": {"code": "rate_limited", "retryAfter": 3}}', RateLimitedError, 3.0),
        (503, {"Retry-After": "2"}, b"<html>busy</html>", ServerError, 2.0),
        (400, {}, b'{"error": "bad", "code": "invalid_request"}', InvalidRequestError, None),
        (500, {}, b'{"error": {"code": "not_found"}}', NotFoundError, None),
    ],
)
def test_classify_error_picks_the_class_and_reads_retry_after(
    status: int, headers: dict[str, str], body: bytes, cls: type, retry_after: float | None
) -> None:
    error = classify_error(
        status, CIMultiDict(headers), body, method="GET", url=f"{BASE}/x", base_url=BASE
    )
    assert type(error) is cls and error.status == status
    assert error.retry_after == retry_after


@pytest.mark.parametrize(
    ("base", "hint"),
    [
        ("https://api.example.com", True),
        ("https://api.example.com/api", True),
        ("https://api.example.com/v1", False),
        ("https://api.example.com/proxy/v2", False),
    ],
)
def test_a_404_under_an_unversioned_base_url_says_so(base: str, hint: bool) -> None:
    url = f"{base}/workflows/wf_1"
    error = classify_error(404, {}, b"Not Found", method="GET", url=url, base_url=base)
    assert isinstance(error, NotFoundError)
    assert ("probably lacks the API version" in str(error)) is hint
    assert (url in str(error)) is hint
    assert is_unversioned(base) is hint


def test_a_404_off_the_api_is_never_blamed_on_the_base_url() -> None:
    base = "https://api.example.com"
    url = "https://cdn.example.com/a.png"
    error = classify_error(404, {}, b"", method="GET", url=url, base_url=base)
    assert "probably lacks" not in str(error)


@settings(max_examples=100, deadline=None)
@given(st.integers(400, 599), st.binary(max_size=200))
def test_property_classify_error_always_gives_an_api_error(status: int, body: bytes) -> None:
    error = classify_error(status, {}, body, method="GET", url=f"{BASE}/x", base_url=BASE)
    assert error.status == status and isinstance(error.code, str) and error.code


# -- the retry policy as tenacity strategies -----------------------------------------------------


def test_plan_gives_up_on_what_is_not_retried_and_after_max_retries() -> None:
    policy = RetryPolicy(max_retries=2, rand=lambda: 0.5)
    assert policy.plan(InvalidRequestError("x", status=400), 1) is None
    assert policy.plan(ResponseDecodeError("x", status=200), 1) is None
    assert policy.plan(APIConnectionError("reset"), 1) == pytest.approx(0.5)
    assert policy.plan(APIConnectionError("reset"), 2) == pytest.approx(1.0)
    assert policy.plan(APIConnectionError("reset"), 3) is None  # 3 attempts = 1 + 2 retries


def test_plan_follows_retry_after_and_refuses_one_beyond_the_cap() -> None:
    policy = RetryPolicy(max_retries=5, max_retry_after=10)
    assert policy.plan(RateLimitedError("x", status=429, retry_after=4.0), 1) == 4.0
    assert policy.plan(ServerError("x", status=503, retry_after=11.0), 1) is None


def test_a_policy_without_retries_never_retries() -> None:
    assert RetryPolicy(max_retries=0).plan(APIConnectionError("reset"), 1) is None


# -- the rate gate reads its headers purely -----------------------------------------------------


@pytest.mark.parametrize("limit", ["0.001", "1e-9", "0", "-1", "nan", "inf", "1e308", "junk"])
def test_rate_gate_pacing_interval_is_bounded_whatever_the_limit_says(limit: str) -> None:
    gate = RateGate()
    gate.rate_limited(100.0, 1.0, {"x-ratelimit-limit": limit})
    delays = [gate.delay(100.0) for _ in range(5)]
    assert delays[0] == pytest.approx(1.0)
    assert all(later - earlier <= 60.0 for earlier, later in itertools.pairwise(delays))
