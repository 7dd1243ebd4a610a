"""The benchmark baselines do the work they claim, against the bench server itself.

A ratio is only as honest as its baseline: the listing's raw loops must yield
every item, and the "same models" loop must build exactly the models the SDK
yields, or the comparison in benchmarks/README.md would be unfair. The bench
app runs in-process on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from _support import LocalServer

from benchmarks._harness import raw_session
from benchmarks._server import API_KEY, make_app
from benchmarks.scenarios.calls import raw_get
from benchmarks.scenarios.listing import PAGE, raw_items, raw_model_items, sdk_items
from floimg_async import FloImg, Workflow, WorkflowSummary

COUNT = 3 * PAGE + 17  # crosses page boundaries and stops mid-page


@pytest.fixture
async def bench_url() -> AsyncIterator[str]:
    server = LocalServer(make_app())
    await server.start()
    try:
        yield server.base_url
    finally:
        await server.close()


async def test_listing_baselines_yield_what_the_sdk_yields(bench_url: str) -> None:
    async with FloImg(api_key=API_KEY, base_url=bench_url) as client:
        sdk = [item async for item in sdk_items(client, COUNT)]
    async with raw_session() as session:
        dicts = [item async for item in raw_items(session, bench_url, API_KEY, COUNT)]
        models = [item async for item in raw_model_items(session, bench_url, API_KEY, COUNT)]
    assert len(sdk) == len(dicts) == COUNT
    assert [d["id"] for d in dicts] == [m.id for m in sdk]
    assert all(isinstance(m, WorkflowSummary) for m in models)
    assert models == sdk
    assert all(m.created_at is not None and m.created_at.tzinfo is not None for m in models)


async def test_call_baseline_decodes_the_body_the_sdk_decodes(bench_url: str) -> None:
    async with raw_session() as session:
        raw = await raw_get(session, bench_url, API_KEY)()
    async with FloImg(api_key=API_KEY, base_url=bench_url) as client:
        workflow = await client.workflows.get("wf_x")
    assert isinstance(workflow, Workflow)
    assert raw["id"] == workflow.id == "wf_x"
    assert [p["name"] for p in raw["parameters"]] == [p.name for p in workflow.parameters]
