"""The ``floimg`` root command, its global options, and errors → one line + exit status.

Exit statuses: 0 success; 1 a command that ran but did not fully succeed (bulk
items failed) or an unexpected error; 2 usage or configuration (bad option,
no API key, a journal for another input); 3 the API answered with an error
(including a failed workflow); 4 no usable answer (connection, timeout, a wait
that timed out); 130 interrupted (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import click

from .. import __version__
from .._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    FloImgError,
    ResponseDecodeError,
    WaitTimeoutError,
    WorkflowFailedError,
)
from ..bulk import BulkError, JournalLockedError, JournalMismatchError
from ._cmd_bulk import bulk
from ._cmd_executions import executions
from ._cmd_images import images
from ._cmd_projects import projects
from ._cmd_tools import demo, emulator
from ._cmd_workflows import workflows
from ._context import Interrupted, Settings, setup_logging
from ._output import emit_json

__all__ = ["EXIT_API", "EXIT_CONNECTION", "EXIT_INTERRUPTED", "EXIT_USAGE", "cli", "run"]

EXIT_USAGE = 2
EXIT_API = 3
EXIT_CONNECTION = 4
EXIT_INTERRUPTED = 130


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--api-key",
    envvar="FLOIMG_API_KEY",
    show_envvar=True,
    metavar="KEY",
    help="API key (prefer the environment variable: command lines are visible to others).",
)
@click.option(
    "--base-url",
    envvar="FLOIMG_BASE_URL",
    show_envvar=True,
    metavar="URL",
    help="API base URL [default: https://api.floimg.com/v1].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Seconds for one HTTP attempt.",
)
@click.option(
    "--max-retries",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Retries of connection errors, timeouts, 429 and 5xx.",
)
@click.option("--json", "json_output", is_flag=True, help="Print JSON, one object per line.")
@click.option(
    "-v", "--verbose", is_flag=True, help="Log requests and retries to stderr (key redacted)."
)
@click.version_option(__version__, prog_name="floimg")
@click.pass_context
def cli(
    ctx: click.Context,
    api_key: str | None,
    base_url: str | None,
    timeout: float,
    max_retries: int,
    json_output: bool,
    verbose: bool,
) -> None:
    """floimg: the FloImg image-workflow API from the command line."""
    settings = ctx.ensure_object(Settings)
    settings.api_key = api_key or None
    settings.base_url = base_url or None
    source = ctx.get_parameter_source("base_url")
    settings.base_url_given = source is click.core.ParameterSource.COMMANDLINE
    settings.timeout = timeout
    settings.max_retries = max_retries
    settings.json = settings.json or json_output
    settings.verbose = verbose
    setup_logging(verbose, settings.api_key)


for command in (workflows, executions, images, projects, bulk, emulator, demo):
    cli.add_command(command)


def _describe(exc: BaseException) -> tuple[str, str, int]:
    """``(code, message, exit status)`` of an error that ends a command."""
    if isinstance(exc, APIError):
        message = exc.message
        if exc.request_id:
            message += f" (request_id={exc.request_id})"
        return exc.code or f"http_{exc.status}", message, EXIT_API
    if isinstance(exc, APITimeoutError):
        return "timeout", str(exc), EXIT_CONNECTION
    if isinstance(exc, ResponseDecodeError):
        return "bad_response", str(exc), EXIT_CONNECTION
    if isinstance(exc, APIConnectionError):
        return "connection_error", str(exc), EXIT_CONNECTION
    if isinstance(exc, WaitTimeoutError):
        return "wait_timeout", str(exc), EXIT_CONNECTION
    if isinstance(exc, JournalMismatchError):
        return "journal_mismatch", str(exc), EXIT_USAGE
    if isinstance(exc, JournalLockedError):
        return "journal_locked", str(exc), EXIT_USAGE
    if isinstance(exc, BulkError):
        return "bulk_error", str(exc), EXIT_USAGE
    if isinstance(exc, FloImgError):
        return "error", str(exc), 1
    if isinstance(exc, ValueError | TypeError):
        return "invalid_argument", str(exc), EXIT_USAGE
    if isinstance(exc, FileNotFoundError | IsADirectoryError | PermissionError):
        return "file_error", str(exc), EXIT_USAGE
    if isinstance(exc, OSError):
        return "os_error", str(exc), 1
    return "internal_error", f"{type(exc).__name__}: {exc}", 1


def _error(code: str, message: str) -> None:
    click.echo(f"error: {code}: {' '.join(message.split())}", err=True)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the ``floimg`` command line with ``argv``; return the exit status (never raise)."""
    verbose = False
    json_mode = False
    try:
        with cli.make_context("floimg", list(sys.argv[1:] if argv is None else argv)) as ctx:
            settings = ctx.ensure_object(Settings)
            verbose, json_mode = settings.verbose, settings.json
            try:
                cli.invoke(ctx)
            finally:
                verbose, json_mode = settings.verbose, settings.json
        return 0
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        hint = ""
        if exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        _error("usage", exc.format_message() + hint)
        return EXIT_USAGE
    except click.exceptions.Abort:
        _error("interrupted", "aborted")
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        _error("error", exc.format_message())
        return exc.exit_code
    except Interrupted:
        _error("interrupted", "stopped by a signal (Ctrl-C)")
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        _error("interrupted", "stopped by Ctrl-C")
        return EXIT_INTERRUPTED
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BrokenPipeError:
        # The reader went away (`floimg … --json | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:
        failed = isinstance(exc, WorkflowFailedError | WaitTimeoutError)
        if json_mode and failed and getattr(exc, "execution", None) is not None:
            emit_json(getattr(exc, "execution", None))
        if verbose:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        code, message, status = _describe(exc)
        _error(code, message)
        return status
