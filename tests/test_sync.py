"""``floimg_async.sync.FloImg``: the async client driven on a private loop thread.

Against the emulator running in its own thread (``EmulatorThread``), so a test
may block its own thread, or even its own running event loop, on a sync call.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import io
import os
import subprocess
import sys
import textwrap
import threading
import typing
from collections.abc import AsyncGenerator, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from floimg_async import (
    Execution,
    ExecutionStatus,
    FloImgError,
    Image,
    Page,
    RunResult,
    WaitTimeoutError,
    WorkflowFailedError,
)
from floimg_async import FloImg as AsyncFloImg
from floimg_async._pagination import AsyncPager
from floimg_async._resources.executions import Executions
from floimg_async._resources.images import Images
from floimg_async._resources.projects import Projects
from floimg_async._resources.workflows import Workflows
from floimg_async.emulator import EmulatorThread
from floimg_async.sync import (
    FloImg,
    SyncExecutions,
    SyncImages,
    SyncPager,
    SyncProjects,
    SyncWorkflows,
)


def _png() -> bytes:
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", (4, 4), "teal").save(buffer, "PNG")
    return buffer.getvalue()


PNG = _png()


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorThread]:
    with EmulatorThread(port=0, execution_time=0.02, extra_workflows=7) as running:
        yield running


@pytest.fixture
def client(emu: EmulatorThread) -> Iterator[FloImg]:
    with FloImg(emu.api_key, base_url=emu.base_url) as sync_client:
        yield sync_client


def pending_tasks(client: FloImg) -> int:
    """Tasks still alive on the client's loop, apart from the one counting them."""
    return client._portal.call(lambda: len(asyncio.all_tasks()) - 1)  # type: ignore[no-any-return]


# -- one implementation: the typed surface is the async one, unwrapped ----------------


def _unwrap(hint: Any) -> Any:
    """The sync counterpart of an async method's return type."""
    origin = typing.get_origin(hint)
    if origin is AsyncPager:
        return SyncPager[typing.get_args(hint)]  # type: ignore[misc]
    if origin in (AsyncGenerator, typing.AsyncGenerator):
        return Generator[typing.get_args(hint)[0], None, None]
    return hint


@pytest.mark.parametrize(
    ("protocol", "async_cls"),
    [
        (SyncWorkflows, Workflows),
        (SyncExecutions, Executions),
        (SyncImages, Images),
        (SyncProjects, Projects),
    ],
)
def test_each_sync_signature_is_the_async_one_unwrapped(protocol: type, async_cls: type) -> None:
    public = {name for name, value in vars(async_cls).items() if callable(value) and name[0] != "_"}
    declared = {
        name for name, value in vars(protocol).items() if callable(value) and name[0] != "_"
    }
    assert declared == public
    for name in public:
        async_method = getattr(async_cls, name)
        sync_method = getattr(protocol, name)
        async_sig = inspect.signature(async_method)
        sync_sig = inspect.signature(sync_method)
        assert [(p.name, p.kind, p.default) for p in async_sig.parameters.values()] == [
            (p.name, p.kind, p.default) for p in sync_sig.parameters.values()
        ], name
        async_hints = typing.get_type_hints(async_method)
        sync_hints = typing.get_type_hints(sync_method)
        assert _unwrap(async_hints.pop("return")) == sync_hints.pop("return"), name
        assert async_hints == sync_hints, name
        assert sync_method.__doc__, name


def test_the_constructor_takes_the_async_clients_arguments() -> None:
    async_params = inspect.signature(AsyncFloImg.__init__).parameters
    sync_params = inspect.signature(FloImg.__init__).parameters
    assert [(p.name, p.kind, p.default) for p in async_params.values()] == [
        (p.name, p.kind, p.default) for p in sync_params.values()
    ]
    # aiohttp is imported for annotations only (TYPE_CHECKING) in both modules.
    names = {"aiohttp": aiohttp}
    assert typing.get_type_hints(AsyncFloImg.__init__, localns=names) == typing.get_type_hints(
        FloImg.__init__, localns=names
    )


def test_a_shared_session_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match=r"cannot share an aiohttp\.ClientSession"):
        FloImg("fsk_test_x", session=object())  # type: ignore[arg-type]


def test_constructor_errors_are_the_async_ones_and_start_no_thread() -> None:
    before = threading.active_count()
    with pytest.raises(ValueError, match="max_retries"):
        FloImg("fsk_test_x", max_retries=-1)
    assert threading.active_count() == before


# -- every call blocks and returns what the async one returns --------------------------


def test_calls_return_results_directly(client: FloImg, tmp_path: Path) -> None:
    workflow = client.workflows.get("wf_social_card")
    assert workflow.id == "wf_social_card" and workflow.parameters
    execution = client.workflows.execute("wf_social_card", {"prompt": "sync"})
    assert isinstance(execution, Execution) and execution.status is ExecutionStatus.COMPLETED
    submitted = client.workflows.submit("wf_social_card", {"prompt": "later"})
    done = client.executions.wait(submitted, poll_interval=0.01, max_poll_interval=0.05)
    assert done.id == submitted.id and done.succeeded
    assert client.executions.get(done.id).status is ExecutionStatus.COMPLETED
    ran = client.workflows.run("wf_social_card", {"prompt": "run"})
    assert ran.output is not None
    data = client.images.download(ran.output)
    assert isinstance(data, bytes) and data.startswith(b"\x89PNG")
    saved = client.images.download(ran.output, tmp_path / "card.png")
    assert saved == tmp_path / "card.png" and saved.read_bytes() == data

    image = client.images.upload(PNG, name="dot.png")
    assert isinstance(image, Image) and client.images.get(image.id).name == "dot.png"
    assert client.images.delete(image.id) is True
    project = client.projects.create("Sync project", description="made by a blocking call")
    assert project.id in {p.id for p in client.projects.list()}


def test_errors_are_raised_in_the_calling_thread(client: FloImg) -> None:
    with pytest.raises(WorkflowFailedError) as failed:
        client.workflows.run("wf_flaky", {"fail": True})
    assert failed.value.execution is not None
    with pytest.raises(ValueError, match="page_size"):
        client.workflows.list(page_size=0)


def test_timeouts_raise_as_in_the_async_client() -> None:
    with (
        EmulatorThread(port=0, execution_time=30) as slow,
        FloImg(slow.api_key, base_url=slow.base_url) as client,
    ):
        with pytest.raises(WaitTimeoutError) as timed_out:
            client.workflows.run("wf_social_card", {"prompt": "slow"}, timeout=0.2)
        assert timed_out.value.execution is not None
        assert timed_out.value.execution.status in {"pending", "running"}
        assert pending_tasks(client) == 0


# -- listings and run_many are plain iterators -----------------------------------------


def test_a_listing_is_a_plain_iterable_pager(client: FloImg) -> None:
    pager = client.workflows.list(page_size=3)
    assert isinstance(pager, SyncPager) and pager.page_size == 3
    items = [workflow.id for workflow in pager]
    assert len(items) == len(set(items)) >= 10  # 5 seeded + 7 extra, across 4+ pages
    assert [w.id for w in pager] == items  # iterating again starts over
    assert [w.id for w in pager.to_list()] == items
    pages = list(pager.pages())
    assert all(isinstance(page, Page) for page in pages)
    assert [page.offset for page in pages] == list(range(0, 3 * len(pages), 3))
    assert [w.id for page in pages for w in page.items] == items
    assert [w.id for w in client.workflows.list(page_size=3, max_items=4)] == items[:4]


def test_stopping_a_prefetching_listing_early_leaves_nothing_running(client: FloImg) -> None:
    for workflow in client.workflows.list(page_size=2, prefetch=True):
        assert workflow.id
        break
    gc.collect()
    assert pending_tasks(client) == 0


def test_run_many_yields_run_results_from_a_plain_iterator(client: FloImg) -> None:
    sets = [{"prompt": f"card {i}", "fail": i == 2} for i in range(6)]
    results = client.workflows.run_many("wf_flaky", sets, concurrency=3)
    assert not hasattr(results, "__anext__")
    collected = sorted(results, key=lambda result: result.index)
    assert [r.index for r in collected] == list(range(6))
    assert all(isinstance(r, RunResult) for r in collected)
    assert [r.ok for r in collected] == [True, True, False, True, True, True]
    assert isinstance(collected[2].error, WorkflowFailedError)


def test_closing_run_many_early_cancels_the_work_in_flight(client: FloImg) -> None:
    pulled: list[int] = []
    closed = threading.Event()

    def sets() -> Iterator[dict[str, str]]:
        try:
            for i in range(1000):
                pulled.append(i)
                yield {"prompt": f"card {i}"}
        finally:
            closed.set()

    batch = client.workflows.run_many("wf_social_card", sets(), concurrency=4)
    with contextlib.closing(batch) as results:
        first = [next(results) for _ in range(3)]
    assert len(first) == 3
    assert closed.is_set()  # the parameter sets were closed too
    assert len(pulled) <= 3 + 4 + 1  # never read ahead of the concurrency window
    assert pending_tasks(client) == 0


# -- threads, loops, closing -------------------------------------------------------------


async def test_works_from_a_thread_whose_event_loop_is_running(emu: EmulatorThread) -> None:
    asyncio.get_running_loop()  # as in Jupyter, or an async framework's sync view
    with FloImg(emu.api_key, base_url=emu.base_url) as client:
        assert client.workflows.get("wf_thumbnail").id == "wf_thumbnail"
        assert len(client.projects.list().to_list()) >= 1
        results = list(client.workflows.run_many("wf_social_card", [{"prompt": "a"}] * 2))
        assert [r.ok for r in results] == [True, True]


def test_one_client_serves_many_threads_at_once(client: FloImg) -> None:
    barrier = threading.Barrier(8, timeout=30)

    def work(i: int) -> tuple[str, bool]:
        barrier.wait()  # all eight calls are in flight together
        workflow = client.workflows.get("wf_social_card")
        execution = client.workflows.execute("wf_social_card", {"prompt": f"thread {i}"})
        return workflow.id, execution.succeeded

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(work, range(8)))
    assert outcomes == [("wf_social_card", True)] * 8


def test_a_callback_on_the_loop_thread_cannot_deadlock(client: FloImg) -> None:
    submitted = client.workflows.submit("wf_social_card", {"prompt": "x"})

    def on_update(execution: Execution) -> None:
        client.executions.get(execution.id)  # would wait on the very thread it blocks

    with pytest.raises(RuntimeError, match="own event-loop thread"):
        client.executions.wait(submitted, poll_interval=0.01, on_update=on_update)


def _threads() -> set[threading.Thread]:
    return set(threading.enumerate())


def test_close_ends_the_loop_thread_and_is_idempotent(emu: EmulatorThread, tmp_path: Path) -> None:
    def use(client: FloImg) -> None:
        execution = client.workflows.run("wf_social_card", {"prompt": "x"})
        assert execution.output is not None
        client.images.download(execution.output, tmp_path / "x.png")  # runs file I/O off-loop
        client.images.upload(tmp_path / "x.png")

    before = _threads()
    client = FloImg(emu.api_key, base_url=emu.base_url)
    use(client)
    # The loop's thread, and the worker threads its loop ran file I/O and DNS on.
    executor = client._portal._loop._default_executor
    ours = {client._portal.thread, *(executor._threads if executor else ())}  # type: ignore[attr-defined]
    assert len(ours) >= 2 and all(thread.is_alive() for thread in ours)
    assert not ours & before
    client.close()
    client.close()
    assert client.closed
    assert not any(thread.is_alive() for thread in ours)
    with pytest.raises(FloImgError, match="closed"):
        client.workflows.get("wf_social_card")
    with pytest.raises(FloImgError, match="closed"), client:
        pass


def test_a_forgotten_client_is_closed_when_collected(emu: EmulatorThread) -> None:
    client = FloImg(emu.api_key, base_url=emu.base_url)
    client.workflows.get("wf_social_card")  # its aiohttp session now exists
    loop_thread = client._portal.thread
    del client
    gc.collect()
    loop_thread.join(10)
    assert not loop_thread.is_alive()  # and no "Unclosed client session" warning (errors)


def test_with_options_shares_the_loop_and_closes_with_its_original(emu: EmulatorThread) -> None:
    client = FloImg(emu.api_key, base_url=emu.base_url)
    quick = client.with_options(timeout=5, max_retries=0)
    assert quick.timeout.total == 5 and quick.max_retries == 0 and client.max_retries == 3
    assert quick._portal is client._portal
    quick.close()
    assert quick.closed and not client.closed
    assert client.workflows.get("wf_social_card").id == "wf_social_card"
    other = client.with_options(deadline=9)
    client.close()
    assert other.closed
    with pytest.raises(FloImgError, match="closed"):
        other.workflows.get("wf_social_card")


def test_repr_never_shows_the_key(emu: EmulatorThread) -> None:
    with FloImg(emu.api_key, base_url=emu.base_url) as client:
        assert emu.api_key not in repr(client) and "sync.FloImg(" in repr(client)
        assert emu.api_key not in repr(client.workflows)


# -- Ctrl-C ----------------------------------------------------------------------------

CTRL_C = textwrap.dedent(
    """
    import os, signal, threading, time
    from floimg_async.emulator import EmulatorThread
    from floimg_async.sync import FloImg

    with EmulatorThread(port=0, execution_time=60) as emu:
        client = FloImg(emu.api_key, base_url=emu.base_url)

        def interrupt_once_submitted():
            for _ in range(500):  # bounded: at most ~10 s
                if emu.call(emu.emulator.count_executions()):
                    os.kill(os.getpid(), signal.SIGINT)
                    return
                time.sleep(0.02)

        threading.Thread(target=interrupt_once_submitted, daemon=True).start()
        try:
            client.workflows.run("wf_social_card", {"prompt": "long"})
        except KeyboardInterrupt:
            print("interrupted")
        import asyncio
        print("pending", client._portal.call(lambda: len(asyncio.all_tasks()) - 1))
        print("still usable", client.workflows.get("wf_social_card").id)
        thread = client._portal.thread
        client.close()
        print("thread alive", thread.is_alive())
    """
)


def test_ctrl_c_interrupts_a_blocking_call_and_cancels_its_task() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CTRL_C],
        capture_output=True,
        text=True,
        timeout=50,  # the execution takes 60 s: only an interrupt ends the script sooner
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "interrupted",
        "pending 0",
        "still usable wf_social_card",
        "thread alive False",
    ]


def test_client_level_methods_added_to_the_async_client_work_blocking(client: FloImg) -> None:
    """A coroutine method the async FloImg gains is usable at once (runtime forwarding)."""

    async def echo(value: str) -> tuple[str, bool]:
        await asyncio.sleep(0)
        return value, client._portal.in_portal_thread()

    client._client.echo = echo  # type: ignore[attr-defined]
    assert client.echo("hi") == ("hi", True)  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        client._not_forwarded  # type: ignore[attr-defined]  # noqa: B018


def test_raw_responses_and_rate_limit_work_blocking(emu: EmulatorThread) -> None:
    with FloImg(emu.api_key, base_url=emu.base_url) as client:
        assert client.rate_limit is None
        raw = client.with_raw_response.workflows.get("wf_social_card")
        assert raw.status == 200
        assert raw.parse().id == "wf_social_card"
        assert raw.request_id
        info = client.rate_limit
        assert info is not None and info.limit is not None and info.remaining is not None
        with pytest.raises(AttributeError):
            client.with_raw_response.nothing  # noqa: B018
