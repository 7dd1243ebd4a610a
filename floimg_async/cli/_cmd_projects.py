"""``floimg projects list|create``."""

from __future__ import annotations

import click

from ._command import FloimgGroup
from ._context import Settings, pass_settings, run_async
from ._options import listing_options, print_listing
from ._output import emit_json, show_object

__all__ = ["projects"]


@click.group(cls=FloimgGroup)
def projects() -> None:
    """List and create projects."""


@projects.command("list")
@listing_options
@pass_settings
def list_projects(settings: Settings, page_size: int, offset: int, max_items: int | None) -> None:
    """List the account's projects."""

    async def go() -> None:
        async with settings.client() as client:
            pager = client.projects.list(page_size=page_size, offset=offset, max_items=max_items)
            await print_listing(
                pager,
                settings.json,
                ["ID", "NAME", "DESCRIPTION", "CREATED"],
                lambda p: (p.id, p.name, p.description, p.created_at),
            )

    run_async(go)


@projects.command("create")
@click.argument("name")
@click.option("--description", help="What the project is for.")
@click.option("--idempotency-key", help="Make a re-run of this command create one project.")
@pass_settings
def create_project(
    settings: Settings, name: str, description: str | None, idempotency_key: str | None
) -> None:
    """Create a project."""

    async def go() -> None:
        async with settings.client() as client:
            project = await client.projects.create(
                name, description=description, idempotency_key=idempotency_key
            )
        if settings.json:
            emit_json(project)
        else:
            show_object(project)

    run_async(go)
