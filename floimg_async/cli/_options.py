"""Option groups several commands share, and the listing printer."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from .. import AsyncPager
from ._output import TableWriter, emit_json

__all__ = ["FiniteFloatRange", "listing_options", "params_options", "print_listing"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class FiniteFloatRange(click.FloatRange):
    """A ``click.FloatRange`` that also refuses ``nan``, ``inf`` and ``-inf``.

    ``float()`` reads all three and a range check lets ``nan`` (every comparison is
    false) and ``inf`` (no upper bound) through: a ``--poll-interval inf`` would
    never poll again, a ``--wait-timeout nan`` fail only after the paid work was
    submitted. Every option counted in seconds (or a share) uses this type, so such
    a value is a usage error before anything is sent.
    """

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Read ``value`` as a float in range; fail for anything that is not a finite number."""
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


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
