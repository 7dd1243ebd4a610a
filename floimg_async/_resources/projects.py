"""``client.projects``: list and create projects."""

from __future__ import annotations

from .._models import Project
from .._pagination import AsyncPager
from .._request import (
    Request,
    json_body,
    path,
)
from ._base import Resource

__all__ = ["Projects"]


class Projects(Resource):
    """Projects, which group workflows and images (``/projects``)."""

    def list(
        self,
        *,
        page_size: int = 20,
        offset: int = 0,
        max_items: int | None = None,
        prefetch: bool = False,
    ) -> AsyncPager[Project]:
        """Iterate over the account's projects (one request per page, made lazily).

        Accepts the ``{"projects": [...], "total", "hasMore"}`` envelope and a
        bare JSON list. Raises ``ValueError`` for a ``page_size`` outside 1..100.
        """
        return self._pager(
            "/projects",
            "projects",
            Project,
            what="projects.list",
            project_id=None,
            page_size=page_size,
            offset=offset,
            max_items=max_items,
            prefetch=prefetch,
        )

    async def create(
        self, name: str, *, description: str | None = None, idempotency_key: str | None = None
    ) -> Project:
        """Create a project (one POST, safe to retry: it carries an Idempotency-Key)."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"project name must be a non-empty string, got {name!r}")
        if description is not None and not isinstance(description, str):
            raise TypeError(f"description must be a string, got {type(description).__name__}")
        body: dict[str, str] = {"name": name}
        if description is not None:
            body["description"] = description
        request = Request(
            "POST",
            path("projects"),
            what="projects.create",
            json=json_body(body),
            idempotency_key=idempotency_key,
        )
        return await self._call(request, Project)
