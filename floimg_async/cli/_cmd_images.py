"""``floimg images upload|list|get|delete|download`` (the API's ``/storage`` endpoints)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import Image
from ._context import Settings, json_option, pass_settings, run_async
from ._options import listing_options, print_listing
from ._output import emit_json, show_object
from ._progress import Transfers

__all__ = ["images"]


@click.group()
def images() -> None:
    """Upload, list, inspect, delete and download stored images."""


@images.command("upload")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--name", help="Name to store the image under (one file only).")
@click.option("--project-id", help="Project to store the images in.")
@click.option("--content-type", help="Content type (default: guessed from the file name).")
@json_option
@pass_settings
def upload(
    settings: Settings,
    files: tuple[Path, ...],
    name: str | None,
    project_id: str | None,
    content_type: str | None,
) -> None:
    """Upload image files (streamed, with a progress bar in a terminal)."""
    if name is not None and len(files) > 1:
        raise click.BadParameter("--name needs exactly one file", param_hint="'--name'")

    async def go() -> None:
        transfers = Transfers()
        async with settings.client(trace_configs=[transfers.trace_config]) as client:
            for path in files:
                with transfers.upload(path.name, path.stat().st_size):
                    image = await client.images.upload(
                        path, name=name, project_id=project_id, content_type=content_type
                    )
                _print_image(settings, image)

    run_async(go)


def _print_image(settings: Settings, image: Image) -> None:
    if settings.json:
        emit_json(image)
    else:
        show_object(image)


@images.command("list")
@click.option("--project-id", help="Only the images of this project.")
@listing_options
@json_option
@pass_settings
def list_images(
    settings: Settings, project_id: str | None, page_size: int, offset: int, max_items: int | None
) -> None:
    """List stored images."""

    async def go() -> None:
        async with settings.client() as client:
            pager = client.images.list(
                project_id=project_id, page_size=page_size, offset=offset, max_items=max_items
            )
            await print_listing(
                pager,
                settings.json,
                ["ID", "NAME", "FORMAT", "SIZE", "BYTES", "CREATED"],
                lambda i: (
                    i.id,
                    i.name,
                    i.format,
                    f"{i.width}x{i.height}" if i.width and i.height else None,
                    i.size,
                    i.created_at,
                ),
            )

    run_async(go)


@images.command("get")
@click.argument("image_id")
@json_option
@pass_settings
def get_image(settings: Settings, image_id: str) -> None:
    """Show one image's details."""

    async def go() -> None:
        async with settings.client() as client:
            image = await client.images.get(image_id)
        _print_image(settings, image)

    run_async(go)


@images.command("delete")
@click.argument("image_ids", nargs=-1, required=True)
@json_option
@pass_settings
def delete_images(settings: Settings, image_ids: tuple[str, ...]) -> None:
    """Delete images (no confirmation: scripts and CI call this)."""

    async def go() -> None:
        async with settings.client() as client:
            for image_id in image_ids:
                deleted = await client.images.delete(image_id)
                if settings.json:
                    emit_json({"id": image_id, "deleted": deleted})
                else:
                    click.echo(f"{'deleted' if deleted else 'not deleted'} {image_id}")

    run_async(go)


def _is_url(text: str) -> bool:
    return "://" in text or text.startswith("/")


@images.command("download")
@click.argument("images_or_urls", nargs=-1, required=True, metavar="IMAGE_ID_OR_URL...")
@click.option(
    "-o",
    "--out",
    "dest",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="File to write (one image), or directory to save into.",
)
@json_option
@pass_settings
def download(settings: Settings, images_or_urls: tuple[str, ...], dest: Path) -> None:
    """Download images by id or URL (streamed to disk, never held in memory)."""
    if len(images_or_urls) > 1:
        dest.mkdir(parents=True, exist_ok=True)

    async def go() -> None:
        transfers = Transfers()
        async with settings.client(trace_configs=[transfers.trace_config]) as client:
            for ref in images_or_urls:
                source: Image | str = ref if _is_url(ref) else await client.images.get(ref)
                async with transfers.download(ref, dest):
                    saved = await client.images.download(source, dest)
                assert isinstance(saved, Path)
                if settings.json:
                    emit_json({"image": ref, "file": str(saved)})
                else:
                    click.echo(f"{ref} -> {saved}")

    run_async(go)
