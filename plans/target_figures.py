"""A target's dashboard figures computed from plain rows: what ``KpiTarget.objects.with_figures()`` annotates, for
the few targets whose result a page computes again after a save (``plans.selectors.plan_results``).

``with_figures`` runs nine correlated subqueries per target: right for a whole plan or the national matrix, but
for one or two targets compiling and planning that SQL costs more than the figures. This module takes the rows a
caller read with simple queries (the targets' actuals and those of the same branch's targets of the same KPI last
year, the year's national averages and the KPIs' lineage breaks) and computes the same figures. Pure: no query.

Decisions (each one what ``with_figures`` does, so the two never disagree: tests/test_target_figures.py):
- The newest mid-year figure is the monthly or interim actual with the latest month; at the same month an interim
  report wins over the monthly entry (``ORDER BY month DESC, period``: "interim" sorts before "monthly"). It is
  that row's figure even when it holds text only (``latest_value`` None).
- Last year's figure at the same month is last year's monthly or interim actual with a number at the same month of
  the fiscal year (``fiscal_month``, April = 1) as the newest figure, the interim one first. With no newest figure
  there is none.
- A year-end figure, last year's year-end, the national average (year-end: no as-of month) are each at most one
  row (unique constraints); missing ones are None. ``year_end_text`` is the year-end row's text ("" when it has a
  number only) or None without a year-end row.
- Two of last year's rows of the same period at the same fiscal month (months in two calendar years: only actuals
  dated outside their plan's year) are an order ``with_figures`` leaves to the database; here the first row given
  wins. The tests draw months inside each plan's year.
- Figures are returned as given: the caller reads decimals as the subqueries do (``selectors._as_subquery_reads``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

#: An actual as the caller reads it: its target's pk, period ("monthly", "interim", "year_end"), month (None for a
#: year-end figure), fiscal month (April = 1; None for a year-end figure), value and text value.
ActualRow = tuple[int, str, datetime.date | None, int | None, Decimal | None, str]

YEAR_END = "year_end"
INTERIM = "interim"


@dataclass(frozen=True)
class TargetFigures:
    """The figures ``KpiTarget.objects.with_figures()`` annotates on a target, under the same names."""

    plan_year: int
    year_end_value: Decimal | None
    year_end_text: str | None
    latest_value: Decimal | None
    latest_month: datetime.date | None
    latest_fiscal_month: int | None
    previous_year_end: Decimal | None
    last_year_same_month: Decimal | None
    national_average: Decimal | None
    baseline_breaks: bool

    def annotate(self, target: Any) -> None:
        """Set the figures on ``target`` as ``with_figures`` annotates them (``plans.results.result_for`` reads
        them)."""
        target.__dict__.update(vars(self))


@dataclass(frozen=True)
class YearFacts:
    """What the targets of one fiscal year share: each KPI's year-end national average (KPI pk → value) and the KPIs
    replaced or redefined that year (``KpiChange.BREAKS``)."""

    national_averages: dict[int, Decimal]
    breaks: frozenset[int]


def _newest_mid_year(rows: Iterable[ActualRow]) -> ActualRow | None:
    """The row ``ORDER BY month DESC, period`` puts first among the monthly and interim rows."""
    mid_year = [row for row in rows if row[1] != YEAR_END and row[2] is not None]
    if not mid_year:
        return None
    newest_month = max(row[2] for row in mid_year if row[2] is not None)
    return min((row for row in mid_year if row[2] == newest_month), key=lambda row: row[1])


def _year_end(rows: Iterable[ActualRow]) -> ActualRow | None:
    return next((row for row in rows if row[1] == YEAR_END), None)


def _same_month_last_year(rows: Iterable[ActualRow], fiscal_month: int | None) -> Decimal | None:
    """Last year's number at ``fiscal_month`` (monthly or interim, the interim one first)."""
    if fiscal_month is None:
        return None
    found = [row for row in rows if row[1] != YEAR_END and row[3] == fiscal_month and row[4] is not None]
    if not found:
        return None
    return min(found, key=lambda row: row[1])[4]


def figures_of(
    plan_year: int,
    actuals: Sequence[ActualRow],
    last_year_actuals: Sequence[ActualRow],
    *,
    national_average: Decimal | None,
    baseline_breaks: bool,
) -> TargetFigures:
    """The figures of a target of ``plan_year`` from its ``actuals``, the ``last_year_actuals`` of the same
    branch's target of the same KPI last year (empty without one), this year's year-end ``national_average`` of
    its KPI and whether its KPI was replaced or redefined this year (``baseline_breaks``)."""
    year_end = _year_end(actuals)
    newest = _newest_mid_year(actuals)
    last_year_end = _year_end(last_year_actuals)
    latest_fiscal_month = newest[3] if newest else None
    return TargetFigures(
        plan_year=plan_year,
        year_end_value=year_end[4] if year_end else None,
        year_end_text=year_end[5] if year_end else None,
        latest_value=newest[4] if newest else None,
        latest_month=newest[2] if newest else None,
        latest_fiscal_month=latest_fiscal_month,
        previous_year_end=last_year_end[4] if last_year_end else None,
        last_year_same_month=_same_month_last_year(last_year_actuals, latest_fiscal_month),
        national_average=national_average,
        baseline_breaks=baseline_breaks,
    )
