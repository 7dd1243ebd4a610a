"""The SDK against the emulator on 127.0.0.1: every endpoint, through real state."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image as PILImage

from floimg_async import (
    Execution,
    ExecutionStatus,
    FloImg,
    ForbiddenError,
    Image,
    InvalidRequestError,
    NotFoundError,
    UnauthorizedError,
    WorkflowFailedError,
)
from floimg_async.emulator import Emulator, KeySpec


def png(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 40, 90)).save(buffer, "PNG")
    return buffer.getvalue()


async def test_projects_create_and_list(floimg_client: FloImg) -> None:
    created = await floimg_client.projects.create("Marketing", description="campaign images")
    listed = await floimg_client.projects.list().to_list()
    assert created.id in {p.id for p in listed}
    mine = next(p for p in listed if p.id == created.id)
    assert (mine.name, mine.description) == ("Marketing", "campaign images")
    assert mine.created_at is not None and mine.created_at.tzinfo is not None


async def test_workflows_list_and_get(floimg_client: FloImg) -> None:
    summaries = await floimg_client.workflows.list().to_list()
    ids = [w.id for w in summaries]
    assert "wf_social_card" in ids and "wf_thumbnail" in ids
    workflow = await floimg_client.workflows.get("wf_social_card")
    params = {p.name: p for p in workflow.parameters}
    assert params["prompt"].required and params["width"].default == 1200
    with pytest.raises(NotFoundError):
        await floimg_client.workflows.get("wf_nope")


async def test_execute_returns_a_finished_execution_with_a_real_image(
    floimg_client: FloImg, tmp_path: Path
) -> None:
    execution = await floimg_client.workflows.execute(
        "wf_social_card", {"prompt": "Hello", "width": 300, "height": 160}
    )
    assert execution.succeeded and execution.output is not None
    assert (execution.output.width, execution.output.height) == (300, 160)
    saved = await floimg_client.images.download(execution.output, tmp_path / "card.png")
    assert isinstance(saved, Path)
    with PILImage.open(saved) as picture:
        assert picture.size == (300, 160) and picture.format == "PNG"


async def test_submit_and_wait_through_real_status_changes(floimg_client: FloImg) -> None:
    seen: list[str] = []
    submitted = await floimg_client.workflows.submit("wf_social_card", {"prompt": "Async"})
    assert submitted.status is ExecutionStatus.PENDING
    done = await floimg_client.executions.wait(
        submitted.id, poll_interval=0.02, max_poll_interval=0.05,
        on_update=lambda e: seen.append(e.status.value),
    )  # fmt: skip
    assert done.succeeded and done.started_at and done.completed_at
    assert done.completed_at >= done.started_at
    assert seen[-1] == "completed" and len(seen) >= 2  # saw it before it finished
    again = await floimg_client.executions.get(done.id)
    assert again.workflow_id == "wf_social_card" and again.output == done.output


async def test_run_and_failures(floimg_client: FloImg) -> None:
    ok = await floimg_client.workflows.run("wf_flaky", {"prompt": "fine"}, timeout=10)
    assert ok.succeeded
    with pytest.raises(WorkflowFailedError) as info:
        await floimg_client.workflows.run("wf_flaky", {"fail": True}, timeout=10)
    failed = info.value.execution
    assert isinstance(failed, Execution) and failed.status is ExecutionStatus.FAILED
    assert "on purpose" in (failed.error or "")
    with pytest.raises(WorkflowFailedError) as sync_info:
        await floimg_client.workflows.execute("wf_flaky", {"fail": True})
    assert sync_info.value.code == "workflow_failed"


async def test_execute_validates_parameters(floimg_client: FloImg) -> None:
    with pytest.raises(InvalidRequestError) as missing:
        await floimg_client.workflows.execute("wf_social_card", {})
    assert missing.value.details.get("field") == "prompt"
    with pytest.raises(InvalidRequestError) as wrong_type:
        await floimg_client.workflows.execute("wf_social_card", {"prompt": "x", "width": "wide"})
    assert wrong_type.value.details.get("field") == "width"
    with pytest.raises(InvalidRequestError) as unknown_image:
        await floimg_client.workflows.execute("wf_thumbnail", {"imageId": "img_missing"})
    assert unknown_image.value.details.get("field") == "imageId"


async def test_upload_list_get_thumbnail_delete(floimg_client: FloImg, tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(png(120, 80))
    image = await floimg_client.images.upload(path)
    assert (image.name, image.width, image.height, image.format) == ("photo.png", 120, 80, "png")
    assert (await floimg_client.images.get(image.id)).size == path.stat().st_size
    thumb = await floimg_client.workflows.run("wf_thumbnail", {"imageId": image.id, "size": 32})
    assert thumb.output is not None and thumb.output.format == "webp"
    listed = [i.id async for i in floimg_client.images.list(page_size=1)]
    assert image.id in listed and len(listed) >= 2  # the upload and the thumbnail
    assert await floimg_client.images.delete(image.id) is True
    with pytest.raises(NotFoundError):
        await floimg_client.images.get(image.id)


async def test_upload_validation_surfaces_as_invalid_request(floimg_client: FloImg) -> None:
    with pytest.raises(InvalidRequestError):
        await floimg_client.images.upload(b"this is not an image", name="fake.png")


async def test_upload_into_a_project_and_filter(floimg_client: FloImg) -> None:
    project = await floimg_client.projects.create("Uploads")
    image = await floimg_client.images.upload(png(), name="in-project.png", project_id=project.id)
    in_project = await floimg_client.images.list(project_id=project.id).to_list()
    assert [i.id for i in in_project] == [image.id]


async def test_keys_scopes_and_account_isolation() -> None:
    keys = {
        "fsk_test_other_account": KeySpec(account="acct_other"),
        "fsk_test_read_only": KeySpec(account="acct_default", scopes=("workflows:read",)),
    }
    async with Emulator(port=0, execution_time=0.01, api_key="fsk_test_main", keys=keys) as emu:
        async with FloImg("fsk_test_main", base_url=emu.base_url) as main:
            image = await main.images.upload(png(), name="mine.png")
        async with FloImg("fsk_test_other_account", base_url=emu.base_url) as other:
            with pytest.raises(NotFoundError):
                await other.images.get(image.id)
        async with FloImg("fsk_test_read_only", base_url=emu.base_url) as read_only:
            assert (await read_only.workflows.get("wf_flaky")).id == "wf_flaky"
            with pytest.raises(ForbiddenError):
                await read_only.workflows.execute("wf_flaky")
        async with FloImg("fsk_test_wrong", base_url=emu.base_url) as wrong:
            with pytest.raises(UnauthorizedError) as info:
                await wrong.workflows.list().to_list()
        assert "fsk_test_wrong" not in str(info.value)


async def test_pagination_over_a_few_hundred_items() -> None:
    async with (
        Emulator(port=0, extra_workflows=320) as emu,
        FloImg(emu.api_key, base_url=emu.base_url) as client,
    ):
        items = await client.workflows.list(page_size=37).to_list()
        pages = [p async for p in client.workflows.list(page_size=100).pages()]
        capped = await client.workflows.list(page_size=100, max_items=150).to_list()
        ahead = await client.workflows.list(page_size=50, prefetch=True).to_list()
    ids = [w.id for w in items]
    assert len(ids) == len(set(ids)) == pages[0].total
    assert len(ids) >= 320
    assert [len(p.items) for p in pages][:-1] == [100] * (len(pages) - 1)
    assert not pages[-1].has_more and all(p.has_more for p in pages[:-1])
    assert [w.id for w in capped] == ids[:150]
    assert [w.id for w in ahead] == ids


async def test_download_streams_to_a_folder(floimg_client: FloImg, tmp_path: Path) -> None:
    image: Image = await floimg_client.images.upload(png(32, 32), name="x.png")
    saved = await floimg_client.images.download(image, tmp_path)
    assert isinstance(saved, Path) and saved.parent == tmp_path
    assert saved.read_bytes() == await floimg_client.images.download(image)
