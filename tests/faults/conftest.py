"""Fixtures of the fault-matrix tests: local fault-injecting servers and a recording sleep."""

from __future__ import annotations

import sys
from pathlib import Path

# The server kit lives beside this file; the security, property and soak tests use it too.
sys.path.insert(0, str(Path(__file__).parent))

from _faultkit import http_server, raw_server, sleeps, tripwire

__all__ = ["http_server", "raw_server", "sleeps", "tripwire"]
