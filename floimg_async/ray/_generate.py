"""Run a workflow once per row of a Ray Dataset: async actors, one shared rate budget."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import json
import os
import re
import time
import uuid
from pathlib import PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import ray
import ray.data

from .. import FloImg, FloImgError, WorkflowFailedError
from ..bulk import download_name, output_problem
from ..transports import TransportResponse, WireRequest
from ._budget import BudgetActor

__all__ = ["OUTPUT_SCHEMA", "FloImgGenerator", "generate", "idempotency_key", "make_budget"]

#: The columns every output row has (besides the id column, which is kept as it is).
OUTPUT_SCHEMA = pa.schema(
    [
        ("status", pa.string()),
        ("execution_id", pa.string()),
        ("output_url", pa.string()),
        ("error", pa.string()),
        ("error_code", pa.string()),
        ("file", pa.string()),
    ]
)
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
#: A booked slot the next API request of this task may use without booking again.
_PREPAID: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "floimg_ray_prepaid", default=None
)


def idempotency_key(run_id: str, row_id: Any) -> str:
    """The Idempotency-Key of one row: ``ray-<run id>-<digest of the row id>``.

    The same run id and row id give the same key in every process, so a Ray
    task retry or an actor restart re-sends a row under the key it was first
    sent with, and a key-honouring server answers from its record instead of
    running it again. Use a new ``run_id`` to run the same rows again.
    """
    digest = hashlib.sha256(json.dumps(row_id, default=str, sort_keys=True).encode()).hexdigest()
    return f"ray-{run_id}-{digest[:32]}"


def make_budget(
    limit_per_minute: float | None = None, *, burst: int = 1, headroom: float = 0.97
) -> Any:
    """Start the shared rate-budget actor (a GCRA pacer) and return its handle.

    ``limit_per_minute`` ``None`` learns the limit from the server's
    ``X-RateLimit-Limit`` (pacing at 60/min until the first answer). The actor
    reserves no CPU and is restarted if it dies (it then re-learns the limit).
    """
    remote = ray.remote(BudgetActor)
    return remote.options(num_cpus=0, max_restarts=-1, max_concurrency=1000).remote(
        limit_per_minute, burst, headroom
    )


class _Secret:
    """An API key that never shows in a repr (Ray logs actor constructor arguments)."""

    def __init__(self, value: str | None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "_Secret(<redacted>)" if self.value else "_Secret(None)"


class FloImgGenerator:
    """The ``map_batches`` callable class: one client per actor, one execution per row.

    Each row is sent as one synchronous execute under
    :func:`idempotency_key` (``run_id``, the row's ``id_column``), after
    booking a slot from the shared ``budget`` actor; the client's own retries
    book theirs too, and every answer's rate-limit headers (and 429s) are fed
    back to the budget. Parameters are the row's ``parameters_column`` (an
    object, or a JSON string), or else every column but the id. An output row
    is the id plus :data:`OUTPUT_SCHEMA`: a failure is a row with ``status``
    ``"failed"`` and the error, never an exception. With ``download_to`` each
    image is written (whole, then renamed into place) to that folder or
    filesystem URL as ``<row id>.<ext>``. Build it through :func:`generate`.
    """

    def __init__(
        self,
        workflow_id: str,
        *,
        run_id: str,
        budget: Any,
        id_column: str = "id",
        parameters_column: str | None = None,
        api_key: _Secret | None = None,
        base_url: str | None = None,
        download_to: str | None = None,
        filesystem: Any = None,
        client_options: dict[str, Any] | None = None,
        max_in_flight: int = 32,
    ) -> None:
        self.workflow_id = workflow_id
        self.max_in_flight = max_in_flight
        self._slots: asyncio.Semaphore | None = None
        self.run_id = run_id
        self.budget = budget
        self.id_column = id_column
        self.parameters_column = parameters_column
        self._api_key = api_key or _Secret(None)
        self.base_url = base_url
        self.client_options = dict(client_options or {})
        self._client: FloImg | None = None
        self._api_prefix = ""
        self._told_limit: str | None = None
        self._fs: pafs.FileSystem | None = None
        self._root = ""
        if download_to is not None:
            self._fs, self._root = _filesystem(download_to, filesystem)
            self._fs.create_dir(self._root, recursive=True)
        try:
            me = ray.get_runtime_context().current_actor
        except RuntimeError:  # not in an actor (called directly, as in unit tests)
            me = None
        if me is not None:
            budget.register.remote(me)

    async def __call__(self, batch: pa.Table) -> pa.Table:
        """Run the workflow for every row of ``batch``; return one result row per row."""
        client = self._ensure_client()
        if self._slots is None:  # made on the loop Ray runs the UDF on
            self._slots = asyncio.Semaphore(self.max_in_flight)
        rows = batch.to_pylist()
        results = await asyncio.gather(*(self._one(client, row) for row in rows))
        ids = pa.array([row.get(self.id_column) for row in rows])
        columns = {name: [r[name] for r in results] for name in OUTPUT_SCHEMA.names}
        table = pa.table(columns, schema=OUTPUT_SCHEMA)
        return table.add_column(0, self.id_column, ids)

    # -- one row --------------------------------------------------------------------------

    async def _one(self, client: FloImg, row: dict[str, Any]) -> dict[str, Any]:
        assert self._slots is not None
        async with self._slots:  # book slots only for rows about to be sent
            return await self._send(client, row)

    async def _send(self, client: FloImg, row: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = dict.fromkeys(OUTPUT_SCHEMA.names)
        row_id = row.get(self.id_column)
        try:
            parameters = self._parameters(row)
            key = idempotency_key(self.run_id, row_id)
            await self._book()
            _PREPAID.set([1])
            execution = await client.workflows.execute(
                self.workflow_id, parameters, idempotency_key=key
            )
            result["execution_id"] = execution.id
            output = None if execution.output is None else execution.output.to_dict()
            problem = output_problem(output)
            if problem is not None:
                return _failed(result, problem, "invalid_output")
            url = (output or {}).get("url")
            result["output_url"] = url
            if self._fs is not None and isinstance(url, str):
                result["file"] = await self._save(client, row_id, url, output)
            result["status"] = "completed"
            return result
        except FloImgError as exc:  # every SDK error names itself with a stable code
            if isinstance(exc, WorkflowFailedError):
                failed = exc.execution
                result["execution_id"] = getattr(failed, "id", None) or result["execution_id"]
            return _failed(result, str(exc), exc.code or type(exc).code)
        except Exception as exc:  # a failure is a row, never an exception that kills the dataset
            return _failed(result, f"{type(exc).__name__}: {exc}", type(exc).__name__)

    def _parameters(self, row: dict[str, Any]) -> dict[str, Any]:
        if self.parameters_column is None:
            return {k: v for k, v in row.items() if k != self.id_column}
        value = row.get(self.parameters_column)
        if isinstance(value, str):
            value = json.loads(value)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError(
                f"column {self.parameters_column!r} must hold an object of parameters, "
                f"got {type(value).__name__}"
            )
        return value

    async def _save(
        self, client: FloImg, row_id: Any, url: str, output: dict[str, Any] | None
    ) -> str:
        data = await client.images.download(url)
        assert isinstance(data, bytes)
        suffix = PurePosixPath(download_name(0, output)).suffix
        text = str(row_id)
        stem = text if _SAFE_NAME.fullmatch(text) and ".." not in text else _digest(row_id)
        path = f"{self._root.rstrip('/')}/{stem}{suffix}"
        assert self._fs is not None
        await asyncio.to_thread(_write_whole, self._fs, path, data)
        return path

    # -- the shared budget ----------------------------------------------------------------

    async def _book(self) -> None:
        send_at = await self.budget.reserve.remote()
        delay = send_at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)

    def _ensure_client(self) -> FloImg:
        """The actor's client, made on the loop Ray runs the UDF on (a client is loop-bound)."""
        if self._client is None:
            self._client = FloImg(
                self._api_key.value,
                base_url=self.base_url,
                on_request=self._on_request,
                on_response=self._on_response,
                **self.client_options,
            )
            self._api_prefix = self._client.base_url.rstrip("/") + "/"
        return self._client

    async def _on_request(self, wire: WireRequest) -> None:
        if not wire.url.startswith(self._api_prefix):
            return  # storage downloads do not count against the API's limit
        prepaid = _PREPAID.get()
        if prepaid:
            prepaid.pop()  # the first send of this row was booked before the call
            return
        await self._book()  # a retry, or any other API request: book a slot for it too

    async def _on_response(self, wire: WireRequest, response: TransportResponse) -> None:
        if not wire.url.startswith(self._api_prefix):
            return
        headers = response.headers
        status = response.status
        remaining = _number(headers.get("X-RateLimit-Remaining"))
        limit = headers.get("X-RateLimit-Limit")
        changed = limit is not None and limit != self._told_limit
        if status == 429 or (remaining is not None and remaining <= 0) or changed:
            self._told_limit = limit
            self.budget.observe.remote(
                status,
                _number(limit),
                remaining,
                _number(headers.get("Retry-After")),
            )


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _failed(result: dict[str, Any], error: str, code: str) -> dict[str, Any]:
    result.update(status="failed", error=error, error_code=code)
    return result


def _digest(row_id: Any) -> str:
    return hashlib.sha256(json.dumps(row_id, default=str).encode()).hexdigest()[:32]


def _filesystem(download_to: str, filesystem: Any) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and root path for a folder, a URL, or a given filesystem."""
    if filesystem is not None:
        if isinstance(filesystem, pafs.FileSystem):
            return filesystem, download_to
        handler = pafs.FSSpecHandler(filesystem)  # an fsspec filesystem
        return pafs.PyFileSystem(handler), download_to
    if "://" in download_to:
        fs, path = pafs.FileSystem.from_uri(download_to)
        return fs, path
    return pafs.LocalFileSystem(), os.path.abspath(download_to)


def _write_whole(fs: pafs.FileSystem, path: str, data: bytes) -> None:
    """Write ``data`` under a temporary name, then move it to ``path``."""
    partial = f"{path}.{uuid.uuid4().hex[:8]}.part"
    try:
        with fs.open_output_stream(partial) as handle:
            handle.write(data)
        fs.move(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            fs.delete_file(partial)
        raise


def generate(
    ds: ray.data.Dataset,
    workflow_id: str,
    *,
    run_id: str,
    id_column: str = "id",
    parameters_column: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    actors: int = 4,
    batch_size: int = 16,
    num_cpus: float = 0.0,
    rate_limit: float | None = None,
    burst: int = 1,
    headroom: float = 0.97,
    budget: Any = None,
    download_to: str | None = None,
    filesystem: Any = None,
    client_options: dict[str, Any] | None = None,
    max_in_flight: int = 32,
) -> ray.data.Dataset:
    """Run ``workflow_id`` once per row of ``ds``; return a dataset of one result per row.

    Lazy, like every Ray Data transform: nothing runs until the result is
    consumed (``take_all``, ``write_parquet``, ``materialize`` …). ``actors``
    async actors (``ActorPoolStrategy(size=actors)``) each own one client and
    work on several batches of ``batch_size`` rows at once, at most
    ``max_in_flight`` rows each (raise it above ``rate_limit / 60 *
    execution seconds / actors`` for long executions); every API request
    of every actor first books a slot from one shared budget actor (a GCRA at
    ``rate_limit`` per minute times ``headroom``, or the limit the server
    announces), so together they stay within the key's limit. Each row costs
    one request (a synchronous execute; a retry books another slot), under an
    Idempotency-Key from ``run_id`` and the row's ``id_column`` (which must be
    unique and stable), so Ray's task retries and actor restarts never run a
    row twice on a server that honours keys. See :class:`FloImgGenerator` for
    the parameters and the output rows. ``num_cpus`` is what each actor
    reserves: the default 0 suits their I/O-bound work (with 1, four actors on
    a two-CPU machine leave nothing for reading the data, and the dataset
    waits forever). ``api_key`` ``None`` reads ``FLOIMG_API_KEY`` on each
    worker (set it in the cluster's environment or ``runtime_env``: a key
    passed here travels in Ray's task specifications).
    """
    if not run_id or not isinstance(run_id, str) or len(run_id) > 64:
        raise ValueError("run_id must be a non-empty string of at most 64 characters")
    if actors < 1 or batch_size < 1 or max_in_flight < 1:
        raise ValueError("actors, batch_size and max_in_flight must be >= 1")
    if budget is None:
        budget = make_budget(rate_limit, burst=burst, headroom=headroom)
    return ds.map_batches(
        FloImgGenerator,
        fn_constructor_args=(workflow_id,),
        fn_constructor_kwargs={
            "run_id": run_id,
            "budget": budget,
            "id_column": id_column,
            "parameters_column": parameters_column,
            "api_key": _Secret(api_key),
            "base_url": base_url,
            "download_to": download_to,
            "filesystem": filesystem,
            "client_options": client_options,
            "max_in_flight": max_in_flight,
        },
        batch_size=batch_size,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=num_cpus,
    )
