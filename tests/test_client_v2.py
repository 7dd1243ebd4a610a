"""Contract v2 in the core: default_headers, with_options(headers=), client.request, FLOIMG_LOG."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from _support import API_KEY, BASE_URL, FakeSleep

from floimg_async import FloImg, NotFoundError, ServerError
from floimg_async.transports import MockResponse, MockTransport, WireRequest


def recording(answer: MockResponse | None = None) -> MockTransport:
    return MockTransport(lambda request: answer or MockResponse(200, json={"ok": True}))


async def test_default_headers_go_to_the_api_only_and_with_options_adds_to_them() -> None:
    transport = recording(MockResponse(200, json={"id": "wf_1"}))
    async with FloImg(
        API_KEY, base_url=BASE_URL, transport=transport, default_headers={"X-Team": "ads"}
    ) as client:
        await client.workflows.get("wf_1")
        tagged = client.with_options(headers={"X-Trace": "t1", "X-Team": "brand"})
        await tagged.workflows.get("wf_1")
        await client.projects.create("p")
        await client.images.download("https://cdn.example.com/a.png")
    get, tagged_get, create, download = transport.requests
    assert get.headers == {"X-Team": "ads"}
    assert tagged_get.headers == {"X-Team": "brand", "X-Trace": "t1"}
    assert create.headers is not None and create.headers["X-Team"] == "ads"
    assert "Idempotency-Key" in create.headers
    assert not download.authenticated and not download.headers


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer other"},
        {"idempotency-key": "k"},
        {"X-Evil": "a\r\nB: c"},
        {"Bad Name": "v"},
        {"X-Nul": "a\0"},
    ],
)
def test_bad_default_headers_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        FloImg(API_KEY, base_url=BASE_URL, default_headers=headers)
    client = FloImg(API_KEY, base_url=BASE_URL)
    with pytest.raises(ValueError):
        client.with_options(headers=headers)


async def test_request_sends_any_endpoint_with_the_clients_machinery(
    fake_sleep: FakeSleep,
) -> None:
    answers = [
        MockResponse(503, json={"error": {"code": "busy"}}),
        MockResponse(200, json={"items": [1, 2]}),
        MockResponse(204),
        MockResponse(404, json={"error": {"code": "not_found", "message": "no"}}),
    ]
    transport = MockTransport(lambda request: answers.pop(0))
    async with FloImg(API_KEY, base_url=BASE_URL, transport=transport, sleep=fake_sleep) as c:
        assert await c.request("GET", "/things", params={"limit": 5, "all": True}) == {
            "items": [1, 2]
        }
        assert await c.request("post", "/things", json={"a": 1}) is None
        with pytest.raises(NotFoundError):
            await c.request("DELETE", "/things/1")
    first, retry, post, delete = transport.requests
    assert delete.method == "DELETE" and delete.url == f"{BASE_URL}/things/1"
    assert first == retry and first.url == f"{BASE_URL}/things"
    assert first.params == {"limit": "5", "all": "true"}
    assert post.method == "POST" and post.body == b'{"a":1}'
    assert post.headers is not None and "Idempotency-Key" in post.headers
    assert len(fake_sleep.calls) == 1


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("TRACE", "/x", {}),
        ("GET", "x", {}),
        ("GET", "//evil.example/x", {}),
        ("GET", "/a/../b", {}),
        ("GET", "/x?y=1", {}),
        ("GET", "/x\r\n", {}),
        ("GET", "/x", {"json": {"a": 1}}),
        ("POST", "/x", {"json": {"a": object()}}),
        ("GET", "/x", {"params": {"a": [1]}}),
    ],
)
async def test_request_refuses_misuse_before_sending(
    method: str, path: str, kwargs: dict[str, Any]
) -> None:
    transport = recording()
    async with FloImg(API_KEY, base_url=BASE_URL, transport=transport) as client:
        with pytest.raises((ValueError, TypeError)):
            await client.request(method, path, **kwargs)
    assert transport.requests == []


async def test_floimg_log_sends_the_logger_to_stderr_without_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = logging.getLogger("floimg_async")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "level", logging.NOTSET)
    monkeypatch.setenv("FLOIMG_LOG", "debug")

    def handler(request: WireRequest) -> MockResponse:
        return MockResponse(500, json={"error": {"code": "x", "message": API_KEY}})

    async with FloImg(
        API_KEY, base_url=BASE_URL, transport=MockTransport(handler), max_retries=0
    ) as client:
        with pytest.raises(ServerError):
            await client.workflows.get("wf_1")
        logger.debug("echo %s", API_KEY)  # even a line someone else wrote
    logger.setLevel(logging.NOTSET)  # also clears the loggers' level cache
    err = capsys.readouterr().err
    assert "GET /workflows/wf_1 -> 500" in err
    assert API_KEY not in err and "[redacted]" in err
