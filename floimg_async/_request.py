"""The pure core of a call: what to send, built without any I/O.

Resources turn their arguments into a :class:`Request`; the transport sends
it. Nothing here touches the network, so all of it is tested synchronously.
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import quote, urljoin, urlsplit

from ._redact import mask_userinfo
from ._uploads import UploadBody

__all__ = [
    "Request",
    "download_request",
    "json_body",
    "new_idempotency_key",
    "normalize_base_url",
    "origin_of",
    "page_params",
    "path",
]

DEFAULT_BASE_URL = "https://api.floimg.com/v1"

# Characters that are the same percent-encoded or not (RFC 3986 unreserved).
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")


class Request(NamedTuple):
    """One logical API call; the transport may send it several times (retries).

    ``path`` is relative to the base URL and already percent-encoded.
    A ``path`` that is an absolute URL (downloads) is used as it is.
    ``json`` is the encoded JSON body; ``upload`` a multipart body that can be
    re-opened per attempt. ``what`` names the call in error messages and logs.
    ``authenticated`` is false for a URL off the API's origin: no API key then.

    Immutable, so every attempt sends the same call. A named tuple rather than
    a frozen attrs class: one is built per call, and it costs a third as much.
    """

    method: str
    path: str
    what: str
    params: Mapping[str, str] | None = None
    json: bytes | None = None
    upload: UploadBody | None = None
    idempotency_key: str | None = None
    authenticated: bool = True


def segment(value: object, what: str) -> str:
    """Percent-encode one id as a single path segment (``"a/b"`` → ``"a%2Fb"``).

    Raises ``TypeError`` for a non-string and ``ValueError`` for an empty id or
    a dot segment, which no id can be and which could address another endpoint.
    """
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string id, got {type(value).__name__}")
    if value.isascii() and value.isidentifier():  # the usual wf_abc123: [A-Za-z0-9_]+
        return value
    if not value or not value.strip():
        raise ValueError(f"{what} must be a non-empty id, got {value!r}")
    if value in {".", ".."}:
        raise ValueError(f"{what} {value!r} is not a valid id")
    if _PLAIN_SEGMENT.fullmatch(value):  # the usual wf_abc123: nothing to encode
        return value
    return quote(value, safe="")


def path(*parts: str) -> str:
    """Join already-encoded segments into a relative path: ``path("a", "b")`` → ``/a/b``."""
    return "/" + "/".join(parts)


def json_body(payload: Any) -> bytes:
    """Encode a JSON body once, so every retry of a call sends the same bytes.

    The stdlib encodes request bodies (they are small), with ``allow_nan=False``:
    NaN and infinities have no JSON form, and sending them as ``NaN`` (invalid
    JSON) or ``null`` (orjson's choice) would change the caller's data.
    """
    try:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        if "Circular reference" in str(exc):
            raise TypeError(f"request body is not JSON-serialisable ({exc})") from exc
        raise ValueError(
            "request body holds a float that is NaN or infinite, which JSON cannot carry; "
            "send a finite number (or a string) instead"
        ) from exc
    except (TypeError, RecursionError) as exc:
        raise TypeError(
            f"request body is not JSON-serialisable ({exc}); parameters must be made of "
            "str, int, float, bool, None, lists and dicts"
        ) from exc
    try:
        return text.encode()
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"request body holds a string with a lone surrogate ({text[exc.start : exc.end]!r}), "
            "which is not Unicode text and cannot be sent as UTF-8; fix the string"
        ) from exc


def new_idempotency_key() -> str:
    """A fresh key for one call (a UUID4 hex string)."""
    return uuid.uuid4().hex


def page_params(limit: int, offset: int, project_id: str | None) -> dict[str, str]:
    """Query parameters of one listing page."""
    params = {"limit": str(limit), "offset": str(offset)}
    if project_id is not None:
        params["projectId"] = project_id
    return params


def check_page_size(page_size: object) -> int:
    """Validate a listing's ``page_size`` (1..100) before any request is made."""
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise TypeError(f"page_size must be an int from 1 to 100, got {page_size!r}")
    if not 1 <= page_size <= 100:
        raise ValueError(f"page_size must be from 1 to 100 (the API's maximum), got {page_size}")
    return page_size


def check_offset(offset: object) -> int:
    """Validate a listing's starting ``offset`` (a non-negative int)."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a non-negative int, got {offset!r}")
    return offset


def check_max_items(max_items: object) -> int | None:
    """Validate a listing's ``max_items`` (``None`` or a non-negative int)."""
    if max_items is None:
        return None
    if isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 0:
        raise ValueError(f"max_items must be None or a non-negative int, got {max_items!r}")
    return max_items


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_base_url(base_url: str, *, allow_insecure_http: bool = False) -> str:
    """Check a base URL and drop its trailing slash.

    Raises ``ValueError`` for anything that is not an absolute ``https`` URL,
    or ``http`` to a loopback host; plain ``http`` elsewhere would send the API
    key in clear text, so it needs ``allow_insecure_http=True``.
    """
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a string, got {type(base_url).__name__}")
    text = base_url.strip().rstrip("/")
    parts = urlsplit(text)
    if "@" in parts.netloc:
        # The key is the credential; a user:password in the URL would conflict with
        # it (aiohttp refuses both at once) and be shown wherever the URL is.
        raise ValueError(
            f"base_url must not contain a user name or password, got "
            f"{mask_userinfo(base_url)!r}; the API key authenticates the client"
        )
    if any(not ch.isprintable() or ch.isspace() for ch in text):
        raise ValueError(
            f"base_url must not contain whitespace or control characters, got {base_url!r}"
        )
    base_url = mask_userinfo(base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(
            f"base_url must be an absolute http(s) URL such as "
            f"'https://api.floimg.com/v1', got {base_url!r}"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"base_url must not have a query or fragment, got {base_url!r}")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise ValueError(
            f"refusing plain-http base_url {base_url!r}: it would send the API key unencrypted "
            "to another machine. Use https, or pass allow_insecure_http=True if you must."
        )
    return text


def origin_of(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a URL, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if scheme == "https" else 80
    return scheme, (parts.hostname or "").lower(), port


def download_request(url: str, base_url: str) -> Request:
    """The request that fetches an image at ``url`` (absolute, or relative to the API).

    Carries the API key only when the URL is on the API's origin. Raises
    ``ValueError`` for a non-http(s) URL, and for a URL on the API's origin
    with a user name or password (the key is the credential there).
    """
    absolute = urljoin(base_url + "/", url)
    parts = urlsplit(absolute)
    if parts.scheme not in {"http", "https"}:
        raise ValueError(f"cannot download {mask_userinfo(url)!r}: only http(s) URLs are supported")
    same_origin = origin_of(absolute) == origin_of(base_url)
    if same_origin and (parts.username is not None or parts.password is not None):
        raise ValueError(
            f"cannot download {mask_userinfo(url)!r}: a URL on the API's origin must not "
            "carry a user name or password"
        )
    return Request("GET", absolute, what="images.download", authenticated=same_origin)


_RESERVED_HEADERS = frozenset({"authorization", "idempotency-key"})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def check_headers(headers: object, what: str) -> dict[str, str] | None:
    """Validate extra headers: token names, printable values, none the SDK owns."""
    if headers is None:
        return None
    if not isinstance(headers, Mapping):
        raise TypeError(f"{what} must be a mapping of header names to values")
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"{what}: header names and values must be strings, got {name!r}")
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"{what}: {name!r} is not a valid header name")
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(
                f"{what} must not set {name}: the client sends it itself (pass api_key=, "
                "or idempotency_key= on the call)"
            )
        if any(ch in value for ch in "\r\n\0") or not value.isprintable():
            raise ValueError(f"{what}: the value of {name} has control characters")
        checked[name] = value
    return checked


_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


def raw_request(
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None,
    json: Any,
) -> Request:
    """The Request of ``client.request``: checked, encoded, relative to the base URL."""
    if not isinstance(method, str) or method.upper() not in _METHODS:
        raise ValueError(f"method must be one of {sorted(_METHODS)}, got {method!r}")
    method = method.upper()
    if (
        not isinstance(path, str)
        or not path.startswith("/")
        or path.startswith("//")
        or any(not ch.isprintable() or ch.isspace() for ch in path)
        or "?" in path
        or "#" in path
    ):
        raise ValueError(
            f"path must be an API path such as '/workflows/wf_1' (query in params=), got {path!r}"
        )
    if any(part in {".", ".."} for part in path.split("/")):
        raise ValueError(f"path must not contain '.' or '..' segments, got {path!r}")
    query: dict[str, str] | None = None
    if params is not None:
        if not isinstance(params, Mapping):
            raise TypeError("params must be a mapping of names to values")
        query = {}
        for key, value in params.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            if not isinstance(key, str) or not isinstance(value, str | int | float):
                raise TypeError(f"params: {key!r} must map to a str, int, float or bool")
            query[key] = str(value)
    body = None if json is None else json_body(json)
    if body is not None and method == "GET":
        raise ValueError("a GET request cannot have a json body")
    return Request(method, path, what=f"request {method} {path}", params=query, json=body)
