"""Writes that span models: recording or deleting an actual together with its audit history.

Every write of an actual goes through ``actual_record`` or ``actual_delete``: the seed loader, the admin and the
entry screens alike.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from plans.models import ActualRevision, KpiActual, KpiTarget

CONFLICT_MESSAGE = (
    "この実績は他の利用者が先に更新しました（版 {current}）。保存されている値は「{stored}」、入力された値は「{typed}」"
    "です。入力された値は保存していません。最新の値を確認してから入力し直してください。"
)
DELETED_CONFLICT_MESSAGE = (
    "この実績は他の利用者が先に削除しました。入力された値「{typed}」は保存していません。"
    "最新の状態を確認してから入力し直してください。"
)

ALREADY_DELETED_MESSAGE = "この実績は他の利用者が先に削除しました。最新の状態を確認してください。"


class ActualConflict(Exception):
    """Someone else saved (or deleted) the same actual since the form was opened: nothing is overwritten.

    ``current`` is the row as it is now in the database (None when it was deleted); ``typed`` the value the user
    tried to save, as displayed.
    """

    def __init__(self, current: KpiActual | None, typed: str = "") -> None:
        self.current = current
        self.typed = typed
        if current is None:
            message = DELETED_CONFLICT_MESSAGE.format(typed=typed) if typed else ALREADY_DELETED_MESSAGE
        else:
            stored = current.display_value
            message = CONFLICT_MESSAGE.format(current=current.version, stored=stored, typed=typed)
        super().__init__(message)


def display_value(value: Decimal | None, text: str) -> str:
    """An actual's figure as stored in revisions and shown in conflict messages: ``26.3``, ``実施``."""
    return KpiActual(value=value, text_value=text).display_value


def _locked(target: KpiTarget, period: str, month: datetime.date | None) -> KpiActual | None:
    # On PostgreSQL this locks the row; on SQLite the whole write transaction is serialized by
    # ``transaction_mode = IMMEDIATE`` (settings), so the read below is already the latest committed state.
    return KpiActual.objects.select_for_update().filter(target=target, period=period, month=month).first()


def _validate_new(actual: KpiActual) -> None:
    """Field, model and check-constraint validation of a new actual. Uniqueness is left to the read before it and
    to the database (a concurrent insert is reported as a conflict, not as a validation error)."""
    actual.full_clean(validate_unique=False, validate_constraints=False)
    actual.validate_constraints(exclude={"target"})


def _insert(actual: KpiActual) -> bool:
    """Insert ``actual`` in a savepoint; False when a concurrent insert of the same cell won."""
    try:
        with transaction.atomic():
            actual.save(force_insert=True)
    except IntegrityError:
        return False
    return True


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

    ``expected_version`` is the version the user's form was showing: ``0`` for a form opened on an empty cell,
    ``None`` for no check at all (the seed loader's upsert). When the row in the database is at another version
    (or exists when 0 was expected, or was deleted), ``ActualConflict`` is raised and nothing changes.
    """
    fields: dict[str, Any] = {
        "value": value,
        "text_value": text_value,
        "numerator": numerator,
        "denominator": denominator,
        "is_cumulative": is_cumulative,
        "note": note,
    }
    typed = display_value(value, text_value)
    existing = _locked(target, period, month)
    if existing is None:
        if expected_version not in (None, 0):
            raise ActualConflict(None, typed)
        actual = KpiActual(target=target, period=period, month=month, source=source, entered_by=user, **fields)
        _validate_new(actual)
        if _insert(actual):
            _revise(actual, ActualRevision.Action.CREATE, "", user, reason)
            return actual, "created"
        existing = _locked(target, period, month)
        if existing is None:  # the insert failed for another reason than a concurrent insert
            raise IntegrityError(f"could not insert the actual for {target.pk} {period} {month}")
        if expected_version is not None:
            raise ActualConflict(existing, typed)
    elif expected_version is not None and existing.version != expected_version:
        raise ActualConflict(existing, typed)
    return _update(existing, fields, typed, source, user, reason)


def _update(
    existing: KpiActual,
    fields: dict[str, Any],
    typed: str,
    source: str,
    user: AbstractBaseUser | None,
    reason: str,
) -> tuple[KpiActual, str]:
    changed = [name for name, new in fields.items() if getattr(existing, name) != new]
    if not changed:
        return existing, "unchanged"
    old_display = existing.display_value
    read_version = existing.version
    for name in changed:
        setattr(existing, name, fields[name])
    existing.version = read_version + 1
    existing.source = source
    existing.entered_by = user
    existing.entered_at = timezone.now()
    existing.full_clean()
    # Conditional on the version read: a save that slipped in between changes nothing here and is a conflict.
    written = KpiActual.objects.filter(pk=existing.pk, version=read_version).update(
        **{name: fields[name] for name in changed},
        version=existing.version,
        source=source,
        entered_by=user,
        entered_at=existing.entered_at,
    )
    if written != 1:
        raise ActualConflict(KpiActual.objects.filter(pk=existing.pk).first(), typed)
    _revise(existing, ActualRevision.Action.UPDATE, old_display, user, reason)
    return existing, "updated"


def _revise(
    actual: KpiActual, action: str, old_value: str, user: AbstractBaseUser | None, reason: str, version: int = 0
) -> None:
    deleted = action == ActualRevision.Action.DELETE
    ActualRevision.objects.create(
        actual=None if deleted else actual,
        target_id=actual.target_id,
        period=actual.period,
        month=actual.month,
        action=action,
        old_value=old_value,
        new_value="" if deleted else actual.display_value,
        version=version or actual.version,
        changed_by=user,
        reason=reason,
    )


@transaction.atomic
def actual_delete(
    *, actual: KpiActual, user: AbstractBaseUser | None, reason: str, expected_version: int | None = None
) -> bool:
    """Delete one actual, keeping its last value in a ``delete`` revision (version = the deleted version + 1).

    Returns False when the row was already gone (nothing to do). With ``expected_version``, a row saved or deleted
    by someone else in between raises ``ActualConflict`` and nothing is deleted.
    """
    current = KpiActual.objects.select_for_update().filter(pk=actual.pk).first()
    if current is None:
        if expected_version is not None:
            raise ActualConflict(None)
        return False
    if expected_version is not None and current.version != expected_version:
        raise ActualConflict(current)
    old_display = current.display_value
    _revise(current, ActualRevision.Action.DELETE, old_display, user, reason, version=current.version + 1)
    current.delete()
    return True
