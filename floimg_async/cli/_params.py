"""Workflow parameters from the command line: ``--param key=value`` and ``--params-file``."""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

__all__ = ["coerce", "load_parameters", "parse_param"]

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
    if key.endswith(":"):
        key = key[:-1]
        try:
            value: Any = json.loads(raw)
        except ValueError as exc:
            raise click.BadParameter(
                f"{text!r}: the value after ':=' is not JSON ({exc})", param_hint="'--param'"
            ) from None
    else:
        value = coerce(raw)
    if not key.strip():
        raise click.BadParameter(f"{text!r} has an empty key", param_hint="'--param'")
    return key, value


def load_parameters(params: Sequence[str], params_file: str | None) -> dict[str, Any]:
    """Merge ``--params-file`` (a JSON object; ``-`` reads stdin) and then each ``--param``."""
    merged: dict[str, Any] = {}
    if params_file is not None:
        try:
            text = (
                sys.stdin.read()
                if params_file == "-"
                else Path(params_file).read_text(encoding="utf-8")
            )
        except OSError as exc:
            raise click.BadParameter(
                f"cannot read {params_file!r}: {exc.strerror or exc}",
                param_hint="'--params-file'",
            ) from None
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise click.BadParameter(
                f"{params_file!r} is not valid JSON ({exc})", param_hint="'--params-file'"
            ) from None
        if not isinstance(loaded, dict):
            raise click.BadParameter(
                f"{params_file!r} must hold a JSON object of parameters, "
                f"not {type(loaded).__name__}",
                param_hint="'--params-file'",
            )
        merged.update(loaded)
    for text in params:
        key, value = parse_param(text)
        merged[key] = value
    return merged
