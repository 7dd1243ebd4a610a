"""Child processes for the benchmarks: servers on 127.0.0.1 and one-shot measurement workers.

Every child is bounded: servers are asked to stop on exit, then terminated and
killed; on Linux they also get SIGTERM if this process dies first.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM us when the parent goes away."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _preexec() -> Any:
    return _die_with_parent if sys.platform.startswith("linux") else None


def python_module(module: str, *args: str) -> list[str]:
    """Return the argv that runs ``python -m module args...`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


class ServerProcess:
    """A server child that prints ``KEY=value`` lines once it listens."""

    #: Whether the child exits by itself when its stdin closes (ours does).
    exits_on_eof = False

    def __init__(self, argv: Sequence[str], keys: Sequence[str], start_timeout: float = 30.0):
        self.argv = list(argv)
        self.keys = tuple(keys)
        self.start_timeout = start_timeout
        self.values: dict[str, str] = {}
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> dict[str, str]:
        """Start the child and wait (bounded) until it has printed every wanted key."""
        self._proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_preexec(),
        )
        assert self._proc.stdout is not None
        deadline = time.monotonic() + self.start_timeout
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            while not all(k in self.values for k in self.keys):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{self.argv[2:]} did not start: {self._stderr_tail()}")
                if not selector.select(timeout=min(remaining, 0.5)):
                    continue
                chunk = os.read(self._proc.stdout.fileno(), 4096)
                if not chunk:
                    continue
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    key, sep, value = line.decode(errors="replace").strip().partition("=")
                    if sep and key in self.keys:
                        self.values[key] = value
        return self.values

    def _stderr_tail(self) -> str:
        proc = self._proc
        if proc is None or proc.stderr is None or proc.poll() is None:
            return "(still running)"
        return proc.stderr.read().decode(errors="replace")[-2000:] or "(no stderr)"

    def stop(self, grace: float = 5.0) -> None:
        """Close its stdin (our server exits on EOF) or terminate it; kill it if it lingers."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            if proc.stdin is not None:
                proc.stdin.close()
        if not self.exits_on_eof:
            proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=grace)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_worker(module: str, args: Sequence[str], timeout: float = 120.0) -> dict[str, Any]:
    """Run ``python -m module args`` in a fresh process and return its last stdout line as JSON.

    A fresh process is what makes a peak-RSS reading mean something: nothing
    earlier in the run (other scenarios, caches) is counted.
    """
    done = subprocess.run(
        python_module(module, *args),
        cwd=ROOT,
        capture_output=True,
        timeout=timeout,
        check=False,
        preexec_fn=_preexec(),
    )
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"worker {module} failed ({done.returncode}): {' | '.join(tail)}")
    lines = done.stdout.decode().strip().splitlines()
    if not lines:
        raise RuntimeError(f"worker {module} printed nothing")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def emit(result: dict[str, Any]) -> None:
    """Print a worker's result as the one JSON line run_worker() reads."""
    print(json.dumps(result), flush=True)
