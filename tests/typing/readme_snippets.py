"""The README's code, as written there, for ``mypy --strict`` (``make typecheck``); never run.

Each function holds one README block unchanged apart from the surrounding
``async def`` (the README shows top-level ``await``). ``assert_type`` lines pin
the narrowing the README relies on: ``run``/``execute``/``wait`` give an
execution whose ``output`` is not optional, ``download`` gives ``bytes`` or a
``Path``, ``run_many`` is an async generator ``aclosing`` accepts, and
``result.ok`` narrows ``result.execution``. If a block here stops type-checking,
fix the README block and this copy together.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import pytest
from aiohttp import web

from floimg_async import (
    CompletedExecution,
    Execution,
    ExecutionOutput,
    FloImg,
    FloImgError,
    NotFoundError,
    RateLimitedError,
    RunFailed,
    RunSucceeded,
    WorkflowFailedError,
)
from floimg_async.emulator import Emulator

if TYPE_CHECKING:
    from typing_extensions import assert_type  # typing.assert_type needs Python 3.11


async def intro() -> None:
    async with FloImg(api_key="fsk_test_…") as client:
        execution = await client.workflows.run("wf_social_card", {"prompt": "Launch day"})
        await client.images.download(execution.output, "card.png")
        assert_type(execution, CompletedExecution)
        assert_type(execution.output, ExecutionOutput)


async def with_options(client: FloImg) -> None:
    quick = client.with_options(timeout=5, max_retries=1, deadline=8)
    workflow = await quick.workflows.get("wf_abc123")
    assert workflow.id


# -- 1. In a web handler, sharing one pool ----------------------------------------------

CLIENT: web.AppKey[FloImg] = web.AppKey("floimg", FloImg)


async def og_card(request: web.Request) -> web.Response:
    client = request.app[CLIENT]
    try:
        execution = await client.workflows.execute(
            "wf_social_card", {"prompt": request.query.get("title", "Hello")}
        )
    except WorkflowFailedError as exc:
        return web.json_response({"error": exc.message}, status=422)
    except FloImgError as exc:
        return web.json_response({"error": str(exc)}, status=502)
    return web.json_response({"url": execution.output.url})


async def client_ctx(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as session:
        app[CLIENT] = FloImg(session=session)  # key and URL from the environment
        yield  # the app owns the session; FloImg never closes it


def make_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(client_ctx)
    app.router.add_get("/og", og_card)
    return app


# -- 2. Bulk generation with run_many ---------------------------------------------------


def parameter_sets() -> Iterator[dict[str, str]]:
    for i in range(10_000):
        yield {"prompt": f"Card {i}"}


async def bulk(client: FloImg) -> None:
    async with contextlib.aclosing(
        client.workflows.run_many("wf_social_card", parameter_sets(), concurrency=32)
    ) as results:
        async for result in results:  # completion order; result.index is the input position
            if result.ok:
                await client.images.download(result.execution.output, f"out/{result.index}.png")
                assert_type(result, RunSucceeded)
            else:
                print(result.index, result.error)  # result.execution is set when one exists
                assert_type(result, RunFailed)
                assert_type(result.execution, Execution | None)


# -- 3. Streaming a long listing --------------------------------------------------------


async def streaming(client: FloImg) -> None:
    async for workflow in client.workflows.list(page_size=100):  # pages fetched as needed
        print(workflow.id, workflow.name)

    async for page in client.images.list(project_id="proj_1").pages():
        print(page.offset, len(page.items), page.total, page.has_more)

    first_ten = await client.projects.list(max_items=10).to_list()
    assert first_ten is not None


# -- Waiting for executions, downloads --------------------------------------------------


async def waiting(client: FloImg) -> None:
    image = await client.images.upload("photo.png")
    execution = await client.workflows.submit("wf_thumbnail", {"imageId": image.id})
    done = await client.executions.wait(
        execution, timeout=120, on_update=lambda e: print(e.id, e.status)
    )
    assert_type(done.output, ExecutionOutput)
    data = await client.images.download(done.output)
    assert_type(data, bytes)
    saved = await client.images.download(done.output, Path("thumb.webp"))
    assert_type(saved, Path)


# -- Errors -----------------------------------------------------------------------------


async def errors(client: FloImg) -> None:
    try:
        workflow = await client.workflows.get("wf_missing")
    except NotFoundError as exc:
        print(exc.code, exc.request_id)
    except RateLimitedError as exc:  # only after retries ran out
        print("try again in", exc.retry_after)
    except FloImgError:
        raise
    else:
        print(workflow.name)


# -- The emulator and the pytest fixtures -----------------------------------------------


async def emulator() -> None:
    async with Emulator(port=0, execution_time=0.05) as emu:
        async with FloImg(api_key=emu.api_key, base_url=emu.base_url) as client:
            execution = await client.workflows.execute(
                "wf_social_card", {"prompt": "Hello from the emulator"}
            )
            assert_type(execution.output, ExecutionOutput)
        assert await emu.count_executions() == 1
        emu.inject_fault("reset_after", path="/v1/workflows/execute")  # next call: done, dropped


async def test_social_card(floimg_client: FloImg) -> None:
    execution = await floimg_client.workflows.execute("wf_social_card", {"prompt": "Hi"})
    assert execution.output.width == 1200


@pytest.mark.floimg_emulator(rate_limit=60, burst=2)
async def test_backs_off(floimg_emulator: Emulator, floimg_client: FloImg) -> None: ...


# -- From synchronous code --------------------------------------------------------------


def sync_client() -> None:
    from floimg_async.sync import FloImg

    with FloImg() as client:  # key and URL from the environment
        execution = client.workflows.run("wf_social_card", {"prompt": "Launch day"})
        client.images.download(execution.output, "card.png")

        for workflow in client.workflows.list(page_size=100):  # .pages() and .to_list() too
            print(workflow.id)

        sets = ({"prompt": f"Card {i}"} for i in range(100))
        with contextlib.closing(client.workflows.run_many("wf_social_card", sets)) as results:
            for result in results:  # a plain iterator of RunResult
                print(result.index, result.ok)
                if result.ok:
                    assert_type(result.execution.output, ExecutionOutput)
        assert_type(client.images.download(execution.output), bytes)
