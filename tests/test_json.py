"""JSON with and without the ``speedups`` extra (orjson): the same values, the same errors."""

from __future__ import annotations

import datetime
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from floimg_async import _json
from floimg_async._request import json_body

orjson = pytest.importorskip("orjson")

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@pytest.fixture(params=["orjson", "stdlib"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "stdlib":
        monkeypatch.setattr(_json, "_loads", None)
        monkeypatch.setattr(_json, "_dumps", None)
    return str(request.param)


def test_speedups_are_on_when_orjson_is_installed() -> None:
    assert _json.SPEEDUPS and _json._loads is orjson.loads


@settings(max_examples=150, deadline=None)
@given(value=JSON)
def test_property_both_paths_round_trip_the_same(value: Any) -> None:
    text = json.dumps(value).encode()
    assert _json.loads(text) == json.loads(text)
    assert json.loads(_json.dumps(value)) == value


@pytest.mark.parametrize(
    "body",
    [b'"\\ud800"', "{}".encode("utf-16"), b"[" * 2000 + b"]" * 2000, b"NaN", b"1e400"],
)
def test_bodies_orjson_refuses_read_as_the_stdlib_reads_them(body: bytes, mode: str) -> None:
    try:
        expected: Any = json.loads(body)
    except (ValueError, RecursionError) as exc:
        with pytest.raises(type(exc)):
            _json.loads(body)
    else:
        got = _json.loads(body)
        assert got == expected or (isinstance(got, float) and math.isnan(got))


@pytest.mark.parametrize(
    "body",
    [
        b"-9223372036854775809",  # one past int64
        b"18446744073709551616",  # one past uint64
        b'{"a": [1, 123456789012345678901234567890]}',
        b"[9223372036854775807, -9223372036854775808, 18446744073709551615]",  # the edges
        b'{"id": "12345678901234567890123"}',  # a long digit run inside a string
        b"0.12345678901234567890123",
    ],
)
def test_integers_past_64_bits_read_exactly_as_the_stdlib_reads_them(
    body: bytes, mode: str
) -> None:
    # orjson alone reads an integer past 64 bits as a float (losing digits), which
    # still compares equal to the int: compare the text, which shows type and digits.
    assert repr(_json.loads(body)) == repr(json.loads(body))


@settings(max_examples=100, deadline=None)
@given(number=st.integers(min_value=-(2**80), max_value=2**80))
def test_property_every_integer_reads_back_exactly(number: int) -> None:
    body = json.dumps({"n": [number]}).encode()
    assert repr(_json.loads(body)) == repr({"n": [number]})


@pytest.mark.parametrize(
    "value",
    [{"when": datetime.datetime(2026, 1, 1)}, {"s": {1, 2}}, {1: "int key"}, {"n": 2**70}],
)
def test_encoding_accepts_and_refuses_what_the_stdlib_does(value: Any, mode: str) -> None:
    try:
        expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    except TypeError:
        with pytest.raises(TypeError):
            json_body(value)
    else:
        assert json.loads(json_body(value)) == json.loads(expected)


@pytest.mark.parametrize(
    ("value", "speedups"), [("1", False), ("yes", False), ("0", True), ("", True)]
)
def test_floimg_no_speedups_switches_orjson_off(value: str, speedups: bool) -> None:
    """FLOIMG_NO_SPEEDUPS (any value but empty or 0) makes the SDK use the stdlib's json."""
    import subprocess
    import sys

    code = "from floimg_async import _json; print(_json.SPEEDUPS, _json.loads(b'[1]'))"
    env = {"FLOIMG_NO_SPEEDUPS": value, "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == [str(speedups), "[1]"]
