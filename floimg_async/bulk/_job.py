"""``BulkJob``: one execution per input line, journaled so a run can always be resumed."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

from .. import (
    APIConnectionError,
    APIError,
    Execution,
    FloImg,
    FloImgError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnauthorizedError,
    WaitTimeoutError,
    WorkflowFailedError,
)
from ._errors import BulkError
from ._input import InputItem, fingerprint, read_items
from ._journal import ItemState, Journal, JournalItem
from ._paths import check_paths, claim_download_dir, output_problem
from ._polling import DurationEstimator, Poller
from ._results import ResultsFile, download_name, result_line
from ._summary import BulkSummary, OnProgress, Outcome, Tally, default_journal_path

__all__ = ["BulkJob"]

#: Transient errors: the item stays resumable (same Idempotency-Key next time).
_TRANSIENT = (APIConnectionError, RateLimitedError, ServerError, WaitTimeoutError)
#: Errors that would fail every item alike: the run stops instead.
_FATAL = (UnauthorizedError, ForbiddenError)
#: Items handled without a request between two yields to the event loop.
_INLINE_BATCH = 256


class BulkJob:
    """Run ``workflow_id`` once per line of a JSON Lines file, resumably.

    Each line of ``input_path`` is a JSON object of parameters (blank lines are
    skipped; a line that is not an object becomes a failed item). The file is
    read lazily, so its size does not matter. Every step of every item is
    recorded in the SQLite :class:`Journal` at ``journal_path`` *before* and
    *after* it happens, and each submission carries the Idempotency-Key
    ``bulk-<run id>-<index>``, so running the same job again after a crash,
    Ctrl-C or kill resumes it: completed items are skipped, items in flight are
    waited on (or re-sent with the *same* key, which the server deduplicates),
    and failed items are retried only with ``retry_failed`` (under a new key).

    ``mode="async"`` (the default for a new journal) submits each item in async
    mode, records its execution id at once, then polls it: the first poll near
    the 90th percentile of the durations seen so far in this run, then backing
    off from ``poll_interval`` to ``max_poll_interval`` seconds (which bounds
    every wait, so a finished execution is seen at most that late), a 429's
    ``Retry-After`` honoured; about two requests per item. ``mode="sync"``
    sends each item as one synchronous execute (one request per item) whose
    key is in the journal before it goes out; after a crash it is re-sent
    under that key, which relies on the server keeping its idempotency record
    of a request whose client went away (see docs/scaling.md). ``None`` keeps
    the journal's mode. ``wait_timeout`` bounds one item's wait (or sync
    request), after which it stays resumable. At most ``concurrency`` items
    are in flight. ``out_path`` receives one JSON line per
    item in completion order, exactly once per item across resumes;
    ``download_dir`` receives each image as ``<index:06d>.<ext>`` and is
    claimed by this run (``.floimg-bulk.json``; another run's folder is
    refused). A bad input line or an unusable execution output fails its item
    only. The summary's ``requests`` is read from ``client.stats``.
    ``on_result`` is called with each
    settled item's result line (the dict ``out_path`` gets), once per item per
    run: items settled by an earlier run (skipped) included, items left
    unfinished not, so the last run's calls cover the whole input.

    Raises :class:`UnsafePathError` (before writing anything) when an output
    would overwrite the input or another run's data,
    :class:`JournalMismatchError` when the journal belongs to another
    workflow, input or mode, :class:`JournalLockedError` when another process
    runs it, :class:`JournalCorruptError` when it is damaged or not a journal,
    and the client's own error when the workflow cannot be used at all (a
    401/403/404, or no connection before any item ran).
    """

    def __init__(
        self,
        client: FloImg,
        workflow_id: str,
        input_path: str | os.PathLike[str],
        journal_path: str | os.PathLike[str] | None = None,
        *,
        concurrency: int = 8,
        out_path: str | os.PathLike[str] | None = None,
        download_dir: str | os.PathLike[str] | None = None,
        retry_failed: bool = False,
        poll_interval: float = 1.0,
        max_poll_interval: float = 10.0,
        wait_timeout: float | None = None,
        on_result: Callable[[dict[str, Any]], Any] | None = None,
        mode: str | None = None,
    ) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be an int >= 1, got {concurrency!r}")
        if not isinstance(workflow_id, str) or not workflow_id.strip():
            raise ValueError(f"workflow_id must be a non-empty string, got {workflow_id!r}")
        if not poll_interval > 0 or not max_poll_interval >= poll_interval:
            raise ValueError("need 0 < poll_interval <= max_poll_interval")
        if mode not in (None, "async", "sync"):
            raise ValueError(f"mode must be 'async', 'sync' or None, got {mode!r}")
        self.client = client
        self.workflow_id = workflow_id
        self.input_path = Path(input_path)
        self.journal_path = (
            Path(journal_path)
            if journal_path is not None
            else default_journal_path(input_path, out_path)
        )
        self.concurrency = concurrency
        self.out_path = None if out_path is None else Path(out_path)
        self.download_dir = None if download_dir is None else Path(download_dir)
        self.retry_failed = retry_failed
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.wait_timeout = wait_timeout
        self.on_result = on_result
        self.mode = mode
        #: The workflow's learned execution time; made afresh by each run (on its loop).
        self.estimator = DurationEstimator()
        self._poller = self._make_poller()
        self._journal: Journal | None = None
        self._results: ResultsFile | None = None
        self._streak = 0  # consecutive items that met a connection error

    # -- the run ---------------------------------------------------------------------------

    async def run(self, on_progress: OnProgress | None = None) -> BulkSummary:
        """Run (or resume) the job and return its summary.

        Cancelling the task stops at once: work in flight is cancelled and the
        journal stays consistent, so running the job again resumes it.
        ``on_progress`` gets a :class:`BulkProgress` at the start and after
        every item. Costs one request to check the workflow, then per item one
        submission plus the polls of its wait (and a download when asked).
        """
        if not self.input_path.is_file():
            raise FileNotFoundError(f"bulk input {str(self.input_path)!r} is not a file")
        check_paths(self.input_path, self.journal_path, self.out_path, self.download_dir)
        loop = asyncio.get_running_loop()
        started = loop.time()
        counted_from = self.client.stats.requests
        source = await asyncio.to_thread(fingerprint, self.input_path)
        self.estimator = DurationEstimator()
        self._poller = self._make_poller()
        journal = self._journal = Journal(self.journal_path)
        try:
            run_id = journal.bind(self.workflow_id, str(self.input_path), source, self.mode)
            mode = journal.mode
            if self.out_path is not None:
                self._results = ResultsFile(self.out_path, journal)
                self._results.open()
            if self.download_dir is not None:
                await asyncio.to_thread(
                    claim_download_dir, self.download_dir, run_id, self.journal_path
                )
            await self._check_workflow()
            tally = Tally(total=source.items)
            await self._drive(tally, on_progress)
            if self._results is not None:
                self._results.finish()
            counts = journal.counts()
            return BulkSummary(
                run_id=run_id,
                workflow_id=self.workflow_id,
                journal_path=self.journal_path,
                out_path=self.out_path,
                total=source.items,
                completed=tally.completed,
                failed=tally.failed,
                skipped=tally.skipped,
                unfinished=tally.unfinished,
                resumed=tally.resumed,
                completed_total=counts[ItemState.COMPLETED],
                failed_total=counts[ItemState.FAILED],
                elapsed=loop.time() - started,
                requests=self.client.stats.requests - counted_from,
                mode=mode,
            )
        finally:
            if self._results is not None:
                self._results.close()
                self._results = None
            journal.close()
            self._journal = None

    def _make_poller(self) -> Poller:
        return Poller(
            self.client,
            self.estimator,
            poll_interval=self.poll_interval,
            max_poll_interval=self.max_poll_interval,
            timeout=self.wait_timeout,
        )

    async def _check_workflow(self) -> None:
        """Fail fast on a workflow id that does not exist (a key without read scope is fine)."""
        with contextlib.suppress(ForbiddenError):
            await self.client.workflows.get(self.workflow_id)

    async def _drive(self, tally: Tally, on_progress: OnProgress | None) -> None:
        in_flight: set[asyncio.Task[Outcome]] = set()

        async def report() -> None:
            if on_progress is not None:
                result = on_progress(tally.progress(len(in_flight)))
                if inspect.isawaitable(result):
                    await result

        async def reap() -> None:
            nonlocal in_flight
            done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                tally.add(task.result())
            await report()

        await report()
        items: Iterator[InputItem] = read_items(self.input_path)
        inline = 0
        try:
            for entry in items:
                # A free slot first: an item is journaled only when it can start at once,
                # and no planned coroutine is ever left un-awaited by a cancellation.
                while len(in_flight) >= self.concurrency:
                    await reap()
                work = self._plan(entry, tally)
                if isinstance(work, Outcome):
                    tally.add(work)
                    await report()
                    inline += 1
                    if inline % _INLINE_BATCH == 0:
                        await asyncio.sleep(0)  # let the items in flight move on
                    continue
                in_flight.add(asyncio.ensure_future(work))
            while in_flight:
                await reap()
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
            for task in in_flight:
                task.cancel()
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)

    # -- one item --------------------------------------------------------------------------

    def _plan(self, entry: InputItem, tally: Tally) -> Outcome | Coroutine[Any, Any, Outcome]:
        """Decide what an input item needs, from what the journal knows of it."""
        journal = self._require_journal()
        item = journal.get(entry.index)
        if item is None:
            item = journal.add(entry.index, entry.line, entry.parameters, entry.error)
            if item.state is ItemState.FAILED:  # the line itself was unusable
                self._write(item)
                return Outcome.FAILED
            return self._process(item)
        if item.state is ItemState.FAILED:
            if self.retry_failed and item.error_code != "invalid_input":
                return self._process(journal.retry(entry.index))
            self._write(item)
            return Outcome.SKIPPED
        if item.state is ItemState.COMPLETED:
            if self._needs_download(item):
                return self._deliver(item.index, Outcome.SKIPPED)
            self._write(item)
            return Outcome.SKIPPED
        if item.state is not ItemState.QUEUED:
            tally.resumed += 1
        return self._process(item)

    async def _process(self, item: JournalItem) -> Outcome:
        """Send (unless already sent), wait, then download and write the result."""
        journal = self._require_journal()
        index = item.index
        latest: Execution | None = None
        submitted_at: float | None = None
        execution_id = item.execution_id
        if item.state in (ItemState.QUEUED, ItemState.SUBMITTING):
            # Durable *before* the request: after a kill we know it may have been sent,
            # and the journal already holds the key it was sent under.
            journal.mark_submitting(index)
            if journal.mode == "sync":
                return await self._execute(item)
            submitted_at = asyncio.get_running_loop().time()
            try:
                latest = await self.client.workflows.submit(
                    self.workflow_id, item.parameters, idempotency_key=item.idempotency_key
                )
            except BaseException as exc:
                return self._failure(index, exc, None, "submit")
            execution_id = latest.id
            journal.mark_submitted(index, execution_id)
            self._streak = 0
        assert execution_id is not None
        try:
            final = await self._poller.wait(execution_id, submitted_at=submitted_at, latest=latest)
        except BaseException as exc:
            return self._failure(index, exc, execution_id, "wait")
        return await self._completed(index, final)

    async def _execute(self, item: JournalItem) -> Outcome:
        """Sync mode: one request that returns the finished execution."""
        client = self.client
        if self.wait_timeout is not None:
            client = client.with_options(deadline=self.wait_timeout)
        try:
            final = await client.workflows.execute(
                self.workflow_id,
                item.parameters,
                idempotency_key=item.idempotency_key,
            )
        except BaseException as exc:
            return self._failure(item.index, exc, None, "submit")
        self._streak = 0
        return await self._completed(item.index, final)

    async def _completed(self, index: int, final: Execution) -> Outcome:
        journal = self._require_journal()
        output = None if final.output is None else final.output.to_dict()
        problem = output_problem(output)
        if problem is not None:
            # A hostile or broken answer: this item fails, the run goes on.
            journal.mark_failed(index, problem, "invalid_output", final.id)
            return self._failed(index)
        journal.mark_completed(index, final.id, output)
        return await self._deliver(index, Outcome.COMPLETED)

    def _failure(
        self, index: int, exc: BaseException, execution_id: str | None, step: str
    ) -> Outcome:
        """Record a failed step: a definite failure, or a transient one left resumable."""
        journal = self._require_journal()
        if isinstance(exc, _FATAL) or (isinstance(exc, NotFoundError) and step == "submit"):
            raise exc
        if isinstance(exc, WorkflowFailedError):
            failed = exc.execution
            execution_id = getattr(failed, "id", None) or execution_id
            message = getattr(failed, "error", None) or exc.message
            journal.mark_failed(index, message, exc.code or "workflow_failed", execution_id)
        elif isinstance(exc, _TRANSIENT):
            journal.note_error(index, str(exc), _code_of(exc))
            if isinstance(exc, APIConnectionError):
                # Connection errors on many consecutive items mean the API is unreachable:
                # stop rather than burn through the whole input (the run resumes later).
                self._streak += 1
                if self._streak >= max(8, 2 * self.concurrency):
                    raise exc
            return Outcome.UNFINISHED
        elif isinstance(exc, APIError | TypeError | ValueError):
            journal.mark_failed(index, str(exc), _code_of(exc), execution_id)
        elif isinstance(exc, Exception) and not isinstance(exc, BulkError):
            # Anything else one item meets (a hostile answer the client could not
            # decode, say) fails that item only; its type is kept in the code.
            message = f"{type(exc).__name__}: {exc}"
            journal.mark_failed(index, message, "unexpected_error", execution_id)
        else:
            raise exc  # cancellation, or the journal failing: never swallowed
        return self._failed(index)

    def _failed(self, index: int) -> Outcome:
        item = self._require_journal().get(index)
        assert item is not None
        self._write(item)
        return Outcome.FAILED

    def _needs_download(self, item: JournalItem) -> bool:
        if self.download_dir is None or item.output_url is None:
            return False
        return not (self.download_dir / download_name(item.index, item.output)).exists()

    async def _deliver(self, index: int, outcome: Outcome) -> Outcome:
        """Download the image (when asked) and write the result line."""
        journal = self._require_journal()
        item = journal.get(index)
        assert item is not None
        if self.download_dir is not None and item.output_url is not None:
            dest = self.download_dir / download_name(index, item.output)
            if not dest.exists():
                try:
                    await self.client.images.download(item.output_url, dest)
                except (FloImgError, OSError) as exc:
                    journal.note_error(index, f"download failed: {exc}", "download_failed")
                    return Outcome.UNFINISHED
                except (ValueError, TypeError) as exc:  # the client refused the URL
                    journal.mark_failed(
                        index, f"download refused: {exc}", "invalid_output", item.execution_id
                    )
                    return self._failed(index)
            journal.mark_file(index, str(dest))
            if item.error_code == "download_failed":
                journal.note_error(index, None, None)
            item = journal.get(index)
            assert item is not None
        self._write(item)
        return outcome

    def _write(self, item: JournalItem) -> None:
        if self._results is not None and not item.written:
            self._results.write(item)
        if self.on_result is not None:
            self.on_result(result_line(item))

    def _require_journal(self) -> Journal:
        if self._journal is None:
            raise RuntimeError("the job is not running")
        return self._journal


def _code_of(exc: BaseException) -> str:
    """The journal's error code: the SDK error's own ``code``, else the exception's class."""
    if isinstance(exc, FloImgError) and exc.code:
        return exc.code
    return type(exc).__name__
