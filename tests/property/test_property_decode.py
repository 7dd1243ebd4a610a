"""Any response body decodes to a model or a FloImgError: never a KeyError, TypeError,
ValueError, RecursionError or a cattrs exception.

Covers ``_convert.decode`` (bytes -> model) for every model, with arbitrary
bytes, arbitrary JSON, and mutations of valid payloads (fields dropped or
replaced by any JSON value, nested too), and ``_pagination.parse_page``.
"""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

import pytest
from _propcount import ran
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from floimg_async import (
    Execution,
    ExecutionOutput,
    ExecutionStatus,
    FloImgError,
    Image,
    Page,
    Project,
    Workflow,
    WorkflowParameter,
    WorkflowSummary,
)
from floimg_async._convert import _explaining_converter, converter, decode, list_structurer
from floimg_async._pagination import parse_page

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

STAMP = "2026-01-15T10:30:00Z"
VALID: dict[type[Any], dict[str, Any]] = {
    Workflow: {
        "id": "wf_abc123",
        "name": "Social Media Image",
        "description": "Generate OG images",
        "projectId": "proj_def456",
        "parameters": [
            {"name": "prompt", "type": "string", "required": True},
            {"name": "width", "type": "number", "default": 1200},
        ],
        "createdAt": STAMP,
        "updatedAt": STAMP,
    },
    WorkflowSummary: {
        "id": "wf_abc123",
        "name": "Social",
        "projectId": "proj_1",
        "createdAt": STAMP,
        "updatedAt": STAMP,
    },
    Execution: {
        "executionId": "exec_xyz789",
        "workflowId": "wf_abc123",
        "status": "completed",
        "output": {"url": "https://x/a.png", "width": 1200, "height": 630, "format": "png"},
        "duration": 2340,
        "startedAt": STAMP,
        "completedAt": STAMP,
        "error": {"code": "boom", "message": "it broke"},
    },
    Image: {
        "id": "img_abc123",
        "url": "https://storage.floimg.com/images/abc123.png",
        "name": "hero-image.png",
        "size": 245832,
        "format": "png",
        "width": 1200,
        "height": 630,
        "createdAt": STAMP,
    },
    Project: {"id": "proj_1", "name": "Marketing", "description": "d", "createdAt": STAMP},
    ExecutionOutput: {"url": "https://x/a.png", "width": 1, "height": 2, "format": "png"},
}
MODELS = list(VALID)
LIST_KEYS = {WorkflowSummary: "workflows", Image: "images", Project: "projects"}

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from([STAMP, "2026-01-15", "not a date", "", "completed", "PENDING", 1e20])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def check_model(result: Any, cls: type[Any]) -> None:
    """A decoded model is well-formed: right class, string id, aware datetimes."""
    assert isinstance(result, cls)
    if hasattr(result, "id"):
        assert isinstance(result.id, str)
    for name in ("created_at", "updated_at", "started_at", "completed_at"):
        value = getattr(result, name, None)
        assert value is None or (isinstance(value, datetime) and value.tzinfo is not None)
    if isinstance(result, Execution):
        assert isinstance(result.status, ExecutionStatus)
        assert isinstance(result.is_terminal, bool)
        assert result.error is None or isinstance(result.error, str)


def decode_or_error(body: bytes, cls: type[Any]) -> None:
    try:
        result = decode(body, cls, what="test")
    except FloImgError as exc:
        assert isinstance(str(exc), str)
        return
    check_model(result, cls)


@SETTINGS
@given(body=st.binary(max_size=400), cls=st.sampled_from(MODELS))
def test_property_decode_any_bytes(body: bytes, cls: type[Any]) -> None:
    ran("decode_bytes")
    decode_or_error(body, cls)


@SETTINGS
@given(value=json_values, cls=st.sampled_from(MODELS))
def test_property_decode_any_json(value: Any, cls: type[Any]) -> None:
    ran("decode_json")
    decode_or_error(json.dumps(value).encode(), cls)


def mutate(payload: Any, rng: random.Random, replacements: list[Any]) -> Any:
    """Drop or replace some fields, recursively into nested objects and lists."""
    if isinstance(payload, dict):
        out: dict[str, Any] = {}
        for key, value in payload.items():
            roll = rng.random()
            if roll < 0.2:
                continue  # dropped
            if roll < 0.45 and replacements:
                out[key] = replacements[rng.randrange(len(replacements))]
            else:
                out[key] = mutate(value, rng, replacements)
        if rng.random() < 0.2 and replacements:
            out["unexpected" + str(rng.randrange(9))] = replacements[0]
        return out
    if isinstance(payload, list):
        return [mutate(item, rng, replacements) for item in payload if rng.random() > 0.15]
    return payload


@SETTINGS
@given(
    cls=st.sampled_from(MODELS),
    seed=st.integers(0, 2**32 - 1),
    replacements=st.lists(json_values, min_size=1, max_size=6),
)
def test_property_decode_mutated_valid_payloads(
    cls: type[Any], seed: int, replacements: list[Any]
) -> None:
    ran("decode_mutated")
    payload = mutate(VALID[cls], random.Random(seed), replacements)
    decode_or_error(json.dumps(payload).encode(), cls)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_property_valid_payloads_decode(cls: type[Any]) -> None:
    """The unmutated samples (the API reference's own examples) decode."""
    check_model(decode(json.dumps(VALID[cls]).encode(), cls, what="test"), cls)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    ],
    ids=["deep_list", "deep_object"],
)
def test_property_decode_deeply_nested_json(body: bytes) -> None:
    """JSON nested deeper than the recursion limit is a decode error, not a RecursionError."""
    with pytest.raises(FloImgError):
        decode(body, Execution, what="test")


@pytest.mark.parametrize(
    "value",
    [10**400, -(10**400), 1e308, -1e308, 2**63, float("nan")],
    ids=["int_1e400", "int_-1e400", "float_1e308", "float_-1e308", "int_2e63", "nan"],
)
@pytest.mark.parametrize("field", ["createdAt", "size", "width", "duration", "startedAt"])
def test_property_decode_extreme_numbers(value: Any, field: str) -> None:
    for cls in (Image, Execution):
        payload = {**VALID[cls], field: value}
        decode_or_error(json.dumps(payload).encode(), cls)


# -- pagination ---------------------------------------------------------------------------------


def parse_or_error(data: Any, cls: type[Any], limit: int, offset: int) -> None:
    key = LIST_KEYS[cls]
    try:
        page = parse_page(data, key, cls, offset=offset, limit=limit, what="test")
    except FloImgError:
        return
    assert isinstance(page, Page)
    assert isinstance(page.has_more, bool)
    assert page.total is None or isinstance(page.total, int)
    assert page.offset == offset and page.limit == limit
    for item in page.items:
        check_model(item, cls)
    raw = data if isinstance(data, list) else data[key]
    assert len(page.items) == len(raw)


list_cls = st.sampled_from(list(LIST_KEYS))


@SETTINGS
@given(
    data=json_values,
    cls=list_cls,
    limit=st.integers(1, 100),
    offset=st.integers(0, 10_000),
)
def test_property_parse_page_any_json(data: Any, cls: type[Any], limit: int, offset: int) -> None:
    ran("parse_page_json")
    parse_or_error(data, cls, limit, offset)


@SETTINGS
@given(
    cls=list_cls,
    seed=st.integers(0, 2**32 - 1),
    replacements=st.lists(json_values, min_size=1, max_size=6),
    count=st.integers(0, 5),
    bare=st.booleans(),
    total=json_values,
    has_more=json_values,
    limit=st.integers(1, 100),
)
def test_property_parse_page_mutated_listings(
    cls: type[Any],
    seed: int,
    replacements: list[Any],
    count: int,
    bare: bool,
    total: Any,
    has_more: Any,
    limit: int,
) -> None:
    ran("parse_page_mutated")
    rng = random.Random(seed)
    items = [mutate(VALID[cls], rng, replacements) for _ in range(count)]
    data: Any = items if bare else {LIST_KEYS[cls]: items, "total": total, "hasMore": has_more}
    parse_or_error(data, cls, limit, 0)


# -- the compiled hooks against cattrs' generated ones ------------------------------------------

TIMESTAMPS = [
    STAMP,
    "2026-01-15T10:30:00",
    "2026-01-15T10:30:00.123456789+02:00",
    "2026-01-15 10:30:00z",
    1768473000,
    1768473000123,
    1.5e9,
]


def structured(conv: Any, payload: Any, cls: type[Any]) -> tuple[bool, str]:
    """(True, repr of the model) or (False, the exception's type); repr so NaN equals NaN."""
    try:
        return True, repr(conv.structure(payload, cls))
    except Exception as exc:
        return False, type(exc).__name__


@SETTINGS
@given(
    cls=st.sampled_from([*MODELS, WorkflowParameter]),
    seed=st.integers(0, 2**32 - 1),
    replacements=st.lists(json_values | st.sampled_from(TIMESTAMPS), min_size=1, max_size=6),
)
def test_property_compiled_hooks_match_cattrs(
    cls: type[Any], seed: int, replacements: list[Any]
) -> None:
    """The fast converter's compiled hooks build exactly what cattrs' generated code builds.

    The explaining converter is cattrs' own generated code over the same field
    hooks; it is the oracle. Where the fast converter is stricter, cattrs is
    lenient by accident: it iterates a string or object given for a list, and
    reads a string given for an object as an object with no keys (``"k" in s``).
    """
    ran("compiled_vs_cattrs")
    valid = VALID.get(cls, {"name": "width", "type": "number", "required": True, "default": 1})
    payload = mutate(valid, random.Random(seed), replacements)
    fast = structured(converter, payload, cls)
    oracle = structured(_explaining_converter, payload, cls)
    if fast[0] or not oracle[0]:
        assert fast[0] == oracle[0]
        if fast[0]:
            assert fast[1] == oracle[1]
    else:
        assert cattrs_reads_a_wrong_container(payload, cls), payload


def cattrs_reads_a_wrong_container(payload: dict[str, Any], cls: type[Any]) -> bool:
    """Whether a list or object in ``payload`` is something else that cattrs would accept."""
    if cls is Workflow:
        parameters = payload.get("parameters", [])
        return not isinstance(parameters, list) or any(
            not isinstance(item, dict) for item in parameters
        )
    return cls is Execution and not isinstance(payload.get("output"), dict | None)


@pytest.mark.parametrize("cls", [*MODELS, WorkflowParameter], ids=lambda c: c.__name__)
def test_compiled_hooks_are_used_for_every_model(cls: type[Any]) -> None:
    """Each model gets a compiled hook (or, for Execution, one behind the alias wrapper)."""
    hook = converter.get_structure_hook(cls)
    code = getattr(hook, "__code__", None)
    names = [code.co_filename] + [
        getattr(cell.cell_contents, "__code__", code).co_filename for cell in hook.__closure__ or ()
    ]
    assert any(name.startswith("<floimg_async structure") for name in names)


@SETTINGS
@given(
    cls=st.sampled_from([*MODELS, WorkflowParameter]),
    seed=st.integers(0, 2**32 - 1),
    replacements=st.lists(json_values | st.sampled_from(TIMESTAMPS), min_size=1, max_size=6),
    count=st.integers(0, 6),
)
def test_property_list_structurer_matches_the_item_hook(
    cls: type[Any], seed: int, replacements: list[Any], count: int
) -> None:
    """A whole list structured at once equals the items structured one by one.

    The compiled list loop reads every field by subscript until an item lacks
    one, then field by field with ``dict.get``: mixing whole, sparse and broken
    items (in any order) checks that the switch changes nothing but the cost.
    """
    ran("list_vs_items")
    rng = random.Random(seed)
    valid = VALID.get(cls, {"name": "width", "type": "number", "required": True, "default": 1})
    items = [
        valid if rng.random() < 0.4 else mutate(valid, rng, replacements) for _ in range(count)
    ]
    try:
        expected = (True, repr([converter.structure(item, cls) for item in items]))
    except Exception:
        expected = (False, "")
    try:
        got = (True, repr(list_structurer(cls)(items)))
    except Exception:
        got = (False, "")
    assert got == expected


@pytest.mark.parametrize("cls", list(LIST_KEYS), ids=lambda c: c.__name__)
def test_list_structurer_reads_absent_fields_after_whole_ones(cls: type[Any]) -> None:
    """A page whose later items omit optional fields gets their defaults, not stale values."""
    whole = VALID[cls]
    required = {key: whole[key] for key in ("id", "url") if key in whole}
    many = list_structurer(cls)([whole, required, whole])
    assert many == [converter.structure(item, cls) for item in (whole, required, whole)]
    assert many[1] != many[0]
    assert all(getattr(many[1], name) is None for name in ("name", "created_at"))
