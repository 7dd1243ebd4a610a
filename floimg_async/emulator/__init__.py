"""Alias of :mod:`floimg_emulator`, the local FloImg API emulator (extra ``emulator``).

The emulator is its own distribution, ``floimg-emulator``, sharing no code with the
SDK; ``pip install 'floimg-async[emulator]'`` installs it. This module keeps the
older import path working::

    from floimg_async.emulator import Emulator  # the same class as floimg_emulator.Emulator

as do ``python -m floimg_async.emulator`` and ``floimg emulator``. New code may
import :mod:`floimg_emulator` directly. Importing this module without the emulator
installed raises ``ImportError`` saying how to install it; ``import floimg_async``
alone never imports it.
"""

from __future__ import annotations

try:
    from floimg_emulator import (
        FAULT_KINDS,
        SCOPES,
        STATE_KEY,
        Emulator,
        EmulatorConfig,
        EmulatorThread,
        ExecutionRecord,
        ImageRecord,
        KeySpec,
        Stats,
        create_app,
    )
except ImportError as exc:
    if exc.name not in ("floimg_emulator", "PIL", "aiohttp"):
        raise
    raise ImportError(
        "the FloImg emulator is not installed (it is the separate distribution "
        "floimg-emulator): pip install 'floimg-async[emulator]'",
        name=exc.name,
    ) from exc

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
