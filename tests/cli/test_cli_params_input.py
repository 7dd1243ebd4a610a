"""Parameters that cannot be sent as JSON are a usage error before any request.

Every way parameters reach ``workflows execute|run`` — ``-p KEY:=<json>``,
``--params-file FILE`` and ``--params-file -`` (stdin) — is fed text that
``json.loads`` accepts or chokes on but no API can take: ``NaN``/``Infinity``,
numbers beyond a double, lone surrogates, nesting too deep for Python to decode,
bytes that are not UTF-8. Each must end with exit status 2 and one ``error: usage:``
line naming the option, never a traceback, never ``internal_error``, and no
execution may reach the emulator. Text that is fine (a UTF-8 byte-order mark
included) must still run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _cli_support import EmulatorThread, Floimg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DEEP = "[" * 50_000 + "]" * 50_000
BAD_JSON = {
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "1e999": "1e999",
    "-1e400": "-1e400",
    "lone surrogate": '"\\ud800"',
    "lone surrogate key": '{"\\udc00": 1}',
    "deep": DEEP,
}
# Where the bad value sits inside an otherwise good parameter object.
PLACES = {
    "top": lambda v: f'{{"prompt": "hi", "x": {v}}}',
    "nested": lambda v: f'{{"prompt": "hi", "x": {{"y": [1, {v}]}}}}',
    "list": lambda v: f'{{"prompt": "hi", "x": [{v}]}}',
}
BAD_BYTES = [b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\x80abc"]


def _executions(emulator: EmulatorThread) -> int:
    return len(emulator.admin("executions")["executions"])


def _assert_usage_error(result: object, option: str) -> None:
    code, stderr = result.code, result.stderr  # type: ignore[attr-defined]
    assert code == 2, stderr
    assert stderr.startswith("error: usage:"), stderr
    assert option in stderr, stderr
    assert "Traceback" not in stderr and "internal_error" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


via = st.sampled_from(["param", "file", "stdin"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    bad=st.sampled_from(sorted(BAD_JSON)),
    place=st.sampled_from(sorted(PLACES)),
    how=via,
    command=st.sampled_from(["execute", "run"]),
)
def test_cli_unsendable_json_parameters_are_usage_errors(
    floimg: Floimg,
    emulator: EmulatorThread,
    tmp_path: Path,
    bad: str,
    place: str,
    how: str,
    command: str,
) -> None:
    document = PLACES[place](BAD_JSON[bad]) if bad != "deep" else DEEP
    before = _executions(emulator)
    if how == "param":
        value = BAD_JSON[bad] if place == "top" else document
        args, stdin, option = ["-p", "prompt=hi", "-p", f"x:={value}"], None, "--param"
    elif how == "file":
        path = tmp_path / "params.json"
        path.write_text(document, encoding="utf-8")
        args, stdin, option = ["--params-file", str(path)], None, "--params-file"
    else:
        args, stdin, option = ["--params-file", "-"], document, "--params-file"
    result = floimg("workflows", command, "wf_social_card", *args, input=stdin)
    _assert_usage_error(result, option)
    assert _executions(emulator) == before


@pytest.mark.parametrize("raw", BAD_BYTES)
@pytest.mark.parametrize("how", ["file", "stdin"])
def test_cli_params_files_that_are_not_utf8_are_usage_errors(
    floimg: Floimg, emulator: EmulatorThread, tmp_path: Path, raw: bytes, how: str
) -> None:
    data = b'{"prompt": "' + raw + b'"}'
    path = tmp_path / "params.json"
    path.write_bytes(data)
    before = _executions(emulator)
    if how == "file":
        result = floimg("workflows", "execute", "wf_social_card", "--params-file", str(path))
        assert "params.json" in result.stderr
    else:
        result = floimg(
            "workflows", "execute", "wf_social_card", "--params-file", "-",
            input=data,
        )  # fmt: skip
        assert "stdin" in result.stderr
    _assert_usage_error(result, "--params-file")
    assert "UTF-8" in result.stderr
    assert _executions(emulator) == before


def test_cli_a_param_that_is_not_utf8_text_is_a_usage_error(
    floimg: Floimg, emulator: EmulatorThread
) -> None:
    """Undecodable bytes in argv (a script in another encoding) reach Python as surrogates."""
    before = _executions(emulator)
    for value in ("prompt=caf\udce9", 'x:="caf\udce9"', "caf\udce9=1"):
        result = floimg("workflows", "execute", "wf_social_card", "-p", value)
        _assert_usage_error(result, "--param")
    assert _executions(emulator) == before


def test_cli_a_number_no_double_holds_is_refused_for_a_number_parameter(
    floimg: Floimg, emulator: EmulatorThread
) -> None:
    before = _executions(emulator)
    result = floimg(
        "workflows", "execute", "wf_social_card", "-p", "prompt=hi", "-p", "width=1e400"
    )
    _assert_usage_error(result, "--param")
    assert "width" in result.stderr
    assert _executions(emulator) == before
    # a string parameter keeps the same text as it is
    result = floimg("--json", "workflows", "execute", "wf_social_card", "-p", "prompt=1e400")
    assert result.code == 0, result.stderr


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_cli_a_params_file_with_a_byte_order_mark_runs(
    floimg: Floimg, tmp_path: Path, how: str
) -> None:
    data = '\ufeff{"prompt": "bom"}'
    path = tmp_path / "params.json"
    path.write_text(data, encoding="utf-8")
    source = str(path) if how == "file" else "-"
    result = floimg(
        "--json", "workflows", "execute", "wf_social_card", "--params-file", source,
        input=data if how == "stdin" else None,
    )  # fmt: skip
    assert result.code == 0, result.stderr


@pytest.mark.parametrize("stdin", ["closed", "empty", "blank"])
def test_cli_params_from_a_closed_or_empty_stdin_are_usage_errors(stdin: str) -> None:
    """Through the real process: ``--params-file -`` with stdin closed (``<&-``) was an
    ``internal_error`` AttributeError; an empty one a JSON parse error at column 1."""
    env = {**os.environ, "FLOIMG_API_KEY": "fsk_test_x", "FLOIMG_BASE_URL": "http://127.0.0.1:1/v1"}
    command = [sys.executable, "-m", "floimg_async.cli", "workflows", "execute", "wf_1"]
    result = subprocess.run(
        [*command, "--params-file", "-"],
        env=env,
        input=None if stdin == "closed" else (b"" if stdin == "empty" else b"  \n"),
        stdin=None if stdin != "closed" else subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        preexec_fn=(lambda: os.close(0)) if stdin == "closed" else None,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(b"error: usage:"), result.stderr
    assert (b"closed" if stdin == "closed" else b"empty") in result.stderr
