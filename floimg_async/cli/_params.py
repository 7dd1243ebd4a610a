"""Workflow parameters from the command line: ``--param key=value`` and ``--params-file``."""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import click

__all__ = [
    "ParsedParameters",
    "coerce",
    "coerce_as",
    "load_parameters",
    "parse_param",
    "parse_parameters",
    "strict_json",
]

# A JSON number: "12", "-3.5", "1e3"; not "007", "+1", ".5", "nan" (those stay strings).
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?P<frac>\.\d+)?(?P<exp>[eE][+-]?\d+)?")
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


def coerce(raw: str) -> Any:
    """Read a ``key=value`` value: a JSON number becomes int or float, ``true``/``false``/
    ``null`` their JSON values, anything else stays the string it is."""
    match = _NUMBER.fullmatch(raw)
    if match:
        if match.group("frac") is None and match.group("exp") is None:
            return int(raw)
        number = float(raw)
        if math.isfinite(number):
            return number
        return raw
    return _LITERALS.get(raw, raw)


def parse_param(text: str) -> tuple[str, Any]:
    """Parse ``key=value`` (value coerced, see :func:`coerce`) or ``key:=<json>`` (raw JSON).

    Raises ``click.BadParameter`` for anything else.
    """
    key, sep, raw = text.partition("=")
    if not sep:
        raise click.BadParameter(
            f"{text!r} is not key=value (or key:=<json>)", param_hint="'--param'"
        )
    if not _encodable(text):
        raise click.BadParameter(
            f"{text!r} is not UTF-8 text (check the terminal's or script's encoding)",
            param_hint="'--param'",
        )
    if key.endswith(":"):
        key = key[:-1]
        try:
            value: Any = strict_json(raw)
        except ValueError as exc:
            raise click.BadParameter(
                f"{text!r}: the value after ':=' is not JSON ({exc})", param_hint="'--param'"
            ) from None
    else:
        value = coerce(raw)
    if not key.strip():
        raise click.BadParameter(f"{text!r} has an empty key", param_hint="'--param'")
    return key, value


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: undecodable bytes in argv or a file
        return False
    return True


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (standard JSON has no NaN or Infinity)")


def strict_json(text: str) -> Any:
    """Decode ``text`` as standard JSON that can be sent on: raise ``ValueError`` saying why not.

    Refused beyond ``json.loads``: ``NaN``/``Infinity``, numbers too large for a
    double (``1e999``), strings with lone surrogates (``"\\ud800"``), and nesting
    too deep for Python to decode.
    """
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("it nests arrays or objects too deeply") from None
    stack = [value]
    while stack:  # iterative: whatever json.loads could build, this can walk
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("it holds a number too large for a double")
        elif isinstance(item, str) and not _encodable(item):
            raise ValueError("it holds a string with a lone surrogate (\\ud800-\\udfff)")
    return value


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def coerce_as(key: str, raw: str, kind: str | None) -> Any:
    """Read the ``key=value`` value ``raw`` as the workflow's schema types ``key``.

    ``string`` keeps the text as it is (``prompt=2025`` stays ``"2025"``);
    ``number``/``integer`` need a JSON number, ``boolean`` true/false (also
    yes/no, on/off, 1/0), ``array``/``object`` JSON of that kind; ``null`` is
    ``None`` for any type but string. An unknown or missing type falls back to
    :func:`coerce`. Raises ``click.BadParameter`` for a value that does not fit.
    """
    kind = (kind or "").lower()
    if kind == "string":
        return raw
    if kind not in {"number", "integer", "float", "boolean", "bool", "array", "object"}:
        return coerce(raw)
    if raw == "null":
        return None
    value: Any
    if kind in {"boolean", "bool"}:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
    elif kind in {"number", "integer", "float"}:
        value = coerce(raw)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if _NUMBER.fullmatch(raw):  # 1e999: a JSON number no double can hold
            raise click.BadParameter(
                f"{key}={raw!r}: the number is too large for the workflow's parameter {key!r}",
                param_hint="'--param'",
            )
    else:
        try:
            value = strict_json(raw)
        except ValueError:
            value = None
        if isinstance(value, list if kind == "array" else dict):
            return value
    raise click.BadParameter(
        f"{key}={raw!r}: the workflow's parameter {key!r} is a {kind}",
        param_hint="'--param'",
    )


@attrs.frozen
class ParsedParameters:
    """``--params-file`` and ``--param`` values, read but not yet typed by the schema."""

    from_file: dict[str, Any]
    pairs: tuple[tuple[str, Any, str | None], ...]  # key, value, raw text of key=value

    @property
    def ambiguous(self) -> bool:
        """Whether a ``key=value`` reads as something other than text (a number, true, null):
        only then is the workflow's parameter schema worth a request."""
        return any(
            raw is not None and (not isinstance(value, str) or _NUMBER.fullmatch(raw) is not None)
            for _, value, raw in self.pairs
        )

    def resolve(self, types: Mapping[str, str | None] | None = None) -> dict[str, Any]:
        """The parameters to send: the file's, then each ``--param`` typed by ``types``
        (parameter name → schema type) where the schema knows it."""
        merged = dict(self.from_file)
        for key, value, raw in self.pairs:
            if raw is not None and types is not None and key in types:
                merged[key] = coerce_as(key, raw, types[key])
            else:
                merged[key] = value
        return merged


def parse_parameters(params: Sequence[str], params_file: str | None) -> ParsedParameters:
    """Read ``--params-file`` and every ``--param`` (raises ``click.BadParameter``)."""
    pairs = []
    for text in params:
        key, value = parse_param(text)
        raw = None if text.partition("=")[0].endswith(":") else text.partition("=")[2]
        pairs.append((key, value, raw))
    return ParsedParameters(_load_file(params_file), tuple(pairs))


def load_parameters(params: Sequence[str], params_file: str | None) -> dict[str, Any]:
    """Merge ``--params-file`` (a JSON object; ``-`` reads stdin) and then each ``--param``
    (coerced without a schema, see :func:`coerce`)."""
    return parse_parameters(params, params_file).resolve()


def _load_file(params_file: str | None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    if params_file is not None:
        name = "stdin" if params_file == "-" else repr(params_file)
        if params_file == "-" and sys.stdin is None:  # started with stdin closed (<&-)
            raise click.BadParameter(
                "stdin is closed; pipe the JSON in or name a file", param_hint="'--params-file'"
            )
        try:
            data = sys.stdin.buffer.read() if params_file == "-" else Path(params_file).read_bytes()
        except OSError as exc:
            raise click.BadParameter(
                f"cannot read {params_file!r}: {exc.strerror or exc}",
                param_hint="'--params-file'",
            ) from None
        try:
            text = data.decode("utf-8-sig")  # a byte-order mark (some editors write one) is fine
        except UnicodeDecodeError as exc:
            raise click.BadParameter(
                f"{name} is not UTF-8 text (byte {exc.start}); save it as UTF-8",
                param_hint="'--params-file'",
            ) from None
        if not text.strip():
            raise click.BadParameter(
                f"{name} is empty; it must hold a JSON object of parameters",
                param_hint="'--params-file'",
            )
        try:
            loaded = strict_json(text)
        except ValueError as exc:
            raise click.BadParameter(
                f"{name} is not valid JSON ({exc})", param_hint="'--params-file'"
            ) from None
        if not isinstance(loaded, dict):
            raise click.BadParameter(
                f"{params_file!r} must hold a JSON object of parameters, "
                f"not {type(loaded).__name__}",
                param_hint="'--params-file'",
            )
        merged.update(loaded)
    return merged
