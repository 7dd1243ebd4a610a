"""``floimg-emulator`` / ``python -m floimg_emulator``: run the emulator until SIGINT or SIGTERM.

The first lines on stdout are ``FLOIMG_BASE_URL=…``, ``FLOIMG_API_KEY=…`` and
``FLOIMG_EMULATOR_ORIGIN=…`` (flushed), so scripts can read them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import TextIO

from ._config import DEFAULT_MAX_UPLOAD_BYTES, FAULT_KINDS, SCOPES, KeySpec
from ._emulator import Emulator


def _key(text: str) -> tuple[str, KeySpec]:
    """Parse ``KEY=ACCOUNT:SCOPE[,SCOPE…]`` (``--key``)."""
    key, sep, rest = text.partition("=")
    account, sep2, scopes = rest.partition(":")
    if not (key and sep and account and sep2 and scopes):
        raise argparse.ArgumentTypeError("expected KEY=ACCOUNT:SCOPE[,SCOPE...]")
    try:
        return key, KeySpec(account=account, scopes=tuple(scopes.split(",")))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in kinds if k not in FAULT_KINDS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown fault kind(s) {bad}; known: {FAULT_KINDS}")
    return kinds


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    p = argparse.ArgumentParser(
        prog="floimg-emulator",
        description="Run a local, stateful emulator of the FloImg HTTP API.",
    )
    add = p.add_argument
    add("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    add("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    add("--allow-remote", action="store_true", help="allow a non-loopback --host")
    add("--data-dir", help="keep state in DIR across restarts (default: a temp dir)")
    add("--api-key", help="the default account's key (default: generated, kept in --data-dir)")
    add(
        "--key",
        action="append",
        type=_key,
        default=[],
        metavar="KEY=ACCOUNT:SCOPES",
        help=f"another API key, e.g. fsk_test_ro=acct_b:workflows:read (scopes: {SCOPES})",
    )
    add("--latency", type=float, default=0.0, help="seconds added before every API response")
    add("--execution-time", type=float, default=0.1, help="least seconds an execution takes")
    add("--rate-limit", type=int, help="requests per minute per key (default: unlimited)")
    add("--burst", type=int, help="token-bucket size (default: rate limit / 6)")
    add("--fault-rate", type=float, default=0.0, help="share of API requests that fail (0-1)")
    add(
        "--fault-kinds",
        type=_kinds,
        default=("500", "502", "503", "reset"),
        help=f"comma-separated kinds among {','.join(FAULT_KINDS)}",
    )
    add("--seed", type=int, help="seed of the fault generator (same seed, same faults)")
    add("--max-upload-bytes", type=int, default=DEFAULT_MAX_UPLOAD_BYTES)
    add("--extra-workflows", type=int, default=0, help="seed N more workflows wf_gen_0001...")
    return p


def announce(stream: TextIO | None, *lines: str) -> None:
    """Print ``lines`` to ``stream`` and flush; if its reader has gone, keep quiet and serve on.

    A script may read the first line (``… | head -1``) and close the pipe: that ends
    the reading, not the emulator, which has started and keeps serving. The stream
    is pointed at /dev/null so nothing later (Python's final flush) complains.
    """
    if stream is None:  # started with the stream closed
        return
    try:
        for line in lines:
            print(line, file=stream, flush=True)
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)


async def serve(emulator: Emulator) -> None:
    """Start ``emulator``, print where it is, and stop it on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await emulator.start()
        try:
            announce(
                sys.stdout,
                f"FLOIMG_BASE_URL={emulator.base_url}",
                f"FLOIMG_API_KEY={emulator.api_key}",
                f"FLOIMG_EMULATOR_ORIGIN={emulator.origin}",
            )
            announce(
                sys.stderr,
                f"FloImg emulator on {emulator.base_url} (data in {emulator.data_dir}); "
                "Ctrl+C to stop",
            )
            await stop.wait()
        finally:
            await emulator.stop()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator from the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        emulator = Emulator(
            host=args.host,
            port=args.port,
            allow_remote=args.allow_remote,
            data_dir=args.data_dir,
            api_key=args.api_key,
            keys=dict(args.key),
            latency=args.latency,
            execution_time=args.execution_time,
            rate_limit=args.rate_limit,
            burst=args.burst,
            fault_rate=args.fault_rate,
            fault_kinds=args.fault_kinds,
            seed=args.seed,
            max_upload_bytes=args.max_upload_bytes,
            extra_workflows=args.extra_workflows,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(emulator))
    except OSError as exc:
        print(f"error: cannot start the emulator: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
