"""How figures are shown: thousands separators, the KPI's published decimals and its unit."""

from __future__ import annotations

from decimal import Decimal

from plans import rules

EMPTY = "－"


def format_number(value: Decimal | int | float | None, precision: int = 0) -> str:
    if value is None:
        return EMPTY
    number = rules.round_published(Decimal(str(value)), precision)
    return f"{number:,.{precision}f}"


def format_figure(value: Decimal | str | None, unit: str = "", precision: int = 0) -> str:
    """1,529事業所 / 72.2% / 6,535円 / 実施 / －."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, str):
        return value
    return f"{format_number(value, precision)}{unit}"

