"""The demo's summary counts come from ``client.stats``: retries the client really made."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

pytest.importorskip("PIL", reason="the demo draws its photo with Pillow (extra emulator)")

from floimg_async.demo import run_demo
from floimg_async.emulator import Emulator


async def test_demo_reports_the_retries_it_made_and_leaves_logging_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = logging.getLogger("floimg_async")
    level, handlers = logger.level, list(logger.handlers)
    async with Emulator(port=0, execution_time=0.02) as emu:
        emu.inject_fault("503", path="/v1/workflows", method="GET", count=1)
        emu.inject_fault("reset", path="/v1/projects", method="POST", count=1)
        summary = await run_demo(
            tmp_path, cards=2, concurrency=2, base_url=emu.base_url, api_key=emu.api_key
        )
    assert summary["retries"] == 2 and summary["failures"] == 0
    assert "; 2 retries" in capsys.readouterr().out
    assert (logger.level, logger.handlers) == (level, handlers)
