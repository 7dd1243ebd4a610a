"""A token bucket per API key, and the X-RateLimit-* headers every response carries."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

#: What the headers report while rate limiting is off.
UNLIMITED = 10_000


@dataclass(frozen=True)
class Decision:
    """The outcome of one request against its bucket."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        """Return the ``X-RateLimit-*`` headers (and ``Retry-After`` when refused)."""
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


class RateLimiter:
    """Refill ``per_minute / 60`` tokens a second up to ``burst``; each API request takes one.

    ``per_minute=None`` turns limiting off (the headers then report
    :data:`UNLIMITED`). ``burst`` defaults to a sixth of the per-minute limit.
    """

    def __init__(
        self,
        per_minute: int | None,
        burst: int | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._clock, self._wall = clock, wall
        self._buckets: dict[str, tuple[float, float]] = {}
        self.per_minute: int | None = None
        self.burst = 1
        self.configure(per_minute, burst)

    def configure(self, per_minute: int | None, burst: int | None) -> None:
        """Change the limits; every bucket starts full again."""
        self.per_minute = per_minute
        self.burst = burst or max(1, (per_minute or 0) // 6)
        self._buckets.clear()

    def _level(self, key: str) -> tuple[float, float]:
        now = self._clock()
        tokens, then = self._buckets.get(key, (float(self.burst), now))
        rate = (self.per_minute or 0) / 60.0
        return min(float(self.burst), tokens + (now - then) * rate), now

    def _decision(self, allowed: bool, tokens: float) -> Decision:
        assert self.per_minute is not None
        rate = self.per_minute / 60.0
        until_full = (self.burst - tokens) / rate
        retry_after = 0 if allowed else max(1, math.ceil((1.0 - tokens) / rate))
        return Decision(
            allowed=allowed,
            limit=self.per_minute,
            remaining=max(0, math.floor(tokens)),
            reset=math.ceil(self._wall() + until_full),
            retry_after=retry_after,
        )

    def take(self, key: str) -> Decision:
        """Spend one token of ``key``'s bucket if there is one."""
        if self.per_minute is None:
            return self.peek(key)
        tokens, now = self._level(key)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        return self._decision(allowed, tokens)

    def peek(self, key: str) -> Decision:
        """Report ``key``'s bucket without spending a token."""
        if self.per_minute is None:
            return Decision(True, UNLIMITED, UNLIMITED, math.ceil(self._wall() + 60), 0)
        tokens, _ = self._level(key)
        return self._decision(True, tokens)
