"""What every command shares: the global settings, the client, the event loop, Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import attrs
import click

from .. import FloImg
from ._output import keep_secret, safe_lines

__all__ = [
    "ConfigError",
    "GlobalOption",
    "Interrupted",
    "Settings",
    "json_option",
    "pass_settings",
    "run_async",
    "setup_logging",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class Interrupted(Exception):
    """The command was stopped by Ctrl-C (SIGINT) or SIGTERM after cleaning up."""


class ConfigError(click.UsageError):
    """A setting is missing or wrong (exit status 2, like any usage error)."""


@attrs.define
class Settings:
    """The global options, after environment fallbacks."""

    api_key: str | None = None
    base_url: str | None = None
    base_url_given: bool = False
    timeout: float = 60.0
    max_retries: int = 3
    json: bool = False
    verbose: bool = False
    logging_on: bool = False
    # Run after the command's error line is printed (e.g. how to resume an execution).
    after_error: list[Callable[[], None]] = attrs.Factory(list)

    def client(self) -> FloImg:
        """A client built from the options (raises :class:`ConfigError` without an API key).

        With ``-v`` (given anywhere on the line) the first client also turns on
        request logging, with the final API key redacted. From then on the key is
        blanked out of everything the command prints, wherever a server put it.
        """
        if not self.api_key:
            raise ConfigError(
                "no API key: pass --api-key or set FLOIMG_API_KEY "
                "(for a local emulator: floimg emulator prints one)"
            )
        keep_secret(self.api_key)
        if self.verbose and not self.logging_on:
            self.logging_on = True
            setup_logging(True, self.api_key)
        return FloImg(
            self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )


pass_settings = click.make_pass_decorator(Settings, ensure=True)


class GlobalOption(click.Option):
    """An option of the whole ``floimg`` tool, shown under "Global options" in every help."""


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(Settings).json = True


def json_option(func: F) -> F:
    """``--json`` on a subcommand too (``floimg workflows list --json``), same as the global."""
    return click.option(
        "--json",
        "json_output",
        cls=GlobalOption,
        is_flag=True,
        expose_value=False,
        callback=_set_json,
        help="Print JSON (one object per line) instead of text.",
    )(func)


class _Redact(logging.Filter):
    """Blank out a secret wherever it might appear in a log line (defence in depth)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._secret in message:
            record.msg = message.replace(self._secret, "[redacted]")
            record.args = None
        return True


class _InertFormatter(logging.Formatter):
    """Log lines can quote the server (request ids, error messages): shown, never obeyed."""

    def format(self, record: logging.LogRecord) -> str:
        return safe_lines(super().format(record))


def setup_logging(verbose: bool, secret: str | None) -> None:
    """With ``-v``, log every request and retry of the ``floimg_async`` logger to stderr."""
    if not verbose:
        return
    logger = logging.getLogger("floimg_async")
    handler = logging.StreamHandler(sys.stderr)
    # The CLI's one timestamp format: ISO 8601 UTC to the second, as in tables.
    formatter = _InertFormatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%Y-%m-%dT%H:%M:%SZ"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    if secret:
        handler.addFilter(_Redact(secret))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(lambda: logger.removeHandler(handler))


@contextlib.contextmanager
def _stop_signals(on_signal: Callable[[], None]) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, on_signal)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # not the main thread, or Windows: KeyboardInterrupt still works
        installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a command's coroutine on a fresh event loop; Ctrl-C cancels it cleanly.

    The first SIGINT/SIGTERM cancels the coroutine, which unwinds (cancelling
    requests in flight, closing files) and then :class:`Interrupted` is raised.
    A second one exits at once with status 130.
    """
    interrupted = False

    async def main() -> T:
        nonlocal interrupted
        task = asyncio.current_task()
        assert task is not None

        def on_signal() -> None:
            nonlocal interrupted
            if interrupted:
                sys.stderr.write("error: interrupted: stopping now\n")
                sys.stderr.flush()
                os._exit(130)
            interrupted = True
            task.cancel()

        with _stop_signals(on_signal):
            try:
                return await factory()
            except asyncio.CancelledError:
                if not interrupted:
                    raise
                uncancel = getattr(task, "uncancel", None)  # Python >= 3.11
                if uncancel is not None:
                    uncancel()
                raise Interrupted() from None

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        raise Interrupted() from None
