"""Fixtures of the bulk tests (helpers live in ``_bulk_support``)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

sys.path.insert(0, str(Path(__file__).parent))

from _bulk_support import EmulatorProcess

from floimg_async import FloImg
from floimg_async.emulator import Emulator


@pytest.fixture(scope="module")
def emulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    """An emulator subprocess (executions take 0.1 s) shared by a module's tests."""
    server = EmulatorProcess(tmp_path_factory.mktemp("emulator"), execution_time=0.1)
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """An in-process emulator with fast executions."""
    async with Emulator(port=0, execution_time=0.02) as emu:
        yield emu


@pytest_asyncio.fixture
async def client(emulator: Emulator) -> AsyncIterator[FloImg]:
    """A client of the in-process emulator (``client.stats`` counts its requests)."""
    async with FloImg(emulator.api_key, base_url=emulator.base_url) as c:
        yield c
