"""Option groups several commands share, and the listing printer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from .. import AsyncPager
from ._output import TableWriter, emit_json

__all__ = ["listing_options", "params_options", "print_listing"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def listing_options(func: F) -> F:
    """``--page-size``, ``--offset`` and ``--max-items`` for a listing command."""
    func = click.option(
        "--max-items",
        type=click.IntRange(min=0),
        default=None,
        help="Stop after this many items (default: all).",
    )(func)
    func = click.option(
        "--offset", type=click.IntRange(min=0), default=0, show_default=True, help="Skip items."
    )(func)
    return click.option(
        "--page-size",
        type=click.IntRange(1, 100),
        default=100,
        show_default=True,
        help="Items per request (the API allows 1-100).",
    )(func)


def params_options(func: F) -> F:
    """``--param key=value`` (repeatable) and ``--params-file FILE.json``."""
    func = click.option(
        "--params-file",
        type=click.Path(dir_okay=False, allow_dash=True),
        help="A JSON object of parameters ('-' reads stdin); --param values override it.",
    )(func)
    return click.option(
        "-p",
        "--param",
        "params",
        multiple=True,
        metavar="KEY=VALUE",
        help=(
            "A workflow parameter (repeatable). Typed by the workflow's parameter schema: "
            "when a VALUE looks like a number, true/false or null, the schema is read first "
            "(one GET /workflows/ID) so a string parameter keeps it as text (prompt=2025 "
            'is sent as "2025") and a number or boolean one gets a number or true/false. '
            "Parameters the schema does not list: numbers become numbers, true/false/null "
            "JSON literals, anything else a string. KEY:=<json> sends raw JSON as it is."
        ),
    )(func)


async def print_listing(
    pager: AsyncPager[T],
    json_mode: bool,
    headers: Sequence[str],
    row: Callable[[T], Sequence[Any]],
) -> int:
    """Print a listing as it arrives: JSON Lines, or an aligned table. Returns the count.

    Pages are fetched only as printing reaches them and items are never all
    held: a 100,000-item listing starts printing at once.
    """
    if json_mode:
        count = 0
        async for item in pager:
            emit_json(item)
            count += 1
        return count
    table = TableWriter(headers)
    try:
        async for item in pager:
            table.add(*row(item))
    except BaseException:
        if table.count:
            table.close()  # show what arrived before the error
        raise
    table.close()
    return table.count
