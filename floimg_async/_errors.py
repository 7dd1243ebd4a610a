"""Every exception the SDK raises, and the one function that picks the class.

The tree::

    FloImgError                      anything this package raises on purpose   floimg_error
    ├── APIError                     the API answered with an error status     api_error
    │   ├── InvalidRequestError      400 invalid_request
    │   ├── UnauthorizedError        401 unauthorized
    │   ├── ForbiddenError           403 forbidden
    │   ├── NotFoundError            404 not_found
    │   ├── RateLimitedError         429 rate_limited          .retry_after
    │   ├── WorkflowFailedError      500 workflow_failed, or an execution that ended badly
    │   └── ServerError              any other 5xx                             server_error
    ├── APIConnectionError           no usable answer: DNS, refused, reset     connection_error
    │   └── APITimeoutError          an attempt ran out of time                timeout
    │       └── DeadlineExceededError    the call's ``deadline`` ran out      deadline_exceeded
    ├── ResponseDecodeError          a complete answer whose body is not what  bad_response
    │   │                            the API promises (not retried)
    │   └── ResponseTooLargeError    a body over the size cap for its call     response_too_large
    ├── LocalFileError               a local file could not be read/written    local_file_error
    └── WaitTimeoutError             ``executions.wait`` gave up               wait_timeout

Every class has a stable ``code`` (the right-hand column; for the API's own
errors, the API's code): scripts, logs and exit statuses can key on it.

This module imports nothing else from the package, so any module may import it.
The class is chosen by :func:`error_for_status` from the error *code* when the
body carries one, else from the HTTP status.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "DeadlineExceededError",
    "FloImgError",
    "ForbiddenError",
    "InvalidRequestError",
    "LocalFileError",
    "NotFoundError",
    "RateLimitedError",
    "ResponseDecodeError",
    "ResponseTooLargeError",
    "ServerError",
    "UnauthorizedError",
    "WaitTimeoutError",
    "WorkflowFailedError",
    "error_for_status",
    "parse_retry_after",
]

_EXCERPT_CHARS = 200
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-floimg-request-id", "x-amzn-requestid")


class FloImgError(Exception):
    """Base class of every error the SDK raises on purpose.

    ``code`` is a stable, machine-readable name of what went wrong (a class
    attribute; :class:`APIError` instances carry the API's own code).
    """

    code: str = "floimg_error"


class APIError(FloImgError):
    """The API answered with an error status.

    Attributes are what the response said: ``status`` (HTTP status), ``code``
    (the API's error code, e.g. ``"not_found"``; the class's own code when the
    body had none), ``message``, ``details`` (a dict, possibly empty), ``request_id``
    (from the ``X-Request-Id`` header), ``headers`` (the response headers) and
    ``retry_after`` (seconds the server asked to wait before retrying, from
    ``Retry-After`` or the body's ``retryAfter``; ``None`` when it said nothing).
    """

    code = "api_error"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        self.code = code if code is not None else type(self).code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        self.request_id = request_id
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        super().__init__(message)

    def __str__(self) -> str:
        text = f"{self.status} {self.code or 'error'}: {self.message}"
        if self.request_id:
            text += f" (request_id={self.request_id})"
        return text


class InvalidRequestError(APIError):
    """400 ``invalid_request``: the request body or parameters were rejected."""

    code = "invalid_request"


class UnauthorizedError(APIError):
    """401 ``unauthorized``: the API key is missing or invalid."""

    code = "unauthorized"


class ForbiddenError(APIError):
    """403 ``forbidden``: the key lacks the scope this call needs."""

    code = "forbidden"


class NotFoundError(APIError):
    """404 ``not_found``: the resource does not exist (or is not this account's)."""

    code = "not_found"


class RateLimitedError(APIError):
    """429 ``rate_limited``: too many requests.

    ``retry_after`` is the number of seconds the API asked to wait (from the
    ``Retry-After`` header or the body's ``retryAfter``), or ``None``.
    """

    code = "rate_limited"


class WorkflowFailedError(APIError):
    """A workflow execution failed.

    Raised for a 500 ``workflow_failed`` answer, and by ``executions.wait`` when
    an execution ends ``failed``, ``error`` or ``cancelled``; ``execution`` is
    that :class:`~floimg_async.Execution` when one is known, else ``None``.
    """

    code = "workflow_failed"

    def __init__(self, message: str, *, execution: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.execution = execution


class ServerError(APIError):
    """Any other 5xx answer (retried automatically)."""

    code = "server_error"


class APIConnectionError(FloImgError):
    """The request could not be completed: DNS, refused, reset, or a truncated body."""

    code = "connection_error"


class APITimeoutError(APIConnectionError):
    """An attempt exceeded ``timeout``, or the call exceeded its ``deadline``."""

    code = "timeout"


class ResponseDecodeError(FloImgError):
    """A complete response whose body is not what the API documents (bad JSON or shape).

    ``status`` is the HTTP status and ``body_excerpt`` the start of the body.
    Not retried: the same request would most likely get the same answer. Not
    an :class:`APIConnectionError` (since 0.2): the connection worked.
    """

    code = "bad_response"

    def __init__(self, message: str, *, status: int, body_excerpt: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body_excerpt = body_excerpt


class DeadlineExceededError(APITimeoutError):
    """The call's ``deadline`` ran out (retries and their waits included).

    Raised instead of sleeping when the next retry, or a rate-limit wait, could
    not begin before the deadline. Not retried.
    """

    code = "deadline_exceeded"


class ResponseTooLargeError(ResponseDecodeError):
    """A response body was larger than the client accepts for that kind of call.

    API answers are capped by ``FloImg(max_response_bytes=...)`` and downloads
    by ``max_download_bytes`` (decompressed bytes count, so a compressed "bomb"
    stops at the cap). Not retried. ``limit`` is the cap that was passed.
    """

    code = "response_too_large"

    def __init__(self, message: str, *, status: int, limit: int) -> None:
        super().__init__(message, status=status)
        self.limit = limit


class LocalFileError(FloImgError):
    """A local file could not be read or written; ``path`` names it.

    Raised for a download whose destination cannot be written (a folder in the
    way, disk full, a name too long or with a NUL), and for an upload whose
    file changed size while it was being sent. Never retried: the server is not
    at fault. The ``OSError`` (when there is one) is chained as ``__cause__``.
    """

    code = "local_file_error"

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class WaitTimeoutError(FloImgError):
    """``executions.wait`` (or ``workflows.run``) ran out of time.

    The execution is still going on the server; ``execution`` is the last state
    seen, so its ``id`` can be waited on again later.
    """

    code = "wait_timeout"

    def __init__(self, message: str, *, execution: Any) -> None:
        super().__init__(message)
        self.execution = execution


_BY_CODE: dict[str, type[APIError]] = {
    "invalid_request": InvalidRequestError,
    "unauthorized": UnauthorizedError,
    "forbidden": ForbiddenError,
    "not_found": NotFoundError,
    "rate_limited": RateLimitedError,
    "workflow_failed": WorkflowFailedError,
}
_BY_STATUS: dict[int, type[APIError]] = {
    400: InvalidRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    422: InvalidRequestError,
    429: RateLimitedError,
}


def _class_for(status: int, code: str | None) -> type[APIError]:
    if code is not None and code in _BY_CODE:
        return _BY_CODE[code]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return APIError


def excerpt(body: bytes, limit: int = _EXCERPT_CHARS) -> str:
    """Return the first ``limit`` characters of ``body`` as one readable line."""
    text = body[: limit * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_retry_after(value: object, *, now: float | None = None) -> float | None:
    """Read a ``Retry-After`` value: seconds (``"15"``, ``2.5``) or an HTTP date.

    Returns the seconds to wait (never negative), or ``None`` when the value is
    missing, negative or garbage, so the caller falls back to its own backoff.
    ``now`` (a Unix time) is only for tests of the HTTP-date form.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:  # a JSON integer too large for a float: garbage
            return None
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            try:
                when = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
            if when is None or when.tzinfo is None:
                return None
            seconds = max(0.0, when.timestamp() - (time.time() if now is None else now))
    else:
        return None
    if seconds != seconds or seconds < 0 or seconds == float("inf"):  # NaN, negative, inf
        return None
    return seconds


def _request_id(headers: Mapping[str, str]) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def error_for_status(status: int, headers: Mapping[str, str], body: bytes) -> APIError:
    """Build the right :class:`APIError` for an error response. Pure: no I/O.

    Understands the envelope ``{"error": {"code", "message", "details",
    "retryAfter"}}``, the flat ``{"error": "message", "code": "..."}``, and any
    other body (an HTML page from a proxy), which is summarised in the message.
    ``headers`` must look names up case-insensitively (aiohttp's do).
    """
    code: str | None = None
    message: str | None = None
    details: Mapping[str, Any] = {}
    body_retry_after: object = None
    try:
        payload: Any = json.loads(body) if body else None
    except (ValueError, RecursionError):  # not JSON, or nested past the recursion limit
        payload = None
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict):
            code = _str_or_none(error.get("code"))
            message = _str_or_none(error.get("message"))
            raw_details = error.get("details")
            details = raw_details if isinstance(raw_details, dict) else {}
            body_retry_after = error.get("retryAfter", error.get("retry_after"))
        elif isinstance(error, str):
            message = error
            code = _str_or_none(payload.get("code"))
            raw_details = payload.get("details")
            details = raw_details if isinstance(raw_details, dict) else {}
            body_retry_after = payload.get("retryAfter")
        else:
            code = _str_or_none(payload.get("code"))
            message = _str_or_none(payload.get("message"))
    if message is None:
        snippet = excerpt(body)
        message = f"HTTP {status} with a non-API body: {snippet}" if snippet else f"HTTP {status}"
    retry_after = parse_retry_after(headers.get("retry-after"))
    if retry_after is None:
        retry_after = parse_retry_after(body_retry_after)
    return _class_for(status, code)(
        message,
        status=status,
        code=code,
        details=details,
        request_id=_request_id(headers),
        headers=headers,
        retry_after=retry_after,
    )


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)
