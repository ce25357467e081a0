"""A KPI's history in one plan: every change to its target and its actuals, read from django-simple-history.

Old and new values come from comparing consecutive history rows (``diff_against``). Actuals are followed cell by
cell (period and month), so an actual deleted and entered again reads as one line of values.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from plans import fiscal
from plans.formatting import EMPTY
from plans.models import KpiActual, KpiTarget

CHANGE_LABELS = {"+": gettext_noop("登録"), "~": gettext_noop("変更"), "-": gettext_noop("削除")}
SYSTEM_USER = gettext_noop("システム")
TARGET_WHAT = gettext_noop("目標")
ACTUAL_WHAT = gettext_noop("実績 {when}")
YEAR_END_WHAT = gettext_noop("実績 年度末")

#: What an actual holds: two rows with the same of these hold the same figure.
ACTUAL_VALUE_FIELDS = ("value", "text_value", "numerator", "denominator", "is_cumulative", "note")
#: Fields of an actual shown besides its value when they change (the value itself is the old → new pair).
ACTUAL_DETAIL_FIELDS = ("numerator", "denominator", "is_cumulative", "note")
#: Fields of a target a user edits; rule, target_value and stated_baseline follow from target_text.
TARGET_FIELDS = ("target_text", "name_as_written", "measure", "precision_override", "note", "published_mark", "order")


@dataclass(frozen=True)
class Change:
    """One line of the history page."""

    when: datetime.datetime
    who: str
    what: str
    change: str  # + ~ -
    change_label: str
    old: str
    new: str
    details: tuple[str, ...]
    reason: str
    source: str
    history_id: int
    is_actual: bool
    period: str = ""
    month: datetime.date | None = None
    values: tuple[Any, ...] = ()  # an actual's stored fields after this change (ACTUAL_VALUE_FIELDS)


def _who(row: Any) -> str:
    user = row.history_user
    return user.get_username() if user is not None else _(SYSTEM_USER)


def _actual_value(row: Any) -> str:
    return KpiActual(value=row.value, text_value=row.text_value).display_value


def _plain(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("はい") if value else _("いいえ")
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def _field_changes(row: Any, previous: Any, fields: tuple[str, ...]) -> list[str]:
    """``label: old → new`` for each of ``fields`` that differs between two consecutive history rows."""
    delta = row.diff_against(previous, included_fields=list(fields))
    lines = []
    for change in delta.changes:
        label = str(row._meta.get_field(change.field).verbose_name)
        lines.append(f"{label}: {_plain(change.old)} → {_plain(change.new)}")
    return lines


def actual_values(row: Any) -> tuple[Any, ...]:
    """What an actual (or one of its history rows) holds, to compare with another."""
    return tuple(getattr(row, name) for name in ACTUAL_VALUE_FIELDS)


def _what(period: str, month: datetime.date | None) -> str:
    if period == KpiActual.Period.YEAR_END or month is None:
        return _(YEAR_END_WHAT)
    when = fiscal.month_label(month)
    if period == KpiActual.Period.INTERIM:
        when = _("{month}（中途）").format(month=when)
    return _(ACTUAL_WHAT).format(when=when)


def actual_changes(target: KpiTarget) -> list[Change]:
    """Every change to the target's actuals, oldest first (one query)."""
    rows = (
        KpiActual.history.filter(target_id=target.pk)  # type: ignore[attr-defined]
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    previous_in_cell: dict[tuple[str, datetime.date | None], Any] = {}
    changes = []
    for row in rows:
        cell = (row.period, row.month)
        previous = previous_in_cell.get(cell)
        alive_before = previous is not None and previous.history_type != "-"
        old = _actual_value(previous) if alive_before else ""
        new = "" if row.history_type == "-" else _actual_value(row)
        changed = alive_before and row.history_type == "~"
        details = _field_changes(row, previous, ACTUAL_DETAIL_FIELDS) if changed else []
        changes.append(
            Change(
                when=row.history_date,
                who=_who(row),
                what=_what(row.period, row.month),
                change=row.history_type,
                change_label=_(CHANGE_LABELS[row.history_type]),
                old=old,
                new=new,
                details=tuple(details),
                reason=row.history_change_reason or "",
                source=row.get_source_display(),
                history_id=row.history_id,
                is_actual=True,
                period=row.period,
                month=row.month,
                values=actual_values(row),
            )
        )
        previous_in_cell[cell] = row
    return changes


def target_changes(target: KpiTarget) -> list[Change]:
    """Every change to the target itself, oldest first (one query)."""
    rows = (
        KpiTarget.history.filter(id=target.pk)  # type: ignore[attr-defined]
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    changes = []
    previous = None
    for row in rows:
        if previous is None or row.history_type == "-":
            old, details = "", []
        else:
            old = previous.target_text
            details = _field_changes(row, previous, TARGET_FIELDS[1:])
        changes.append(
            Change(
                when=row.history_date,
                who=_who(row),
                what=_(TARGET_WHAT),
                change=row.history_type,
                change_label=_(CHANGE_LABELS[row.history_type]),
                old=old,
                new="" if row.history_type == "-" else row.target_text,
                details=tuple(details),
                reason=row.history_change_reason or "",
                source=EMPTY,
                history_id=row.history_id,
                is_actual=False,
            )
        )
        previous = row
    return changes


def kpi_changes(target: KpiTarget) -> list[Change]:
    """The target's and its actuals' changes together, newest first (two queries)."""
    changes = [*target_changes(target), *actual_changes(target)]
    changes.sort(key=lambda c: (c.when, c.is_actual, c.history_id), reverse=True)
    return changes
