"""The API key never reaches the terminal, whatever a server echoes (issue 10 item 1).

A hostile API (or a proxy in front of it) copies the request's ``Authorization``
header into ``X-Request-Id`` and puts the key inside every string a command prints:
names, ids, statuses, error codes and messages, details. The SDK scrubs what it
raises, but the CLI prints more than exceptions (tables, detail views, JSON lines,
the ``request_id`` of an error line, ``-v`` logs and tracebacks, resume hints), so
every command runs in text, rich-table, ``-v`` and ``--json`` mode and the key (or
its JSON-escaped spelling) must appear in neither stdout nor stderr.
"""

from __future__ import annotations

import json

import pytest
from _cli_support import Floimg, Outcome, ScriptedServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli_terminal import SCENARIOS, _run

# Keys the SDK accepts: printable ASCII without spaces, quotes and backslashes included
# (their JSON spelling differs from the raw text).
keys = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=12, max_size=40
).map(lambda tail: "fsk_" + tail)
around = st.text(alphabet=st.sampled_from('ab /:="\\[]\x1b\u202e'), max_size=4)
MODES = {
    "text": (),
    "verbose": ("-v",),
    "json": ("--json",),
    "json verbose": ("--json", "-v"),
}


def _leaks(result: Outcome, key: str) -> list[str]:
    spellings = {key, json.dumps(key)[1:-1]}
    return [
        f"{name} holds {spelling!r}"
        for name, stream in (("stdout", result.stdout), ("stderr", result.stderr))
        for spelling in spellings
        if spelling in stream
    ]


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(sorted(SCENARIOS)),
    mode=st.sampled_from(sorted(MODES)),
    key=keys,
    before=around,
    after=around,
    rich=st.booleans(),
)
def test_cli_never_prints_the_api_key_a_server_echoes(
    scripted: ScriptedServer,
    upload: str,
    name: str,
    mode: str,
    key: str,
    before: str,
    after: str,
    rich: bool,
) -> None:
    scripted.headers = {"X-Request-Id": "req {auth}", "Retry-After": "0"}
    env = {"FLOIMG_API_KEY": key}
    if rich:
        env.update(FORCE_COLOR="1", TERM="dumb", COLUMNS="300")
    try:
        result = _run(scripted, upload, name, before + key + after, *MODES[mode], **env)
    finally:
        scripted.headers = {}
    assert not _leaks(result, key), (result.stdout, result.stderr)
    if "json" in mode:
        for line in result.stdout.splitlines():
            json.loads(line)  # redacting kept every line valid JSON


@pytest.mark.parametrize("status", [400, 401, 404, 503])
def test_cli_error_line_redacts_an_echoed_authorization_request_id(
    scripted: ScriptedServer, status: int
) -> None:
    """The report's reproducer: a proxy copies Authorization into X-Request-Id."""
    key = "fsk_test_echoed_5ecret"
    scripted.routes = {
        ("GET", "/v1/workflows/wf_1"): (status, {"error": {"code": "x", "message": "no"}})
    }
    scripted.headers = {"X-Request-Id": "{auth}", "Retry-After": "0"}
    try:
        for extra in ((), ("-v",), ("--json",)):
            result = Floimg({**scripted.env, "FLOIMG_API_KEY": key})(
                *extra, "workflows", "get", "wf_1", "--max-retries", "1"
            )
            assert result.code == 3, result.stderr  # 503 after its one retry: still 3
            assert key not in result.stdout + result.stderr
            assert "request_id=Bearer [redacted]" in result.stderr
    finally:
        scripted.headers = {}
