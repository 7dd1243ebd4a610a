"""The pytest plugin: cheap to import, fixtures that start and stop emulators."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import floimg_emulator
import floimg_emulator.testing
import pytest
from floimg_emulator import Emulator


def test_importing_the_plugin_does_not_import_pillow() -> None:
    """Every pytest run loads the plugin; Pillow loads only when an image is rendered."""
    code = "import sys, floimg_emulator.testing\nassert 'PIL' not in sys.modules, 'PIL imported'\n"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_emulator_imports_nothing_from_the_sdk() -> None:
    """A second implementation of the wire: it shares no code with floimg_async."""
    package = Path(floimg_emulator.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "floimg_async"]
    assert offenders == []
    assert len(list(package.glob("*.py"))) > 20  # the walk saw the package


def test_the_plugin_is_registered_once_under_its_own_name(pytestconfig) -> None:
    plugins = pytestconfig.pluginmanager.list_name_plugin()
    holders = [name for name, plugin in plugins if plugin is floimg_emulator.testing]
    assert holders == ["floimg_emulator"]


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


def test_emulator_thread_for_sync_code() -> None:
    import urllib.request

    from floimg_emulator import EmulatorThread

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
