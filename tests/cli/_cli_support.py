"""Helpers of the CLI tests: an emulator on its own thread, and a way to run ``floimg``.

The CLI runs its own event loop (``asyncio.run``), so these tests are plain sync
tests: the emulator serves from a background thread with its own loop.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from click.testing import CliRunner

from floimg_async.cli._app import run
from floimg_async.emulator import Emulator


class EmulatorThread:
    """An :class:`Emulator` served by a background thread's event loop."""

    def __init__(self, **knobs: Any) -> None:
        self._knobs = knobs
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="cli-test-emulator", daemon=True)
        self.emu: Emulator | None = None

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.run_until_complete(self._loop.shutdown_default_executor())
        self._loop.close()

    def start(self) -> EmulatorThread:
        self._thread.start()
        self.emu = asyncio.run_coroutine_threadsafe(
            Emulator(port=0, **self._knobs).start(), self._loop
        ).result(timeout=30)
        return self

    def stop(self) -> None:
        if self.emu is not None:
            asyncio.run_coroutine_threadsafe(self.emu.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    @property
    def env(self) -> dict[str, str]:
        assert self.emu is not None
        return {"FLOIMG_BASE_URL": self.emu.base_url, "FLOIMG_API_KEY": self.emu.api_key}

    def admin(self, path: str) -> Any:
        """GET an ``/_emulator/…`` endpoint and decode its JSON."""
        assert self.emu is not None
        with urllib.request.urlopen(f"{self.emu.origin}/_emulator/{path}", timeout=10) as resp:
            return json.loads(resp.read())


@dataclass
class Outcome:
    """What one ``floimg`` invocation did."""

    code: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


class Floimg:
    """Run ``floimg`` in-process (through ``run``, so exit statuses are the real ones)."""

    def __init__(self, env: dict[str, str | None], *, charset: str = "utf-8") -> None:
        self.env = env
        self.charset = charset  # the encoding of the captured stdout and stderr

    def __call__(self, *args: str, input: str | bytes | None = None, **env: str | None) -> Outcome:
        runner = CliRunner(charset=self.charset)
        with runner.isolation(input=input, env={**self.env, **env}) as (out, err, _):
            code = run(list(args))
            sys.stdout.flush()
            sys.stderr.flush()
            return Outcome(
                code, out.getvalue().decode(self.charset), err.getvalue().decode(self.charset)
            )


class ScriptedServer:
    """A real aiohttp server on 127.0.0.1 (its own thread) that answers from a table.

    ``routes[(method, path)] = (status, json_body)`` is read at each request, so a
    test (or each hypothesis example) rewrites it between ``floimg`` runs; any
    ``GET /files/…`` answers ``file_bytes``. Every answer carries ``headers``, where
    ``{auth}`` is replaced by the request's ``Authorization`` header (a proxy that
    echoes it). Used to play a hostile API.
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], tuple[int, Any]] = {}
        self.headers: dict[str, str] = {}
        self.file_bytes = b"\x89PNG\r\n\x1a\nnot really a png"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: Any = None
        self.port = 0

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        headers = {name: value.replace("{auth}", auth) for name, value in self.headers.items()}
        if request.method == "GET" and request.path.startswith("/files/"):
            return web.Response(body=self.file_bytes, content_type="image/png", headers=headers)
        status, body = self.routes.get(
            (request.method, request.raw_path.split("?")[0]),
            (404, {"error": {"code": "not_found", "message": "no such route"}}),
        )
        return web.json_response(body, status=status, headers=headers)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def start(self) -> ScriptedServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    async def _shutdown(self) -> None:
        await self._runner.cleanup()
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in rest:  # handlers of kept-alive connections
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str | None]:
        return {"FLOIMG_BASE_URL": f"{self.origin}/v1", "FLOIMG_API_KEY": "fsk_test_scripted"}
