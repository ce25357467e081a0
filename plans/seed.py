"""Load the seed fixtures (fixtures/seed/*.json) into the database.

Everything is read and validated before anything is written; the writes happen in one transaction and
are upserts by natural key, so loading twice changes nothing. The format is in fixtures/seed/FORMAT.md.

Reading never fails with a traceback: a file that is not JSON, a wrong shape (a list where an object is
expected, a string where an int is), a figure the models would refuse (plans.figures) and a text longer
than its model field are each reported with file and place, all of them at once, as one ``SeedError``.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models, transaction

from branches.models import Branch
from branches.prefectures import PREFECTURES
from plans import figures, fiscal, rules, versions
from plans.models import (
    Area,
    BudgetLine,
    FiscalYear,
    Kpi,
    KpiActual,
    KpiChange,
    KpiTarget,
    Measure,
    MeasureProgress,
    NationalAverage,
    Plan,
)
from plans.services import MonthLocked, actual_record

SEED_DIR = Path(settings.BASE_DIR) / "fixtures" / "seed"
CATALOG_FILE = "catalog.json"
MARKS = {mark.value for mark in rules.Mark}
EVALUATIONS = {*MARKS, rules.NOT_JUDGED}
GROUPS = {"", *Measure.Group.values}
SEED_REASON = "シードデータの読み込み"  # the reason every history row the loader writes carries
MAX_DECIMALS = 4  # what the decimal columns keep
YEAR_RANGE = f"fiscal_year {{year}} は{fiscal.FIRST_FISCAL_YEAR}〜{fiscal.LAST_FISCAL_YEAR}の整数です"
NUMERIC_KINDS = {Kpi.Kind.RATE, Kpi.Kind.COUNT, Kpi.Kind.AMOUNT, Kpi.Kind.DAYS}
_KPI_CODE = re.compile(r"[a-z0-9_]+")


SEED_MONTH_LOCKED = "{branch} {kpi}: {message}シードデータは読み込んでいません。"


class SeedError(Exception):
    """The seed files are wrong; the message lists every problem, file and place."""


@dataclass
class SeedReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: int = 0

    def count(self, model: type[models.Model], outcome: str) -> None:
        name = str(model._meta.verbose_name)
        if outcome == "created":
            self.created[name] += 1
        elif outcome == "updated":
            self.updated[name] += 1
        else:
            self.unchanged += 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        if not self.changed:
            return f"変更なし（{self.unchanged}件は登録済み）"
        parts = [f"{k} {v}件を登録" for k, v in self.created.items()]
        parts += [f"{k} {v}件を更新" for k, v in self.updated.items()]
        return "、".join(parts)


# --------------------------------------------------------------------------------------------------
# Reading and validating
# --------------------------------------------------------------------------------------------------


def _model_field(model: type[models.Model], name: str) -> Any:
    return model._meta.get_field(name)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} は数値として使えません")


def _load_json(path: Path) -> Any:
    """JSON numbers are read exactly (0.1 stays Decimal("0.1"), 93.90 keeps its two decimals); NaN is refused."""
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal, parse_constant=_refuse_constant)


def _is_int(raw: Any) -> bool:
    return isinstance(raw, int) and not isinstance(raw, bool)


def _describe(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 40 else f"{text[:37]}..."


class _Reader:
    """Collects every problem instead of stopping at the first one."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    # -- shapes --------------------------------------------------------------------------------------

    def mapping(self, where: str, raw: Any) -> dict[str, Any] | None:
        if isinstance(raw, dict):
            return raw
        self.error(where, f"オブジェクト {{...}} で書いてください（{_describe(raw)}）")
        return None

    def entries(self, where: str, parent: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
        """The objects of the list ``parent[key]`` with their places; a missing or null list is empty."""
        raw = parent.get(key)
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(where, f"{key} はリスト [...] で書いてください（{_describe(raw)}）")
            return []
        found = []
        for index, item in enumerate(raw):
            item_where = f"{where} {key}[{index}]".strip()
            if self.mapping(item_where, item) is not None:
                found.append((item_where, item))
        return found

    def string(
        self,
        where: str,
        entry: dict[str, Any],
        key: str,
        model_field: tuple[type[models.Model], str] | None = None,
        *,
        required: bool = False,
    ) -> str:
        """A text value; "" for null. Longer than the model field's max_length is refused."""
        raw = entry.get(key)
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            self.error(where, f"{key} は文字列で書いてください（{_describe(raw)}）")
            return ""
        if required and not raw:
            self.error(where, f"{key} がありません")
        if model_field is not None:
            limit = _model_field(*model_field).max_length
            if limit is not None and len(raw) > limit:
                self.error(where, f"{key} は{limit}文字までです（{len(raw)}文字）")
        return raw

    def key(self, where: str, entry: dict[str, Any], key: str) -> str | None:
        """A reference to something by its key or code (a KPI code, a measure key): a string or null."""
        raw = entry.get(key)
        if raw is None or isinstance(raw, str):
            return raw
        self.error(where, f"{key} は文字列か null で書いてください（{_describe(raw)}）")
        return None

    def flag(self, where: str, entry: dict[str, Any], key: str, default: bool) -> bool:
        raw = entry.get(key, default)
        if raw is None:
            return default
        if not isinstance(raw, bool):
            self.error(where, f"{key} は true か false で書いてください（{_describe(raw)}）")
            return default
        return raw

    # -- values --------------------------------------------------------------------------------------

    def decimal(
        self,
        where: str,
        raw: Any,
        *,
        required: bool = False,
        model_field: tuple[type[models.Model], str] = (KpiActual, "value"),
    ) -> Decimal | None:
        """A figure, read by plans.figures with the decimals and digits of the column it goes into."""
        if raw is None or raw == "":
            if required:
                self.error(where, "値がありません")
            return None
        if not isinstance(raw, str | int | Decimal) or isinstance(raw, bool):
            self.error(where, f"数値は文字列で書いてください（{_describe(raw)}）")
            return None
        column = _model_field(*model_field)
        try:
            return figures.parse_figure(raw, decimal_places=column.decimal_places, max_digits=column.max_digits)
        except figures.FigureError as exc:
            self.error(where, str(exc))
            return None

    def month(self, where: str, raw: Any, fiscal_year: int | None = None) -> datetime.date | None:
        if raw is not None and not isinstance(raw, str):
            self.error(where, f"月は YYYY-MM で書いてください: {_describe(raw)}")
            return None
        try:
            month = fiscal.parse_month(raw)
        except ValueError:
            self.error(where, f"月は YYYY-MM で書いてください: {raw!r}")
            return None
        if (
            month is not None
            and fiscal_year is not None
            and not fiscal.in_year(month, fiscal_year)
        ):
            self.error(where, f"{raw} は{fiscal_year}年度の月ではありません")
        return month


@dataclass
class _ActualRow:
    period: str
    month: datetime.date | None
    value: Decimal | None
    text_value: str
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    is_cumulative: bool = True
    note: str = ""


@dataclass
class _TargetRow:
    kpi: str
    measure: str | None
    name: str
    target_text: str
    rule: rules.TargetRule
    note: str
    precision: int | None
    published_mark: str
    order: int
    actuals: list[_ActualRow]


@dataclass
class _PlanRow:
    branch: str
    fiscal_year: int
    source: str
    measures: dict[str, dict[str, Any]] = field(default_factory=dict)
    targets: dict[str, _TargetRow] = field(default_factory=dict)
    budget: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SeedData:
    kpis: dict[str, dict[str, Any]]
    lineage: dict[tuple[str, int, str], dict[str, Any]]
    plans: dict[tuple[str, int], _PlanRow]
    national_averages: dict[tuple[str, int, datetime.date | None], Decimal]

    @property
    def fiscal_years(self) -> set[int]:
        years = {fy for _, fy in self.plans}
        years |= {fy for _, fy, _ in self.lineage}
        return years


def read_seed(directory: Path = SEED_DIR) -> SeedData:
    reader = _Reader()
    catalog_path = directory / CATALOG_FILE
    try:
        catalog = _load_json(catalog_path)
    except (OSError, ValueError, RecursionError) as exc:
        raise SeedError(f"{catalog_path.name}: 読み込めません: {exc}") from exc
    if not isinstance(catalog, dict):
        reader.error(CATALOG_FILE, f"全体をオブジェクト {{...}} で書いてください（{_describe(catalog)}）")
        catalog = {}

    kpis: dict[str, dict[str, Any]] = {}
    for index, (where, entry) in enumerate(reader.entries(CATALOG_FILE, catalog, "kpis")):
        _read_kpi(reader, where, entry, kpis, is_national=True, order=index)
    lineage: dict[tuple[str, int, str], dict[str, Any]] = {}
    plans: dict[tuple[str, int], _PlanRow] = {}
    national: dict[tuple[str, int, datetime.date | None], Decimal] = {}
    branch_codes = {p.code for p in PREFECTURES}

    branch_files = sorted(p for p in directory.glob("*.json") if p.name != CATALOG_FILE)
    documents: list[tuple[str, dict[str, Any]]] = []
    for path in branch_files:
        try:
            doc = _load_json(path)
        except (OSError, ValueError, RecursionError) as exc:
            reader.error(path.name, f"JSONとして読めません: {exc}")
            continue
        if not isinstance(doc, dict):
            reader.error(path.name, f"全体をオブジェクト {{...}} で書いてください（{_describe(doc)}）")
            continue
        documents.append((path.name, doc))
    # Additions first, so every file may refer to every KPI.
    for name, doc in documents:
        for index, (where, entry) in enumerate(reader.entries(name, doc, "catalog_additions")):
            _read_kpi(reader, where, entry, kpis, is_national=False, order=1000 + index)
    for where, entry in reader.entries(CATALOG_FILE, catalog, "lineage"):
        _read_lineage(reader, where, entry, kpis, lineage)
    for name, doc in documents:
        for where, entry in reader.entries(name, doc, "lineage"):
            _read_lineage(reader, where, entry, kpis, lineage)
        branch = doc.get("branch")
        source = reader.string(name, doc, "source", (Plan, "source")) or name
        if not isinstance(branch, str) or branch not in branch_codes:
            reader.error(name, f"支部コード {_describe(branch)} は47支部にありません")
            continue
        for where, plan in reader.entries(name, doc, "plans"):
            _read_plan(reader, where, source, branch, plan, kpis, plans, national)
    for (branch, year), plan_row in plans.items():  # the sources of every file that covers the plan
        _check_length(reader, f"{branch} {year}年度の計画", "source", plan_row.source, (Plan, "source"))

    if reader.errors:
        raise SeedError("シードデータに誤りがあります:\n" + "\n".join(f"- {e}" for e in reader.errors))
    return SeedData(kpis=kpis, lineage=lineage, plans=plans, national_averages=national)


def _read_kpi(
    reader: _Reader,
    where: str,
    entry: dict[str, Any],
    kpis: dict[str, dict[str, Any]],
    *,
    is_national: bool,
    order: int,
) -> None:
    code = entry.get("code", "")
    limit = _model_field(Kpi, "code").max_length
    if not isinstance(code, str) or not _KPI_CODE.fullmatch(code):
        reader.error(where, f"KPIコード {_describe(code)} は英小文字・数字・_ で書いてください")
        return
    if len(code) > limit:
        reader.error(where, f"KPIコード {code} は{limit}文字までです（{len(code)}文字）")
        return
    if code in kpis:
        reader.error(where, f"KPIコード {code} が二重に定義されています")
        return
    checks = {
        "direction": Kpi.Direction.values,
        "kind": Kpi.Kind.values,
        "measure_basis": Kpi.MeasureBasis.values,
    }
    for key, allowed in checks.items():
        if entry.get(key) not in allowed:
            reader.error(where, f"{key} は {', '.join(allowed)} のいずれかです（{_describe(entry.get(key))}）")
    precision = entry.get("precision")
    if not _is_int(precision) or not 0 <= precision <= 4:
        reader.error(where, "precision は0から4の整数です")
    kpis[code] = {
        "name": reader.string(where, entry, "name", (Kpi, "name"), required=True),
        "unit": reader.string(where, entry, "unit", (Kpi, "unit")),
        "precision": precision if _is_int(precision) else 1,
        "direction": entry.get("direction"),
        "kind": entry.get("kind"),
        "measure_basis": entry.get("measure_basis"),
        "description": reader.string(where, entry, "description"),
        "is_national": is_national,
        "order": order,
    }


def _read_lineage(
    reader: _Reader,
    where: str,
    entry: dict[str, Any],
    kpis: dict[str, dict[str, Any]],
    lineage: dict[tuple[str, int, str], dict[str, Any]],
) -> None:
    code, year, change = entry.get("kpi"), entry.get("fiscal_year"), entry.get("change")
    if not isinstance(code, str) or code not in kpis:
        reader.error(where, f"KPIコード {_describe(code)} はカタログにありません")
        return
    if change not in KpiChange.Change.values:
        reader.error(where, f"change は {', '.join(KpiChange.Change.values)} のいずれかです")
        return
    if not _is_int(year) or not fiscal.FIRST_FISCAL_YEAR <= year <= fiscal.LAST_FISCAL_YEAR:
        reader.error(where, YEAR_RANGE.format(year=_describe(year)))
        return
    replaces = reader.key(where, entry, "replaces")
    if replaces is not None and replaces == code:
        reader.error(where, f"{code} は自分自身から変更されたことにはできません（replaces）")
        return
    if replaces is not None and (replaces not in kpis or change != "replaced"):
        reader.error(where, f"replaces {replaces!r} は change=replaced のときカタログのKPIを指します")
        return
    previous_name = reader.string(where, entry, "previous_name", (KpiChange, "previous_name"))
    note = reader.string(where, entry, "note").strip()
    key = (code, year, change)
    merged = lineage.setdefault(key, {"replaces": None, "previous_name": "", "notes": []})
    if replaces:
        if merged["replaces"] not in (None, replaces):
            reader.error(where, f"{code} の {year}年度の変更前KPIが資料によって異なります")
        merged["replaces"] = replaces
    if previous_name and not merged["previous_name"]:
        merged["previous_name"] = previous_name
    if note and note not in merged["notes"]:
        merged["notes"].append(note)


def _read_plan(
    reader: _Reader,
    where: str,
    source: str,
    branch: str,
    entry: dict[str, Any],
    kpis: dict[str, dict[str, Any]],
    plans: dict[tuple[str, int], _PlanRow],
    national: dict[tuple[str, int, datetime.date | None], Decimal],
) -> None:
    year = entry.get("fiscal_year")
    if not _is_int(year) or not fiscal.FIRST_FISCAL_YEAR <= year <= fiscal.LAST_FISCAL_YEAR:
        reader.error(where, YEAR_RANGE.format(year=_describe(year)))
        return
    plan = plans.setdefault((branch, year), _PlanRow(branch=branch, fiscal_year=year, source=source))
    if source not in plan.source:
        plan.source = f"{plan.source}, {source}"

    for m_index, (m_where, measure) in enumerate(reader.entries(where, entry, "measures")):
        _read_measure(reader, m_where, measure, m_index, year, plan)
    for key, measure in plan.measures.items():
        parent = measure["parent"]
        if parent is not None and parent not in plan.measures:
            reader.error(f"{where} measures[{key}]", f"親施策 {parent} がありません")
        elif parent is not None and plan.measures[parent]["parent"] is not None:
            reader.error(f"{where} measures[{key}]", "施策の入れ子は1段までです")

    for k_index, (k_where, target) in enumerate(reader.entries(where, entry, "kpis")):
        _read_target(reader, k_where, target, year, k_index, kpis, plan, national)

    for b_where, line in reader.entries(where, entry, "budget"):
        budget_column = (BudgetLine, "budget_amount")
        budget = reader.decimal(f"{b_where} budget", line.get("budget"), required=True, model_field=budget_column)
        spent = reader.decimal(f"{b_where} spent", line.get("spent"), model_field=(BudgetLine, "spent_amount"))
        for label, amount in (("budget", budget), ("spent", spent)):
            if amount is not None and amount < 0:
                reader.error(f"{b_where} {label}", f"負の数は入力できません（{amount}）")
        row = {
            "programme": reader.string(b_where, line, "programme", (BudgetLine, "programme"), required=True),
            "category": reader.string(b_where, line, "category", (BudgetLine, "category")),
            "note": reader.string(b_where, line, "note", (BudgetLine, "note")),
        }
        plan.budget.append({**row, "_budget": budget, "_spent": spent, "_order": len(plan.budget)})


def _read_measure(reader: _Reader, where: str, measure: dict[str, Any], order: int, year: int, plan: _PlanRow) -> None:
    key = reader.key(where, measure, "key")
    if not key:
        reader.error(where, "key がありません")
        return
    _check_length(reader, where, "key", key, (Measure, "key"))
    if key in plan.measures:
        reader.error(where, f"施策キー {key} が重複しています")
        return
    area = measure.get("area")
    if not _is_int(area) or area not in (1, 2, 3):
        reader.error(where, "area は1・2・3のいずれかです")
    group = reader.string(where, measure, "group")
    if group not in GROUPS:
        reader.error(where, f"group {group!r} は企画総務・業務・レセプト・保健のいずれかです")
    row: dict[str, Any] = {
        "area": area,
        "group": group,
        "number": reader.string(where, measure, "number", (Measure, "number")),
        "title": reader.string(where, measure, "title", (Measure, "title"), required=True),
        "body": reader.string(where, measure, "body"),
        "importance_high": reader.flag(where, measure, "importance_high", False),
        "importance_text": reader.string(where, measure, "importance_text"),
        "difficulty_high": reader.flag(where, measure, "difficulty_high", False),
        "difficulty_text": reader.string(where, measure, "difficulty_text"),
        "parent": reader.key(where, measure, "parent"),
        "_order": order,
        "progress": [],
    }
    periods: set[str] = set()
    for p_where, progress in reader.entries(where, measure, "progress"):
        period = reader.string(p_where, progress, "period", (MeasureProgress, "period"), required=True)
        if period in periods:
            reader.error(p_where, f"period {period} が重複しています")
        periods.add(period)
        raw_evaluation = reader.string(p_where, progress, "evaluation")
        evaluation = (raw_evaluation or "－").replace("〇", "○").replace("-", "－")
        if evaluation not in EVALUATIONS:
            reader.error(p_where, f"evaluation {raw_evaluation!r} は ◎ ○ △ － のいずれかです")
        row["progress"].append(
            {
                "period": period,
                "status": reader.string(p_where, progress, "status"),
                "next_steps": reader.string(p_where, progress, "next_steps"),
                "evaluation": evaluation,
                "_as_of": reader.month(f"{p_where} as_of", progress.get("as_of"), year),
            }
        )
    plan.measures[key] = row


def _check_length(
    reader: _Reader, where: str, key: str, value: str, model_field: tuple[type[models.Model], str]
) -> None:
    limit = _model_field(*model_field).max_length
    if len(value) > limit:
        reader.error(where, f"{key} は{limit}文字までです（{len(value)}文字）")


def _read_actual(
    reader: _Reader,
    where: str,
    row: dict[str, Any],
    kpi: dict[str, Any],
    period: str,
    month: datetime.date | None,
    cumulative_default: bool,
) -> _ActualRow:
    """One actual: a figure for a numeric KPI, text (実施) or a number of months for the others.

    A numeric KPI never gets text: "72.2%" is refused with the reason rather than kept as a text actual.
    """
    raw = row.get("value")
    value: Decimal | None = None
    text_value = ""
    if kpi["kind"] in NUMERIC_KINDS or not isinstance(raw, str):
        value = reader.decimal(f"{where} value", raw, required=True)
    else:
        try:  # a number of months for a frequency KPI; for a qualitative one check_actual refuses it
            value = figures.parse_figure(raw)
        except figures.FigureError:
            value = None
        if value is None:
            text_value = reader.string(where, row, "value", (KpiActual, "text_value"), required=True)
    numerator, denominator = (
        reader.decimal(f"{where} {name}", row.get(name), model_field=(KpiActual, name))
        for name in ("numerator", "denominator")
    )
    for problem in figures.check_actual(
        kind=kpi["kind"],
        unit=kpi["unit"],
        value=value,
        numerator=numerator,
        denominator=denominator,
        text_value=text_value,
    ):
        reader.error(where, problem.message)
    return _ActualRow(
        period,
        month,
        value,
        text_value,
        numerator=numerator,
        denominator=denominator,
        is_cumulative=reader.flag(where, row, "cumulative", cumulative_default),
        note=reader.string(where, row, "note", (KpiActual, "note")),
    )


def _read_target(
    reader: _Reader,
    where: str,
    entry: dict[str, Any],
    year: int,
    order: int,
    kpis: dict[str, dict[str, Any]],
    plan: _PlanRow,
    national: dict[tuple[str, int, datetime.date | None], Decimal],
) -> None:
    code = entry.get("kpi")
    if not isinstance(code, str) or code not in kpis:
        reader.error(where, f"KPIコード {_describe(code)} はカタログにありません")
        return
    if code in plan.targets:
        reader.error(where, f"{code} が同じ計画に二度あります")
        return
    measure = reader.key(where, entry, "measure")
    if measure is not None and measure not in plan.measures:
        reader.error(where, f"施策キー {measure} がこの計画にありません")
    text = reader.string(where, entry, "target_text", (KpiTarget, "target_text"))
    try:
        rule = rules.parse_target(text)
    except rules.TargetParseError as exc:
        reader.error(where, str(exc))
        return
    for figure in (rule.value, rule.baseline):
        if figure is not None and -figure.as_tuple().exponent > MAX_DECIMALS:  # type: ignore[operator]
            reader.error(where, f"目標「{text}」の数値は小数点以下{MAX_DECIMALS}桁までです")
    raw_mark = reader.string(where, entry, "published_mark")
    mark = raw_mark.replace("〇", "○")
    if mark and mark not in MARKS:
        reader.error(where, f"published_mark {mark!r} は ◎ ○ △ のいずれかです")
    precision = entry.get("precision")
    if precision is not None and (not _is_int(precision) or not 0 <= precision <= 4):
        reader.error(where, "precision は0から4の整数か null です")
        precision = None

    kpi = kpis[code]
    actuals: list[_ActualRow] = []
    year_end = entry.get("year_end")
    if year_end is not None and reader.mapping(f"{where} year_end", year_end) is not None:
        actuals.append(_read_actual(reader, f"{where} year_end", year_end, kpi, KpiActual.Period.YEAR_END, None, True))
    cumulative_default = kpi["measure_basis"] != Kpi.MeasureBasis.SINGLE_MONTH
    for period, key, month_key in (
        (KpiActual.Period.INTERIM, "interim", "as_of"),
        (KpiActual.Period.MONTHLY, "monthly", "month"),
    ):
        seen: set[datetime.date] = set()
        for a_where, row in reader.entries(where, entry, key):
            month = reader.month(a_where, row.get(month_key), year)
            if month is None:
                reader.error(a_where, f"{month_key} がありません")
                continue
            if month in seen:
                reader.error(a_where, f"{month:%Y-%m} が重複しています")
                continue
            seen.add(month)
            actuals.append(_read_actual(reader, a_where, row, kpi, period, month, cumulative_default))
    for n_where, row in reader.entries(where, entry, "national_averages"):
        value = reader.decimal(n_where, row.get("value"), required=True, model_field=(NationalAverage, "value"))
        as_of = reader.month(n_where, row.get("as_of"), year)
        if value is None:
            continue
        key3 = (code, year, as_of)
        if key3 in national and national[key3] != value:
            reader.error(n_where, f"全国平均が資料によって異なります（{national[key3]} と {value}）")
        national[key3] = value

    plan.targets[code] = _TargetRow(
        kpi=code,
        measure=measure,
        name=reader.string(where, entry, "name", (KpiTarget, "name_as_written")),
        target_text=text,
        rule=rule,
        note=reader.string(where, entry, "note", (KpiTarget, "note")),
        precision=precision,
        published_mark=mark,
        order=order,
        actuals=actuals,
    )


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def _upsert(
    report: SeedReport, model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any]
) -> models.Model:
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.save()
        report.count(model, "created")
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        if any(f.name == "version" for f in model._meta.concrete_fields):
            obj.version += 1  # type: ignore[attr-defined]  # an open form holding the old text now meets a conflict
            changed.append("version")
        obj._change_reason = SEED_REASON  # type: ignore[attr-defined]
        obj.save(update_fields=changed)
        report.count(model, "updated")
    else:
        report.count(model, "unchanged")
    return obj


def load_seed(directory: Path = SEED_DIR) -> SeedReport:
    """Validate the whole seed, then write it in one transaction. Raises ``SeedError``, writing nothing."""
    data = read_seed(directory)
    report = SeedReport()
    with transaction.atomic():
        versions.bump()  # every page; the rows below bump their own scopes too (plans.signals)
        created = Branch.objects.sync_prefectures()
        if created:
            report.created[str(Branch._meta.verbose_name)] += created
        Area.sync()
        previous_years = {y - 1 for y in data.fiscal_years if y > fiscal.FIRST_FISCAL_YEAR}  # none before the first
        for year in sorted(data.fiscal_years | previous_years):
            _upsert(report, FiscalYear, {"year": year}, {})
        _write_catalog(report, data)
        branches = {b.code: b for b in Branch.objects.all()}
        areas = {a.number: a for a in Area.objects.all()}
        kpis = {k.code: k for k in Kpi.objects.all()}
        for (code, _year), plan_row in sorted(data.plans.items()):
            _write_plan(report, plan_row, branches[code], areas, kpis)
        for (code, year, as_of), value in sorted(
            data.national_averages.items(), key=lambda i: (i[0][0], i[0][1], i[0][2] or datetime.date.min)
        ):
            _upsert(
                report, NationalAverage, {"kpi": kpis[code], "fiscal_year_id": year, "as_of": as_of}, {"value": value}
            )
    return report


def _write_catalog(report: SeedReport, data: SeedData) -> None:
    kpis: dict[str, Kpi] = {}
    for code, values in data.kpis.items():
        kpis[code] = _upsert(report, Kpi, {"code": code}, values)  # type: ignore[assignment]
    for (code, year, change), entry in sorted(data.lineage.items()):
        replaces = kpis[entry["replaces"]] if entry["replaces"] else None
        _upsert(
            report,
            KpiChange,
            {"kpi": kpis[code], "fiscal_year_id": year, "change": change},
            {"replaces": replaces, "previous_name": entry["previous_name"], "note": "\n".join(entry["notes"])},
        )
        if replaces is not None:
            _upsert(report, Kpi, {"code": replaces.code}, {"replaced_by": kpis[code]})


def _write_plan(
    report: SeedReport, row: _PlanRow, branch: Branch, areas: dict[int, Area], kpis: dict[str, Kpi]
) -> None:
    plan: Plan = _upsert(report, Plan, {"branch": branch, "fiscal_year_id": row.fiscal_year}, {"source": row.source})  # type: ignore[assignment]
    measures: dict[str, Measure] = {}
    # Parents first, so children can point at them.
    ordered = sorted(row.measures.items(), key=lambda item: (item[1].get("parent") is not None, item[1]["_order"]))
    for key, m in ordered:
        measures[key] = _upsert(  # type: ignore[assignment]
            report,
            Measure,
            {"plan": plan, "key": key},
            {
                "area": areas[m["area"]],
                "parent": measures[m["parent"]] if m.get("parent") else None,
                "number": m.get("number", "") or "",
                "title": m["title"],
                "group": m.get("group", "") or "",
                "body": m.get("body", "") or "",
                "importance_high": bool(m.get("importance_high")),
                "importance_text": m.get("importance_text", "") or "",
                "difficulty_high": bool(m.get("difficulty_high")),
                "difficulty_text": m.get("difficulty_text", "") or "",
                "order": m["_order"],
            },
        )
        for progress in m.get("progress", []):
            _upsert(
                report,
                MeasureProgress,
                {"measure": measures[key], "period": progress["period"]},
                {
                    "as_of": progress["_as_of"],
                    "status": progress.get("status", "") or "",
                    "evaluation": progress["evaluation"],
                    "next_steps": progress.get("next_steps", "") or "",
                },
            )
    for code, t in row.targets.items():
        target: KpiTarget = _upsert(  # type: ignore[assignment]
            report,
            KpiTarget,
            {"plan": plan, "kpi": kpis[code]},
            {
                "measure": measures.get(t.measure) if t.measure else None,
                "name_as_written": t.name,
                "target_text": t.target_text,
                "rule": t.rule.kind.value,
                "target_value": t.rule.value,
                "stated_baseline": t.rule.baseline,
                "precision_override": t.precision,
                "note": t.note,
                "published_mark": t.published_mark,
                "order": t.order,
            },
        )
        for a in t.actuals:
            try:
                _, outcome = actual_record(
                    target=target,
                    period=a.period,
                    month=a.month,
                    value=a.value,
                    text_value=a.text_value,
                    numerator=a.numerator,
                    denominator=a.denominator,
                    is_cumulative=a.is_cumulative,
                    note=a.note,
                    source=KpiActual.Source.SEED,
                    reason=SEED_REASON,
                )
            except MonthLocked as locked:
                # An approved month is the branch's word: the seed does not overwrite it (nothing is written).
                raise SeedError(SEED_MONTH_LOCKED.format(branch=branch, kpi=code, message=locked)) from locked
            report.count(KpiActual, outcome)
    for line in row.budget:
        _upsert(
            report,
            BudgetLine,
            {"plan": plan, "category": line.get("category", "") or "", "programme": line["programme"]},
            {
                "budget_amount": line["_budget"],
                "spent_amount": line["_spent"],
                "note": line.get("note", "") or "",
                "order": line["_order"],
            },
        )
