"""``floimg emulator`` and ``floimg demo``: the bundled emulator and the demo, as click commands.

Both call public entry points only: ``floimg_async.emulator.Emulator`` (with
``KeySpec`` and ``FAULT_KINDS``) and ``floimg_async.demo.run_demo``. Neither is
imported until its command runs, so the rest of the CLI works without Pillow.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from ._command import FloimgCommand, StandaloneCommand
from ._context import Settings, pass_settings, run_async, setup_logging
from ._options import FiniteFloatRange
from ._output import keep_secret

__all__ = ["EMULATOR_DEFAULTS", "demo", "emulator"]

# The emulator's defaults as this command applies them (shown in --help; an option
# left out is not passed, so the Emulator's own default applies; a test checks
# that these agree with the Emulator's signature).
EMULATOR_DEFAULTS: dict[str, Any] = {
    "latency": 0.0,
    "execution_time": 0.1,
    "fault_rate": 0.0,
    "fault_kinds": ("500", "502", "503", "reset"),
    "max_upload_bytes": 10 * 1024 * 1024,
    "extra_workflows": 0,
}
_DEFAULT_PORT = 8080


def _emulator_module() -> ModuleType:
    try:
        import floimg_async.emulator as module
    except ImportError as exc:
        raise click.ClickException(
            f"the emulator cannot start: {exc} (install it with: pip install "
            "'floimg-async[emulator]')"
        ) from None
    return module


def _keys(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    """``--key KEY=ACCOUNT:SCOPE[,SCOPE...]`` → ``{key: KeySpec}``."""
    keys: dict[str, Any] = {}
    for text in values:
        key, sep, rest = text.partition("=")
        account, sep2, scopes = rest.partition(":")
        if not (key and sep and account and sep2 and scopes):
            raise click.BadParameter(
                f"{text!r} is not KEY=ACCOUNT:SCOPE[,SCOPE...]", param_hint="'--key'"
            )
        try:
            keys[key] = _emulator_module().KeySpec(account=account, scopes=tuple(scopes.split(",")))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--key'") from None
    return keys


def _fault_kinds(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    if value is None:
        return None
    kinds = tuple(k.strip() for k in value.split(",") if k.strip())
    known = tuple(_emulator_module().FAULT_KINDS)
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise click.BadParameter(
            f"unknown fault kind(s) {', '.join(unknown)}; known: {', '.join(known)}",
            param_hint="'--fault-kinds'",
        )
    return kinds


@click.command(cls=StandaloneCommand, short_help="Start the local FloImg API emulator.")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback)."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=_DEFAULT_PORT,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option("--allow-remote", is_flag=True, help="Allow a --host that is not loopback.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep state in this folder across restarts [default: a temporary folder].",
)
@click.option(
    "--api-key",
    "emulator_key",
    metavar="KEY",
    help="The default account's key [default: generated, kept in --data-dir].",
)
@click.option(
    "--key",
    "keys",
    multiple=True,
    metavar="KEY=ACCOUNT:SCOPES",
    callback=_keys,
    help="Another API key with its account and scopes, e.g. fsk_test_ro=acct_b:workflows:read "
    "(repeatable; scopes: workflows:read, workflows:execute, storage:read, storage:write, all).",
)
@click.option(
    "--latency",
    type=FiniteFloatRange(0, 3600),
    metavar="SECONDS",
    help=f"Delay added before every API answer [default: {EMULATOR_DEFAULTS['latency']:g}].",
)
@click.option(
    "--execution-time",
    type=FiniteFloatRange(0, 3600),
    metavar="SECONDS",
    help=f"Least time an execution takes [default: {EMULATOR_DEFAULTS['execution_time']:g}].",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(min=1),
    metavar="N",
    help="Requests per minute per key [default: unlimited].",
)
@click.option(
    "--burst",
    type=click.IntRange(min=1),
    metavar="N",
    help="Token-bucket size of the rate limit [default: rate limit / 6].",
)
@click.option(
    "--fault-rate",
    type=FiniteFloatRange(0, 1),
    metavar="SHARE",
    help=f"Share of API requests that fail, 0 to 1 [default: {EMULATOR_DEFAULTS['fault_rate']:g}].",
)
@click.option(
    "--fault-kinds",
    metavar="KINDS",
    callback=_fault_kinds,
    help="Comma-separated kinds of fault (status codes, reset, slow, ...) "
    f"[default: {','.join(EMULATOR_DEFAULTS['fault_kinds'])}].",
)
@click.option(
    "--seed", type=int, metavar="N", help="Seed of the fault generator (same seed, same faults)."
)
@click.option(
    "--max-upload-bytes",
    type=click.IntRange(min=1),
    metavar="BYTES",
    help="Largest upload accepted; bigger ones get 400 invalid_request "
    f"[default: {EMULATOR_DEFAULTS['max_upload_bytes']} (10 MiB)].",
)
@click.option(
    "--extra-workflows",
    type=click.IntRange(min=0),
    metavar="N",
    help="Seed N more workflows, wf_gen_0001 and on, to try long listings "
    f"[default: {EMULATOR_DEFAULTS['extra_workflows']}].",
)
def emulator(emulator_key: str | None, keys: dict[str, Any], **options: Any) -> None:
    """Start the local FloImg API emulator; it runs until Ctrl-C.

    The first lines on stdout are FLOIMG_BASE_URL=…, FLOIMG_API_KEY=… and
    FLOIMG_EMULATOR_ORIGIN=…, flushed at once, so a script can start it in the
    background and read them (floimg emulator --port 0 > emulator.env &).
    """
    module = _emulator_module()
    given = {name: value for name, value in options.items() if value is not None}
    given["allow_remote"] = bool(given.get("allow_remote"))
    server = module.Emulator(api_key=emulator_key, keys=keys, **given)
    asyncio.run(_serve(server))


@contextlib.contextmanager
def _until_signal(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # not the main thread, or Windows: KeyboardInterrupt still stops it
        installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def _announce(stream: Any, *lines: str) -> None:
    """Print ``lines``; a reader that has gone (``| head -1``) ends the reading, not the
    emulator, which keeps serving (stream then pointed at /dev/null)."""
    try:
        for line in lines:
            click.echo(line, file=stream)
            stream.flush()
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)


async def _serve(server: Any) -> None:
    """Start ``server``, print where it is, and stop it on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    with _until_signal(stop):
        await server.start()
        try:
            _announce(
                sys.stdout,
                f"FLOIMG_BASE_URL={server.base_url}",
                f"FLOIMG_API_KEY={server.api_key}",
                f"FLOIMG_EMULATOR_ORIGIN={server.origin}",
            )
            _announce(
                sys.stderr,
                f"FloImg emulator on {server.base_url} (data in {server.data_dir}); Ctrl+C to stop",
            )
            await stop.wait()
        finally:
            await server.stop()


@click.command(cls=FloimgCommand, short_help="Run the end-to-end demo.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder the demo saves its images into (created if missing).",
)
@click.option(
    "--cards",
    type=click.IntRange(min=1),
    default=24,
    show_default=True,
    help="How many social cards to generate.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Executions in flight at once.",
)
@pass_settings
def demo(settings: Settings, out: Path, cards: int, concurrency: int) -> None:
    """Run the end-to-end demo: a local emulator on a free port, driven by the SDK.

    With --base-url given on the command line it runs against that API instead
    (with the key from --api-key or FLOIMG_API_KEY); FLOIMG_BASE_URL alone does
    not redirect it. -v logs its requests; --timeout, --max-retries and --json do
    not apply to it. Exits 1 if any card failed.
    """
    try:
        from ..demo import run_demo
    except ImportError as exc:
        raise click.ClickException(f"the demo is not available: {exc}") from None
    base_url = settings.base_url if settings.base_url_given else None
    api_key = settings.api_key if base_url else None
    keep_secret(api_key)
    setup_logging(settings.verbose, api_key)

    async def go() -> dict[str, float]:
        return await run_demo(
            out, cards=cards, concurrency=concurrency, base_url=base_url, api_key=api_key
        )

    summary = run_async(go)
    if summary["failures"]:
        raise SystemExit(1)
