"""Building requests is pure: ids, paths, bodies, base URLs, page parameters."""

from __future__ import annotations

import json

import pytest

from floimg_async._request import (
    check_page_size,
    is_loopback,
    json_body,
    normalize_base_url,
    origin_of,
    page_params,
    path,
    segment,
)


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("wf_abc123", "wf_abc123"),
        ("a/b", "a%2Fb"),
        ("../projects", "..%2Fprojects"),
        ("a b?c#d", "a%20b%3Fc%23d"),
        ("é", "%C3%A9"),
    ],
)
def test_ids_are_one_percent_encoded_segment(raw: str, encoded: str) -> None:
    assert segment(raw, "id") == encoded
    assert path("workflows", segment(raw, "id")) == f"/workflows/{encoded}"


@pytest.mark.parametrize("bad", ["", "  ", ".", ".."])
def test_empty_and_dot_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="workflow_id"):
        segment(bad, "workflow_id")


def test_non_string_id_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="workflow_id must be a string"):
        segment(42, "workflow_id")


def test_json_body_is_compact_and_stable() -> None:
    body = json_body({"workflowId": "wf", "parameters": {"w": 1}, "async": False})
    assert body == b'{"workflowId":"wf","parameters":{"w":1},"async":false}'
    assert json.loads(body)["async"] is False


def test_json_body_names_the_problem() -> None:
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        json_body({"when": object()})


@pytest.mark.parametrize("size", [0, 101, -1])
def test_page_size_out_of_range(size: int) -> None:
    with pytest.raises(ValueError, match="1 to 100"):
        check_page_size(size)


def test_page_size_must_be_an_int() -> None:
    with pytest.raises(TypeError):
        check_page_size("20")


def test_page_params() -> None:
    assert page_params(20, 40, None) == {"limit": "20", "offset": "40"}
    assert page_params(5, 0, "proj_1") == {"limit": "5", "offset": "0", "projectId": "proj_1"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.floimg.com/v1/", "https://api.floimg.com/v1"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
        ("http://localhost:9/v1//", "http://localhost:9/v1"),
        ("http://[::1]:9/v1", "http://[::1]:9/v1"),
    ],
)
def test_base_url_normalised(url: str, expected: str) -> None:
    assert normalize_base_url(url) == expected


def test_plain_http_to_another_host_needs_an_explicit_opt_in() -> None:
    with pytest.raises(ValueError, match="allow_insecure_http"):
        normalize_base_url("http://api.example.com/v1")
    assert normalize_base_url("http://api.example.com/v1", allow_insecure_http=True)


@pytest.mark.parametrize(
    "bad", ["api.floimg.com/v1", "ftp://x/v1", "https:///v1", "https://h/v1?x=1"]
)
def test_bad_base_urls(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_base_url(bad)


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.5.5.5") and is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("10.0.0.1") and not is_loopback("example.com")


def test_origin_fills_default_ports() -> None:
    assert origin_of("https://API.floimg.com/v1/x") == ("https", "api.floimg.com", 443)
    assert origin_of("http://127.0.0.1:8080/files/a.png") == ("http", "127.0.0.1", 8080)
    assert origin_of("https://api.floimg.com:443/") == origin_of("https://api.floimg.com/")
