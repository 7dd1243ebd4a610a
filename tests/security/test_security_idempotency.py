"""Every POST carries an Idempotency-Key: one per call, the same on every retry."""

from __future__ import annotations

import re

from _faultkit import API_KEY, HttpFaultServer, SleepRecorder, settle

from floimg_async import FloImg


async def test_security_each_post_call_has_its_own_key(
    http_server: HttpFaultServer, sleeps: SleepRecorder
) -> None:
    async with FloImg(api_key=API_KEY, base_url=http_server.base_url, sleep=sleeps) as client:
        await client.workflows.execute("wf_1", {"n": 1})
        await client.workflows.execute("wf_1", {"n": 1})
        await client.workflows.submit("wf_1")
        await client.images.upload(b"abc", name="a.png")
        await client.workflows.get("wf_1")
        await client.images.delete("img_1")
    posts = [s for s in http_server.seen if s.method == "POST"]
    keys = [s.headers.get("Idempotency-Key") for s in posts]
    assert len(keys) == 4
    assert all(k and re.fullmatch(r"[0-9a-f]{32}", k) for k in keys), keys
    assert len(set(keys)) == 4, "two calls shared an Idempotency-Key"
    others = [s for s in http_server.seen if s.method != "POST"]
    assert all("Idempotency-Key" not in s.headers for s in others)
    await settle(http_server)


async def test_security_retries_reuse_the_key_and_the_body(
    http_server: HttpFaultServer, sleeps: SleepRecorder
) -> None:
    http_server.set_fault("html_503", budget=3)
    async with FloImg(
        api_key=API_KEY, base_url=http_server.base_url, max_retries=3, sleep=sleeps
    ) as client:
        execution = await client.workflows.execute("wf_1", {"prompt": "p", "seed": 7})
    assert execution.succeeded
    seen = http_server.seen
    assert len(seen) == 4
    assert len({s.headers["Idempotency-Key"] for s in seen}) == 1
    assert len({s.body for s in seen}) == 1
    await settle(http_server)


async def test_security_callers_key_is_sent_verbatim(
    http_server: HttpFaultServer, sleeps: SleepRecorder
) -> None:
    http_server.set_fault("storm_5xx", budget=1)
    async with FloImg(api_key=API_KEY, base_url=http_server.base_url, sleep=sleeps) as client:
        await client.workflows.execute("wf_1", idempotency_key="order-42-render")
        await client.images.upload(b"abc", name="a.png", idempotency_key="upload-42")
        await client.projects.create("Marketing", idempotency_key="proj-42")
    keys = [s.headers["Idempotency-Key"] for s in http_server.seen]
    assert keys == ["order-42-render", "order-42-render", "upload-42", "proj-42"]
    await settle(http_server)
