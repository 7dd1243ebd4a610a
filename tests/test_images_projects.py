"""Images and projects over MockTransport: shapes the pure parts can't show."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from _support import API_KEY, BASE_URL, FakeSleep, MockAPI

from floimg_async import FloImg, NotFoundError, Project


@pytest.fixture
def mock() -> MockAPI:
    """Canned answers over the SDK's MockTransport (no sockets, no aioresponses)."""
    return MockAPI()


@pytest.fixture
async def client(mock: MockAPI, fake_sleep: FakeSleep) -> AsyncIterator[FloImg]:
    async with FloImg(API_KEY, base_url=BASE_URL, sleep=fake_sleep, transport=mock.transport) as c:
        yield c


async def test_projects_list_accepts_envelope(mock: MockAPI, client: FloImg) -> None:
    with mock:
        mock.get(
            f"{BASE_URL}/projects?limit=20&offset=0",
            payload={"projects": [{"id": "p1", "name": "A"}], "total": 1, "hasMore": False},
        )
        projects = await client.projects.list().to_list()
    assert projects == [Project("p1", "A")]


async def test_projects_list_accepts_a_bare_list(mock: MockAPI, client: FloImg) -> None:
    with mock:
        mock.get(f"{BASE_URL}/projects?limit=2&offset=0", payload=[{"id": "p1"}, {"id": "p2"}])
        mock.get(f"{BASE_URL}/projects?limit=2&offset=2", payload=[{"id": "p3"}])
        ids = [p.id async for p in client.projects.list(page_size=2)]
    assert ids == ["p1", "p2", "p3"]


async def test_projects_create(mock: MockAPI, client: FloImg) -> None:
    url = f"{BASE_URL}/projects"
    with mock:
        mock.post(
            url,
            payload={
                "id": "proj_1",
                "name": "Marketing",
                "description": "d",
                "createdAt": "2026-01-01T00:00:00Z",
            },
        )
        project = await client.projects.create("Marketing", description="d")
        (call,) = mock.sent("POST", url)
    assert json.loads(call.body) == {"name": "Marketing", "description": "d"}
    assert call.headers["Idempotency-Key"]
    assert project.id == "proj_1" and project.created_at is not None


async def test_projects_create_needs_a_name(client: FloImg) -> None:
    with pytest.raises(ValueError, match="name"):
        await client.projects.create("  ")


async def test_images_get_delete_and_not_found(mock: MockAPI, client: FloImg) -> None:
    with mock:
        mock.get(f"{BASE_URL}/storage/images/img_1", payload={"id": "img_1", "size": 10})
        mock.delete(f"{BASE_URL}/storage/images/img_1", payload={"deleted": True})
        mock.get(
            f"{BASE_URL}/storage/images/img_2",
            status=404,
            payload={"error": {"code": "not_found", "message": "Image img_2 doesn't exist"}},
        )
        assert (await client.images.get("img_1")).size == 10
        assert await client.images.delete("img_1") is True
        with pytest.raises(NotFoundError, match="img_2"):
            await client.images.get("img_2")


async def test_images_list_with_project(mock: MockAPI, client: FloImg) -> None:
    with mock:
        mock.get(
            f"{BASE_URL}/storage/images?limit=1&offset=0&projectId=p",
            payload={"images": [{"id": "img_1"}], "total": 2, "hasMore": True},
        )
        mock.get(
            f"{BASE_URL}/storage/images?limit=1&offset=1&projectId=p",
            payload={"images": [{"id": "img_2"}], "total": 2, "hasMore": False},
        )
        images = await client.images.list(project_id="p", page_size=1).to_list()
    assert [i.id for i in images] == ["img_1", "img_2"]


@pytest.mark.parametrize("missing", ["does/not/exist.png"])
async def test_upload_of_a_missing_path_is_a_value_error(
    mock: MockAPI, client: FloImg, missing: str
) -> None:
    with mock, pytest.raises(ValueError, match="does not exist"):
        await client.images.upload(missing)
    assert not mock.transport.requests


async def test_upload_of_a_directory_is_a_value_error(client: FloImg, tmp_path) -> None:
    with pytest.raises(ValueError, match="not a regular file"):
        await client.images.upload(tmp_path)


async def test_upload_of_text_is_a_type_error(client: FloImg) -> None:
    with pytest.raises(TypeError, match="path"):
        await client.images.upload(12345)  # type: ignore[arg-type]


async def test_download_needs_a_url(client: FloImg) -> None:
    from floimg_async import ExecutionOutput

    with pytest.raises(ValueError, match="no URL"):
        await client.images.download(ExecutionOutput())
