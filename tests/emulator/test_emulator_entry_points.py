"""The emulator's three entry points outlive a reader that stops reading.

``floimg-emulator --port 0 | head -1`` made ``floimg-emulator`` exit 1 with "cannot
start the emulator: [Errno 32] Broken pipe" (it had started) and ``floimg emulator``
exit 141: the emulator died because nobody read its second line. Each entry point
(``floimg emulator``, ``floimg-emulator``, ``python -m floimg_async.emulator``) is
started with its stdout and stderr pipes closed before it prints; it must keep
serving the API and stop cleanly (status 0) on SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
ENTRY_POINTS = {
    "floimg emulator": [str(BIN / "floimg"), "emulator"],
    "floimg-emulator": [str(BIN / "floimg-emulator")],
    "python -m floimg_async.emulator": [sys.executable, "-m", "floimg_async.emulator"],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stats(port: int) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/stats", timeout=2) as r:
            return dict(json.loads(r.read()))
    except (urllib.error.URLError, OSError):
        return None


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_emulator_keeps_serving_when_its_reader_goes_away(name: str, tmp_path: Path) -> None:
    if not Path(ENTRY_POINTS[name][0]).exists():
        pytest.skip(f"{ENTRY_POINTS[name][0]} is not installed beside this Python")
    port = _free_port()
    proc = subprocess.Popen(
        [*ENTRY_POINTS[name], "--port", str(port), "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader has gone before the first line
    proc.stderr.close()
    try:
        for _ in range(300):  # bounded: at most ~30 s for a slow machine
            if proc.poll() is not None or _stats(port) is not None:
                break
            time.sleep(0.1)
        assert proc.poll() is None, f"{name} exited with {proc.returncode}"
        time.sleep(0.3)  # past the banner: still up
        assert proc.poll() is None, f"{name} exited with {proc.returncode}"
        assert _stats(port) is not None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
