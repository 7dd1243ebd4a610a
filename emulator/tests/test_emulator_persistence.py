"""State survives a restart with a data dir; without one, nothing is left behind."""

from __future__ import annotations

import asyncio


async def test_everything_survives_a_restart(
    tmp_path, floimg_emulator_factory, api_for, make_image
):
    emu = await floimg_emulator_factory(data_dir=tmp_path)
    api = api_for(emu)
    key = emu.api_key
    image = (await api.upload(make_image(32, 16), filename="keep.png")).body
    project = (await api.post("/projects", json={"name": "Kept"})).body
    run = (await api.execute("wf_flaky", {"prompt": "kept"})).body
    await emu.stop()
    assert (tmp_path / "emulator.sqlite3").exists()

    emu2 = await floimg_emulator_factory(data_dir=tmp_path)
    api2 = api_for(emu2)
    assert emu2.api_key == key  # the generated key is kept in the data dir
    got = (await api2.get(f"/storage/images/{image['id']}")).body
    assert got | {"url": None} == image | {"url": None}
    assert got["url"].startswith(emu2.origin)
    file = await api2.get(got["url"], key=None)
    assert file.status == 200 and file.raw == make_image(32, 16)
    assert project in (await api2.get("/projects")).body["projects"]
    again = (await api2.get(f"/workflows/executions/{run['executionId']}")).body
    assert again["status"] == "completed" and again["startedAt"] == run["startedAt"]
    assert (await api2.get(again["output"]["url"], key=None)).status == 200
    assert (await api2.get("/workflows")).body["total"] == 5  # seeded once, not twice
    assert await emu2.count_executions() == 1


async def test_another_key_sees_the_same_default_account(
    tmp_path, floimg_emulator_factory, api_for
):
    emu = await floimg_emulator_factory(data_dir=tmp_path)
    await api_for(emu).post("/projects", json={"name": "Shared"})
    await emu.stop()
    emu2 = await floimg_emulator_factory(data_dir=tmp_path, api_key="fsk_test_given")
    assert emu2.api_key == "fsk_test_given"
    assert (await api_for(emu2).get("/projects")).body["total"] == 2


async def test_temporary_state_is_removed(floimg_emulator_factory, api_for, make_image):
    emu = await floimg_emulator_factory()
    await api_for(emu).upload(make_image())
    root = emu.data_dir
    assert (root / "images").is_dir()
    await emu.stop()
    assert not root.exists()


async def test_unfinished_executions_resume_after_restart(
    tmp_path, floimg_emulator_factory, api_for
):
    emu = await floimg_emulator_factory(data_dir=tmp_path, execution_time=10)
    submitted = (await api_for(emu).execute("wf_flaky", run_async=True)).body
    await asyncio.sleep(0.05)
    await emu.stop()  # mid-execution

    emu2 = await floimg_emulator_factory(data_dir=tmp_path, execution_time=0.02)
    api2 = api_for(emu2)
    path = f"/workflows/executions/{submitted['executionId']}"
    for _ in range(200):
        body = (await api2.get(path)).body
        if body["status"] == "completed":
            break
        await asyncio.sleep(0.01)
    assert body["status"] == "completed" and body["output"]["url"].startswith(emu2.origin)
    assert await emu2.count_executions() == 1
