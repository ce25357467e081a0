from __future__ import annotations

from typing import Any

from django import template

from plans.formatting import format_figure, format_month
from plans.models import reiwa_label
from plans.results import KpiResult

register = template.Library()


@register.simple_tag
def fig(value: Any, result: KpiResult) -> str:
    """A figure of ``result``'s KPI with its unit and published decimals: 1,529事業所, 72.2%."""
    return format_figure(value, result.kpi.unit, result.target.precision)


@register.filter
def month_ja(value: Any) -> str:
    return format_month(value)


@register.filter
def reiwa(year: int) -> str:
    return reiwa_label(year)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """dict lookup in templates: {{ counts|get_item:"◎" }}."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
