"""Writes that span models: recording or deleting an actual together with its audit history.

Every write of an actual goes through ``actual_record`` or ``actual_delete``: the seed loader, the admin, the
entry screens and the history page's restore alike. Each write leaves one row in ``KpiActual.history``
(django-simple-history) carrying who (``history_user``), the change type (+ ~ -) and the reason
(``history_change_reason``); old and new values come from comparing consecutive history rows.

A monthly or interim actual belongs to its month's report (``MonthReport``): while the month is approved, or
reopened past its end date, ``MonthLocked`` is raised and nothing is written; a write in a reopened month flags
the report for re-approval (``plans.workflow.figures_changed``).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from plans import fiscal, versions, workflow
from plans.models import KpiActual, KpiTarget, MonthReport

CONFLICT_MESSAGE = (
    "この実績は他の利用者が先に更新しました（版 {current}）。保存されている値は「{stored}」、入力された値は「{typed}」"
    "です。入力された値は保存していません。最新の値を確認してから入力し直してください。"
)
DELETED_CONFLICT_MESSAGE = (
    "この実績は他の利用者が先に削除しました。入力された値「{typed}」は保存していません。"
    "最新の状態を確認してから入力し直してください。"
)

ALREADY_DELETED_MESSAGE = "この実績は他の利用者が先に削除しました。最新の状態を確認してください。"

MONTH_LOCKED_MESSAGE = "{month}は承認済みのため変更できません。変更が必要な場合は本部に再開を依頼してください。"


class MonthLocked(Exception):
    """The actual's month is approved (or reopened past its end date): nothing was written."""

    def __init__(self, report: MonthReport) -> None:
        self.report = report
        super().__init__(MONTH_LOCKED_MESSAGE.format(month=fiscal.month_label(report.month)))


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
    """An actual's figure as shown in the history and in conflict messages: ``26.3``, ``実施``."""
    return KpiActual(value=value, text_value=text).display_value


def _locked(target: KpiTarget, period: str, month: datetime.date | None) -> KpiActual | None:
    # On PostgreSQL this locks the row; on SQLite the whole write transaction is serialized by
    # ``transaction_mode = IMMEDIATE`` (settings), so the read below is already the latest committed state.
    return KpiActual.objects.select_for_update().filter(target=target, period=period, month=month).first()


def _month_report(plan_id: int, period: str, month: datetime.date | None) -> MonthReport | None:
    """The report of the actual's month; None for a year-end actual or a month nobody opened yet.

    Locked for the rest of the write (PostgreSQL), so an approval cannot slip in between the check and the write:
    ``month_transition`` locks the same row.
    """
    if period == KpiActual.Period.YEAR_END or month is None:
        return None
    return MonthReport.objects.select_for_update().filter(plan_id=plan_id, month=month).first()


def _check_unlocked(report: MonthReport | None, today: datetime.date) -> None:
    if report is not None and report.is_locked(today):
        raise MonthLocked(report)


def _after_write(report: MonthReport | None, user: AbstractBaseUser | None) -> None:
    if report is not None and report.status == MonthReport.Status.REOPENED:
        workflow.figures_changed(report, user=user)


def _stamp(actual: KpiActual, user: AbstractBaseUser | None, reason: str) -> None:
    """Who and why, for the history row simple-history writes for this instance."""
    actual._history_user = user  # type: ignore[attr-defined]
    actual._change_reason = reason  # type: ignore[attr-defined]


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
    today: datetime.date | None = None,
) -> tuple[KpiActual, str]:
    """Create or update one actual and write its history row. Returns the actual and
    ``"created" | "updated" | "unchanged"``.

    ``expected_version`` is the version the user's form was showing: ``0`` for a form opened on an empty cell,
    ``None`` for no check at all (the seed loader's upsert). When the row in the database is at another version
    (or exists when 0 was expected, or was deleted), ``ActualConflict`` is raised and nothing changes.
    A change in a locked month raises ``MonthLocked`` and nothing changes (an unchanged save is not refused:
    it writes nothing). ``today`` decides whether a reopened month's end date has passed (default: today).
    """
    today = today or timezone.localdate()
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
        report = _month_report(target.plan_id, period, month)
        _check_unlocked(report, today)
        _stamp(actual, user, reason)
        if _insert(actual):
            _after_write(report, user)
            return actual, "created"
        existing = _locked(target, period, month)
        if existing is None:  # the insert failed for another reason than a concurrent insert
            raise IntegrityError(f"could not insert the actual for {target.pk} {period} {month}")
        if expected_version is not None:
            raise ActualConflict(existing, typed)
    elif expected_version is not None and existing.version != expected_version:
        raise ActualConflict(existing, typed)
    existing.target = target  # the same row: spares the validation and the lock check a query
    return _update(existing, fields, typed, source, user, reason, today)


def _update(
    existing: KpiActual,
    fields: dict[str, Any],
    typed: str,
    source: str,
    user: AbstractBaseUser | None,
    reason: str,
    today: datetime.date,
) -> tuple[KpiActual, str]:
    changed = [name for name, new in fields.items() if getattr(existing, name) != new]
    if not changed:
        return existing, "unchanged"
    report = _month_report(existing.target.plan_id, existing.period, existing.month)
    _check_unlocked(report, today)
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
    # The conditional UPDATE above sends no post_save: write its history row (type ~) through simple-history.
    _stamp(existing, user, reason)
    KpiActual.history.bulk_history_create([existing], update=True)  # type: ignore[attr-defined]
    versions.bump_plan(existing.target.plan_id)  # the UPDATE sent no post_save either (plans.signals)
    _after_write(report, user)
    return existing, "updated"


@transaction.atomic
def actual_delete(
    *,
    actual: KpiActual,
    user: AbstractBaseUser | None,
    reason: str,
    expected_version: int | None = None,
    today: datetime.date | None = None,
) -> bool:
    """Delete one actual, keeping its last value in a ``-`` history row (version = the deleted version + 1).

    Returns False when the row was already gone (nothing to do). With ``expected_version``, a row saved or deleted
    by someone else in between raises ``ActualConflict`` and nothing is deleted. In a locked month
    ``MonthLocked`` is raised and nothing is deleted.
    """
    current = KpiActual.objects.select_for_update().filter(pk=actual.pk).first()
    if current is None:
        if expected_version is not None:
            raise ActualConflict(None)
        return False
    if expected_version is not None and current.version != expected_version:
        raise ActualConflict(current)
    report = _month_report(current.target.plan_id, current.period, current.month)
    _check_unlocked(report, today or timezone.localdate())
    # The deletion is itself a version: the history row simple-history writes on delete carries version + 1.
    current.version += 1
    _stamp(current, user, reason)
    current.delete()
    _after_write(report, user)
    return True


RESTORE_REASON_REQUIRED = "元に戻す理由を入力してください。"
RESTORE_NO_SUCH_ROW = "戻す値が見つかりません。履歴画面を読み込み直してください。"
RESTORE_REASON_PREFIX = "復元: "


class RestoreError(Exception):
    """The restore request itself is incomplete or names no value of this target: nothing was written."""


def actual_restore(
    *,
    target: KpiTarget,
    history_id: int,
    user: AbstractBaseUser | None,
    expected_version: int,
    reason: str,
    today: datetime.date | None = None,
) -> tuple[KpiActual, str]:
    """Write an earlier value of one of ``target``'s actuals again, from its history row ``history_id``.

    Goes through ``actual_record`` (reason 「復元: …」), so the restore is itself a history row, checked against
    ``expected_version`` (the cell's current version, 0 when the actual was deleted) and against the month lock.
    Raises ``RestoreError``, ``ActualConflict`` or ``MonthLocked``; then nothing is written.
    """
    reason = reason.strip()
    if not reason:
        raise RestoreError(RESTORE_REASON_REQUIRED)
    row = (
        KpiActual.history.filter(target_id=target.pk, history_id=history_id)  # type: ignore[attr-defined]
        .exclude(history_type="-")
        .first()
    )
    if row is None:
        raise RestoreError(RESTORE_NO_SUCH_ROW)
    return actual_record(
        target=target,
        period=row.period,
        month=row.month,
        value=row.value,
        text_value=row.text_value,
        numerator=row.numerator,
        denominator=row.denominator,
        is_cumulative=row.is_cumulative,
        note=row.note,
        source=KpiActual.Source.MANUAL,
        user=user,
        expected_version=expected_version,
        reason=RESTORE_REASON_PREFIX + reason,
        today=today,
    )
