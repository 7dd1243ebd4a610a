"""``floimg workflows list|get|execute|run``."""

from __future__ import annotations

import uuid
from typing import Any

import click

from .. import FloImg
from ._command import FloimgGroup
from ._context import Settings, pass_settings, run_async
from ._execution import ExecutionWatch, show_execution
from ._files import check_destination
from ._options import FiniteFloatRange, listing_options, params_options, print_listing
from ._output import TableWriter, emit_json, json_text, show_object, to_jsonable
from ._params import ParsedParameters, parse_parameters
from ._progress import Transfers, wait_display

__all__ = ["typed_parameters", "workflows"]


@click.group(cls=FloimgGroup)
def workflows() -> None:
    """List, inspect and execute workflows."""


@workflows.command("list")
@click.option("--project-id", help="Only the workflows of this project.")
@listing_options
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
            default = "" if parameter.default is None else json_text(parameter.default)
            table.add(parameter.name, parameter.type, "yes" if parameter.required else "", default)
        table.close()

    run_async(go)


_download_option = click.option(
    "--download",
    "download",
    metavar="PATH",
    help=(
        "Save the output image to this file, or into this folder under its own name "
        "(a PATH ending in / is a folder, created if missing)."
    ),
)


async def typed_parameters(
    client: FloImg, workflow_id: str, parsed: ParsedParameters
) -> dict[str, Any]:
    """The parameters to send, typed by the workflow's schema when a value is ambiguous.

    Costs one GET /workflows/{id}, and only when some ``key=value`` reads as a
    number, a boolean or null.
    """
    if not parsed.ambiguous:
        return parsed.resolve()
    workflow = await client.workflows.get(workflow_id)
    return parsed.resolve({p.name: p.type for p in workflow.parameters})


@workflows.command("execute")
@click.argument("workflow_id")
@params_options
@click.option(
    "--idempotency-key",
    help="Make a re-run of this command run the workflow once (default: a new random key).",
)
@_download_option
@pass_settings
def execute(
    settings: Settings,
    workflow_id: str,
    params: tuple[str, ...],
    params_file: str | None,
    idempotency_key: str | None,
    download: str | None,
) -> None:
    """Execute a workflow in one request (sync mode) and show the finished execution.

    If the request is interrupted or its connection fails, the idempotency key to
    re-run it with is printed, so the workflow still runs at most once.
    """
    parsed = parse_parameters(params, params_file)
    if download is not None:
        check_destination(download)  # before the paid work, not after it
    key = idempotency_key or uuid.uuid4().hex
    watch = ExecutionWatch(settings, download=download, idempotency_key=key)

    async def go() -> None:
        transfers = Transfers()
        async with settings.client() as client:
            parameters = await typed_parameters(client, workflow_id, parsed)
            execution = await client.workflows.execute(workflow_id, parameters, idempotency_key=key)
            watch.seen(execution)
            await show_execution(client, settings, execution, download, transfers)

    watch.run(go)


@workflows.command("run")
@click.argument("workflow_id")
@params_options
@click.option(
    "--idempotency-key",
    help="Make a re-run of this command run the workflow once (default: a new random key).",
)
@click.option(
    "--wait-timeout",
    type=FiniteFloatRange(min=0),
    metavar="SECONDS",
    help="Give up waiting after this many seconds.",
)
@click.option(
    "--poll-interval",
    type=FiniteFloatRange(min=0.01),
    metavar="SECONDS",
    default=1.0,
    show_default=True,
    help="Seconds between the first status checks (backing off to 10).",
)
@click.option("--no-wait", is_flag=True, help="Submit and print the pending execution only.")
@_download_option
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
    download: str | None,
) -> None:
    """Submit a workflow (async mode), wait for it with a spinner, show the result.

    If the wait is interrupted (Ctrl-C), times out or fails, the execution id and
    the command that picks it up are printed: floimg executions wait ID.
    """
    parsed = parse_parameters(params, params_file)
    if download is not None:
        check_destination(download)  # before the paid work, not after it
    key = idempotency_key or uuid.uuid4().hex
    watch = ExecutionWatch(settings, download=download, idempotency_key=key)

    async def go() -> None:
        transfers = Transfers()
        async with settings.client() as client:
            parameters = await typed_parameters(client, workflow_id, parsed)
            execution = await client.workflows.submit(workflow_id, parameters, idempotency_key=key)
            watch.seen(execution)
            if not no_wait:
                with wait_display(execution.id) as on_update:
                    watch.on_display = on_update
                    execution = await client.executions.wait(
                        execution,
                        timeout=wait_timeout,
                        poll_interval=poll_interval,
                        max_poll_interval=max(10.0, poll_interval),
                        on_update=watch.seen,
                    )
            await show_execution(client, settings, execution, download, transfers)

    watch.run(go)
