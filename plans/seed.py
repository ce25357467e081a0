"""Load the seed fixtures (fixtures/seed/*.json) into the database.

Everything is read and validated before anything is written; the writes happen in one transaction and
are upserts by natural key, so loading twice changes nothing. The format is in fixtures/seed/FORMAT.md.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models, transaction

from branches.models import Branch
from branches.prefectures import PREFECTURES
from plans import fiscal, rules
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
from plans.services import actual_record

SEED_DIR = Path(settings.BASE_DIR) / "fixtures" / "seed"
CATALOG_FILE = "catalog.json"
MARKS = {mark.value for mark in rules.Mark}
EVALUATIONS = {*MARKS, rules.NOT_JUDGED}
GROUPS = {"", *Measure.Group.values}
MAX_DECIMALS = 4  # what the decimal columns keep


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


class _Reader:
    """Collects every problem instead of stopping at the first one."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def decimal(self, where: str, raw: Any, *, required: bool = False) -> Decimal | None:
        if raw is None or raw == "":
            if required:
                self.error(where, "値がありません")
            return None
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            self.error(where, f"数値ではありません: {raw!r}")
            return None
        if not value.is_finite():
            self.error(where, f"数値ではありません: {raw!r}")
            return None
        if -value.as_tuple().exponent > MAX_DECIMALS:  # type: ignore[operator]
            self.error(where, f"小数点以下は{MAX_DECIMALS}桁までです: {raw!r}")
            return None
        return value

    def month(self, where: str, raw: Any, fiscal_year: int | None = None) -> datetime.date | None:
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


def _actual_value(reader: _Reader, where: str, raw: Any) -> tuple[Decimal | None, str]:
    """A numeric actual as Decimal, a qualitative one (実施) as text."""
    if isinstance(raw, str) and raw and not raw.replace(".", "", 1).replace("-", "", 1).isdigit():
        return None, raw
    return reader.decimal(where, raw, required=True), ""


def read_seed(directory: Path = SEED_DIR) -> SeedData:
    reader = _Reader()
    catalog_path = directory / CATALOG_FILE
    try:
        catalog = json.loads(catalog_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SeedError(f"{catalog_path.name}: 読み込めません: {exc}") from exc

    kpis: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(catalog.get("kpis", [])):
        _read_kpi(reader, f"{CATALOG_FILE} kpis[{index}]", entry, kpis, is_national=True, order=index)
    lineage: dict[tuple[str, int, str], dict[str, Any]] = {}
    plans: dict[tuple[str, int], _PlanRow] = {}
    national: dict[tuple[str, int, datetime.date | None], Decimal] = {}
    branch_codes = {p.code for p in PREFECTURES}

    branch_files = sorted(p for p in directory.glob("*.json") if p.name != CATALOG_FILE)
    documents = []
    for path in branch_files:
        try:
            documents.append((path.name, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, json.JSONDecodeError) as exc:
            reader.error(path.name, f"JSONとして読めません: {exc}")
    # Additions first, so every file may refer to every KPI.
    for name, doc in documents:
        for index, entry in enumerate(doc.get("catalog_additions", [])):
            _read_kpi(reader, f"{name} catalog_additions[{index}]", entry, kpis, is_national=False, order=1000 + index)
    for name, doc in documents:
        for index, entry in enumerate([*catalog.get("lineage", []), *doc.get("lineage", [])]):
            _read_lineage(reader, f"{name} lineage[{index}]", entry, kpis, lineage)
        branch = doc.get("branch")
        if branch not in branch_codes:
            reader.error(name, f"支部コード {branch!r} は47支部にありません")
            continue
        for p_index, plan in enumerate(doc.get("plans", [])):
            _read_plan(
                reader, f"{name} plans[{p_index}]", name, doc.get("source", name), branch, plan, kpis, plans, national
            )

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
    if not code or not code.replace("_", "").isalnum() or code != code.lower():
        reader.error(where, f"KPIコード {code!r} は英小文字・数字・_ で書いてください")
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
            reader.error(where, f"{key} は {', '.join(allowed)} のいずれかです（{entry.get(key)!r}）")
    precision = entry.get("precision")
    if not isinstance(precision, int) or not 0 <= precision <= 4:
        reader.error(where, "precision は0から4の整数です")
    if not entry.get("name"):
        reader.error(where, "name がありません")
    kpis[code] = {
        "name": entry.get("name", ""),
        "unit": entry.get("unit", ""),
        "precision": precision if isinstance(precision, int) else 1,
        "direction": entry.get("direction"),
        "kind": entry.get("kind"),
        "measure_basis": entry.get("measure_basis"),
        "description": entry.get("description", ""),
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
    if code not in kpis:
        reader.error(where, f"KPIコード {code!r} はカタログにありません")
        return
    if change not in KpiChange.Change.values:
        reader.error(where, f"change は {', '.join(KpiChange.Change.values)} のいずれかです")
        return
    if not isinstance(year, int):
        reader.error(where, "fiscal_year は整数です")
        return
    replaces = entry.get("replaces")
    if replaces is not None and (replaces not in kpis or change != "replaced"):
        reader.error(where, f"replaces {replaces!r} は change=replaced のときカタログのKPIを指します")
        return
    key = (code, year, change)
    merged = lineage.setdefault(key, {"replaces": None, "previous_name": "", "notes": []})
    if replaces:
        if merged["replaces"] not in (None, replaces):
            reader.error(where, f"{code} の {year}年度の変更前KPIが資料によって異なります")
        merged["replaces"] = replaces
    if entry.get("previous_name") and not merged["previous_name"]:
        merged["previous_name"] = entry["previous_name"]
    note = (entry.get("note") or "").strip()
    if note and note not in merged["notes"]:
        merged["notes"].append(note)


def _read_plan(
    reader: _Reader,
    where: str,
    file_name: str,
    source: str,
    branch: str,
    entry: dict[str, Any],
    kpis: dict[str, dict[str, Any]],
    plans: dict[tuple[str, int], _PlanRow],
    national: dict[tuple[str, int, datetime.date | None], Decimal],
) -> None:
    year = entry.get("fiscal_year")
    if not isinstance(year, int) or not 2008 <= year <= 2100:
        reader.error(where, f"fiscal_year {year!r} は2008〜2100の整数です")
        return
    plan = plans.setdefault((branch, year), _PlanRow(branch=branch, fiscal_year=year, source=source))
    if source not in plan.source:
        plan.source = f"{plan.source}, {source}"

    for m_index, measure in enumerate(entry.get("measures", [])):
        m_where = f"{where} measures[{m_index}]"
        key = measure.get("key")
        if not key:
            reader.error(m_where, "key がありません")
            continue
        if key in plan.measures:
            reader.error(m_where, f"施策キー {key} が重複しています")
            continue
        if measure.get("area") not in (1, 2, 3):
            reader.error(m_where, "area は1・2・3のいずれかです")
        if measure.get("group", "") not in GROUPS:
            reader.error(m_where, f"group {measure.get('group')!r} は企画総務・業務・レセプト・保健のいずれかです")
        if not measure.get("title"):
            reader.error(m_where, "title がありません")
        for pr_index, progress in enumerate(measure.get("progress", [])):
            p_where = f"{m_where} progress[{pr_index}]"
            evaluation = (progress.get("evaluation") or "－").replace("〇", "○").replace("-", "－")
            if evaluation not in EVALUATIONS:
                reader.error(p_where, f"evaluation {progress.get('evaluation')!r} は ◎ ○ △ － のいずれかです")
            progress["evaluation"] = evaluation
            progress["_as_of"] = reader.month(f"{p_where} as_of", progress.get("as_of"), year)
            if not progress.get("period"):
                reader.error(p_where, "period がありません")
        plan.measures[key] = {**measure, "_order": m_index}
    for key, measure in plan.measures.items():
        parent = measure.get("parent")
        if parent is not None and parent not in plan.measures:
            reader.error(f"{where} measures[{key}]", f"親施策 {parent} がありません")
        elif parent is not None and plan.measures[parent].get("parent") is not None:
            reader.error(f"{where} measures[{key}]", "施策の入れ子は1段までです")

    for k_index, target in enumerate(entry.get("kpis", [])):
        _read_target(reader, f"{where} kpis[{k_index}]", target, year, k_index, kpis, plan, national)

    for b_index, line in enumerate(entry.get("budget", [])):
        b_where = f"{where} budget[{b_index}]"
        budget = reader.decimal(f"{b_where} budget", line.get("budget"), required=True)
        spent = reader.decimal(f"{b_where} spent", line.get("spent"))
        if not line.get("programme"):
            reader.error(b_where, "programme がありません")
        plan.budget.append({**line, "_budget": budget, "_spent": spent, "_order": len(plan.budget)})


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
    if code not in kpis:
        reader.error(where, f"KPIコード {code!r} はカタログにありません")
        return
    if code in plan.targets:
        reader.error(where, f"{code} が同じ計画に二度あります")
        return
    measure = entry.get("measure")
    if measure is not None and measure not in plan.measures:
        reader.error(where, f"施策キー {measure} がこの計画にありません")
    text = entry.get("target_text", "")
    try:
        rule = rules.parse_target(text)
    except rules.TargetParseError as exc:
        reader.error(where, str(exc))
        return
    for figure in (rule.value, rule.baseline):
        if figure is not None and -figure.as_tuple().exponent > MAX_DECIMALS:  # type: ignore[operator]
            reader.error(where, f"目標「{text}」の数値は小数点以下{MAX_DECIMALS}桁までです")
    mark = (entry.get("published_mark") or "").replace("〇", "○")
    if mark and mark not in MARKS:
        reader.error(where, f"published_mark {mark!r} は ◎ ○ △ のいずれかです")
    precision = entry.get("precision")
    if precision is not None and (not isinstance(precision, int) or not 0 <= precision <= 4):
        reader.error(where, "precision は0から4の整数か null です")

    actuals: list[_ActualRow] = []
    year_end = entry.get("year_end")
    if year_end is not None:
        value, text_value = _actual_value(reader, f"{where} year_end", year_end.get("value"))
        actuals.append(
            _ActualRow(
                KpiActual.Period.YEAR_END,
                None,
                value,
                text_value,
                numerator=reader.decimal(f"{where} year_end numerator", year_end.get("numerator")),
                denominator=reader.decimal(f"{where} year_end denominator", year_end.get("denominator")),
                note=year_end.get("note", "") or "",
            )
        )
    cumulative_default = kpis[code]["measure_basis"] != Kpi.MeasureBasis.SINGLE_MONTH
    for period, key, month_key in (
        (KpiActual.Period.INTERIM, "interim", "as_of"),
        (KpiActual.Period.MONTHLY, "monthly", "month"),
    ):
        seen: set[datetime.date] = set()
        for a_index, row in enumerate(entry.get(key, [])):
            a_where = f"{where} {key}[{a_index}]"
            month = reader.month(a_where, row.get(month_key), year)
            if month is None:
                reader.error(a_where, f"{month_key} がありません")
                continue
            if month in seen:
                reader.error(a_where, f"{month:%Y-%m} が重複しています")
                continue
            seen.add(month)
            value, text_value = _actual_value(reader, a_where, row.get("value"))
            actuals.append(
                _ActualRow(
                    period,
                    month,
                    value,
                    text_value,
                    numerator=reader.decimal(f"{a_where} numerator", row.get("numerator")),
                    denominator=reader.decimal(f"{a_where} denominator", row.get("denominator")),
                    is_cumulative=bool(row.get("cumulative", cumulative_default)),
                    note=row.get("note", "") or "",
                )
            )
    for actual in actuals:
        a_where = f"{where} {actual.period} {actual.month or ''}".rstrip()
        if actual.denominator is not None and actual.denominator <= 0:
            reader.error(a_where, "分母は0より大きい数です")
        elif (
            actual.numerator is not None
            and actual.denominator is not None
            and kpis[code]["kind"] == Kpi.Kind.RATE
            and actual.numerator > actual.denominator
        ):
            reader.error(a_where, "分子が分母より大きくなっています")
        if actual.numerator is not None and actual.numerator < 0:
            reader.error(a_where, "分子は0以上の数です")
    for n_index, row in enumerate(entry.get("national_averages", [])):
        n_where = f"{where} national_averages[{n_index}]"
        value = reader.decimal(n_where, row.get("value"), required=True)
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
        name=entry.get("name", "") or "",
        target_text=text,
        rule=rule,
        note=entry.get("note", "") or "",
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
        created = Branch.objects.sync_prefectures()
        if created:
            report.created[str(Branch._meta.verbose_name)] += created
        Area.sync()
        for year in sorted(data.fiscal_years | {y - 1 for y in data.fiscal_years}):
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
                reason="シードデータの読み込み",
            )
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
