"""Run the benchmark suite: ``python -m benchmarks.run [--only NAME[,NAME]] [--quick]``.

Prints a table (scenario | metric | SDK | raw | ratio | target | pass) and
writes every figure, with its samples, to benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks._harness import RESULTS_DIR, Context
from benchmarks._stats import Row, Summary
from benchmarks.scenarios import bulk, calls, imports, instructions, listing, upload, waiter

Scenario = Callable[[Context], list[Row]]

SCENARIOS: dict[str, Scenario] = {
    "call_overhead": calls.run_call_overhead,
    "concurrency": calls.run_concurrency,
    "streaming_listing": listing.run,
    "upload": upload.run,
    "waiter": waiter.run,
    "bulk": bulk.run,
    "import_footprint": imports.run,
    "instructions": instructions.run,
}
#: Run only when named in --only (``make bench-instructions``): they need valgrind.
OPT_IN = frozenset({"instructions"})


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment() -> dict[str, Any]:
    """Describe the machine and versions the figures come from."""
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "aiohttp": _version("aiohttp"),
        "floimg_async": _version("floimg-async"),
    }


def _num(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def fmt(value: object, unit: str = "") -> str:
    """Render a figure: a Summary as ``median [min..max]``, numbers compactly."""
    suffix = f" {unit}" if unit else ""
    if isinstance(value, Summary):
        if len(value.samples) == 1:
            return f"{_num(value.median)}{suffix}"
        return f"{_num(value.median)}{suffix} [{_num(value.low)}..{_num(value.high)}]"
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}{suffix}"
    if isinstance(value, float):
        return f"{_num(value)}{suffix}"
    return str(value)


def table(rows: list[Row]) -> str:
    """Render the rows as a fixed-width text table, notes underneath."""
    header = ("scenario", "metric", "SDK", "raw", "ratio", "target", "pass")
    lines: list[tuple[str, ...]] = []
    notes: list[str] = []
    for row in rows:
        verdict = {True: "ok", False: "FAIL", None: "—"}[row.passed]
        if row.error:
            lines.append((row.scenario, row.metric, "error", "", "", "", "FAIL"))
            notes.append(f"{row.scenario}: {row.error}")
            continue
        target = row.target.label() if row.target else "—"
        lines.append(
            (
                row.scenario,
                row.metric,
                fmt(row.sdk, row.unit),
                fmt(row.raw, row.unit),
                fmt(row.ratio),
                target,
                verdict,
            )
        )
        if row.note:
            notes.append(f"{row.scenario} / {row.metric}: {row.note}")
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    out = [
        " | ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)),
        "-+-".join("-" * w for w in widths),
    ]
    out += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines]
    if notes:
        out += ["", "Notes:", *(f"  - {n}" for n in notes)]
    return "\n".join(out)


def run_one(name: str, scenario: Scenario, ctx: Context) -> tuple[list[Row], float]:
    """Run one scenario; a failure becomes an error row so the others still run."""
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        rows = scenario(ctx)
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        detail = f"{type(exc).__name__}: {exc}".strip()
        rows = [Row(name, "(scenario failed)", error=detail[:300])]
    elapsed = time.perf_counter() - started
    print(f"[bench] {name} done in {elapsed:.1f} s", file=sys.stderr, flush=True)
    return rows, elapsed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description="floimg_async vs raw aiohttp benchmarks"
    )
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated scenarios to run (default all but {', '.join(sorted(OPT_IN))}): "
        f"{', '.join(SCENARIOS)}",
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer rounds")
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS_DIR / "latest.json",
        help="where to write the JSON results (default benchmarks/results/latest.json)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the SDK side with pyinstrument (CPU scenarios; text in results/)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when any target is missed or errors"
    )
    args = parser.parse_args(argv)
    default = [n for n in SCENARIOS if n not in OPT_IN]
    names = [n.strip() for n in args.only.split(",") if n.strip()] or default
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")
    args.names = names
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the chosen scenarios, print the table and write the JSON."""
    args = parse_args(argv)
    env = environment()
    ctx = Context(quick=args.quick, profile=args.profile)
    rows: list[Row] = []
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        for name in args.names:
            scenario_rows, timings[name] = run_one(name, SCENARIOS[name], ctx)
            rows += scenario_rows
    finally:
        ctx.close()
    total = time.perf_counter() - started

    print(
        f"floimg_async benchmarks — {env['date']} — nproc {env['nproc']}, "
        f"Python {env['python']}, aiohttp {env['aiohttp']}, floimg-async {env['floimg_async']}"
        f"{' (--quick)' if args.quick else ''}"
    )
    print("SDK and raw: median [min..max] over rounds; ratio: SDK/raw (median [min..max] of")
    print("per-round ratios where rounds are paired). Primary figure: client CPU per request.\n")
    print(table(rows))
    print("\nScenario times: " + ", ".join(f"{n} {t:.1f} s" for n, t in timings.items()))
    print(f"Total: {total:.1f} s")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "environment": env,
        "quick": args.quick,
        "scenario_seconds": timings,
        "total_seconds": total,
        "rows": [r.to_json() for r in rows],
    }
    args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"JSON: {args.json}")
    missed = [f"{r.scenario} / {r.metric}" for r in rows if r.passed is False]
    if missed:
        print("Missed: " + "; ".join(missed))
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
