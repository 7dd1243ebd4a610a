"""``floimg workflows list|get|execute|run``."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import click

from .. import Execution, FloImg
from ._context import Settings, json_option, pass_settings, run_async
from ._options import listing_options, params_options, print_listing
from ._output import TableWriter, emit_json, show_object, to_jsonable
from ._params import load_parameters
from ._progress import Transfers, wait_display

__all__ = ["show_execution", "workflows"]


@click.group()
def workflows() -> None:
    """List, inspect and execute workflows."""


@workflows.command("list")
@click.option("--project-id", help="Only the workflows of this project.")
@listing_options
@json_option
@pass_settings
def list_workflows(
    settings: Settings, project_id: str | None, page_size: int, offset: int, max_items: int | None
) -> None:
    """List the account's workflows."""

    async def go() -> None:
        async with settings.client() as client:
            pager = client.workflows.list(
                project_id=project_id, page_size=page_size, offset=offset, max_items=max_items
            )
            await print_listing(
                pager,
                settings.json,
                ["ID", "NAME", "PROJECT", "UPDATED"],
                lambda w: (w.id, w.name, w.project_id, w.updated_at or w.created_at),
            )

    run_async(go)


@workflows.command("get")
@click.argument("workflow_id")
@json_option
@pass_settings
def get_workflow(settings: Settings, workflow_id: str) -> None:
    """Show a workflow and the parameters it takes."""

    async def go() -> None:
        async with settings.client() as client:
            workflow = await client.workflows.get(workflow_id)
        if settings.json:
            emit_json(workflow)
            return
        data = to_jsonable(workflow)
        data.pop("parameters", None)
        show_object(data)
        click.echo("")
        table = TableWriter(["PARAMETER", "TYPE", "REQUIRED", "DEFAULT"])
        for parameter in workflow.parameters:
            default = "" if parameter.default is None else repr(parameter.default)
            table.add(parameter.name, parameter.type, "yes" if parameter.required else "", default)
        table.close()

    run_async(go)


_download_option = click.option(
    "--download",
    "download",
    type=click.Path(path_type=Path),
    help="Save the output image to this file (or into this directory).",
)


@workflows.command("execute")
@click.argument("workflow_id")
@params_options
@click.option("--idempotency-key", help="Make a re-run of this command run the workflow once.")
@_download_option
@json_option
@pass_settings
def execute(
    settings: Settings,
    workflow_id: str,
    params: tuple[str, ...],
    params_file: str | None,
    idempotency_key: str | None,
    download: Path | None,
) -> None:
    """Execute a workflow in one request (sync mode) and show the finished execution."""
    parameters = load_parameters(params, params_file)

    async def go() -> None:
        transfers = Transfers()
        async with settings.client(trace_configs=[transfers.trace_config]) as client:
            execution = await client.workflows.execute(
                workflow_id, parameters, idempotency_key=idempotency_key
            )
            await show_execution(client, settings, execution, download, transfers)

    run_async(go)


@workflows.command("run")
@click.argument("workflow_id")
@params_options
@click.option("--idempotency-key", help="Make a re-run of this command run the workflow once.")
@click.option(
    "--wait-timeout", type=click.FloatRange(min=0), help="Give up waiting after this many seconds."
)
@click.option("--poll-interval", type=click.FloatRange(min=0.01), default=1.0, show_default=True)
@click.option("--no-wait", is_flag=True, help="Submit and print the pending execution only.")
@_download_option
@json_option
@pass_settings
def run(
    settings: Settings,
    workflow_id: str,
    params: tuple[str, ...],
    params_file: str | None,
    idempotency_key: str | None,
    wait_timeout: float | None,
    poll_interval: float,
    no_wait: bool,
    download: Path | None,
) -> None:
    """Submit a workflow (async mode), wait for it with a spinner, show the result."""
    parameters = load_parameters(params, params_file)
    key = idempotency_key or uuid.uuid4().hex

    async def go() -> None:
        transfers = Transfers()
        async with settings.client(trace_configs=[transfers.trace_config]) as client:
            execution = await client.workflows.submit(workflow_id, parameters, idempotency_key=key)
            if not no_wait:
                with wait_display(execution.id) as on_update:
                    execution = await client.executions.wait(
                        execution,
                        timeout=wait_timeout,
                        poll_interval=poll_interval,
                        max_poll_interval=max(10.0, poll_interval),
                        on_update=on_update,
                    )
            await show_execution(client, settings, execution, download, transfers)

    run_async(go)


async def show_execution(
    client: FloImg,
    settings: Settings,
    execution: Execution,
    download: Path | None,
    transfers: Transfers,
) -> None:
    """Print an execution, after saving its output image when ``download`` is given."""
    saved: Path | None = None
    if download is not None and execution.output is not None and execution.output.url:
        async with transfers.download(execution.id, download):
            result = await client.images.download(execution.output, download)
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
        click.echo(f"saved to {saved}")
