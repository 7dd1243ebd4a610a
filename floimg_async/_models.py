"""The API's resources as frozen attrs classes.

Field names are snake_case; :mod:`floimg_async._convert` maps them from the
API's camelCase by one rule. A field whose wire name breaks that rule says so
in its ``metadata`` (``wire`` for the name, ``aliases`` for other spellings
some servers use). Every optional field defaults to ``None``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

import attrs

__all__ = [
    "CompletedExecution",
    "Execution",
    "ExecutionOutput",
    "ExecutionStatus",
    "Image",
    "Page",
    "Project",
    "RunFailed",
    "RunOutcome",
    "RunResult",
    "RunSucceeded",
    "Workflow",
    "WorkflowParameter",
    "WorkflowSummary",
]

T = TypeVar("T")


class ExecutionStatus(str, enum.Enum):
    """The status of an execution; compares equal to its string value.

    A status the SDK does not know (the API may add some) is kept as a
    pseudo-member whose ``value`` is the server's string; it is not terminal.
    """

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    ERROR = "error"
    CANCELLED = "cancelled"

    @classmethod
    def _missing_(cls, value: object) -> ExecutionStatus | None:
        if not isinstance(value, str):
            return None
        known = cls._value2member_map_.get(value.lower())
        if known is not None:
            return known  # type: ignore[return-value]
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member

    def __str__(self) -> str:
        return str(self.value)

    @property
    def is_terminal(self) -> bool:
        """Whether the execution has ended (completed, failed, error or cancelled)."""
        return self in _TERMINAL

    @property
    def succeeded(self) -> bool:
        """Whether the execution ended ``completed``."""
        return self is ExecutionStatus.COMPLETED


_TERMINAL = frozenset(
    {
        ExecutionStatus.COMPLETED,
        ExecutionStatus.FAILED,
        ExecutionStatus.ERROR,
        ExecutionStatus.CANCELLED,
    }
)


class _JSONModel:
    """``to_dict`` and ``to_json`` for every API model."""

    # Every model is weak-referenceable, as attrs makes them; holding the slot here
    # rather than in each class is what lets _convert build them fast (see
    # _convert._mutable_twin).
    __slots__ = ("__weakref__",)

    def to_dict(self, *, include_none: bool = False) -> dict[str, Any]:
        """Return the model as the API writes it: a JSON-ready ``dict``.

        Field names are the API's camelCase ones (``Execution`` gives
        ``executionId`` and ``duration``), timestamps ISO 8601 strings in UTC
        (``2026-01-10T08:00:00Z``), nested models dicts, and fields that are
        ``None`` are left out (``include_none=True`` keeps them as ``None``, in
        nested models too, so every field is there). An execution status the
        SDK does not know is kept as the server's string. No request is made.
        """
        from ._convert import unstructure  # _convert imports this module

        return unstructure(self, include_none=include_none)

    def to_json(self, *, indent: int | None = None, include_none: bool = False) -> str:
        """Return :meth:`to_dict` as a JSON string (``indent`` as in :func:`json.dumps`)."""
        return json.dumps(
            self.to_dict(include_none=include_none), indent=indent, ensure_ascii=False
        )


@attrs.frozen
class WorkflowSummary(_JSONModel):
    """One entry of ``workflows.list``."""

    id: str
    name: str | None = None
    project_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen
class WorkflowParameter(_JSONModel):
    """A parameter a workflow accepts: its name, type, whether it is required, its default."""

    name: str
    type: str | None = None
    required: bool = False
    default: Any = None


@attrs.frozen
class Workflow(_JSONModel):
    """A workflow with its parameter schema, from ``workflows.get``."""

    id: str
    name: str | None = None
    description: str | None = None
    project_id: str | None = None
    parameters: tuple[WorkflowParameter, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None


@attrs.frozen
class ExecutionOutput(_JSONModel):
    """What a completed execution produced: the image URL and, where known, its shape."""

    url: str | None = None
    width: int | None = None
    height: int | None = None
    format: str | None = None


@attrs.frozen
class Execution(_JSONModel):
    """One run of a workflow.

    ``duration_ms`` is the API's ``duration``; ``error`` is the failure message
    when the server gives one. ``is_terminal`` and ``succeeded`` read ``status``.
    """

    id: str = attrs.field(metadata={"wire": "executionId", "aliases": ("id",)})
    status: ExecutionStatus = ExecutionStatus.PENDING
    workflow_id: str | None = None
    output: ExecutionOutput | None = None
    duration_ms: int | None = attrs.field(default=None, metadata={"wire": "duration"})
    started_at: datetime | None = None
    completed_at: datetime | None = None
    error: str | None = None

    @property
    def is_terminal(self) -> bool:
        """Whether the execution has ended; unknown statuses count as not ended."""
        return self.status.is_terminal

    @property
    def succeeded(self) -> bool:
        """Whether the execution ended ``completed``."""
        return self.status is ExecutionStatus.COMPLETED

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, field.name) for field in attrs.fields(Execution))

    def __eq__(self, other: object) -> bool:
        """Equal when every field is, so a :class:`CompletedExecution` equals its execution."""
        if not isinstance(other, Execution):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())


@attrs.frozen(eq=False)
class CompletedExecution(Execution):
    """An execution that ended ``completed``: what ``run``, ``execute`` and ``wait`` return.

    The same fields as :class:`Execution`, but ``output`` is never ``None``, so
    ``execution.output.url`` type-checks as written. When a server reports a
    completed execution without an output, ``output`` is an empty
    :class:`ExecutionOutput` (every field ``None``). Equal to an
    :class:`Execution` with the same fields.
    """

    output: ExecutionOutput = attrs.field(kw_only=True, factory=ExecutionOutput)

    @classmethod
    def of(cls, execution: Execution) -> CompletedExecution:
        """Return ``execution`` as a :class:`CompletedExecution`.

        Raises ``ValueError`` when its status is not ``completed``.
        """
        if isinstance(execution, CompletedExecution):
            return execution
        if execution.status is not ExecutionStatus.COMPLETED:
            raise ValueError(f"execution {execution.id} is {execution.status.value}, not completed")
        values = {field.name: getattr(execution, field.name) for field in attrs.fields(Execution)}
        if values["output"] is None:
            values["output"] = ExecutionOutput()
        return cls(**values)


@attrs.frozen
class Image(_JSONModel):
    """An image in FloImg storage."""

    id: str
    url: str | None = None
    name: str | None = None
    size: int | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    created_at: datetime | None = None


@attrs.frozen
class Project(_JSONModel):
    """A project, which groups workflows and images."""

    id: str
    name: str | None = None
    description: str | None = None
    created_at: datetime | None = None


@attrs.frozen
class Page(Generic[T]):
    """One page of a listing: its items, the total the API reported, and where it sits."""

    items: tuple[T, ...]
    total: int | None
    has_more: bool
    offset: int
    limit: int


@attrs.frozen
class RunResult:
    """The outcome of one parameter set in ``workflows.run_many``.

    ``index`` is the parameter set's position in the input. On success
    ``execution`` is the completed execution and ``error`` is ``None``; on
    failure ``error`` is the exception and ``execution`` is the execution when
    one exists (failed, or still running when a wait gave up), else ``None``.
    """

    index: int
    parameters: Mapping[str, Any]
    execution: Execution | None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """Whether this parameter set produced a completed execution."""
        return self.error is None and self.execution is not None and self.execution.succeeded


@attrs.frozen
class RunSucceeded(RunResult):
    """A :class:`RunResult` whose parameter set produced a completed execution.

    ``ok`` is ``True`` as a type, so ``if result.ok:`` narrows a
    :data:`RunOutcome` to this class and ``result.execution.output`` type-checks.
    """

    execution: CompletedExecution
    error: None = None

    @property
    def ok(self) -> Literal[True]:
        """Always ``True``."""
        return True


@attrs.frozen
class RunFailed(RunResult):
    """A :class:`RunResult` whose parameter set failed: ``error`` is set.

    ``execution`` is the failed (or still running) execution where one exists.
    """

    error: BaseException

    @property
    def ok(self) -> Literal[False]:
        """Always ``False``."""
        return False


RunOutcome = RunSucceeded | RunFailed
"""What ``run_many`` yields: check ``result.ok`` to tell which."""
