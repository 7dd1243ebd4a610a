"""``floimg bulk`` in-process: summary, resume, exit statuses, refusals."""

from __future__ import annotations

import json
from pathlib import Path

from _cli_support import EmulatorThread, Floimg


def _input(path: Path, prompts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in prompts))
    return path


def test_cli_bulk_runs_then_resumes_with_nothing_left(
    floimg: Floimg, emulator: EmulatorThread, tmp_path: Path
) -> None:
    source = _input(tmp_path / "in.jsonl", [f"cli-bulk-{n}" for n in range(10)])
    out = tmp_path / "results.jsonl"
    args = ["bulk", "wf_social_card", str(source), "--out", str(out), "--poll-interval", "0.02"]
    first = floimg("--json", *args, "--download", str(tmp_path / "img"))
    assert first.code == 0, first.stderr
    summary = first.json_lines()[0]
    assert summary["completed"] == 10 and summary["ok"] is True
    assert summary["requestsPerExecution"] >= 2  # a submission and at least one poll
    assert summary["journalPath"] == str(tmp_path / "results.jsonl.journal")
    assert len(out.read_text().splitlines()) == 10
    assert len(list((tmp_path / "img").glob("0*.png"))) == 10

    second = floimg(*args)
    assert second.code == 0
    assert "0 completed" in second.stdout and "10 skipped" in second.stdout
    ran = [
        e
        for e in emulator.admin("executions")["executions"]
        if str(e["parameters"].get("prompt", "")).startswith("cli-bulk-")
    ]
    assert len(ran) == 10


def test_cli_bulk_failed_items_exit_1_and_say_how_to_retry(floimg: Floimg, tmp_path: Path) -> None:
    source = _input(tmp_path / "in.jsonl", ["ok", "make it fail"])
    result = floimg("bulk", "wf_flaky", str(source), "--poll-interval", "0.02")
    assert result.code == 1
    assert "--retry-failed" in result.stderr
    assert "1 completed, 1 failed" in result.stderr  # stdout carries the results
    statuses = sorted(json.loads(line)["status"] for line in result.stdout.splitlines())
    assert statuses == ["completed", "failed"]


def test_cli_bulk_refuses_a_changed_input_with_exit_2(floimg: Floimg, tmp_path: Path) -> None:
    source = _input(tmp_path / "in.jsonl", ["one"])
    assert floimg("bulk", "wf_social_card", str(source), "--poll-interval", "0.02").code == 0
    _input(source, ["one", "two"])
    result = floimg("bulk", "wf_social_card", str(source))
    assert result.code == 2
    assert result.stderr.startswith("error: journal_mismatch: ")


def test_cli_bulk_unknown_workflow_exits_3_before_any_item(floimg: Floimg, tmp_path: Path) -> None:
    source = _input(tmp_path / "in.jsonl", ["x"])
    result = floimg("bulk", "wf_nope", str(source))
    assert result.code == 3
    assert "error: not_found: " in result.stderr


def test_cli_bulk_missing_input_is_a_usage_error(floimg: Floimg, tmp_path: Path) -> None:
    result = floimg("bulk", "wf_social_card", str(tmp_path / "missing.jsonl"))
    assert result.code == 2


def test_cli_bulk_refuses_out_that_is_the_input_and_leaves_it_intact(
    floimg: Floimg, tmp_path: Path
) -> None:
    source = _input(tmp_path / "in.jsonl", ["one", "two"])
    content = source.read_bytes()
    (tmp_path / "alias.jsonl").symlink_to(source)
    for out in (str(source), "alias.jsonl", str(tmp_path / "." / "in.jsonl")):
        result = floimg("bulk", "wf_social_card", str(source), "--out", str(tmp_path / out))
        assert result.code == 2, result.stderr
        assert "is the input file" in result.stderr
    assert source.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias.jsonl", "in.jsonl"]


def test_cli_bulk_corrupt_journal_exits_5_not_1(floimg: Floimg, tmp_path: Path) -> None:
    source = _input(tmp_path / "in.jsonl", ["one"])
    journal = tmp_path / "in.jsonl.journal"
    journal.write_text("not a database at all\n")
    result = floimg("bulk", "wf_social_card", str(source))
    assert result.code == 5
    assert result.stderr.startswith("error: journal_corrupt: ")
    assert journal.read_text() == "not a database at all\n"


def test_cli_bulk_without_out_streams_json_lines_and_summarises_on_stderr(
    floimg: Floimg, emulator: EmulatorThread, tmp_path: Path
) -> None:
    source = _input(tmp_path / "in.jsonl", [f"stream-{n}" for n in range(6)])
    source.write_text(source.read_text() + "not json\n")
    args = ["bulk", "wf_social_card", str(source), "--poll-interval", "0.02"]
    first = floimg("--json", *args)
    assert first.code == 1  # the bad line failed
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    assert sorted(line["index"] for line in lines) == list(range(7))
    by_index = {line["index"]: line for line in lines}
    assert all(by_index[n]["status"] == "completed" for n in range(6))
    assert by_index[6]["errorCode"] == "invalid_input"
    summary = json.loads(first.stderr.splitlines()[0])
    assert summary["completed"] == 6 and summary["outPath"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "in.jsonl.journal"]

    # A resume prints every settled item again, so the last run's stdout is complete,
    # and sends nothing new.
    again = floimg(*args)
    assert sorted(json.loads(line)["index"] for line in again.stdout.splitlines()) == list(range(7))
    assert "0 completed" in again.stderr and "7 skipped" in again.stderr
    ran = [
        e
        for e in emulator.admin("executions")["executions"]
        if str(e["parameters"].get("prompt", "")).startswith("stream-")
    ]
    assert len(ran) == 6


def test_cli_bulk_leaves_no_lock_file_behind(floimg: Floimg, tmp_path: Path) -> None:
    source = _input(tmp_path / "in.jsonl", ["one"])
    out = tmp_path / "results.jsonl"
    result = floimg("bulk", "wf_social_card", str(source), "--out", str(out))
    assert result.code == 0, result.stderr
    assert not (tmp_path / "results.jsonl.journal.lock").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "in.jsonl",
        "results.jsonl",
        "results.jsonl.journal",
    ]
