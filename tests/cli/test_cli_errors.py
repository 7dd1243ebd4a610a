"""One error line on stderr, distinct exit statuses, no traceback unless -v."""

from __future__ import annotations

import pytest
from _cli_support import Floimg


def test_cli_usage_error_exits_2(floimg: Floimg) -> None:
    result = floimg("workflows", "list", "--bogus")
    assert result.code == 2
    assert result.stderr.startswith("error: usage: ")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "param", ["novalue", "=x", "k:={not json"], ids=["no-equals", "no-key", "bad-json"]
)
def test_cli_bad_param_exits_2(floimg: Floimg, param: str) -> None:
    result = floimg("workflows", "execute", "wf_social_card", "--param", param)
    assert result.code == 2
    assert result.stderr.startswith("error: usage: ")


def test_cli_missing_api_key_exits_2(floimg_offline: Floimg) -> None:
    result = floimg_offline("workflows", "list")
    assert result.code == 2
    assert "FLOIMG_API_KEY" in result.stderr


def test_cli_api_error_exits_3_with_code_message_and_request_id(floimg: Floimg) -> None:
    result = floimg("workflows", "get", "wf_missing")
    assert result.code == 3
    line = result.stderr.strip()
    assert line.startswith("error: not_found: ")
    assert "request_id=" in line
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_cli_invalid_parameters_exit_3(floimg: Floimg) -> None:
    result = floimg("workflows", "execute", "wf_social_card", "-p", "width=-5", "-p", "prompt=x")
    assert result.code == 3
    assert result.stderr.startswith("error: invalid_request: ")


def test_cli_failed_workflow_exits_3_and_json_shows_the_execution(floimg: Floimg) -> None:
    result = floimg(
        "--json", "workflows", "run", "wf_flaky", "-p", "fail=true", "--poll-interval", "0.05"
    )
    assert result.code == 3
    assert result.stderr.startswith("error: workflow_failed: ")
    assert result.json_lines()[0]["status"] == "failed"


def test_cli_connection_refused_exits_4(floimg: Floimg) -> None:
    result = floimg(
        "--base-url", "http://127.0.0.1:9/v1", "--max-retries", "0", "workflows", "list"
    )
    assert result.code == 4
    assert result.stderr.startswith("error: connection_error: ")
    assert result.stdout == ""


def test_cli_wait_timeout_exits_4(floimg: Floimg) -> None:
    pending = floimg(
        "--json", "workflows", "run", "wf_social_card", "-p", "prompt=slow", "--no-wait"
    ).json_lines()[0]
    result = floimg(
        "executions", "wait", pending["executionId"], "--wait-timeout", "0", "--poll-interval", "1"
    )
    assert result.code in (0, 4)  # 0 only if it had already finished
    if result.code == 4:
        assert result.stderr.startswith("error: wait_timeout: ")


def test_cli_verbose_logs_requests_without_the_key(floimg: Floimg) -> None:
    key = floimg.env["FLOIMG_API_KEY"]
    assert key
    result = floimg("-v", "workflows", "get", "wf_missing")
    assert result.code == 3
    assert "GET /workflows/wf_missing -> 404" in result.stderr
    assert "Traceback" in result.stderr  # -v shows where it came from
    assert key not in result.stderr and key not in result.stdout


def test_cli_api_key_on_the_command_line_is_never_logged(floimg: Floimg) -> None:
    key = floimg.env["FLOIMG_API_KEY"]
    assert key
    result = floimg("-v", "--api-key", key, "workflows", "list", FLOIMG_API_KEY=None)
    assert result.code == 0
    assert "GET /workflows" in result.stderr
    assert key not in result.stderr
