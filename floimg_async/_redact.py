"""Redaction, in one place: keep the API key and URL passwords out of everything we show.

A server (or a proxy in front of it) may echo the ``Authorization`` header back
anywhere: an error body, ``X-Request-Id``, a redirect ``Location``. And a URL
may carry ``user:password@``. Every string that comes from a server or a URL
and reaches an exception (message, attributes, chained causes), a log line or
a ``repr`` goes through :func:`scrub` first.

Pure: imports nothing from aiohttp. The transport adds a cleaner for the
attributes aiohttp's own exceptions carry (``request_info``, ``history``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from ._errors import APIError, ResponseDecodeError

__all__ = [
    "MAX_DEPTH",
    "REDACTED",
    "mask_userinfo",
    "redact",
    "scrub",
    "scrub_headers",
    "scrub_value",
]

REDACTED = "[redacted]"
# How deep a server's nested JSON is kept in an error; deeper parts are cut, so
# repr(), str() and json.dumps() of ``details`` can never hit the recursion limit.
MAX_DEPTH = 32
TRUNCATED = "[truncated: nested too deeply]"

# scheme://user:password@  — the password is replaced, the user name kept.
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^/?#@\s:]*):[^/?#@\s]*@")


def mask_userinfo(text: str) -> str:
    """Replace the password of every ``scheme://user:password@`` in ``text`` with ``***``."""
    if "@" not in text:
        return text
    return _USERINFO.sub(r"\1:***@", text)


def scrub(text: str, secret: str) -> str:
    """``text`` without ``secret`` (the API key) and without URL passwords."""
    if secret and secret in text:
        text = text.replace(secret, REDACTED)
    return mask_userinfo(text)


def scrub_value(value: Any, secret: str, depth: int = 0) -> Any:
    """A copy of a JSON-like value with every string scrubbed, cut at :data:`MAX_DEPTH`.

    Recursion is bounded by the depth cut, so no input can raise RecursionError.
    """
    if isinstance(value, str):
        return scrub(value, secret)
    if isinstance(value, Mapping):
        if depth >= MAX_DEPTH:
            return TRUNCATED
        return {
            scrub(k, secret) if isinstance(k, str) else k: scrub_value(v, secret, depth + 1)
            for k, v in value.items()
        }
    if type(value) is list or type(value) is tuple:  # not named tuples: cleaners own those
        if depth >= MAX_DEPTH:
            return TRUNCATED
        items = [scrub_value(item, secret, depth + 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value


_SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def scrub_headers(headers: Mapping[str, str], secret: str) -> Mapping[str, str]:
    """Headers with every value scrubbed; the same object when nothing needed it.

    The result looks names up case-insensitively, as aiohttp's headers do.
    ``Authorization``-like headers are dropped altogether.
    """
    dirty = False
    for name, value in headers.items():
        if (
            name.lower() in _SENSITIVE_HEADERS
            or (secret and secret in value)
            or ("@" in value and mask_userinfo(value) != value)
        ):
            dirty = True
            break
    if not dirty:
        return headers
    clean: CIMultiDict[str] = CIMultiDict()
    for name, value in headers.items():
        if name.lower() not in _SENSITIVE_HEADERS:
            clean.add(name, scrub(value, secret))
    return CIMultiDictProxy(clean)


Cleaner = Callable[[BaseException, Callable[[str], str]], None]

# How many exceptions of a __cause__/__context__ chain are cleaned at most.
_MAX_CHAIN = 64


def redact(error: BaseException, secret: str, cleaner: Cleaner | None = None) -> BaseException:
    """Scrub ``error`` and every exception chained to it, in place; return ``error``.

    Cleans ``args``, every string attribute, an :class:`APIError`'s
    ``message``/``details``/``request_id``/``headers`` and a decode error's
    ``body_excerpt``, then does the same along ``__cause__`` and ``__context__``.
    ``cleaner`` handles attributes only the transport knows (aiohttp's).
    """

    def text(value: str) -> str:
        return scrub(value, secret)

    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo and len(seen) < _MAX_CHAIN:
        exc = todo.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        if cleaner is not None:
            cleaner(exc, text)
        _clean_one(exc, secret)
        for linked in (exc.__cause__, exc.__context__):
            if linked is not None:
                todo.append(linked)
    return error


def _clean_one(exc: BaseException, secret: str) -> None:
    with contextlib.suppress(AttributeError, TypeError):  # a class with read-only args
        exc.args = tuple(scrub_value(arg, secret) for arg in exc.args)
    if isinstance(exc, APIError):
        exc.message = scrub(exc.message, secret)
        exc.details = scrub_value(exc.details, secret)
        if exc.request_id is not None:
            exc.request_id = scrub(exc.request_id, secret)
        exc.headers = scrub_headers(exc.headers, secret)
    elif isinstance(exc, ResponseDecodeError):
        exc.body_excerpt = scrub(exc.body_excerpt, secret)
    attributes = getattr(exc, "__dict__", None)
    if attributes:
        for name, value in list(attributes.items()):
            if isinstance(value, str):
                cleaned = scrub(value, secret)
                if cleaned != value:
                    setattr(exc, name, cleaned)
