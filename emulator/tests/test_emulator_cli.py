"""``python -m floimg_emulator`` starts, prints where it is, and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import aiohttp
from floimg_emulator.__main__ import build_parser


async def test_cli_starts_serves_and_stops(tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "floimg_emulator", "--port", "0",
        "--data-dir", str(tmp_path), "--execution-time", "0.01", "--api-key", "fsk_test_cli",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    try:
        lines = [
            (await asyncio.wait_for(proc.stdout.readline(), timeout=15)).decode().strip()
            for _ in range(3)
        ]
        values = dict(line.split("=", 1) for line in lines)
        base_url = values["FLOIMG_BASE_URL"]
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        assert values["FLOIMG_API_KEY"] == "fsk_test_cli"
        headers = {"Authorization": "Bearer fsk_test_cli"}
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.get(base_url + "/workflows") as resp,
        ):
            assert resp.status == 200
            assert (await resp.json())["total"] == 5
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        stderr = await proc.stderr.read()
    assert b"Traceback" not in stderr
    assert (tmp_path / "emulator.sqlite3").exists()


async def test_cli_refuses_remote_hosts() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "floimg_emulator", "--host", "0.0.0.0", "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), timeout=15)
    assert proc.returncode == 2 and b"allow-remote" in err


def test_cli_flags_parse() -> None:
    args = build_parser().parse_args(
        ["--port", "0", "--fault-kinds", "500,reset_after", "--key",
         "fsk_test_ro=acct_b:workflows:read,storage:read", "--rate-limit", "60", "--burst", "5"]
    )  # fmt: skip
    assert args.fault_kinds == ("500", "reset_after")
    key, spec = args.key[0]
    assert key == "fsk_test_ro" and spec.account == "acct_b"
    assert spec.scopes == ("workflows:read", "storage:read")
    assert (args.rate_limit, args.burst, args.host) == (60, 5, "127.0.0.1")
