"""A local, stateful emulator of the FloImg HTTP API (extra ``floimg-async[emulator]``).

Run it with ``python -m floimg_async.emulator --port 8080`` or in-process::

    async with Emulator(port=0) as emu:
        ...  # emu.base_url, emu.api_key

or from synchronous code with ``EmulatorThread``. ``create_app`` returns the
``aiohttp`` application for embedding. It needs Pillow; ``import floimg_async``
alone never imports it.
"""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("PIL") is None:  # pragma: no cover - depends on the install
    raise ImportError("the FloImg emulator needs Pillow: pip install 'floimg-async[emulator]'")

from ._app import create_app
from ._config import FAULT_KINDS, SCOPES, EmulatorConfig, KeySpec
from ._emulator import Emulator
from ._records import ExecutionRecord, ImageRecord
from ._state import STATE_KEY
from ._stats import Stats
from ._thread import EmulatorThread

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
    "create_app",
]
