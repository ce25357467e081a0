"""Measure progress per half-year (上期 Apr–Sep, 下期 Oct–Mar): 実施状況, 評価 and 今後の実施予定.

A half's progress belongs to the month report of the half's last month (September for 上期, March for 下期):
it can be changed while that report is not locked, and the report cannot be submitted while a measure's
実施状況 is missing (``progress_blockers``). ``progress_save`` is the one write path: every row of the sheet in
one transaction, each checked against the version the user's page was showing.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from branches.models import Branch
from plans import fiscal, selectors, versions, workflow
from plans.models import FiscalYear, Measure, MeasureProgress, MonthReport, Plan
from plans.results import KpiResult

TEXT_TOO_LONG = gettext_noop("{measure}の{field}は{limit}文字以内で入力してください（入力: {length}文字）。")
EVALUATION_INVALID = gettext_noop("{measure}の評価は ◎・○・△・－ のいずれかを選んでください（入力: {value}）。")
UNKNOWN_MEASURE = gettext_noop("この事業計画にない施策が送信されました。画面を読み込み直してください。")
BAD_VERSION = gettext_noop("{measure}の版の情報が読み取れません。画面を読み込み直してください。")
LOCKED = gettext_noop("{month}の月次報告が「{status}」のため、{label}の進捗は変更できません。")
HALF_NOT_STARTED = gettext_noop("{label}はまだ始まっていないため、進捗は入力できません。")
CONFLICT = gettext_noop(
    "{measure}の進捗は他の利用者が先に更新しました（版 {version}）。入力された内容は保存していません。"
    "保存されている内容と比べ、残す内容を入力して保存し直してください。"
)
DELETED = gettext_noop(
    "{measure}の進捗は他の利用者が先に削除しました。入力された内容は保存していません。保存し直してください。"
)
STATUS_MISSING = gettext_noop("施策「{measure}」の{label}の実施状況が未入力です。")
CHANGE_REASON = gettext_noop("{label}の進捗を更新")


class Half(StrEnum):
    """A half of the fiscal year, as it appears in URLs: ``h1`` (上期, April–September) and ``h2`` (下期)."""

    FIRST = "h1"
    SECOND = "h2"

    @property
    def suffix(self) -> str:
        """上期 / 下期: how the branches' documents write the half (data, not UI text: stays Japanese)."""
        return "上期" if self is Half.FIRST else "下期"

    def months(self, year: int) -> list[datetime.date]:
        """The six months of the half of fiscal year ``year``, in order."""
        months = fiscal.months_of(year)
        return months[:6] if self is Half.FIRST else months[6:]

    def first_month(self, year: int) -> datetime.date:
        return self.months(year)[0]

    def last_month(self, year: int) -> datetime.date:
        """The month whose report the half's progress belongs to: September (上期) or March (下期)."""
        return self.months(year)[-1]

    def label(self, year: int) -> str:
        """The progress period as the seed and the branches write it: 令和6年度上期."""
        return f"{fiscal.reiwa_label(year)}{self.suffix}"


def half_of(month: datetime.date) -> Half:
    """The half a month falls in."""
    return Half.FIRST if fiscal.fiscal_month_of(month) <= 6 else Half.SECOND


def half_ending_in(month: datetime.date) -> Half | None:
    """The half whose last month is ``month`` (September → 上期, March → 下期), else None."""
    half = half_of(month)
    return half if half.last_month(fiscal.fiscal_year_of(month)) == month.replace(day=1) else None


# -- text ---------------------------------------------------------------------------------------------


TEXT_FIELDS = ("status", "next_steps")
#: A row never written: blank texts and the evaluation's default (－).
EMPTY = ("", str(MeasureProgress._meta.get_field("evaluation").default), "")


def normalize(text: str | None) -> str:
    """Text as stored: browsers' CRLF as LF, surrounding blanks dropped."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def row_digest(status: str, evaluation: str, next_steps: str) -> str:
    """A fingerprint of a row's values as shown, sent back with the form to tell which rows the user edited."""
    joined = "\x1f".join((normalize(status), evaluation, normalize(next_steps)))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def progress_digest(progress: MeasureProgress | None) -> str:
    if progress is None:
        return row_digest(*EMPTY)
    return row_digest(progress.status, progress.evaluation, progress.next_steps)


EVALUATIONS = frozenset(value for value, _label in MeasureProgress.EVALUATION_CHOICES)


@dataclass
class ProgressInput:
    """One row as the user sent it. ``version``: the row's version the page showed (0 = no row yet);
    ``digest``: ``row_digest`` of the values the page showed (None: treat the row as edited)."""

    measure_id: int
    status: str
    evaluation: str
    next_steps: str
    version: int
    digest: str | None = None

    def __post_init__(self) -> None:
        self.status = normalize(self.status)
        self.next_steps = normalize(self.next_steps)
        self.evaluation = (self.evaluation or "").strip()

    @property
    def values(self) -> tuple[str, str, str]:
        return (self.status, self.evaluation, self.next_steps)

    @property
    def edited(self) -> bool:
        return self.digest is None or row_digest(*self.values) != self.digest


def check_input(row: ProgressInput, measure: Measure) -> list[str]:
    """Every problem of one row, in Japanese naming the measure and the field; [] when it can be saved."""
    problems = []
    for name in TEXT_FIELDS:
        model_field = MeasureProgress._meta.get_field(name)
        limit = model_field.max_length
        length = len(getattr(row, name))
        if limit is not None and length > limit:
            problems.append(
                _(TEXT_TOO_LONG).format(measure=measure, field=model_field.verbose_name, limit=limit, length=length)
            )
    if row.evaluation not in EVALUATIONS:
        problems.append(_(EVALUATION_INVALID).format(measure=measure, value=row.evaluation))
    return problems


# -- the sheet (read) ---------------------------------------------------------------------------------


@dataclass
class SheetRow:
    measure: Measure
    depth: int  # 0 top-level, 1 nested under its parent
    progress: MeasureProgress | None
    results: list[KpiResult] = field(default_factory=list)

    @property
    def version(self) -> int:
        return self.progress.version if self.progress else 0

    @property
    def digest(self) -> str:
        return progress_digest(self.progress)


@dataclass
class ProgressSheet:
    plan: Plan
    half: Half
    label: str
    report_month: datetime.date
    report: MonthReport | None  # None until the month's report exists (e.g. the current half)
    rows: list[SheetRow]
    closed_message: str = ""  # why the half cannot be changed ("" when it can)

    @property
    def editable(self) -> bool:
        return not self.closed_message


def tree_order(measures: Sequence[Measure]) -> list[tuple[Measure, int]]:
    """Measures by area then plan order, each nested measure right after its parent: (measure, depth)."""
    children: dict[int, list[Measure]] = defaultdict(list)
    ids = {m.pk for m in measures}
    tops = []
    for m in sorted(measures, key=lambda m: (m.area_id, m.order, m.pk)):
        if m.parent_id in ids:
            children[m.parent_id].append(m)  # type: ignore[index]
        else:
            tops.append(m)
    ordered: list[tuple[Measure, int]] = []
    for top in tops:
        ordered.append((top, 0))
        ordered.extend((child, 1) for child in children[top.pk])
    return ordered


def closed_message(plan: Plan, half: Half, report: MonthReport | None, today: datetime.date) -> str:
    """Why the half's progress cannot be changed today, or "" when it can."""
    year = plan.fiscal_year_id
    if half.first_month(year) > today.replace(day=1):
        return _(HALF_NOT_STARTED).format(label=half.label(year))
    if report is not None and report.is_locked(today):
        return _(LOCKED).format(
            month=fiscal.month_label(report.month), status=report.get_status_display(), label=half.label(year)
        )
    return ""


def progress_sheet(plan: Plan, half: Half, *, today: datetime.date | None = None) -> ProgressSheet:
    """Every measure of ``plan`` with its progress for ``half`` and its KPIs' results (5 queries, whatever the
    number of measures). Reads only: the month report is not created here."""
    today = today or timezone.localdate()
    year = plan.fiscal_year_id
    label = half.label(year)
    measures = list(Measure.objects.filter(plan=plan).select_related("area").order_by())
    progress = {p.measure_id: p for p in MeasureProgress.objects.filter(measure__plan=plan, period=label).order_by()}
    results: dict[int | None, list[KpiResult]] = defaultdict(list)
    for result in selectors.plan_results(plan):
        results[result.target.measure_id].append(result)
    report_month = half.last_month(year)
    report = MonthReport.objects.filter(plan=plan, month=report_month).first()
    rows = [
        SheetRow(measure=m, depth=depth, progress=progress.get(m.pk), results=results.get(m.pk, []))
        for m, depth in tree_order(measures)
    ]
    return ProgressSheet(
        plan=plan,
        half=half,
        label=label,
        report_month=report_month,
        report=report,
        rows=rows,
        closed_message=closed_message(plan, half, report, today),
    )


# -- saving -------------------------------------------------------------------------------------------


class ProgressRefused(Exception):
    """The rows cannot be saved as sent; nothing was written. ``errors``: measure id (None: the whole sheet) →
    Japanese messages."""

    def __init__(self, errors: dict[int | None, list[str]]) -> None:
        self.errors = errors
        super().__init__(" ".join(m for messages in errors.values() for m in messages))


@dataclass
class Conflict:
    measure: Measure
    stored: MeasureProgress | None  # None: deleted since the page was read
    typed: ProgressInput

    @property
    def message(self) -> str:
        if self.stored is None:
            return _(DELETED).format(measure=self.measure)
        return _(CONFLICT).format(measure=self.measure, version=self.stored.version)


class ProgressConflict(Exception):
    """Rows someone else changed since the page was read; nothing was written."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        super().__init__(" ".join(c.message for c in conflicts))


@dataclass
class SaveOutcome:
    created: list[MeasureProgress] = field(default_factory=list)
    updated: list[MeasureProgress] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.created) + len(self.updated)


def _locked_report(plan: Plan, half: Half, today: datetime.date) -> MonthReport | None:
    """The half's month report, locked for the transaction; None while its month is still to come. The plan's data
    version row is taken first (``plans.versions.bump``'s lock order)."""
    versions.lock_plan(plan.fiscal_year_id, plan.branch_id)
    month = half.last_month(plan.fiscal_year_id)
    if month > today.replace(day=1):
        return MonthReport.objects.select_for_update().filter(plan=plan, month=month).first()
    report = workflow.report_for(plan, month, today=today)
    return MonthReport.objects.select_for_update().get(pk=report.pk)


def _write(progress: MeasureProgress, user: AbstractBaseUser | None, reason: str) -> None:
    progress.updated_by = user  # type: ignore[assignment]
    progress._change_reason = reason  # type: ignore[attr-defined]  # read by django-simple-history
    progress._history_user = user  # type: ignore[attr-defined]
    progress.full_clean(validate_unique=False, validate_constraints=False)


@transaction.atomic
def progress_save(
    *,
    plan: Plan,
    half: Half,
    rows: Sequence[ProgressInput],
    user: AbstractBaseUser | None,
    today: datetime.date | None = None,
) -> SaveOutcome:
    """Save the progress rows of ``plan`` for ``half``, all or nothing.

    Raises ``ProgressRefused`` when the half is closed (not started, or its month report locked), a row names a
    measure of another plan, a text is too long or an evaluation unknown; ``ProgressConflict`` when a row the user
    edited was changed by someone else since ``ProgressInput.version``. Rows the user did not edit, and rows equal
    to what is stored, are left untouched. A change to a reopened month flags it for re-approval.
    """
    today = today or timezone.localdate()
    year = plan.fiscal_year_id
    label = half.label(year)
    report = _locked_report(plan, half, today)
    closed = closed_message(plan, half, report, today)
    if closed:
        raise ProgressRefused({None: [closed]})
    measures = {m.pk: m for m in Measure.objects.filter(plan=plan)}
    errors: dict[int | None, list[str]] = {}
    for row in rows:
        measure = measures.get(row.measure_id)
        if measure is None:
            errors[None] = [_(UNKNOWN_MEASURE)]
            continue
        if row.version < 0:
            errors.setdefault(row.measure_id, []).append(_(BAD_VERSION).format(measure=measure))
        problems = check_input(row, measure)
        if problems:
            errors.setdefault(row.measure_id, []).extend(problems)
    if errors:
        raise ProgressRefused(errors)
    stored = {
        p.measure_id: p
        for p in MeasureProgress.objects.select_for_update().filter(measure__plan=plan, period=label).order_by()
    }
    conflicts: list[Conflict] = []
    to_write: list[tuple[ProgressInput, MeasureProgress | None]] = []
    for row in rows:
        current = stored.get(row.measure_id)
        current_values = (current.status, current.evaluation, current.next_steps) if current else None
        if current_values == row.values or (current is None and row.values == EMPTY):
            continue  # nothing to change
        if not row.edited:
            continue  # the user left the row as it was shown: someone else's newer text stands
        if (current.version if current else 0) != row.version:
            conflicts.append(Conflict(measure=measures[row.measure_id], stored=current, typed=row))
            continue
        to_write.append((row, current))
    if conflicts:
        raise ProgressConflict(conflicts)
    reason = _(CHANGE_REASON).format(label=label)
    outcome = SaveOutcome()
    for row, current in to_write:
        if current is None:
            progress = MeasureProgress(
                measure=measures[row.measure_id],
                period=label,
                as_of=half.last_month(year),
                status=row.status,
                evaluation=row.evaluation,
                next_steps=row.next_steps,
            )
            _write(progress, user, reason)
            try:
                with transaction.atomic():
                    progress.save(force_insert=True)
            except IntegrityError:  # someone inserted the same measure's row meanwhile
                other = MeasureProgress.objects.filter(measure_id=row.measure_id, period=label).first()
                raise ProgressConflict([Conflict(measure=measures[row.measure_id], stored=other, typed=row)]) from None
            outcome.created.append(progress)
        else:
            current.status, current.evaluation, current.next_steps = row.values
            current.version += 1
            _write(current, user, reason)
            current.save()
            outcome.updated.append(current)
    if outcome.count and report is not None:
        workflow.figures_changed(report, user=user)
    return outcome


# -- the submit rule ------------------------------------------------------------------------------------


def progress_blockers(report: MonthReport) -> list[str]:
    """What keeps ``report`` from being submitted on the progress side: when its month ends a half, every
    measure without nested measures needs the half's 実施状況 (評価 always has a value; － is allowed).
    [] for other months (2 queries)."""
    half = half_ending_in(report.month)
    if half is None:
        return []
    label = half.label(fiscal.fiscal_year_of(report.month))
    measures = list(Measure.objects.filter(plan_id=report.plan_id).order_by())
    parents = {m.parent_id for m in measures if m.parent_id is not None}
    written = set(
        MeasureProgress.objects.filter(measure__plan_id=report.plan_id, period=label)
        .exclude(status="")
        .values_list("measure_id", flat=True)
    )
    return [
        _(STATUS_MISSING).format(measure=measure, label=label)
        for measure, _depth in tree_order(measures)
        if measure.pk not in parents and measure.pk not in written
    ]


# -- across branches (HQ) -------------------------------------------------------------------------------


@dataclass
class NationalRow:
    progress: MeasureProgress

    @property
    def measure(self) -> Measure:
        return self.progress.measure

    @property
    def branch(self) -> Branch:
        return self.progress.measure.plan.branch


def national_progress(
    fiscal_year: FiscalYear,
    half: Half,
    *,
    area: int | None = None,
    evaluation: str = "",
    query: str = "",
) -> list[NationalRow]:
    """Every branch's progress for ``half`` of ``fiscal_year``, by branch (JIS order) and measure, filtered by area,
    evaluation and a text in the measure's (or its parent's) title (1 query)."""
    rows = MeasureProgress.objects.filter(
        measure__plan__fiscal_year=fiscal_year, period=half.label(fiscal_year.year)
    ).select_related("measure__plan__branch", "measure__area", "measure__parent")
    if area is not None:
        rows = rows.filter(measure__area_id=area)
    if evaluation:
        rows = rows.filter(evaluation=evaluation)
    query = query.strip()
    if query:
        rows = rows.filter(Q(measure__title__icontains=query) | Q(measure__parent__title__icontains=query))
    rows = rows.order_by("measure__plan__branch__jis_code", "measure__area_id", "measure__order", "measure_id")
    return [NationalRow(progress=p) for p in rows]
