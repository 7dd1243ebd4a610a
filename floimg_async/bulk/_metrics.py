"""Count the HTTP requests a client sends, through an aiohttp ``TraceConfig``."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import aiohttp

__all__ = ["RequestCounter"]


class RequestCounter:
    """Count every HTTP request (retries and downloads included) a client sends.

    Pass ``counter.trace_config`` to the client you build::

        counter = RequestCounter()
        async with FloImg(trace_configs=[counter.trace_config]) as client:
            ...
        print(counter.requests, counter.by_method)
    """

    def __init__(self) -> None:
        self.requests = 0
        self.by_method: Counter[str] = Counter()
        self.trace_config = aiohttp.TraceConfig()
        self.trace_config.on_request_start.append(self._on_request_start)

    async def _on_request_start(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        self.requests += 1
        self.by_method[params.method] += 1
