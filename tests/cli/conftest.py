"""Fixtures of the CLI tests (helpers live in ``_cli_support``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _cli_support import EmulatorThread, Floimg, ScriptedServer


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    """One emulator per test module (fast executions)."""
    server = EmulatorThread(execution_time=0.02).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def floimg(emulator: EmulatorThread) -> Floimg:
    """``floimg(*args)`` against the module's emulator."""
    return Floimg(dict(emulator.env))


@pytest.fixture
def floimg_offline() -> Floimg:
    """``floimg(*args)`` with no emulator and no key in the environment."""
    return Floimg({"FLOIMG_API_KEY": None, "FLOIMG_BASE_URL": None})


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedServer]:
    """A hostile API whose answers each test scripts (``scripted.routes``)."""
    server = ScriptedServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def upload(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small file to upload (its bytes do not matter to a scripted server)."""
    path = tmp_path_factory.mktemp("upload") / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    return str(path)
