"""``floimg_client`` and an old-style conftest work in a user's project as it is.

A temporary project with its own ``pyproject.toml`` (default pytest-asyncio strict
mode, no ``asyncio_mode``) runs in a subprocess with ``-W error``: a conftest written
for earlier releases imports the emulator fixtures from ``floimg_async.testing``, and
its tests use them together with ``floimg_client``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

OLD_CONFTEST = """\
from floimg_async.testing import floimg_emulator, floimg_emulator_factory  # noqa: F401
"""
USER_TESTS = """\
import pytest


@pytest.mark.asyncio
async def test_client(floimg_client, floimg_emulator):
    workflow = await floimg_client.workflows.get("wf_flaky")
    assert workflow.id == "wf_flaky"
    execution = await floimg_client.workflows.execute("wf_flaky", {"prompt": "hi"})
    assert execution.status == "completed"
    assert await floimg_emulator.count_executions() == 1


@pytest.mark.asyncio
@pytest.mark.floimg_emulator(rate_limit=600)
async def test_marker_reaches_the_client(floimg_client, floimg_emulator_factory):
    await floimg_client.projects.create("Made in a user's project")
    assert (await floimg_emulator_factory()).running
"""


def test_client_fixture_and_old_conftest_in_strict_mode(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "user-project"\nversion = "0"\n\n'
        '[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n',
        encoding="utf-8",
    )
    (tmp_path / "conftest.py").write_text(OLD_CONFTEST, encoding="utf-8")
    (tmp_path / "test_user.py").write_text(USER_TESTS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-W", "error", "-p", "no:cacheprovider", "-rA"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    # pytest-asyncio's header says "mode=strict" up to 1.4, "mode=Mode.STRICT" from 1.5.
    assert re.search(r"asyncio: mode=(?:Mode\.STRICT|strict)\b", out), out
    assert "2 passed" in out, out
    assert "warning" not in out.lower(), out
