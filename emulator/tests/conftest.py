"""Fixtures for the emulator's own tests: a fresh emulator and a raw aiohttp client."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from floimg_emulator import Emulator
from floimg_emulator.testing import floimg_emulator, floimg_emulator_factory  # noqa: F401
from multidict import CIMultiDictProxy
from PIL import Image

_DEFAULT = object()


@dataclass
class Reply:
    """One HTTP answer, read whole."""

    status: int
    headers: CIMultiDictProxy[str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)

    @property
    def error(self) -> dict[str, Any]:
        return self.body["error"]  # type: ignore[no-any-return]


class Api:
    """A thin raw client of one emulator (not the SDK): method, path, key, body → Reply."""

    def __init__(self, session: aiohttp.ClientSession, emu: Emulator) -> None:
        self.session = session
        self.emu = emu

    async def request(
        self,
        method: str,
        path: str,
        *,
        key: Any = _DEFAULT,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Reply:
        url = path if path.startswith("http") else self.emu.base_url + path
        all_headers = dict(headers or {})
        key = self.emu.api_key if key is _DEFAULT else key
        if key is not None:
            all_headers["Authorization"] = f"Bearer {key}"
        async with self.session.request(method, url, headers=all_headers, **kwargs) as resp:
            return Reply(resp.status, resp.headers, await resp.read())

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("POST", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("DELETE", path, **kwargs)

    async def execute(self, workflow_id: str, parameters: Any = None, **kwargs: Any) -> Reply:
        body: dict[str, Any] = {"workflowId": workflow_id}
        if parameters is not None:
            body["parameters"] = parameters
        if kwargs.pop("run_async", False):
            body["async"] = True
        return await self.post("/workflows/execute", json=body, **kwargs)

    async def upload(
        self,
        data: bytes,
        *,
        filename: str = "photo.png",
        name: str | None = None,
        project_id: str | None = None,
        **kwargs: Any,
    ) -> Reply:
        form = aiohttp.FormData()
        form.add_field("file", data, filename=filename, content_type="application/octet-stream")
        if name is not None:
            form.add_field("name", name)
        if project_id is not None:
            form.add_field("projectId", project_id)
        return await self.post("/storage/upload", data=form, **kwargs)


def image_bytes(width: int = 64, height: int = 48, fmt: str = "PNG", color: str = "red") -> bytes:
    """Return an encoded solid image."""
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture
def make_image() -> Callable[..., bytes]:
    """Return a function encoding a solid image: make_image(w, h, fmt)."""
    return image_bytes


@pytest_asyncio.fixture
async def emu(floimg_emulator_factory: Any) -> Emulator:  # noqa: F811
    """A fresh emulator with a fast execution time."""
    return await floimg_emulator_factory(execution_time=0.02)  # type: ignore[no-any-return]


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session, closed after the test."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(http: aiohttp.ClientSession, emu: Emulator) -> Api:
    """A raw client of ``emu``, authenticated with its default key."""
    return Api(http, emu)


@pytest.fixture
def api_for(http: aiohttp.ClientSession) -> Callable[[Emulator], Api]:
    """Return a function building a raw client for another emulator."""
    return lambda emulator: Api(http, emulator)
