"""Decoding the API's JSON into models: camelCase, unknown keys, timestamps, statuses."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import attrs
import pytest

from floimg_async import (
    Execution,
    ExecutionOutput,
    ExecutionStatus,
    Image,
    Project,
    ResponseDecodeError,
    RunResult,
    Workflow,
    WorkflowParameter,
    WorkflowSummary,
)
from floimg_async._convert import decode, to_camel


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def test_camel_case_rule() -> None:
    assert to_camel("project_id") == "projectId"
    assert to_camel("created_at") == "createdAt"
    assert to_camel("id") == "id"


def test_workflow_from_the_reference_example() -> None:
    data = {
        "id": "wf_abc123",
        "name": "Social Media Image",
        "description": "Generate OG images for blog posts",
        "projectId": "proj_def456",
        "parameters": [
            {"name": "prompt", "type": "string", "required": True},
            {"name": "width", "type": "number", "default": 1200},
        ],
        "createdAt": "2026-01-10T08:00:00Z",
        "someFutureField": {"nested": True},
    }
    workflow = decode(body(data), Workflow, what="workflows.get")
    assert workflow.project_id == "proj_def456"
    assert workflow.parameters == (
        WorkflowParameter("prompt", "string", required=True),
        WorkflowParameter("width", "number", required=False, default=1200),
    )
    assert workflow.created_at == datetime(2026, 1, 10, 8, tzinfo=timezone.utc)
    assert workflow.updated_at is None


def test_sync_execution_response() -> None:
    data = {
        "executionId": "exec_xyz789",
        "status": "completed",
        "output": {"url": "https://s/abc.png", "width": 1200, "height": 630, "format": "png"},
        "duration": 2340,
    }
    execution = decode(body(data), Execution, what="x")
    assert execution.id == "exec_xyz789"
    assert execution.duration_ms == 2340
    assert execution.output == ExecutionOutput("https://s/abc.png", 1200, 630, "png")
    assert execution.succeeded and execution.is_terminal
    assert execution.status is ExecutionStatus.COMPLETED


def test_execution_status_response_with_timestamps() -> None:
    data = {
        "executionId": "exec_1",
        "workflowId": "wf_1",
        "status": "running",
        "startedAt": "2026-01-15T10:30:00+02:00",
    }
    execution = decode(body(data), Execution, what="x")
    assert execution.workflow_id == "wf_1"
    assert execution.started_at is not None
    assert execution.started_at.utcoffset() is not None
    assert execution.started_at == datetime(2026, 1, 15, 8, 30, tzinfo=timezone.utc)
    assert not execution.is_terminal


def test_naive_timestamp_is_taken_as_utc() -> None:
    image = decode(body({"id": "img_1", "createdAt": "2026-01-15T10:00:00"}), Image, what="x")
    assert image.created_at == datetime(2026, 1, 15, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("status", "terminal", "succeeded"),
    [
        ("pending", False, False),
        ("running", False, False),
        ("completed", True, True),
        ("failed", True, False),
        ("error", True, False),
        ("cancelled", True, False),
        ("queued_for_gpu", False, False),
    ],
)
def test_statuses(status: str, terminal: bool, succeeded: bool) -> None:
    execution = decode(body({"executionId": "e", "status": status}), Execution, what="x")
    assert execution.is_terminal is terminal
    assert execution.succeeded is succeeded
    assert execution.status == status
    assert isinstance(execution.status, ExecutionStatus)


def test_unknown_status_is_kept_with_its_text() -> None:
    execution = decode(body({"executionId": "e", "status": "paused"}), Execution, what="x")
    assert execution.status.value == "paused"
    assert str(execution.status) == "paused"


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ("out of memory", "out of memory"),
        ({"code": "step_failed", "message": "resize failed"}, "resize failed"),
        (None, None),
    ],
)
def test_execution_error_string_or_object(error: object, message: str | None) -> None:
    data = {"executionId": "e", "status": "failed", "error": error}
    assert decode(body(data), Execution, what="x").error == message


def test_execution_accepts_plain_id() -> None:
    assert decode(body({"id": "e9", "status": "pending"}), Execution, what="x").id == "e9"


def test_image_and_project() -> None:
    image = decode(
        body(
            {
                "id": "img_abc",
                "url": "u",
                "name": "hero.png",
                "size": 245832,
                "format": "png",
                "width": 1200,
                "height": 630,
                "createdAt": "2026-01-15T10:00:00Z",
            }
        ),
        Image,
        what="x",
    )
    assert (image.size, image.width, image.height, image.format) == (245832, 1200, 630, "png")
    project = decode(body({"id": "p", "name": "Marketing"}), Project, what="x")
    assert project.description is None and project.created_at is None


def test_models_are_frozen() -> None:
    summary = WorkflowSummary("wf")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        summary.name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"<html>oops</html>", "not valid JSON"),
        (b'{"name": "no id"}', "required field missing"),
        (b'["a", "list"]', "documented shape"),
        (b'{"id": "w", "createdAt": "yesterday"}', "documented shape"),
    ],
)
def test_bad_bodies_raise_a_decode_error_naming_the_call(raw: bytes, fragment: str) -> None:
    with pytest.raises(ResponseDecodeError, match=fragment) as info:
        decode(raw, Workflow, what="workflows.get")
    assert "workflows.get" in str(info.value)


def test_run_result_ok() -> None:
    done = Execution("e", ExecutionStatus.COMPLETED)
    failed = Execution("e", ExecutionStatus.FAILED)
    assert RunResult(0, {}, done, None).ok
    assert not RunResult(0, {}, failed, RuntimeError("x")).ok
    assert not RunResult(0, {}, None, RuntimeError("x")).ok


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("2026-01-15T10:30:00.1Z", 100000),
        ("2026-01-15T10:30:00.123Z", 123000),
        ("2026-01-15T10:30:00.123456789Z", 123456),
        ("2026-01-15T10:30:00.5+01:00", 500000),
    ],
)
def test_fractional_seconds_of_any_length(text: str, micros: int) -> None:
    image = decode(body({"id": "i", "createdAt": text}), Image, what="x")
    assert image.created_at is not None and image.created_at.microsecond == micros


def test_epoch_seconds_and_milliseconds() -> None:
    seconds = decode(body({"id": "i", "createdAt": 1768473000}), Image, what="x")
    millis = decode(body({"id": "i", "createdAt": 1768473000000}), Image, what="x")
    assert seconds.created_at == millis.created_at
    assert seconds.created_at == datetime(2026, 1, 15, 10, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("cls", [WorkflowSummary, Workflow, Image, Project])
def test_scalar_fields_coerce_numbers_but_refuse_containers(cls: type[object]) -> None:
    """A numeric id becomes its string; an object or list where a string belongs is a
    decode error naming the call, not the container's Python repr in the model."""
    model = decode(body({"id": 123, "name": None}), cls, what="x.get")
    assert model.id == "123"  # type: ignore[attr-defined]
    for bad in ({"a": 1}, [1, 2]):
        with pytest.raises(ResponseDecodeError, match=r"x\.get"):
            decode(body({"id": bad}), cls, what="x.get")
        with pytest.raises(ResponseDecodeError, match=r"x\.get"):
            decode(body({"id": "ok", "name": bad}), cls, what="x.get")


def test_absent_and_null_optional_fields_are_none_and_defaults_hold() -> None:
    """Absent and explicit null decode alike; fields with a non-None default keep it."""
    absent = decode(body({"name": "p"}), WorkflowParameter, what="x")
    null = decode(body({"name": "p", "type": None, "default": None}), WorkflowParameter, what="x")
    assert absent == null == WorkflowParameter("p", None, False, None)
    assert decode(body({"id": "w"}), Workflow, what="x").parameters == ()
    assert decode(body({"executionId": "e"}), Execution, what="x").status is ExecutionStatus.PENDING


# -- decoded models are ordinary frozen instances of their class ----------------------------

DECODED = {
    WorkflowSummary: {"id": "wf_1", "name": "n", "createdAt": "2026-01-15T10:30:00Z"},
    Workflow: {"id": "wf_1", "parameters": [{"name": "prompt", "required": True}]},
    Image: {"id": "img_1", "url": "https://x/a.png", "size": 3},
    Project: {"id": "p_1", "name": "Ads"},
    ExecutionOutput: {"url": "https://x/a.png", "width": 1},
    WorkflowParameter: {"name": "width", "default": 1},
}


@pytest.mark.parametrize("cls", list(DECODED), ids=lambda c: c.__name__)
def test_decoded_models_are_frozen_exact_instances(cls: type) -> None:
    """Whether built one by one or a page at a time, a model is its class, frozen, hashable,
    weak-referenceable, picklable and equal to one made by its constructor."""
    import copy
    import pickle
    import weakref

    from floimg_async._convert import list_structurer

    one = decode(body(DECODED[cls]), cls, what="test")
    (listed,) = list_structurer(cls)([DECODED[cls]])
    for model in (one, listed):
        assert type(model) is cls
        assert model == attrs.evolve(model) and hash(model) == hash(attrs.evolve(model))
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            model.name = "changed"  # type: ignore[misc]
        assert weakref.ref(model)() is model
        assert pickle.loads(pickle.dumps(model)) == model
        assert copy.deepcopy(model) == model
    assert one == listed


@pytest.mark.parametrize("swap", [True, False], ids=["twin", "slot-setters"])
def test_compiled_hooks_build_right_with_and_without_the_twin(
    swap: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways of filling a frozen model give exact instances equal to the constructor's."""
    from floimg_async import _convert

    if not swap:  # as for a class whose layout CPython will not swap (3.10, 3.11: own weakref)
        monkeypatch.setattr(_convert, "_mutable_twin", lambda cls: None)

    @attrs.frozen
    class Own:
        id: str
        name: str | None = None

    compiled = _convert._compiled_hook(
        Own, {"id": _convert._as_str, "name": _convert._optional_str}
    )
    assert compiled is not None
    one, many = compiled
    assert ("_Twin" in one.__globals__) is (swap and _convert._mutable_twin(Own) is not None)
    for model, expected in [
        (one({"id": "a"}), Own("a")),
        *zip(many([{"id": "a", "name": "b"}, {"id": "c"}]), [Own("a", "b"), Own("c")], strict=True),
    ]:
        assert type(model) is Own and model == expected
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            model.id = "changed"  # type: ignore[misc]
