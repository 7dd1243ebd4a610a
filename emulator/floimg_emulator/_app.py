"""Build the emulator's ``aiohttp.web.Application``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from . import _routes_admin, _routes_api, _routes_storage
from ._config import EmulatorConfig
from ._middleware import emulator_middleware
from ._state import STATE_KEY, EmulatorState
from ._util import MAX_JSON_BODY


def create_app(config: EmulatorConfig | None = None, **knobs: Any) -> web.Application:
    """Return an application serving the FloImg API under ``/v1``, ready to embed.

    Pass an :class:`EmulatorConfig` or its fields as keywords. The store opens
    on application startup and closes (removing a temporary data dir) on cleanup.
    Image URLs use ``app[STATE_KEY].origin`` when set (``Emulator`` sets it to the
    bound address), else the request's own scheme and host.
    """
    if config is None:
        config = EmulatorConfig(**knobs)
    elif knobs:
        raise TypeError("pass either an EmulatorConfig or keyword knobs, not both")
    state = EmulatorState(config)
    app = web.Application(middlewares=[emulator_middleware], client_max_size=MAX_JSON_BODY)
    app[STATE_KEY] = state
    app.add_routes(_routes_api.routes)
    app.add_routes(_routes_storage.routes)
    app.add_routes(_routes_admin.routes)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        try:
            await state.open()
        except BaseException:
            await state.close()
            raise
        yield
        await state.close()

    async def on_shutdown(app: web.Application) -> None:
        await state.shutdown()  # let in-flight sync executes answer before connections close

    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(on_shutdown)
    return app
