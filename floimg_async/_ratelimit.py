"""The client-wide rate-limit gate: after a 429, hold requests, then pace them.

A 429's ``Retry-After`` says when to try again; releasing every waiting task at
that moment would have them all hit a token bucket that refilled only a few
tokens, earning a fresh 429 each. So when the 429 also says the limit
(``X-RateLimit-Limit``, requests per minute), requests leave one by one at that
rate for a minute afterwards. Pure: time is passed in, nothing sleeps here.

:class:`RateLimitInfo` is what the ``X-RateLimit-*`` headers of one response
said, read liberally (a value that makes no sense is ``None``, never an error):
``client.rate_limit`` and :class:`~floimg_async.RawResponse` show it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import attrs

__all__ = ["RateGate", "RateLimitInfo"]

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


# -- what the X-RateLimit-* headers said -------------------------------------------------------

# Longer header values are not numbers or dates anyone sends: ignored, not parsed.
_MAX_VALUE_CHARS = 64
# Counts are kept when below this (2**53: every such int is exact as a float).
_MAX_COUNT = 2**53
# X-RateLimit-Reset numbers: below 1e9 (September 2001) a number of seconds from
# the response; up to 1e11 Unix seconds; 1e12 to 1e14 Unix milliseconds.
_DELTA_BELOW = 1e9
_SECONDS_BELOW = 1e11
_MILLIS_FROM, _MILLIS_BELOW = 1e12, 1e14


@attrs.frozen
class RateLimitInfo:
    """What a response's ``X-RateLimit-*`` headers said about the API key's rate limit.

    ``limit``: requests allowed per window (a minute for FloImg);
    ``remaining``: requests left in it; ``reset_at``: when it refills (an
    aware UTC datetime). Each is ``None`` when its header was missing or made
    no sense (negative, not a number, absurdly large). Read it from
    ``client.rate_limit`` (the latest response of the client's pool) or from
    a :class:`~floimg_async.RawResponse`; build one from any headers (an
    ``APIError.headers``, say) with :meth:`from_headers`.
    """

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None

    @classmethod
    def from_headers(
        cls, headers: Mapping[str, str], *, received: float | None = None
    ) -> RateLimitInfo | None:
        """Read ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` from ``headers``.

        Liberal and total: never raises for any header value (names are
        matched case-insensitively, also in a plain ``dict``). ``Reset`` may be
        Unix seconds (what FloImg sends), Unix milliseconds, seconds from when
        the response was sent, an HTTP date or an ISO 8601 date. Seconds count
        from ``received`` (a Unix time), else the response's ``Date`` header,
        else now. Returns ``None`` when none of the three headers held a
        usable value.
        """
        limit = _count(_header(headers, "x-ratelimit-limit"))
        remaining = _count(_header(headers, "x-ratelimit-remaining"))
        raw_reset = _header(headers, "x-ratelimit-reset")
        if raw_reset is not None and received is None:
            received = _date_header(_header(headers, "date"))
        reset_at = _reset_at(raw_reset, received)
        if limit is None and remaining is None and reset_at is None:
            return None
        return cls(limit, remaining, reset_at)

    def seconds_until_reset(self, now: datetime | None = None) -> float | None:
        """Seconds from ``now`` (default: the current time) until ``reset_at``; 0 once past.

        ``None`` when the reset time is unknown.
        """
        if self.reset_at is None:
            return None
        now = now if now is not None else datetime.now(timezone.utc)
        return max(0.0, (self.reset_at - now).total_seconds())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """``headers[name]`` looked up case-insensitively, even in a plain dict."""
    value = headers.get(name)
    if value is None:
        for key, item in headers.items():
            if isinstance(key, str) and key.lower() == name:
                return item if isinstance(item, str) else None
    return value if isinstance(value, str) else None


def _date_header(raw: str | None) -> float | None:
    """The Unix time of an HTTP ``Date`` header, or None."""
    if raw is None or len(raw) > _MAX_VALUE_CHARS:
        return None
    date = _date(raw.strip())
    return date.timestamp() if date is not None else None


def _number(raw: str) -> float | None:
    """A finite, non-negative number, or None."""
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _count(raw: str | None) -> int | None:
    """A header's count: the first of a list (``60, 60``), parameters (``;w=60``) dropped."""
    if raw is None or len(raw) > _MAX_VALUE_CHARS:
        return None
    value = _number(raw.split(",", 1)[0].split(";", 1)[0].strip())
    if value is None or value >= _MAX_COUNT:
        return None
    return int(value)


def _reset_at(raw: str | None, received: float | None) -> datetime | None:
    if raw is None or len(raw) > _MAX_VALUE_CHARS:
        return None
    text = raw.split(";", 1)[0].strip()
    value = _number(text)
    if value is not None:
        if value < _DELTA_BELOW:
            base = received if received is not None else time.time()
            return _from_unix(base) + timedelta(seconds=value) if _sane(base) else None
        if value < _SECONDS_BELOW:
            return _from_unix(value)
        if _MILLIS_FROM <= value < _MILLIS_BELOW:
            return _from_unix(value / 1000)
        return None
    return _date(text)


def _sane(unix: float) -> bool:
    return math.isfinite(unix) and 0 <= unix < _SECONDS_BELOW


def _from_unix(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, tz=timezone.utc)


def _date(text: str) -> datetime | None:
    """An HTTP date (``Tue, 01 Dec 2026 10:00:00 GMT``) or ISO 8601 date, in UTC; else None."""
    parsed: datetime | None = None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        try:
            iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
            parsed = datetime.fromisoformat(iso)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None
