"""``floimg bulk``: one execution per input line, resumable after any crash."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from .. import FloImgError
from ..bulk import (
    BulkError,
    BulkJob,
    BulkSummary,
    JournalCorruptError,
    default_journal_path,
)
from ._context import Interrupted, Settings, json_option, pass_settings, run_async
from ._options import FiniteFloatRange
from ._output import emit_json, show_object
from ._progress import BulkBar

__all__ = ["EXIT_JOURNAL_CORRUPT", "bulk"]

#: ``floimg bulk``'s exit status when the journal is damaged or not a journal at all.
EXIT_JOURNAL_CORRUPT = 5


@click.command(short_help="Run a workflow once per input line; crash-safe and resumable.")
@click.argument("workflow_id")
@click.argument(
    "input_path", metavar="INPUT.jsonl", type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "-c",
    "--concurrency",
    type=click.IntRange(1, 1000),
    default=8,
    show_default=True,
    help="Executions in flight at once.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Results file (JSON Lines). Without it, results stream to stdout as JSON Lines "
    "and the summary goes to stderr.",
)
@click.option(
    "--download",
    "download_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Save each output image here as <index>.<ext> (000017.png).",
)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The run's journal (default: <out>.journal, else <input>.journal).",
)
@click.option(
    "--mode",
    type=click.Choice(["async", "sync"]),
    help="async: submit, then poll (about 2 requests per item; default for a new journal). "
    "sync: one synchronous execute per item (1 request), re-sent under the same "
    "Idempotency-Key after a crash. Default: the journal's mode.",
)
@click.option("--retry-failed", is_flag=True, help="Run failed items again (under new keys).")
@click.option("--poll-interval", type=FiniteFloatRange(min=0.01), default=1.0, show_default=True)
@click.option(
    "--max-poll-interval", type=FiniteFloatRange(min=0.01), default=10.0, show_default=True
)
@click.option(
    "--wait-timeout",
    type=FiniteFloatRange(min=0),
    help="Stop waiting for one item after this many seconds (it stays resumable).",
)
@json_option
@pass_settings
@click.pass_context
def bulk(
    ctx: click.Context,
    settings: Settings,
    workflow_id: str,
    input_path: Path,
    concurrency: int,
    out: Path | None,
    download_dir: Path | None,
    journal: Path | None,
    mode: str | None,
    retry_failed: bool,
    poll_interval: float,
    max_poll_interval: float,
    wait_timeout: float | None,
) -> None:
    """Run WORKFLOW_ID once per line of INPUT.jsonl (a JSON object of parameters per line).

    Every step is journaled, so running the same command again after a crash,
    Ctrl-C or kill resumes the run: completed items are skipped, items in
    flight are picked up without running twice, failed items are retried only
    with --retry-failed.

    Without --out, each settled item's result is printed to stdout as one JSON
    line as it settles (items settled by an earlier run too, so the last run
    prints the whole input), and the summary goes to stderr:
    `floimg bulk WF in.jsonl > results.jsonl`. Exits 0 when every item completed, 1 when some failed
    or were left unfinished, 2 for a refused path or journal, 5 when the
    journal is damaged (or is not a bulk journal).
    """
    if not input_path.is_file():
        raise click.BadParameter(f"{str(input_path)!r} is not a file", param_hint="INPUT.jsonl")
    journal_path = journal or default_journal_path(input_path, out)
    stream = out is None

    def print_result(line: dict[str, Any]) -> None:
        click.echo(json.dumps(line, ensure_ascii=False, separators=(",", ":")))

    async def go() -> BulkSummary:
        async with settings.client() as client:
            job = BulkJob(
                client,
                workflow_id,
                input_path,
                journal_path,
                concurrency=concurrency,
                out_path=out,
                download_dir=download_dir,
                retry_failed=retry_failed,
                poll_interval=poll_interval,
                max_poll_interval=max(max_poll_interval, poll_interval),
                wait_timeout=wait_timeout,
                on_result=print_result if stream else None,
                mode=mode,
            )
            with BulkBar(workflow_id) as bar:
                return await job.run(on_progress=bar)

    hint = _resume_command(ctx, settings, journal_path)
    try:
        summary = run_async(go)
    except Interrupted:
        click.echo(f"interrupted; the journal is consistent. Resume with:\n  {hint}", err=True)
        raise
    except JournalCorruptError as exc:
        click.echo(f"error: journal_corrupt: {' '.join(str(exc).split())}", err=True)
        ctx.exit(EXIT_JOURNAL_CORRUPT)
    except BulkError:
        raise
    except FloImgError:
        click.echo(f"stopped; resume with:\n  {hint}", err=True)
        raise
    _print_summary(settings, summary, to_stderr=stream)
    if not summary.ok:
        click.echo(
            f"{summary.total - summary.completed_total} of {summary.total} items did not "
            f"complete; see {summary.out_path or 'the lines above'} "
            f"(journal {summary.journal_path}). "
            f"Re-run to finish unfinished items; add --retry-failed to retry failed ones:\n"
            f"  {hint}",
            err=True,
        )
        ctx.exit(1)


def _print_summary(settings: Settings, summary: BulkSummary, *, to_stderr: bool) -> None:
    """The summary: on stdout, or on stderr when stdout carries the results."""
    per = summary.requests_per_execution
    data: dict[str, Any] = {
        "runId": summary.run_id,
        "workflowId": summary.workflow_id,
        "journalPath": str(summary.journal_path),
        "outPath": None if summary.out_path is None else str(summary.out_path),
        "total": summary.total,
        "completed": summary.completed,
        "failed": summary.failed,
        "skipped": summary.skipped,
        "unfinished": summary.unfinished,
        "resumed": summary.resumed,
        "completedTotal": summary.completed_total,
        "failedTotal": summary.failed_total,
        "elapsed": round(summary.elapsed, 3),
        "requests": summary.requests,
        "mode": summary.mode,
        "ok": summary.ok,
        "requestsPerExecution": None if per is None else round(per, 3),
    }
    if settings.json:
        if to_stderr:
            click.echo(json.dumps(data, ensure_ascii=False, separators=(",", ":")), err=True)
        else:
            emit_json(data)
        return
    headline = (
        f"{summary.workflow_id}: {summary.total} items — {summary.completed} completed, "
        f"{summary.failed} failed, {summary.skipped} skipped (settled before), "
        f"{summary.unfinished} unfinished"
    )
    details = {
        "wall time": f"{summary.elapsed:.2f} s",
        "requests": summary.requests,
        "requests per execution": "-" if per is None else f"{per:.2f}",
        "mode": summary.mode,
        "resumed in flight": summary.resumed,
        "journal": f"{summary.journal_path} (run {summary.run_id})",
        "results": summary.out_path or "stdout",
        "all runs": f"{summary.completed_total} completed, {summary.failed_total} failed",
    }
    if not to_stderr:
        click.echo(headline)
        show_object(details)
        return
    click.echo(headline, err=True)
    width = max(len(key) for key in details)
    for key, value in details.items():
        click.echo(f"{key.ljust(width)}  {value}", err=True)


def _resume_command(ctx: click.Context, settings: Settings, journal_path: Path) -> str:
    """The command that resumes this run (never the API key: it comes from the environment)."""
    words = ["floimg"]
    if settings.base_url_given and settings.base_url:
        words += ["--base-url", settings.base_url]
    params = ctx.params
    words += ["bulk", params["workflow_id"], str(params["input_path"])]
    words += ["--journal", str(journal_path), "--concurrency", str(params["concurrency"])]
    for name, flag in (("out", "--out"), ("download_dir", "--download")):
        if params[name] is not None:
            words += [flag, str(params[name])]
    if params["mode"] is not None:
        words += ["--mode", params["mode"]]
    for name in ("poll_interval", "max_poll_interval", "wait_timeout"):
        if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE:
            words += ["--" + name.replace("_", "-"), str(params[name])]
    if params["retry_failed"]:
        words.append("--retry-failed")
    return shlex.join(words)
