"""RateLimitInfo.from_headers: liberal in what it reads, never raising, nonsense as None."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from floimg_async import RateLimitInfo

RECEIVED = 1_800_000_000.0  # 2027-01-15T08:00:00Z
AT_RECEIPT = datetime.fromtimestamp(RECEIVED, tz=timezone.utc)


def read(**headers: str) -> RateLimitInfo | None:
    names = {"limit": "X-RateLimit-Limit", "remaining": "x-ratelimit-remaining"}
    names["reset"] = "X-RATELIMIT-RESET"
    return RateLimitInfo.from_headers({names[k]: v for k, v in headers.items()}, received=RECEIVED)


@pytest.mark.parametrize(
    ("raw", "count"),
    [
        ("60", 60), (" 60 ", 60), ("0", 0), ("60.0", 60), ("59.9", 59), ("60, 60", 60),
        ("60;w=60", 60), ("1e3", 1000), (str(2**53 - 1), 2**53 - 1),
        # nonsense: None
        ("-1", None), ("-0.5", None), ("abc", None), ("", None), ("nan", None), ("inf", None),
        ("-inf", None), ("1e400", None), (str(2**53), None), ("9" * 30, None), ("9" * 5000, None),
        ("0x10", None), ("Tue, 01 Dec 2026 10:00:00 GMT", None), ("2026-12-01", None),
        (",", None), (";", None), ("\x00", None),
    ],
)  # fmt: skip
def test_counts(raw: str, count: int | None) -> None:
    info = read(limit=raw, remaining=raw)
    if count is None:
        assert info is None
    else:
        assert info == RateLimitInfo(limit=count, remaining=count, reset_at=None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Unix seconds, as FloImg documents (and fractions of them)
        ("1900000000", datetime(2030, 3, 17, 17, 46, 40, tzinfo=timezone.utc)),
        ("1900000000.5", datetime(2030, 3, 17, 17, 46, 40, 500000, tzinfo=timezone.utc)),
        # Unix milliseconds
        ("1900000000000", datetime(2030, 3, 17, 17, 46, 40, tzinfo=timezone.utc)),
        # seconds from the response (the IETF RateLimit-Reset style)
        ("0", AT_RECEIPT),
        ("30", AT_RECEIPT + timedelta(seconds=30)),
        ("86400", AT_RECEIPT + timedelta(days=1)),
        # dates instead of timestamps
        ("Tue, 01 Dec 2026 10:00:00 GMT", datetime(2026, 12, 1, 10, tzinfo=timezone.utc)),
        ("2026-12-01T10:00:00Z", datetime(2026, 12, 1, 10, tzinfo=timezone.utc)),
        ("2026-12-01T12:00:00+02:00", datetime(2026, 12, 1, 10, tzinfo=timezone.utc)),
        ("2026-12-01T10:00:00", datetime(2026, 12, 1, 10, tzinfo=timezone.utc)),
        # nonsense: None
        ("-1", None), ("soon", None), ("", None), ("nan", None), ("inf", None), ("1e400", None),
        ("500000000000", None),  # between Unix seconds and milliseconds: neither
        ("1" + "0" * 20, None), ("9" * 5000, None),
        ("0001-01-01T00:00:00+14:00", None), ("9999-12-31T23:59:59-14:00", None),
        ("Tue, 99 Foo 2026 99:99:99 GMT", None), ("2026-13-45", None),
    ],
)  # fmt: skip
def test_reset(raw: str, expected: datetime | None) -> None:
    info = read(reset=raw)
    if expected is None:
        assert info is None
    else:
        assert info is not None and info.reset_at == expected
        assert info.reset_at.tzinfo is not None and info.reset_at.utcoffset() == timedelta(0)


def test_a_delta_reset_without_a_receipt_time_counts_from_now() -> None:
    before = datetime.now(timezone.utc)
    info = RateLimitInfo.from_headers({"X-RateLimit-Reset": "30"})
    after = datetime.now(timezone.utc)
    assert info is not None and info.reset_at is not None
    assert before + timedelta(seconds=30) <= info.reset_at <= after + timedelta(seconds=30)


def test_each_field_stands_alone() -> None:
    assert read(limit="60", remaining="lots", reset="soon") == RateLimitInfo(60, None, None)
    assert read(remaining="3") == RateLimitInfo(None, 3, None)
    assert RateLimitInfo.from_headers({}) is None
    assert RateLimitInfo.from_headers({"Retry-After": "5"}) is None


def test_seconds_until_reset() -> None:
    info = RateLimitInfo(60, 0, AT_RECEIPT + timedelta(seconds=12.5))
    assert info.seconds_until_reset(AT_RECEIPT) == 12.5
    assert info.seconds_until_reset(AT_RECEIPT + timedelta(hours=1)) == 0.0
    assert RateLimitInfo(60, 0, None).seconds_until_reset() is None
    future = RateLimitInfo(60, 0, datetime.now(timezone.utc) + timedelta(minutes=5))
    seconds = future.seconds_until_reset()
    assert seconds is not None and 0 < seconds <= 300


def test_it_is_frozen_and_comparable() -> None:
    info = RateLimitInfo(60, 1, None)
    with pytest.raises(AttributeError):
        info.remaining = 5  # type: ignore[misc]
    assert info == RateLimitInfo(60, 1, None) and hash(info) == hash(RateLimitInfo(60, 1, None))


header_value = st.one_of(
    st.text(max_size=80),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.isoformat()),
)


@settings(max_examples=300, deadline=None)
@given(
    limit=st.none() | header_value,
    remaining=st.none() | header_value,
    reset=st.none() | header_value,
    received=st.none() | st.floats(allow_nan=True, allow_infinity=True),
)
def test_any_header_values_give_sane_fields_or_none(
    limit: str | None, remaining: str | None, reset: str | None, received: float | None
) -> None:
    headers = {
        name: value
        for name, value in [
            ("X-RateLimit-Limit", limit),
            ("X-RateLimit-Remaining", remaining),
            ("X-RateLimit-Reset", reset),
        ]
        if value is not None
    }
    info = RateLimitInfo.from_headers(headers, received=received)
    if info is None:
        return
    for count in (info.limit, info.remaining):
        assert count is None or (isinstance(count, int) and 0 <= count < 2**53)
    if info.reset_at is not None:
        assert info.reset_at.utcoffset() == timedelta(0)
        assert info.seconds_until_reset() is not None


def test_a_delta_reset_counts_from_the_date_header_when_no_receipt_time_is_given() -> None:
    headers = {"X-RateLimit-Reset": "30", "Date": "Tue, 01 Dec 2026 10:00:00 GMT"}
    info = RateLimitInfo.from_headers(headers)
    assert info is not None
    assert info.reset_at == datetime(2026, 12, 1, 10, 0, 30, tzinfo=timezone.utc)
    # An unusable Date falls back to now; an explicit receipt time wins over Date.
    garbage = RateLimitInfo.from_headers({**headers, "Date": "yesterday"})
    assert garbage is not None and garbage.reset_at is not None
    assert garbage.reset_at > datetime.now(timezone.utc)
    explicit = RateLimitInfo.from_headers(headers, received=RECEIVED)
    assert explicit is not None and explicit.reset_at == AT_RECEIPT + timedelta(seconds=30)
