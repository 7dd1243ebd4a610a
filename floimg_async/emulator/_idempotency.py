"""Replay the first answer to a POST repeated with the same ``Idempotency-Key``.

A key is scoped by account, method and path. The first request that completes its
work (a 2xx, or a ``workflow_failed`` for an execution that ran) is recorded in the
store; a repeat with the same body gets that answer back with
``Idempotent-Replayed: true`` and does no work. A repeat with another body is a 400.
A repeat that arrives while the first is still running waits for it. Requests
rejected before doing any work (validation errors, 401/403/404) are not recorded,
so they may be retried with the same key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from ._records import IdempotencyRecord
from ._stats import Stats
from ._store import Store
from ._util import ApiResult, dumps, invalid, now

_ORIGIN_MARK = "@@EMULATOR_ORIGIN@@"
_MAX_ATTEMPTS = 8

Scope = tuple[str, str, str, str]


@dataclass
class _InFlight:
    fingerprint: str
    done: asyncio.Future[IdempotencyRecord | None]


def idempotency_key(request: web.Request) -> str | None:
    """Return the request's ``Idempotency-Key`` header, or None; raise a 400 if malformed."""
    key = request.headers.get("Idempotency-Key")
    if key is None or not key.strip():
        return None
    if len(key) > 255:
        raise invalid("Idempotency-Key must be at most 255 characters", field="Idempotency-Key")
    return key.strip()


class Idempotency:
    """Coordinate idempotent POSTs of one emulator (see the module docstring)."""

    def __init__(self, store: Store, stats: Stats, origin: Callable[[], str]) -> None:
        self._store = store
        self._stats = stats
        self._origin = origin
        self._in_flight: dict[Scope, _InFlight] = {}

    async def run(
        self, scope: Scope, fingerprint: str, work: Callable[[], Awaitable[ApiResult]]
    ) -> web.Response:
        """Answer with the recorded result for ``scope``, or do ``work`` once and record it."""
        for _ in range(_MAX_ATTEMPTS):
            running = self._in_flight.get(scope)
            if running is not None:
                if running.fingerprint != fingerprint:
                    raise _mismatch()
                record = await asyncio.shield(running.done)
                if record is None:
                    continue  # the first request did no work; try again ourselves
                return self._replay(record, fingerprint)
            mine = _InFlight(fingerprint, asyncio.get_running_loop().create_future())
            self._in_flight[scope] = mine
            try:
                record = await self._store.get_idempotency(*scope)
                if record is None:
                    result = await work()
                    body = dumps(result.body).replace(
                        self._origin().encode(), _ORIGIN_MARK.encode()
                    )
                    record = IdempotencyRecord(*scope, fingerprint, result.status, body, now())
                    await self._store.put_idempotency(record)
                    mine.done.set_result(record)
                    return result.to_response()
                mine.done.set_result(record)
                return self._replay(record, fingerprint)
            finally:
                if not mine.done.done():
                    mine.done.set_result(None)
                if self._in_flight.get(scope) is mine:
                    del self._in_flight[scope]
        raise invalid("Too many concurrent requests with this Idempotency-Key; retry later")

    def _replay(self, record: IdempotencyRecord, fingerprint: str) -> web.Response:
        if record.fingerprint != fingerprint:
            raise _mismatch()
        self._stats.idempotent_replays += 1
        body = record.body.replace(_ORIGIN_MARK.encode(), self._origin().encode())
        response = web.Response(status=record.status, body=body, content_type="application/json")
        response.headers["Idempotent-Replayed"] = "true"
        return response


def _mismatch() -> Exception:
    return invalid(
        "This Idempotency-Key was already used with a different request body",
        field="Idempotency-Key",
        reason="reused_with_different_body",
    )
