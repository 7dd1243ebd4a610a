"""The pure parts of the CLI: parameter parsing, model → JSON, tables."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import click
import pytest

import floimg_async
import floimg_async.bulk
from floimg_async import (
    APIConnectionError,
    APIError,
    Execution,
    ExecutionOutput,
    ExecutionStatus,
    FloImgError,
    LocalFileError,
    ResponseDecodeError,
    ResponseTooLargeError,
    WaitTimeoutError,
    Workflow,
    WorkflowParameter,
)
from floimg_async.bulk import BulkError
from floimg_async.cli._failures import (
    EXIT_API,
    EXIT_CONNECTION,
    EXIT_USAGE,
    NotDeletedError,
    describe,
)
from floimg_async.cli._output import TableWriter, show_object, to_jsonable
from floimg_async.cli._params import coerce, load_parameters, parse_param


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("12", 12),
        ("-3", -3),
        ("2.5", 2.5),
        ("1e3", 1000.0),
        ("true", True),
        ("false", False),
        ("null", None),
        ("007", "007"),
        ("nan", "nan"),
        ("+1", "+1"),
        ("hello world", "hello world"),
        ("", ""),
        ("True", "True"),
    ],
)
def test_cli_coerce(raw: str, value: object) -> None:
    assert coerce(raw) == value
    assert type(coerce(raw)) is type(value)


def test_cli_parse_param_forms() -> None:
    assert parse_param("prompt=a=b") == ("prompt", "a=b")
    assert parse_param('tags:=[1, "x"]') == ("tags", [1, "x"])
    assert parse_param('size:="12"') == ("size", "12")
    with pytest.raises(click.BadParameter):
        parse_param("nothing")


def test_cli_load_parameters_merges_file_then_params(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    file = tmp_path / "p.json"
    file.write_text('{"prompt": "file", "width": 10}')
    assert load_parameters(["width=20"], str(file)) == {"prompt": "file", "width": 20}
    file.write_text("[1]")
    with pytest.raises(click.BadParameter):
        load_parameters([], str(file))


def test_cli_to_jsonable_uses_wire_names_and_iso_dates() -> None:
    started = datetime(2026, 1, 15, 10, 30, tzinfo=timezone.utc)
    execution = Execution(
        id="exec_1",
        status=ExecutionStatus.COMPLETED,
        output=ExecutionOutput(url="u", width=1, height=2, format="png"),
        duration_ms=2340,
        started_at=started,
        completed_at=started.astimezone(timezone(timedelta(hours=2))),
    )
    data = to_jsonable(execution)
    assert data["executionId"] == "exec_1"
    assert data["duration"] == 2340
    assert data["status"] == "completed"
    assert data["startedAt"] == "2026-01-15T10:30:00Z"
    assert data["completedAt"] == "2026-01-15T10:30:00Z"
    assert data["output"] == {"url": "u", "width": 1, "height": 2, "format": "png"}
    workflow = Workflow(id="wf", parameters=(WorkflowParameter("prompt", "string", True),))
    assert to_jsonable(workflow)["parameters"][0] == {
        "name": "prompt",
        "type": "string",
        "required": True,
        "default": None,
    }


def test_cli_text_shows_the_models_timestamps_to_the_second_and_other_text_as_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = datetime(2026, 1, 15, 10, 30, 5, 123000, tzinfo=timezone(timedelta(hours=2)))
    execution = Execution(
        id="exec_1",
        status=ExecutionStatus.RUNNING,
        started_at=started,
        error="2026-01-15T08:30:05.999999Z",  # looks like a timestamp: server text, kept
    )
    show_object(execution)
    lines = [line.split(maxsplit=1) for line in capsys.readouterr().out.splitlines()]
    shown = {words[0]: words[1] if len(words) > 1 else "" for words in lines}
    assert shown["startedAt"] == "2026-01-15T08:30:05Z"
    assert shown["error"] == "2026-01-15T08:30:05.999999Z"
    assert shown["executionId"] == "exec_1" and shown["completedAt"] == ""


def test_cli_table_writer_batches_keep_the_first_batch_widths(
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = TableWriter(["ID", "NAME"], batch=2)
    for n in range(5):
        table.add(f"id{n}", "x" * (n + 1))
    table.close()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "NAME"]
    assert len(lines) == 6
    assert {line.index("x") for line in lines[1:]} == {lines[0].index("NAME")}
    assert lines[-1].endswith("xx…")  # wider than the first batch: cut, never misaligned


def _an(cls: type[FloImgError]) -> FloImgError:
    """An instance of any SDK error class, whatever its constructor wants."""
    if issubclass(cls, APIError):
        return cls("no", status=500)
    if issubclass(cls, ResponseTooLargeError):
        return cls("too big", status=200, limit=1)
    if issubclass(cls, ResponseDecodeError):
        return cls("bad", status=200)
    if issubclass(cls, LocalFileError):
        return cls("gone", path="/x")
    if issubclass(cls, WaitTimeoutError):
        return cls("slow", execution=None)
    return cls("failed")


def _error_classes() -> list[type[FloImgError]]:
    found: list[type[FloImgError]] = []
    for module in (floimg_async, floimg_async.bulk):
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, FloImgError):
                found.append(value)
    return [*found, NotDeletedError]


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_cli_reports_every_sdk_error_by_its_own_code(cls: type[FloImgError]) -> None:
    code, _message, status = describe(_an(cls))
    assert code == cls.code and code.isidentifier() and code.islower()
    expected = (
        EXIT_API
        if issubclass(cls, APIError | NotDeletedError)
        else EXIT_CONNECTION
        if issubclass(cls, APIConnectionError | ResponseDecodeError | WaitTimeoutError)
        else EXIT_USAGE
        if issubclass(cls, BulkError)
        else 1
    )
    assert status == expected


def test_every_sdk_error_class_has_a_code_of_its_own() -> None:
    classes = _error_classes()
    codes = [cls.code for cls in classes]
    assert len(set(codes)) == len(codes), codes
