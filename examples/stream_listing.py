"""Stream a long listing with flat memory: one page in memory at a time.

Run:  python examples/stream_listing.py
"""

from __future__ import annotations

import asyncio

from floimg_async import FloImg
from floimg_async.emulator import Emulator


async def main() -> None:
    async with (
        Emulator(port=0, extra_workflows=450) as emu,
        FloImg(emu.api_key, base_url=emu.base_url) as client,
    ):
        names = set()
        async for workflow in client.workflows.list(page_size=100):
            names.add(workflow.name)  # a WorkflowSummary; pages are fetched as needed
        print(f"{len(names)} distinct workflow names")

        async for page in client.workflows.list(page_size=100).pages():
            print(
                f"page at offset {page.offset}: {len(page.items)} items, "
                f"total {page.total}, more: {page.has_more}"
            )

        first_ten = await client.workflows.list(max_items=10).to_list()
        print([w.id for w in first_ten])


if __name__ == "__main__":
    asyncio.run(main())
