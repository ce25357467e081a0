"""A KPI target's result as a manager reads it: figures, official mark and projection.

``result_for`` turns one target annotated by ``KpiTarget.objects.with_figures()`` into a ``KpiResult``
without touching the database; the selectors in ``plans.selectors`` decide which targets to read.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from plans import fiscal, rules
from plans.models import Kpi, KpiActual, KpiTarget
from plans.rules import Mark, Projection, RuleKind, TargetRule

#: The annotations ``result_for`` reads; ``with_figures()`` sets them all.
FIGURES = (
    "plan_year",
    "year_end_value",
    "year_end_text",
    "latest_value",
    "latest_month",
    "previous_year_end",
    "last_year_same_month",
    "national_average",
)


class NotAnnotated(ValueError):
    """``result_for`` was given a target that was not read through ``with_figures()``."""


@dataclass
class KpiResult:
    """One KPI of a plan as a manager reads it."""

    target: KpiTarget
    rule: TargetRule
    fiscal_year: int
    baseline: Decimal | None  # the stated baseline, else last year's year-end, for a yoy rule
    previous_year_end: Decimal | None
    year_end: Decimal | str | None
    latest: Decimal | str | None  # the newest mid-year figure (interim report or monthly entry)
    latest_month: datetime.date | None
    monthly: dict[datetime.date, Decimal] = field(default_factory=dict)  # monthly entries only
    national_average: Decimal | None = None
    last_year_same_month: Decimal | None = None
    mark: Mark | None = None
    projection: Projection | None = None

    @property
    def kpi(self) -> Kpi:
        return self.target.kpi

    @property
    def name(self) -> str:
        """The KPI as the branch wrote it, else the catalog's name."""
        return self.target.name_as_written or self.target.kpi.name

    @property
    def mark_rank(self) -> int:
        """For sorting: ◎ 3, ○ 2, △ 1, not judged 0."""
        return rules.mark_rank(self.mark)

    @property
    def projected_mark(self) -> Mark | None:
        return self.projection.mark_if_held if self.projection else None

    @property
    def reference(self) -> Decimal | None:
        """What the actual is held against: the fixed target or the yoy baseline."""
        return rules.reference_value(self.rule, self.baseline)

    @property
    def figure(self) -> Decimal | None:
        """The newest numeric figure: the year-end actual, else the latest mid-year one."""
        if isinstance(self.year_end, Decimal):
            return self.year_end
        return self.latest if isinstance(self.latest, Decimal) else None


def _number(value: Decimal | None, text: str = "") -> Decimal | str | None:
    return value if value is not None else (text or None)


def result_for(target: KpiTarget, mid_year: Iterable[KpiActual] = ()) -> KpiResult:
    """Build a row from a target annotated by ``KpiTarget.objects.with_figures()`` (no query).

    ``mid_year`` are the target's monthly and interim actuals, ordered by month with monthly before
    interim; the monthly series is filled from them.
    """
    annotated: dict[str, Any] = target.__dict__
    missing = [name for name in FIGURES if name not in annotated]
    if missing or "kpi" not in target._state.fields_cache:
        raise NotAnnotated("result_for needs a target read through KpiTarget.objects.with_figures()")
    rule = target.target_rule
    previous_year_end: Decimal | None = annotated["previous_year_end"]
    baseline = (rule.baseline if rule.baseline is not None else previous_year_end) if rule.is_yoy else None
    year_end = _number(annotated["year_end_value"], annotated["year_end_text"] or "")
    monthly = {
        a.month: a.value
        for a in mid_year
        if a.period == KpiActual.Period.MONTHLY and a.value is not None and a.month is not None
    }
    result = KpiResult(
        target=target,
        rule=rule,
        fiscal_year=annotated["plan_year"],
        baseline=baseline,
        previous_year_end=previous_year_end,
        year_end=year_end,
        latest=annotated["latest_value"],
        latest_month=annotated["latest_month"],
        monthly=dict(sorted(monthly.items())),
        national_average=annotated["national_average"],
        last_year_same_month=annotated["last_year_same_month"],
    )
    if year_end is not None:
        result.mark = target.judge(year_end, previous_year_end=previous_year_end)
    else:
        result.projection = project(result)
    return result


def project(result: KpiResult) -> Projection | None:
    """A year-end projection from the newest mid-year figure, or None when there is nothing to project."""
    rule, target = result.rule, result.target
    if (
        not isinstance(result.latest, Decimal)
        or result.latest_month is None
        or rule.kind in {RuleKind.NONE, RuleKind.DONE, RuleKind.FREQUENCY}
    ):
        return None
    months = fiscal.fiscal_month_index_or_none(result.latest_month, result.fiscal_year)
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


def mark_counts(results: Iterable[KpiResult]) -> Counter[Mark | None]:
    """How many results stand at each mark (None: not judged yet)."""
    return Counter(r.mark for r in results)


def projected_counts(results: Iterable[KpiResult]) -> Counter[bool]:
    """Among results without a mark: how many are projected on track (True) or at risk (False)."""
    return Counter(
        r.projection.on_track for r in results if r.mark is None and r.projection and r.projection.on_track is not None
    )


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
        "name": result.name,
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
