"""The blocking client, as a script, a Flask/Django view or a Celery task would use it.

Run:  python examples/sync_script.py
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from floimg_async import FloImgError
from floimg_async.emulator import EmulatorThread
from floimg_async.sync import FloImg


def og_card_view(client: FloImg, title: str) -> tuple[int, dict[str, str]]:
    """What a synchronous web view does: one blocking call, errors turned into a status."""
    try:
        execution = client.workflows.execute("wf_social_card", {"prompt": title})
    except FloImgError as exc:
        return 502, {"error": str(exc)}
    return 200, {"url": execution.output.url or ""}


def main() -> None:
    # The emulator runs in a thread of its own; a real app reads FLOIMG_API_KEY instead.
    with (
        EmulatorThread(port=0, execution_time=0.05) as emu,
        FloImg(emu.api_key, base_url=emu.base_url) as client,
        tempfile.TemporaryDirectory() as out,
    ):
        print(*og_card_view(client, "Hello from a sync view"))

        for workflow in client.workflows.list(page_size=2):  # pages fetched as the loop goes
            print("workflow:", workflow.id)

        execution = client.workflows.run("wf_social_card", {"prompt": "Saved to disk"})
        path = client.images.download(execution.output, Path(out) / "card.png")  # -> Path
        print("saved", path.name)

        # closing() stops the batch early if the loop is left: work in flight is cancelled.
        sets = ({"prompt": f"Card {i}", "fail": i == 3} for i in range(8))
        batch = client.workflows.run_many("wf_flaky", sets, concurrency=4)
        with contextlib.closing(batch) as results:
            ok = sum(1 for result in results if result.ok)
        print(f"{ok} completed, {8 - ok} failed")


if __name__ == "__main__":
    main()
