"""Injected faults, rate limiting, latency, and the admin endpoints that steer them."""

from __future__ import annotations

import time

import aiohttp
import pytest


async def statuses(api, n: int) -> list[int]:
    return [(await api.get("/projects")).status for _ in range(n)]


async def test_same_seed_same_faults(floimg_emulator_factory, api_for) -> None:
    knobs = {"fault_rate": 0.5, "fault_kinds": ("500", "502", "503")}
    runs = []
    for seed in (7, 7, 8):
        runs.append(await statuses(api_for(await floimg_emulator_factory(seed=seed, **knobs)), 40))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert {500, 502, 503, 200} <= set(runs[0])
    assert 8 < runs[0].count(200) < 32


async def test_fault_bodies(api) -> None:
    api.emu.inject_fault("502", path="/v1/projects")
    api.emu.inject_fault("503", path="/v1/projects")
    api.emu.inject_fault("500", path="/v1/projects")
    bad_gateway, unavailable, internal = [await api.get("/projects") for _ in range(3)]
    assert bad_gateway.status == 502 and "Bad Gateway" in bad_gateway.raw.decode()
    assert bad_gateway.headers["Content-Type"].startswith("text/html")
    assert unavailable.status == 503 and b"<html>" in unavailable.raw
    assert internal.status == 500 and internal.error["code"] == "internal_error"
    for reply in (bad_gateway, unavailable, internal):
        assert reply.headers["X-Request-Id"].startswith("req_")
        assert "X-RateLimit-Remaining" in reply.headers
    assert (await api.get("/projects")).status == 200
    assert dict(api.emu.stats.faults) == {"500": 1, "502": 1, "503": 1}


async def test_reset_drops_before_processing(api) -> None:
    api.emu.inject_fault("reset", path="/v1/workflows/execute", count=1)
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.execute("wf_flaky")
    assert await api.emu.count_executions() == 0
    assert (await api.execute("wf_flaky")).status == 200
    assert await api.emu.count_executions() == 1


async def test_reset_after_processes_then_drops(api, make_image) -> None:
    api.emu.inject_fault("reset_after", path="/v1/workflows/execute", method="POST")
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.execute("wf_flaky", headers={"Idempotency-Key": "ra"})
    assert await api.emu.count_executions() == 1
    retry = await api.execute("wf_flaky", headers={"Idempotency-Key": "ra"})
    assert retry.status == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert await api.emu.count_executions() == 1
    api.emu.inject_fault("reset_after", path="/v1/storage/*")
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.upload(make_image())
    assert await api.emu.count_images() == 2  # the execution's output and the upload


async def test_faults_spare_files_and_admin(floimg_emulator_factory, api_for) -> None:
    api = api_for(await floimg_emulator_factory(fault_rate=1.0, fault_kinds=("503",), seed=1))
    assert (await api.get("/projects")).status == 503
    api.emu.configure(fault_rate=0.0)
    run = (await api.execute("wf_flaky")).body
    api.emu.configure(fault_rate=1.0)
    assert (await api.get(run["output"]["url"], key=None)).status == 200
    assert (await api.get(api.emu.origin + "/_emulator/stats", key=None)).status == 200


async def test_admin_fault_endpoints(api) -> None:
    admin = api.emu.origin + "/_emulator/faults"
    queued = await api.post(admin, key=None, json={"kind": "503", "path": "/v1/projects"})
    assert queued.status == 201 and queued.body["queued"][0]["remaining"] == 1
    assert (await api.get("/projects")).status == 503
    assert (await api.get(admin, key=None)).body["queued"] == []
    await api.post(admin, key=None, json={"kind": "500", "count": 3})
    cleared = await api.delete(admin, key=None)
    assert cleared.body["queued"] == []
    assert (await api.get("/projects")).status == 200
    bad = await api.post(admin, key=None, json={"kind": "teapot"})
    assert bad.status == 400


async def test_rate_limit(floimg_emulator_factory, api_for) -> None:
    api = api_for(await floimg_emulator_factory(rate_limit=60, burst=3))
    await api.emu.add_key("fsk_test_second")
    replies = [await api.get("/projects") for _ in range(4)]
    assert [r.status for r in replies] == [200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in replies] == ["2", "1", "0", "0"]
    assert {r.headers["X-RateLimit-Limit"] for r in replies} == {"60"}
    limited = replies[-1]
    retry_after = int(limited.headers["Retry-After"])
    assert retry_after >= 1
    assert limited.error["code"] == "rate_limited" and limited.error["retryAfter"] == retry_after
    assert int(limited.headers["X-RateLimit-Reset"]) >= int(time.time())
    assert (await api.get("/projects", key="fsk_test_second")).status == 200  # own bucket
    assert api.emu.stats.rate_limited == 1
    admin = await api.get(api.emu.origin + "/_emulator/stats", key=None)
    assert admin.status == 200 and admin.body["rateLimited"] == 1


async def test_rate_limit_refills(floimg_emulator_factory, api_for) -> None:
    import asyncio

    api = api_for(await floimg_emulator_factory(rate_limit=600, burst=1))  # 10 per second
    assert (await api.get("/projects")).status == 200
    assert (await api.get("/projects")).status == 429
    await asyncio.sleep(0.15)
    assert (await api.get("/projects")).status == 200


async def test_latency(floimg_emulator_factory, api_for) -> None:
    api = api_for(await floimg_emulator_factory(latency=0.2))
    began = time.monotonic()
    assert (await api.get("/projects")).status == 200
    assert time.monotonic() - began >= 0.2
    began = time.monotonic()
    await api.get(api.emu.origin + "/_emulator/health", key=None)
    assert time.monotonic() - began < 0.2


async def test_config_endpoint(api) -> None:
    url = api.emu.origin + "/_emulator/config"
    changed = await api.post(url, key=None, json={"rate_limit": 60, "burst": 1})
    assert changed.status == 200 and changed.body["rate_limit"] == 60
    assert [(await api.get("/projects")).status for _ in range(2)] == [200, 429]
    assert (await api.post(url, key=None, json={"latency": -1})).status == 400
    assert (await api.post(url, key=None, json={"port": 1})).status == 400
    assert (await api.get(url, key=None)).body["burst"] == 1


async def test_stats_and_connection_count(api) -> None:
    await api.post(api.emu.origin + "/_emulator/stats/reset", key=None)
    for _ in range(10):  # one keep-alive session: one connection
        await api.get("/projects")
    await api.get("/workflows/wf_nope")
    stats = (await api.get(api.emu.origin + "/_emulator/stats", key=None)).body
    assert stats["connections"] == 1
    assert stats["routes"]["GET /v1/projects"] == {"200": 10}
    assert stats["routes"]["GET /v1/workflows/{workflowId}"] == {"404": 1}
    api.emu.stats.reset()
    for _ in range(3):  # a fresh connection each time
        async with (
            aiohttp.ClientSession() as session,
            session.get(api.emu.origin + "/_emulator/health") as resp,
        ):
            assert resp.status == 200
    assert api.emu.stats.connections == 3
