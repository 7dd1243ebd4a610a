"""The layer every request passes: ids and rate-limit headers, faults, latency, limits, auth.

Order for API requests (``/v1``): latency → injected fault → rate limit → API key →
handler → (``reset_after`` fault). ``/files`` and ``/_emulator`` skip all of that.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ._config import KeySpec
from ._faults import drop_connection, fault_response
from ._ratelimit import Decision
from ._state import STATE_KEY, EmulatorState
from ._util import MAX_JSON_BODY, ApiError, envelope, invalid, json_response

log = logging.getLogger("floimg_emulator")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The key of the request being handled; handlers run in the middleware's task.
# (A ContextVar rather than web.RequestKey, which older aiohttp releases lack.)
_SPEC: ContextVar[KeySpec] = ContextVar("floimg_key_spec")


def account_of(request: web.Request) -> str:
    """Return the account of the request's API key (set by the middleware)."""
    return _SPEC.get().account


def require(request: web.Request, *scopes: str) -> None:
    """Raise a 403 unless the request's key holds ``all`` or one of ``scopes``."""
    spec = _SPEC.get()
    if not spec.allows(*scopes):
        raise ApiError(
            403,
            "forbidden",
            f"This API key lacks the scope this endpoint needs ({' or '.join(scopes)})",
            {"requiredScopes": list(scopes)},
        )


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return f"{request.method} {resource.canonical if resource is not None else '<unmatched>'}"


async def _handle(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Call the handler and turn every error into the API's envelope."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.to_response()
    except web.HTTPRequestEntityTooLarge:
        # The API's error table has no 413: a body over the limit is a bad request.
        return invalid(
            f"The request body is larger than the {MAX_JSON_BODY} byte limit",
            reason="too_large",
            maxBytes=MAX_JSON_BODY,
        ).to_response()
    except HttpProcessingError as exc:  # a body aiohttp could not decode (gzip, chunking)
        return invalid(f"Malformed request body: {exc.message}"[:300]).to_response()
    except web.HTTPException as exc:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limited"}
        name = code.get(exc.status, "invalid_request" if exc.status < 500 else "internal_error")
        message = "No such endpoint" if exc.status == 404 else exc.reason
        response = json_response(envelope(name, message, {}), exc.status)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except (asyncio.CancelledError, ConnectionError):
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return json_response(envelope("internal_error", "Internal emulator error"), 500)


async def _api(
    request: web.Request, handler: Handler, state: EmulatorState, token: str | None
) -> tuple[web.StreamResponse, Decision, str | None]:
    config = state.config
    if config.latency > 0:
        await asyncio.sleep(config.latency)
    fault = state.faults.pick(request.method, request.path)
    if fault is not None:
        state.stats.faults[fault] += 1
    decision = state.rate_limiter.take(token or "<anonymous>")
    if fault in ("500", "502", "503"):
        return fault_response(fault), decision, fault
    if fault == "reset":
        drop_connection(request)
        return web.Response(status=500), decision, fault
    if not decision.allowed:
        state.stats.rate_limited += 1
        body = envelope(
            "rate_limited",
            f"Rate limit of {decision.limit} requests per minute exceeded; "
            f"retry in {decision.retry_after} s",
            retryAfter=decision.retry_after,
        )
        return json_response(body, 429), decision, None
    if request.match_info.http_exception is not None:
        return await _handle(request, handler), decision, None  # unknown route: 404 first
    spec = state.keys.get(token) if token is not None else None
    if spec is None:
        message = (
            "Invalid API key" if token else "Missing API key: send Authorization: Bearer <key>"
        )
        return ApiError(401, "unauthorized", message).to_response(), decision, None
    token_reset = _SPEC.set(spec)
    try:
        response = await _handle(request, handler)
    finally:
        _SPEC.reset(token_reset)
    if fault == "reset_after":
        drop_connection(request)  # the work is done; the client never hears about it
    return response, decision, fault


@web.middleware
async def emulator_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply the emulator's request pipeline (see the module docstring)."""
    state = request.app[STATE_KEY]
    state.stats.note_request(request)
    token = _bearer(request)
    path = request.path
    fault: str | None = None
    if path == "/v1" or path.startswith("/v1/"):
        response, decision, fault = await _api(request, handler, state, token)
    else:
        response = await _handle(request, handler)
        decision = state.rate_limiter.peek(token or "<anonymous>")
    response.headers["X-Request-Id"] = f"req_{secrets.token_hex(12)}"
    response.headers.update(decision.headers())
    dropped = fault in ("reset", "reset_after")
    state.stats.record(_route_name(request), "reset" if dropped else response.status)
    return response
