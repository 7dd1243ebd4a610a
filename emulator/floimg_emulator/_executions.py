"""Run executions in background tasks: pending → running → completed or failed."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ._params import resolve_steps
from ._records import ExecutionRecord, ImageRecord, WorkflowRecord
from ._store import Store
from ._util import JSONObject, new_id, now

log = logging.getLogger("floimg_emulator")

#: The share of ``execution_time`` an execution spends ``pending`` before it runs.
PENDING_SHARE = 0.25


class ExecutionRunner:
    """Start executions as tasks, render them in a thread pool, and stop them all on shutdown."""

    def __init__(self, store: Store, execution_time: Callable[[], float]) -> None:
        self._store = store
        self._execution_time = execution_time
        self._tasks: dict[str, asyncio.Task[ExecutionRecord]] = {}
        workers = min(8, (os.cpu_count() or 2) + 2)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="floimg-render")
        self._closed = False

    def start(
        self, execution: ExecutionRecord, workflow: WorkflowRecord
    ) -> asyncio.Task[ExecutionRecord]:
        """Run ``execution`` of ``workflow`` in the background; return its task."""
        if self._closed:
            raise RuntimeError("the emulator is stopping")
        task = asyncio.get_running_loop().create_task(
            self._run(execution, workflow), name=f"floimg-emulator-{execution.id}"
        )
        self._tasks[execution.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(execution.id, None))
        return task

    def task_of(self, execution_id: str) -> asyncio.Task[ExecutionRecord] | None:
        """Return the task running ``execution_id`` in this process, or None."""
        return self._tasks.get(execution_id)

    async def shutdown(self) -> None:
        """Cancel every running execution and wait for the tasks and render threads to end.

        With a data dir, cancelled executions are resumed by the next emulator.
        """
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(self._pool.shutdown, True)

    async def resume_unfinished(self) -> int:
        """Start again every execution a previous process left pending or running."""
        resumed = 0
        for execution in await self._store.list_executions(unfinished=True):
            workflow = await self._store.get_workflow(execution.account, execution.workflow_id)
            if workflow is None:
                await self._store.update_execution(
                    execution.id,
                    status="failed",
                    completed_at=now(),
                    error="The emulator restarted and the workflow no longer exists",
                )
                continue
            execution = await self._store.update_execution(
                execution.id, status="pending", started_at=None
            )
            self.start(execution, workflow)
            resumed += 1
        return resumed

    async def _run(self, execution: ExecutionRecord, workflow: WorkflowRecord) -> ExecutionRecord:
        loop = asyncio.get_running_loop()
        began = loop.time()
        budget = self._execution_time()
        await asyncio.sleep(budget * PENDING_SHARE)
        started = now()
        await self._store.update_execution(execution.id, status="running", started_at=started)
        try:
            image = await self._render(execution, workflow)
        except Exception as failure:
            if not isinstance(failure, _Failed):
                log.exception("execution %s crashed", execution.id)
                failure = _Failed(f"Internal emulator error: {failure}")
            await asyncio.sleep(max(0.0, budget - (loop.time() - began)))
            done = now()
            return await self._store.update_execution(
                execution.id,
                status="failed",
                completed_at=done,
                duration_ms=round((done - started) * 1000),
                error=str(failure),
            )
        done = now()
        return await self._store.update_execution(
            execution.id,
            status="completed",
            completed_at=done,
            duration_ms=round((done - started) * 1000),
            output_image_id=image.id,
            output_format=image.format,
            output_width=image.width,
            output_height=image.height,
        )

    async def _render(self, execution: ExecutionRecord, workflow: WorkflowRecord) -> ImageRecord:
        from ._pipeline import PipelineError, render

        loop = asyncio.get_running_loop()
        began = loop.time()
        budget = self._execution_time() * (1 - PENDING_SHARE)
        try:
            steps = resolve_steps(workflow.steps, execution.parameters)
        except (TypeError, ValueError, KeyError) as exc:
            raise _Failed(f"Could not fill the parameters into the workflow: {exc}") from exc
        images = await self._image_files(execution.account, steps)
        try:
            result = await loop.run_in_executor(
                self._pool, render, steps, images, self._store.tmp_dir
            )
        except PipelineError as exc:
            raise _Failed(str(exc)) from exc
        except Exception as exc:
            log.exception("execution %s crashed", execution.id)
            raise _Failed(f"Internal error while rendering: {exc}") from exc
        try:
            await asyncio.sleep(max(0.0, budget - (loop.time() - began)))
            image = ImageRecord(
                id=new_id("img"),
                account=execution.account,
                name=f"{workflow.id}-{execution.id}.{result.path.suffix.lstrip('.')}",
                project_id=workflow.project_id,
                size=result.size,
                format=result.format,
                width=result.width,
                height=result.height,
                created_at=now(),
                source="execution",
                execution_id=execution.id,
            )
            await self._store.add_image(image, result.path)
        except BaseException:
            await asyncio.to_thread(result.path.unlink, True)
            raise
        return image

    async def _image_files(self, account: str, steps: list[JSONObject]) -> dict[str, Path]:
        files: dict[str, Path] = {}
        for step in steps:
            if step.get("op") == "load":
                ref: Any = step.get("image")
                image = await self._store.get_image(account, str(ref))
                if image is None:
                    raise _Failed(f"Image {ref} doesn't exist (it may have been deleted)")
                files[image.id] = self._store.image_path(image)
        return files


class _Failed(Exception):
    """The execution ends ``failed`` with this message."""
