"""Any error response becomes the right APIError; any Retry-After becomes a sane number.

``error_for_status`` and ``parse_retry_after`` are pure, so hypothesis throws
everything at them: any status 400-599, any headers, any bytes, envelopes and
flat bodies with any code, and JSON of any shape.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from _propcount import ran
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from floimg_async import (
    APIError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnauthorizedError,
    WorkflowFailedError,
)
from floimg_async._errors import error_for_status, parse_retry_after

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BY_CODE: dict[str, type[APIError]] = {
    "invalid_request": InvalidRequestError,
    "unauthorized": UnauthorizedError,
    "forbidden": ForbiddenError,
    "not_found": NotFoundError,
    "rate_limited": RateLimitedError,
    "workflow_failed": WorkflowFailedError,
}
BY_STATUS: dict[int, type[APIError]] = {
    400: InvalidRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    422: InvalidRequestError,
    429: RateLimitedError,
}

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)
codes = st.sampled_from([*BY_CODE, "internal_error", "", "NOT_FOUND"]) | st.text(max_size=12)
any_code = codes | json_values
retry_after_values = (
    st.none()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(
        ["15", "2.5", " 7 ", "-3", "nan", "inf", "1e999", "Wed, 21 Oct 2015 07:28:00 GMT"]
    )
)
envelopes = st.builds(
    lambda code, message, details, retry: {
        "error": {"code": code, "message": message, "details": details, "retryAfter": retry}
    },
    any_code,
    st.text(max_size=50) | json_values,
    json_values,
    retry_after_values,
)
flat = st.builds(
    lambda message, code, retry: {"error": message, "code": code, "retryAfter": retry},
    st.text(max_size=50),
    any_code,
    retry_after_values,
)
json_bodies = (envelopes | flat | json_values).map(lambda v: json.dumps(v).encode())
bodies = json_bodies | st.binary(max_size=300) | st.text(max_size=300).map(str.encode)
header_maps = st.dictionaries(
    st.sampled_from(["Retry-After", "retry-after", "X-Request-Id", "Content-Type", "X-Other"])
    | st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12),
    st.text(max_size=40),
    max_size=5,
)


def expected_class(status: int, body: bytes) -> type[APIError]:
    """An independent statement of the contract: the code when the body has a known one,
    else the HTTP status."""
    try:
        payload: Any = json.loads(body)
    except (ValueError, RecursionError):
        payload = None
    code: object = None
    if isinstance(payload, dict):
        error = payload.get("error")
        code = error.get("code") if isinstance(error, dict) else payload.get("code")
    if code is not None and not isinstance(code, str):
        code = str(code)
    if isinstance(code, str) and code in BY_CODE:
        return BY_CODE[code]
    if status in BY_STATUS:
        return BY_STATUS[status]
    return ServerError if status >= 500 else APIError


@SETTINGS
@given(status=st.integers(400, 599), headers=header_maps, body=bodies)
def test_property_error_for_status_always_gives_the_right_api_error(
    status: int, headers: dict[str, str], body: bytes
) -> None:
    ran("error_for_status")
    error = error_for_status(status, CIMultiDict(headers), body)
    assert type(error) is expected_class(status, body)
    assert isinstance(error.message, str)
    assert error.status == status
    assert isinstance(error.details, dict)
    assert error.code is None or isinstance(error.code, str)
    assert error.retry_after is None or (
        math.isfinite(error.retry_after) and error.retry_after >= 0
    )
    text = str(error)
    assert isinstance(text, str) and text.startswith(str(status))
    assert len(error.message) < 2000 or error.message in body.decode("utf-8", "replace")


@SETTINGS
@given(value=retry_after_values | json_values)
def test_property_parse_retry_after_never_raises(value: object) -> None:
    ran("parse_retry_after")
    seconds = parse_retry_after(value)
    assert seconds is None or (isinstance(seconds, float) and math.isfinite(seconds))
    assert seconds is None or seconds >= 0


@SETTINGS
@given(
    when=st.datetimes(timezones=st.timezones()),
    now=st.floats(min_value=0, max_value=4e9),
)
def test_property_parse_retry_after_http_dates(when: Any, now: float) -> None:
    ran("parse_retry_after_dates")
    from email.utils import format_datetime

    try:
        text = format_datetime(when)
    except (ValueError, OverflowError):
        return
    seconds = parse_retry_after(text, now=now)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


@pytest.mark.parametrize(
    "value",
    [10**400, -(10**400), "1" + "0" * 400, 1e308 * 10, float("nan"), "Infinity", "-0"],
    ids=["int_1e400", "int_-1e400", "str_1e400", "float_inf", "nan", "str_Infinity", "str_-0"],
)
def test_property_parse_retry_after_extremes(value: object) -> None:
    seconds = parse_retry_after(value)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


@pytest.mark.parametrize("status", [429, 503])
def test_property_huge_integer_retry_after_in_body(status: int) -> None:
    """A JSON integer too big for a float (legal JSON) in ``retryAfter`` is not a crash."""
    body = b'{"error": {"code": "rate_limited", "message": "m", "retryAfter": 1' + b"0" * 400
    body += b"}}"
    error = error_for_status(status, CIMultiDict(), body)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after is None


@pytest.mark.parametrize("status", [400, 429, 500, 502])
def test_property_deeply_nested_error_body(status: int) -> None:
    """Nesting deeper than Python's recursion limit (a 200 KB body) is a non-API body,
    not a RecursionError."""
    body = b"[" * 100_000 + b"]" * 100_000
    error = error_for_status(status, CIMultiDict(), body)
    assert type(error) is expected_class(status, b"")
    assert isinstance(error.message, str)
