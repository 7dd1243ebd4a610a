"""The error parser is pure: bytes, status and headers in, the right class out."""

from __future__ import annotations

from pathlib import Path

import pytest
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

SAMPLES = Path(__file__).parent / "samples" / "errors"

EXPECTED: dict[str, tuple[type[APIError], str | None, str]] = {
    "404_not_found_envelope.json": (NotFoundError, "not_found", "Workflow wf_x doesn't exist"),
    "400_invalid_request_envelope.json": (
        InvalidRequestError,
        "invalid_request",
        "Missing required parameter",
    ),
    "429_rate_limited_body_retry_after.json": (RateLimitedError, "rate_limited", "Too many"),
    "500_workflow_failed_flat.json": (WorkflowFailedError, "workflow_failed", "step resize"),
    "403_forbidden_flat.json": (ForbiddenError, "forbidden", "lacks scope"),
    "401_unauthorized_envelope.json": (UnauthorizedError, "unauthorized", "Invalid API key"),
    "502_html_proxy.html": (ServerError, "server_error", "502 Bad Gateway"),
    "400_code_wins_over_status.json": (NotFoundError, "not_found", "No such route"),
    "503_unknown_shape.json": (ServerError, "server_error", "Service down"),
}


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_recorded_samples_map_to_the_documented_class(sample: str) -> None:
    status = int(sample.split("_", 1)[0])
    body = (SAMPLES / sample).read_bytes()
    headers = CIMultiDict({"X-Request-Id": "req_42"})
    cls, code, fragment = EXPECTED[sample]

    error = error_for_status(status, headers, body)

    assert type(error) is cls
    assert error.status == status
    assert error.code == code
    assert fragment in error.message
    assert error.request_id == "req_42"


def test_str_reads_status_code_message_and_request_id() -> None:
    body = (SAMPLES / "404_not_found_envelope.json").read_bytes()
    error = error_for_status(404, CIMultiDict({"x-request-id": "req_abc"}), body)
    assert str(error) == "404 not_found: Workflow wf_x doesn't exist (request_id=req_abc)"


def test_details_are_kept() -> None:
    body = (SAMPLES / "400_invalid_request_envelope.json").read_bytes()
    error = error_for_status(400, CIMultiDict(), body)
    assert error.details == {"field": "prompt"}


def test_html_body_gives_a_short_excerpt_not_the_whole_page() -> None:
    body = b"<html><body>" + b"x" * 5000 + b"</body></html>"
    error = error_for_status(504, CIMultiDict(), body)
    assert isinstance(error, ServerError)
    assert "<html><body>xxx" in error.message
    assert len(error.message) < 300


def test_retry_after_header_wins_over_body() -> None:
    body = (SAMPLES / "429_rate_limited_body_retry_after.json").read_bytes()
    with_header = error_for_status(429, CIMultiDict({"Retry-After": "3"}), body)
    without = error_for_status(429, CIMultiDict(), body)
    assert isinstance(with_header, RateLimitedError)
    assert with_header.retry_after == 3.0
    assert without.retry_after == 15.0


def test_status_decides_when_there_is_no_code() -> None:
    assert type(error_for_status(429, CIMultiDict(), b"")) is RateLimitedError
    assert type(error_for_status(404, CIMultiDict(), b"not json")) is NotFoundError
    assert type(error_for_status(599, CIMultiDict(), b"")) is ServerError
    assert type(error_for_status(418, CIMultiDict(), b"")) is APIError


def test_unknown_code_falls_back_to_status() -> None:
    body = b'{"error": {"code": "teapot", "message": "short and stout"}}'
    error = error_for_status(503, CIMultiDict(), body)
    assert type(error) is ServerError
    assert error.code == "teapot"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("15", 15.0),
        ("2.5", 2.5),
        (7, 7.0),
        ("0", 0.0),
        ("-3", None),
        ("soon", None),
        ("", None),
        (None, None),
        (True, None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_parse_retry_after_seconds(value: object, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 31 Dec 2025 23:59:00 GMT", now=now) == 0.0
