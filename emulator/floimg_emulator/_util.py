"""Small shared pieces: ids, timestamps, JSON responses and the error envelope."""

from __future__ import annotations

import json
import math
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

JSONObject = dict[str, Any]
#: The largest JSON request body read (uploads stream and have their own limit).
MAX_JSON_BODY = 1024**2


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


#: How deeply a JSON request body may nest objects and arrays.
MAX_JSON_DEPTH = 32


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes) -> Any:
    """Decode a JSON request body, or raise a 400 ``invalid_request`` saying what is wrong.

    Beyond strict JSON (no ``NaN``/``Infinity``), it refuses what the emulator could
    not store or echo back: numbers too large for a double (``1e400``), strings with
    lone surrogates (``"\\ud800"``) and nesting deeper than :data:`MAX_JSON_DEPTH`.
    """
    try:
        text = raw.decode("utf-8")
        value = json.loads(text or "null", parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise invalid("The request body is not UTF-8 text") from None
    except RecursionError:
        raise invalid(f"The request body nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:
        raise invalid(f"The request body is not valid JSON: {str(exc)[:200]}") from None
    _check_json(value)
    return value


def _check_json(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:  # iterative: a hostile body must not exhaust the interpreter's stack
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                raise invalid(f"The request body nests deeper than {MAX_JSON_DEPTH} levels")
            children = list(item.items()) if isinstance(item, dict) else item
            for child in children:
                if isinstance(item, dict):
                    key, child = child
                    _check_text(key)
                stack.append((child, depth + 1))
        elif isinstance(item, str):
            _check_text(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise invalid("The request body holds a number too large to represent")


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid("The request body holds a string with a lone surrogate") from None


def control_characters(text: str) -> bool:
    """Tell whether ``text`` holds a C0/C1 control character or cannot be encoded as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text)


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
