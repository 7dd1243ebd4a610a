"""instructions: CPU instructions per request (callgrind), the SDK against raw aiohttp.

Wall-clock and CPU-time figures on a shared machine swing by tens of percent
between runs; the number of instructions a client executes does not depend on
load. For each workload and side, a child process runs it at three sizes under
``valgrind --tool=callgrind`` while the bench server runs in its own process,
not under valgrind. The cost of one request is (Ir of the long run - Ir of the
short run) / (extra requests): start-up, imports, session set-up, warm-up and
teardown are the same in both runs and cancel. The middle size checks the cost
is linear. Workloads:

  get_seq     ``workflows.get`` one after another
              vs GET, raise_for_status, json.loads
  get_64      the same with 64 in flight (64 worker tasks)
              vs the same raw call, 64 worker tasks
  list_page   one page of 100 ``WorkflowSummary`` via ``pages()``, items iterated
              vs GET, raise_for_status, json.loads, hasMore, iterating the dicts
  list_items  the same 100 items by ``async for`` over the pager
              vs the streaming_listing scenario's raw async generator of dicts

    python -m benchmarks.scenarios.instructions --worker WORKLOAD SIDE N BASE_URL API_KEY

runs one workload natively (what callgrind wraps) and prints a JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import subprocess
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import _callgrind
from benchmarks._callgrind import Point
from benchmarks._harness import Context, bearer, raw_session, sdk_client
from benchmarks._proc import ROOT, emit, python_module
from benchmarks._stats import Row, Target
from benchmarks.scenarios.calls import WORKFLOW_ID, in_flight, raw_get, sequential
from benchmarks.scenarios.listing import raw_items

MODULE = "benchmarks.scenarios.instructions"
PAGE = 100
WORKERS = 64
#: Two runs whose neighbouring slopes differ by more than this share of the cost
#: per request are not measuring a steady per-request cost.
LINEARITY_TOLERANCE = 0.02
#: How many more times a side whose slopes disagree is measured (lowest count per size kept).
REMEASURE = 2


@dataclass(frozen=True)
class Workload:
    """One measured workload: its name, what a "request" is, sizes and target."""

    name: str
    metric: str
    sizes: tuple[int, int, int]
    quick_sizes: tuple[int, int, int]
    target: Target
    warm_up: int


WORKLOADS = (
    Workload(
        "get_seq",
        "Ir per workflows.get, sequential",
        (200, 700, 1200),
        (100, 250, 400),
        Target("<=", 1.10),
        warm_up=20,
    ),
    Workload(
        "get_64",
        f"Ir per workflows.get, {WORKERS} in flight",
        (200, 700, 1200),
        (128, 320, 512),
        Target("<=", 1.10),
        warm_up=2 * WORKERS,  # opens the 64 connections before the counted part
    ),
    Workload(
        "list_page",
        f"Ir per listing page of {PAGE} items, pages() (typed vs dicts)",
        (20, 120, 220),
        (10, 25, 40),
        Target("<=", 1.6),
        warm_up=2,
    ),
    Workload(
        "list_items",
        f"Ir per {PAGE} items, async for over the listing (typed vs dicts)",
        (20, 120, 220),
        (10, 25, 40),
        Target("<=", 1.6),
        warm_up=2,
    ),
)
LISTINGS = ("list_page", "list_items")
BY_NAME = {w.name: w for w in WORKLOADS}
_RUNS = itertools.count()


# --- the workloads, run in the counted child -------------------------------------------


async def sdk_pages(client: Any, pages: int) -> int:
    """Fetch ``pages`` pages of 100 through ``pages()`` and touch every item; return the count."""
    count = 0
    pager = client.workflows.list(page_size=PAGE, max_items=pages * PAGE)
    async for page in pager.pages():
        for _item in page.items:
            count += 1
    return count


async def sdk_items(client: Any, pages: int) -> int:
    """Iterate ``pages`` pages of 100 items with ``async for`` over the pager; return the count."""
    count = 0
    async for _item in client.workflows.list(page_size=PAGE, max_items=pages * PAGE):
        count += 1
    return count


async def raw_items_count(session: Any, base_url: str, api_key: str, pages: int) -> int:
    """The hand-written async generator of dicts (the listing scenario's), iterated; the count."""
    count = 0
    async for _item in raw_items(session, base_url, api_key, pages * PAGE):
        count += 1
    return count


async def raw_pages(session: Any, base_url: str, api_key: str, pages: int) -> int:
    """The hand-written page loop: GET, check, json.loads, touch every dict; return the count."""
    headers = bearer(api_key)
    count = 0
    for number in range(pages):
        url = f"{base_url}/workflows?limit={PAGE}&offset={number * PAGE}"
        async with session.get(url, headers=headers) as resp:
            resp.raise_for_status()
            body = json.loads(await resp.read())
        for _item in body["workflows"]:
            count += 1
        if not body["hasMore"]:
            break
    return count


async def _run_calls(call: Callable[[], Awaitable[Any]], name: str, n: int) -> None:
    if name == "get_seq":
        await sequential(call, n)
    else:
        await in_flight(call, n, WORKERS)


async def run_workload(name: str, side: str, n: int, base_url: str, api_key: str) -> dict[str, Any]:
    """Warm up, then run ``n`` requests (or pages) of workload ``name`` on one side.

    Returns what was done, so the parent can check both sides did the same work.
    """
    workload = BY_NAME[name]
    client = sdk_client(base_url, api_key, max_connections=100) if side == "sdk" else None
    session = raw_session(limit=100) if side == "raw" else None
    items = 0
    try:
        if name in LISTINGS:
            if client is not None:
                sdk_listing = sdk_pages if name == "list_page" else sdk_items
                await sdk_listing(client, workload.warm_up)
                items = await sdk_listing(client, n)
            else:
                raw_listing = raw_pages if name == "list_page" else raw_items_count
                await raw_listing(session, base_url, api_key, workload.warm_up)
                items = await raw_listing(session, base_url, api_key, n)
        else:
            if client is not None:

                def call() -> Awaitable[Any]:
                    pending: Awaitable[Any] = client.workflows.get(WORKFLOW_ID)
                    return pending

            else:
                call = raw_get(session, base_url, api_key)
            await _run_calls(call, name, workload.warm_up)
            await _run_calls(call, name, n)
    finally:
        if client is not None:
            await client.close()
        if session is not None:
            await session.close()
    return {"workload": name, "side": side, "requests": n, "items": items}


# --- the parent: sizes, callgrind runs, rows ------------------------------------------


def expected_items(name: str, n: int) -> int:
    """Return how many items a run of ``n`` must have touched (0 for the get workloads)."""
    return n * PAGE if name in LISTINGS else 0


def _count(name: str, side: str, n: int, server: Any, out_dir: Path, env: dict[str, str]) -> Point:
    argv = python_module(MODULE, "--worker", name, side, str(n), server.base_url, server.api_key)
    out_file = out_dir / f"callgrind.{name}.{side}.{n}.{next(_RUNS)}.out"
    instructions, stdout, _ = _callgrind.run_counted(argv, out_file, env)
    lines = stdout.strip().splitlines()
    done = json.loads(lines[-1]) if lines else {}
    if done.get("requests") != n or done.get("items") != expected_items(name, n):
        raise RuntimeError(f"{name}/{side} at {n} did not do the expected work: {done}")
    out_file.unlink()  # tens of MB each; the totals are all we keep
    return Point(n, instructions)


def row_for(workload: Workload, points: dict[str, list[Point]], remeasured: int = 0) -> Row:
    """Build the table row of one workload from each side's points (three sizes each)."""
    unit_name = "pages" if workload.name in LISTINGS else "requests"
    costs: dict[str, float] = {}
    linear: dict[str, float] = {}
    totals: list[str] = []
    for side, side_points in points.items():
        ordered = sorted(side_points, key=lambda p: p.requests)
        costs[side] = _callgrind.per_request(ordered[0], ordered[-1])
        linear[side] = _callgrind.nonlinearity(ordered)
        sizes = "/".join(str(p.requests) for p in ordered)
        millions = "/".join(f"{p.instructions / 1e6:,.1f}" for p in ordered)
        totals.append(f"{side} {sizes} {unit_name}: {millions} M Ir")
    return Row(
        "instructions",
        workload.metric,
        costs["sdk"],
        costs["raw"],
        target=workload.target,
        ratio=_callgrind.ratio(costs["sdk"], costs["raw"]),
        note=(
            f"(Ir long - Ir short) / extra {unit_name}; {'; '.join(totals)}; "
            f"slopes agree within {linear['sdk']:.2%} (SDK) / {linear['raw']:.2%} (raw)"
            + (f"; re-measured {remeasured}x, lowest count per size kept" if remeasured else "")
        ),
    )


def _warm(workload: Workload, server: Any, env: dict[str, str]) -> None:
    """Run a workload natively once per side, uncounted.

    It fails fast if a side is broken, and writes the .pyc files every counted
    run then loads.
    """
    for side in ("sdk", "raw"):
        argv = python_module(
            MODULE, "--worker", workload.name, side, "3", server.base_url, server.api_key
        )
        done = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, timeout=120, check=False
        )
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"{workload.name}/{side} failed natively: {' | '.join(tail)}")


def measure(
    workload: Workload,
    sizes: Sequence[int],
    sides: Sequence[str],
    server: Any,
    out_dir: Path,
    env: dict[str, str],
) -> dict[str, list[Point]]:
    """Count each side at every size, two children at a time (counts ignore load)."""
    jobs = [(side, n) for n in sizes for side in sides]

    def one(job: tuple[str, int]) -> Point:
        return _count(workload.name, job[0], job[1], server, out_dir, env)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one, jobs))
    points: dict[str, list[Point]] = {side: [] for side in sides}
    for (side, _), point in zip(jobs, results, strict=True):
        points[side].append(point)
    return points


def measure_linear(
    workload: Workload, sizes: Sequence[int], server: Any, out_dir: Path, env: dict[str, str]
) -> tuple[dict[str, list[Point]], int]:
    """Measure both sides; re-measure a side whose slopes disagree, keeping the lowest counts.

    Returns the points and how many extra rounds were needed (at most REMEASURE).
    """
    points = measure(workload, sizes, ("sdk", "raw"), server, out_dir, env)
    extra = 0
    while extra < REMEASURE:
        noisy = [s for s, p in points.items() if _callgrind.nonlinearity(p) > LINEARITY_TOLERANCE]
        if not noisy:
            break
        again = measure(workload, sizes, noisy, server, out_dir, env)
        for side in noisy:
            points[side] = _callgrind.lowest_per_size(points[side] + again[side])
        extra += 1
    return points, extra


def run(ctx: Context) -> list[Row]:
    """Instructions per request for every workload, SDK vs raw, plus a linearity row."""
    server = ctx.server
    rows: list[Row] = []
    worst = (0.0, "")
    with tempfile.TemporaryDirectory(prefix="floimg-bench-callgrind-") as tmp:
        out_dir = Path(tmp)
        env = _callgrind.counting_env(out_dir / "pycache")
        for workload in WORKLOADS:
            _warm(workload, server, env)
        for workload in WORKLOADS:
            sizes = ctx.pick(workload.sizes, workload.quick_sizes)
            points, remeasured = measure_linear(workload, sizes, server, out_dir, env)
            rows.append(row_for(workload, points, remeasured))
            for side, side_points in points.items():
                deviation = _callgrind.nonlinearity(side_points)
                if deviation >= worst[0]:
                    worst = (deviation, f"{workload.name}/{side}")
    rows.append(
        Row(
            "instructions",
            "linearity: worst slope mismatch",
            worst[0] * 100,
            unit="%",
            target=Target("<=", LINEARITY_TOLERANCE * 100, on="value", unit="%"),
            show_ratio=False,
            note=f"worst: {worst[1]}; 0 % means every extra request cost the same",
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="one instruction-count workload, run natively")
    parser.add_argument("--worker", nargs=5, metavar=("WORKLOAD", "SIDE", "N", "URL", "KEY"))
    args = parser.parse_args()
    name, side, n, base_url, api_key = args.worker
    if name not in BY_NAME or side not in ("sdk", "raw"):
        parser.error(f"workload must be one of {list(BY_NAME)}, side sdk or raw")
    emit(asyncio.run(run_workload(name, side, int(n), base_url, api_key)))


if __name__ == "__main__":
    main()
