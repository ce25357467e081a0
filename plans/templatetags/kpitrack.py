"""Template helpers: figures with unit and precision, months, fiscal years, marks."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django import template

from plans import fiscal, rules
from plans.formatting import format_figure

if TYPE_CHECKING:
    from plans.results import KpiResult

register = template.Library()


@register.simple_tag
def fig(value: Any, result: KpiResult) -> str:
    """A figure of ``result``'s KPI with its unit and published decimals: 1,529事業所, 72.2%."""
    return format_figure(value, result.kpi.unit, result.target.precision)


@register.filter
def month_ja(value: datetime.date | None) -> str:
    """2024年9月."""
    return fiscal.month_label(value)


@register.filter
def reiwa(year: int) -> str:
    """令和6年度."""
    return fiscal.reiwa_label(year)


@register.filter
def fiscal_year(year: int) -> str:
    """令和6年度 (FY2024)."""
    return fiscal.year_display(year)


@register.filter
def mark_css(mark: rules.Mark | None) -> str:
    """mark-above / mark-planned / mark-below / mark-none."""
    return rules.mark_css(mark)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """dict lookup in templates: {{ method_labels|get_item:result.projection.method }}."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
