"""The pytest plugin: cheap to import, fixtures that start and stop emulators."""

from __future__ import annotations

import subprocess
import sys

import pytest

from floimg_async.emulator import Emulator


def test_importing_the_sdk_and_plugin_does_not_import_pillow() -> None:
    code = (
        "import sys, floimg_async, floimg_async.testing\n"
        "assert 'PIL' not in sys.modules, 'PIL imported'\n"
        "assert 'floimg_async.emulator' not in sys.modules, 'emulator imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


async def test_emulator_fixture_defaults(floimg_emulator: Emulator) -> None:
    assert floimg_emulator.running
    assert floimg_emulator.base_url.startswith("http://127.0.0.1:")
    assert floimg_emulator.base_url.endswith("/v1")
    assert floimg_emulator.state.config.execution_time <= 0.05


@pytest.mark.floimg_emulator(latency=0.01, rate_limit=120, extra_workflows=3)
async def test_emulator_fixture_marker(floimg_emulator: Emulator) -> None:
    knobs = floimg_emulator.state.knobs()
    assert (knobs["latency"], knobs["rate_limit"], knobs["extra_workflows"]) == (0.01, 120, 3)


async def test_factory_stops_what_it_started(floimg_emulator_factory) -> None:
    first = await floimg_emulator_factory()
    second = await floimg_emulator_factory(api_key="fsk_test_two")
    assert first.port != second.port and second.api_key == "fsk_test_two"


async def test_client_fixture_talks_to_the_emulator(floimg_client) -> None:
    workflow = await floimg_client.workflows.get("wf_flaky")
    assert workflow.id == "wf_flaky"


def test_emulator_thread_for_sync_code() -> None:
    import urllib.request

    from floimg_async.emulator import EmulatorThread

    with EmulatorThread(execution_time=0.01) as emu:
        request = urllib.request.Request(
            emu.base_url + "/projects", headers={"Authorization": f"Bearer {emu.api_key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 200 and resp.headers["X-Request-Id"].startswith("req_")
        assert emu.call(emu.emulator.count_executions()) == 0
        root = emu.emulator.data_dir
    assert not root.exists()
    with pytest.raises(ValueError):
        EmulatorThread(host="10.0.0.1").start()
