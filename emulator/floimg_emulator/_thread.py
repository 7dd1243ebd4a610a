"""``EmulatorThread``: the emulator on its own event loop in a thread, for synchronous code."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from ._emulator import Emulator

T = TypeVar("T")


class EmulatorThread:
    """Run an :class:`Emulator` in a background thread (same keyword knobs).

    ::

        with EmulatorThread(port=0) as emu:
            requests.get(f"{emu.base_url}/workflows", headers=...)
            emu.call(emu.emulator.count_executions())
    """

    def __init__(self, **knobs: Any) -> None:
        self._knobs = knobs
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._emulator: Emulator | None = None
        self._error: BaseException | None = None

    def start(self, timeout: float = 30.0) -> EmulatorThread:
        """Start the thread and wait until the emulator listens; re-raise a startup error."""
        if self._thread is not None:
            raise RuntimeError("the emulator thread is already running")
        self._thread = threading.Thread(target=self._main, name="floimg-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the emulator did not start in time")
        if self._error is not None:
            self._thread.join(timeout)
            self._thread = None
            raise self._error
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the emulator and wait for the thread to end (idempotent)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        thread.join(timeout)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coro`` on the emulator loop and return its result."""
        if self._loop is None or self._thread is None:
            coro.close()
            raise RuntimeError("the emulator thread is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def emulator(self) -> Emulator:
        """Return the running emulator (use its coroutines through :meth:`call`)."""
        if self._emulator is None:
            raise RuntimeError("the emulator thread is not running")
        return self._emulator

    @property
    def base_url(self) -> str:
        """Return the API base URL (``http://127.0.0.1:PORT/v1``)."""
        return self.emulator.base_url

    @property
    def origin(self) -> str:
        """Return ``http://127.0.0.1:PORT``."""
        return self.emulator.origin

    @property
    def api_key(self) -> str:
        """Return the default account's API key."""
        return self.emulator.api_key

    def __enter__(self) -> EmulatorThread:
        """Start the thread (see :meth:`start`)."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the thread (see :meth:`stop`)."""
        self.stop()

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            emulator = Emulator(**self._knobs)
            await emulator.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._emulator = emulator
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await emulator.stop()
