"""The month screen (月次入力): one branch's figures for one month, read as a sheet and saved as one.

``month_sheet`` reads everything a row shows in a fixed number of queries; ``month_save`` reads what the user
typed, refuses it (nothing saved) or writes the whole month through ``plans.services.actual_record`` in one
transaction.

Decisions:
- A rate KPI (kind ``rate`` or unit ``%``) takes a numerator and a denominator beside its value. With both
  counts and no value, the value is the counts' rate rounded half up (四捨五入) to the KPI's published
  decimals; with a value too, ``check_actual`` checks they agree. One count without the other is refused.
- Qualitative (実施) and frequency (毎月) KPIs take a choice: 実施 / 未実施 for the month.
- An empty cell with no saved value stays empty. Clearing a saved value deletes it (``actual_delete``) and
  needs a reason, like a warning. A row the form did not send at all (no ``t<id>-version``) is left alone.
- Warnings (saved only with a reason on the row): a cumulative KPI that falls below the previous month, and a
  value outside the branch's past monthly range for the KPI widened by a margin.
- A conflict (someone saved the cell since the page was read) rolls the whole month back and shows both values;
  the user chooses 「自分の値で保存」 (the row then carries the new version) or 「保存済みの値を使う」.
- The lock (approved month) is checked here before any write; ``actual_record`` may refuse too, and whatever
  it raises becomes the row's message and rolls the month back.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models.expressions import Col
from django.db.models.query import RawQuerySet
from django.utils.translation import gettext_noop

from branches.models import Branch
from plans import figures, fiscal, selectors, versions
from plans.models import FiscalYear, Kpi, KpiActual, KpiTarget, MonthReport, Plan, ShortfallNote
from plans.results import KpiResult, mark_counts, projected_counts
from plans.rules import Mark
from plans.services import ActualConflict, MonthLocked, actual_delete, actual_record

logger = logging.getLogger(__name__)

DONE = "実施"
NOT_DONE = "未実施"
CHOICES = (DONE, NOT_DONE)

#: How far outside the branch's past range a value may go before it is questioned: this share of the range's
#: width plus this share of its largest magnitude.
RANGE_MARGIN = Decimal("0.5")
LEVEL_MARGIN = Decimal("0.1")
MIN_HISTORY = 3  # fewer past values than this: no range check
EARLIER_MONTHS = 3
NOTE_MAX = 1000
REASON_MAX = 200  # what a reason may hold (the admin and the history page use the same limit)

LOCKED = gettext_noop("この月は承認済みでロックされています。実績は変更できません（本部による再開が必要です）。")
NOTHING_SAVED = gettext_noop("入力に誤りがあります。赤字の項目を直してください。何も保存していません。")
WARNINGS_NEED_REASON = gettext_noop(
    "確認が必要な値があります。該当する行に理由を入力してから、もう一度保存してください。何も保存していません。"
)
CONFLICTS = gettext_noop(
    "他の利用者が先に保存した値があります。該当する行でどちらの値にするか選んでから、もう一度保存してください。"
    "何も保存していません。"
)
SAVED = "{month}の実績を保存しました（{count}件）。"
NO_CHANGES = gettext_noop("変更はありませんでした。")
NOTE_CONFLICT = gettext_noop("この月の要因と対応は他の利用者が先に保存しました。画面を読み込み直してください。")
PREVIEWED = gettext_noop(
    "プレビューです。まだ保存していません。内容を確かめてから「この月の実績を保存」を押してください。"
)
ONE_COUNT_ONLY = "分子と分母は両方入力してください。"
CHOOSE_CONFLICT = "どちらの値にするか選んでください。"
FALLS_BELOW_PREVIOUS = "累計の値が前月（{previous}）を下回っています。理由を入力すると保存できます。"
OUTSIDE_RANGE = "これまでの値（{low}〜{high}）から大きく外れています。理由を入力すると保存できます。"
CLEARS_SAVED = "保存済みの値「{saved}」を消去します。理由を入力すると消去できます。"
NOTE_BOTH = "要因と対応は両方入力してください。"
NOTE_TOO_LONG = "要因・対応は{limit}文字までです。"
REASON_TOO_LONG = "理由は{limit}文字までです。"
NOT_A_CHOICE = "「{text}」は選べません。実施か未実施を選んでください。"
SAVE_FAILED = "この行を保存できませんでした: {reason}"
CLEAR_REASON = "月次入力で消去"


# -- warnings (pure) --------------------------------------------------------------------------------


def falls_below_previous(basis: str, value: Decimal, previous: Decimal | None) -> bool:
    """A cumulative KPI (a rate that builds up, or a running total) whose value falls below last month's."""
    cumulative = basis in {Kpi.MeasureBasis.CUMULATIVE, Kpi.MeasureBasis.RUNNING_TOTAL}
    return cumulative and previous is not None and value < previous


def widened_range(past: Iterable[Decimal]) -> tuple[Decimal, Decimal] | None:
    """The branch's past range for a KPI widened by the margins, or None with too little history."""
    values = list(past)
    if len(values) < MIN_HISTORY:
        return None
    low, high = min(values), max(values)
    pad = (high - low) * RANGE_MARGIN + max(abs(low), abs(high)) * LEVEL_MARGIN
    return low - pad, high + pad


def outside_past_range(value: Decimal, past: Iterable[Decimal]) -> bool:
    """Whether ``value`` lies outside ``widened_range(past)`` (never with too little history)."""
    bounds = widened_range(past)
    return bounds is not None and not bounds[0] <= value <= bounds[1]


def rate_from_counts(numerator: Decimal, denominator: Decimal, precision: int) -> Decimal:
    """numerator ÷ denominator × 100, rounded half up to ``precision`` decimals."""
    return (numerator * 100 / denominator).quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)


def _show(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# -- the sheet --------------------------------------------------------------------------------------


@dataclass
class EarlierMonth:
    month: datetime.date
    display: str  # "" when nothing was entered


@dataclass
class Row:
    """One KPI target of the month screen: what it shows, what was typed, and what the checks said."""

    result: KpiResult
    actual: KpiActual | None  # this month's saved monthly actual
    last_year: str  # the same month last year, as displayed ("" when none)
    earlier: list[EarlierMonth]  # this year's previous months, oldest first
    previous_value: Decimal | None  # last month's figure (the hint and the cumulative check)
    previous_display: str
    past: list[Decimal]  # this year's monthly figures before this month; ``read_past`` adds the years before
    note: ShortfallNote | None
    typed: dict[str, str] = field(default_factory=dict)  # value / numerator / denominator / text
    version: int = 0
    errors: dict[str, list[str]] = field(default_factory=dict)  # field → messages (plain dict: templates read it)
    warnings: list[str] = field(default_factory=list)
    reason: str = ""
    cause: str = ""
    action: str = ""
    conflict: KpiActual | None = None
    conflict_deleted: bool = False

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    @property
    def value_errors(self) -> list[str]:
        """The messages shown beside the figures: value, numerator and denominator."""
        return [m for name in ("numerator", "denominator", "value") for m in self.errors.get(name, [])]

    @property
    def target(self) -> KpiTarget:
        return self.result.target

    @property
    def kpi(self) -> Kpi:
        return self.result.target.kpi

    @property
    def prefix(self) -> str:
        return f"t{self.target.pk}"

    @property
    def is_rate(self) -> bool:
        return self.kpi.kind == Kpi.Kind.RATE or self.kpi.unit in figures.PERCENT_UNITS

    @property
    def is_choice(self) -> bool:
        return self.kpi.kind in {Kpi.Kind.QUALITATIVE, Kpi.Kind.FREQUENCY}

    @property
    def choices(self) -> list[str]:
        saved = self.actual.text_value if self.actual is not None else ""
        return [*CHOICES, saved] if saved and saved not in CHOICES else list(CHOICES)

    @property
    def saved(self) -> str:
        return self.actual.display_value if self.actual is not None else ""

    @property
    def needs_note(self) -> bool:
        """△, or projected 「未達のおそれ」: the row asks for 要因 and 対応."""
        result = self.result
        at_risk = result.projection is not None and result.projection.on_track is False
        return result.mark == Mark.BELOW or (result.mark is None and at_risk)

    @property
    def has_problem(self) -> bool:
        return bool(self.errors) or (bool(self.warnings) and not self.reason) or self.conflict_pending

    @property
    def conflict_pending(self) -> bool:
        return self.conflict is not None or self.conflict_deleted

    @property
    def state(self) -> str:
        """CSS state of the row: refused / conflict / warning / saved / empty."""
        if self.errors:
            return "refused"
        if self.conflict_pending:
            return "conflict"
        if self.warnings:
            return "warning"
        return "saved" if self.actual is not None else "empty"


@dataclass
class Sheet:
    plan: Plan
    month: datetime.date
    rows: list[Row]
    #: the data versions its results were read under (``plans.versions.scopes``); None when given its results
    scopes: versions.Scopes | None = None

    @property
    def earlier_months(self) -> list[datetime.date]:
        return [e.month for e in self.rows[0].earlier] if self.rows else _earlier_months(self.month, self.plan)

    @property
    def counts(self) -> dict[Mark | None, int]:
        return dict(mark_counts(r.result for r in self.rows))

    @property
    def projected(self) -> dict[bool, int]:
        return dict(projected_counts(r.result for r in self.rows))


def _earlier_months(month: datetime.date, plan: Plan) -> list[datetime.date]:
    months = fiscal.months_of(plan.fiscal_year_id)
    index = months.index(month)
    return months[max(0, index - EARLIER_MONTHS) : index]


def _month_a_year_before(month: datetime.date) -> datetime.date:
    return month.replace(year=month.year - 1)


def month_sheet(
    plan: Plan,
    month: datetime.date,
    today: datetime.date | None = None,
    *,
    results: list[KpiResult] | None = None,
    last_year: bool = True,
) -> Sheet:
    """Every KPI target of ``plan`` as a row of ``month``'s screen (4 queries whatever the plan's size; 2 with
    ``results``, the plan's ``plan_results`` already read; 1 less without ``last_year``, the same month last year,
    which only the screen shows: ``read_last_year`` reads it later). The same month last year and the month's notes
    are read in SQL written once (``_history``, ``_notes``): building them through the ORM cost more than running
    them.

    A row's ``past`` holds only this year's earlier months: the years before are read by ``read_past`` for the
    rows a save checks (the sheet itself shows only the same month last year). ``today`` is accepted for symmetry
    with ``month_save``; the month is checked by ``workflow.report_for``.
    """
    if results is None:
        # The data versions first, then the results through the result cache (only those a save changed are
        # computed) and this year's mid-year actuals: 3 queries, 5 after a save.
        scopes = versions.scopes(plan.fiscal_year_id, branch_code=plan.branch.code)
        results = selectors.plan_results_with_actuals(plan, scopes)
        sheet_scopes = scopes
    else:
        sheet_scopes = None
    notes = {n.target_id: n for n in _notes(plan, month)}
    earlier_months = _earlier_months(month, plan)
    last_month = earlier_months[-1] if earlier_months else None
    monthly_period = KpiActual.Period.MONTHLY
    rows = []
    for result in results:
        target = result.target
        target.plan = plan  # the write path's validation reads the target's plan: no query for it
        monthly = {
            a.month: a
            for a in target.mid_year_actuals  # type: ignore[attr-defined]
            if a.period == monthly_period
        }
        previous = monthly.get(last_month) if last_month is not None else None
        actual = monthly.get(month)
        row = Row(
            result=result,
            actual=actual,
            last_year="",
            earlier=[EarlierMonth(m, monthly[m].display_value if m in monthly else "") for m in earlier_months],
            previous_value=previous.value if previous is not None else None,
            previous_display=previous.display_value if previous is not None else "",
            past=[a.value for m, a in monthly.items() if m < month and a.value is not None],
            note=notes.get(target.pk),
        )
        row.version = actual.version if actual is not None else 0
        row.typed = _saved_fields(actual)
        if row.note is not None:
            row.cause, row.action = row.note.cause, row.note.action
        rows.append(row)
    sheet = Sheet(plan=plan, month=month, rows=rows, scopes=sheet_scopes)
    if last_year:
        read_last_year(sheet)
    return sheet


def read_last_year(sheet: Sheet) -> None:
    """Put the same month last year, as displayed, into each row of ``sheet`` (1 query)."""
    shown = {a.kpi_id: a.display_value for a in _history(sheet.plan, month=_month_a_year_before(sheet.month))}
    for row in sheet.rows:
        row.last_year = shown.get(row.target.kpi_id, "")


@functools.cache
def _sql(vendor: str) -> dict[str, str]:
    """The month screen's own reads as SQL, by backend (the models' table names quoted)."""
    quote = connection.ops.quote_name
    actual, target, plan, note = (quote(m._meta.db_table) for m in (KpiActual, KpiTarget, Plan, ShortfallNote))
    history = (
        f"SELECT a.id, a.value, a.text_value, t.kpi_id AS kpi_id FROM {actual} a "  # noqa: S608 (model names)
        f"JOIN {target} t ON a.target_id = t.id JOIN {plan} p ON t.plan_id = p.id "
        "WHERE p.branch_id = %s AND p.fiscal_year_id < %s AND a.period = %s"
    )
    return {
        "month": f"{history} AND a.month = %s",
        "past": f"{history} AND a.value IS NOT NULL AND t.kpi_id IN ({{kpis}})",
        "notes": (
            f"SELECT n.* FROM {note} n JOIN {target} t ON n.target_id = t.id "  # noqa: S608 (model names)
            "WHERE t.plan_id = %s AND n.month = %s"
        ),
    }


#: What ``open_report`` reads, each model with its alias in the SQL.
_OPENED: tuple[tuple[str, type[models.Model]], ...] = (
    ("r", MonthReport),
    ("p", Plan),
    ("b", Branch),
    ("f", FiscalYear),
)


@functools.cache
def _open_sql(vendor: str) -> tuple[str, list[tuple[models.Field, list[Any], Col]]]:  # type: ignore[type-arg]
    """``open_report``'s SQL, and each column's field, converters (as the ORM applies them) and column expression."""
    quote = connection.ops.quote_name
    table = {alias: quote(model._meta.db_table) for alias, model in _OPENED}
    columns = []
    for alias, model in _OPENED:
        for f in model._meta.concrete_fields:
            col = f.get_col(alias)
            columns.append((f, connection.ops.get_db_converters(col) + f.get_db_converters(connection), col))
    select = ", ".join(f"{col.alias}.{quote(f.column)}" for f, _conv, col in columns)
    sql = (
        f"SELECT {select} FROM {table['r']} r JOIN {table['p']} p ON r.plan_id = p.id "  # noqa: S608 (model names)
        f"JOIN {table['b']} b ON p.branch_id = b.id JOIN {table['f']} f ON p.fiscal_year_id = f.year "
        "WHERE b.code = %s AND p.fiscal_year_id = %s AND r.month = %s"
    )
    return sql, columns


def open_report(branch_code: str, fiscal_year: int, month: datetime.date) -> MonthReport | None:
    """The month's report with its plan, the plan's branch and fiscal year (1 query), or None when the report does
    not exist (nobody opened the month yet, or no such branch or plan): ``MonthReport.objects.select_related(
    "plan__branch", "plan__fiscal_year")`` in SQL written once (the screen's first read, on every request)."""
    sql, columns = _open_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [branch_code, fiscal_year, connection.ops.adapt_datefield_value(month)])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, (_field, converters, col) in enumerate(columns):
        for converter in converters:
            values[index] = converter(values[index], col, connection)
    instances = []
    start = 0
    for _alias, model in _OPENED:
        fields = model._meta.concrete_fields
        names = [f.attname for f in fields]
        instances.append(model.from_db(connection.alias, names, values[start : start + len(fields)]))
        start += len(fields)
    report, plan, branch, year = instances
    plan.branch, plan.fiscal_year = branch, year  # type: ignore[attr-defined]
    report.plan = plan  # type: ignore[attr-defined]
    return report  # type: ignore[return-value]


def _history(plan: Plan, *, month: datetime.date) -> RawQuerySet[KpiActual]:
    """The branch's monthly actuals of ``month`` in the fiscal years before ``plan``'s (1 query), each with its KPI's
    id as ``kpi_id`` (the value, the text, no more)."""
    params = [
        plan.branch_id,
        plan.fiscal_year_id,
        KpiActual.Period.MONTHLY,
        connection.ops.adapt_datefield_value(month),
    ]
    return KpiActual.objects.raw(_sql(connection.vendor)["month"], params)


def _notes(plan: Plan, month: datetime.date) -> RawQuerySet[ShortfallNote]:
    """The 要因・対応 of ``plan``'s targets for ``month`` (1 query)."""
    return ShortfallNote.objects.raw(
        _sql(connection.vendor)["notes"], [plan.pk, connection.ops.adapt_datefield_value(month)]
    )


def read_past(plan: Plan, rows: Sequence[Row]) -> None:
    """Put the branch's monthly figures of the years before into each row's ``past``, before this year's earlier
    months already there (1 query, none without rows): what the range check (``outside_past_range``) reads. The
    figures are read as rows, each value converted as the ORM converts a ``KpiActual.value`` (no model instances)."""
    if not rows:
        return
    ids = sorted({r.target.kpi_id for r in rows})
    sql = _sql(connection.vendor)["past"].format(kpis=", ".join(["%s"] * len(ids)))
    params = [plan.branch_id, plan.fiscal_year_id, KpiActual.Period.MONTHLY, *ids]
    col, converters = _value_converters(connection.vendor)
    past_by_kpi: dict[int, list[Decimal]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for _pk, value, _text, kpi_id in cursor.fetchall():
            for converter in converters:
                value = converter(value, col, connection)
            past_by_kpi[kpi_id].append(value)
    for row in rows:
        row.past = [*past_by_kpi.get(row.target.kpi_id, []), *row.past]


@functools.cache
def _value_converters(vendor: str) -> tuple[Col, list[Any]]:
    """``KpiActual.value``'s column and the converters the ORM applies to what the backend returns for it."""
    field = KpiActual._meta.get_field("value")
    col = field.get_col(KpiActual._meta.db_table)
    return col, connection.ops.get_db_converters(col) + field.get_db_converters(connection)


def _saved_fields(actual: KpiActual | None) -> dict[str, str]:
    if actual is None:
        return {"value": "", "numerator": "", "denominator": "", "text": ""}
    return {
        "value": _show(actual.value),
        "numerator": _show(actual.numerator),
        "denominator": _show(actual.denominator),
        "text": actual.text_value,
    }


# -- saving -----------------------------------------------------------------------------------------


@dataclass
class Figures:
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    text: str = ""

    @property
    def empty(self) -> bool:
        return self.value is None and self.numerator is None and self.denominator is None and not self.text


@dataclass
class SaveOutcome:
    """What ``month_save`` did: ``saved`` is False when nothing was written (``message`` says why).

    ``sheet`` is the month as read before the save, with what was typed and each row's messages (after a save the
    screen is read again: the view redirects); ``before`` and ``after`` are the ◎/○/△ and projection counts."""

    sheet: Sheet
    saved: bool
    message: str
    written: int = 0
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)


class _RollBack(Exception):
    """Raised inside the month's transaction to undo every row written so far."""


class _Previewed(Exception):
    """Raised inside the month's transaction after a preview save: the counts it would give, then undone."""

    def __init__(self, after: dict[str, int]) -> None:
        self.after = after


def _read(row: Row, posted: Mapping[str, str]) -> None:
    """Copy what was typed for ``row`` from the form into it."""
    p = row.prefix
    row.typed = {name: str(posted.get(f"{p}-{name}", "")).strip() for name in ("value", "numerator", "denominator")}
    row.typed["text"] = str(posted.get(f"{p}-text", "")).strip()
    try:
        row.version = int(posted.get(f"{p}-version", "0") or 0)
    except ValueError:
        row.version = -1  # a tampered version is a conflict, never a silent overwrite
    row.reason = str(posted.get(f"{p}-reason", "")).strip()
    row.cause = str(posted.get(f"{p}-cause", "")).strip()
    row.action = str(posted.get(f"{p}-action", "")).strip()


def _parse(row: Row) -> Figures | None:
    """The figures typed on ``row``, or None with ``row.errors`` set."""
    out = Figures()
    if row.is_choice:
        text = row.typed["text"]
        if text and text not in row.choices:
            row.error("text", NOT_A_CHOICE.format(text=text))
            return None
        out.text = text
        return out
    places = {"value": figures.DECIMAL_PLACES, "numerator": 2, "denominator": 2}
    fields = ("value", "numerator", "denominator") if row.is_rate else ("value",)
    for name in fields:
        raw = row.typed[name]
        if not raw:
            continue
        try:
            setattr(out, name, figures.parse_figure(raw, decimal_places=places[name]))
        except figures.FigureError as exc:
            row.error(name, str(exc))
    if row.errors:
        return None
    if (out.numerator is None) != (out.denominator is None):
        row.error("numerator" if out.numerator is None else "denominator", ONE_COUNT_ONLY)
        return None
    counts_usable = out.numerator is not None and out.denominator is not None and out.denominator > 0
    if out.value is None and counts_usable and out.numerator <= out.denominator:  # type: ignore[operator]
        out.value = rate_from_counts(out.numerator, out.denominator, row.target.precision)  # type: ignore[arg-type]
    for problem in figures.check_actual(
        kind=row.kpi.kind,
        unit=row.kpi.unit,
        value=out.value,
        numerator=out.numerator,
        denominator=out.denominator,
        text_value=out.text,
    ):
        row.error("text" if problem.field == "text_value" else problem.field, problem.message)
    return None if row.errors else out


def _unchanged(row: Row, new: Figures) -> bool:
    actual = row.actual
    if actual is None:
        return new.empty
    if row.is_choice and actual.value is not None and not new.text:
        return True  # a frequency KPI saved as months done (e.g. by the seed) that the choice cannot show
    return (
        actual.value == new.value
        and actual.numerator == new.numerator
        and actual.denominator == new.denominator
        and actual.text_value == new.text
    )


def _warn(row: Row, new: Figures) -> None:
    if new.empty and row.actual is not None:
        row.warnings.append(CLEARS_SAVED.format(saved=row.saved))
        return
    if new.value is None or row.is_choice:
        return
    if falls_below_previous(row.kpi.measure_basis, new.value, row.previous_value):
        row.warnings.append(FALLS_BELOW_PREVIOUS.format(previous=row.previous_display))
    bounds = widened_range(row.past)
    if bounds is not None and outside_past_range(new.value, row.past):
        row.warnings.append(OUTSIDE_RANGE.format(low=_show(min(row.past)), high=_show(max(row.past))))


def _check_texts(row: Row) -> None:
    if bool(row.cause) != bool(row.action):
        row.error("note", NOTE_BOTH)
    if len(row.cause) > NOTE_MAX or len(row.action) > NOTE_MAX:
        row.error("note", NOTE_TOO_LONG.format(limit=NOTE_MAX))
    if len(row.reason) > REASON_MAX:
        row.error("reason", REASON_TOO_LONG.format(limit=REASON_MAX))


def _summary(results: Sequence[KpiResult]) -> dict[str, int]:
    counts = mark_counts(results)
    projected = projected_counts(results)
    return {
        "above": counts.get(Mark.ABOVE, 0),
        "planned": counts.get(Mark.AS_PLANNED, 0),
        "below": counts.get(Mark.BELOW, 0),
        "on_track": projected.get(True, 0),
        "at_risk": projected.get(False, 0),
    }


def month_save(
    *,
    plan: Plan,
    month: datetime.date,
    report: MonthReport,
    posted: Mapping[str, str],
    user: AbstractBaseUser | None,
    today: datetime.date,
    preview: bool = False,
) -> SaveOutcome:
    """Check everything typed for ``month`` and save it in one transaction, or save nothing.

    Refused cells, warnings without a reason and conflicts leave the database untouched; the returned sheet
    carries what was typed and the messages beside each row. With ``preview`` the month is saved and the
    resulting ◎/○/△ and projection counts read inside the transaction, which is then rolled back: the outcome
    says how the month would change the counts (``saved`` False, ``before`` and ``after`` set).
    """
    outcome = _month_save(plan, month, report, posted, user, today, preview)
    if not outcome.saved:  # the screen is shown again (a save is followed by a redirect): its same month last year
        read_last_year(outcome.sheet)
    return outcome


def _month_save(
    plan: Plan,
    month: datetime.date,
    report: MonthReport,
    posted: Mapping[str, str],
    user: AbstractBaseUser | None,
    today: datetime.date,
    preview: bool,
) -> SaveOutcome:
    sheet = month_sheet(plan, month, today, last_year=False)
    if report.is_locked(today):
        return SaveOutcome(sheet, False, LOCKED)
    before = _summary([r.result for r in sheet.rows])
    changes: list[tuple[Row, Figures]] = []
    conflicts_resolved: list[Row] = []
    for row in sheet.rows:
        if f"{row.prefix}-version" not in posted:
            continue  # a row the form did not send (not on the screen read) is left as it is
        had_conflict = posted.get(f"{row.prefix}-conflict") == "1"
        resolve = posted.get(f"{row.prefix}-resolve", "")
        _read(row, posted)
        _check_texts(row)
        if had_conflict and resolve == "theirs":
            row.typed, row.version = _saved_fields(row.actual), (row.actual.version if row.actual else 0)
            conflicts_resolved.append(row)
            continue
        if had_conflict and resolve != "mine":
            row.error("resolve", CHOOSE_CONFLICT)
        new = _parse(row)
        if new is None or _unchanged(row, new):
            continue
        changes.append((row, new))
    read_past(plan, [row for row, new in changes if new.value is not None and not row.is_choice])
    for row, new in changes:
        _warn(row, new)
    if any(row.errors for row in sheet.rows):
        return SaveOutcome(sheet, False, NOTHING_SAVED)
    if any(row.warnings and not row.reason for row in sheet.rows):
        return SaveOutcome(sheet, False, WARNINGS_NEED_REASON)
    try:
        with transaction.atomic():
            written = _write(changes, month, user)
            written_ids = {row.target.pk for row, _new in changes} if written else set()
            if any(r.conflict_pending or r.errors for r, _ in changes):
                raise _RollBack
            notes = _write_notes(sheet.rows, month, user)
            if any(r.errors for r in sheet.rows):
                raise _RollBack
            # (a reopened month is flagged for re-approval by the write path itself: services.actual_record)
            after = _summary(_results_after(sheet, written_ids)) if written_ids else before  # the counts it gives
            if preview:
                raise _Previewed(after)
    except _Previewed as previewed:
        return SaveOutcome(sheet, False, PREVIEWED, before=before, after=previewed.after)
    except _RollBack:
        for row, _new in changes:  # 「自分の値で保存」 re-submits against the version now saved
            if row.conflict_pending:
                row.version = row.conflict.version if row.conflict is not None else 0
        failed = any(r.errors for r in sheet.rows)
        return SaveOutcome(sheet, False, NOTHING_SAVED if failed else CONFLICTS)
    if not written and not notes:
        return SaveOutcome(sheet, True, NO_CHANGES, before=before, after=before)
    message = SAVED.format(month=fiscal.month_label(month), count=written + notes)
    return SaveOutcome(sheet, True, message, written=written + notes, before=before, after=after)


def _results_after(sheet: Sheet, target_ids: set[int]) -> list[KpiResult]:
    """The plan's results after a save of the figures of ``target_ids``: those targets read again (in the save's
    transaction), every other target's as the sheet read it (an actual changes its own target's result only)."""
    if sheet.scopes is None:
        targets = selectors._plan_targets().filter(pk__in=target_ids)  # plan_results' query, for these targets only
        fresh = {result.target.pk: result for result in selectors._results_of(targets)}
    else:
        recomputed = selectors.recomputed_results(sheet.plan, target_ids, sheet.scopes)
        fresh = {result.target.pk: result for result in recomputed}
    return [fresh.get(row.target.pk, row.result) for row in sheet.rows]


def _write(changes: list[tuple[Row, Figures]], month: datetime.date, user: AbstractBaseUser | None) -> int:
    """Write each changed row; a conflict or a refusal is kept on its row (the caller rolls back)."""
    written = 0
    for row, new in changes:
        try:
            if new.empty:
                assert row.actual is not None
                actual_delete(
                    actual=row.actual, user=user, reason=row.reason or CLEAR_REASON, expected_version=row.version
                )
            else:
                actual_record(
                    target=row.target,
                    period=KpiActual.Period.MONTHLY,
                    month=month,
                    value=new.value,
                    numerator=new.numerator,
                    denominator=new.denominator,
                    text_value=new.text,
                    source=KpiActual.Source.MANUAL,
                    user=user,
                    expected_version=row.version,
                    reason=row.reason,
                )
            written += 1
        except ActualConflict as conflict:
            row.conflict = conflict.current
            row.conflict_deleted = conflict.current is None
        except ValidationError as exc:
            for message in exc.messages:
                row.error("value", message)
        except MonthLocked as exc:  # the write path refuses a locked month; its reason goes beside the row
            row.error("value", SAVE_FAILED.format(reason=exc))
    return written


def _write_notes(rows: list[Row], month: datetime.date, user: AbstractBaseUser | None) -> int:
    written = 0
    for row in rows:
        note = row.note
        if not row.cause or (note is not None and (note.cause, note.action) == (row.cause, row.action)):
            continue
        if note is None:
            note = ShortfallNote(target=row.target, month=month)
        note.cause, note.action, note.updated_by = row.cause, row.action, user  # type: ignore[assignment]
        try:
            with transaction.atomic():  # someone else may have written this month's note meanwhile
                note.save()
        except IntegrityError:
            row.error("cause", NOTE_CONFLICT)
            continue
        written += 1
    return written
