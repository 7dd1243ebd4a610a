"""Instruction counts from callgrind: run a child under valgrind, read its totals, do the sums.

The figure that matters is the *marginal* cost of one more request. Each
workload runs at two or more sizes in separate processes; every run pays the
same fixed costs (interpreter start, imports, session set-up, warm-up,
teardown), so the difference of two totals divided by the difference of their
request counts is the cost per request, and nothing else. A third size checks
that the cost really is linear (the two half-slopes agree).

Everything here but :func:`run_counted` is pure, so it is unit-tested without
valgrind.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks._proc import ROOT, _preexec

#: Callgrind with everything it does not need switched off: no cache or branch
#: simulation (the default), no per-line or per-instruction positions (smaller
#: files, the totals are the same), and collection from the first instruction to
#: the last (the fixed part is removed by subtraction, see the module docstring).
VALGRIND_OPTIONS = (
    "-q",
    "--tool=callgrind",
    "--dump-line=no",
    "--dump-instr=no",
    "--collect-jumps=no",
)


@dataclass(frozen=True)
class Point:
    """One run: how many requests it made and how many instructions (Ir) it executed."""

    requests: int
    instructions: int


def read_totals(text: str) -> dict[str, int]:
    """Return the event totals (``{"Ir": n, ...}``) of a callgrind output file's text.

    Uses the ``totals:`` lines (summed over parts, should a file hold several),
    else the ``summary:`` header line. Raises ``ValueError`` when the file has no
    ``events:`` line or no totals, or a totals line does not match the events.
    """
    events: list[str] | None = None
    totals: list[list[int]] = []
    summaries: list[list[int]] = []
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        if not sep:
            continue
        if key == "events":
            events = rest.split()
        elif key in ("totals", "summary"):
            try:
                values = [int(v) for v in rest.split()]
            except ValueError as exc:
                raise ValueError(f"callgrind {key} line is not numbers: {line!r}") from exc
            (totals if key == "totals" else summaries).append(values)
    if not events:
        raise ValueError("not a callgrind output file: no 'events:' line")
    chosen = totals or summaries
    if not chosen:
        raise ValueError("callgrind output has no 'totals:' or 'summary:' line (run cut short?)")
    result = dict.fromkeys(events, 0)
    for values in chosen:
        if len(values) > len(events):
            raise ValueError(f"totals {values} do not match events {events}")
        # Trailing zero events may be left out of a cost line.
        for name, value in zip(events, values, strict=False):
            result[name] += value
    return result


def instructions_in(path: Path) -> int:
    """Return the total instructions executed (Ir) recorded in a callgrind output file."""
    totals = read_totals(path.read_text(encoding="utf-8", errors="replace"))
    if "Ir" not in totals:
        raise ValueError(f"{path} does not count Ir (events: {', '.join(totals)})")
    return totals["Ir"]


def per_request(short: Point, long: Point) -> float:
    """Return the instructions per extra request: (long - short) / (extra requests)."""
    extra = long.requests - short.requests
    if extra <= 0:
        raise ValueError(f"the long run ({long.requests}) must make more requests than the short")
    return (long.instructions - short.instructions) / extra


def slopes(points: Sequence[Point]) -> list[float]:
    """Return the per-request cost between each pair of neighbouring sizes (sorted by size)."""
    ordered = sorted(points, key=lambda p: p.requests)
    if len(ordered) < 2:
        raise ValueError("need at least two sizes to measure a cost per request")
    return [per_request(a, b) for a, b in itertools.pairwise(ordered)]


def nonlinearity(points: Sequence[Point]) -> float:
    """Return how far the neighbouring slopes disagree, relative to the overall slope.

    0.0 means every extra request cost the same; 0.02 means the slopes differ by
    2 % of the cost per request. Needs three sizes to say anything (two give 0.0).
    """
    ordered = sorted(points, key=lambda p: p.requests)
    parts = slopes(ordered)
    overall = per_request(ordered[0], ordered[-1])
    if overall <= 0:
        raise ValueError(f"instructions did not grow with requests: {ordered}")
    return (max(parts) - min(parts)) / overall


def lowest_per_size(points: Sequence[Point]) -> list[Point]:
    """Keep, for each size, the run with the fewest instructions (sorted by size).

    A disturbance can only add instructions, never remove them: when the server
    answers late (a loaded machine), the client's event loop goes round once more
    waiting for it. So of several runs of one size the lowest count is the one
    least disturbed.
    """
    best: dict[int, Point] = {}
    for point in points:
        kept = best.get(point.requests)
        if kept is None or point.instructions < kept.instructions:
            best[point.requests] = point
    return [best[n] for n in sorted(best)]


def ratio(sdk: float, raw: float) -> float:
    """Return SDK / raw of two per-request costs."""
    if raw <= 0:
        raise ValueError(f"the raw baseline's cost per request must be positive, got {raw}")
    return sdk / raw


def valgrind_path() -> str:
    """Return the valgrind executable, or raise RuntimeError saying how to get it."""
    found = shutil.which("valgrind")
    if found is None:
        raise RuntimeError(
            "valgrind is not installed (apt-get install valgrind); "
            "the instruction-count benchmark needs it"
        )
    return found


def counting_env(pycache: Path) -> dict[str, str]:
    """Return the environment of a counted child: fixed hash seed, warmed bytecode cache.

    ``PYTHONHASHSEED=0`` makes str hashes, hence dict/set layouts and probe
    counts, the same in every run. Bytecode goes to ``pycache`` (warmed by an
    uncounted run first), so no run pays for compiling a module another did not.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def run_counted(
    argv: Sequence[str], out_file: Path, env: Mapping[str, str], timeout: float = 900.0
) -> tuple[int, str, float]:
    """Run ``argv`` under callgrind; return (instructions, its stdout, wall seconds).

    Raises RuntimeError when the child fails or leaves no totals.
    """
    command = [valgrind_path(), *VALGRIND_OPTIONS, f"--callgrind-out-file={out_file}", *argv]
    started = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        timeout=timeout,
        check=False,
        preexec_fn=_preexec(),
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"callgrind run failed ({done.returncode}): {' | '.join(tail)}")
    return instructions_in(out_file), done.stdout.decode(errors="replace"), wall
