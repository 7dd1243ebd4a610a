"""Check execute parameters against a workflow's schema, and fill them into its steps.

Step arguments may reference parameters in two ways: a value ``{"param": "width"}``
is replaced by the parameter's value, and ``"{prompt}"`` inside a string is replaced
by its text. ``{"sub": [a, b]}`` computes ``a - b``. A step with an ``"if"`` key runs
only when that value is truthy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from ._util import JSONObject, invalid

_TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TYPE_NAMES = {"string": "a string", "number": "a number", "boolean": "a boolean"}


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "number":
        return (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        )
    if kind == "boolean":
        return isinstance(value, bool)
    return True


def _check_one(spec: Mapping[str, Any], value: Any) -> tuple[str, str] | None:
    """Return ``(reason, message)`` when ``value`` breaks ``spec``, else None."""
    name, kind = spec["name"], spec.get("type", "string")
    if not _type_ok(kind, value):
        return "type", f"Parameter '{name}' must be {_TYPE_NAMES.get(kind, kind)}"
    if kind == "number":
        low, high = spec.get("min"), spec.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            return "out_of_range", f"Parameter '{name}' must be between {low} and {high}"
    if kind == "string":
        if spec.get("required") and not value.strip():
            return "required", f"Parameter '{name}' must not be empty"
        if len(value) > 2000:
            return "too_long", f"Parameter '{name}' must be at most 2000 characters"
    allowed = spec.get("enum")
    if allowed is not None and value not in allowed:
        return "invalid_value", f"Parameter '{name}' must be one of {', '.join(map(str, allowed))}"
    return None


def validate_parameters(schema: list[JSONObject], given: Mapping[str, Any]) -> JSONObject:
    """Return the parameters with defaults filled in, or raise a 400 naming the first bad field.

    Unknown extra parameters are accepted and kept (workflows ignore them).
    ``details`` carries ``field`` and ``reason`` of the first problem and ``errors``
    listing all of them.
    """
    result: JSONObject = dict(given)
    errors: list[JSONObject] = []
    messages: list[str] = []
    for spec in schema:
        name = spec["name"]
        value = given.get(name)
        if value is None:
            if spec.get("required"):
                errors.append({"field": name, "reason": "required"})
                messages.append(f"Parameter '{name}' is required")
            else:
                result[name] = spec.get("default")
            continue
        problem = _check_one(spec, value)
        if problem is not None:
            errors.append({"field": name, "reason": problem[0], "expected": spec.get("type")})
            messages.append(problem[1])
    if errors:
        first = errors[0]
        raise invalid(messages[0], field=first["field"], reason=first["reason"], errors=errors)
    return result


def image_parameters(schema: list[JSONObject]) -> list[str]:
    """Return the names of the parameters that hold an uploaded image's id."""
    return [p["name"] for p in schema if p.get("kind") == "imageId"]


def resolve(value: Any, params: Mapping[str, Any]) -> Any:
    """Fill parameter references into a step argument (see the module docstring)."""
    if isinstance(value, str):
        return _TEMPLATE.sub(
            lambda m: str(params[m.group(1)]) if params.get(m.group(1)) is not None else m.group(0),
            value,
        )
    if isinstance(value, list):
        return [resolve(v, params) for v in value]
    if isinstance(value, dict):
        if set(value) == {"param"}:
            return params.get(value["param"])
        if set(value) == {"sub"}:
            a, b = (resolve(v, params) for v in value["sub"])
            return a - b
        return {k: resolve(v, params) for k, v in value.items()}
    return value


def resolve_steps(steps: list[JSONObject], params: Mapping[str, Any]) -> list[JSONObject]:
    """Return the steps that run for ``params``, with every reference filled in."""
    out: list[JSONObject] = []
    for step in steps:
        resolved = resolve(step, params)
        if "if" in resolved and not resolved.pop("if"):
            continue
        out.append(resolved)
    return out


#: The largest ``offset`` accepted: JavaScript's largest safe integer, so any offset a
#: JSON client can spell exactly is answered (with an empty page past the end).
MAX_OFFSET = 2**53 - 1
_INTEGER = re.compile(r"(-?)0*([0-9]+)")


def parse_paging(query: Mapping[str, str]) -> tuple[int, int]:
    """Return ``(limit, offset)`` from a listing's query string, or raise a 400.

    Each must be written as plain ASCII digits (``20``; not ``2e1``, ``20.0``, ``NaN``
    or ``1_0``); ``limit`` lies in 1..100 and ``offset`` in 0..2**53-1.
    """
    limit = _int_arg(query, "limit", 20)
    offset = _int_arg(query, "offset", 0)
    if not 1 <= limit <= 100:
        raise invalid("limit must be between 1 and 100", field="limit", reason="out_of_range")
    if offset < 0:
        raise invalid("offset must not be negative", field="offset", reason="out_of_range")
    if offset > MAX_OFFSET:
        raise invalid(f"offset must be at most {MAX_OFFSET}", field="offset", reason="out_of_range")
    return limit, offset


def _int_arg(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    match = _INTEGER.fullmatch(raw)
    if match is None:
        raise invalid(f"{name} must be an integer such as 20", field=name, reason="type")
    sign, digits = match.groups()
    if len(digits) > 20:  # past any limit; never hand int() thousands of digits
        reason = "must not be negative" if sign else "is out of range"
        raise invalid(f"{name} {reason}", field=name, reason="out_of_range")
    return int(sign + digits)
