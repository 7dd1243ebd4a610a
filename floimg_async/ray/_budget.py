"""One rate budget for many workers: a GCRA pacer, and the Ray actor that holds it."""

from __future__ import annotations

import time
from typing import Any

__all__ = ["BudgetActor", "Pacer"]


class Pacer:
    """A GCRA (generic cell rate algorithm) pacer: who may send a request, and when.

    ``reserve()`` books the next free slot and returns how many seconds the
    caller must wait before sending; slots are ``60 / (limit * headroom)``
    seconds apart, with ``burst`` requests allowed back to back. The limit is
    learned from the server: ``observe()`` takes each response's
    ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` and every 429's
    ``Retry-After``, which pushes every later slot past that moment (so all
    workers pause, not only the one refused). ``headroom`` (0.97) leaves a
    little of the limit unused so that network jitter does not turn into 429s.
    Plain Python and a monotonic clock: the Ray actor wraps it, tests drive it.
    """

    def __init__(
        self,
        limit_per_minute: float | None = None,
        *,
        burst: int = 1,
        headroom: float = 0.97,
        initial_per_minute: float = 60.0,
        clock: Any = time.monotonic,
    ) -> None:
        if limit_per_minute is not None and not limit_per_minute > 0:
            raise ValueError(f"limit_per_minute must be > 0, got {limit_per_minute!r}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst!r}")
        if not 0 < headroom <= 1:
            raise ValueError(f"headroom must be in (0, 1], got {headroom!r}")
        self.fixed = limit_per_minute is not None
        self.limit = float(limit_per_minute or initial_per_minute)
        self.burst = burst
        self.headroom = headroom
        self._clock = clock
        self._tat = float(clock())  # theoretical arrival time of the next request
        self.reserved = 0
        self.rate_limited = 0
        self.reports = 0

    @property
    def interval(self) -> float:
        """Seconds between two slots at the paced rate."""
        return 60.0 / (self.limit * self.headroom)

    def reserve(self) -> float:
        """Book one request; return the seconds to wait before sending it (0 for now)."""
        now = float(self._clock())
        tat = max(self._tat, now)
        delay = max(0.0, tat - (self.burst - 1) * self.interval - now)
        self._tat = tat + self.interval
        self.reserved += 1
        return delay

    def observe(
        self,
        *,
        status: int,
        limit: float | None = None,
        remaining: float | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Learn from one response: its rate-limit headers, and whether it was a 429."""
        now = float(self._clock())
        self.reports += 1
        if limit is not None and limit > 0 and not self.fixed:
            self.limit = float(limit)
        if status == 429:
            self.rate_limited += 1
            pause = retry_after if retry_after is not None and retry_after >= 0 else 1.0
            self._tat = max(self._tat, now + pause)
        elif remaining is not None and remaining <= 0:
            # The server's bucket is empty though we paced: wait one slot more.
            self._tat = max(self._tat, now + self.interval)

    def stats(self) -> dict[str, float]:
        """What the pacer did: reservations, 429s seen, the limit it paces at."""
        return {
            "reserved": self.reserved,
            "rateLimited": self.rate_limited,
            "limitPerMinute": self.limit,
            "reports": self.reports,
        }


class BudgetActor:
    """The body of the shared budget actor (``ray.remote(BudgetActor)``): one :class:`Pacer`.

    Its methods are ``async`` so that Ray runs it as an async actor: calls
    from every worker are served one at a time on its event loop, which keeps
    the pacer consistent without locks. Workers also register here, so a
    driver can find (and, in tests, kill) them.
    """

    def __init__(self, limit_per_minute: float | None, burst: int, headroom: float) -> None:
        self._pacer = Pacer(limit_per_minute, burst=burst, headroom=headroom, clock=time.time)
        self._workers: list[Any] = []

    async def reserve(self) -> float:
        """Book one request; the wall-clock moment (``time.time()``) to send it at.

        An absolute moment rather than a delay: the answer reaches the worker
        after a delay of its own (longer on a loaded machine), and a relative
        wait would shift each send by it, bunching requests the server counts.
        Across nodes this relies on clocks kept in step (NTP), as usual.
        """
        return time.time() + self._pacer.reserve()

    async def observe(
        self,
        status: int,
        limit: float | None,
        remaining: float | None,
        retry_after: float | None,
    ) -> None:
        """Feed one response's rate-limit headers (or 429) into the pacer."""
        self._pacer.observe(
            status=status, limit=limit, remaining=remaining, retry_after=retry_after
        )

    async def register(self, worker: Any) -> None:
        """Remember a worker actor's handle."""
        self._workers.append(worker)

    async def workers(self) -> list[Any]:
        """The handles of the workers that registered (restarted ones twice)."""
        return list(self._workers)

    async def stats(self) -> dict[str, float]:
        """The pacer's counters."""
        return self._pacer.stats()
