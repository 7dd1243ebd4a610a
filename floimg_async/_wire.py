"""The sans-I/O core: a call becomes a wire request; a response becomes a value or an error.

Plain functions with no I/O and no aiohttp, tested synchronously
(``tests/test_wire.py``): :func:`build_wire` turns a :class:`Request` into the
:class:`~floimg_async.transports.WireRequest` of one attempt, and
:func:`classify_error` turns an error status, its headers and its body into
the right :class:`~floimg_async.APIError` — ``Retry-After`` (header or body)
read, a 404 under a base URL without ``/v1`` explained. The rate-limit headers
are read by :class:`~floimg_async._ratelimit.RateGate`, pure as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ._errors import APIError, NotFoundError, error_for_status
from ._redact import mask_userinfo
from ._request import Request
from ._uploads import BodyStream
from .transports import WireRequest

__all__ = ["ERROR_BODY_BYTES", "build_wire", "classify_error", "is_unversioned", "url_of"]

# Error bodies are read only for their message: the first 64 KiB say all there is.
ERROR_BODY_BYTES = 64 * 1024


def url_of(request: Request, base_url: str) -> str:
    """The absolute URL of ``request`` (its path is relative to ``base_url`` unless absolute)."""
    path = request.path
    return path if path.startswith(("http://", "https://")) else base_url + path


def build_wire(
    request: Request,
    *,
    base_url: str,
    timeout: Any,
    remaining: float | None,
    on_progress: Any = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[WireRequest, BodyStream | None]:
    """The wire request for one attempt of ``request``, and the upload stream it reads.

    ``headers`` (the client's ``default_headers``) go with requests to the API's
    origin only.

    The stream (``None`` without an upload) is fresh for every attempt, so a
    retried upload sends the whole file again; close it after the attempt.
    """
    url = url_of(request, base_url)
    extra = headers if request.authenticated else None
    if request.method == "GET":
        return WireRequest(
            "GET", url, request.params, extra, None, request.authenticated, timeout, remaining
        ), None
    headers = dict(extra) if extra else {}
    if request.idempotency_key is not None:
        headers["Idempotency-Key"] = request.idempotency_key
    body: Any = None
    stream = None
    if request.json is not None:
        headers["Content-Type"] = "application/json"
        body = request.json
    elif request.upload is not None:
        upload = request.upload
        headers["Content-Type"] = upload.header
        if upload.length is not None:
            headers["Content-Length"] = str(upload.length)
        body = stream = upload.open(on_progress)
    wire = WireRequest(
        request.method,
        url,
        request.params,
        headers,
        body,
        request.authenticated,
        timeout,
        remaining,
    )
    return wire, stream


_VERSIONED = re.compile(r"/v\d+$")


def is_unversioned(base_url: str) -> bool:
    """Whether a base URL lacks a version segment (the usual cause of 404 everywhere)."""
    return _VERSIONED.search(urlsplit(base_url).path) is None


def classify_error(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    method: str,
    url: str,
    base_url: str,
) -> APIError:
    """The :class:`APIError` for an error response (status >= 400). Pure.

    The class follows the body's code, else the status; ``retry_after`` comes
    from ``Retry-After`` or the body's ``retryAfter``. A 404 on an API path
    under a base URL without a version segment says the URL probably lacks
    ``/v1`` and shows the URL tried.
    """
    error = error_for_status(status, headers, body)
    if (
        isinstance(error, NotFoundError)
        and url.startswith(base_url + "/")
        and is_unversioned(base_url)
    ):
        shown_base = mask_userinfo(base_url)
        error.message = (
            f"{error.message} — {method} {mask_userinfo(url)} was not found. If every call "
            f"fails like this, base_url {shown_base!r} probably lacks the API version: "
            f"try {shown_base}/v1"
        )
        error.args = (error.message,)
    return error
