"""Helpers of the bulk tests: an emulator subprocess, the ``floimg`` command, input files."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from floimg_async.bulk import ItemState, Journal

FLOIMG = [sys.executable, "-m", "floimg_async.cli"]


class EmulatorProcess:
    """``python -m floimg_async.emulator --port 0`` in a subprocess, stopped with SIGINT."""

    def __init__(
        self, data_dir: Path, *, execution_time: float, extra: tuple[str, ...] = ()
    ) -> None:
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "floimg_async.emulator",
                "--port",
                "0",
                "--data-dir",
                str(data_dir),
                "--execution-time",
                str(execution_time),
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        assert self._proc.stdout is not None
        stdout = self._proc.stdout
        reader = threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True)
        reader.start()
        self._reader = reader
        found: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while len(found) < 3 and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            name, sep, value = line.strip().partition("=")
            if sep and name.startswith("FLOIMG_"):
                found[name] = value
        if len(found) < 3:
            self.stop()
            raise RuntimeError("the emulator subprocess did not say where it listens")
        self.base_url = found["FLOIMG_BASE_URL"]
        self.api_key = found["FLOIMG_API_KEY"]
        self.origin = found["FLOIMG_EMULATOR_ORIGIN"]

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(FLOIMG_BASE_URL=self.base_url, FLOIMG_API_KEY=self.api_key)
        return env

    def admin(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.origin}/_emulator/{path}", timeout=10) as resp:
            return json.loads(resp.read())

    def configure(self, **knobs: Any) -> None:
        """Change run-time knobs (``latency`` …) through ``POST /_emulator/config``."""
        request = urllib.request.Request(
            f"{self.origin}/_emulator/config",
            data=json.dumps(knobs).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            resp.read()

    def executions(self, workflow_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.admin(f"executions?workflowId={workflow_id}")[
            "executions"
        ]
        return found

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=15)
        self._reader.join(timeout=5)
        assert self._proc.stdout is not None
        self._proc.stdout.close()


def write_input(path: Path, count: int, tag: str) -> Path:
    """``count`` lines with a unique prompt each (``<tag>-<n>``), and a blank line or two."""
    with path.open("w") as handle:
        for n in range(count):
            handle.write(json.dumps({"prompt": f"{tag}-{n}", "width": 48, "height": 24}) + "\n")
            if n % 97 == 0:
                handle.write("\n")
    return path


def journal_counts(path: Path) -> dict[ItemState, int]:
    """The journal's state counts, read while another process may be writing it."""
    if not path.exists():
        return dict.fromkeys(ItemState, 0)
    with Journal(path, readonly=True) as journal:
        return journal.counts()


def assert_exactly_once(emulator: EmulatorProcess, out: Path, tag: str, count: int) -> None:
    """Every input line ran once on the server and has one completed line in ``out``."""
    ran = Counter(
        e["parameters"]["prompt"]
        for e in emulator.executions("wf_social_card")
        if str(e["parameters"].get("prompt", "")).startswith(f"{tag}-")
    )
    duplicates = {prompt: n for prompt, n in ran.items() if n != 1}
    assert duplicates == {}, f"executions run more than once: {duplicates}"
    assert set(ran) == {f"{tag}-{n}" for n in range(count)}
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    indices = Counter(line["index"] for line in lines)
    assert [i for i, n in indices.items() if n != 1] == []
    assert set(indices) == set(range(count))
    assert all(line["status"] == "completed" and line["executionId"] for line in lines)
    assert {line["parameters"]["prompt"] for line in lines} == set(ran)
