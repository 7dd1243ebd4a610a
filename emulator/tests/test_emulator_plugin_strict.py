"""The pytest plugin works in a user's project as it is: strict mode, no warnings.

Each test writes a small project of its own (``pyproject.toml`` and a test file, no
``asyncio_mode``) and runs pytest on it in a subprocess with ``-W error``, so any
deprecation or other warning raised by the plugin or its fixtures fails the run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

STRICT_HEADER = re.compile(r"asyncio: mode=(?:Mode\.STRICT|strict)\b")
USER_TESTS = """
import aiohttp
import pytest


@pytest.mark.asyncio
async def test_emulator_fixture(floimg_emulator):
    headers = {"Authorization": f"Bearer {floimg_emulator.api_key}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(floimg_emulator.base_url + "/workflows") as resp:
            assert resp.status == 200
            assert (await resp.json())["total"] == 5


@pytest.mark.asyncio
@pytest.mark.floimg_emulator(extra_workflows=2, latency=0.001)
async def test_marker_and_factory(floimg_emulator, floimg_emulator_factory):
    assert floimg_emulator.state.knobs()["extra_workflows"] == 2
    other = await floimg_emulator_factory(api_key="fsk_test_other")
    assert other.port != floimg_emulator.port and other.api_key == "fsk_test_other"


def test_plain_sync_test_is_untouched():
    assert True
"""

PROJECTS = {
    # What pytest-asyncio itself asks every project to set; nothing about our plugin.
    "loop-scope-set": (
        '[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n'
    ),
    # No pytest configuration at all: pytest-asyncio warns about its own unset option at
    # start-up (with or without our plugin), so only that one warning is let through.
    "bare": "",
}
PYTEST_ASYNCIO_OWN_WARNING = (
    'ignore:The configuration option "asyncio_default_fixture_loop_scope" is unset'
    ":pytest.PytestDeprecationWarning"
)


def run_user_project(
    root: Path, pyproject_extra: str, tests: str
) -> subprocess.CompletedProcess[str]:
    """Write a user's project under ``root`` and run its tests strictly; return the result."""
    (root / "pyproject.toml").write_text(
        '[project]\nname = "user-project"\nversion = "0"\n\n' + pyproject_extra,
        encoding="utf-8",
    )
    (root / "test_user.py").write_text(textwrap.dedent(tests), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    args = [sys.executable, "-m", "pytest", "-W", "error", "-p", "no:cacheprovider", "-rA"]
    if not pyproject_extra:
        args += ["-W", PYTEST_ASYNCIO_OWN_WARNING]
    return subprocess.run(
        args, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_fixtures_work_in_strict_mode_without_warnings(tmp_path: Path, project: str) -> None:
    result = run_user_project(tmp_path, PROJECTS[project], USER_TESTS)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    # The project really ran in pytest-asyncio's default mode (its header says
    # "mode=strict" up to 1.4 and "mode=Mode.STRICT" from 1.5 on).
    assert STRICT_HEADER.search(out), out
    assert "3 passed" in out, out
    assert "warning" not in out.lower(), out


def test_a_strict_project_sees_an_unmarked_async_test_as_not_run(tmp_path: Path) -> None:
    """The check above would mean little if strict mode ran unmarked tests anyway."""
    unmarked = "async def test_forgot_the_marker(floimg_emulator):\n    assert False\n"
    result = run_user_project(tmp_path, PROJECTS["loop-scope-set"], unmarked)
    assert result.returncode != 0
    assert "async def functions are not natively supported" in result.stdout + result.stderr
