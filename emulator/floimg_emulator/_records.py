"""The rows the emulator keeps, and how each one is shown in an API response."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ._util import JSONObject, iso

#: File extension for each stored image format.
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp", "gif": "gif"}
#: Content-Type for each stored image format.
CONTENT_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
}


@dataclass(frozen=True)
class ProjectRecord:
    """A project of one account."""

    id: str
    account: str
    name: str
    description: str | None
    created_at: float

    def to_api(self) -> JSONObject:
        """Return the project as the API shows it."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "createdAt": iso(self.created_at),
        }


@dataclass(frozen=True)
class WorkflowRecord:
    """A saved workflow: its parameter schema and its pipeline of steps."""

    id: str
    account: str
    name: str
    description: str
    project_id: str | None
    parameters: list[JSONObject]
    steps: list[JSONObject]
    created_at: float
    updated_at: float

    def summary(self) -> JSONObject:
        """Return the workflow as ``GET /workflows`` lists it."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "projectId": self.project_id,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
        }

    def detail(self) -> JSONObject:
        """Return the workflow as ``GET /workflows/{id}`` shows it."""
        out = self.summary()
        out["parameters"] = self.parameters
        out["steps"] = self.steps
        return out


@dataclass(frozen=True)
class ImageRecord:
    """Metadata of one stored image (uploaded, or produced by an execution)."""

    id: str
    account: str
    name: str
    project_id: str | None
    size: int
    format: str
    width: int
    height: int
    created_at: float
    source: str
    execution_id: str | None = None

    @property
    def filename(self) -> str:
        """Return the file's name on disk and in its URL, e.g. ``img_ab12.png``."""
        return f"{self.id}.{EXTENSIONS[self.format]}"

    def url(self, origin: str) -> str:
        """Return the public URL the emulator serves this image at."""
        return f"{origin}/files/{self.filename}"

    def to_api(self, origin: str) -> JSONObject:
        """Return the image as the API shows it."""
        return {
            "id": self.id,
            "url": self.url(origin),
            "name": self.name,
            "size": self.size,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "projectId": self.project_id,
            "createdAt": iso(self.created_at),
        }


@dataclass(frozen=True)
class ExecutionRecord:
    """One execution of a workflow, as the emulator stores it (also what introspection returns)."""

    id: str
    account: str
    workflow_id: str
    parameters: JSONObject
    status: str
    mode: str
    idempotency_key: str | None
    created_at: float
    started_at: float | None = None
    completed_at: float | None = None
    duration_ms: int | None = None
    error: str | None = None
    output_image_id: str | None = None
    output_format: str | None = None
    output_width: int | None = None
    output_height: int | None = None

    @property
    def is_terminal(self) -> bool:
        """Tell whether the execution has finished (completed or failed)."""
        return self.status in ("completed", "failed")

    def output_url(self, origin: str) -> str | None:
        """Return the URL of the produced image, if there is one."""
        if self.output_image_id is None or self.output_format is None:
            return None
        ext = EXTENSIONS[self.output_format]
        return f"{origin}/files/{self.output_image_id}.{ext}"

    def to_api(self, origin: str) -> JSONObject:
        """Return the execution as ``GET /workflows/executions/{id}`` shows it."""
        output: JSONObject | None = None
        if self.status == "completed":
            output = {
                "url": self.output_url(origin),
                "width": self.output_width,
                "height": self.output_height,
                "format": self.output_format,
            }
        return {
            "executionId": self.id,
            "workflowId": self.workflow_id,
            "status": self.status,
            "output": output,
            "startedAt": iso(self.started_at),
            "completedAt": iso(self.completed_at),
            "duration": self.duration_ms,
            "error": self.error,
        }

    def to_dict(self) -> JSONObject:
        """Return every stored field (for the admin endpoints)."""
        out: dict[str, Any] = asdict(self)
        out["created_at"] = iso(self.created_at)
        out["started_at"] = iso(self.started_at)
        out["completed_at"] = iso(self.completed_at)
        return out


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first answer to a POST carrying an ``Idempotency-Key``, kept for replays.

    ``status`` :data:`PENDING` marks a synchronous execute whose answer is not known
    yet: it is the final state of ``execution_id``, which a replay waits for.
    """

    account: str
    method: str
    path: str
    key: str
    fingerprint: str
    status: int
    body: bytes
    created_at: float
    execution_id: str | None = None

    @property
    def pending(self) -> bool:
        """Tell whether the answer is still the outcome of a running execution."""
        return self.status == PENDING


#: ``IdempotencyRecord.status`` of a claim whose answer is not known yet.
PENDING = 0
