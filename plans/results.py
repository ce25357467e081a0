"""Reads of a plan's KPI results: one row per KPI target with its figures, mark and projection.

A fixed number of queries per plan, whatever its size: the targets (with last year's year-end and the
national average annotated), this year's actuals, and last year's mid-year actuals for the projection.
"""

from __future__ import annotations

import datetime
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
    monthly: dict[datetime.date, Decimal] = field(default_factory=dict)  # monthly entries only
    series: dict[datetime.date, Decimal] = field(default_factory=dict)  # monthly and interim readings
    national_average: Decimal | None = None
    last_year_same_month: Decimal | None = None
    mark: Mark | None = None
    projection: Projection | None = None

    @property
    def kpi(self) -> Any:
        return self.target.kpi

    @property
    def mark_rank(self) -> int:
        """For sorting: ◎ 3, ○ 2, △ 1, not judged 0."""
        return {Mark.ABOVE: 3, Mark.AS_PLANNED: 2, Mark.BELOW: 1}.get(self.mark, 0) if self.mark else 0

    @property
    def projected_mark(self) -> Mark | None:
        return self.projection.mark_if_held if self.projection else None

    @property
    def reference(self) -> Decimal | None:
        """What the actual is held against: the fixed target or the yoy baseline."""
        return rules.reference_value(self.rule, self.baseline)



def _number(value: Decimal | None, text: str = "") -> Decimal | str | None:
    return value if value is not None else (text or None)


def targets_for_results(plan: Plan) -> list[KpiTarget]:
    actuals = KpiActual.objects.exclude(period=KpiActual.Period.YEAR_END).order_by("month", "period")
    return list(
        KpiTarget.objects.filter(plan=plan)
        .with_figures()
        .select_related("kpi", "measure", "measure__area")
        .prefetch_related(Prefetch("actuals", queryset=actuals, to_attr="mid_year_actuals"))
        .order_by("measure__area_id", "order", "id")
    )


def result_for(target: KpiTarget) -> KpiResult:
    """Build a row from a target annotated by ``KpiTarget.objects.with_figures()``.

    When the target's mid-year actuals were prefetched (``mid_year_actuals``) the monthly series is
    filled in too; the cross-branch matrix does without it.
    """
    rule = target.target_rule
    annotated: dict[str, Any] = target.__dict__
    previous_year_end: Decimal | None = annotated.get("previous_year_end")
    baseline = (rule.baseline if rule.baseline is not None else previous_year_end) if rule.is_yoy else None
    year_end = _number(annotated.get("year_end_value"), annotated.get("year_end_text") or "")
    monthly: dict[datetime.date, Decimal] = {}
    series: dict[datetime.date, Decimal] = {}
    for actual in annotated.get("mid_year_actuals", []):  # ordered monthly before interim: interim wins
        if actual.value is not None and actual.month is not None:
            series[actual.month] = actual.value
            if actual.period == KpiActual.Period.MONTHLY:
                monthly[actual.month] = actual.value
    result = KpiResult(
        target=target,
        rule=rule,
        baseline=baseline,
        previous_year_end=previous_year_end,
        year_end=year_end,
        latest=annotated.get("latest_value"),
        latest_month=annotated.get("latest_month"),
        monthly=dict(sorted(monthly.items())),
        series=dict(sorted(series.items())),
        national_average=annotated.get("national_average"),
        last_year_same_month=annotated.get("last_year_same_month"),
    )
    result.mark = target.judge(year_end, previous_year_end=previous_year_end) if year_end is not None else None
    if year_end is None:
        result.projection = project(target, rule, result)
    return result


def project(target: KpiTarget, rule: TargetRule, result: KpiResult) -> Projection | None:
    """A year-end projection from the newest mid-year figure, or None when there is nothing to project."""
    if (
        not isinstance(result.latest, Decimal)
        or result.latest_month is None
        or rule.kind in {RuleKind.NONE, RuleKind.DONE, RuleKind.FREQUENCY}
    ):
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
        last_year_same_month=result.last_year_same_month,
        last_year_end=result.previous_year_end,
        baseline=result.baseline,
        precision=target.precision,
        direction=target.kpi.direction,
        unit=target.kpi.unit,
    )


def plan_results(plan: Plan) -> list[KpiResult]:
    """Every KPI target of ``plan`` with its figures, official mark and projection (2 queries)."""
    targets = targets_for_results(plan)
    for target in targets:
        target.plan = plan  # already loaded: no query per row
    return [result_for(t) for t in targets]


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
