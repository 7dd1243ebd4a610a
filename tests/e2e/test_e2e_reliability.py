"""Rate limits, dropped connections and restarts against the emulator."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from PIL import Image as PILImage

from floimg_async import FloImg
from floimg_async.emulator import Emulator


async def test_the_client_recovers_from_rate_limiting_and_every_item_completes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="floimg_async")
    async with Emulator(port=0, execution_time=0.01, rate_limit=600, burst=4) as emu:
        async with FloImg(emu.api_key, base_url=emu.base_url, max_retries=8) as client:
            sets = [{"prompt": f"item {i}"} for i in range(16)]
            results = [r async for r in client.workflows.run_many("wf_flaky", sets, concurrency=8)]
        limited = emu.stats.snapshot()
        executions = await emu.executions(workflow_id="wf_flaky")
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert sorted(e.parameters["prompt"] for e in executions) == sorted(s["prompt"] for s in sets)
    assert any("retrying" in r.getMessage() for r in caplog.records)
    assert limited["rateLimited"] > 0  # the limit really bit, and the client rode it out


async def test_reset_after_processing_does_not_run_twice() -> None:
    async with Emulator(port=0, execution_time=0.01) as emu:
        emu.inject_fault("reset_after", path="/v1/workflows/execute", count=1)
        async with FloImg(emu.api_key, base_url=emu.base_url) as client:
            execution = await client.workflows.execute("wf_flaky", {"prompt": "once"})
        records = await emu.executions(workflow_id="wf_flaky")
    assert execution.succeeded
    assert len(records) == 1 and records[0].id == execution.id
    assert records[0].idempotency_key


async def test_upload_reset_after_processing_stores_once() -> None:
    async with Emulator(port=0) as emu:
        before = await emu.count_images()
        emu.inject_fault("reset_after", path="/v1/storage/upload", count=1)
        buffer = io.BytesIO()
        PILImage.new("RGB", (8, 8)).save(buffer, "PNG")
        async with FloImg(emu.api_key, base_url=emu.base_url) as client:
            await client.images.upload(buffer.getvalue(), name="once.png")
        assert await emu.count_images() == before + 1
        assert emu.stats.snapshot()["idempotentReplays"] == 1


async def test_state_survives_a_restart_with_a_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "floimg-data"
    async with Emulator(port=0, data_dir=data, execution_time=0.01) as emu:
        key = emu.api_key
        async with FloImg(key, base_url=emu.base_url) as client:
            project = await client.projects.create("Persistent")
            execution = await client.workflows.execute("wf_flaky", {"prompt": "keep me"})
    async with Emulator(port=0, data_dir=data) as emu:
        assert emu.api_key == key
        async with FloImg(key, base_url=emu.base_url) as client:
            assert project.id in {p.id async for p in client.projects.list()}
            again = await client.executions.get(execution.id)
            assert again.succeeded and again.output is not None
            assert await client.images.download(again.output)  # the file survived too
