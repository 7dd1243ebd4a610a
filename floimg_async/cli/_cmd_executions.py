"""``floimg executions get|wait``."""

from __future__ import annotations

from pathlib import Path

import click

from ._cmd_workflows import show_execution
from ._context import Settings, json_option, pass_settings, run_async
from ._progress import Transfers, wait_display

__all__ = ["executions"]


@click.group()
def executions() -> None:
    """Inspect executions and wait for them to finish."""


@executions.command("get")
@click.argument("execution_id")
@json_option
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
    "--wait-timeout", type=click.FloatRange(min=0), help="Give up after this many seconds."
)
@click.option("--poll-interval", type=click.FloatRange(min=0.01), default=1.0, show_default=True)
@click.option(
    "--max-poll-interval", type=click.FloatRange(min=0.01), default=10.0, show_default=True
)
@click.option(
    "--download",
    type=click.Path(path_type=Path),
    help="Save the output image to this file (or into this directory).",
)
@json_option
@pass_settings
def wait_execution(
    settings: Settings,
    execution_id: str,
    wait_timeout: float | None,
    poll_interval: float,
    max_poll_interval: float,
    download: Path | None,
) -> None:
    """Wait until an execution ends; exit 3 if it failed, 4 on --wait-timeout."""

    async def go() -> None:
        transfers = Transfers()
        async with settings.client(trace_configs=[transfers.trace_config]) as client:
            with wait_display(execution_id) as on_update:
                execution = await client.executions.wait(
                    execution_id,
                    timeout=wait_timeout,
                    poll_interval=poll_interval,
                    max_poll_interval=max(max_poll_interval, poll_interval),
                    on_update=on_update,
                )
            await show_execution(client, settings, execution, download, transfers)

    run_async(go)
