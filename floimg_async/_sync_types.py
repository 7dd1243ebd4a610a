"""What users of the sync client see: ``SyncPager`` and the resource protocols.

``SyncPager`` is the blocking face of an :class:`~floimg_async.AsyncPager`. The
``Sync*`` protocols describe the resource namespaces of
:class:`floimg_async.sync.FloImg` to type checkers: signatures only, the behaviour
is the async method's (``tests/test_sync.py`` holds each to its async original).
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, overload

from ._models import (
    CompletedExecution,
    Execution,
    ExecutionOutput,
    Image,
    Page,
    Project,
    RunOutcome,
    Workflow,
    WorkflowSummary,
)
from ._pagination import AsyncPager
from ._portal import Portal, iterate
from ._resources.executions import OnUpdate
from ._resources.workflows import ParameterSets
from ._uploads import Progress, UploadSource

__all__ = ["SyncExecutions", "SyncImages", "SyncPager", "SyncProjects", "SyncWorkflows"]

T = TypeVar("T")


class SyncPager(Generic[T]):
    """A listing for blocking code: iterate it with ``for``, or use :meth:`pages` / :meth:`to_list`.

    Like :class:`~floimg_async.AsyncPager` it holds no items: each iteration
    starts from the first page and fetches the next one (one request) only
    when the loop reaches it. Items are handed over a page at a time, so the
    cost of crossing to the client's loop thread is paid per page, not per item.
    """

    def __init__(self, portal: Portal, pager: AsyncPager[T]) -> None:
        self._portal = portal
        self._pager = pager

    @property
    def page_size(self) -> int:
        """Items requested per page."""
        return self._pager.page_size

    @property
    def offset(self) -> int:
        """Where the listing starts."""
        return self._pager.offset

    @property
    def max_items(self) -> int | None:
        """The most items the listing yields (``None``: all)."""
        return self._pager.max_items

    def __iter__(self) -> Iterator[T]:
        """Yield every item across pages, in order (one request per page)."""
        for page in self.pages():
            yield from page.items

    def pages(self) -> Generator[Page[T], None, None]:
        """Yield whole :class:`~floimg_async.Page` objects (one request each)."""
        return iterate(self._portal, self._pager.pages)

    def to_list(self) -> list[T]:
        """Collect every item into a list (mind ``max_items`` on long listings)."""
        items: list[T] = self._portal.call(self._pager.to_list)
        return items

    def __repr__(self) -> str:
        return (
            f"SyncPager(page_size={self.page_size}, offset={self.offset}, "
            f"max_items={self.max_items})"
        )


# -- what type checkers see of the resource namespaces -------------------------------
# Signatures only; the behaviour is the async method's. tests/test_sync.py checks
# that each matches its async original (same parameters, the result unwrapped).


class SyncWorkflows(Protocol):
    """``client.workflows`` of the sync client: the async methods, blocking."""

    def list(
        self,
        *,
        project_id: str | None = None,
        page_size: int = 20,
        offset: int = 0,
        max_items: int | None = None,
        prefetch: bool = False,
    ) -> SyncPager[WorkflowSummary]:
        """Iterate over the account's workflows (one request per page, made lazily)."""
        ...

    def get(self, workflow_id: str) -> Workflow:
        """Fetch one workflow with its parameter schema (one request)."""
        ...

    def execute(
        self,
        workflow_id: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> CompletedExecution:
        """Run a workflow in synchronous mode and return the finished execution."""
        ...

    def submit(
        self,
        workflow_id: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Execution:
        """Start a workflow in async mode; returns at once, usually ``pending``."""
        ...

    def run(
        self,
        workflow_id: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        idempotency_key: str | None = None,
    ) -> CompletedExecution:
        """``submit`` then ``executions.wait``: the completed execution, or an error."""
        ...

    def run_many(
        self,
        workflow_id: str,
        parameter_sets: ParameterSets,
        *,
        concurrency: int = 8,
        timeout: float | None = None,
    ) -> Generator[RunOutcome, None, None]:
        """Run the workflow once per parameter set; close the iterator to cancel the rest."""
        ...


class SyncExecutions(Protocol):
    """``client.executions`` of the sync client: the async methods, blocking."""

    def get(self, execution_id: str) -> Execution:
        """Fetch an execution's current state (one request)."""
        ...

    def wait(
        self,
        execution: Execution | str,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        max_poll_interval: float = 10.0,
        on_update: OnUpdate | None = None,
    ) -> CompletedExecution:
        """Poll until the execution ends; return it when it ``completed``."""
        ...


class SyncImages(Protocol):
    """``client.images`` of the sync client: the async methods, blocking."""

    def upload(
        self,
        file: UploadSource,
        *,
        name: str | None = None,
        project_id: str | None = None,
        content_type: str | None = None,
        idempotency_key: str | None = None,
        on_progress: Progress | None = None,
    ) -> Image:
        """Upload an image, streamed from a path, bytes, a binary file or an iterable."""
        ...

    def list(
        self,
        *,
        project_id: str | None = None,
        page_size: int = 20,
        offset: int = 0,
        max_items: int | None = None,
        prefetch: bool = False,
    ) -> SyncPager[Image]:
        """Iterate over stored images (one request per page, made lazily)."""
        ...

    def get(self, image_id: str) -> Image:
        """Fetch one image's details (one request)."""
        ...

    def delete(self, image_id: str) -> bool:
        """Delete an image; returns the API's ``deleted`` flag (one request)."""
        ...

    @overload
    def download(
        self,
        image: Image | ExecutionOutput | str,
        dest: None = None,
        *,
        on_progress: Progress | None = None,
    ) -> bytes: ...

    @overload
    def download(
        self,
        image: Image | ExecutionOutput | str,
        dest: str | os.PathLike[str],
        *,
        on_progress: Progress | None = None,
    ) -> Path: ...

    def download(
        self,
        image: Image | ExecutionOutput | str,
        dest: str | os.PathLike[str] | None = None,
        *,
        on_progress: Progress | None = None,
    ) -> bytes | Path:
        """Fetch an image's bytes (no ``dest``), or stream them to ``dest`` and return that path."""
        ...


class SyncProjects(Protocol):
    """``client.projects`` of the sync client: the async methods, blocking."""

    def list(
        self,
        *,
        page_size: int = 20,
        offset: int = 0,
        max_items: int | None = None,
        prefetch: bool = False,
    ) -> SyncPager[Project]:
        """Iterate over the account's projects (one request per page, made lazily)."""
        ...

    def create(
        self, name: str, *, description: str | None = None, idempotency_key: str | None = None
    ) -> Project:
        """Create a project (one POST, safe to retry: it carries an Idempotency-Key)."""
        ...
