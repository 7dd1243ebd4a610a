"""Await a workflow inside a web request handler, sharing one connection pool.

Run:  python examples/web_handler.py   (starts the emulator, serves on a free 127.0.0.1 port,
      requests one card from itself, prints the answer and stops)

In a real app you create ONE aiohttp.ClientSession at startup and hand it to
FloImg; every request handler then reuses its pooled connections. The same
pattern works in FastAPI/Starlette with a lifespan handler.
"""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from floimg_async import FloImg, FloImgError, WorkflowFailedError
from floimg_async.emulator import Emulator

CLIENT: web.AppKey[FloImg] = web.AppKey("floimg", FloImg)


async def og_card(request: web.Request) -> web.Response:
    client = request.app[CLIENT]
    title = request.query.get("title", "Hello")
    try:
        execution = await client.workflows.execute("wf_social_card", {"prompt": title})
    except WorkflowFailedError as exc:
        return web.json_response({"error": exc.message}, status=422)
    except FloImgError as exc:  # connection trouble, rate limits that outlasted retries, ...
        return web.json_response({"error": str(exc)}, status=502)
    assert execution.output is not None
    return web.json_response({"url": execution.output.url, "ms": execution.duration_ms})


async def main() -> None:
    async with Emulator(port=0) as emu, aiohttp.ClientSession() as shared_session:
        app = web.Application()
        # The client never closes a session it was given; the app owns it.
        app[CLIENT] = FloImg(emu.api_key, base_url=emu.base_url, session=shared_session)
        app.router.add_get("/og", og_card)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        try:
            async with shared_session.get(f"http://{host}:{port}/og?title=Launch+day") as resp:
                print(resp.status, await resp.json())
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
