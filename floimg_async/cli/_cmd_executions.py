"""``floimg executions get|wait``."""

from __future__ import annotations

import click

from ._command import FloimgGroup
from ._context import Settings, pass_settings, run_async
from ._execution import ExecutionWatch, show_execution
from ._files import check_destination
from ._options import FiniteFloatRange
from ._progress import Transfers, wait_display

__all__ = ["executions"]


@click.group(cls=FloimgGroup)
def executions() -> None:
    """Inspect executions and wait for them to finish."""


@executions.command("get")
@click.argument("execution_id")
@pass_settings
def get_execution(settings: Settings, execution_id: str) -> None:
    """Show an execution's current state (one request)."""

    async def go() -> None:
        async with settings.client() as client:
            execution = await client.executions.get(execution_id)
            await show_execution(client, settings, execution, None, Transfers(enabled=False))

    run_async(go)


@executions.command("wait")
@click.argument("execution_id")
@click.option(
    "--wait-timeout",
    type=FiniteFloatRange(min=0),
    metavar="SECONDS",
    help="Give up after this many seconds.",
)
@click.option(
    "--poll-interval",
    type=FiniteFloatRange(min=0.01),
    metavar="SECONDS",
    default=1.0,
    show_default=True,
    help="Seconds between the first status checks.",
)
@click.option(
    "--max-poll-interval",
    type=FiniteFloatRange(min=0.01),
    metavar="SECONDS",
    default=10.0,
    show_default=True,
    help="Longest wait between status checks as polling backs off.",
)
@click.option(
    "--download",
    metavar="PATH",
    help=(
        "Save the output image to this file, or into this folder under its own name "
        "(a PATH ending in / is a folder, created if missing)."
    ),
)
@pass_settings
def wait_execution(
    settings: Settings,
    execution_id: str,
    wait_timeout: float | None,
    poll_interval: float,
    max_poll_interval: float,
    download: str | None,
) -> None:
    """Wait until an execution ends; exit 3 if it failed, 4 on --wait-timeout.

    If the wait is interrupted (Ctrl-C), times out or fails, the command that
    picks it up again is printed. Waiting on a finished execution returns at once.
    """
    if download is not None:
        check_destination(download)
    watch = ExecutionWatch(settings, download=download)
    watch.execution_id = execution_id

    async def go() -> None:
        transfers = Transfers()
        async with settings.client() as client:
            with wait_display(execution_id) as on_update:
                watch.on_display = on_update
                execution = await client.executions.wait(
                    execution_id,
                    timeout=wait_timeout,
                    poll_interval=poll_interval,
                    max_poll_interval=max(max_poll_interval, poll_interval),
                    on_update=watch.seen,
                )
            await show_execution(client, settings, execution, download, transfers)

    watch.run(go)
