"""Importing a kpitrack workbook: everything checked before anything is written, then all of it or nothing.

- The rules and messages are the browser entry's: each cell is read by ``figures.parse_figure`` (a number cell
  as the number it holds), a rate's value may come from its numerator and denominator (``entry.rate_from_counts``;
  one count without the other and without a value is refused with ``entry.ONE_COUNT_ONLY``), a qualitative KPI
  takes 実施 / 未実施 (or the text already saved, ``entry.NOT_A_CHOICE``), and ``figures.check_actual`` checks
  the result.
- An empty cell changes nothing (a saved figure is never cleared by an import). A cell that only repeats the saved
  figure is unchanged, so importing the same file twice writes nothing the second time.
- Refused as a whole (``WorkbookRefused``): the file (see ``reader``), a plan that does not exist, a branch the
  user may not enter figures for. Refused by cell (``ImportReport.problems``, each with its sheet, row and column):
  a figure the rules refuse, a KPI code not in the plan, a changed figure in an approved (locked) month.
- The writes go through ``services.actuals_import`` in the same transaction as the checks, with source
  「ファイル取込」 and the file name in each history row's reason.
- Unlike the month screen, one count beside a value is accepted: branches publish a rate with its count alone
  (Gifu: 59.5% and 182,616件), kpitrack stores it so, and the published workbook must read back.
- The browser entry's warnings (a cumulative figure below last month, a figure far outside the branch's past
  range: ``entry.falls_below_previous``, ``entry.outside_past_range``) are listed (``ImportReport.warnings``) but
  do not stop the import: a workbook has no place for a reason. Check only (dry run) shows them first.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from branches import access
from branches.models import Branch
from plans import entry, figures, fiscal
from plans.models import Kpi, KpiActual, KpiTarget, MonthReport, Plan
from plans.services import IMPORT_REASON, MONTH_LOCKED_MESSAGE, ActualWrite, MonthLocked, actuals_import
from plans.workbooks import layout
from plans.workbooks.figures_sheet import is_rate
from plans.workbooks.reader import Place, RawCell, WorkbookRefused, read_workbook

NO_BRANCH = "支部コード「{code}」の支部はありません。"
NO_PLAN = "{branch}の{year}の事業計画はありません。先に事業計画を登録してください。"
NOT_YOUR_BRANCH = "{branch}の実績を入力する権限がないため、このブックは取り込めません。"
NOT_IN_PLAN = "KPIコード「{code}」は{branch}の{year}の事業計画にありません。"
NOT_A_FIGURE_CELL = "「{text}」は数値として読めません。数値を入力してください。"
HAS_PROBLEMS = "取り込めない値があります（{count}件）。すべて直してから取り込み直してください。何も保存していません。"
IMPORTED = "「{filename}」を取り込みました（新規 {created}件・更新 {updated}件・変更なし {unchanged}件）。"
PREVIEW = "確認のみ: 取り込むと 新規 {created}件・更新 {updated}件・変更なし {unchanged}件 です。まだ保存していません。"
WRONG_PLAN = "このブックは{book}のものです。{page}の画面からは取り込めません（{page}のテンプレートに入力）。"
FALLS_BELOW_PREVIOUS = "累計の値が前月（{previous}）を下回っています。値を確かめてください。"
OUTSIDE_RANGE = "これまでの値（{low}〜{high}）から大きく外れています。値を確かめてください。"
COUNTS_NOT_KEPT = "このKPIは率ではないため、分子・分母は入力できません。実績値の行に入力してください。"
NOTHING_TO_IMPORT = "取り込む値がありません（空欄のセルは取り込みません）。"
CHANGED_ON_SCREEN_KEPT = (
    "ブックのダウンロード後に画面で変更された値のため、このセルは取り込みませんでした（保存されている値: {saved}）。"
)
CHANGED_ON_SCREEN = (
    "ブックのダウンロード後に画面で変更された値です（保存されている値: {saved}）。"
    "どちらが正しいか確かめ、新しいブックをダウンロードして入力し直してください。"
)
NO_SAVED_FIGURE = "空欄"

PLACES = {"value": figures.DECIMAL_PLACES, "numerator": 2, "denominator": 2}


@dataclass
class ImportReport:
    filename: str
    kind: str
    fiscal_year: int
    branches: list[str]
    problems: list[tuple[Place, str]] = field(default_factory=list)
    warnings: list[tuple[Place, str]] = field(default_factory=list)  # shown, not refused
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def written(self) -> int:
        return self.created + self.updated

    @property
    def message(self) -> str:
        counts = {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}
        if self.problems:
            return HAS_PROBLEMS.format(count=len(self.problems))
        if not (self.created or self.updated or self.unchanged):
            return NOTHING_TO_IMPORT
        return PREVIEW.format(**counts) if self.dry_run else IMPORTED.format(filename=self.filename, **counts)

    @property
    def problem_lines(self) -> list[str]:
        """「シート「月次実績」12行目・H列: …」, in sheet, row and column order."""
        return _lines(self.problems)

    @property
    def problem_rows(self) -> list[tuple[str, str]]:
        """(place, message) for a table: 「シート「月次実績」12行目・H列」, the message."""
        return [(str(place) if place.row else "", message) for place, message in sorted(self.problems)]

    @property
    def warning_lines(self) -> list[str]:
        return _lines(self.warnings)


def _lines(items: list[tuple[Place, str]]) -> list[str]:
    return [f"{place}: {message}" if place.row else message for place, message in sorted(items, key=lambda p: p[0])]


class _Refused(Exception):
    """Raised inside the import's transaction when a cell is refused: everything is rolled back."""


def _number(raw: RawCell, places: int) -> Decimal:
    """A cell's figure: a number cell as the number it holds, text through ``parse_figure``."""
    value = raw.value
    if isinstance(value, bool) or isinstance(value, datetime.datetime | datetime.date | datetime.time):
        raise figures.FigureError(NOT_A_FIGURE_CELL.format(text=value))
    if isinstance(value, int | float | Decimal):
        try:
            # A float as Excel shows it: 15 significant digits (=939/1000*100 is 93.89999999999999 inside)
            text = format(value, ".15g") if isinstance(value, float) else str(value)
            return figures.parse_figure(f"{Decimal(text):f}", decimal_places=places)
        except InvalidOperation as exc:
            raise figures.FigureError(NOT_A_FIGURE_CELL.format(text=value)) from exc
    return figures.parse_figure(str(value), decimal_places=places)


def _figures(
    kpi: Kpi, cells: dict[str, RawCell], saved: KpiActual | None, precision: int, problems: list[tuple[Place, str]]
) -> dict[str, Any] | None:
    """The four figure fields after the import (saved ones kept where a cell is empty), or None with problems."""
    first = len(problems)
    new: dict[str, Any] = {
        "value": saved.value if saved else None,
        "text_value": saved.text_value if saved else "",
        "numerator": saved.numerator if saved else None,
        "denominator": saved.denominator if saved else None,
    }
    choice = kpi.kind in {Kpi.Kind.QUALITATIVE, Kpi.Kind.FREQUENCY}
    given = cells.get("value")
    if given is not None:
        if choice and isinstance(given.value, str):
            text = given.value.strip()
            allowed = [*entry.CHOICES, *([saved.text_value] if saved and saved.text_value else [])]
            if text not in allowed:
                problems.append((given.place, entry.NOT_A_CHOICE.format(text=text)))
            new["value"], new["text_value"] = None, text
        else:
            try:
                new["value"], new["text_value"] = _number(given, PLACES["value"]), ""
            except figures.FigureError as exc:
                problems.append((given.place, str(exc)))
    for name in ("numerator", "denominator"):
        raw = cells.get(name)
        if raw is None:
            continue
        if not is_rate(kpi):
            problems.append((raw.place, COUNTS_NOT_KEPT))
            continue
        try:
            new[name] = _number(raw, PLACES[name])
        except figures.FigureError as exc:
            problems.append((raw.place, str(exc)))
    if len(problems) > first:
        return None
    where = (cells.get("value") or cells.get("numerator") or cells.get("denominator")).place  # type: ignore[union-attr]
    numerator, denominator = new["numerator"], new["denominator"]
    if (numerator is None) != (denominator is None) and new["value"] is None:
        problems.append((where, entry.ONE_COUNT_ONLY))
        return None
    counts_given = "numerator" in cells or "denominator" in cells
    if given is None and counts_given and denominator and denominator > 0 and 0 <= numerator <= denominator:
        new["value"], new["text_value"] = entry.rate_from_counts(numerator, denominator, precision), ""
    for problem in figures.check_actual(kind=kpi.kind, unit=kpi.unit, **new):
        field_name = "value" if problem.field == "text_value" else problem.field
        place = cells[field_name].place if field_name in cells else where
        problems.append((place, problem.message))
    return None if len(problems) > first else new


def _plans(book_branches: list[str], year: int, user: AbstractBaseUser | None) -> dict[str, Plan]:
    branches = {b.code: b for b in Branch.objects.filter(code__in=book_branches)}
    plans = {
        p.branch.code: p
        for p in Plan.objects.select_related("branch", "fiscal_year").filter(
            branch__code__in=book_branches, fiscal_year_id=year
        )
    }
    for code in book_branches:
        branch = branches.get(code)
        if branch is None:
            raise WorkbookRefused(NO_BRANCH.format(code=code))
        if user is not None and not access.has_permission(user, access.Permission.ENTER_ACTUALS, branch):  # type: ignore[arg-type]
            raise WorkbookRefused(NOT_YOUR_BRANCH.format(branch=branch))
        if code not in plans:
            raise WorkbookRefused(NO_PLAN.format(branch=branch, year=fiscal.reiwa_label(year)))
    return plans


def import_workbook(
    data: bytes,
    filename: str,
    *,
    user: AbstractBaseUser | None,
    dry_run: bool = False,
    today: datetime.date | None = None,
    plan: Plan | None = None,
) -> ImportReport:
    """Check every figure of the workbook and write them all in one transaction, or write nothing.

    Raises ``WorkbookRefused`` for a file refused as a whole; returns the report (problems by place, counts).
    ``user`` None (the management command without ``--user``) is a system import: no permission check.
    ``plan``: the plan whose page the file was uploaded on; a workbook of another branch or year is refused.
    """
    today = today or timezone.localdate()
    read = read_workbook(data, filename)
    if plan is not None and (read.branches != [plan.branch.code] or read.fiscal_year != plan.fiscal_year_id):
        book = "全支部" if read.kind == layout.Kind.NATIONAL else "・".join(read.branches)
        raise WorkbookRefused(
            WRONG_PLAN.format(
                book=f"{book} {fiscal.reiwa_label(read.fiscal_year)}",
                page=f"{plan.branch} {fiscal.reiwa_label(plan.fiscal_year_id)}",
            )
        )
    report = ImportReport(
        filename=filename,
        kind=read.kind.value,
        fiscal_year=read.fiscal_year,
        branches=list(read.branches),
        problems=list(read.problems),
        dry_run=dry_run,
    )
    try:
        with transaction.atomic():
            writes = _checked_writes(read, report, user, today)
            if report.problems:
                raise _Refused
            if dry_run:
                _count(writes, report)
                raise _Refused
            try:
                counts = actuals_import(writes, user=user, reason=IMPORT_REASON.format(filename=filename), today=today)
            except (ValidationError, MonthLocked) as exc:  # checked above already; kept as a message if raced
                report.problems.append((Place(layout.FIGURES_SHEET, 0, 1), "; ".join(_messages(exc))))
                raise _Refused from exc
            report.created, report.updated, report.unchanged = counts["created"], counts["updated"], counts["unchanged"]
    except _Refused:
        pass
    return report


def _messages(exc: Exception) -> list[str]:
    return exc.messages if isinstance(exc, ValidationError) else [str(exc)]


def _count(writes: list[ActualWrite], report: ImportReport) -> None:
    existing = {
        (a.target_id, a.period, a.month): a
        for a in KpiActual.objects.filter(target_id__in={w.target.pk for w in writes}).order_by()
    }
    for write in writes:
        saved = existing.get((write.target.pk, write.period, write.month))
        if saved is None:
            report.created += 1
        elif all(getattr(saved, name) == new for name, new in write.fields.items()):
            report.unchanged += 1
        else:
            report.updated += 1


def _checked_writes(
    read: Any, report: ImportReport, user: AbstractBaseUser | None, today: datetime.date
) -> list[ActualWrite]:
    plans = _plans(read.branches, read.fiscal_year, user)
    targets = {
        (t.plan.branch.code, t.kpi.code): t
        for t in KpiTarget.objects.select_related("kpi", "plan__branch", "plan__fiscal_year").filter(
            plan__in=plans.values()
        )
    }
    saved = {
        (a.target_id, a.period, a.month): a
        for a in KpiActual.objects.filter(target__plan__in=plans.values()).order_by()
    }
    locked = {
        (r.plan_id, r.month): r
        for r in MonthReport.objects.filter(plan__in=plans.values()).order_by()
        if r.is_locked(today)
    }
    for (branch, code), place in read.code_places.items():
        if (branch, code) not in targets:
            plan = plans[branch]
            report.problems.append(
                (place, NOT_IN_PLAN.format(code=code, branch=plan.branch, year=fiscal.reiwa_label(read.fiscal_year)))
            )
    since = _changed_since(read.exported_at, [p.pk for p in plans.values()], user)
    writes: list[ActualWrite] = []
    places: dict[tuple[int, str, Any], Place] = {}
    for (branch, code, period, month), cells in read.cells.items():
        target = targets.get((branch, code))
        if target is None:
            continue
        current = saved.get((target.pk, period, month))
        new = _figures(target.kpi, cells, current, target.precision, report.problems)
        if new is None:
            continue
        write = ActualWrite(target=target, period=period, month=month, **new)
        unchanged = current is not None and all(getattr(current, k) == v for k, v in write.fields.items())
        if not unchanged and (target.pk, period, month) in since:
            place = min(raw.place for raw in cells.values())
            if _as_downloaded(since[(target.pk, period, month)], new, cells):  # an old copy: keep the screen's
                report.warnings.append((place, CHANGED_ON_SCREEN_KEPT.format(saved=_saved(current))))
            else:  # changed in both places: the user decides
                report.problems.append((place, CHANGED_ON_SCREEN.format(saved=_saved(current))))
            continue
        lock = locked.get((target.plan_id, month)) if period != KpiActual.Period.YEAR_END else None
        if lock is not None and not unchanged:
            place = min(raw.place for raw in cells.values())
            report.problems.append((place, MONTH_LOCKED_MESSAGE.format(month=fiscal.month_label(month))))
            continue
        writes.append(write)
        if not unchanged:
            places[(target.pk, period, month)] = cells.get("value", next(iter(cells.values()))).place
    _warn(writes, saved, places, report)
    return writes


def _changed_since(
    exported_at: datetime.datetime | None, plan_ids: list[int], user: AbstractBaseUser | None
) -> dict[tuple[int, str, Any], Any | None]:
    """The actuals saved or deleted after the workbook was downloaded, each with its history row as of the download
    (None: no figure then). Empty for a workbook that does not say when it was downloaded.

    The importing user's own imports since are not counted: a corrected copy of a workbook imported before
    (the same user, the same download) is imported again as usual."""
    if exported_at is None or not plan_ids:
        return {}
    history = KpiActual.history.model  # type: ignore[attr-defined]
    own_import = Q(source=KpiActual.Source.IMPORT) & ~Q(history_type="-")
    own_import &= Q(history_user__isnull=True) if user is None else Q(history_user_id=user.pk)
    changed = set(
        history.objects.filter(target__plan_id__in=plan_ids, history_date__gt=exported_at)
        .exclude(own_import)
        .values_list("target_id", "period", "month")
        .distinct()
    )
    if not changed:
        return {}
    then: dict[tuple[int, str, Any], Any | None] = dict.fromkeys(changed)
    rows = history.objects.filter(target_id__in={key[0] for key in changed}, history_date__lte=exported_at).order_by(
        "history_date", "history_id"
    )
    for row in rows:
        key = (row.target_id, row.period, row.month)
        if key in then:
            then[key] = None if row.history_type == "-" else row
    return then


def _as_downloaded(then: Any | None, new: dict[str, Any], cells: dict[str, RawCell]) -> bool:
    """Whether the figure cells only repeat what the workbook was given (the figures as of the download)."""
    names = [*(["value", "text_value"] if "value" in cells else [])]
    names += [name for name in ("numerator", "denominator") if name in cells]
    if then is None:
        return False  # no figure then: the cell was typed
    return all(getattr(then, name) == new[name] for name in names)


def _saved(actual: KpiActual | None) -> str:
    if actual is None:
        return NO_SAVED_FIGURE
    if actual.value is not None:
        return _show(actual.value)
    return actual.text_value or NO_SAVED_FIGURE


def _show(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _warn(
    writes: list[ActualWrite],
    saved: dict[tuple[int, str, Any], KpiActual],
    places: dict[tuple[int, str, Any], Place],
    report: ImportReport,
) -> None:
    """The month screen's warnings for each changed monthly figure, against the figures after the import."""
    monthly = KpiActual.Period.MONTHLY
    changed = [w for w in writes if (w.target.pk, w.period, w.month) in places and w.period == monthly]
    changed = [w for w in changed if w.value is not None and w.target.kpi.is_numeric]
    if not changed:
        return
    after: dict[int, dict[datetime.date, Decimal]] = {}
    for (target_id, period, month), actual in saved.items():
        if period == monthly and actual.value is not None:
            after.setdefault(target_id, {})[month] = actual.value
    for write in writes:
        if write.period == monthly and write.value is not None:
            after.setdefault(write.target.pk, {})[write.month] = write.value  # type: ignore[index]
    targets = {w.target.pk: w.target for w in changed}
    past: dict[tuple[int, int], list[Decimal]] = {}
    history = KpiActual.objects.filter(
        target__plan__branch_id__in={t.plan.branch_id for t in targets.values()},
        target__kpi_id__in={t.kpi_id for t in targets.values()},
        target__plan__fiscal_year_id__lt=report.fiscal_year,
        period=monthly,
        value__isnull=False,
    ).order_by("month")
    for branch_id, kpi_id, value in history.values_list("target__plan__branch_id", "target__kpi_id", "value"):
        past.setdefault((branch_id, kpi_id), []).append(value)
    for write in changed:
        target, month, value = write.target, write.month, write.value
        assert month is not None and value is not None
        figures_of_year = after.get(target.pk, {})
        earlier = [v for m, v in sorted(figures_of_year.items()) if m < month]
        place = places[(target.pk, write.period, month)]
        previous = figures_of_year.get(_month_before(month))
        if entry.falls_below_previous(target.kpi.measure_basis, value, previous):
            report.warnings.append((place, FALLS_BELOW_PREVIOUS.format(previous=_show(previous))))  # type: ignore[arg-type]
        range_of = [*past.get((target.plan.branch_id, target.kpi_id), []), *earlier]
        if entry.outside_past_range(value, range_of):
            low, high = min(range_of), max(range_of)
            report.warnings.append((place, OUTSIDE_RANGE.format(low=_show(low), high=_show(high))))


def _month_before(month: datetime.date) -> datetime.date:
    return month.replace(year=month.year - 1, month=12) if month.month == 1 else month.replace(month=month.month - 1)
