"""``/_emulator/…``: introspection and steering for tests, without an API key.

``GET  /_emulator/health``      ``{"ok", "origin", "baseUrl"}``
``GET  /_emulator/stats``       request counters (see ``Stats.snapshot``)
``POST /_emulator/stats/reset`` zero the counters
``GET  /_emulator/executions``  every execution (filters: account, workflowId, status)
``GET  /_emulator/faults``      queued faults and the random fault settings
``POST /_emulator/faults``      queue ``{"kind", "path"?, "method"?, "count"?}``
``DELETE /_emulator/faults``    drop the queued faults
``GET|POST /_emulator/config``  read or change run-time knobs (latency, rate_limit, …)
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from aiohttp import web

from ._state import STATE_KEY
from ._util import invalid, json_response

routes = web.RouteTableDef()


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError:
        raise invalid("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object")
    return body


@routes.get("/_emulator/health")
async def health(request: web.Request) -> web.Response:
    """Tell that the emulator is up, and where."""
    origin = request.app[STATE_KEY].origin_for(request)
    return json_response({"ok": True, "origin": origin, "baseUrl": f"{origin}/v1"})


@routes.get("/_emulator/stats")
async def stats(request: web.Request) -> web.Response:
    """Return the request counters."""
    return json_response(request.app[STATE_KEY].stats.snapshot())


@routes.post("/_emulator/stats/reset")
async def reset_stats(request: web.Request) -> web.Response:
    """Zero the request counters."""
    request.app[STATE_KEY].stats.reset()
    return json_response({"ok": True})


@routes.get("/_emulator/executions")
async def executions(request: web.Request) -> web.Response:
    """Return every execution of every account, oldest first."""
    q = request.query
    found = await request.app[STATE_KEY].store.list_executions(
        account=q.get("account"), workflow_id=q.get("workflowId"), status=q.get("status")
    )
    return json_response({"executions": [e.to_dict() for e in found], "total": len(found)})


def _faults_body(request: web.Request) -> dict[str, Any]:
    faults = request.app[STATE_KEY].faults
    return {
        "queued": [asdict(f) for f in faults.queued()],
        "rate": faults.rate,
        "kinds": list(faults.kinds),
    }


@routes.get("/_emulator/faults")
async def get_faults(request: web.Request) -> web.Response:
    """Return the queued faults and the random fault settings."""
    return json_response(_faults_body(request))


@routes.post("/_emulator/faults")
async def add_fault(request: web.Request) -> web.Response:
    """Queue a fault for the next matching API requests."""
    body = await _body(request)
    count = body.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool):
        raise invalid("count must be an integer", field="count")
    try:
        request.app[STATE_KEY].faults.inject(
            str(body.get("kind")), path=body.get("path"), method=body.get("method"), count=count
        )
    except ValueError as exc:
        raise invalid(str(exc), field="kind") from None
    return json_response(_faults_body(request), 201)


@routes.delete("/_emulator/faults")
async def clear_faults(request: web.Request) -> web.Response:
    """Drop every queued fault."""
    request.app[STATE_KEY].faults.clear()
    return json_response(_faults_body(request))


@routes.get("/_emulator/config")
async def get_config(request: web.Request) -> web.Response:
    """Return the run-time knobs."""
    return json_response(request.app[STATE_KEY].knobs())


@routes.post("/_emulator/config")
async def set_config(request: web.Request) -> web.Response:
    """Change run-time knobs, e.g. ``{"latency": 0.05, "rate_limit": 60}``."""
    state = request.app[STATE_KEY]
    try:
        state.configure(**await _body(request))
    except (ValueError, TypeError) as exc:
        raise invalid(str(exc)) from None
    return json_response(state.knobs())
