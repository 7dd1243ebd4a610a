"""Progress bars on stderr (rich), drawn only when stderr is a terminal.

Byte progress of uploads comes from aiohttp's tracing (``on_request_chunk_sent``)
through a ``TraceConfig`` given to the client, so the SDK needs no hooks. A
download's total comes from its ``Content-Length`` and its progress from the
size of the partial file the SDK writes beside the destination.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import aiohttp
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from .. import Execution
from ..bulk import BulkProgress
from ._output import safe_text

__all__ = ["BulkBar", "Transfers", "progress_enabled", "wait_display"]

_current: contextvars.ContextVar[TaskID | None] = contextvars.ContextVar(
    "floimg_cli_transfer", default=None
)
_POLL_SECONDS = 0.1


def _console() -> Console:
    return Console(stderr=True)


def progress_enabled() -> bool:
    """Whether to draw progress: only on an interactive stderr."""
    return _console().is_terminal


class Transfers:
    """Byte progress for uploads and downloads; a no-op when not enabled.

    Build the client with ``trace_configs=[transfers.trace_config]`` and wrap
    each transfer in :meth:`upload` or :meth:`download`; each draws its own bar
    for as long as it runs, and leaves the finished bar on screen.
    """

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = progress_enabled() if enabled is None else enabled
        self._progress: Progress | None = None
        self.trace_config = aiohttp.TraceConfig()
        self.trace_config.on_request_start.append(self._on_start)
        self.trace_config.on_request_chunk_sent.append(self._on_chunk_sent)
        self.trace_config.on_request_end.append(self._on_end)

    @contextlib.contextmanager
    def upload(self, label: str, size: int | None) -> Iterator[None]:
        """Show the upload of ``label`` (``size`` bytes) while the block runs."""
        with self._track(label, size):
            yield

    @contextlib.asynccontextmanager
    async def download(self, label: str, dest: Path) -> AsyncIterator[None]:
        """Show a download to ``dest`` while the block runs."""
        with self._track(label, None) as task:
            watcher = None
            if task is not None:
                watcher = asyncio.ensure_future(self._watch(task, dest))
            try:
                yield
            finally:
                if watcher is not None:
                    watcher.cancel()
                    await asyncio.gather(watcher, return_exceptions=True)

    @contextlib.contextmanager
    def _track(self, label: str, size: int | None) -> Iterator[TaskID | None]:
        if not self.enabled or self._progress is not None:
            yield None
            return
        progress = self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=_console(),
        )
        task = progress.add_task(safe_text(label), total=size)
        token = _current.set(task)
        progress.start()
        succeeded = False
        try:
            yield task
            succeeded = True
        finally:
            _current.reset(token)
            if succeeded:
                total = progress.tasks[0].total
                progress.update(task, completed=total if total is not None else 0)
            progress.stop()
            self._progress = None

    async def _watch(self, task: TaskID, dest: Path) -> None:
        # The SDK streams into ".<name>.<random>.part" beside dest, then renames it.
        folder = dest if dest.is_dir() else dest.parent
        pattern = "*.part" if dest.is_dir() else f".{dest.name}.*.part"
        for _ in range(10_000_000):  # bounded; cancelled when the download ends
            await asyncio.sleep(_POLL_SECONDS)
            sizes = [p.stat().st_size for p in folder.glob(pattern) if p.exists()]
            if sizes and self._progress is not None:
                self._progress.update(task, completed=max(sizes))

    async def _on_start(
        self, _s: aiohttp.ClientSession, _c: SimpleNamespace, _p: aiohttp.TraceRequestStartParams
    ) -> None:
        task = _current.get()
        if task is not None and self._progress is not None:
            self._progress.update(task, completed=0)  # a retry starts over

    async def _on_chunk_sent(
        self,
        _s: aiohttp.ClientSession,
        _c: SimpleNamespace,
        params: aiohttp.TraceRequestChunkSentParams,
    ) -> None:
        task = _current.get()
        if task is not None and self._progress is not None:
            self._progress.advance(task, len(params.chunk))

    async def _on_end(
        self, _s: aiohttp.ClientSession, _c: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        task = _current.get()
        if task is None or self._progress is None or params.method != "GET":
            return
        length = params.response.headers.get("Content-Length")
        if length and length.isdigit():
            self._progress.update(task, total=int(length))


@contextlib.contextmanager
def wait_display(label: str) -> Iterator[Callable[[Execution], None]]:
    """A spinner showing an execution's status while waiting; yields the ``on_update``."""
    if not progress_enabled():
        yield lambda execution: None
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        TimeElapsedColumn(),
        console=_console(),
        transient=True,
    )
    label = safe_text(label)
    task = progress.add_task(f"{label}: waiting", total=None)

    def on_update(execution: Execution) -> None:
        progress.update(task, description=f"{label}: {safe_text(str(execution.status.value))}")

    with progress:
        yield on_update


class BulkBar:
    """The bar of a bulk run: items done of total, with completed/failed counts."""

    def __init__(self, label: str) -> None:
        self.enabled = progress_enabled()
        self._label = label
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> BulkBar:
        if self.enabled:
            self._progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}", markup=False),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=_console(),
            )
            self._task = self._progress.add_task(safe_text(self._label), total=None, detail="")
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __call__(self, state: BulkProgress) -> None:
        """The job's ``on_progress`` callback."""
        if self._progress is None or self._task is None:
            return
        detail = f"completed {state.completed}  failed {state.failed}  skipped {state.skipped}"
        if state.unfinished:
            detail += f"  unfinished {state.unfinished}"
        detail += f"  in flight {state.in_flight}"
        self._progress.update(self._task, total=state.total, completed=state.done, detail=detail)
