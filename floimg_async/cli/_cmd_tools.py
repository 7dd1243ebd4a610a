"""``floimg emulator`` and ``floimg demo``: run the bundled emulator and the demo."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import runpy
import sys

import click

__all__ = ["demo", "emulator"]

_PASS_THROUGH = {
    "ignore_unknown_options": True,
    "allow_extra_args": True,
    "allow_interspersed_args": False,
    "help_option_names": [],
}


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ImportError:  # the parent package itself cannot be imported
        return True


@click.command(context_settings=_PASS_THROUGH, short_help="Start the local FloImg API emulator.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def emulator(args: tuple[str, ...]) -> None:
    """Start the local FloImg API emulator (all ARGS go to it; try: floimg emulator --help).

    It prints FLOIMG_BASE_URL=… and FLOIMG_API_KEY=… first, and runs until Ctrl-C.
    """
    try:
        entry = importlib.import_module("floimg_async.emulator.__main__")
    except ImportError as exc:
        raise click.ClickException(
            f"the emulator cannot start: {exc} (install it with: pip install "
            "'floimg-async[emulator]')"
        ) from None
    status = entry.main(list(args))
    sys.exit(status if isinstance(status, int) else 0)


@click.command(context_settings=_PASS_THROUGH, short_help="Run the end-to-end demo.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def demo(args: tuple[str, ...]) -> None:
    """Run the end-to-end demo against a local emulator (ARGS go to it, e.g. --out DIR)."""
    name = "floimg_async.demo"
    if _missing(name):
        raise click.ClickException(
            f"the demo is not available: the module {name} is not installed with this "
            "version of floimg-async"
        )
    module = importlib.import_module(name)
    entry = getattr(module, "main", None)
    if callable(entry) and not inspect.iscoroutinefunction(entry):
        # Its command-line entry point, main(argv) -> exit status.
        status = entry(list(args))
        sys.exit(status if isinstance(status, int) else 0)
    saved = sys.argv
    sys.argv = ["floimg demo", *args]
    try:
        runpy.run_module(name, run_name="__main__", alter_sys=True)
    finally:
        sys.argv = saved
