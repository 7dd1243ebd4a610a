"""Server text is shown, never obeyed: no markup, no escapes, valid JSON (issue 10 item 7).

A hostile API (``ScriptedServer``) puts the same drawn string in every field a
command prints — names, descriptions, ids, statuses, parameter schemas, error
codes and messages — and each command runs in text mode (plain and rich
tables), and in ``--json`` mode. Whatever the string, the command must not
crash on it, nothing a terminal acts on may reach stdout or stderr, and JSON
lines must decode back to the very string the server sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from _cli_support import Floimg, Outcome, ScriptedServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# What a terminal may act on: C0/C1 controls (ESC, the one-byte CSI 0x9b, BEL...), DEL,
# U+2028/9, bidi overrides/isolates/marks, and lone surrogates. Written out here, not
# imported, so the test does not just echo the code under test.
INERT_VIOLATION = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f"
    "\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
PAYLOADS = [
    "[/]",
    "[bold red]pwned[/bold red]",
    "[link=https://evil.example/]click me[/link]",
    "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
    "\x1b[2J\x1b[31mred",
    "\x9b31mC1 CSI",
    "\x9d8;;https://evil.example/\x9c",
    "a\rb\nc\x00d\x07",
    "invoice\u202egnp.exe",
    "\u2066isolated\u2069",
    "lone \ud800 surrogate",
    ":smile: emoji code",
    "\\[escaped]",
]
DANGEROUS = "[]/\\=:\x1b\x9b\x9d\x07\x00\r\n\t\x7f\u202e\u2066\u2028\ud800\u00e9\u4e2d"
hostile = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(alphabet=st.one_of(st.sampled_from(DANGEROUS), st.characters()), max_size=16),
)

Routes = Callable[[str], dict[tuple[str, str], tuple[int, Any]]]

# (command line, the routes it needs, where the string must show in JSON output)
SCENARIOS: dict[str, tuple[list[str], Routes]] = {
    "projects list": (
        ["projects", "list"],
        lambda s: {
            ("GET", "/v1/projects"): (
                200,
                {"projects": [{"id": s, "name": s, "description": s}], "total": 1},
            )
        },
    ),
    "projects create": (
        ["projects", "create", "x"],
        lambda s: {("POST", "/v1/projects"): (200, {"id": s, "name": s, "description": s})},
    ),
    "workflows list": (
        ["workflows", "list"],
        lambda s: {
            ("GET", "/v1/workflows"): (
                200,
                {"workflows": [{"id": s, "name": s, "projectId": s}], "total": 1},
            )
        },
    ),
    "workflows get": (
        ["workflows", "get", "wf_1"],
        lambda s: {
            ("GET", "/v1/workflows/wf_1"): (
                200,
                {
                    "id": s,
                    "name": s,
                    "description": s,
                    "parameters": [{"name": s, "type": s, "default": s}],
                },
            )
        },
    ),
    "images list": (
        ["images", "list"],
        lambda s: {
            ("GET", "/v1/storage/images"): (
                200,
                {"images": [{"id": s, "name": s, "format": s}], "total": 1},
            )
        },
    ),
    "images get": (
        ["images", "get", "img_1"],
        lambda s: {("GET", "/v1/storage/images/img_1"): (200, {"id": s, "name": s})},
    ),
    "executions get": (
        ["executions", "get", "exec_1"],
        lambda s: {
            ("GET", "/v1/workflows/executions/exec_1"): (
                200,
                {"executionId": s, "workflowId": s, "status": "completed"},
            )
        },
    ),
    "workflows execute": (
        ["workflows", "execute", "wf_1"],
        lambda s: {
            ("POST", "/v1/workflows/execute"): (
                200,
                {
                    "executionId": s,
                    "status": "completed",
                    "workflowId": s,
                    "output": {"url": s, "format": s, "width": 1, "height": 1},
                },
            )
        },
    ),
    "workflows run": (
        ["workflows", "run", "wf_1", "--poll-interval", "0.01"],
        lambda s: {
            ("POST", "/v1/workflows/execute"): (
                202,
                {"executionId": "exec_1", "status": "pending"},
            ),
            ("GET", "/v1/workflows/executions/exec_1"): (
                200,
                {"executionId": s, "status": "completed", "workflowId": s, "error": s},
            ),
        },
    ),
    "images download": (
        ["images", "download", "img_1", "-o", "{folder}/"],
        lambda s: {
            ("GET", "/v1/storage/images/img_1"): (
                200,
                {"id": s, "name": s, "url": "/files/" + quote(s.encode("utf-8", "surrogatepass"))},
            )
        },
    ),
    "images upload": (
        ["images", "upload", "{upload}"],
        lambda s: {("POST", "/v1/storage/upload"): (200, {"id": s, "name": s, "format": s})},
    ),
    "wait timeout resume hint": (
        ["executions", "wait", "exec_1", "--wait-timeout", "0.15", "--poll-interval", "0.05"],
        lambda s: {
            ("GET", "/v1/workflows/executions/exec_1"): (
                200,
                {"executionId": s, "status": "running", "workflowId": s},
            )
        },
    ),
    "error message": (
        ["workflows", "get", "wf_err"],
        lambda s: {
            ("GET", "/v1/workflows/wf_err"): (
                404,
                {"error": {"code": s, "message": s, "details": {s: s}}},
            )
        },
    ),
    "images delete failure": (
        ["images", "delete", "img_1"],
        lambda s: {
            ("DELETE", "/v1/storage/images/img_1"): (
                404,
                {"error": {"code": "not_found", "message": s}},
            )
        },
    ),
}


def _strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [t for k, v in data.items() for t in (*_strings(k), *_strings(v))]
    if isinstance(data, list):
        return [t for item in data for t in _strings(item)]
    return []


def _assert_inert(result: Outcome, *, verbose: bool = False) -> None:
    for stream in (result.stdout, result.stderr):
        bad = INERT_VIOLATION.search(stream)
        assert bad is None, f"{bad.group()!r} reached the terminal in {stream!r}"
    assert verbose or "Traceback" not in result.stderr


def _assert_status(name: str, result: Outcome) -> None:
    if name == "images download":  # a URL name the CLI will not write is refused (2)
        assert result.code in (0, 2), result.stderr
        assert result.code == 0 or "give a file path" in result.stderr
        return
    assert result.code == FAILING.get(name, 0), result.stderr


def _plain(s: str) -> bool:
    """A string that should appear as it is (nothing to escape, no odd spacing)."""
    return (
        INERT_VIOLATION.search(s) is None
        and s == " ".join(s.split())
        and '"' not in s
        and "\\" not in s
        and s != ""
    )


FAILING = {"error message": 3, "images delete failure": 3, "wait timeout resume hint": 4}


def _run(
    scripted: ScriptedServer, upload: str, name: str, s: str, *extra: str, **env: str
) -> Outcome:
    argv, routes = SCENARIOS[name]
    scripted.routes = routes(s)
    floimg = Floimg(dict(scripted.env))
    folder = str(Path(upload).parent / "downloads")
    argv = [word.replace("{upload}", upload).replace("{folder}", folder) for word in argv]
    return floimg(*extra, *argv, "--max-retries", "0", **env)


common = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@common
@given(name=st.sampled_from(sorted(SCENARIOS)), s=hostile, verbose=st.booleans())
def test_cli_text_output_never_obeys_server_strings(
    scripted: ScriptedServer, upload: str, name: str, s: str, verbose: bool
) -> None:
    # -v adds log lines and, for errors, a traceback: both quote the server too.
    result = _run(scripted, upload, name, s, *(["-v"] if verbose else []))
    _assert_inert(result, verbose=verbose)
    _assert_status(name, result)
    if _plain(s) and name != "images download":  # a file name is the URL's last segment
        assert s in (result.stderr if name in FAILING else result.stdout)


@common
@given(name=st.sampled_from(sorted(SCENARIOS)), s=hostile)
def test_cli_rich_tables_never_parse_markup_from_server_strings(
    scripted: ScriptedServer, upload: str, name: str, s: str
) -> None:
    # FORCE_COLOR makes rich treat the output as a terminal (rich tables, markup and
    # all); TERM=dumb keeps rich's own styling out, so any escape is a leak.
    result = _run(scripted, upload, name, s, FORCE_COLOR="1", TERM="dumb", COLUMNS="400")
    _assert_inert(result)
    _assert_status(name, result)
    if _plain(s) and name != "images download":  # a file name is the URL's last segment
        assert s in (result.stderr if name in FAILING else result.stdout)


@common
@given(name=st.sampled_from(sorted(SCENARIOS)), s=hostile)
def test_cli_json_output_stays_valid_and_keeps_the_original_string(
    scripted: ScriptedServer, upload: str, name: str, s: str
) -> None:
    result = _run(scripted, upload, name, s, "--json")
    _assert_inert(result)
    if name == "error message":
        assert result.code == 3 and result.stdout == ""
        return
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    decoded = json.loads(lines[0])
    if name != "images download":  # there the file is named after the URL's last segment
        assert s in _strings(decoded)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_cli_projects_list_shows_markup_literally(scripted: ScriptedServer, payload: str) -> None:
    scripted.routes = SCENARIOS["projects list"][1](payload)
    for env in ({}, {"FORCE_COLOR": "1", "TERM": "dumb", "COLUMNS": "400"}):
        result = Floimg(dict(scripted.env))("projects", "list", **env)
        assert result.code == 0, result.stderr
        _assert_inert(result)
    assert "[/]" in Floimg(dict(scripted.env))("projects", "list").stdout or "[/]" not in payload


def test_cli_progress_labels_are_not_markup(scripted: ScriptedServer) -> None:
    """The wait spinner shows the server's execution id and status: as text only."""
    hostile_id = "[bold]x[/]\x1b]8;;https://evil.example/\x1b\\"
    scripted.routes = {
        ("GET", "/v1/workflows/executions/exec_1"): (
            200,
            {"executionId": hostile_id, "status": "completed"},
        )
    }
    result = Floimg(dict(scripted.env))(
        "executions", "wait", "exec_1", FORCE_COLOR="1", COLUMNS="200"
    )
    assert result.code == 0, result.stderr
    assert "\x1b]8" not in result.stdout + result.stderr  # no OSC 8 link was drawn
    assert "[bold]x[/]" in result.stdout
