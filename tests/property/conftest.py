"""Fixtures for the property and misuse tests, and the examples-run figure for the report."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "faults"))
sys.path.insert(0, str(Path(__file__).parent))

from _faultkit import http_server, raw_server, sleeps, tripwire
from _propcount import EXAMPLES

__all__ = ["http_server", "raw_server", "sleeps", "tripwire"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if EXAMPLES:
        total = sum(EXAMPLES.values())
        terminalreporter.write_line(
            f"hypothesis examples run: {total} ("
            + ", ".join(f"{name}={count}" for name, count in sorted(EXAMPLES.items()))
            + ")"
        )
