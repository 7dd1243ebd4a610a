"""The SDK's old emulator names keep working now that the emulator is its own distribution.

``floimg_async.emulator`` re-exports ``floimg_emulator``; ``python -m
floimg_async.emulator`` runs it; ``floimg_async.testing`` adds ``floimg_client`` and
hands out the emulator plugin's fixtures under their old import path without
registering them twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import aiohttp
import floimg_emulator
import floimg_emulator.testing
import pytest

import floimg_async.emulator
import floimg_async.testing


def test_every_alias_is_the_emulators_own_object() -> None:
    assert floimg_async.emulator.__all__
    for name in floimg_async.emulator.__all__:
        assert getattr(floimg_async.emulator, name) is getattr(floimg_emulator, name), name
    assert set(floimg_async.emulator.__all__) <= set(floimg_emulator.__all__)


def test_missing_emulator_says_how_to_install_it() -> None:
    code = (
        "import sys\n"
        "sys.modules['floimg_emulator'] = None  # as if it were not installed\n"
        "try:\n"
        "    import floimg_async.emulator\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "else:\n"
        "    raise SystemExit('imported')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, timeout=60, capture_output=True, text=True
    ).stdout
    assert "pip install 'floimg-async[emulator]'" in out and "floimg-emulator" in out


def test_importing_the_sdk_and_its_plugin_imports_no_emulator() -> None:
    code = (
        "import sys, floimg_async, floimg_async.testing\n"
        "assert 'PIL' not in sys.modules, 'PIL imported'\n"
        "assert 'floimg_emulator' not in sys.modules, 'emulator imported'\n"
        "assert 'floimg_async.emulator' not in sys.modules, 'alias imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_old_fixture_imports_are_the_emulator_plugins_fixtures() -> None:
    from floimg_async.testing import (
        FAST_EXECUTION_TIME,
    )
    from floimg_async.testing import (
        floimg_emulator as old_emulator,
    )
    from floimg_async.testing import (
        floimg_emulator_factory as old_factory,
    )

    assert old_emulator is floimg_emulator.testing.floimg_emulator
    assert old_factory is floimg_emulator.testing.floimg_emulator_factory
    assert FAST_EXECUTION_TIME == floimg_emulator.testing.FAST_EXECUTION_TIME
    with pytest.raises(AttributeError):
        _ = floimg_async.testing.no_such_name


def test_each_plugin_is_registered_once_and_fixtures_are_not_duplicated(pytestconfig) -> None:
    plugins = pytestconfig.pluginmanager.list_name_plugin()
    assert [n for n, p in plugins if p is floimg_async.testing] == ["floimg_async"]
    assert [n for n, p in plugins if p is floimg_emulator.testing] == ["floimg_emulator"]
    # the alias plugin's module namespace holds no emulator fixture for pytest to collect
    assert "floimg_emulator" not in vars(floimg_async.testing)
    assert "floimg_emulator_factory" not in vars(floimg_async.testing)


async def test_client_fixture_talks_to_the_emulator(floimg_client, floimg_emulator) -> None:
    assert isinstance(floimg_emulator, floimg_async.emulator.Emulator)
    workflow = await floimg_client.workflows.get("wf_flaky")
    assert workflow.id == "wf_flaky"
    assert await floimg_emulator.count_executions() == 0


async def test_python_dash_m_alias_runs_the_emulator(tmp_path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "floimg_async.emulator", "--port", "0",
        "--data-dir", str(tmp_path), "--api-key", "fsk_test_alias",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=15)).decode().strip()
        base_url = line.removeprefix("FLOIMG_BASE_URL=")
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        headers = {"Authorization": "Bearer fsk_test_alias"}
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.get(base_url + "/projects") as resp,
        ):
            assert resp.status == 200
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        stderr = await proc.stderr.read()
    assert b"Traceback" not in stderr


def test_cli_entry_the_sdk_calls_is_the_emulators_main() -> None:
    import importlib

    entry = importlib.import_module("floimg_async.emulator.__main__")
    assert entry.main is floimg_emulator.__main__.main
    assert entry.build_parser().parse_args(["--port", "0"]).port == 0
