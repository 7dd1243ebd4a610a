"""The client-wide rate-limit gate: after a 429, hold requests, then pace them.

A 429's ``Retry-After`` says when to try again; releasing every waiting task at
that moment would have them all hit a token bucket that refilled only a few
tokens, earning a fresh 429 each. So when the 429 also says the limit
(``X-RateLimit-Limit``, requests per minute), requests leave one by one at that
rate for a minute afterwards. Pure: time is passed in, nothing sleeps here.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["RateGate"]

# How long to keep pacing after a 429, in seconds.
PACE_WINDOW = 60.0


class RateGate:
    """When each request may leave; shared by a client and its ``with_options`` copies."""

    __slots__ = ("_interval", "_next_slot", "_pace_until", "hold_until", "resume_at")

    def __init__(self) -> None:
        self.resume_at = 0.0  # nothing leaves before this (the Retry-After moment)
        self._pace_until = 0.0
        self._interval = 0.0
        self._next_slot = 0.0
        # max(resume_at, pace_until): one comparison on the hot path decides.
        self.hold_until = 0.0

    def delay(self, now: float) -> float:
        """Seconds the request about to leave must wait; reserves its slot."""
        if now >= self.hold_until:
            return 0.0
        slot = max(now, self.resume_at, self._next_slot)
        if self._interval and now < self._pace_until:
            self._next_slot = slot + self._interval
        return slot - now

    def rate_limited(self, now: float, retry_after: float, headers: Mapping[str, str]) -> None:
        """Record a 429 that asked to wait ``retry_after`` seconds."""
        self.resume_at = max(self.resume_at, now + retry_after)
        per_minute = _limit_per_minute(headers)
        if per_minute:
            # However small the advertised limit, pacing never spaces requests
            # further apart than the pacing window itself.
            self._interval = min(60.0 / per_minute, PACE_WINDOW)
            self._pace_until = self.resume_at + PACE_WINDOW
            self._next_slot = max(self._next_slot, self.resume_at)
        self.hold_until = max(self.resume_at, self._pace_until)


def _limit_per_minute(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("x-ratelimit-limit")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if 0 < value < 1e6 else None
