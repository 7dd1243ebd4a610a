"""Fixtures shared with the fault-matrix tests: local servers (127.0.0.1 only) and a fake sleep."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "faults"))

from _faultkit import http_server, raw_server, sleeps, tripwire

__all__ = ["http_server", "raw_server", "sleeps", "tripwire"]
