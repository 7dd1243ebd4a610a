"""A reader that goes away (``floimg … | head -1``) ends floimg quietly with 141
(the SIGPIPE convention), not 1 (issue 13 finding 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from _cli_support import EmulatorThread

from floimg_async.cli._failures import EXIT_BROKEN_PIPE


@pytest.fixture(scope="module")
def many() -> Iterator[EmulatorThread]:
    """Enough workflows that the listing outgrows a pipe's buffer (64 KiB)."""
    server = EmulatorThread(execution_time=0.02, extra_workflows=1500).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("args", [["--json", "workflows", "list"], ["workflows", "list"]])
def test_cli_closed_stdout_exits_141_without_a_word(many: EmulatorThread, args: list[str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "floimg_async.cli", *args],
        env={**os.environ, **many.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    with proc:  # closes both pipes, whatever happens
        try:
            assert proc.stdout is not None and proc.stderr is not None
            first = proc.stdout.readline()  # what `head -1` does...
            proc.stdout.close()  # ...before it exits
            err = proc.stderr.read()
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert first.strip()
    assert code == EXIT_BROKEN_PIPE == 141
    assert err == b""  # no traceback, no "Exception ignored", no error line


def test_cli_shell_pipeline_into_head(many: EmulatorThread) -> None:
    """The same through a real shell pipeline, as a user types it."""
    result = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m floimg_async.cli --json workflows list | head -1;"
         " echo \"status=${PIPESTATUS[0]}\""],
        env={**os.environ, **many.env},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("{")
    assert lines[1] == "status=141"
    assert result.stderr == ""
