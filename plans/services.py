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
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from plans import figures, fiscal, versions, workflow
from plans.models import KpiActual, KpiTarget, MonthReport

ModelT = TypeVar("ModelT", bound=models.Model)

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
    if month is None:
        return _first_for_update(KpiActual, "target_id = %s AND period = %s AND month IS NULL", [target.pk, period])
    where = "target_id = %s AND period = %s AND month = %s"
    return _first_for_update(KpiActual, where, [target.pk, period, connection.ops.adapt_datefield_value(month)])


def _month_report(plan_id: int, period: str, month: datetime.date | None) -> MonthReport | None:
    """The report of the actual's month; None for a year-end actual or a month nobody opened yet.

    Locked for the rest of the write (PostgreSQL), so an approval cannot slip in between the check and the write:
    ``month_transition`` locks the same row.
    """
    if period == KpiActual.Period.YEAR_END or month is None:
        return None
    params = [plan_id, connection.ops.adapt_datefield_value(month)]
    return _first_for_update(MonthReport, "plan_id = %s AND month = %s", params)


def _first_for_update(model: type[ModelT], where: str, params: list[Any]) -> ModelT | None:
    """``model.objects.select_for_update().filter(...).first()`` for a ``where`` that finds at most one row (a unique
    constraint), in SQL (compiling it through the ORM cost more than running it on every write)."""
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("select_for_update cannot be used outside of a transaction.")
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    table = connection.ops.quote_name(model._meta.db_table)
    rows = list(model._default_manager.raw(f"SELECT * FROM {table} WHERE {where}{lock}", params))  # noqa: S608
    return rows[0] if rows else None


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
    errors = _constraint_errors(actual, {"target"})  # ``actual.validate_constraints(exclude={"target"})``
    if errors:
        raise ValidationError(errors)


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


UNCHANGED_BY_UPDATE = ("target", "period", "month", "entered_by")

#: The check constraints of ``KpiActual``, judged in Python: the fields each reads, and whether an actual satisfies
#: it. Django's ``validate_constraints`` runs a query (in a savepoint) for each: three queries of every update, five
#: of every new actual. tests/test_services.py proves each agrees with the database's check on valid and invalid rows.
PYTHON_CHECKS: dict[str, tuple[frozenset[str], Callable[[KpiActual], bool]]] = {
    "actual_month_set_unless_year_end": (
        frozenset({"period", "month"}),
        lambda a: (a.month is None) == (a.period == KpiActual.Period.YEAR_END),
    ),
    "actual_has_a_value": (frozenset({"value", "text_value"}), lambda a: a.value is not None or a.text_value != ""),
    "actual_denominator_positive": (frozenset({"denominator"}), lambda a: a.denominator is None or a.denominator > 0),
    "actual_numerator_not_negative": (frozenset({"numerator"}), lambda a: a.numerator is None or a.numerator >= 0),
    "actual_month_first_day": (frozenset({"month"}), lambda a: a.month is None or a.month.day == 1),
}


def _constraint_errors(actual: KpiActual, exclude: set[str]) -> dict[str, Any]:
    """``actual.validate_constraints(exclude)``'s errors (by field), with the check constraints of ``PYTHON_CHECKS``
    judged without a query; any other constraint validated by Django."""
    errors: dict[str, Any] = {}
    for constraint in actual._meta.constraints:
        check = PYTHON_CHECKS.get(constraint.name)
        try:
            if check is None:
                constraint.validate(KpiActual, actual, exclude=exclude)
            elif not check[0] & exclude and not check[1](actual):
                raise ValidationError(constraint.get_violation_error_message(), code=constraint.violation_error_code)
        except ValidationError as exc:
            if exc.code == "unique" and len(getattr(constraint, "fields", ())) == 1:
                errors.setdefault(constraint.fields[0], []).append(exc)  # type: ignore[attr-defined]
            else:
                errors = exc.update_error_dict(errors)
    return errors


def _full_clean(actual: KpiActual, exclude: Sequence[str]) -> None:
    """``actual.full_clean(exclude=exclude)``, its constraints validated by ``_constraint_errors``: the same errors in
    the same order."""
    errors: dict[str, Any] = {}
    try:
        actual.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    skipped = set(exclude) | {name for name in errors if name != NON_FIELD_ERRORS}  # as full_clean leaves out
    for name, found in _constraint_errors(actual, skipped).items():
        errors.setdefault(name, []).extend(found)
    if errors:
        raise ValidationError(errors)


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
    # An update changes the figures only: the target, period and month (the uniqueness and month constraints) and the
    # user saving (a foreign key to look up) are left out of the validation, each a query (tests/test_entry_speed.py).
    _full_clean(existing, UNCHANGED_BY_UPDATE)
    # Conditional on the version read: a save that slipped in between changes nothing here and is a conflict.
    written = _update_row(existing, [*changed, "version", "source", "entered_by", "entered_at"], read_version)
    if written != 1:
        raise ActualConflict(KpiActual.objects.filter(pk=existing.pk).first(), typed)
    # The conditional UPDATE above sends no post_save: write its history row (type ~) through simple-history.
    _stamp(existing, user, reason)
    KpiActual.history.bulk_history_create([existing], update=True)  # type: ignore[attr-defined]
    # The UPDATE sent no post_save either (plans.signals): the plan's scope and this target's stamp.
    plan = existing.target.plan
    versions.bump(plan.fiscal_year_id, plan.branch_id, target_id=existing.target_id)
    _after_write(report, user)
    return existing, "updated"


def _update_row(actual: KpiActual, names: list[str], read_version: int) -> int:
    """``KpiActual.objects.filter(pk=actual.pk, version=read_version).update(...)`` of the fields ``names`` to their
    values on ``actual``, in SQL (each value prepared by its field, as ``update()`` does); the rows updated."""
    fields = [KpiActual._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    params = [field.get_db_prep_save(getattr(actual, field.attname), connection) for field in fields]
    sql = f"UPDATE {quote(KpiActual._meta.db_table)} SET {assignments} WHERE id = %s AND version = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, actual.pk, read_version])
        return cursor.rowcount


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


# -- many actuals at once (the Excel import) -----------------------------------------------------------------------

IMPORT_REASON = "ファイル取込: {filename}"


@dataclass(frozen=True)
class ActualWrite:
    """One actual as an import wants it: the figures it holds after the import (other fields are kept)."""

    target: KpiTarget
    period: str
    month: datetime.date | None
    value: Decimal | None
    text_value: str = ""
    numerator: Decimal | None = None
    denominator: Decimal | None = None

    @property
    def fields(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "text_value": self.text_value,
            "numerator": self.numerator,
            "denominator": self.denominator,
        }


def _check_write(write: ActualWrite) -> None:
    """What ``KpiActual.clean`` checks, without a query per row: the month and ``figures.check_actual``."""
    errors: dict[str, list[str]] = {}
    if write.value is None and not write.text_value:
        errors["value"] = [figures.NO_FIGURE]
    kpi = write.target.kpi
    for problem in [
        *figures.check_month(write.month, write.target.plan.fiscal_year_id),
        *figures.check_actual(
            kind=kpi.kind,
            unit=kpi.unit,
            value=write.value,
            numerator=write.numerator,
            denominator=write.denominator,
            text_value=write.text_value,
        ),
    ]:
        errors.setdefault(problem.field, []).append(problem.message)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def actuals_import(
    writes: Sequence[ActualWrite],
    *,
    user: AbstractBaseUser | None,
    reason: str,
    source: str = KpiActual.Source.IMPORT,
    today: datetime.date | None = None,
) -> dict[str, int]:
    """``actual_record`` for many actuals at once, in one transaction, with bulk queries (the Excel import).

    Applies the same rules as ``actual_record``: each figure is checked (``figures.check_actual``, the month in the
    plan's year; ``ValidationError``), a change in a locked month raises ``MonthLocked`` (an unchanged cell is not
    refused: it writes nothing), a changed row gets version + 1, ``source``, ``entered_by`` and one history row (~)
    with ``reason``; a new row one history row (+); a reopened month is flagged for re-approval. Only the four
    figure fields are written: a row's note and is_cumulative are kept. Whatever is raised, nothing is written.
    Returns ``{"created": n, "updated": n, "unchanged": n}``.

    Bulk writes send no signals: the plans written are bumped here (``versions.bump_targets``), in the same
    transaction, so every dashboard showing them is stale at once.
    """
    today = today or timezone.localdate()
    plan_ids = {w.target.plan_id for w in writes}
    target_ids = {w.target.pk for w in writes}
    existing = {
        (a.target_id, a.period, a.month): a
        for a in KpiActual.objects.select_for_update().filter(target_id__in=target_ids).order_by()
    }
    months = {w.month for w in writes if w.period != KpiActual.Period.YEAR_END and w.month is not None}
    reports = {
        (r.plan_id, r.month): r
        for r in MonthReport.objects.select_for_update().filter(plan_id__in=plan_ids, month__in=months).order_by()
    }
    now = timezone.now()
    created: list[dict[str, Any]] = []
    updated: list[KpiActual] = []
    touched: dict[int, MonthReport] = {}
    for write in writes:
        _check_write(write)
        current = existing.get((write.target.pk, write.period, write.month))
        fields = write.fields
        if current is not None and all(getattr(current, name) == new for name, new in fields.items()):
            continue
        report = None if write.period == KpiActual.Period.YEAR_END else reports.get((write.target.plan_id, write.month))
        _check_unlocked(report, today)
        if report is not None:
            touched[report.pk] = report
        if current is None:
            created.append(
                {
                    "target_id": write.target.pk,
                    "period": write.period,
                    "month": write.month,
                    **fields,
                    "is_cumulative": True,
                    "note": "",
                    "source": source,
                    "entered_by_id": user.pk if user is not None else None,
                    "entered_at": now,
                    "version": 1,
                }
            )
        else:
            for name, new in fields.items():
                setattr(current, name, new)
            current.version += 1
            current.source, current.entered_by, current.entered_at = source, user, now
            updated.append(current)
    _insert_created(created, user=user, reason=reason, now=now)
    KpiActual.objects.bulk_update(
        updated,
        ["value", "text_value", "numerator", "denominator", "version", "source", "entered_by", "entered_at"],
        batch_size=500,
    )
    KpiActual.history.bulk_history_create(  # type: ignore[attr-defined]
        updated, update=True, default_user=user, default_change_reason=reason, batch_size=500
    )
    for report in touched.values():
        _after_write(report, user)
    versions.bump_targets([row["target_id"] for row in created] + [actual.target_id for actual in updated])
    return {"created": len(created), "updated": len(updated), "unchanged": len(writes) - len(created) - len(updated)}


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:  # type: ignore[type-arg]
    """How the backend wants a value of ``field`` (None: as it is)."""
    ops = connection.ops
    if isinstance(field, models.DateTimeField):  # every row of an import has the same timestamps: adapt them once
        return functools.lru_cache(maxsize=4)(ops.adapt_datetimefield_value)
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
    return None


def _insert_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts by attname) with one ``executemany``: ``bulk_create`` without building model instances
    (an import of a national year inserts tens of thousands of rows). Sends no signals, as bulk_create."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if f.attname in rows[0]]
    names = [f.attname for f in fields]
    adapted = [(index, adapter) for index, f in enumerate(fields) if (adapter := _adapter(f)) is not None]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    )
    params = []
    for row in rows:
        values = [row[name] for name in names]
        for index, adapter in adapted:
            values[index] = adapter(values[index])
        params.append(values)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _insert_created(
    created: list[dict[str, Any]], *, user: AbstractBaseUser | None, reason: str, now: datetime.datetime
) -> None:
    """Insert new actuals and their + history rows (who, when, why), as ``actual_record`` would have."""
    if not created:
        return
    _insert_rows(KpiActual, created)
    ids = {
        (target_id, period, month): pk
        for pk, target_id, period, month in KpiActual.objects.filter(
            target_id__in={row["target_id"] for row in created}
        ).values_list("pk", "target_id", "period", "month")
    }
    history_model = KpiActual.history.model  # type: ignore[attr-defined]
    tracked = {f.attname for f in history_model._meta.concrete_fields} - {"history_id"}
    rows = []
    for row in created:
        history = {name: value for name, value in row.items() if name in tracked}
        history["id"] = ids[(row["target_id"], row["period"], row["month"])]
        history.update(
            history_date=now,
            history_change_reason=reason,
            history_type="+",
            history_user_id=user.pk if user is not None else None,
        )
        rows.append(history)
    _insert_rows(history_model, rows)
