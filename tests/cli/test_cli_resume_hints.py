"""A resume hint only where resuming can help.

``floimg executions wait exec_nope`` answered 404 and then said ``execution exec_nope
may still be running; pick it up with: floimg executions wait exec_nope`` (with
``--json``, a stdout line carrying a ``resumeCommand``); ``executions wait ''`` did
the same after refusing the empty id. A hint must follow an interruption, a wait
timeout, a connection failure, a 429 or a 5xx, or any failure after a state of the
execution was seen; never a refusal before any state was seen (400, 401, 403, 404)
nor a misused argument.
"""

from __future__ import annotations

from _cli_support import Floimg, ScriptedServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HINT = "floimg executions wait "
NO_HINT = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found"}
HINT_STATUSES = {429: "rate_limited", 500: "internal_error", 502: "bad_gateway", 503: "x"}


def _route(status: int, code: str) -> dict[tuple[str, str], tuple[int, object]]:
    return {
        ("GET", "/v1/workflows/executions/exec_1"): (
            status,
            {"error": {"code": code, "message": "no"}},
        )
    }


common = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@common
@given(status=st.sampled_from(sorted({**NO_HINT, **HINT_STATUSES})), json_mode=st.booleans())
def test_cli_wait_hints_only_when_the_execution_may_still_run(
    scripted: ScriptedServer, status: int, json_mode: bool
) -> None:
    code = {**NO_HINT, **HINT_STATUSES}[status]
    scripted.routes = _route(status, code)
    scripted.headers = {"Retry-After": "0"}
    try:
        result = Floimg(dict(scripted.env))(
            *(["--json"] if json_mode else []),
            "executions", "wait", "exec_1", "--max-retries", "0", "--poll-interval", "0.01",
        )  # fmt: skip
    finally:
        scripted.headers = {}
    assert result.code == 3, result.stderr
    shown = result.stdout if json_mode else result.stderr
    if status in NO_HINT:
        assert HINT not in result.stdout + result.stderr
        assert "may still be running" not in result.stderr
        assert result.stdout == ""
    else:
        assert HINT + "exec_1" in shown


@common
@given(bad=st.sampled_from(["", ".", ".."]), json_mode=st.booleans())
def test_cli_wait_on_a_misused_id_gives_no_hint(
    floimg_offline: Floimg, bad: str, json_mode: bool
) -> None:
    result = floimg_offline(
        *(["--json"] if json_mode else []), "--api-key", "fsk_test_x",
        "--base-url", "http://127.0.0.1:1/v1", "executions", "wait", bad,
    )  # fmt: skip
    assert result.code == 2, result.stderr
    assert HINT not in result.stdout + result.stderr
    assert result.stdout == ""


def test_cli_a_poll_refused_after_the_submission_still_hints(scripted: ScriptedServer) -> None:
    """Once the submission answered, the execution exists: a later 404 still says how to
    look again (the id came from the API)."""
    scripted.routes = {
        ("POST", "/v1/workflows/execute"): (202, {"executionId": "exec_9", "status": "pending"}),
        ("GET", "/v1/workflows/executions/exec_9"): (
            404,
            {"error": {"code": "not_found", "message": "gone"}},
        ),
    }
    result = Floimg(dict(scripted.env))(
        "workflows", "run", "wf_1", "--max-retries", "0", "--poll-interval", "0.01"
    )
    assert result.code == 3, result.stderr
    assert HINT + "exec_9" in result.stderr
