"""``-p`` values are typed by the workflow's parameter schema (issue 13 finding 5)."""

from __future__ import annotations

from typing import Any

import click
import pytest
from _cli_support import EmulatorThread, Floimg
from hypothesis import given
from hypothesis import strategies as st

from floimg_async.cli._params import coerce_as


def _sent(emulator: EmulatorThread, execution_id: str) -> dict[str, Any]:
    (record,) = [e for e in emulator.admin("executions")["executions"] if e["id"] == execution_id]
    return dict(record["parameters"])


@pytest.mark.parametrize("command", ["execute", "run"])
def test_cli_a_string_parameter_keeps_a_number_as_text(
    floimg: Floimg, emulator: EmulatorThread, command: str
) -> None:
    extra = ["--poll-interval", "0.02"] if command == "run" else []
    result = floimg(
        "-v", "--json", "workflows", command, "wf_social_card",
        "-p", "prompt=2025", "-p", "width=120", *extra,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    sent = _sent(emulator, result.json_lines()[0]["executionId"])
    assert sent["prompt"] == "2025"  # the schema says string
    assert sent["width"] == 120  # the schema says number
    assert result.stderr.count("GET /workflows/wf_social_card ") == 1  # one schema request


def test_cli_no_schema_request_when_every_value_is_plain_text(
    floimg: Floimg, emulator: EmulatorThread
) -> None:
    result = floimg(
        "-v", "--json", "workflows", "execute", "wf_social_card", "-p", "prompt=hello world"
    )
    assert result.code == 0, result.stderr
    assert "GET /workflows/wf_social_card " not in result.stderr


def test_cli_boolean_parameters_take_yes_and_no(floimg: Floimg, emulator: EmulatorThread) -> None:
    result = floimg(
        "--json", "workflows", "execute", "wf_flaky", "-p", "fail=0", "-p", "prompt=null"
    )
    assert result.code == 0, result.stderr
    sent = _sent(emulator, result.json_lines()[0]["executionId"])
    assert sent == {"fail": False, "prompt": "null"}  # a string: the text, not JSON null


def test_cli_raw_json_and_unknown_parameters_are_left_alone(
    floimg: Floimg, emulator: EmulatorThread
) -> None:
    result = floimg(
        "--json", "workflows", "execute", "wf_social_card",
        "-p", "prompt:=\"x\"", "-p", "width:=64", "-p", "extra=7",
    )  # fmt: skip
    assert result.code in (0, 3), result.stderr
    if result.code == 0:
        sent = _sent(emulator, result.json_lines()[0]["executionId"])
        assert sent["width"] == 64 and sent["extra"] == 7


def test_cli_a_value_that_does_not_fit_its_type_is_a_usage_error(floimg: Floimg) -> None:
    result = floimg("workflows", "execute", "wf_flaky", "-p", "fail=maybe", "-p", "prompt=x")
    # "maybe" reads as text, so no schema request is made and the API judges it...
    assert result.code == 3
    typed = floimg("workflows", "execute", "wf_social_card", "-p", "width=true", "-p", "prompt=1")
    assert typed.code == 2  # ...but a number parameter given true is refused before sending
    assert "width" in typed.stderr and "number" in typed.stderr


def test_cli_param_help_says_how_values_are_typed(floimg_offline: Floimg) -> None:
    for command in ("run", "execute"):
        text = " ".join(floimg_offline("workflows", command, "--help").stdout.split())
        assert "GET /workflows/ID" in text and "prompt=2025" in text


@given(raw=st.text(max_size=12))
def test_cli_coerce_as_string_is_the_text_itself(raw: str) -> None:
    assert coerce_as("k", raw, "string") == raw


@given(number=st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_cli_coerce_as_number_reads_json_numbers(number: float) -> None:
    assert coerce_as("k", repr(number) if isinstance(number, float) else str(number), "number") == (
        number
    )


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("true", "boolean", True),
        ("No", "boolean", False),
        ("null", "number", None),
        ('{"a": 1}', "object", {"a": 1}),
        ("[1]", "array", [1]),
        ("12", None, 12),
        ("12", "mystery", 12),
    ],
)
def test_cli_coerce_as_other_types(raw: str, kind: str | None, value: object) -> None:
    assert coerce_as("k", raw, kind) == value


@pytest.mark.parametrize(("raw", "kind"), [("x", "number"), ("2", "boolean"), ("{}", "array")])
def test_cli_coerce_as_refuses_a_misfit(raw: str, kind: str) -> None:
    with pytest.raises(click.BadParameter, match=kind):
        coerce_as("k", raw, kind)
