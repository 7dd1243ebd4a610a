"""Replay the first answer to a POST repeated with the same ``Idempotency-Key``.

A key is scoped by account, method and path. The work of the first request is
recorded in the store in the same transaction that makes its effect durable (the
new project, image or execution), before any answer leaves, so no retry can find
the effect without the record, not even across a restart:

- a project, an upload or an async execute records its final answer with its row;
- a sync execute records a *claim* naming its execution (status ``PENDING``) with
  the execution row, and its final answer once the execution ends. A repeat that
  finds a claim (say, after a graceful restart cut the first request short) waits
  for that same execution (the restarted emulator resumes it) and answers with its
  outcome; it never starts another.

A repeat with the same body gets the recorded answer with ``Idempotent-Replayed:
true``; one with another body is a 400. A repeat that arrives while the first is
still running waits for it. Requests rejected before doing any work (validation
errors, 401/403/404) are not recorded, so they may be retried with the same key.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from aiohttp import web

from ._records import PENDING, IdempotencyRecord
from ._stats import Stats
from ._store import Store
from ._util import ApiResult, dumps, invalid, now

_ORIGIN_MARK = "@@EMULATOR_ORIGIN@@"
_MAX_ATTEMPTS = 8
_KEY = re.compile(r"[\x20-\x7e]{0,255}")

Scope = tuple[str, str, str, str]


@dataclass
class _InFlight:
    fingerprint: str
    done: asyncio.Future[IdempotencyRecord | None]


@dataclass
class Claim:
    """Build the idempotency records a handler stores alongside its own rows."""

    scope: Scope
    fingerprint: str
    origin: Callable[[], str]
    stored: IdempotencyRecord | None = field(default=None, init=False)

    def answer(self, result: ApiResult) -> IdempotencyRecord:
        """Return the record that replays ``result``; pass it to the store call."""
        body = dumps(result.body).replace(self.origin().encode(), _ORIGIN_MARK.encode())
        self.stored = IdempotencyRecord(*self.scope, self.fingerprint, result.status, body, now())
        return self.stored

    def execution(self, execution_id: str) -> IdempotencyRecord:
        """Return a claim whose answer will be the outcome of ``execution_id``."""
        self.stored = IdempotencyRecord(
            *self.scope, self.fingerprint, PENDING, b"", now(), execution_id
        )
        return self.stored


#: A handler's work: given a :class:`Claim` (None without a key), do it once and answer.
Work = Callable[[Claim | None], Awaitable[ApiResult]]
#: How a handler turns a pending claim's execution id into its final answer.
Resume = Callable[[str], Awaitable[ApiResult]]


def idempotency_key(request: web.Request) -> str | None:
    """Return the request's ``Idempotency-Key`` header, or None; raise a 400 if malformed.

    A key is at most 255 printable ASCII characters; a blank one counts as no key.
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if _KEY.fullmatch(key) is None:
        raise invalid(
            "Idempotency-Key must be at most 255 printable ASCII characters",
            field="Idempotency-Key",
            reason="invalid_value",
        )
    return key.strip() or None


class Idempotency:
    """Coordinate idempotent POSTs of one emulator (see the module docstring)."""

    def __init__(self, store: Store, stats: Stats, origin: Callable[[], str]) -> None:
        self._store = store
        self._stats = stats
        self._origin = origin
        self._in_flight: dict[Scope, _InFlight] = {}

    async def run(
        self, scope: Scope, fingerprint: str, work: Work, resume: Resume | None = None
    ) -> web.Response:
        """Answer with the recorded result for ``scope``, or do ``work`` once and record it.

        ``work`` must store ``claim.answer(...)`` or ``claim.execution(...)`` in the same
        store call that makes its effect durable; ``resume`` finishes a pending claim.
        """
        for _ in range(_MAX_ATTEMPTS):
            running = self._in_flight.get(scope)
            if running is not None:
                if running.fingerprint != fingerprint:
                    raise _mismatch()
                record = await asyncio.shield(running.done)
                if record is None:
                    continue  # the first request ended without an answer; look again
                return self._replay(record, fingerprint)
            mine = _InFlight(fingerprint, asyncio.get_running_loop().create_future())
            self._in_flight[scope] = mine
            try:
                record = await self._store.get_idempotency(*scope)
                if record is None:
                    claim = Claim(scope, fingerprint, self._origin)
                    result = await work(claim)
                    final = await self._finish(claim, result)
                    mine.done.set_result(final)
                    return result.to_response()
                if record.fingerprint != fingerprint:
                    raise _mismatch()
                if record.pending:
                    if resume is None or record.execution_id is None:
                        raise RuntimeError(f"pending idempotency record without resume: {scope}")
                    result = await resume(record.execution_id)
                    claim = Claim(scope, fingerprint, self._origin)
                    claim.stored = record
                    record = await self._finish(claim, result)
                mine.done.set_result(record)
                return self._replay(record, fingerprint)
            finally:
                if not mine.done.done():
                    mine.done.set_result(None)
                if self._in_flight.get(scope) is mine:
                    del self._in_flight[scope]
        raise invalid("Too many concurrent requests with this Idempotency-Key; retry later")

    async def _finish(self, claim: Claim, result: ApiResult) -> IdempotencyRecord:
        """Store ``result`` as the final answer unless the work stored it already."""
        stored = claim.stored
        if stored is not None and not stored.pending and stored.status == result.status:
            return stored
        execution_id = stored.execution_id if stored is not None else None
        final = claim.answer(result)
        if execution_id is not None:
            final = replace(final, execution_id=execution_id)
        await self._store.put_idempotency(final)
        return final

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
