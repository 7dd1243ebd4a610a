"""``FLOIMG_LOG``: logging to stderr from the environment, checked in fresh interpreters.

Each case runs one small script in a subprocess (the setting acts when a client
is created, on the process-wide ``floimg_async`` logger): two clients against
the emulator, one retried request, and a log line that tries to print the key.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

KEY = "fsk_test_logenv_0123456789"

SCRIPT = textwrap.dedent(
    f"""
    import asyncio, logging
    from floimg_async import FloImg
    from floimg_async.emulator import Emulator

    async def main():
        async with Emulator(port=0, api_key={KEY!r}) as emu:
            emu.inject_fault("503", path="/v1/workflows/wf_social_card")
            for _ in range(2):  # a second client must not add a second handler
                sleepless = lambda seconds: asyncio.sleep(0)
                async with FloImg({KEY!r}, base_url=emu.base_url, sleep=sleepless) as client:
                    await client.workflows.get("wf_social_card")
            logging.getLogger("floimg_async.test").warning("echoed key=%s", {KEY!r})

    asyncio.run(main())
    """
)


def run_with(value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "FLOIMG_LOG"}
    if value is not None:
        env["FLOIMG_LOG"] = value
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    return done.stderr


def attempt_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "GET /workflows/wf_social_card ->" in line]


@pytest.mark.parametrize("value", ["debug", "DEBUG", " Debug "])
def test_debug_logs_every_attempt_once_with_the_key_redacted(value: str) -> None:
    stderr = run_with(value)
    lines = attempt_lines(stderr)
    # Two clients, the first retried once after the 503: three attempts, each logged once.
    assert len(lines) == 3, stderr
    assert all(" floimg_async DEBUG " in line for line in lines)
    assert any("retrying GET /workflows/wf_social_card" in line for line in stderr.splitlines())
    assert "echoed key=[redacted]" in stderr
    assert KEY not in stderr


def test_info_logs_retries_but_not_attempts() -> None:
    stderr = run_with("info")
    assert attempt_lines(stderr) == []
    retries = [line for line in stderr.splitlines() if "retrying GET" in line]
    assert len(retries) == 1 and " INFO " in retries[0], stderr
    assert KEY not in stderr


def test_unset_or_empty_leaves_logging_alone() -> None:
    for value in (None, ""):
        stderr = run_with(value)
        assert attempt_lines(stderr) == []
        assert "retrying" not in stderr
        # Only Python's last-resort handler prints the WARNING: no SDK handler, no format.
        assert stderr.strip() == "echoed key=" + KEY


def test_an_unknown_value_warns_once_and_changes_nothing() -> None:
    stderr = run_with("verbose")
    assert stderr.count("RuntimeWarning") == 1, stderr
    assert "FLOIMG_LOG='verbose' is not understood" in stderr
    assert "FLOIMG_LOG=debug or FLOIMG_LOG=info" in stderr
    assert attempt_lines(stderr) == []
