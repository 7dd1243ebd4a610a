"""Misuse gets a clear ValueError/TypeError before any request goes out.

The ``tripwire`` server fails the test if it receives anything at all.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from _faultkit import API_KEY, HttpFaultServer, settle

from floimg_async import FloImg, FloImgError, Image

MISUSE = (ValueError, TypeError)


def client_for(server: HttpFaultServer) -> FloImg:
    return FloImg(api_key=API_KEY, base_url=server.base_url, timeout=1.0, max_retries=0)


def assert_clear(error: BaseException) -> None:
    """A clear error says what was wrong: a real sentence, no key."""
    message = str(error)
    assert len(message) > 10, message
    assert API_KEY not in message


@pytest.mark.parametrize("bad_id", ["", "   ", ".", "..", 123, None, b"wf_1", ["wf_1"]])
async def test_property_misuse_ids(tripwire: HttpFaultServer, bad_id: Any) -> None:
    expected = ValueError if isinstance(bad_id, str) else TypeError
    async with client_for(tripwire) as client:
        calls = [
            lambda: client.workflows.get(bad_id),
            lambda: client.workflows.execute(bad_id),
            lambda: client.workflows.submit(bad_id),
            lambda: client.workflows.run(bad_id),
            lambda: client.executions.get(bad_id),
            lambda: client.executions.wait(bad_id),
            lambda: client.images.get(bad_id),
            lambda: client.images.delete(bad_id),
        ]
        for call in calls:
            with pytest.raises(expected) as info:
                await call()
            assert_clear(info.value)
        with pytest.raises(expected):
            client.workflows.run_many(bad_id, [{}])


@pytest.mark.parametrize(
    ("page_size", "expected"),
    [
        (0, ValueError),
        (101, ValueError),
        (-5, ValueError),
        ("20", TypeError),
        (20.0, TypeError),
        (True, TypeError),
        (None, TypeError),
    ],
)
async def test_property_misuse_page_size(
    tripwire: HttpFaultServer, page_size: Any, expected: type[Exception]
) -> None:
    async with client_for(tripwire) as client:
        for listing in (client.workflows.list, client.images.list, client.projects.list):
            with pytest.raises(expected) as info:
                listing(page_size=page_size)
            assert_clear(info.value)


@pytest.mark.parametrize("field", ["offset", "max_items"])
@pytest.mark.parametrize("value", [-1, "3", 1.5])
async def test_property_misuse_offset_and_max_items(
    tripwire: HttpFaultServer, field: str, value: Any
) -> None:
    async with client_for(tripwire) as client:
        with pytest.raises(MISUSE):
            client.workflows.list(**{field: value})


async def test_property_misuse_upload_sources(tripwire: HttpFaultServer, tmp_path: Path) -> None:
    (tmp_path / "text.txt").write_text("hello")
    async with client_for(tripwire) as client:
        with pytest.raises(ValueError) as missing:
            await client.images.upload(tmp_path / "missing.png")
        assert "missing.png" in str(missing.value)
        with pytest.raises(ValueError) as directory:
            await client.images.upload(tmp_path)
        assert_clear(directory.value)
        with pytest.raises(ValueError):
            await client.images.upload(str(tmp_path / "nope" / "x.png"))
        with pytest.raises(TypeError):
            await client.images.upload(12345)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await client.images.upload(["not", "bytes"])  # type: ignore[arg-type]
        with (tmp_path / "text.txt").open() as text_file, pytest.raises(TypeError) as info:
            await client.images.upload(text_file)  # type: ignore[arg-type]
        assert "rb" in str(info.value)
        with pytest.raises(ValueError):
            await client.images.upload(b"x", project_id="")


@pytest.mark.parametrize("parameters", [[1, 2], "prompt=x", 42, ("a", 1), {"x": object()}])
async def test_property_misuse_parameters(tripwire: HttpFaultServer, parameters: Any) -> None:
    async with client_for(tripwire) as client:
        for call in (client.workflows.execute, client.workflows.submit, client.workflows.run):
            with pytest.raises(TypeError) as info:
                await call("wf_1", parameters)
            assert_clear(info.value)


async def test_property_misuse_run_many_bad_items_do_not_stop_others(
    http_server: HttpFaultServer,
) -> None:
    """A bad parameter set yields an error result; the good ones still run (once each)."""
    items: list[Any] = [{"n": 0}, "bad", {"n": 2}, 5, None, [("n", 5)], {"n": 6}]

    async def lazily() -> AsyncIterator[Any]:
        for item in items:
            yield item

    async with client_for(http_server) as client:
        for source in (items, lazily()):
            http_server.seen.clear()
            results = [r async for r in client.workflows.run_many("wf_1", source, concurrency=2)]
            by_index = {r.index: r for r in results}
            assert sorted(by_index) == list(range(len(items)))
            for index in (0, 2, 4, 6):  # None means "no parameters": valid
                assert by_index[index].ok, by_index[index]
            for index in (1, 3, 5):
                result = by_index[index]
                assert not result.ok
                assert isinstance(result.error, TypeError)
                assert result.execution is None
            assert len(http_server.seen) == 4
    await settle(http_server)


@pytest.mark.parametrize("concurrency", [0, -1, 1.5, "4", True])
async def test_property_misuse_concurrency(tripwire: HttpFaultServer, concurrency: Any) -> None:
    async with client_for(tripwire) as client:
        with pytest.raises(ValueError):
            client.workflows.run_many("wf_1", [{}], concurrency=concurrency)
        with pytest.raises(TypeError):
            client.workflows.run_many("wf_1", 42)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            client.workflows.run_many("wf_1", {"a": 1})


@pytest.mark.parametrize(
    "options",
    [
        {"poll_interval": 0},
        {"poll_interval": -1},
        {"poll_interval": math.nan},
        {"poll_interval": 2, "max_poll_interval": 1},
        {"timeout": -1},
        {"on_update": "print"},
    ],
)
async def test_property_misuse_wait_settings(
    tripwire: HttpFaultServer, options: dict[str, Any]
) -> None:
    async with client_for(tripwire) as client:
        with pytest.raises(MISUSE):
            await client.executions.wait("exec_1", **options)


async def test_property_misuse_download_targets(tripwire: HttpFaultServer) -> None:
    async with client_for(tripwire) as client:
        with pytest.raises(TypeError):
            await client.images.download(123)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await client.images.download(Image(id="img_1", url=None))
        with pytest.raises(ValueError):
            await client.images.download("")
    with pytest.raises(ValueError):
        await client_for(tripwire).projects.create("  ")


@pytest.mark.parametrize(
    "options",
    [
        {"timeout": 0},
        {"timeout": -1},
        {"timeout": "5"},
        {"timeout": True},
        {"timeout": math.nan},
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"max_retries": "3"},
        {"max_retries": True},
        {"deadline": 0},
        {"deadline": -2},
        {"deadline": "1"},
        {"max_connections": 0},
        {"max_connections": "10"},
        {"max_retry_after": -1},
        {"max_retry_after": math.nan},
        {"base_url": 123},
        {"base_url": "not a url"},
        {"base_url": "http://"},
        {"base_url": "ftp://127.0.0.1/v1"},
        {"session": "a session"},
    ],
    ids=lambda o: "-".join(f"{k}={v!r}" for k, v in o.items()),
)
def test_property_misuse_client_settings(options: dict[str, Any]) -> None:
    settings: dict[str, Any] = {"api_key": API_KEY, "base_url": "http://127.0.0.1:9/v1"}
    settings.update(options)
    with pytest.raises(MISUSE) as info:
        FloImg(**settings)
    assert_clear(info.value)


@pytest.mark.parametrize(
    "options",
    [{"timeout": 0}, {"timeout": "1"}, {"max_retries": -1}, {"deadline": -1}, {"deadline": "x"}],
)
def test_property_misuse_with_options(options: dict[str, Any]) -> None:
    client = FloImg(api_key=API_KEY, base_url="http://127.0.0.1:9/v1")
    with pytest.raises(MISUSE):
        client.with_options(**options)


async def test_property_misuse_closed_client(tripwire: HttpFaultServer) -> None:
    client = client_for(tripwire)
    await client.close()
    await client.close()  # idempotent
    with pytest.raises(FloImgError) as info:
        await client.workflows.get("wf_1")
    assert "closed" in str(info.value)
    with pytest.raises(FloImgError):
        async with client:
            pass
