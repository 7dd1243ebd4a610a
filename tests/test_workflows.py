"""Workflows: request shapes, idempotency keys, retries and error mapping (MockTransport)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from _support import API_KEY, BASE_URL, FakeSleep, MockAPI

from floimg_async import (
    APIConnectionError,
    ExecutionStatus,
    FloImg,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    WorkflowFailedError,
)

EXECUTE = f"{BASE_URL}/workflows/execute"
DONE = {"executionId": "exec_1", "status": "completed", "output": {"url": "u"}, "duration": 5}


def sent(mock: MockAPI, method: str, url: str) -> list[dict]:
    return [{"data": r.body, "headers": r.headers} for r in mock.sent(method, url)]


@pytest.fixture
def mock() -> MockAPI:
    """Canned answers over the SDK's MockTransport (no sockets, no aioresponses)."""
    return MockAPI()


@pytest.fixture
async def client(mock: MockAPI, fake_sleep: FakeSleep) -> AsyncIterator[FloImg]:
    async with FloImg(API_KEY, base_url=BASE_URL, sleep=fake_sleep, transport=mock.transport) as c:
        yield c


async def test_execute_sends_the_documented_body(mock: MockAPI, client: FloImg) -> None:
    with mock:
        mock.post(EXECUTE, payload=DONE)
        execution = await client.workflows.execute("wf_abc", {"prompt": "A lake", "width": 1200})
        (kwargs,) = sent(mock, "POST", EXECUTE)
    assert json.loads(kwargs["data"]) == {
        "workflowId": "wf_abc",
        "parameters": {"prompt": "A lake", "width": 1200},
        "async": False,
    }
    assert kwargs["headers"]["Content-Type"] == "application/json"
    assert execution.status is ExecutionStatus.COMPLETED
    assert execution.workflow_id == "wf_abc"


async def test_submit_uses_async_mode(mock: MockAPI, client: FloImg) -> None:
    with mock:
        mock.post(EXECUTE, payload={"executionId": "exec_2", "status": "pending"})
        execution = await client.workflows.submit("wf_abc")
        (kwargs,) = sent(mock, "POST", EXECUTE)
    assert json.loads(kwargs["data"])["async"] is True
    assert json.loads(kwargs["data"])["parameters"] == {}
    assert execution.status is ExecutionStatus.PENDING


async def test_retries_reuse_one_idempotency_key_and_the_same_bytes(
    mock: MockAPI, client: FloImg, fake_sleep: FakeSleep
) -> None:
    with mock:
        mock.post(EXECUTE, status=502, body="<html>bad gateway</html>")
        mock.post(EXECUTE, exception=ConnectionResetError("reset by peer"))
        mock.post(EXECUTE, payload=DONE)
        await client.workflows.execute("wf", {"n": 1})
        calls = sent(mock, "POST", EXECUTE)
    keys = {c["headers"]["Idempotency-Key"] for c in calls}
    assert len(calls) == 3 and len(keys) == 1 and len(keys.pop()) >= 16
    assert len({c["data"] for c in calls}) == 1
    assert len(fake_sleep.calls) == 2
    assert 0.4 <= fake_sleep.calls[0] <= 0.6 and 0.8 <= fake_sleep.calls[1] <= 1.2


async def test_separate_calls_get_separate_keys(mock: MockAPI, client: FloImg) -> None:
    with mock:
        mock.post(EXECUTE, payload=DONE, repeat=True)
        await client.workflows.execute("wf")
        await client.workflows.execute("wf")
        calls = sent(mock, "POST", EXECUTE)
    assert calls[0]["headers"]["Idempotency-Key"] != calls[1]["headers"]["Idempotency-Key"]


async def test_caller_supplied_idempotency_key(mock: MockAPI, client: FloImg) -> None:
    with mock:
        mock.post(EXECUTE, payload=DONE)
        await client.workflows.execute("wf", idempotency_key="bulk-run1-17")
        (kwargs,) = sent(mock, "POST", EXECUTE)
    assert kwargs["headers"]["Idempotency-Key"] == "bulk-run1-17"


async def test_retries_run_out_and_the_last_error_is_raised(
    mock: MockAPI, client: FloImg, fake_sleep: FakeSleep
) -> None:
    with mock:
        mock.get(f"{BASE_URL}/workflows/wf", status=503, repeat=True)
        with pytest.raises(ServerError) as info:
            await client.workflows.get("wf")
        assert len(mock.sent("GET", f"{BASE_URL}/workflows/wf")) == 4
    assert info.value.status == 503
    assert len(fake_sleep.calls) == 3


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "invalid_request", InvalidRequestError),
        (404, "not_found", NotFoundError),
        (500, "workflow_failed", WorkflowFailedError),
    ],
)
async def test_not_retried(
    mock: MockAPI, client: FloImg, fake_sleep: FakeSleep, status: int, code: str, cls: type
) -> None:
    with mock:
        mock.post(EXECUTE, status=status, payload={"error": {"code": code, "message": "no"}})
        with pytest.raises(cls):
            await client.workflows.execute("wf")
        assert len(sent(mock, "POST", EXECUTE)) == 1
    assert fake_sleep.calls == []


async def test_retry_after_is_honoured(
    mock: MockAPI, client: FloImg, fake_sleep: FakeSleep
) -> None:
    with mock:
        mock.get(
            f"{BASE_URL}/workflows/wf",
            status=429,
            headers={"Retry-After": "4"},
            payload={"error": {"code": "rate_limited", "message": "slow down"}},
        )
        mock.get(f"{BASE_URL}/workflows/wf", payload={"id": "wf"})
        assert (await client.workflows.get("wf")).id == "wf"
    # The retry waits 4 s; the rate-limit gate then finds the moment already near.
    assert fake_sleep.calls[0] == 4.0


async def test_huge_retry_after_raises_at_once(
    mock: MockAPI, client: FloImg, fake_sleep: FakeSleep
) -> None:
    with mock:
        mock.get(
            f"{BASE_URL}/workflows/wf",
            status=429,
            headers={"Retry-After": "3600"},
            payload={"error": {"code": "rate_limited", "message": "come back in an hour"}},
        )
        with pytest.raises(RateLimitedError) as info:
            await client.workflows.get("wf")
    assert info.value.retry_after == 3600.0
    assert fake_sleep.calls == []


async def test_connection_errors_become_api_connection_error(mock: MockAPI, client: FloImg) -> None:
    with mock:
        mock.get(
            f"{BASE_URL}/workflows/wf", exception=ConnectionRefusedError("refused"), repeat=True
        )
        with pytest.raises(APIConnectionError) as info:
            await client.workflows.get("wf")
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


async def test_workflow_failed_carries_the_execution_named_in_details(
    mock: MockAPI, client: FloImg
) -> None:
    with mock:
        mock.post(
            EXECUTE,
            status=500,
            payload={
                "error": {
                    "code": "workflow_failed",
                    "message": "render failed",
                    "details": {"executionId": "exec_9"},
                }
            },
        )
        with pytest.raises(WorkflowFailedError) as info:
            await client.workflows.execute("wf")
    assert info.value.execution is not None
    assert info.value.execution.id == "exec_9"
    assert info.value.execution.status is ExecutionStatus.FAILED


@pytest.mark.parametrize("bad", [["a"], "prompt=x", 3])
async def test_parameters_must_be_a_mapping(mock: MockAPI, client: FloImg, bad: object) -> None:
    with mock, pytest.raises(TypeError, match="mapping"):
        await client.workflows.execute("wf", bad)  # type: ignore[arg-type]
    assert not mock.transport.requests


async def test_get_encodes_the_id_and_decodes_the_workflow(mock: MockAPI, client: FloImg) -> None:
    url = f"{BASE_URL}/workflows/a%2Fb"
    with mock:
        mock.get(url, payload={"id": "a/b", "parameters": [{"name": "p"}]})
        workflow = await client.workflows.get("a/b")
    assert workflow.id == "a/b" and workflow.parameters[0].name == "p"


async def test_list_sends_paging_and_project_filter(mock: MockAPI, client: FloImg) -> None:
    with mock:
        mock.get(
            f"{BASE_URL}/workflows?limit=2&offset=0&projectId=proj_1",
            payload={"workflows": [{"id": "a"}, {"id": "b"}], "total": 3, "hasMore": True},
        )
        mock.get(
            f"{BASE_URL}/workflows?limit=2&offset=2&projectId=proj_1",
            payload={"workflows": [{"id": "c"}], "total": 3, "hasMore": False},
        )
        ids = [w.id async for w in client.workflows.list(project_id="proj_1", page_size=2)]
    assert ids == ["a", "b", "c"]


def test_page_size_is_checked_before_any_request(client: FloImg) -> None:
    with pytest.raises(ValueError, match="1 to 100"):
        client.workflows.list(page_size=101)
    with pytest.raises(ValueError, match="1 to 100"):
        client.images.list(page_size=0)
    with pytest.raises(ValueError):
        client.projects.list(page_size=500)
