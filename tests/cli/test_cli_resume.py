"""Paid work is never lost: whatever stops ``workflows run``/``executions wait``, the
execution id and the command that picks it up are printed (issue 13 finding 4)."""

from __future__ import annotations

import json
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli_support import EmulatorThread, Floimg, ScriptedServer

RESUME = "floimg executions wait "


@pytest.fixture(scope="module")
def slow() -> Iterator[EmulatorThread]:
    """An emulator whose executions take long enough to interrupt."""
    server = EmulatorThread(execution_time=30).start()
    try:
        yield server
    finally:
        server.stop()


def _resume_line(stderr: str) -> list[str]:
    lines = [
        line.strip()
        for line in stderr.splitlines()
        if line.strip().startswith("floimg ") and " executions wait " in line
    ]
    assert len(lines) == 1, stderr
    return shlex.split(lines[0])


def test_cli_run_wait_timeout_prints_the_id_and_the_resume_command(
    slow: EmulatorThread, emulator: EmulatorThread
) -> None:
    floimg = Floimg(dict(slow.env))
    result = floimg(
        "workflows", "run", "wf_social_card", "-p", "prompt=slow",
        "--wait-timeout", "0.2", "--poll-interval", "0.05",
    )  # fmt: skip
    assert result.code == 4
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: wait_timeout: ")  # the error line first, then the way on
    words = _resume_line(result.stderr)
    execution_id = words[3]
    assert execution_id.startswith("exec_")
    assert f"execution {execution_id} may still be running" in result.stderr
    # The printed command does pick it up (here: still running, so it times out again).
    again = floimg(*words[1:], "--wait-timeout", "0.1", "--poll-interval", "0.05")
    assert again.code == 4 and execution_id in again.stderr


def test_cli_run_wait_timeout_in_json_mode_is_a_json_line(slow: EmulatorThread) -> None:
    result = Floimg(dict(slow.env))(
        "--json", "workflows", "run", "wf_social_card", "-p", "prompt=slow",
        "--wait-timeout", "0.1", "--poll-interval", "0.05",
    )  # fmt: skip
    assert result.code == 4
    (line,) = result.json_lines()
    assert line["executionId"].startswith("exec_")
    assert line["status"] in {"pending", "running"}
    assert line["resumeCommand"] == f"{RESUME}{line['executionId']}"


def test_cli_a_failing_poll_prints_the_resume_command(scripted: ScriptedServer) -> None:
    scripted.routes = {
        ("POST", "/v1/workflows/execute"): (202, {"executionId": "exec_1", "status": "pending"}),
        ("GET", "/v1/workflows/executions/exec_1"): (
            503,
            {"error": {"code": "unavailable", "message": "down for maintenance"}},
        ),
    }
    result = Floimg(dict(scripted.env))(
        "workflows", "run", "wf_1", "--max-retries", "0", "--poll-interval", "0.05",
        "--base-url", f"{scripted.origin}/v1",
    )  # fmt: skip
    assert result.code == 3
    words = _resume_line(result.stderr)
    # --base-url was given on the line, so the resume command repeats it (never the key).
    assert words == ["floimg", "--base-url", f"{scripted.origin}/v1", *RESUME.split()[1:], "exec_1"]
    assert "fsk_test_scripted" not in result.stderr


def test_cli_a_failed_download_resumes_with_the_download(
    scripted: ScriptedServer, tmp_path: Path
) -> None:
    # The destination is fine (checked before the run); the image's URL fails once.
    folder = tmp_path / "cards"

    def routes(url_path: str) -> dict[tuple[str, str], tuple[int, object]]:
        done = {
            "executionId": "exec_dl",
            "status": "completed",
            "output": {"url": scripted.origin + url_path, "format": "png"},
        }
        pending = {"executionId": "exec_dl", "status": "pending"}
        return {
            ("POST", "/v1/workflows/execute"): (202, pending),
            ("GET", "/v1/workflows/executions/exec_dl"): (200, done),
        }

    scripted.routes = routes("/gone/card.png")  # answers 404
    floimg = Floimg(dict(scripted.env))
    result = floimg(
        "workflows", "run", "wf_social_card", "-p", "prompt=dl", "--poll-interval", "0.02",
        "--download", f"{folder}/", "--max-retries", "0",
    )  # fmt: skip
    assert result.code == 3, result.stderr
    assert "execution exec_dl finished (completed)" in result.stderr
    words = _resume_line(result.stderr)
    assert words[-2:] == ["--download", f"{folder}/"]
    scripted.routes = routes("/files/card.png")
    again = floimg(*words[1:])
    assert again.code == 0, again.stderr
    assert [p.name for p in folder.iterdir()] == ["card.png"]


def test_cli_a_failed_workflow_names_its_execution(emulator: EmulatorThread) -> None:
    result = Floimg(dict(emulator.env))(
        "workflows", "run", "wf_flaky", "-p", "fail=true", "--poll-interval", "0.02"
    )
    assert result.code == 3
    assert result.stderr.startswith("error: workflow_failed: ")
    assert "execution exec_" in result.stderr and " failed" in result.stderr
    assert RESUME not in result.stderr  # it ended: nothing to pick up


def _spawn(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "floimg_async.cli", *args],
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_until_polling(proc: subprocess.Popen[str]) -> str:
    """Read the -v log on stderr until the first status poll: the wait has begun, so
    the command knows the execution id. Bounded: 60 s at most."""
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 1.0)
        if not ready:
            continue
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if "GET /workflows/executions/" in line:
            return "".join(seen)
    raise AssertionError(f"the command never polled: {''.join(seen)}")


def _interrupt(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        before = _read_until_polling(proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return out, before + err


@pytest.mark.parametrize("json_mode", [False, True], ids=["text", "json"])
def test_cli_ctrl_c_during_run_prints_the_id(slow: EmulatorThread, json_mode: bool) -> None:
    prompt = f"ctrl-c-{json_mode}"
    flags = ["--json"] if json_mode else []
    proc = _spawn(
        slow.env, "-v", *flags, "workflows", "run", "wf_social_card", "-p", f"prompt={prompt}",
        "--poll-interval", "0.05",
    )  # fmt: skip
    out, err = _interrupt(proc)
    assert proc.returncode == 130, err
    assert "error: interrupted: " in err
    (execution,) = [
        e for e in slow.admin("executions")["executions"] if e["parameters"].get("prompt") == prompt
    ]
    execution_id = execution["id"]
    if json_mode:
        (line,) = [json.loads(x) for x in out.splitlines() if x.strip()]
        assert line["executionId"] == execution_id
        assert line["resumeCommand"] == f"{RESUME}{execution_id}"
    else:
        assert _resume_line(err) == [*RESUME.split(), execution_id]


def test_cli_ctrl_c_during_executions_wait_prints_the_id(slow: EmulatorThread) -> None:
    pending = Floimg(dict(slow.env))(
        "--json", "workflows", "run", "wf_social_card", "-p", "prompt=w", "--no-wait"
    ).json_lines()[0]
    execution_id = pending["executionId"]
    proc = _spawn(slow.env, "-v", "executions", "wait", execution_id, "--poll-interval", "0.05")
    _, err = _interrupt(proc)
    assert proc.returncode == 130, err
    assert _resume_line(err) == [*RESUME.split(), execution_id]


def test_cli_a_submission_of_unknown_fate_prints_its_idempotency_key(floimg: Floimg) -> None:
    dead = ["--base-url", "http://127.0.0.1:9/v1", "--max-retries", "0"]
    result = floimg("workflows", "run", "wf_1", "-p", "prompt=x", *dead)
    assert result.code == 4
    key = re.search(r"--idempotency-key (\S+) and it runs at most once", result.stderr)
    assert key is not None, result.stderr
    as_json = floimg("--json", "workflows", "run", "wf_1", "--idempotency-key", "k-123", *dead)
    assert as_json.json_lines() == [{"executionId": None, "idempotencyKey": "k-123"}]


def test_cli_a_refused_submission_prints_no_hint(floimg: Floimg) -> None:
    result = floimg("workflows", "run", "wf_missing", "-p", "prompt=x")
    assert result.code == 3
    assert result.stderr.count("\n") == 1  # the error line only: nothing ran, nothing to resume


def test_cli_interrupted_execute_prints_its_idempotency_key(floimg: Floimg) -> None:
    result = floimg(
        "--json", "workflows", "execute", "wf_1", "--idempotency-key", "k-9",
        "--base-url", "http://127.0.0.1:9/v1", "--max-retries", "0",
    )  # fmt: skip
    assert result.code == 4
    assert result.json_lines() == [{"executionId": None, "idempotencyKey": "k-9"}]
