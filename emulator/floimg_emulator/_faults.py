"""Injected faults: random ones drawn from a seeded generator, and targeted ones queued by tests."""

from __future__ import annotations

import fnmatch
import random
from dataclasses import dataclass

from aiohttp import web

from ._config import FAULT_KINDS, check_runtime_knobs
from ._util import envelope, json_response

_HTML = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass
class QueuedFault:
    """A fault waiting for the next ``remaining`` requests that match ``method`` and ``path``."""

    kind: str
    path: str | None
    method: str | None
    remaining: int

    def matches(self, method: str, path: str) -> bool:
        """Tell whether a request with this method and path should get the fault."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)


class FaultInjector:
    """Decide which API request fails and how.

    Queued faults go first. Otherwise, with ``rate`` > 0, every API request draws
    two numbers from ``random.Random(seed)`` (whether to fail, which kind), so the
    n-th request's fate depends only on the seed and n.
    """

    def __init__(self, rate: float, kinds: tuple[str, ...], seed: int | None) -> None:
        self.rate = rate
        self.kinds = tuple(kinds)
        self._rng = random.Random(seed)
        self._queued: list[QueuedFault] = []

    def configure(self, rate: float, kinds: tuple[str, ...], seed: int | None = None) -> None:
        """Change the random fault rate and kinds; a ``seed`` restarts the sequence."""
        self.rate, self.kinds = rate, tuple(kinds)
        if seed is not None:
            self._rng = random.Random(seed)

    def inject(
        self, kind: str, *, path: str | None = None, method: str | None = None, count: int = 1
    ) -> QueuedFault:
        """Queue ``kind`` for the next ``count`` API requests matching ``method`` and ``path``.

        ``path`` is an exact path or a glob (``/v1/storage/*``); None matches all.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        fault = QueuedFault(kind, path, method, count)
        self._queued.append(fault)
        return fault

    def clear(self) -> None:
        """Drop every queued fault."""
        self._queued.clear()

    def queued(self) -> list[QueuedFault]:
        """Return the faults still waiting."""
        return list(self._queued)

    def pick(self, method: str, path: str) -> str | None:
        """Return the fault for this request, or None."""
        for fault in self._queued:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._queued.remove(fault)
                return fault.kind
        if self.rate <= 0 or not self.kinds:
            return None
        roll, kind = self._rng.random(), self._rng.choice(self.kinds)
        return kind if roll < self.rate else None


def check_kinds(rate: float, kinds: tuple[str, ...]) -> None:
    """Raise ``ValueError`` for an invalid fault rate or kind list."""
    check_runtime_knobs(
        latency=0, execution_time=0, rate_limit=None, burst=None, fault_rate=rate, fault_kinds=kinds
    )


def fault_response(kind: str) -> web.Response:
    """Return the response an HTTP-status fault answers with (500 JSON, 502/503 proxy HTML)."""
    if kind == "500":
        body = envelope(
            "internal_error", "Injected fault: internal server error", {"injected": True}
        )
        return json_response(body, 500)
    reason = {"502": "Bad Gateway", "503": "Service Temporarily Unavailable"}[kind]
    return web.Response(
        status=int(kind), text=_HTML.format(code=kind, reason=reason), content_type="text/html"
    )


def drop_connection(request: web.Request) -> None:
    """Close the client's connection at once; the response that follows is never sent."""
    transport = request.transport
    if transport is not None:
        transport.abort()
