"""``floimg images upload|list|get|delete|download`` (the API's ``/storage`` endpoints)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import Image, ResponseDecodeError
from ._command import FloimgGroup
from ._context import Settings, pass_settings, run_async
from ._failures import NotDeletedError, Outcomes
from ._files import check_destination, download_target
from ._options import listing_options, print_listing
from ._output import emit_json, safe_text, show_object
from ._progress import Transfers

__all__ = ["images"]


@click.group(cls=FloimgGroup)
def images() -> None:
    """Upload, list, inspect, delete and download stored images.

    Commands that take several items (upload, delete, download) try every one,
    report each failure by name (and as a JSON line with an "error" object under
    --json), and exit with the status of the first failure.
    """


@images.command("upload")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--name", help="Name to store the image under (one file only).")
@click.option("--project-id", help="Project to store the images in.")
@click.option("--content-type", help="Content type (default: guessed from the file name).")
@pass_settings
def upload(
    settings: Settings,
    files: tuple[Path, ...],
    name: str | None,
    project_id: str | None,
    content_type: str | None,
) -> None:
    """Upload image files (streamed, with a progress bar in a terminal).

    Every file must exist before anything is sent. A file the API refuses does
    not stop the others.
    """
    if name is not None and len(files) > 1:
        raise click.BadParameter("--name needs exactly one file", param_hint="'--name'")
    outcomes = Outcomes(settings, "uploads")

    async def go() -> None:
        transfers = Transfers()
        async with settings.client() as client:
            for path in files:
                try:
                    with transfers.track(path.name, path.stat().st_size) as on_progress:
                        image = await client.images.upload(
                            path,
                            name=name,
                            project_id=project_id,
                            content_type=content_type,
                            on_progress=on_progress,
                        )
                except Exception as exc:
                    outcomes.failure(str(path), exc, {"file": str(path)})
                    continue
                _print_image(settings, image, first=outcomes.total == 0)
                outcomes.succeeded()

    run_async(go)
    outcomes.finish()


def _print_image(settings: Settings, image: Image, *, first: bool = True) -> None:
    if settings.json:
        emit_json(image)
        return
    if not first:
        click.echo("")  # a blank line between the blocks of several images
    show_object(image)


@images.command("list")
@click.option("--project-id", help="Only the images of this project.")
@listing_options
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
@pass_settings
def delete_images(settings: Settings, image_ids: tuple[str, ...]) -> None:
    """Delete images (no confirmation: scripts and CI call this).

    Every id is tried; one that fails (not found, say) does not stop the rest.
    """
    outcomes = Outcomes(settings, "deletions")

    async def go() -> None:
        async with settings.client() as client:
            for image_id in image_ids:
                try:
                    deleted = await client.images.delete(image_id)
                    if not deleted:
                        raise NotDeletedError("the API did not confirm the deletion")
                except Exception as exc:
                    outcomes.failure(image_id, exc, {"id": image_id, "deleted": False})
                    continue
                outcomes.succeeded()
                if settings.json:
                    emit_json({"id": image_id, "deleted": True})
                else:
                    click.echo(safe_text(f"deleted {image_id}"))

    run_async(go)
    outcomes.finish()


def _is_url(text: str) -> bool:
    return "://" in text or text.startswith("/")


@images.command("download")
@click.argument("images_or_urls", nargs=-1, required=True, metavar="IMAGE_ID_OR_URL...")
@click.option(
    "-o",
    "--out",
    "dest",
    default=".",
    show_default=True,
    metavar="PATH",
    help=(
        "File to write (one image), or folder to save into under each image's own name. "
        "A PATH ending in / is a folder, created if missing; so is any PATH given "
        "several images."
    ),
)
@pass_settings
def download(settings: Settings, images_or_urls: tuple[str, ...], dest: str) -> None:
    """Download images by id or URL (streamed to disk, never held in memory).

    Every image is tried; one that fails does not stop the rest.
    """
    many = len(images_or_urls) > 1
    check_destination(dest, folder=many)  # one destination for all: fail before any request
    outcomes = Outcomes(settings, "downloads")

    written: dict[Path, tuple[str, str]] = {}  # file → (item, URL) saved there by this run

    async def go() -> None:
        transfers = Transfers()
        async with settings.client() as client:
            for ref in images_or_urls:
                try:
                    source: Image | str = ref if _is_url(ref) else await client.images.get(ref)
                    url = source if isinstance(source, str) else source.url
                    if not url:
                        raise ResponseDecodeError(f"the API gave image {ref!r} no URL", status=200)
                    target = download_target(dest, url, folder=many)
                    earlier = written.get(target)
                    if earlier is not None and earlier[1] != url:
                        # Two images, one file name: the second would silently replace the
                        # first, and both would be reported as saved there.
                        raise FileExistsError(
                            f"{str(target)!r} already holds {earlier[0]!r} from this command "
                            "(another image with the same file name); download it separately "
                            "to another path"
                        )
                    written[target] = (ref, url)
                    with transfers.track(ref) as on_progress:
                        saved = await client.images.download(
                            source, target, on_progress=on_progress
                        )
                except Exception as exc:
                    outcomes.failure(ref, exc, {"image": ref})
                    continue
                outcomes.succeeded()
                assert isinstance(saved, Path)
                if settings.json:
                    emit_json({"image": ref, "file": str(saved)})
                else:
                    click.echo(safe_text(f"{ref} -> {saved}"))

    run_async(go)
    outcomes.finish()
