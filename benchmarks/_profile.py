"""Where the SDK's extra CPU goes: pyinstrument for the call tree, cProfile for a breakdown.

``--profile`` runs both on a scenario's SDK side (and cProfile on the raw side
too) after the measured rounds, so profiling never skews the figures.
"""

from __future__ import annotations

import cProfile
import pstats
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks._harness import RESULTS_DIR

Work = Callable[[], Awaitable[Any]]

_SITE = re.compile(r"[/\\]site-packages[/\\]([^/\\]+)")
_STDLIB = re.compile(r"[/\\]lib[/\\]python3\.\d+[/\\]([^/\\.]+)")
_GENERATED = re.compile(r"^<(attrs|cattrs) generated")


def package_of(path: str, function: str) -> str:
    """Name the package a profiled function belongs to (``builtin x`` for C builtins)."""
    if path == "~":
        return f"builtin {function.strip('<>').removeprefix('built-in method ')}"
    if "floimg_async" in path and not path.startswith("<"):
        return "floimg_async"
    if generated := _GENERATED.match(path):
        return f"{generated.group(1)} (generated code)"
    if site := _SITE.search(path):
        return site.group(1)
    if stdlib := _STDLIB.search(path):
        return f"stdlib {stdlib.group(1)}"
    return "benchmarks" if "benchmarks" in path else path


def _where(path: str, line: int, function: str) -> str:
    for marker in ("floimg_async", "site-packages"):
        if marker in path and not path.startswith("<"):
            path = path.split(f"{marker}/", 1)[-1]
            if marker == "floimg_async":
                path = f"floimg_async/{path}"
            break
    else:
        path = path.rsplit("/", 1)[-1]
    return f"{function} ({path}:{line})" if path != "~" else function


async def _cprofile(work: Work) -> tuple[Counter[str], Counter[str]]:
    """Self CPU seconds of ``work`` by package and by function."""
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    try:
        await work()
    finally:
        profile.disable()
    packages: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profile).stats
    for (path, line, function), (_cc, _nc, self_time, *_rest) in stats.items():
        packages[package_of(path, function)] += self_time
        functions[_where(path, line, function)] += self_time
    return packages, functions


async def breakdown(sdk: Work, raw: Work, units: int, unit: str, top: int = 14) -> str:
    """Self CPU per ``unit`` by package, SDK vs raw, largest SDK excess first, then the
    functions only the SDK side runs.

    cProfile inflates every figure (more so for many small calls), so read the
    shares and differences, not the absolute values.
    """
    (sdk_totals, sdk_functions), (raw_totals, raw_functions) = (
        await _cprofile(sdk),
        await _cprofile(raw),
    )
    scale = 1e6 / units
    rows = sorted(
        set(sdk_totals) | set(raw_totals),
        key=lambda k: raw_totals[k] - sdk_totals[k],
    )[:top]
    excess = (sum(sdk_totals.values()) - sum(raw_totals.values())) * scale
    lines = [
        f"cProfile self CPU per {unit} (µs, inflated by cProfile), SDK excess {excess:.1f} µs:",
        f"  {'package':<36} {'SDK':>8} {'raw':>8} {'excess':>8}",
    ]
    for key in rows:
        s, r = sdk_totals[key] * scale, raw_totals[key] * scale
        lines.append(f"  {key[:36]:<36} {s:8.2f} {r:8.2f} {s - r:8.2f}")
    only_sdk = [(t, f) for f, t in sdk_functions.items() if f not in raw_functions]
    lines.append(f"functions only the SDK side runs, self CPU per {unit} (µs, inflated):")
    lines += [f"  {t * scale:8.2f}  {f}" for t, f in sorted(only_sdk, reverse=True)[:top]]
    return "\n".join(lines)


async def pyinstrument_flat(work: Work, name: str, top: int = 25) -> str:
    """Run ``work`` under pyinstrument; save the call tree; return the top of the flat view."""
    from pyinstrument import Profiler

    # Sample the thread, not the task, so idle time in select() stays visible as
    # such instead of being billed to whatever awaits the response.
    profiler = Profiler(interval=0.0002, async_mode="disabled")
    profiler.start()
    try:
        await work()
    finally:
        profiler.stop()
    tree = profiler.output_text(unicode=True, color=False, show_all=True)
    flat = profiler.output_text(unicode=True, color=False, show_all=True, flat=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"profile-{name}.txt"
    path.write_text(f"{flat}\n\n{tree}", encoding="utf-8")
    # The loop's own frames and epoll are idle time or scheduling that both sides pay.
    body = [
        line
        for line in flat.splitlines()
        if re.match(r"^\d+\.\d+ ", line) and not re.search(r"\[self\]\s+asyncio/|epoll", line)
    ]
    return (
        f"pyinstrument self time (s), top {top}, event-loop [self] and epoll left out; "
        f"flat view and call tree in {path}:\n" + "\n".join(f"  {line}" for line in body[:top])
    )


async def report(name: str, sdk: Work, raw: Work, units: int, unit: str) -> None:
    """Print both profiles of one scenario."""
    print(f"\n=== profile: {name} (SDK side) ===")
    print(await pyinstrument_flat(sdk, name))
    print(await breakdown(sdk, raw, units, unit))
