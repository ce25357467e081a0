"""Reads of a plan's KPI results: one row per KPI target with its figures, mark and projection.

A fixed number of queries per plan, whatever its size: the targets (with last year's year-end and the
national average annotated), this year's actuals, and last year's mid-year actuals for the projection.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch

from plans import rules
from plans.models import KpiActual, KpiTarget, Plan
from plans.rules import Mark, Projection, RuleKind, TargetRule


@dataclass
class KpiResult:
    """One KPI of a plan as a manager reads it."""

    target: KpiTarget
    rule: TargetRule
    baseline: Decimal | None  # the stated baseline, else last year's year-end, for a yoy rule
    previous_year_end: Decimal | None
    year_end: Decimal | str | None
    latest: Decimal | str | None  # the newest mid-year figure (interim report or monthly entry)
    latest_month: datetime.date | None
    monthly: dict[datetime.date, Decimal] = field(default_factory=dict)
    last_year_monthly: dict[datetime.date, Decimal] = field(default_factory=dict)
    national_average: Decimal | None = None
    mark: Mark | None = None
    projection: Projection | None = None

    @property
    def kpi(self) -> Any:
        return self.target.kpi

    @property
    def reference(self) -> Decimal | None:
        """What the actual is held against: the fixed target or the yoy baseline."""
        return rules.reference_value(self.rule, self.baseline)

    @property
    def definition_changed(self) -> bool:
        return bool(self.target.note) and any(w in self.target.note for w in ("基準変更", "算出方法変更", "変更"))


def _number(value: Decimal | None, text: str = "") -> Decimal | str | None:
    return value if value is not None else (text or None)


def targets_for_results(plan: Plan) -> list[KpiTarget]:
    actuals = KpiActual.objects.order_by("month")
    return list(
        KpiTarget.objects.filter(plan=plan)
        .with_figures()
        .select_related("kpi", "measure", "measure__area")
        .prefetch_related(Prefetch("actuals", queryset=actuals, to_attr="actual_list"))
        .order_by("measure__area_id", "order", "id")
    )


def last_year_series(plan: Plan) -> dict[int, dict[datetime.date, Decimal]]:
    """Last year's mid-year figures of the same branch, by KPI id, keyed by this year's months."""
    rows = (
        KpiActual.objects.filter(
            target__plan__branch_id=plan.branch_id,
            target__plan__fiscal_year_id=plan.fiscal_year_id - 1,
            value__isnull=False,
        )
        .exclude(period=KpiActual.Period.YEAR_END)
        .order_by("period")  # monthly before interim: an interim report overrides the monthly entry
        .values_list("target__kpi_id", "month", "value")
    )
    series: dict[int, dict[datetime.date, Decimal]] = defaultdict(dict)
    for kpi_id, month, value in rows:
        series[kpi_id][month.replace(year=month.year + 1)] = value
    return series


def result_for(target: KpiTarget, last_year: dict[datetime.date, Decimal]) -> KpiResult:
    rule = target.target_rule
    actual_list: list[KpiActual] = getattr(target, "actual_list", [])
    year_end_actual = next((a for a in actual_list if a.period == KpiActual.Period.YEAR_END), None)
    mid_year = [a for a in actual_list if a.period != KpiActual.Period.YEAR_END]
    # The newest month wins; at the same month an interim report wins over the monthly entry.
    latest = max(mid_year, key=lambda a: (a.month, a.period == KpiActual.Period.INTERIM), default=None)
    monthly: dict[datetime.date, Decimal] = {}
    for a in sorted(mid_year, key=lambda a: a.period):  # interim after monthly overrides it
        if a.value is not None and a.month is not None:
            monthly[a.month] = a.value
    previous_year_end: Decimal | None = getattr(target, "previous_year_end", None)
    baseline = (rule.baseline if rule.baseline is not None else previous_year_end) if rule.is_yoy else None
    year_end = _number(year_end_actual.value, year_end_actual.text_value) if year_end_actual else None
    result = KpiResult(
        target=target,
        rule=rule,
        baseline=baseline,
        previous_year_end=previous_year_end,
        year_end=year_end,
        latest=_number(latest.value, latest.text_value) if latest else None,
        latest_month=latest.month if latest else None,
        monthly=dict(sorted(monthly.items())),
        last_year_monthly=dict(sorted(last_year.items())),
        national_average=getattr(target, "national_average", None),
    )
    result.mark = target.judge(year_end, previous_year_end=previous_year_end) if year_end is not None else None
    if year_end is None:
        result.projection = project(target, rule, result)
    return result


def project(target: KpiTarget, rule: TargetRule, result: KpiResult) -> Projection | None:
    """A year-end projection from the newest mid-year figure, or None when there is nothing to project."""
    if not isinstance(result.latest, Decimal) or result.latest_month is None or rule.kind in {
        RuleKind.NONE, RuleKind.DONE, RuleKind.FREQUENCY
    }:
        return None
    fiscal_year = target.plan.fiscal_year_id
    months = rules.fiscal_month_index_or_none(result.latest_month.year, result.latest_month.month, fiscal_year)
    if months is None:
        return None
    return rules.project_year_end(
        rule,
        basis=target.kpi.measure_basis,
        latest=result.latest,
        months_elapsed=months,
        last_year_same_month=result.last_year_monthly.get(result.latest_month),
        last_year_end=result.previous_year_end,
        baseline=result.baseline,
        precision=target.precision,
        direction=target.kpi.direction,
    )


def plan_results(plan: Plan) -> list[KpiResult]:
    """Every KPI target of ``plan`` with its figures, official mark and projection (3 queries)."""
    targets = targets_for_results(plan)
    series = last_year_series(plan)
    for target in targets:
        target.plan = plan  # already loaded: no query per row
    return [result_for(t, series.get(t.kpi_id, {})) for t in targets]


def _json_number(value: Decimal | str | None) -> int | float | str | None:
    if value is None or isinstance(value, str):
        return value
    normalized = value.normalize()
    return int(normalized) if normalized == normalized.to_integral_value() else float(normalized)


def export_row(result: KpiResult) -> dict[str, Any]:
    """The documented machine interface of ``export_results`` (README: keep it stable)."""
    target = result.target
    interim_month = result.latest_month
    return {
        "kpi": target.kpi.code,
        "name": target.name_as_written or target.kpi.name,
        "unit": target.kpi.unit,
        "target_text": target.target_text,
        "rule": result.rule.kind.value,
        "target": _json_number(result.rule.value),
        "baseline": _json_number(result.baseline),
        "actual": _json_number(result.year_end),
        "interim": _json_number(result.latest),
        "as_of": interim_month.strftime("%Y-%m") if interim_month else None,
        "monthly": {month.strftime("%Y-%m"): _json_number(value) for month, value in result.monthly.items()},
        "national_average": _json_number(result.national_average),
        "mark": result.mark.value if result.mark else None,
    }
