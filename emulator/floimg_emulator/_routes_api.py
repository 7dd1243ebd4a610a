"""Handlers of ``/v1/workflows…`` and ``/v1/projects``."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from aiohttp import web

from ._idempotency import Claim, Resume, Work, idempotency_key
from ._middleware import account_of, require
from ._params import image_parameters, parse_paging, validate_parameters
from ._records import ExecutionRecord, ProjectRecord
from ._state import STATE_KEY
from ._util import (
    ApiError,
    ApiResult,
    JSONObject,
    envelope,
    invalid,
    new_id,
    not_found,
    now,
    parse_json,
)

#: What JavaScript's ``trim()`` (and a JSON Schema pattern's ``\\s``) count as white space;
#: Python's ``str.strip()`` also strips ``\\x1c``-``\\x1f`` and ``\\x85``, which the API keeps.
JS_WHITESPACE = (
    "\t\n\v\f\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)

routes = web.RouteTableDef()


async def read_json_object(request: web.Request) -> tuple[JSONObject, str]:
    """Return the request's JSON object body and a fingerprint of it; raise a 400 otherwise."""
    body = parse_json(await request.read())
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object")
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return body, hashlib.sha256(canonical.encode()).hexdigest()


async def idempotent(
    request: web.Request, fingerprint: str, work: Work, resume: Resume | None = None
) -> web.Response:
    """Do ``work`` at most once per ``Idempotency-Key`` (see ``_idempotency``)."""
    key = idempotency_key(request)
    if key is None:
        return (await work(None)).to_response()
    scope = (account_of(request), request.method, request.path, key)
    return await request.app[STATE_KEY].idempotency.run(scope, fingerprint, work, resume)


def _page_body(name: str, items: list[Any], total: int, offset: int) -> JSONObject:
    return {name: items, "total": total, "hasMore": offset + len(items) < total}


@routes.post("/v1/workflows/execute")
async def execute(request: web.Request) -> web.Response:
    """Run a workflow: sync (200, finished execution) or async (202, pending execution)."""
    require(request, "workflows:execute")
    state = request.app[STATE_KEY]
    body, fingerprint = await read_json_object(request)
    workflow_id = body.get("workflowId")
    if not isinstance(workflow_id, str) or not workflow_id:
        reason = "required" if workflow_id is None else "type"
        raise invalid("workflowId must be a non-empty string", field="workflowId", reason=reason)
    given = body.get("parameters")
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise invalid("parameters must be an object", field="parameters", reason="type")
    run_async = body.get("async", False)
    if not isinstance(run_async, bool):
        raise invalid("async must be a boolean", field="async", reason="type")
    account = account_of(request)
    workflow = await state.store.get_workflow(account, workflow_id)
    if workflow is None:
        raise not_found("Workflow", workflow_id)
    values = validate_parameters(workflow.parameters, given)
    for name in image_parameters(workflow.parameters):
        image_id = values.get(name)
        if image_id is not None and await state.store.get_image(account, image_id) is None:
            raise invalid(f"Image {image_id} doesn't exist", field=name, reason="not_found")
    key = idempotency_key(request)
    origin = state.origin_for(request)

    def outcome(final: ExecutionRecord) -> ApiResult:
        if final.status == "completed":
            return ApiResult(200, final.to_api(origin))
        if final.status == "failed":
            details = {"executionId": final.id, "workflowId": final.workflow_id}
            return ApiResult(500, envelope("workflow_failed", final.error or "Failed", details))
        raise ApiError(
            503,
            "unavailable",
            f"Execution {final.id} has not finished (the emulator is stopping); retry",
            {"executionId": final.id},
        )

    async def finished(task: asyncio.Task[ExecutionRecord], execution_id: str) -> ApiResult:
        await asyncio.wait({task})
        if task.cancelled():
            raise ApiError(
                503,
                "unavailable",
                "The emulator is shutting down; retry with the same Idempotency-Key",
                {"executionId": execution_id},
            )
        return outcome(task.result())

    async def work(claim: Claim | None) -> ApiResult:
        execution = ExecutionRecord(
            id=new_id("exec"),
            account=account,
            workflow_id=workflow.id,
            parameters=values,
            status="pending",
            mode="async" if run_async else "sync",
            idempotency_key=key,
            created_at=now(),
        )
        answer = ApiResult(202, execution.to_api(origin)) if run_async else None
        record = None
        if claim is not None:
            record = claim.answer(answer) if answer else claim.execution(execution.id)
        await state.store.insert_execution(execution, record)
        task = state.runner.start(execution, workflow)
        return answer or await finished(task, execution.id)

    async def resume(execution_id: str) -> ApiResult:
        task = state.runner.task_of(execution_id)
        if task is not None:
            return await finished(task, execution_id)
        final = await state.store.get_execution(account, execution_id)
        if final is None:  # pragma: no cover - claims and executions are stored together
            raise not_found("Execution", execution_id)
        return outcome(final)

    return await idempotent(request, fingerprint, work, resume)


@routes.route("*", "/v1/workflows/execute")
async def execute_other_methods(request: web.Request) -> web.Response:
    """Answer 405 to any method but POST, so ``/workflows/{workflowId}`` never claims it."""
    raise web.HTTPMethodNotAllowed(request.method, ["POST"])


@routes.get("/v1/workflows/executions/{executionId}")
async def get_execution(request: web.Request) -> web.Response:
    """Return the status of one execution."""
    require(request, "workflows:read", "workflows:execute")
    state = request.app[STATE_KEY]
    execution_id = request.match_info["executionId"]
    execution = await state.store.get_execution(account_of(request), execution_id)
    if execution is None:
        raise not_found("Execution", execution_id)
    return ApiResult(200, execution.to_api(state.origin_for(request))).to_response()


@routes.get("/v1/workflows")
async def list_workflows(request: web.Request) -> web.Response:
    """List the account's workflows, oldest first."""
    require(request, "workflows:read")
    limit, offset = parse_paging(request.query)
    project_id = request.query.get("projectId") or None
    store = request.app[STATE_KEY].store
    workflows, total = await store.list_workflows(account_of(request), project_id, limit, offset)
    items = [w.summary() for w in workflows]
    return ApiResult(200, _page_body("workflows", items, total, offset)).to_response()


@routes.get("/v1/workflows/{workflowId}")
async def get_workflow(request: web.Request) -> web.Response:
    """Return one workflow with its parameter schema."""
    require(request, "workflows:read")
    workflow_id = request.match_info["workflowId"]
    store = request.app[STATE_KEY].store
    workflow = await store.get_workflow(account_of(request), workflow_id)
    if workflow is None:
        raise not_found("Workflow", workflow_id)
    return ApiResult(200, workflow.detail()).to_response()


@routes.get("/v1/projects")
async def list_projects(request: web.Request) -> web.Response:
    """List the account's projects, oldest first (any read scope)."""
    require(request, "workflows:read", "storage:read")
    limit, offset = parse_paging(request.query)
    store = request.app[STATE_KEY].store
    projects, total = await store.list_projects(account_of(request), limit, offset)
    items = [p.to_api() for p in projects]
    return ApiResult(200, _page_body("projects", items, total, offset)).to_response()


@routes.post("/v1/projects")
async def create_project(request: web.Request) -> web.Response:
    """Create a project (201); needs ``workflows:execute`` or ``storage:write``."""
    require(request, "workflows:execute", "storage:write")
    body, fingerprint = await read_json_object(request)
    name, description = body.get("name"), body.get("description")
    if not isinstance(name, str) or not name.strip(JS_WHITESPACE):
        reason = "required" if not name else "type"
        raise invalid("name must be a non-empty string", field="name", reason=reason)
    if len(name) > 200:
        raise invalid("name must be at most 200 characters", field="name", reason="too_long")
    if description is not None and not isinstance(description, str):
        raise invalid("description must be a string", field="description", reason="type")
    store = request.app[STATE_KEY].store
    account = account_of(request)

    async def work(claim: Claim | None) -> ApiResult:
        project = ProjectRecord(
            new_id("proj"), account, name.strip(JS_WHITESPACE), description, now()
        )
        result = ApiResult(201, project.to_api())
        await store.insert_project(project, claim.answer(result) if claim else None)
        return result

    return await idempotent(request, fingerprint, work)
