"""After a 429, the client paces itself at the server's advertised rate (real sockets)."""

from __future__ import annotations

import asyncio

from _support import API_KEY
from aiohttp import web

from floimg_async import FloImg


class TokenBucket:
    """A server-side limiter like FloImg's: ``rate`` per second, ``burst`` tokens."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.last = asyncio.get_running_loop().time()
        self.ok = 0
        self.limited = 0

    async def handle(self, request: web.Request) -> web.Response:
        now = asyncio.get_running_loop().time()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        headers = {"X-RateLimit-Limit": str(int(self.rate * 60))}
        if self.tokens < 1:
            self.limited += 1
            headers["Retry-After"] = "0.2"
            return web.json_response(
                {"error": {"code": "rate_limited", "message": "slow down"}}, status=429,
                headers=headers,
            )  # fmt: skip
        self.tokens -= 1
        self.ok += 1
        return web.json_response({"id": request.match_info["id"]}, headers=headers)


async def test_pacing_after_a_429_spends_the_budget_on_work_not_on_429s(make_server) -> None:
    bucket = TokenBucket(rate=100.0, burst=5)
    server = await make_server()
    server.route("GET", "/v1/workflows/{id}", bucket.handle)
    await server.start()
    semaphore = asyncio.Semaphore(20)

    async def one(i: int) -> str:
        async with semaphore:
            return (await client.workflows.get(f"wf_{i}")).id

    async with FloImg(API_KEY, base_url=server.base_url, max_retries=6) as client:
        ids = await asyncio.gather(*(one(i) for i in range(80)))
    assert ids == [f"wf_{i}" for i in range(80)]
    # The first burst of 20 meets 5 tokens: ~15 429s are unavoidable. Without pacing
    # every release stampedes again and 429s outnumber the successes.
    assert bucket.limited <= 25, f"{bucket.limited} 429s for 80 requests"
