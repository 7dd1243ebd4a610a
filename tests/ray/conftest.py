"""Fixtures of the Ray tests: a local Ray cluster and an emulator subprocess."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "bulk"))

from _bulk_support import EmulatorProcess

ray = pytest.importorskip("ray", reason="the ray extra is not installed")

RATE_LIMIT = 1800  # requests per minute: 30 a second, the run takes about 17 seconds


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    """A local Ray cluster on two CPUs (what CI has), shut down after the module."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
        configure_logging=False,
    )
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def limited_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    """An emulator subprocess (Ray workers are other processes) with a rate limit."""
    server = EmulatorProcess(
        tmp_path_factory.mktemp("emulator"),
        execution_time=1.0,  # ~30 executions in flight at the limit: a kill catches some
        # A second of burst, like the published plans (300/min, burst 50): a loaded
        # machine that stalls the emulator process then does not turn into 429s.
        extra=("--rate-limit", str(RATE_LIMIT), "--burst", "50"),
    )
    try:
        yield server
    finally:
        server.stop()
