"""Small shared pieces: ids, timestamps, JSON responses and the error envelope."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

JSONObject = dict[str, Any]


def new_id(prefix: str) -> str:
    """Return a fresh random id such as ``exec_3f9a…``."""
    return f"{prefix}_{secrets.token_hex(12)}"


def now() -> float:
    """Return the wall-clock time as Unix seconds (what timestamps are stored as)."""
    return time.time()


def iso(ts: float | None) -> str | None:
    """Format Unix seconds like JavaScript's ``toISOString()``: ``2026-01-15T10:30:00.123Z``."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def dumps(data: Any) -> bytes:
    """Serialise ``data`` as compact UTF-8 JSON."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(data: Any, status: int = 200) -> web.Response:
    """Build a JSON response."""
    return web.Response(status=status, body=dumps(data), content_type="application/json")


def envelope(
    code: str, message: str, details: JSONObject | None = None, **extra: Any
) -> JSONObject:
    """Build the API's error body ``{"error": {"code", "message", "details"}}``."""
    error: JSONObject = {"code": code, "message": message, "details": details or {}}
    error.update(extra)
    return {"error": error}


class ApiError(Exception):
    """An error the API answers with its envelope; raised by handlers, rendered once."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: JSONObject | None = None,
        *,
        headers: dict[str, str] | None = None,
        extra: JSONObject | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}
        self.extra = extra or {}

    def to_response(self) -> web.Response:
        """Render this error as an HTTP response."""
        resp = json_response(
            envelope(self.code, self.message, self.details, **self.extra), self.status
        )
        resp.headers.update(self.headers)
        return resp


def invalid(
    message: str, field: str | None = None, reason: str | None = None, **more: Any
) -> ApiError:
    """Return a 400 ``invalid_request`` error naming the offending ``field``."""
    details: JSONObject = {}
    if field is not None:
        details["field"] = field
    if reason is not None:
        details["reason"] = reason
    details.update(more)
    return ApiError(400, "invalid_request", message, details)


def not_found(what: str, ident: str) -> ApiError:
    """Return a 404 ``not_found`` error for the resource ``what`` with id ``ident``."""
    return ApiError(404, "not_found", f"{what} {ident} doesn't exist", {"id": ident})


@dataclass(frozen=True)
class ApiResult:
    """A handler's answer before it becomes a response: status and JSON body."""

    status: int
    body: Any

    def to_response(self) -> web.Response:
        """Render this result as an HTTP response."""
        return json_response(self.body, self.status)
