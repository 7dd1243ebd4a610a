"""Output streams that cannot take everything: a non-UTF-8 encoding, a closed stdout.

Under a locale (or ``PYTHONIOENCODING``) whose encoding lacks a character of a
server's name, ``projects list`` printed the rows before it and then died with
``UnicodeEncodeError`` (exit 2, the rest of the listing lost). Whatever the
encoding and the text, every command must now finish, text mode must show the
character as an escape, and ``--json`` lines must stay valid JSON that decodes
to the server's exact string. A stdout closed at start (``>&-``) made results
vanish with exit 0; it is now refused before anything is sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from _cli_support import Floimg, ScriptedServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli_terminal import SCENARIOS, _strings

# (Not "ascii": click itself writes UTF-8 to a stream it finds declared as ASCII.)
ENCODINGS = ["latin-1", "cp1252", "cp437", "iso8859-5"]
names = st.one_of(
    st.sampled_from(["café 中文 ☃", "emoji \U0001f600", "Ω≈ç√", "tab\there", "\u00a0nbsp"]),
    st.text(min_size=1, max_size=12),
)
LISTINGS = ["projects list", "workflows list", "images list", "workflows get", "error message"]


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(sorted(SCENARIOS)),
    encoding=st.sampled_from(ENCODINGS),
    s=names,
    json_mode=st.booleans(),
)
def test_cli_any_output_encoding_shows_every_server_string(
    scripted: ScriptedServer, upload: str, name: str, encoding: str, s: str, json_mode: bool
) -> None:
    argv, routes = SCENARIOS[name]
    scripted.routes = routes(s)
    folder = os.path.join(os.path.dirname(upload), "downloads")
    argv = [word.replace("{upload}", upload).replace("{folder}", folder) for word in argv]
    floimg = Floimg(dict(scripted.env), charset=encoding)
    result = floimg(*(["--json"] if json_mode else []), *argv, "--max-retries", "0")
    assert "UnicodeEncodeError" not in result.stderr
    assert "codec can't encode" not in result.stderr, result.stderr
    expected = {"error message": 3, "images delete failure": 3, "wait timeout resume hint": 4}
    if name == "images download":
        assert result.code in (0, 2), result.stderr
    else:
        assert result.code == expected.get(name, 0), result.stderr
    if json_mode and name != "error message":
        for line in result.stdout.splitlines():
            json.loads(line)  # valid JSON whatever the encoding
        if name in LISTINGS and result.stdout:
            assert s in _strings(json.loads(result.stdout.splitlines()[0]))


@pytest.mark.parametrize("json_mode", [False, True])
def test_cli_a_listing_finishes_under_latin1(scripted: ScriptedServer, json_mode: bool) -> None:
    items = [{"id": f"proj_{i}", "name": f"Café 中文 {i}"} for i in range(3)]
    scripted.routes = {("GET", "/v1/projects"): (200, {"projects": items, "total": 3})}
    result = Floimg(dict(scripted.env), charset="latin-1")(
        *(["--json"] if json_mode else []), "projects", "list"
    )
    assert result.code == 0, result.stderr
    if json_mode:
        assert [json.loads(line)["name"] for line in result.stdout.splitlines()] == [
            item["name"] for item in items
        ]
    else:
        assert result.stdout.count("Café \\u4e2d\\u6587") == 3  # every row, shown as escapes


def test_cli_run_with_a_real_latin1_locale_and_a_closed_stdout(scripted: ScriptedServer) -> None:
    """The same through the real process: PYTHONIOENCODING, and stdout closed (>&-)."""
    _, routes = SCENARIOS["projects list"]
    scripted.routes = routes("Café 中文 \U0001f600")
    env = {**os.environ, **{k: v for k, v in scripted.env.items() if v is not None}}
    command = [sys.executable, "-m", "floimg_async.cli", "projects", "list", "--json"]
    latin = subprocess.run(
        command, env={**env, "PYTHONIOENCODING": "latin-1"}, capture_output=True, timeout=60
    )
    assert latin.returncode == 0, latin.stderr
    assert json.loads(latin.stdout.decode("latin-1"))["name"] == "Café 中文 \U0001f600"
    closed = subprocess.run(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60,
        preexec_fn=lambda: os.close(1),
    )  # fmt: skip
    assert closed.returncode == 2
    assert b"stdout is closed" in closed.stderr
