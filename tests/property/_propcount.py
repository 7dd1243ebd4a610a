"""Counts the examples the property tests ran (printed at the end of the session)."""

from __future__ import annotations

from collections import Counter

EXAMPLES: Counter[str] = Counter()


def ran(name: str) -> None:
    """Count one example of the property ``name``."""
    EXAMPLES[name] += 1
