"""Generate many images concurrently with run_many; failures are results, not exceptions.

Run:  python examples/bulk_generate.py
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from floimg_async import FloImg
from floimg_async.emulator import Emulator


# A generator: run_many reads it lazily, never all at once.
def parameter_sets(n: int) -> Iterator[dict[str, object]]:
    for i in range(n):
        yield {"prompt": f"Card number {i}", "fail": i % 25 == 24}


async def main() -> None:
    async with (
        Emulator(port=0, execution_time=0.2) as emu,
        FloImg(emu.api_key, base_url=emu.base_url) as client,
    ):
        ok = failed = 0
        # aclosing: leaving the loop early cancels whatever is still in flight.
        async with contextlib.aclosing(
            client.workflows.run_many("wf_flaky", parameter_sets(100), concurrency=16)
        ) as results:
            async for result in results:
                if result.ok:
                    ok += 1
                else:
                    failed += 1
                    print(f"item {result.index} failed: {result.error}")
        print(f"{ok} completed, {failed} failed")


if __name__ == "__main__":
    asyncio.run(main())
