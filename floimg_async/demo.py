"""The floimg-async tour: a realistic session against the bundled emulator.

Run it with ``make demo`` or ``python -m floimg_async.demo --out demo-output``.
It starts a local FloImg emulator on a free loopback port (extra
``floimg-async[emulator]``), then uses only the public SDK to:

1. create a project and upload a photo into it;
2. list the workflows the account has;
3. generate social cards concurrently with ``run_many``, with a live progress line;
4. make a thumbnail and a captioned copy of the photo with ``run`` (async mode + the waiter);
5. stream the image listing page by page;
6. download every output into the output folder;

and prints a summary: items, failures, wall time, API requests per execution
and retries seen. Read it top to bottom as a tutorial.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace

from floimg_async import Execution, FloImg, FloImgError, RunResult

__all__ = ["main", "run_demo"]

HEADLINES = [
    "Ship faster with async Python", "Ten tips for sharper images", "Release notes: v2.0",
    "How we cut our p99 in half", "A field guide to OG cards", "Meet the new dashboard",
    "Postmortem: the cache stampede", "Designing for dark mode", "Our 2026 roadmap",
    "Benchmarks you can trust", "Hiring: senior engineers", "From prototype to production",
    "The joy of small pull requests", "Observability on a budget", "Why we chose aiohttp",
    "Launch week, day one", "Launch week, day two", "Customer story: Northwind",
    "Testing with real sockets", "Idempotency keys explained", "Rate limits, done right",
    "Streaming a million rows", "What retries cost you", "Thank you, contributors",
]  # fmt: skip
THEMES = ["ocean", "sunset", "forest", "mono", "candy"]


def _sample_photo() -> bytes:
    """A landscape 'photo' to upload: drawn with Pillow, the emulator extra's dependency."""
    from PIL import Image, ImageDraw

    width, height = 960, 600
    photo = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(photo)
    for y in range(height):  # sky fading into a lake
        t = y / height
        draw.line([(0, y), (width, y)], fill=(int(40 + 150 * t), int(110 + 90 * t), 200))
    draw.ellipse([660, 80, 800, 220], fill=(255, 214, 102))  # the sun
    draw.polygon([(0, 420), (260, 180), (520, 420)], fill=(58, 74, 92))  # mountains
    draw.polygon([(300, 420), (600, 150), (960, 420)], fill=(71, 85, 105))
    draw.rectangle([0, 420, width, height], fill=(30, 64, 120))
    buffer = io.BytesIO()
    photo.save(buffer, format="PNG")
    return buffer.getvalue()


@asynccontextmanager
async def _api(base_url: str | None, api_key: str | None) -> AsyncIterator[SimpleNamespace]:
    """The emulator on a free loopback port, unless a base URL was given."""
    if base_url:
        yield SimpleNamespace(base_url=base_url, api_key=api_key, local=False)
        return
    from floimg_async.emulator import Emulator

    async with Emulator(port=0, execution_time=0.3, latency=0.005) as emu:
        yield SimpleNamespace(base_url=emu.base_url, api_key=emu.api_key, local=True)


def _progress(done: int, total: int, failed: int) -> None:
    line = f"  social cards: {done}/{total} done, {failed} failed"
    if sys.stdout.isatty():
        print(f"\r{line}", end="" if done < total else "\n", flush=True)
    elif done == total or done % 8 == 0:
        print(line, flush=True)


async def run_demo(
    out_dir: Path,
    *,
    cards: int = 24,
    concurrency: int = 8,
    base_url: str | None = None,
    api_key: str | None = None,
) -> dict[str, float]:
    """Run the tour; return the summary figures. Raises FloImgError if the API fails."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    async with (
        _api(base_url, api_key) as api,
        FloImg(api.api_key, base_url=api.base_url) as client,
    ):
        where = "the local emulator" if api.local else api.base_url
        print(f"FloImg API: {where} ({api.base_url})")

        # client.stats counts what the client sends: requests (retries included), retries.

        # 1. A project to keep things together, and a photo uploaded into it.
        project = await client.projects.create(
            "Demo campaign", description="Made by python -m floimg_async.demo"
        )
        photo = await client.images.upload(_sample_photo(), name="lake.png", project_id=project.id)
        print(
            f"created project {project.id}; uploaded {photo.name} "
            f"({photo.width}x{photo.height}, {photo.size} bytes) as {photo.id}"
        )

        # 2. What can this account run? Listings are lazy async iterators.
        print("workflows:")
        async for workflow in client.workflows.list(page_size=10, max_items=10):
            print(f"  {workflow.id:<22} {workflow.name}")

        # 3. Many cards at once: run_many keeps `concurrency` in flight and yields
        #    each result as it finishes. A failure is a result, never an exception.
        parameter_sets = (
            {"prompt": HEADLINES[i % len(HEADLINES)], "theme": THEMES[i % len(THEMES)]}
            for i in range(cards)
        )
        results: list[RunResult] = []
        requests_before = client.stats.requests
        async for result in client.workflows.run_many(
            "wf_social_card", parameter_sets, concurrency=concurrency
        ):
            results.append(result)
            _progress(len(results), cards, sum(not r.ok for r in results))
        card_requests = client.stats.requests - requests_before

        # 4. One-off jobs in async mode. `run` is submit + wait; the waiter polls with
        #    backoff and can report each status change as it happens.
        thumbnail = await client.workflows.run(
            "wf_thumbnail", {"imageId": photo.id, "size": 320}, timeout=60
        )
        print(f"thumbnail {thumbnail.id}: {thumbnail.status}")
        submitted = await client.workflows.submit(
            "wf_captioned_photo", {"imageId": photo.id, "caption": "Lake at dawn"}
        )
        captioned = await client.executions.wait(
            submitted,
            timeout=60,
            on_update=lambda e: print(f"captioned photo {e.id}: {e.status}"),
        )

        # 5. Stream the image listing: one page in memory at a time.
        stored = 0
        async for page in client.images.list(page_size=10).pages():
            stored += len(page.items)
        print(f"storage holds {stored} images")

        # 6. Download every output; the API key goes only to the API's own origin.
        outputs: list[tuple[str, Execution]] = [
            (f"card-{r.index:02d}.png", r.execution)
            for r in sorted(results, key=lambda r: r.index)
            if r.ok and r.execution is not None
        ]
        outputs += [("thumbnail.webp", thumbnail), ("captioned-photo.png", captioned)]
        saved = await asyncio.gather(
            *(
                client.images.download(execution.output, out_dir / name)
                for name, execution in outputs
                if execution.output is not None
            )
        )
        retries = client.stats.retries

    wall = time.monotonic() - started
    failures = [r for r in results if not r.ok]
    summary = {
        "items": len(results) + 2,
        "failures": len(failures),
        "downloaded": len(saved),
        "wall_time_s": round(wall, 2),
        "requests_per_execution": round(card_requests / max(1, len(results)), 2),
        "retries": retries,
    }
    print(
        f"\nsummary: {summary['items']} executions, {summary['failures']} failed, "
        f"{summary['downloaded']} images saved to {out_dir}/ in {summary['wall_time_s']}s; "
        f"{summary['requests_per_execution']} API requests per card execution; "
        f"{summary['retries']} retries"
    )
    for failure in failures:
        print(f"  item {failure.index} failed: {failure.error}")
    return summary


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``python -m floimg_async.demo [--out DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m floimg_async.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder")
    parser.add_argument("--cards", type=int, default=24, help="how many social cards")
    parser.add_argument("--concurrency", type=int, default=8, help="executions in flight")
    parser.add_argument("--base-url", help="use this API instead of the local emulator")
    parser.add_argument("--api-key", help="API key for --base-url (or FLOIMG_API_KEY)")
    args = parser.parse_args(argv)
    try:
        summary = asyncio.run(
            run_demo(
                args.out,
                cards=args.cards,
                concurrency=args.concurrency,
                base_url=args.base_url,
                api_key=args.api_key,
            )
        )
    except FloImgError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130
    return 0 if summary["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
