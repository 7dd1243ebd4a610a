"""Executions: sync and async modes, real status changes, failures and parameter validation."""

from __future__ import annotations

import asyncio
import time

import pytest


async def poll_statuses(api, execution_id: str, limit: float = 5.0) -> tuple[list[str], dict]:
    """Poll every 5 ms until terminal; return the distinct statuses seen and the last body."""
    seen: list[str] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        body = (await api.get(f"/workflows/executions/{execution_id}")).body
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] in ("completed", "failed"):
            return seen, body
        await asyncio.sleep(0.005)
    raise AssertionError(f"execution still {seen[-1]} after {limit} s")


async def test_async_execution_goes_through_every_status(floimg_emulator_factory, api_for) -> None:
    api = api_for(await floimg_emulator_factory(execution_time=0.4))
    reply = await api.execute("wf_social_card", {"prompt": "async"}, run_async=True)
    assert reply.status == 202
    assert reply.body["status"] == "pending" and reply.body["executionId"].startswith("exec_")
    seen, final = await poll_statuses(api, reply.body["executionId"])
    assert seen == ["pending", "running", "completed"]
    assert final["workflowId"] == "wf_social_card"
    assert final["output"]["width"] == 1200 and final["output"]["url"].endswith(".png")
    assert final["startedAt"] <= final["completedAt"] and final["error"] is None
    assert final["duration"] >= 250  # running lasts most of execution_time


async def test_sync_execution_takes_execution_time(floimg_emulator_factory, api_for) -> None:
    api = api_for(await floimg_emulator_factory(execution_time=0.25))
    began = time.monotonic()
    reply = await api.execute("wf_flaky", {"prompt": "fine"})
    assert time.monotonic() - began >= 0.25
    assert reply.status == 200 and reply.body["status"] == "completed"
    same = await api.get(f"/workflows/executions/{reply.body['executionId']}")
    assert same.body == reply.body


@pytest.mark.parametrize("params", [{"fail": True}, {"prompt": "please FAIL now"}])
async def test_failing_workflow_sync_is_workflow_failed(api, params) -> None:
    reply = await api.execute("wf_flaky", params)
    assert reply.status == 500
    error = reply.error
    assert error["code"] == "workflow_failed" and "on purpose" in error["message"]
    execution = await api.get(f"/workflows/executions/{error['details']['executionId']}")
    assert execution.body["status"] == "failed"
    assert "on purpose" in execution.body["error"] and execution.body["output"] is None
    assert execution.body["completedAt"] is not None


async def test_failing_workflow_async_ends_failed(api) -> None:
    reply = await api.execute("wf_flaky", {"fail": True}, run_async=True)
    assert reply.status == 202
    seen, final = await poll_statuses(api, reply.body["executionId"])
    assert seen[-1] == "failed" and "on purpose" in final["error"]


async def test_unknown_workflow_is_404(api) -> None:
    reply = await api.execute("wf_missing", {})
    assert reply.status == 404 and reply.error["code"] == "not_found"
    assert await api.emu.count_executions() == 0


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({}, "prompt", "required"),
        ({"prompt": None}, "prompt", "required"),
        ({"prompt": 42}, "prompt", "type"),
        ({"prompt": "x", "width": "1200"}, "width", "type"),
        ({"prompt": "x", "width": True}, "width", "type"),
        ({"prompt": "x", "height": 0}, "height", "out_of_range"),
        ({"prompt": "x", "height": 99999}, "height", "out_of_range"),
        ({"prompt": "x", "theme": "neon"}, "theme", "invalid_value"),
    ],
)
async def test_parameter_validation_names_the_field(api, params, field, reason) -> None:
    reply = await api.execute("wf_social_card", params)
    assert reply.status == 400
    assert reply.error["code"] == "invalid_request"
    assert reply.error["details"]["field"] == field
    assert reply.error["details"]["reason"] == reason
    assert field in reply.error["message"]
    assert await api.emu.count_executions() == 0


async def test_boolean_and_unknown_parameters(api) -> None:
    reply = await api.execute("wf_flaky", {"fail": "yes"})
    assert reply.status == 400 and reply.error["details"]["field"] == "fail"
    reply = await api.execute("wf_flaky", {"prompt": "ok", "extra": [1, 2]})
    assert reply.status == 200


@pytest.mark.parametrize(
    "body",
    [
        {"parameters": {}},
        {"workflowId": 3},
        {"workflowId": "wf_flaky", "parameters": [1]},
        {"workflowId": "wf_flaky", "parameters": "x"},
        {"workflowId": "wf_flaky", "async": "yes"},
    ],
)
async def test_execute_body_validation(api, body) -> None:
    reply = await api.post("/workflows/execute", json=body)
    assert reply.status == 400 and reply.error["code"] == "invalid_request"
    assert reply.error["details"]["field"] in ("workflowId", "parameters", "async")


async def test_unknown_image_id_is_400(api) -> None:
    reply = await api.execute("wf_thumbnail", {"imageId": "img_000000000000000000000000"})
    assert reply.status == 400
    assert reply.error["details"] == {"field": "imageId", "reason": "not_found"}


async def test_thumbnail_and_caption_of_an_upload(api, make_image) -> None:
    image = (await api.upload(make_image(400, 200, "JPEG"), filename="p.jpg")).body
    thumb = await api.execute("wf_thumbnail", {"imageId": image["id"], "size": 64})
    assert thumb.status == 200
    assert thumb.body["output"] | {"url": None} == {
        "url": None,
        "width": 64,
        "height": 64,
        "format": "webp",
    }
    file = await api.get(thumb.body["output"]["url"], key=None)
    assert file.headers["Content-Type"] == "image/webp" and file.raw[8:12] == b"WEBP"
    captioned = await api.execute(
        "wf_captioned_photo", {"imageId": image["id"], "caption": "Hi", "position": "top"}
    )
    assert captioned.status == 200
    assert (captioned.body["output"]["width"], captioned.body["output"]["height"]) == (400, 200)
    missing = await api.execute("wf_captioned_photo", {"imageId": image["id"]})
    assert missing.status == 400 and missing.error["details"]["field"] == "caption"


async def test_showcase_formats(api) -> None:
    for fmt, magic in (("jpeg", b"\xff\xd8"), ("webp", b"RIFF"), ("png", b"\x89PNG")):
        reply = await api.execute("wf_showcase", {"format": fmt, "grayscale": True})
        assert reply.status == 200 and reply.body["output"]["format"] == fmt
        assert reply.body["output"]["width"] == 380 and reply.body["output"]["height"] == 280
        file = await api.get(reply.body["output"]["url"], key=None)
        assert file.raw.startswith(magic)


async def test_introspection_records_executions(api) -> None:
    await api.execute("wf_flaky", {"prompt": "one"})
    await api.execute("wf_flaky", {"fail": True}, headers={"Idempotency-Key": "k-1"})
    records = await api.emu.executions()
    assert [r.status for r in records] == ["completed", "failed"]
    assert records[0].parameters == {"prompt": "one", "fail": False}
    assert records[1].idempotency_key == "k-1" and records[1].mode == "sync"
    assert {r.account for r in records} == {"acct_default"}
    assert await api.emu.count_executions(status="failed") == 1
    admin = await api.get(api.emu.origin + "/_emulator/executions", key=None)
    assert admin.status == 200 and admin.body["total"] == 2
    assert admin.body["executions"][1]["idempotency_key"] == "k-1"
    filtered = await api.get(
        api.emu.origin + "/_emulator/executions", key=None, params={"status": "completed"}
    )
    assert filtered.body["total"] == 1


async def test_stop_with_running_executions_is_clean(floimg_emulator_factory, api_for) -> None:
    emu = await floimg_emulator_factory(execution_time=5)
    api = api_for(emu)
    for _ in range(3):
        assert (await api.execute("wf_flaky", run_async=True)).status == 202
    began = time.monotonic()
    await emu.stop()  # cancels the background tasks; filterwarnings=error catches leaks
    assert time.monotonic() - began < 3
    assert not emu.running
