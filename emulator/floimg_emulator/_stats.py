"""Counters tests and benchmarks read: requests per route and status, faults, 429s, connections."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from aiohttp import web


class Stats:
    """Count what the emulator saw since it started (or since :meth:`reset`).

    ``connections`` counts distinct client TCP connections that sent at least one
    request: a client that reuses its pool keeps it low however many requests it sends.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Set every counter back to zero."""
        self.requests = 0
        self.by_route: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.faults: Counter[str] = Counter()
        self.rate_limited = 0
        self.idempotent_replays = 0
        self._connections: set[tuple[int, Any]] = set()

    @property
    def connections(self) -> int:
        """Return the number of distinct client connections seen."""
        return len(self._connections)

    def note_request(self, request: web.Request) -> None:
        """Count a request and remember the connection it came on."""
        self.requests += 1
        transport = request.transport
        if transport is not None:
            self._connections.add((id(request.protocol), transport.get_extra_info("peername")))

    def record(self, route: str, status: int | str) -> None:
        """Count one answer (``status`` may be ``"reset"`` for a dropped connection)."""
        self.by_route[route][str(status)] += 1

    def snapshot(self) -> dict[str, Any]:
        """Return the counters as plain JSON-able data."""
        return {
            "requests": self.requests,
            "connections": self.connections,
            "rateLimited": self.rate_limited,
            "idempotentReplays": self.idempotent_replays,
            "faults": dict(self.faults),
            "routes": {route: dict(counts) for route, counts in sorted(self.by_route.items())},
        }
