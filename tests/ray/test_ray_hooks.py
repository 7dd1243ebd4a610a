"""The actor's client books a budget slot for every API attempt and reports rate limits back.

Driven without a Ray cluster: the generator is called directly (as outside an
actor), with a fake budget handle and the SDK's ``MockTransport``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed")
pa = pytest.importorskip("pyarrow")

from floimg_async.ray._generate import FloImgGenerator, _Secret  # noqa: E402
from floimg_async.transports import MockResponse, MockTransport, WireRequest  # noqa: E402

BASE_URL = "http://127.0.0.1:9/v1"
DONE = {
    "executionId": "exec_1",
    "status": "completed",
    "output": {"url": "https://cdn.example.com/1.png", "format": "png"},
}


class _Remote:
    """``handle.method.remote(...)`` of a fake actor: records calls, answers at once."""

    def __init__(self, answer: Any = None) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self._answer = answer

    def remote(self, *args: Any) -> Any:
        self.calls.append(args)
        done = asyncio.get_running_loop().create_future()  # like an ObjectRef: await or not
        done.set_result(self._answer)
        return done


class _Budget:
    def __init__(self) -> None:
        self.reserve = _Remote(0.0)  # "send now"
        self.observe = _Remote()
        self.register = _Remote()


async def test_every_api_attempt_is_booked_and_429s_and_limits_are_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = [
        MockResponse(
            429,
            json={"error": {"code": "rate_limited", "message": "slow down"}},
            headers={"Retry-After": "0", "X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0"},
        ),
        MockResponse(200, json=DONE, headers={"X-RateLimit-Limit": "60"}),
        MockResponse(200, body=b"png"),  # the download: another origin
    ]
    sent: list[str] = []

    def handler(wire: WireRequest) -> MockResponse:
        sent.append(wire.url)
        return answers.pop(0)

    def no_actor() -> Any:
        raise RuntimeError("not in an actor")  # and no local Ray instance started for it

    monkeypatch.setattr(ray, "get_runtime_context", no_actor)
    budget = _Budget()
    generator = FloImgGenerator(
        "wf_1",
        run_id="r1",
        budget=budget,
        api_key=_Secret("fsk_test_hooks"),
        base_url=BASE_URL,
        client_options={"transport": MockTransport(handler), "max_retries": 2},
    )
    monkeypatch.setattr(generator, "_save", _fake_save)
    generator._fs = object()  # type: ignore[assignment]  # so the output is "downloaded"
    try:
        table = await generator(pa.table({"id": [1], "prompt": ["x"]}))
    finally:
        assert generator._client is not None
        await generator._client.close()
    (row,) = table.to_pylist()
    assert row["status"] == "completed", row
    # One slot booked before the row's first send, one more for its retry; none for the
    # download, which is not an API request.
    assert len(budget.reserve.calls) == 2
    assert budget.observe.calls == [(429, 60.0, 0.0, 0.0)]  # the 200 told nothing new
    assert sent == [f"{BASE_URL}/workflows/execute"] * 2 + ["https://cdn.example.com/1.png"]


async def _fake_save(client: Any, row_id: Any, url: str, output: Any) -> str:
    data = await client.images.download(url)
    assert data == b"png"
    return "saved"
