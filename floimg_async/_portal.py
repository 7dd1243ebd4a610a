"""A private event loop on a thread of its own, which blocking code hands coroutines to.

The sync facade (:mod:`floimg_async.sync`) is the async client driven through a
:class:`Portal`, the way anyio's blocking portal or asgiref's ``async_to_sync``
work: the caller's thread blocks on a ``threading.Event`` while the coroutine
runs on the portal's loop. Because the loop is never the caller's, this works
from a thread whose own event loop is running (Jupyter, an async framework's
sync view), and many threads can call at once.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from typing import Any, TypeVar

from ._errors import FloImgError

__all__ = ["CLOSED_MESSAGE", "Portal", "iterate"]

T = TypeVar("T")

CLOSED_MESSAGE = "this FloImg client is closed; create a new FloImg to go on"
# How long an interrupted call waits for its task to finish cancelling (closing
# connections, cancelling run_many's in-flight work) before the interrupt goes on.
CANCEL_GRACE = 10.0
STOP_TIMEOUT = 30.0


class _Outcome:
    __slots__ = ("cancelled", "done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.cancelled = False


class Portal:
    """An event loop running forever in a daemon thread until :meth:`stop`."""

    def __init__(self, name: str = "floimg-sync") -> None:
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._closed = False
        started = threading.Event()
        self._loop.call_soon(started.set)
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        started.wait()

    @property
    def closed(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._closed

    @property
    def thread(self) -> threading.Thread:
        """The thread the loop runs in."""
        return self._thread

    def in_portal_thread(self) -> bool:
        """Whether the calling code runs on the portal's own loop thread."""
        return threading.current_thread() is self._thread

    def call(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` on the loop, await its result if awaitable, return it.

        The function's exception is raised here. An interrupt while waiting
        (``KeyboardInterrupt``, a signal-based timeout) cancels the task, waits
        up to ``CANCEL_GRACE`` seconds for it to clean up, and goes on. Raises
        ``RuntimeError`` when called from the loop's own thread (it would wait
        on itself forever) and :class:`FloImgError` once the portal is stopped.
        """
        if self.in_portal_thread():
            raise RuntimeError(
                "a sync FloImg method was called from the client's own event-loop thread "
                "(for example inside an on_update callback); use the async client there"
            )
        outcome = _Outcome()
        tasks: list[asyncio.Task[Any]] = []

        async def run() -> Any:
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result

        def finished(task: asyncio.Task[Any]) -> None:
            if task.cancelled():
                outcome.cancelled = True
            elif task.exception() is not None:
                outcome.error = task.exception()
            else:
                outcome.value = task.result()
            outcome.done.set()

        def start() -> None:
            task = self._loop.create_task(run())
            tasks.append(task)
            task.add_done_callback(finished)

        def cancel() -> None:
            for task in tasks:
                task.cancel()

        with self._lock:
            if self._closed:
                raise FloImgError(CLOSED_MESSAGE)
            self._loop.call_soon_threadsafe(start)
        try:
            outcome.done.wait()
        except BaseException:
            with self._lock:
                if not self._closed:
                    self._loop.call_soon_threadsafe(cancel)
            outcome.done.wait(CANCEL_GRACE)
            raise
        if outcome.error is not None:
            error, outcome.error = outcome.error, None
            raise error
        if outcome.cancelled:
            raise FloImgError("the sync FloImg client was closed while this call was running")
        return outcome.value

    def spawn(self, fn: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Start ``fn()`` as a task without waiting for it (from the loop's own thread)."""
        if not self._closed and not self._loop.is_closed():
            self._loop.create_task(fn())

    def stop(self) -> None:
        """Stop the loop: cancel what still runs, finish async generators, join. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._loop.call_soon_threadsafe(self._loop.stop)
        if not self.in_portal_thread():
            self._thread.join(STOP_TIMEOUT)

    def _main(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            try:
                pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()


def iterate(portal: Portal, make: Callable[[], AsyncIterator[T]]) -> Generator[T, None, None]:
    """A plain generator over the async iterator ``make()`` creates, one hop per item.

    The async iterator lives only on the portal's loop. Closing the generator
    (``break`` then garbage collection, ``close()``, ``contextlib.closing``)
    closes the async iterator there, so ``run_many`` cancels its work in flight.
    """
    box: list[AsyncIterator[T]] = []

    def create() -> None:
        box.append(make())

    async def step() -> list[T]:
        try:
            return [await box[0].__anext__()]
        except StopAsyncIteration:
            return []

    async def release() -> None:
        iterator = box.pop() if box else None
        aclose = getattr(iterator, "aclose", None)
        del iterator  # the last reference goes on the loop thread, where __del__ may act
        if aclose is not None:
            await aclose()

    portal.call(create)
    try:
        while True:
            got: list[T] = portal.call(step)
            if not got:
                return
            yield got[0]
    finally:
        if portal.in_portal_thread():  # collected on the loop thread: do not wait on itself
            portal.spawn(release)
        elif not portal.closed:
            portal.call(release)
