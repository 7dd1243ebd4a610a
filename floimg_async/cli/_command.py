"""Global options that work anywhere on the line, and help screens that list them.

``--api-key``, ``--base-url``, ``--timeout``, ``--max-retries``, ``--json`` and
``-v`` are declared once here. The root command reads them (with their
environment fallbacks and defaults); every group and subcommand accepts them
too, so ``floimg workflows list --json -v`` means the same as ``floimg --json
-v workflows list``; the last one given wins. Every ``--help`` lists them under
"Global options", so a hint to read a subcommand's help always points at them.
``floimg emulator`` alone takes none: it serves the API rather than calling it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource

from ._context import GlobalOption, Settings
from ._options import FiniteFloatRange

__all__ = ["FloimgCommand", "FloimgGroup", "StandaloneCommand", "global_params"]


def _setter(apply: Callable[[Settings, Any], None]) -> Callable[..., Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        assert param.name is not None
        if ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE:
            apply(ctx.ensure_object(Settings), value)
        return value

    return callback


def _set_base_url(settings: Settings, value: str) -> None:
    settings.base_url = value or None
    settings.base_url_given = True


def _set_json(settings: Settings, value: bool) -> None:
    settings.json = settings.json or value


def _set_verbose(settings: Settings, value: bool) -> None:
    settings.verbose = settings.verbose or value


def global_params(*, root: bool) -> list[click.Parameter]:
    """The global options: with environment fallbacks and defaults on the root command,
    and as plain overrides (set only when given) on every other command."""

    def option(*decls: str, apply: Callable[[Settings, Any], None], **kw: Any) -> GlobalOption:
        if root:
            kw.setdefault("expose_value", True)
        else:
            kw.pop("envvar", None)
            kw.pop("show_default", None)
            if not kw.get("is_flag"):
                kw["default"] = None
            kw["expose_value"] = False
            kw["callback"] = _setter(apply)
        return GlobalOption(list(decls), **kw)

    return [
        option(
            "--api-key",
            apply=lambda s, v: setattr(s, "api_key", v or None),
            envvar="FLOIMG_API_KEY",
            metavar="KEY",
            help="API key [env: FLOIMG_API_KEY; prefer it: command lines are visible to others].",
        ),
        option(
            "--base-url",
            apply=_set_base_url,
            envvar="FLOIMG_BASE_URL",
            metavar="URL",
            help="API base URL [env: FLOIMG_BASE_URL; default: https://api.floimg.com/v1].",
        ),
        option(
            "--timeout",
            apply=lambda s, v: setattr(s, "timeout", v),
            type=FiniteFloatRange(min=0, min_open=True),
            default=60.0,
            metavar="SECONDS",
            help="Seconds for one HTTP attempt [default: 60].",
        ),
        option(
            "--max-retries",
            apply=lambda s, v: setattr(s, "max_retries", v),
            type=click.IntRange(min=0),
            default=3,
            metavar="N",
            help="Retries of connection errors, timeouts, 429 and 5xx [default: 3].",
        ),
        option(
            "--json",
            "json_output",
            apply=_set_json,
            is_flag=True,
            default=False,
            help="Print JSON, one object per line, instead of text.",
        ),
        option(
            "-v",
            "--verbose",
            apply=_set_verbose,
            is_flag=True,
            default=False,
            help="Log requests and retries to stderr (key redacted).",
        ),
    ]


def _add_globals(command: click.Command) -> None:
    """Give ``command`` every global option it does not already spell itself."""
    taken = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    for param in global_params(root=False):
        if not taken.intersection(param.opts):
            command.params.append(param)


def _format_options(
    command: click.Command, ctx: click.Context, formatter: click.HelpFormatter
) -> None:
    own: list[tuple[str, str]] = []
    common: list[tuple[str, str]] = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is not None and not isinstance(param, click.Argument):
            (common if isinstance(param, GlobalOption) else own).append(record)
    if own:
        with formatter.section("Options"):
            formatter.write_dl(own)
    if common:
        with formatter.section("Global options (before or after the command)"):
            formatter.write_dl(common)


class FloimgCommand(click.Command):
    """A subcommand that takes the global options and lists them in its help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _add_globals(self)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the command's own options, then the global ones."""
        _format_options(self, ctx, formatter)


class StandaloneCommand(click.Command):
    """A command the global options mean nothing to (``floimg emulator``): none are added."""


class FloimgGroup(click.Group):
    """A group whose subcommands (added by decorator or ``add_command``) take the globals."""

    command_class = FloimgCommand
    group_class = type  # subgroups are FloimgGroup too

    def __init__(self, *args: Any, root: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not root:
            _add_globals(self)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Register ``cmd``, giving it the global options (and the help that lists them)
        if it was built elsewhere as a plain click command."""
        if not isinstance(cmd, FloimgCommand | FloimgGroup | StandaloneCommand):
            _add_globals(cmd)
            if type(cmd) is click.Command:
                cmd.__class__ = FloimgCommand  # only its help layout changes
        super().add_command(cmd, name)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the group's own options, the global ones, then its commands."""
        _format_options(self, ctx, formatter)
        self.format_commands(ctx, formatter)
