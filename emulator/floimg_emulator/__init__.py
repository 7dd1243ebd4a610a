"""floimg-emulator: a local, stateful emulator of the FloImg HTTP API.

A distribution of its own (``pip install floimg-emulator``, or ``pip install
'floimg-async[emulator]'``), sharing no code with the floimg-async SDK so that each
checks the other. Run it with ``python -m floimg_emulator --port 8080`` (or the
``floimg-emulator`` command) or in-process::

    async with Emulator(port=0) as emu:
        ...  # emu.base_url, emu.api_key

or from synchronous code with ``EmulatorThread``. ``create_app`` returns the
``aiohttp`` application for embedding. ``floimg_emulator.testing`` is a pytest
plugin with the ``floimg_emulator`` and ``floimg_emulator_factory`` fixtures.
"""

from __future__ import annotations

from ._app import create_app
from ._config import FAULT_KINDS, SCOPES, EmulatorConfig, KeySpec
from ._emulator import Emulator
from ._records import ExecutionRecord, ImageRecord
from ._state import STATE_KEY
from ._stats import Stats
from ._thread import EmulatorThread
from ._version import __version__

__all__ = [
    "FAULT_KINDS",
    "SCOPES",
    "STATE_KEY",
    "Emulator",
    "EmulatorConfig",
    "EmulatorThread",
    "ExecutionRecord",
    "ImageRecord",
    "KeySpec",
    "Stats",
    "__version__",
    "create_app",
]
