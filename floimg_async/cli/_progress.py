"""Progress bars on stderr (rich), drawn only when stderr is a terminal.

Byte progress of uploads and downloads comes from the SDK's public
``on_progress(bytes_done, bytes_total)`` callback on ``images.upload`` and
``images.download``: :class:`Transfers` hands one to each transfer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

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

__all__ = ["BulkBar", "OnBytes", "Transfers", "progress_enabled", "wait_display"]

OnBytes = Callable[[int, "int | None"], None]
"""An ``on_progress(bytes_done, bytes_total)`` callback for the SDK's transfers."""


def _console() -> Console:
    return Console(stderr=True)


def progress_enabled() -> bool:
    """Whether to draw progress: only on an interactive stderr."""
    return _console().is_terminal


class Transfers:
    """Byte progress for uploads and downloads; a no-op when not enabled.

    Wrap each transfer in :meth:`track` and pass what it yields as the SDK's
    ``on_progress``; each transfer draws its own bar for as long as it runs,
    and leaves the finished bar on screen.
    """

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = progress_enabled() if enabled is None else enabled
        self._progress: Progress | None = None

    @contextlib.contextmanager
    def track(self, label: str, size: int | None = None) -> Iterator[OnBytes | None]:
        """Show the transfer of ``label`` while the block runs; yield its ``on_progress``.

        Yields None (no callback needed) when progress is off or another bar is
        showing. ``size`` is the total when known before the first byte.
        """
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

        def on_progress(done: int, total: int | None) -> None:
            # A retry reports from 0 again, so "done" is set, never added.
            if total is not None:
                progress.update(task, completed=done, total=total)
            else:
                progress.update(task, completed=done)

        progress.start()
        succeeded = False
        try:
            yield on_progress
            succeeded = True
        finally:
            total = progress.tasks[0].total
            if succeeded and total is not None:
                progress.update(task, completed=total)
            progress.stop()
            self._progress = None


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
