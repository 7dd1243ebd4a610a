"""Idempotency-Key: replays, conflicts, in-flight duplicates, and persistence."""

from __future__ import annotations

import asyncio

import pytest


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def test_replayed_execute_runs_once(api) -> None:
    params = {"prompt": "once"}
    first = await api.execute("wf_social_card", params, headers=key("exec-1"))
    second = await api.execute("wf_social_card", params, headers=key("exec-1"))
    assert first.status == second.status == 200
    assert first.body == second.body
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert await api.emu.count_executions() == 1
    assert api.emu.stats.idempotent_replays == 1


async def test_same_key_other_body_is_400(api) -> None:
    await api.execute("wf_flaky", {"prompt": "a"}, headers=key("k"))
    reply = await api.execute("wf_flaky", {"prompt": "b"}, headers=key("k"))
    assert reply.status == 400
    assert reply.error["code"] == "invalid_request"
    assert reply.error["details"]["field"] == "Idempotency-Key"
    assert await api.emu.count_executions() == 1


async def test_json_key_order_does_not_matter(api) -> None:
    raw1 = b'{"workflowId": "wf_flaky", "parameters": {"prompt": "x"}}'
    raw2 = b'{"parameters":{"prompt":"x"},"workflowId":"wf_flaky"}'
    headers = {**key("order"), "Content-Type": "application/json"}
    assert (await api.post("/workflows/execute", data=raw1, headers=headers)).status == 200
    again = await api.post("/workflows/execute", data=raw2, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert await api.emu.count_executions() == 1


async def test_keys_are_scoped_by_path_and_account(api) -> None:
    await api.emu.add_key("fsk_test_b")
    await api.execute("wf_flaky", headers=key("shared"))
    other = await api.execute("wf_flaky", headers=key("shared"), key="fsk_test_b")
    assert other.status == 200 and "Idempotent-Replayed" not in other.headers
    project = await api.post("/projects", json={"name": "P"}, headers=key("shared"))
    assert project.status == 201 and "Idempotent-Replayed" not in project.headers
    assert await api.emu.count_executions() == 2


async def test_failed_execution_is_replayed_too(api) -> None:
    first = await api.execute("wf_flaky", {"fail": True}, headers=key("f"))
    second = await api.execute("wf_flaky", {"fail": True}, headers=key("f"))
    assert first.status == second.status == 500
    assert first.body == second.body and second.headers["Idempotent-Replayed"] == "true"
    assert await api.emu.count_executions() == 1


async def test_rejected_request_is_not_recorded(api) -> None:
    bad = await api.execute("wf_social_card", {}, headers=key("v"))
    assert bad.status == 400
    # nothing was done, so the corrected request may reuse the key
    good = await api.execute("wf_social_card", {"prompt": "x"}, headers=key("v"))
    assert good.status == 200 and "Idempotent-Replayed" not in good.headers
    assert await api.emu.count_executions() == 1


async def test_in_flight_duplicate_waits_and_replays(floimg_emulator_factory, api_for) -> None:
    api = api_for(await floimg_emulator_factory(execution_time=0.3))
    params = {"prompt": "slow"}
    replies = await asyncio.gather(
        *(api.execute("wf_social_card", params, headers=key("race")) for _ in range(4))
    )
    assert {r.status for r in replies} == {200}
    assert len({r.raw for r in replies}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in replies) == 3
    assert await api.emu.count_executions() == 1


async def test_in_flight_duplicate_with_other_body_is_400(floimg_emulator_factory, api_for) -> None:
    api = api_for(await floimg_emulator_factory(execution_time=0.3))
    first = asyncio.ensure_future(api.execute("wf_flaky", {"prompt": "a"}, headers=key("r")))
    await asyncio.sleep(0.1)
    other = await api.execute("wf_flaky", {"prompt": "b"}, headers=key("r"))
    assert other.status == 400 and other.error["details"]["field"] == "Idempotency-Key"
    assert (await first).status == 200
    assert await api.emu.count_executions() == 1


async def test_async_execute_replay_returns_first_answer(api) -> None:
    first = await api.execute("wf_flaky", run_async=True, headers=key("a"))
    second = await api.execute("wf_flaky", run_async=True, headers=key("a"))
    assert first.status == second.status == 202
    assert first.body["executionId"] == second.body["executionId"]
    assert await api.emu.count_executions() == 1


async def test_upload_replay_stores_once(api, make_image) -> None:
    data = make_image(20, 20)
    first = await api.upload(data, filename="a.png", headers=key("u"))
    second = await api.upload(data, filename="a.png", headers=key("u"))
    assert first.status == second.status == 201
    assert first.body == second.body and second.headers["Idempotent-Replayed"] == "true"
    assert await api.emu.count_images() == 1
    changed = await api.upload(make_image(20, 20, color="blue"), filename="a.png", headers=key("u"))
    assert changed.status == 400 and changed.error["details"]["field"] == "Idempotency-Key"
    renamed = await api.upload(data, filename="a.png", name="other", headers=key("u"))
    assert renamed.status == 400
    assert await api.emu.count_images() == 1


async def test_project_replay_creates_once(api) -> None:
    first = await api.post("/projects", json={"name": "Once"}, headers=key("p"))
    second = await api.post("/projects", json={"name": "Once"}, headers=key("p"))
    assert first.body == second.body
    assert (await api.get("/projects")).body["total"] == 2  # proj_default + Once


async def test_replay_survives_restart(tmp_path, floimg_emulator_factory, api_for) -> None:
    emu = await floimg_emulator_factory(data_dir=tmp_path)
    first = await api_for(emu).execute("wf_flaky", headers=key("persist"))
    await emu.stop()
    emu2 = await floimg_emulator_factory(data_dir=tmp_path)
    second = await api_for(emu2).execute("wf_flaky", headers=key("persist"))
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.body["executionId"] == first.body["executionId"]
    assert second.body["output"]["url"].startswith(emu2.origin)  # URLs follow the new port
    assert await emu2.count_executions() == 1


@pytest.mark.parametrize("retry_when", ["running", "finished"])
async def test_graceful_restart_mid_execute_never_runs_the_key_twice(
    tmp_path, floimg_emulator_factory, api_for, retry_when
) -> None:
    """The claim is stored with the execution, so a retry after a restart finds it."""
    emu = await floimg_emulator_factory(data_dir=tmp_path, execution_time=30)
    body = {"prompt": "once"}
    first = asyncio.ensure_future(api_for(emu).execute("wf_flaky", body, headers=key("restart")))
    for _ in range(1000):
        if await emu.count_executions() == 1:
            break
        await asyncio.sleep(0.01)
    [started] = await emu.executions()
    await emu.stop()  # graceful stop while the sync execute waits for its execution
    cut_short = (await asyncio.gather(first, return_exceptions=True))[0]
    if not isinstance(cut_short, BaseException):  # answered before the socket closed
        assert cut_short.status == 503 and cut_short.error["code"] == "unavailable"

    emu2 = await floimg_emulator_factory(data_dir=tmp_path, execution_time=0.05)
    api2 = api_for(emu2)
    if retry_when == "finished":
        for _ in range(1000):
            if await emu2.count_executions(status="completed") == 1:
                break
            await asyncio.sleep(0.01)
    again = await api2.execute("wf_flaky", body, headers=key("restart"))
    assert again.status == 200, again.raw
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.body["executionId"] == started.id and again.body["status"] == "completed"
    assert again.body["output"]["url"].startswith(emu2.origin)
    third = await api2.execute("wf_flaky", body, headers=key("restart"))
    assert third.raw == again.raw  # the final answer is recorded now
    assert await emu2.count_executions() == 1
    other = await api2.execute("wf_flaky", {"prompt": "other"}, headers=key("restart"))
    assert other.status == 400 and other.error["details"]["field"] == "Idempotency-Key"


async def test_claim_and_execution_are_one_transaction(tmp_path, floimg_emulator_factory, api_for):
    """An async execute's record exists the moment its execution does."""
    emu = await floimg_emulator_factory(data_dir=tmp_path, execution_time=30)
    reply = await api_for(emu).execute("wf_flaky", run_async=True, headers=key("atomic"))
    assert reply.status == 202
    assert await emu.state.store.count("idempotency") == 1
    record = await emu.state.store.get_idempotency(
        "acct_default", "POST", "/v1/workflows/execute", "atomic"
    )
    assert record is not None and record.status == 202
