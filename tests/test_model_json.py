"""``to_dict()`` / ``to_json()``: the API's own JSON, and a round trip back to an equal model."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from floimg_async import (
    Execution,
    ExecutionOutput,
    ExecutionStatus,
    Image,
    Project,
    Workflow,
    WorkflowParameter,
    WorkflowSummary,
)
from floimg_async._convert import converter, decode

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODELS = (WorkflowSummary, Workflow, WorkflowParameter, Execution, ExecutionOutput, Image, Project)


def test_execution_uses_the_api_names_and_leaves_none_out() -> None:
    execution = Execution(
        id="exec_1",
        status=ExecutionStatus.COMPLETED,
        workflow_id="wf_1",
        output=ExecutionOutput(url="https://x/1.png", width=1200, height=630),
        duration_ms=2340,
        started_at=datetime(2026, 1, 15, 10, 30, tzinfo=timezone.utc),
        completed_at=datetime(2026, 1, 15, 10, 30, 2, 340000, tzinfo=timezone.utc),
    )
    assert execution.to_dict() == {
        "executionId": "exec_1",
        "status": "completed",
        "workflowId": "wf_1",
        "output": {"url": "https://x/1.png", "width": 1200, "height": 630},
        "duration": 2340,
        "startedAt": "2026-01-15T10:30:00Z",
        "completedAt": "2026-01-15T10:30:02.340000Z",
    }


def test_timestamps_are_written_in_utc_whatever_their_zone() -> None:
    paris = timezone(timedelta(hours=1))
    project = Project(id="p", created_at=datetime(2026, 1, 1, 0, 30, tzinfo=paris))
    assert project.to_dict() == {"id": "p", "createdAt": "2025-12-31T23:30:00Z"}


def test_an_unknown_status_is_kept_as_the_servers_string() -> None:
    execution = converter.structure({"executionId": "e", "status": "Queued"}, Execution)
    assert execution.to_dict() == {"executionId": "e", "status": "Queued"}


def test_workflow_parameters_become_a_list_of_dicts() -> None:
    workflow = Workflow(
        id="wf",
        parameters=(
            WorkflowParameter("prompt", "string", required=True),
            WorkflowParameter("size", "object", default={"w": 1, "h": None}),
        ),
    )
    data = workflow.to_dict()
    assert data == {
        "id": "wf",
        "parameters": [
            {"name": "prompt", "type": "string", "required": True},
            {"name": "size", "type": "object", "required": False, "default": {"w": 1, "h": None}},
        ],
    }
    assert type(data["parameters"]) is list


def test_include_none_keeps_every_field_in_nested_models_too() -> None:
    execution = Execution(
        id="e", status=ExecutionStatus.PENDING, output=ExecutionOutput(url="u", width=None)
    )
    full = execution.to_dict(include_none=True)
    assert full == {
        "executionId": "e",
        "status": "pending",
        "workflowId": None,
        "output": {"url": "u", "width": None, "height": None, "format": None},
        "error": None,
        "duration": None,
        "startedAt": None,
        "completedAt": None,
    }
    # Only None fields differ: dropping them gives the default form back, order kept.
    assert {k: v for k, v in full.items() if v is not None} | {
        "output": {"url": "u"}
    } == execution.to_dict()
    assert json.loads(execution.to_json(include_none=True)) == full
    workflow = Workflow(id="wf", parameters=(WorkflowParameter("p", "string"),))
    assert workflow.to_dict(include_none=True)["parameters"] == [
        {"name": "p", "type": "string", "required": False, "default": None}
    ]


def test_a_body_from_the_api_comes_back_with_the_same_names() -> None:
    body = {
        "id": "img_abc123",
        "url": "https://storage.floimg.com/img_abc123.png",
        "name": "hero.png",
        "size": 204800,
        "format": "png",
        "width": 1920,
        "height": 1080,
        "createdAt": "2026-01-15T10:30:00Z",
    }
    image = decode(json.dumps(body).encode(), Image, what="images.get")
    assert image.to_dict() == body


def test_to_json_is_to_dict_as_json() -> None:
    image = Image(id="img_é", name="café.png", created_at=datetime(2026, 5, 1, tzinfo=timezone.utc))
    assert json.loads(image.to_json()) == image.to_dict()
    assert "café" in image.to_json()  # readable, not \u-escaped
    assert image.to_json(indent=2).startswith("{\n  ")


# -- the round trip, for every model ------------------------------------------------

ZONES = st.sampled_from(
    [timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
)
MOMENTS = st.none() | st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=ZONES
)
TEXT = st.text(max_size=12)
OPT_TEXT = st.none() | TEXT
OPT_INT = st.none() | st.integers(min_value=-(2**53), max_value=2**53)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
STATUSES = st.sampled_from(list(ExecutionStatus)) | st.text(min_size=1, max_size=10).map(
    ExecutionStatus
)
OUTPUTS = st.builds(ExecutionOutput, url=OPT_TEXT, width=OPT_INT, height=OPT_INT, format=OPT_TEXT)
PARAMETERS = st.builds(
    WorkflowParameter, name=TEXT, type=OPT_TEXT, required=st.booleans(), default=JSON_VALUES
)
STRATEGIES: dict[type[Any], st.SearchStrategy[Any]] = {
    WorkflowSummary: st.builds(
        WorkflowSummary,
        id=TEXT,
        name=OPT_TEXT,
        project_id=OPT_TEXT,
        created_at=MOMENTS,
        updated_at=MOMENTS,
    ),
    WorkflowParameter: PARAMETERS,
    Workflow: st.builds(
        Workflow,
        id=TEXT,
        name=OPT_TEXT,
        description=OPT_TEXT,
        project_id=OPT_TEXT,
        parameters=st.lists(PARAMETERS, max_size=3).map(tuple),
        created_at=MOMENTS,
        updated_at=MOMENTS,
    ),
    ExecutionOutput: OUTPUTS,
    Execution: st.builds(
        Execution,
        id=TEXT,
        status=STATUSES,
        workflow_id=OPT_TEXT,
        output=st.none() | OUTPUTS,
        duration_ms=OPT_INT,
        started_at=MOMENTS,
        completed_at=MOMENTS,
        error=OPT_TEXT,
    ),
    Image: st.builds(
        Image,
        id=TEXT,
        url=OPT_TEXT,
        name=OPT_TEXT,
        size=OPT_INT,
        format=OPT_TEXT,
        width=OPT_INT,
        height=OPT_INT,
        created_at=MOMENTS,
    ),
    Project: st.builds(Project, id=TEXT, name=OPT_TEXT, description=OPT_TEXT, created_at=MOMENTS),
}


def _no_none_fields(data: Any) -> bool:
    return all(value is not None for value in data.values())


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
@SETTINGS
@given(data=st.data())
def test_to_dict_round_trips_to_an_equal_model(cls: type[Any], data: st.DataObject) -> None:
    model = data.draw(STRATEGIES[cls])
    as_dict = model.to_dict()
    assert _no_none_fields(as_dict)
    assert converter.structure(as_dict, cls) == model
    # And through JSON text, as the API itself would send it.
    assert decode(model.to_json().encode(), cls, what="round trip") == model
    assert json.loads(model.to_json()) == as_dict


def test_every_model_of_the_contract_has_the_methods() -> None:
    for cls in MODELS:
        assert callable(cls.to_dict) and callable(cls.to_json), cls
