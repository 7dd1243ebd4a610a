"""Small statistics for benchmark samples: median, spread and SDK/baseline ratios."""

from __future__ import annotations

import operator
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Summary:
    """The median of some samples with their spread (min, max and quartiles)."""

    median: float
    low: float
    high: float
    q1: float
    q3: float
    samples: tuple[float, ...]

    @classmethod
    def of(cls, samples: Sequence[float]) -> Summary:
        """Summarise ``samples`` (at least one)."""
        if not samples:
            raise ValueError("no samples to summarise")
        ordered = sorted(samples)
        if len(ordered) >= 2:
            q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        else:
            q1 = q3 = ordered[0]
        return cls(
            median=statistics.median(ordered),
            low=ordered[0],
            high=ordered[-1],
            q1=q1,
            q3=q3,
            samples=tuple(samples),
        )


def paired_ratios(sdk: Sequence[float], raw: Sequence[float]) -> Summary:
    """Summarise per-round ratios sdk[i] / raw[i] of interleaved rounds.

    Pairing rounds that ran back to back cancels most of the drift of a noisy
    machine (thermal, other processes) that a ratio of two medians would keep.
    """
    return Summary.of([s / r for s, r in zip(sdk, raw, strict=True)])


_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}


@dataclass(frozen=True)
class Target:
    """A pass/fail bound on the ratio (``on="ratio"``), the SDK median (``"value"``)
    or the SDK's worst sample (``"max"``)."""

    op: str
    bound: float
    on: str = "ratio"
    unit: str = ""

    def check(self, value: float | None) -> bool | None:
        """Return whether ``value`` meets the bound, or None when there is no value."""
        if value is None:
            return None
        return _OPS[self.op](value, self.bound)

    def label(self) -> str:
        """Render the target for the table, e.g. ``ratio <= 1.25`` or ``< 5 MB``."""
        bound = f"{self.bound:g}{(' ' + self.unit) if self.unit else ''}"
        prefix = {"ratio": "ratio ", "max": "max "}.get(self.on, "")
        return f"{prefix}{self.op} {bound}"


Figure = Summary | float | int | str | None


@dataclass
class Row:
    """One line of the results table."""

    scenario: str
    metric: str
    sdk: Figure = None
    raw: Figure = None
    unit: str = ""
    target: Target | None = None
    ratio: Summary | float | None = None
    note: str = ""
    error: str = ""
    show_ratio: bool = True

    def __post_init__(self) -> None:
        if self.ratio is None and self.show_ratio:
            self.ratio = ratio_of(self.sdk, self.raw)

    @property
    def passed(self) -> bool | None:
        """Whether the target is met (None without a target or a figure)."""
        if self.error:
            return False
        if self.target is None:
            return None
        if self.target.on == "ratio":
            return self.target.check(central(self.ratio))
        if self.target.on == "max" and isinstance(self.sdk, Summary):
            return self.target.check(self.sdk.high)
        return self.target.check(central(self.sdk))

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict of this row."""
        data = asdict(self)
        data["passed"] = self.passed
        data["target"] = self.target.label() if self.target else None
        return data


def central(value: Figure | Summary) -> float | None:
    """Return the number a figure stands for (a Summary's median)."""
    if isinstance(value, Summary):
        return value.median
    if isinstance(value, int | float):
        return float(value)
    return None


def ratio_of(sdk: Figure, raw: Figure) -> Summary | float | None:
    """Return SDK/raw: paired per-round ratios when both are Summaries of equal length."""
    if (
        isinstance(sdk, Summary)
        and isinstance(raw, Summary)
        and len(sdk.samples) == len(raw.samples)
        and all(raw.samples)
    ):
        return paired_ratios(sdk.samples, raw.samples)
    s, r = central(sdk), central(raw)
    if s is None or not r:
        return None
    return s / r
