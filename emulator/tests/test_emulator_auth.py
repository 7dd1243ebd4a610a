"""API keys: 401 without a valid one, 403 without the scope, accounts see only their own data."""

from __future__ import annotations

import pytest
from floimg_emulator import Emulator, KeySpec

KEYS = {
    "fsk_test_ro": KeySpec(account="acct_default", scopes=("workflows:read",)),
    "fsk_test_exec": KeySpec(account="acct_default", scopes=("workflows:execute",)),
    "fsk_test_store": KeySpec(account="acct_default", scopes=("storage:read", "storage:write")),
    "fsk_test_other": KeySpec(account="acct_other"),
}


@pytest.fixture
async def keyed(floimg_emulator_factory, api_for):
    return api_for(await floimg_emulator_factory(keys=KEYS))


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer fsk_test_wrong", "fsk_test_x"]
)
async def test_missing_or_bad_key_is_401(api, header) -> None:
    headers = {} if header is None else {"Authorization": header}
    reply = await api.get("/workflows", key=None, headers=headers)
    assert reply.status == 401
    assert reply.error["code"] == "unauthorized"
    assert "fsk_test_wrong" not in reply.raw.decode()
    assert reply.headers["X-Request-Id"].startswith("req_")


async def test_default_key_looks_like_a_test_key(emu: Emulator) -> None:
    assert emu.api_key.startswith("fsk_test_") and len(emu.api_key) > 20


async def test_configured_api_key_is_used(floimg_emulator_factory, api_for) -> None:
    emu = await floimg_emulator_factory(api_key="fsk_test_mine")
    assert emu.api_key == "fsk_test_mine"
    assert (await api_for(emu).get("/workflows")).status == 200


@pytest.mark.parametrize(
    ("key", "method", "path", "allowed"),
    [
        ("fsk_test_ro", "GET", "/workflows", True),
        ("fsk_test_ro", "GET", "/workflows/wf_flaky", True),
        ("fsk_test_ro", "POST", "/workflows/execute", False),
        ("fsk_test_ro", "GET", "/storage/images", False),
        ("fsk_test_ro", "GET", "/projects", True),
        ("fsk_test_ro", "POST", "/projects", False),
        ("fsk_test_exec", "POST", "/workflows/execute", True),
        ("fsk_test_exec", "GET", "/workflows", False),
        ("fsk_test_exec", "POST", "/projects", True),
        ("fsk_test_store", "GET", "/storage/images", True),
        ("fsk_test_store", "POST", "/workflows/execute", False),
        ("fsk_test_store", "GET", "/projects", True),
        ("fsk_test_store", "POST", "/projects", True),
    ],
)
async def test_scopes(keyed, key, method, path, allowed) -> None:
    body = {"workflowId": "wf_flaky"} if path.endswith("execute") else {"name": "P"}
    kwargs = {"json": body} if method == "POST" else {}
    reply = await keyed.request(method, path, key=key, **kwargs)
    if allowed:
        assert reply.status in (200, 201), reply.raw
    else:
        assert reply.status == 403
        assert reply.error["code"] == "forbidden"
        assert reply.error["details"]["requiredScopes"]


async def test_execution_status_needs_read_or_execute(keyed) -> None:
    run = await keyed.execute("wf_flaky", key="fsk_test_exec", run_async=True)
    path = f"/workflows/executions/{run.body['executionId']}"
    assert (await keyed.get(path, key="fsk_test_exec")).status == 200
    assert (await keyed.get(path, key="fsk_test_ro")).status == 200
    assert (await keyed.get(path, key="fsk_test_store")).status == 403


async def test_upload_and_delete_need_storage_write(keyed, make_image) -> None:
    assert (await keyed.upload(make_image(), key="fsk_test_ro")).status == 403
    image = (await keyed.upload(make_image(), key="fsk_test_store")).body
    assert (await keyed.delete(f"/storage/images/{image['id']}", key="fsk_test_ro")).status == 403


async def test_accounts_are_isolated(keyed, make_image) -> None:
    mine = (await keyed.upload(make_image())).body
    run = (await keyed.execute("wf_flaky", run_async=True)).body
    project = (await keyed.post("/projects", json={"name": "Mine"})).body
    other = "fsk_test_other"
    assert (await keyed.get(f"/storage/images/{mine['id']}", key=other)).status == 404
    assert (await keyed.delete(f"/storage/images/{mine['id']}", key=other)).status == 404
    path = f"/workflows/executions/{run['executionId']}"
    assert (await keyed.get(path, key=other)).status == 404
    assert (await keyed.get("/storage/images", key=other)).body["total"] == 0
    projects = (await keyed.get("/projects", key=other)).body["projects"]
    assert project["id"] not in [p["id"] for p in projects]
    assert [p["id"] for p in projects] == ["proj_default"]
    # the other account has its own copy of the seeded workflows
    assert (await keyed.get("/workflows/wf_social_card", key=other)).status == 200
    image_param = {"imageId": mine["id"]}
    reply = await keyed.execute("wf_thumbnail", image_param, key=other)
    assert reply.status == 400 and reply.error["details"]["field"] == "imageId"
    upload = await keyed.upload(make_image(), key=other, project_id=project["id"])
    assert upload.status == 400 and upload.error["details"]["field"] == "projectId"
    # the owner still sees everything
    assert (await keyed.get(f"/storage/images/{mine['id']}")).status == 200


async def test_add_key_at_run_time(api) -> None:
    await api.emu.add_key("fsk_test_late", KeySpec(account="acct_late", scopes=("all",)))
    reply = await api.get("/projects", key="fsk_test_late")
    assert reply.status == 200 and reply.body["total"] == 1


async def test_files_and_admin_need_no_key(api) -> None:
    run = (await api.execute("wf_flaky")).body
    assert (await api.get(run["output"]["url"], key=None)).status == 200
    assert (await api.get(api.emu.origin + "/_emulator/stats", key=None)).status == 200


def test_bad_key_specs_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown scope"):
        KeySpec(scopes=("workflows:write",))
    with pytest.raises(ValueError, match="non-loopback"):
        Emulator(host="0.0.0.0")
    with pytest.raises(ValueError):
        Emulator(fault_rate=2)
