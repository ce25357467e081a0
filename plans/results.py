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
from plans.rules import Mark, Projection, TargetRule, gettext_noop

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
    "baseline_breaks",
)

#: Shown where last year's figure would be the baseline but the KPI was redefined this year (※基準変更).
BASELINE_NOT_COMPARABLE = gettext_noop("比較不可（基準変更）")
#: Why a year-end actual under a year-over-year rule has no mark.
NO_MARK_BASELINE_NOT_COMPARABLE = gettext_noop(
    "基準変更のため前年度実績と比較できず、目標に基準値の記載もないため評価できません"
)
NO_MARK_NO_BASELINE = gettext_noop("前年度実績（基準値）がないため評価できません")


class NotAnnotated(ValueError):
    """``result_for`` was given a target that was not read through ``with_figures()``."""


@dataclass
class KpiResult:
    """One KPI of a plan as a manager reads it."""

    target: KpiTarget
    rule: TargetRule
    fiscal_year: int
    baseline: Decimal | None  # the stated baseline, else last year's comparable year-end, for a yoy rule
    previous_year_end: Decimal | None  # last year's year-end actual, comparable or not (see baseline_comparable)
    year_end: Decimal | str | None
    latest: Decimal | str | None  # the newest mid-year figure (interim report or monthly entry)
    latest_month: datetime.date | None
    monthly: dict[datetime.date, Decimal] = field(default_factory=dict)  # monthly entries only
    national_average: Decimal | None = None
    last_year_same_month: Decimal | None = None
    mark: Mark | None = None
    projection: Projection | None = None
    #: False when the KPI was replaced or redefined this year (※基準変更): last year's figures are then
    #: neither the yoy baseline nor a projection's reference, and are shown as 「比較不可（基準変更）」.
    baseline_comparable: bool = True
    #: The key it is kept under in Django's cache (``plans.result_cache``), or "" when it was not cached.
    cache_key: str = field(default="", compare=False, repr=False)

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
    def baseline_note(self) -> str | None:
        """「比較不可（基準変更）」 where a yoy baseline would come from before a definition change, else None."""
        if self.rule.is_yoy and self.rule.baseline is None and not self.baseline_comparable:
            return BASELINE_NOT_COMPARABLE
        return None

    @property
    def no_mark_reason(self) -> str | None:
        """Why a year-end actual under a year-over-year rule has no mark, else None."""
        if self.mark is not None or self.year_end is None or not self.rule.is_yoy or self.baseline is not None:
            return None
        return NO_MARK_NO_BASELINE if self.baseline_comparable else NO_MARK_BASELINE_NOT_COMPARABLE

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
    comparable = not annotated["baseline_breaks"]
    last_year = previous_year_end if comparable else None
    baseline = (rule.baseline if rule.baseline is not None else last_year) if rule.is_yoy else None
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
        baseline_comparable=comparable,
    )
    if year_end is not None:
        result.mark = target.judge(year_end, previous_year_end=last_year)
    else:
        result.projection = project(result)
    return result


def project(result: KpiResult) -> Projection | None:
    """A year-end projection from the newest mid-year figure, or None where there is nothing to project or
    no method fits (see ``rules.project_year_end``). Last year's figures are used only when comparable."""
    target = result.target
    if not isinstance(result.latest, Decimal) or result.latest_month is None:
        return None
    months = fiscal.fiscal_month_index_or_none(result.latest_month, result.fiscal_year)
    if months is None:
        return None
    comparable = result.baseline_comparable
    return rules.project_year_end(
        result.rule,
        basis=target.kpi.measure_basis,
        latest=result.latest,
        months_elapsed=months,
        last_year_same_month=result.last_year_same_month if comparable else None,
        last_year_end=result.previous_year_end if comparable else None,
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
