"""The ``floimg`` root command, its global options, and errors → one line + exit status.

Exit statuses (see ``_failures``): 0 success; 1 a command that ran but did not
fully succeed (bulk items failed) or an unexpected error; 2 usage or
configuration; 3 the API answered with an error (including a failed workflow);
4 no usable answer (connection, timeout, a wait that timed out); 130
interrupted (Ctrl-C, SIGTERM); 141 stdout closed by its reader (SIGPIPE).
A multi-item command exits with the status of its first failed item.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import click
from click.shell_completion import shell_complete

from .. import __version__
from ._cmd_bulk import bulk
from ._cmd_executions import executions
from ._cmd_images import images
from ._cmd_projects import projects
from ._cmd_tools import demo, emulator
from ._cmd_workflows import workflows
from ._command import FloimgGroup, global_params
from ._context import Interrupted, Settings
from ._failures import (
    EXIT_API,
    EXIT_BROKEN_PIPE,
    EXIT_CONNECTION,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    ItemsFailed,
    describe,
    print_error,
)
from ._output import forget_secrets, safe_lines, tolerate_any_encoding

__all__ = [
    "EXIT_API",
    "EXIT_BROKEN_PIPE",
    "EXIT_CONNECTION",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "cli",
    "run",
]

COMPLETE_VAR = "_FLOIMG_COMPLETE"


@click.group(
    cls=FloimgGroup,
    root=True,
    params=global_params(root=True),
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=(
        "Global options work before or after the command. Shell completion: "
        'eval "$(_FLOIMG_COMPLETE=bash_source floimg)" in ~/.bashrc (zsh_source, '
        "fish_source for those shells). NO_COLOR=1 turns colour off."
    ),
)
@click.version_option(__version__, "-V", "--version", prog_name="floimg")
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


for command in (workflows, executions, images, projects, bulk, emulator, demo):
    cli.add_command(command)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the ``floimg`` command line with ``argv``; return the exit status (never raise)."""
    if os.environ.get(COMPLETE_VAR):
        # Shell completion (click's protocol): prints the script or the candidates.
        return shell_complete(cli, {}, "floimg", COMPLETE_VAR, os.environ[COMPLETE_VAR])
    verbose = False
    settings = Settings()
    forget_secrets()  # a run in the same process (tests) has its own key
    tolerate_any_encoding()
    if sys.stdout is None:  # started with stdout closed (>&-): results would vanish
        print_error("usage", "stdout is closed; redirect it to a file or /dev/null instead")
        return EXIT_USAGE
    try:
        with cli.make_context(
            "floimg", list(sys.argv[1:] if argv is None else argv), obj=settings
        ) as ctx:
            verbose = settings.verbose
            try:
                cli.invoke(ctx)
            finally:
                verbose = settings.verbose  # -v may come after the command
        return 0
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError" and exc.ctx is not None:
            # 'floimg' or 'floimg workflows' alone: the help, as a screen, like gh does
            # (click >= 8.2 raises this; older click printed the help and exited 0).
            click.echo(exc.ctx.get_help())
            return 0
        hint = ""
        if exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        print_error("usage", exc.format_message() + hint)
        return EXIT_USAGE
    except click.exceptions.Abort:
        print_error("interrupted", "aborted")
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        print_error("error", exc.format_message())
        return exc.exit_code
    except Interrupted:
        print_error("interrupted", "stopped by a signal (Ctrl-C)")
        _after_error(settings)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print_error("interrupted", "stopped by Ctrl-C")
        _after_error(settings)
        return EXIT_INTERRUPTED
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BrokenPipeError:
        return _broken_pipe()
    except ItemsFailed as exc:
        print_error("items_failed", str(exc))
        return exc.exit_code
    except Exception as exc:
        if isinstance(exc.__context__, BrokenPipeError):
            return _broken_pipe()  # e.g. an error raised while cleaning up after it
        if verbose:  # where it came from; the messages in it may quote the server
            trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            sys.stderr.write(safe_lines(trace))
        code, message, status = describe(exc)
        print_error(code, message)
        _after_error(settings)
        return status


def _after_error(settings: Settings) -> None:
    """Print what the command asked to say after its error line (how to resume)."""
    for note in settings.after_error:
        try:
            note()
        except BrokenPipeError:
            _broken_pipe()
            return


def _broken_pipe() -> int:
    """The reader of stdout went away (``floimg … | head -1``): stop quietly, status 141.

    141 is what a shell reports for a command killed by SIGPIPE, as ``yes | head``
    is. stdout is pointed at /dev/null so Python's final flush cannot complain.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout has no file descriptor (a test's buffer)
        pass
    return EXIT_BROKEN_PIPE
