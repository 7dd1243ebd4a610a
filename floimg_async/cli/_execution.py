"""Printing an execution, and never losing its id when a command stops early.

``workflows run`` and ``executions wait`` watch paid work. Whatever stops them
after the execution exists — Ctrl-C, SIGTERM, ``--wait-timeout``, a connection
that fails, a download that fails — the execution id and the command that
picks it up again (``floimg executions wait ID``) are printed: on stderr in
text mode, as one JSON line on stdout with ``--json``.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click

from .. import (
    APIConnectionError,
    APIError,
    Execution,
    FloImg,
    WaitTimeoutError,
    WorkflowFailedError,
)
from ._context import Interrupted, Settings, run_async
from ._files import download_target
from ._output import emit_json, safe_text, show_object, to_jsonable
from ._progress import Transfers

__all__ = ["ExecutionWatch", "show_execution"]


async def show_execution(
    client: FloImg,
    settings: Settings,
    execution: Execution,
    download: str | None,
    transfers: Transfers,
) -> None:
    """Print an execution, after saving its output image when ``download`` is given.

    ``download`` is a file, or a folder (ending in a separator, or existing) that
    receives the image under the name in its URL; a missing folder is created.
    """
    saved: Path | None = None
    if download is not None and execution.output is not None and execution.output.url:
        target = download_target(download, execution.output.url)
        with transfers.track(execution.id) as on_progress:
            result = await client.images.download(execution.output, target, on_progress=on_progress)
        assert isinstance(result, Path)
        saved = result
    if settings.json:
        data: dict[str, Any] = to_jsonable(execution)
        if saved is not None:
            data["file"] = str(saved)
        emit_json(data)
        return
    show_object(execution)
    if saved is not None:
        click.echo(safe_text(f"saved to {saved}"))


class ExecutionWatch:
    """The execution a command works on, so that a command that stops can say how to resume.

    Call :meth:`seen` with each state (it is also the waiter's ``on_update``; it
    passes each state on to ``on_display``), and :meth:`stopped` from the
    command's error path with what stopped it.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        download: str | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        self._settings = settings
        self._download = download
        self.idempotency_key = idempotency_key
        self.execution_id: str | None = None
        self.execution: Execution | None = None
        self.on_display: Callable[[Execution], None] | None = None

    def seen(self, execution: Execution) -> None:
        """Remember ``execution`` as the latest state."""
        self.execution_id = execution.id
        self.execution = execution
        if self.on_display is not None:
            self.on_display(execution)

    def run(self, factory: Callable[[], Awaitable[None]]) -> None:
        """Run the command's coroutine; if anything stops it, say how to resume after the
        error line (the note is queued on the settings, printed by the error handler)."""
        try:
            run_async(factory)
        except Interrupted:
            self._settings.after_error.append(functools.partial(self.stopped, None))
            raise
        except Exception as exc:
            self._settings.after_error.append(functools.partial(self.stopped, exc))
            raise

    def resume_command(self) -> str:
        """``floimg executions wait ID`` (with ``--base-url``/``--download`` as given).

        Quoted for a POSIX shell, whatever the server put in the id; never the key.
        """
        assert self.execution_id is not None
        words = ["floimg"]
        if self._settings.base_url_given and self._settings.base_url:
            words += ["--base-url", self._settings.base_url]
        words += ["executions", "wait", self.execution_id]
        if self._download is not None:
            words += ["--download", self._download]
        return shlex.join(words)

    def stopped(self, exc: BaseException | None) -> None:
        """Tell the user which execution was left and how to pick it up (``exc``: the cause,
        ``None`` for an interruption)."""
        if isinstance(exc, WorkflowFailedError | WaitTimeoutError) and exc.execution is not None:
            self.seen(exc.execution)
        if isinstance(exc, ValueError | TypeError):
            return  # the command was misused (an empty id, say): nothing ran, nothing to resume
        if (
            self.execution is None
            and isinstance(exc, APIError)
            and 400 <= exc.status < 500
            and exc.status != 429
        ):
            # The API refused before any state of the execution was seen (no such id, a
            # bad key): running the same command again cannot pick anything up.
            return
        if self.execution_id is None:
            if exc is None or isinstance(exc, APIConnectionError):
                self._no_id_yet()  # the submission's fate is unknown
            return
        if isinstance(exc, WorkflowFailedError):
            self._failed()
            return
        command = self.resume_command()
        if self._settings.json:
            data: dict[str, Any] = {"executionId": self.execution_id, "status": None}
            if self.execution is not None:
                data = to_jsonable(self.execution)
            data["resumeCommand"] = command
            emit_json(data)
            return
        if self.execution is not None and self.execution.is_terminal:
            # it finished; what failed came after (saving its output, say)
            status = self.execution.status.value
            line = f"execution {self.execution_id} finished ({status}); get it again with:"
        else:
            last = f" (last status: {self.execution.status.value})" if self.execution else ""
            line = f"execution {self.execution_id} may still be running{last}; pick it up with:"
        click.echo(safe_text(line), err=True)
        click.echo(safe_text(f"  {command}"), err=True)

    def _failed(self) -> None:
        if self._settings.json:
            emit_json(self.execution)
            return
        click.echo(safe_text(f"execution {self.execution_id} failed"), err=True)

    def _no_id_yet(self) -> None:
        if self.idempotency_key is None:
            return
        if self._settings.json:
            emit_json({"executionId": None, "idempotencyKey": self.idempotency_key})
            return
        click.echo(
            "the submission may or may not have reached the API; run the same command "
            f"again with --idempotency-key {self.idempotency_key} and it runs at most once",
            err=True,
        )
