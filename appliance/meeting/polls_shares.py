"""Percentages of a vote, rounded the way the minutes print them (6.25 → 6.3)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal


def share(count: int, base: int) -> float:
    """count / base × 100, half away from zero to one decimal; exact, never negative."""
    if base <= 0 or count <= 0:
        return 0.0
    # Tenths by integer division so no binary fraction can tip a .x5 the wrong way.
    tenths, rest = divmod(count * 1000, base)
    if 2 * rest >= base:
        tenths += 1
    return float(Decimal(tenths).scaleb(-1))


def shares_of(counts: Mapping[str, int], base: int, *, keys: tuple[str, ...]) -> dict[str, float]:
    """The shares of the named counts, in the order given."""
    return {key: share(counts[key], base) for key in keys}
