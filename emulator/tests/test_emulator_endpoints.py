"""Every endpoint's happy path and response shapes, through real HTTP."""

from __future__ import annotations

import io

import pytest
from PIL import Image

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def assert_api_headers(reply) -> None:
    assert reply.headers["X-Request-Id"].startswith("req_")
    for name in RATE_HEADERS:
        assert reply.headers[name].isdigit(), name


async def test_list_workflows_shape_and_seed(api) -> None:
    reply = await api.get("/workflows")
    assert reply.status == 200
    assert_api_headers(reply)
    body = reply.body
    ids = [w["id"] for w in body["workflows"]]
    for wanted in ("wf_social_card", "wf_thumbnail", "wf_captioned_photo", "wf_flaky"):
        assert wanted in ids
    assert body["total"] == len(ids)
    assert body["hasMore"] is False
    first = body["workflows"][0]
    assert set(first) >= {"id", "name", "projectId", "createdAt", "updatedAt"}
    assert first["createdAt"].endswith("Z")


async def test_get_workflow_has_parameter_schema(api) -> None:
    reply = await api.get("/workflows/wf_social_card")
    assert reply.status == 200
    params = {p["name"]: p for p in reply.body["parameters"]}
    assert params["prompt"]["type"] == "string" and params["prompt"]["required"] is True
    assert params["width"]["default"] == 1200 and params["height"]["default"] == 630
    assert params["width"]["type"] == "number"
    assert "theme" in params and params["theme"]["required"] is False


async def test_get_unknown_workflow_is_404(api) -> None:
    reply = await api.get("/workflows/wf_nope")
    assert reply.status == 404
    assert reply.error["code"] == "not_found"
    assert_api_headers(reply)


async def test_workflow_paging_over_hundreds(floimg_emulator_factory, api_for) -> None:
    api = api_for(await floimg_emulator_factory(extra_workflows=250))
    seen: list[str] = []
    offset = 0
    for _ in range(10):  # 255 items, pages of 100
        reply = await api.get("/workflows", params={"limit": 100, "offset": offset})
        body = reply.body
        seen += [w["id"] for w in body["workflows"]]
        offset += len(body["workflows"])
        if not body["hasMore"]:
            break
    assert body["total"] == 255 == len(seen) == len(set(seen))
    assert "wf_gen_0250" in seen
    reply = await api.get("/workflows", params={"limit": 5, "offset": 253})
    assert [len(reply.body["workflows"]), reply.body["hasMore"]] == [2, False]


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", "2.5"])
async def test_bad_limit_is_400(api, limit: str) -> None:
    reply = await api.get("/workflows", params={"limit": limit})
    assert reply.status == 400
    assert reply.error["code"] == "invalid_request"
    assert reply.error["details"]["field"] == "limit"


async def test_default_limit_and_project_filter(floimg_emulator_factory, api_for) -> None:
    api = api_for(await floimg_emulator_factory(extra_workflows=30))
    reply = await api.get("/workflows")
    assert len(reply.body["workflows"]) == 20 and reply.body["hasMore"] is True
    reply = await api.get("/workflows", params={"projectId": "proj_default", "limit": 100})
    assert reply.body["total"] == 35
    reply = await api.get("/workflows", params={"projectId": "proj_other"})
    assert reply.body == {"workflows": [], "total": 0, "hasMore": False}


async def test_projects_list_and_create(api) -> None:
    reply = await api.get("/projects")
    assert reply.status == 200
    assert [p["id"] for p in reply.body["projects"]] == ["proj_default"]
    assert reply.body["total"] == 1 and reply.body["hasMore"] is False
    created = await api.post("/projects", json={"name": "Marketing", "description": "Ads"})
    assert created.status == 201
    project = created.body
    assert project["id"].startswith("proj_") and project["name"] == "Marketing"
    assert project["description"] == "Ads" and project["createdAt"].endswith("Z")
    listed = await api.get("/projects", params={"limit": 1, "offset": 1})
    assert listed.body["projects"] == [project] and listed.body["total"] == 2


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": "  "}, {"name": 5}, {"name": "x", "description": 3}]
)
async def test_create_project_validation(api, body) -> None:
    reply = await api.post("/projects", json=body)
    assert reply.status == 400
    assert reply.error["code"] == "invalid_request"
    assert reply.error["details"]["field"] in ("name", "description")


async def test_bad_json_body_is_400(api) -> None:
    for raw in (b"{not json", b"[1, 2]", b""):
        reply = await api.post(
            "/workflows/execute", data=raw, headers={"Content-Type": "application/json"}
        )
        assert reply.status == 400, raw
        assert reply.error["code"] == "invalid_request"


async def test_unknown_route_is_404_envelope_with_headers(api, http, emu) -> None:
    for reply in (
        await api.get("/nothing/here"),
        await api.get("/nothing/here", key=None),
        await api.get(emu.origin + "/elsewhere"),
    ):
        assert reply.status == 404
        assert reply.error["code"] == "not_found"
        assert_api_headers(reply)


async def test_wrong_method_gets_an_envelope(api) -> None:
    reply = await api.request("PUT", "/projects", json={})
    assert reply.status == 405
    assert reply.error["code"] == "invalid_request"
    assert "GET" in reply.headers["Allow"]


async def test_sync_execute_produces_a_real_png(api) -> None:
    reply = await api.execute("wf_social_card", {"prompt": "Hello", "width": 300, "height": 200})
    assert reply.status == 200
    assert_api_headers(reply)
    body = reply.body
    assert body["status"] == "completed" and body["executionId"].startswith("exec_")
    assert body["output"]["width"] == 300 and body["output"]["height"] == 200
    assert body["output"]["format"] == "png"
    assert isinstance(body["duration"], int) and body["duration"] >= 0
    url = body["output"]["url"]
    assert url.startswith(api.emu.origin + "/files/")
    file = await api.get(url, key=None)  # public, like storage URLs
    assert file.status == 200 and file.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(file.raw))
    assert (image.format, image.size) == ("PNG", (300, 200))
    colors = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colors is not None and len(colors) > 50  # a gradient with text, not a flat fill


async def test_execution_outputs_are_listed_images(api) -> None:
    run = (await api.execute("wf_social_card", {"prompt": "Listed"})).body
    images = (await api.get("/storage/images")).body["images"]
    assert [i["url"] for i in images] == [run["output"]["url"]]


async def test_image_get_list_delete_and_files(api, make_image) -> None:
    uploaded = (await api.upload(make_image(40, 30), filename="a.png")).body
    other = (await api.upload(make_image(10, 10, "JPEG"), filename="b.jpg", name="B")).body
    listed = await api.get("/storage/images")
    assert listed.status == 200
    assert [i["id"] for i in listed.body["images"]] == [uploaded["id"], other["id"]]
    assert listed.body["total"] == 2 and listed.body["hasMore"] is False
    page = await api.get("/storage/images", params={"limit": 1})
    assert page.body["hasMore"] is True and len(page.body["images"]) == 1
    got = await api.get(f"/storage/images/{other['id']}")
    assert got.body == other and other["name"] == "B" and other["format"] == "jpeg"
    file = await api.get(other["url"], key=None)
    assert file.headers["Content-Type"] == "image/jpeg" and file.raw[:2] == b"\xff\xd8"
    deleted = await api.delete(f"/storage/images/{other['id']}")
    assert deleted.status == 200 and deleted.body == {"deleted": True}
    assert (await api.get(f"/storage/images/{other['id']}")).status == 404
    assert (await api.delete(f"/storage/images/{other['id']}")).status == 404
    gone = await api.get(other["url"], key=None)
    assert gone.status == 404 and gone.error["code"] == "not_found"
    assert (await api.get(api.emu.origin + "/files/../../etc/passwd", key=None)).status == 404


async def test_images_filter_by_project(api, make_image) -> None:
    project = (await api.post("/projects", json={"name": "P"})).body
    await api.upload(make_image(), project_id=project["id"])
    await api.upload(make_image())
    reply = await api.get("/storage/images", params={"projectId": project["id"]})
    assert reply.body["total"] == 1
    assert reply.body["images"][0]["projectId"] == project["id"]
