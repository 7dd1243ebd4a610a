"""What a response said: request ids, rate-limit headers, and pacing a loop before a 429.

Run:  python examples/response_headers.py
"""

from __future__ import annotations

import asyncio

from floimg_async import FloImg
from floimg_async.emulator import Emulator


async def main() -> None:
    # An emulator that allows 600 requests a minute with bursts of 5 (10 tokens a second).
    async with (
        Emulator(port=0, rate_limit=600, burst=5) as emu,
        FloImg(emu.api_key, base_url=emu.base_url) as client,
    ):
        # One call, with its response: raw_response(...) takes the call un-awaited.
        response = await client.raw_response(client.workflows.get("wf_social_card"))
        workflow = response.parse()  # the Workflow that awaiting the call returns
        print(f"{workflow.name}: status {response.status}, request id {response.request_id}")
        print(f"attempts {response.attempts}, rate limit {response.rate_limit}")

        # openai's spelling of the same thing.
        same = await client.with_raw_response.workflows.get("wf_social_card")
        print(f"again: {same.headers['X-RateLimit-Remaining']} requests left in the burst")

        # A loop that slows down before the API answers 429: client.rate_limit is
        # the latest response's X-RateLimit-* headers, read without a request.
        for _ in range(15):
            limit = client.rate_limit
            if limit and limit.remaining is not None and limit.remaining < 2 and limit.limit:
                await asyncio.sleep(60 / limit.limit)  # one request's worth of refill
            await client.workflows.get("wf_social_card")
        print(f"{client.stats.requests} requests, {client.stats.rate_limited} answered 429")


if __name__ == "__main__":
    asyncio.run(main())
