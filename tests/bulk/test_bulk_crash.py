"""Kill ``floimg bulk`` mid-run (SIGKILL, then SIGINT), resume it, and count on the server.

The emulator runs in its own process and outlives the killed CLI, so whatever
the CLI had sent before it died is on the server; the resumed run must neither
lose an item nor run one twice.
"""

from __future__ import annotations

import json
import random
import shlex
import signal
import subprocess
import time
from pathlib import Path
from typing import IO

import pytest
from _bulk_support import (
    FLOIMG,
    EmulatorProcess,
    assert_exactly_once,
    journal_counts,
    write_input,
)

from floimg_async.bulk import ItemState, Journal

ITEMS = 300


def _start_bulk(
    emulator: EmulatorProcess, workdir: Path, input_path: Path, out: Path, *extra: str
) -> subprocess.Popen[bytes]:
    with (workdir / "run1.out").open("wb") as stdout, (workdir / "run1.err").open("wb") as stderr:
        return _popen(emulator, input_path, out, stdout, stderr, *extra)


def _popen(
    emulator: EmulatorProcess,
    input_path: Path,
    out: Path,
    stdout: IO[bytes],
    stderr: IO[bytes],
    *extra: str,
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            *FLOIMG,
            "bulk",
            "wf_social_card",
            str(input_path),
            "--out",
            str(out),
            "--concurrency",
            "16",
            "--poll-interval",
            "0.05",
            "--download",
            str(out.with_name("images")),
            *extra,
        ],
        env=emulator.env,
        stdout=stdout,
        stderr=stderr,
    )


def _wait_until_mid_run(
    proc: subprocess.Popen[bytes], journal: Path, completed: int, submitting: int = 0
) -> dict[ItemState, int]:
    """Poll the journal until some items completed and some are in flight."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the bulk run ended before it could be interrupted"
        counts = journal_counts(journal)
        in_flight = counts[ItemState.SUBMITTING] + counts[ItemState.SUBMITTED]
        if (
            counts[ItemState.COMPLETED] >= completed
            and in_flight > 0
            and counts[ItemState.SUBMITTING] >= submitting
        ):
            return counts
        time.sleep(0.02)
    raise AssertionError("the bulk run never got going")


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_bulk_sigkill_mid_run_then_resume_runs_every_item_exactly_once(
    emulator_process: EmulatorProcess, tmp_path: Path, mode: str
) -> None:
    tag = f"kill9{mode}"
    input_path = write_input(tmp_path / "cards.jsonl", ITEMS, tag)
    out = tmp_path / "results.jsonl"
    journal = tmp_path / "results.jsonl.journal"

    # Slow answers keep submissions "submitting" (sent, no execution id yet) long
    # enough for the kill to catch some: their resend must be deduplicated.
    emulator_process.configure(latency=0.03)
    proc = _start_bulk(emulator_process, tmp_path, input_path, out, "--mode", mode)
    try:
        at_kill = _wait_until_mid_run(proc, journal, completed=40, submitting=1)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        emulator_process.configure(latency=0.0)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    after_kill = journal_counts(journal)
    in_flight = after_kill[ItemState.SUBMITTING] + after_kill[ItemState.SUBMITTED]
    assert after_kill[ItemState.COMPLETED] < ITEMS and after_kill[ItemState.SUBMITTING] > 0
    replays_before = emulator_process.admin("stats")["idempotentReplays"]
    lines_at_kill = len(out.read_text().splitlines())

    resumed = subprocess.run(
        [
            *FLOIMG,
            "--json",
            "bulk",
            "wf_social_card",
            str(input_path),
            "--out",
            str(out),
            "--concurrency",
            "16",
            "--poll-interval",
            "0.05",
            "--download",
            str(tmp_path / "images"),
        ],  # no --mode: the journal's own is kept
        env=emulator_process.env,
        capture_output=True,
        timeout=60,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    summary = json.loads(resumed.stdout)
    assert summary["completedTotal"] == ITEMS and summary["ok"] is True
    assert summary["skipped"] == after_kill[ItemState.COMPLETED]
    assert summary["resumed"] == in_flight

    assert summary["mode"] == mode
    assert_exactly_once(emulator_process, out, tag, ITEMS)
    images = tmp_path / "images"
    assert sorted(p.name for p in images.glob("*.part")) == []  # .000017.png.<hex>.part
    assert sorted(p.name for p in images.glob("0*")) == [f"{n:06d}.png" for n in range(ITEMS)]
    with Journal(journal, readonly=True) as done:
        items = list(done.items())
        run_id = done.run_id
    assert len(items) == ITEMS
    assert all(i.state is ItemState.COMPLETED and i.execution_id for i in items)
    keys = {
        e["idempotency_key"]
        for e in emulator_process.executions("wf_social_card")
        if e["parameters"]["prompt"].startswith(f"{tag}-")
    }
    assert keys == {f"bulk-{run_id}-{n}" for n in range(ITEMS)}
    replays = emulator_process.admin("stats")["idempotentReplays"] - replays_before
    print(
        f"\ncrash test ({mode}): {ITEMS} items, SIGKILL with "
        f"{at_kill[ItemState.COMPLETED]} completed "
        f"and {in_flight} in flight (journal after kill: {dict(after_kill)}; "
        f"{lines_at_kill} result lines); resume: {summary['completed']} completed, "
        f"{summary['skipped']} skipped, {summary['resumed']} resumed in flight, "
        f"{summary['requests']} requests, {replays} idempotent replays; duplicates 0"
    )


def test_bulk_sigint_exits_130_prints_the_resume_command_and_resume_completes(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    count = 150
    input_path = write_input(tmp_path / "cards.jsonl", count, "sigint")
    out = tmp_path / "results.jsonl"
    journal = tmp_path / "results.jsonl.journal"

    proc = _start_bulk(emulator_process, tmp_path, input_path, out)
    try:
        _wait_until_mid_run(proc, journal, completed=20)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    stderr = (tmp_path / "run1.err").read_text()
    assert "error: interrupted" in stderr and "Traceback" not in stderr
    lines = stderr.splitlines()
    hint = lines[next(i for i, line in enumerate(lines) if "Resume with:" in line) + 1]
    words = shlex.split(hint)
    assert words[:2] == ["floimg", "bulk"]
    counts = journal_counts(journal)
    assert counts[ItemState.SUBMITTING] == 0 or counts[ItemState.SUBMITTING] <= 16
    assert counts[ItemState.COMPLETED] < count

    resumed = subprocess.run(
        [*FLOIMG, *words[1:]], env=emulator_process.env, capture_output=True, timeout=60
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert_exactly_once(emulator_process, out, "sigint", count)


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_bulk_repeated_sigkills_at_random_moments_still_run_each_item_once(
    emulator_process: EmulatorProcess, tmp_path: Path, mode: str
) -> None:
    """Kill -9 three times at random moments (seed printed), resume each time."""
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    count = 160
    tag = f"rand{mode}"
    input_path = write_input(tmp_path / "cards.jsonl", count, tag)
    out = tmp_path / "results.jsonl"
    journal = tmp_path / "results.jsonl.journal"
    emulator_process.configure(latency=0.02)
    kills = 0
    try:
        for round_ in range(3):
            with (tmp_path / f"r{round_}.err").open("wb") as stderr:
                proc = _popen(
                    emulator_process, input_path, out, subprocess.DEVNULL,  # type: ignore[arg-type]
                    stderr, "--mode", mode,
                )  # fmt: skip
            try:
                time.sleep(rng.uniform(0.3, 1.5))  # bounded: a moment somewhere in the run
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
                proc.wait(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)
    finally:
        emulator_process.configure(latency=0.0)
    final = subprocess.run(
        [*FLOIMG, "--json", "bulk", "wf_social_card", str(input_path), "--out", str(out),
         "--concurrency", "16", "--poll-interval", "0.05",
         "--download", str(out.with_name("images"))],
        env=emulator_process.env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert final.returncode == 0, (seed, final.stderr.decode())
    assert json.loads(final.stdout)["completedTotal"] == count
    assert_exactly_once(emulator_process, out, tag, count)
    assert list((tmp_path / "images").glob("*.part")) == []
    assert journal_counts(journal)[ItemState.COMPLETED] == count
    print(f"\nrandom kills ({mode}): seed {seed}, {kills} kill(s) landed mid-run")
