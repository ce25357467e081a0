"""Writes that span models: recording an actual together with its audit history."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from plans.models import ActualRevision, KpiActual, KpiTarget

CONFLICT_MESSAGE = (
    "この実績は他の利用者が先に更新しました（版 {current}）。最新の値を確認してから入力し直してください。"
)


class ActualConflict(Exception):
    """Someone else saved the same actual since the form was opened: nothing is overwritten."""

    def __init__(self, current: KpiActual) -> None:
        self.current = current
        super().__init__(CONFLICT_MESSAGE.format(current=current.version))


def _display(value: Decimal | None, text: str) -> str:
    return text if value is None else f"{value.normalize():f}"


@transaction.atomic
def actual_record(
    *,
    target: KpiTarget,
    period: str,
    month: datetime.date | None,
    value: Decimal | None,
    text_value: str = "",
    numerator: Decimal | None = None,
    denominator: Decimal | None = None,
    is_cumulative: bool = True,
    note: str = "",
    source: str = KpiActual.Source.MANUAL,
    user: AbstractBaseUser | None = None,
    expected_version: int | None = None,
    reason: str = "",
) -> tuple[KpiActual, str]:
    """Create or update one actual and write its revision. Returns the actual and
    ``"created" | "updated" | "unchanged"``.

    ``expected_version`` is the version the user's form was showing; when another save came in between,
    ``ActualConflict`` is raised and nothing changes.
    """
    existing = KpiActual.objects.select_for_update().filter(target=target, period=period, month=month).first()
    fields: dict[str, Any] = {
        "value": value,
        "text_value": text_value,
        "numerator": numerator,
        "denominator": denominator,
        "is_cumulative": is_cumulative,
        "note": note,
    }
    if existing is None:
        actual = KpiActual(target=target, period=period, month=month, source=source, entered_by=user, **fields)
        actual.full_clean()
        actual.save()
        ActualRevision.objects.create(
            actual=actual,
            target=target,
            period=period,
            month=month,
            action=ActualRevision.Action.CREATE,
            new_value=_display(value, text_value),
            version=actual.version,
            changed_by=user,
            reason=reason,
        )
        return actual, "created"

    if expected_version is not None and existing.version != expected_version:
        raise ActualConflict(existing)
    changed = [name for name, new in fields.items() if getattr(existing, name) != new]
    if not changed:
        return existing, "unchanged"
    old_display = _display(existing.value, existing.text_value)
    for name in changed:
        setattr(existing, name, fields[name])
    existing.version += 1
    existing.source = source
    existing.entered_by = user
    existing.full_clean()
    existing.save()
    ActualRevision.objects.create(
        actual=existing,
        target=target,
        period=period,
        month=month,
        action=ActualRevision.Action.UPDATE,
        old_value=old_display,
        new_value=_display(existing.value, existing.text_value),
        version=existing.version,
        changed_by=user,
        reason=reason,
    )
    return existing, "updated"
