"""What every resource shares: the sender, and small helpers to call and decode."""

from __future__ import annotations

from typing import Any, TypeVar

from .._convert import decode, load_json
from .._errors import ResponseDecodeError
from .._models import Page
from .._pagination import parse_page
from .._request import Request
from .._transport import Sender

T = TypeVar("T")


class Resource:
    """Base of the resource namespaces (``client.workflows`` …)."""

    def __init__(self, sender: Sender) -> None:
        self._sender = sender

    async def _call(self, request: Request, cls: type[T], *, deadline_at: float | None = None) -> T:
        response = await self._sender.send(request, deadline_at=deadline_at)
        try:
            return decode(response.body, cls, what=request.what, status=response.status)
        except ResponseDecodeError as exc:
            raise self._sender.redact(exc) from exc.__cause__

    async def _call_json(self, request: Request) -> Any:
        response = await self._sender.send(request)
        try:
            return load_json(response.body, what=request.what, status=response.status)
        except ResponseDecodeError as exc:
            raise self._sender.redact(exc) from exc.__cause__

    async def _page(
        self, request: Request, key: str, cls: type[T], offset: int, limit: int
    ) -> Page[T]:
        data = await self._call_json(request)
        return parse_page(data, key, cls, offset=offset, limit=limit, what=request.what)
