"""The instruction-count benchmark's arithmetic and workloads, without running valgrind.

``make bench-instructions`` reports (Ir long - Ir short) / extra requests and
the SDK/raw ratio from callgrind output files. These tests pin the parsing of
those files and the sums on made-up totals, and check against the bench app
(in-process, on 127.0.0.1) that each workload does the work it claims on both
sides, so the ratio compares like with like.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _support import LocalServer
from aiohttp import web
from aiohttp.typedefs import Handler

from benchmarks._callgrind import (
    Point,
    counting_env,
    instructions_in,
    lowest_per_size,
    nonlinearity,
    per_request,
    ratio,
    read_totals,
    slopes,
)
from benchmarks._server import API_KEY, make_app
from benchmarks.scenarios import instructions
from benchmarks.scenarios.instructions import (
    BY_NAME,
    PAGE,
    WORKLOADS,
    expected_items,
    row_for,
    run_workload,
)

# The shape callgrind 3.19 writes (trimmed): a header whose summary line
# repeats the totals, cost lines, and the totals line at the end.
CALLGRIND_OUT = """\
# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 7929
cmd:  .venv/bin/python -m benchmarks.scenarios.instructions --worker get_seq sdk 200 u k
part: 1


desc: I1 cache:
desc: Timerange: Basic block 0 - 303715122
desc: Trigger: Program termination

positions: line
events: Ir
summary: 1490524114


ob=(2) ???
fl=(52) ???
fn=(844) 0x0000000004e25368
0 111
cob=(3) /usr/lib/x86_64-linux-gnu/libc.so.6
cfn=(698) malloc
calls=111 3281
0 26799

totals: 1490524114
"""


def test_reads_the_instruction_total_of_a_callgrind_file(tmp_path: Path) -> None:
    out = tmp_path / "callgrind.out"
    out.write_text(CALLGRIND_OUT)
    assert instructions_in(out) == 1_490_524_114


def test_totals_win_over_summary_and_parts_add_up() -> None:
    text = "events: Ir Dr\nsummary: 999 1\nfn=(1) f\n0 5 3\ntotals: 700 40\ntotals: 300\n"
    # Two parts; the second leaves its trailing zero event out.
    assert read_totals(text) == {"Ir": 1000, "Dr": 40}


def test_summary_is_used_when_the_file_has_no_totals_line() -> None:
    assert read_totals("events: Ir\nsummary: 1234\n") == {"Ir": 1234}


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("summary: 5\ntotals: 5\n", "no 'events:' line"),
        ("events: Ir\nfn=(1) f\n0 5\n", "no 'totals:' or 'summary:'"),
        ("events: Ir\ntotals: 12x\n", "not numbers"),
        ("events: Ir\ntotals: 1 2\n", "do not match events"),
    ],
)
def test_a_broken_file_is_refused_with_the_reason(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        read_totals(text)


def test_a_file_without_ir_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "cachegrind.out"
    out.write_text("events: Dr Dw\ntotals: 5 6\n")
    with pytest.raises(ValueError, match="does not count Ir"):
        instructions_in(out)


def test_cost_per_request_is_the_delta_over_the_extra_requests() -> None:
    # 1.35 G of fixed cost (start-up, imports, warm-up) and 395,650 Ir per request.
    fixed, each = 1_350_000_000, 395_650
    short, long = Point(200, fixed + 200 * each), Point(1200, fixed + 1200 * each)
    assert per_request(short, long) == each
    # Not total / requests: the fixed cost must not leak in.
    assert long.instructions / long.requests > 3 * each


def test_cost_per_request_needs_a_longer_long_run() -> None:
    with pytest.raises(ValueError, match="more requests"):
        per_request(Point(1200, 10), Point(200, 5))
    with pytest.raises(ValueError, match="more requests"):
        per_request(Point(200, 10), Point(200, 10))


def test_linearity_compares_the_two_half_slopes() -> None:
    straight = [Point(1200, 1000 + 1200 * 50), Point(200, 1000 + 200 * 50), Point(700, 36000)]
    assert slopes(straight) == [50.0, 50.0]
    assert nonlinearity(straight) == 0.0
    # 40 Ir per request for the first 500, 60 for the next 500: overall 50,
    # the halves differ by 20, i.e. 40 % of the cost per request.
    kinked = [Point(200, 0), Point(700, 20_000), Point(1200, 50_000)]
    assert slopes(kinked) == [40.0, 60.0]
    assert nonlinearity(kinked) == pytest.approx(0.4)


def test_linearity_refuses_counts_that_do_not_grow() -> None:
    with pytest.raises(ValueError, match="did not grow"):
        nonlinearity([Point(200, 500), Point(700, 500), Point(1200, 500)])


def test_of_repeated_runs_the_lowest_count_per_size_is_kept() -> None:
    # A late answer from the server only ever adds event-loop rounds.
    runs = [Point(700, 36_000), Point(200, 11_000), Point(700, 35_100), Point(200, 11_400)]
    assert lowest_per_size(runs) == [Point(200, 11_000), Point(700, 35_100)]


def test_ratio_is_sdk_over_raw() -> None:
    assert ratio(464_281, 395_650) == pytest.approx(1.1735, abs=1e-4)
    with pytest.raises(ValueError, match="positive"):
        ratio(1.0, 0.0)


def test_a_row_reports_per_request_costs_ratio_and_verdict() -> None:
    fixed = 10**9
    points = {
        "sdk": [Point(n, fixed + n * 600) for n in (200, 700, 1200)],
        "raw": [Point(n, fixed // 2 + n * 500) for n in (1200, 200, 700)],
    }
    row = row_for(BY_NAME["get_seq"], points)
    assert (row.sdk, row.raw) == (600.0, 500.0)
    assert row.ratio == pytest.approx(1.2)
    assert row.passed is False  # target <= 1.10
    assert "200/700/1200 requests" in row.note
    cheaper = {**points, "sdk": [Point(n, fixed + n * 540) for n in (200, 700, 1200)]}
    assert row_for(BY_NAME["get_seq"], cheaper).passed is True  # 1.08


def test_a_side_whose_slopes_disagree_is_measured_again(monkeypatch: pytest.MonkeyPatch) -> None:
    straight = [Point(n, 1000 + n * 50) for n in (200, 700, 1200)]
    # The 1200 run was disturbed: 20 % more per request in the second half.
    disturbed = [*straight[:2], Point(1200, straight[2].instructions + 5_000)]
    calls: list[tuple[str, ...]] = []

    def fake_measure(
        workload: object, sizes: object, sides: tuple[str, ...], *rest: object
    ) -> dict[str, list[Point]]:
        calls.append(tuple(sides))
        if len(calls) == 1:
            return {"sdk": list(disturbed), "raw": list(straight)}
        return {side: list(straight) for side in sides}

    monkeypatch.setattr(instructions, "measure", fake_measure)
    points, extra = instructions.measure_linear(
        BY_NAME["get_seq"], (200, 700, 1200), None, Path(), {}
    )
    assert calls == [("sdk", "raw"), ("sdk",)]  # only the noisy side again
    assert extra == 1
    assert points == {"sdk": straight, "raw": straight}


def test_remeasuring_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    kinked = [Point(200, 0), Point(700, 20_000), Point(1200, 50_000)]
    calls: list[tuple[str, ...]] = []

    def fake_measure(
        workload: object, sizes: object, sides: tuple[str, ...], *rest: object
    ) -> dict[str, list[Point]]:
        calls.append(tuple(sides))
        return {side: list(kinked) for side in sides}

    monkeypatch.setattr(instructions, "measure", fake_measure)
    points, extra = instructions.measure_linear(
        BY_NAME["get_seq"], (200, 700, 1200), None, Path(), {}
    )
    assert extra == instructions.REMEASURE
    assert len(calls) == 1 + instructions.REMEASURE
    assert nonlinearity(points["sdk"]) == pytest.approx(0.4)  # reported, not hidden


def test_counted_children_get_a_fixed_hash_seed_and_their_own_bytecode_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("PYTHONHASHSEED", "random")
    env = counting_env(tmp_path / "pyc")
    assert env["PYTHONHASHSEED"] == "0"
    assert env["PYTHONPYCACHEPREFIX"] == str(tmp_path / "pyc")
    assert "PYTHONDONTWRITEBYTECODE" not in env


@pytest.fixture
async def bench() -> AsyncIterator[tuple[str, Counter[str]]]:
    """The bench app on 127.0.0.1, counting the API requests it answers by path."""
    seen: Counter[str] = Counter()

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if response.status == 200:
            seen[request.path] += 1
        return response

    app = make_app()
    app.middlewares.append(count)
    server = LocalServer(app)
    await server.start()
    try:
        yield server.base_url, seen
    finally:
        await server.close()


@pytest.mark.parametrize("name", [w.name for w in WORKLOADS])
async def test_both_sides_of_a_workload_do_the_same_work(
    bench: tuple[str, Counter[str]], name: str
) -> None:
    url, seen = bench
    workload = BY_NAME[name]
    served: dict[str, Counter[str]] = {}
    for side in ("sdk", "raw"):
        seen.clear()
        result = await run_workload(name, side, 3, url, API_KEY)
        assert result["requests"] == 3, side
        assert result["items"] == expected_items(name, 3), side
        served[side] = Counter(seen)
    # The same requests reached the server from both sides: warm-up plus the counted part.
    assert served["sdk"] == served["raw"]
    assert sum(served["sdk"].values()) == workload.warm_up + 3
    if name.startswith("list"):
        assert expected_items(name, 3) == 3 * PAGE
