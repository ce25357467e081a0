"""Reads for the dashboards: a plan's results, one KPI's history, the national matrix and a KPI ranking.

Each selector runs a fixed number of queries whatever the data's size (pinned in tests/test_selectors.py)
and returns plain data for a thin view to render.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db import connection
from django.db.models import DecimalField, Exists, ExpressionWrapper, F, OuterRef, Prefetch, QuerySet, Subquery
from django.utils.translation import gettext_noop

from branches.models import Branch
from plans import result_cache, rules, target_figures, versions
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
from plans.results import KpiResult, mark_counts, result_for
from plans.rules import Mark


def _mid_year_actuals() -> Prefetch:
    """A target's monthly and interim actuals, by month, monthly before interim (so interim wins)."""
    actuals = KpiActual.objects.exclude(period=KpiActual.Period.YEAR_END).order_by("month", "period")
    return Prefetch("actuals", queryset=actuals, to_attr="mid_year_actuals")


def plan_results(plan: Plan, scopes: versions.Scopes | None = None) -> list[KpiResult]:
    """Every KPI target of ``plan`` with its figures, official mark and projection (2 queries).

    With ``scopes`` (the data versions the page read: ``plans.versions.scopes``), each target's result is taken
    from ``plans.result_cache`` where it is current: 1 query when none changed, 3 when some did (only those are
    computed, from rows: ``_recomputed``; 5 when the year's national averages and lineage breaks are not cached
    either)."""
    if scopes is None:
        return _results_of(_plan_targets().filter(plan=plan))
    year = plan.fiscal_year_id
    stamps = plan_target_stamps(plan.branch_id, year)
    last_year = {stamp.target_id: stamp.previous_id for stamp in stamps}

    def year_facts(fiscal_year: int) -> target_figures.YearFacts:
        return result_cache.year_facts(scopes, fiscal_year, _year_facts)

    return result_cache.results(stamps, scopes, lambda ids: _recomputed(ids, last_year, year_facts))


def plan_results_with_actuals(plan: Plan, scopes: versions.Scopes) -> list[KpiResult]:
    """``plan_results(plan, scopes)``, each target with its monthly and interim actuals (``mid_year_actuals``, by
    month, monthly before interim), as ``plan_results(plan)`` prefetches them: what the month screen shows and
    checks (2 queries when no result changed, 4 when some did: ``plan_results``' and the actuals, read after)."""
    results = plan_results(plan, scopes)
    actuals: dict[int, list[KpiActual]] = {}
    for actual in _plan_mid_year_actuals().filter(target__plan_id=plan.pk):
        actuals.setdefault(actual.target_id, []).append(actual)
    for result in results:
        result.target.mid_year_actuals = actuals.get(result.target.pk, [])  # type: ignore[attr-defined]
    return results


@functools.cache
def _plan_mid_year_actuals() -> QuerySet[KpiActual]:
    return KpiActual.objects.exclude(period=KpiActual.Period.YEAR_END).order_by("month", "period")


def recomputed_results(plan: Plan, target_ids: Collection[int], scopes: versions.Scopes) -> list[KpiResult]:
    """The results of ``plan``'s targets ``target_ids`` computed again from rows (``_recomputed``) whatever the
    cache holds: e.g. inside a save's transaction, after its writes, for the counts it gives (3 queries; 5 when the
    year's national averages and lineage breaks are not kept under ``scopes`` yet)."""
    last_year = {s.target_id: s.previous_id for s in plan_target_stamps(plan.branch_id, plan.fiscal_year_id)}

    def year_facts(fiscal_year: int) -> target_figures.YearFacts:
        return result_cache.year_facts(scopes, fiscal_year, _year_facts)

    return _recomputed(target_ids, last_year, year_facts)


def plan_target_stamps(branch_id: int, fiscal_year: int) -> list[result_cache.TargetStamp]:
    """``target_stamps`` of branch ``branch_id``'s plan for ``fiscal_year`` (with last year's plan), in the plan's
    order (area, order, id): the query ``plan_results`` runs before every page of a plan that changed, in SQL
    written once (building it through the ORM cost more than running it). 1 query."""
    quote = connection.ops.quote_name
    target, plan, measure = (quote(m._meta.db_table) for m in (KpiTarget, Plan, Measure))
    order = quote(KpiTarget._meta.get_field("order").column)
    sql = (
        f"SELECT t.id, t.data_version, p.fiscal_year_id, p.branch_id, t.kpi_id FROM {target} t "  # noqa: S608
        f"JOIN {plan} p ON t.plan_id = p.id LEFT OUTER JOIN {measure} m ON t.measure_id = m.id "
        f"WHERE p.branch_id = %s AND p.fiscal_year_id IN (%s, %s) ORDER BY p.fiscal_year_id, m.area_id, t.{order}, t.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [branch_id, fiscal_year - 1, fiscal_year])
        return _stamps_of(cursor.fetchall(), fiscal_year)[0]


def target_stamps(targets: QuerySet[KpiTarget], fiscal_year: int) -> list[result_cache.TargetStamp]:
    """The stamps of the targets of ``fiscal_year`` among ``targets``, in their order, each with the pk and stamp of
    the same branch's target of the same KPI last year (0 and 0 without one), which ``targets`` must also hold
    (1 query)."""
    return _stamps_and_branches(targets, fiscal_year)[0]


def _stamps_and_branches(
    targets: QuerySet[KpiTarget], fiscal_year: int
) -> tuple[list[result_cache.TargetStamp], dict[int, int]]:
    """``target_stamps``, and each of those targets' branch id by target pk (1 query)."""
    return _stamps_of(
        targets.values_list("pk", "data_version", "plan__fiscal_year_id", "plan__branch_id", "kpi_id"), fiscal_year
    )


def _stamps_of(
    rows: Iterable[tuple[int, int, int, int, int]], fiscal_year: int
) -> tuple[list[result_cache.TargetStamp], dict[int, int]]:
    """Stamps and branches from (pk, stamp, fiscal year, branch id, KPI id) rows, in their order."""
    rows = list(rows)
    previous = {(branch, kpi): (pk, stamp) for pk, stamp, year, branch, kpi in rows if year == fiscal_year - 1}
    this_year = [row for row in rows if row[2] == fiscal_year]
    stamps = [
        result_cache.TargetStamp(pk, stamp, year, *previous.get((branch, kpi), (0, 0)))
        for pk, stamp, year, branch, kpi in this_year
    ]
    return stamps, {pk: branch for pk, _stamp, _year, branch, _kpi in this_year}


def _cached_results(
    branch_ids: Collection[int], fiscal_year: int, scopes: versions.Scopes
) -> list[tuple[int, KpiResult]]:
    """(branch id, result) of every target of ``branch_ids``' plans for ``fiscal_year``, through
    ``plans.result_cache`` as ``plan_results(plan, scopes)`` reads them (the same keys: a result a branch's
    dashboard computed after a save is not computed again here): 1 query when none changed, 3 when some did."""
    targets = KpiTarget.objects.filter(
        plan__branch_id__in=branch_ids, plan__fiscal_year_id__in=(fiscal_year - 1, fiscal_year)
    )
    stamps, branch_of = _stamps_and_branches(targets.order_by(), fiscal_year)
    last_year = {stamp.target_id: stamp.previous_id for stamp in stamps}

    def year_facts(year: int) -> target_figures.YearFacts:
        return result_cache.year_facts(scopes, year, _year_facts)

    computed = result_cache.results(stamps, scopes, lambda ids: _recomputed(ids, last_year, year_facts))
    return [(branch_of[result.target.pk], result) for result in computed]


def _results_of(targets: QuerySet[KpiTarget]) -> list[KpiResult]:
    """The results of ``targets`` (read through ``_with_figures``), with their mid-year actuals (2 queries)."""
    return [result_for(t, t.mid_year_actuals) for t in targets.prefetch_related(_mid_year_actuals())]


def _recomputed(
    ids: Collection[int],
    last_year: Mapping[int, int],
    year_facts: Callable[[int], target_figures.YearFacts] | None = None,
) -> list[KpiResult]:
    """The results of the targets ``ids``, as ``_results_of`` computes them, from plain rows (2 queries whatever
    their number, and ``year_facts``' of each of their years): the targets with their KPI and measure, and the
    actuals of them and of their targets last year (``last_year``: a target's pk to that of the same branch's target
    of the same KPI last year, 0 without one). ``year_facts(fiscal year)`` gives the year's national averages and
    lineage breaks (default: ``_year_facts``, 2 queries). The figures ``with_figures`` annotates are computed by
    ``plans.target_figures`` (the few targets a save changed: compiling and planning nine subqueries would cost
    more than the figures)."""
    targets = list(_recomputed_targets().filter(pk__in=ids))
    if not targets:
        return []
    previous = {t.pk: last_year.get(t.pk, 0) for t in targets}
    rows: dict[int, list[target_figures.ActualRow]] = {}
    mid_year: dict[int, list[KpiActual]] = {}
    wanted = [t.pk for t in targets] + [pk for pk in previous.values() if pk]
    for pk, period, month, fiscal_month, figure, text, value in _actual_rows().filter(target_id__in=wanted):
        rows.setdefault(pk, []).append((pk, period, month, fiscal_month, figure, text))
        if period != KpiActual.Period.YEAR_END:  # as result_for reads a prefetched one (_mid_year_actuals)
            mid_year.setdefault(pk, []).append(KpiActual.from_db(None, _MID_YEAR_FIELDS, (pk, period, month, value)))
    facts = {year: (year_facts or _year_facts)(year) for year in sorted({t.plan_year for t in targets})}
    results = []
    for target in targets:
        year = facts[target.plan_year]
        target_figures.figures_of(
            target.plan_year,
            rows.get(target.pk, []),
            rows.get(previous[target.pk], []) if previous[target.pk] else [],
            national_average=year.national_averages.get(target.kpi_id),
            baseline_breaks=target.kpi_id in year.breaks,
        ).annotate(target)
        results.append(result_for(target, mid_year.get(target.pk, [])))
    return results


def _year_facts(fiscal_year: int) -> target_figures.YearFacts:
    """The year-end national averages of ``fiscal_year`` and the KPIs replaced or redefined in it (2 queries)."""
    return target_figures.YearFacts(
        national_averages=dict(_national_averages().filter(fiscal_year_id=fiscal_year)),
        breaks=frozenset(_breaks().filter(fiscal_year_id=fiscal_year)),
    )


#: The fields of an actual ``result_for`` reads (an actual built from a row is the one ``.only()`` would read).
_MID_YEAR_FIELDS = ("target_id", "period", "month", "value")


def _as_subquery_reads(field: str) -> ExpressionWrapper:
    """A decimal column as ``with_figures``' subqueries read it. On SQLite Django quantizes a column to its
    field's decimal places but not an expression (``Decimal("100.0000")`` as a column, ``Decimal("100")`` through a
    subquery): the figures from rows must be the same objects as those from subqueries (the page shows them, the
    cache keeps them). On PostgreSQL both are the column's numeric."""
    return ExpressionWrapper(F(field), output_field=DecimalField(max_digits=16, decimal_places=4))


@functools.cache
def _recomputed_targets() -> QuerySet[KpiTarget]:
    """The targets ``_recomputed`` reads: with their KPI, measure and area, as ``_plan_targets``, and their plan's
    fiscal year, but none of ``with_figures``' subqueries."""
    return (
        KpiTarget.objects.select_related("kpi", "measure", "measure__area")
        .annotate(plan_year=F("plan__fiscal_year"))
        .order_by()
    )


@functools.cache
def _actual_rows() -> QuerySet[KpiActual, tuple[Any, ...]]:
    """Actuals as (target pk, period, month, fiscal month, value as a subquery reads it, text value, value as a
    column reads it), by month, then period (``_mid_year_actuals``' order; the default ordering would join the
    targets)."""
    columns = ("target_id", "period", "month", "fiscal_month", _as_subquery_reads("value"), "text_value", "value")
    return KpiActual.objects.order_by("month", "period").values_list(*columns)


@functools.cache
def _national_averages() -> QuerySet[NationalAverage, tuple[int, Decimal]]:
    """Year-end national averages as (KPI pk, value) rows."""
    year_end = NationalAverage.objects.filter(as_of__isnull=True).order_by()
    return year_end.values_list("kpi_id", _as_subquery_reads("value"))


@functools.cache
def _breaks() -> QuerySet[KpiChange, int]:
    """The KPI of each replacement or redefinition of a KPI (``KpiChange.BREAKS``)."""
    return KpiChange.objects.filter(change__in=KpiChange.BREAKS).order_by().values_list("kpi_id", flat=True)


@functools.cache
def _with_figures() -> QuerySet[KpiTarget]:
    """``KpiTarget.objects.with_figures()``, built once per process: building its nine subqueries costs more than
    running them for a plan. Each selector filters a clone; this QuerySet itself is never evaluated."""
    return KpiTarget.objects.with_figures()


@functools.cache
def _plan_targets() -> QuerySet[KpiTarget]:
    return _with_figures().select_related("measure", "measure__area").order_by("measure__area_id", "order", "id")


def plan_years(branch: Branch) -> list[int]:
    """The fiscal years ``branch`` has a plan for, oldest first (1 query)."""
    return list(Plan.objects.filter(branch=branch).order_by("fiscal_year_id").values_list("fiscal_year_id", flat=True))


def years_with_plans() -> list[int]:
    """Every fiscal year any branch has a plan for, oldest first (1 query)."""
    return list(Plan.objects.order_by("fiscal_year_id").values_list("fiscal_year_id", flat=True).distinct())


# -- one KPI of one branch across years --------------------------------------------------------------


@dataclass
class KpiHistory:
    """One KPI of one branch: this year's result, every year's result, and the monthly series."""

    result: KpiResult
    years: list[KpiResult]  # one per fiscal year the branch planned this KPI, oldest first
    this_year: dict[datetime.date, Decimal]  # this year's mid-year readings (interim wins at a month)
    last_year: dict[datetime.date, Decimal]  # last year's, for the same-month comparison
    actuals: list[KpiActual]  # this year's monthly and interim actuals, with who entered them
    changes: list[KpiChange]  # the KPI's lineage (新設, 削除, 変更, 基準変更)

    @property
    def breaks(self) -> list[tuple[int, str]]:
        """(fiscal year, label) of each change that makes figures before and after not like for like."""
        return [(c.fiscal_year_id, c.get_change_display()) for c in self.changes if c.breaks_series]


def kpi_history(plan: Plan, kpi_code: str) -> KpiHistory | None:
    """``kpi_code`` in ``plan``'s branch across years, or None when ``plan`` has no such KPI (3 queries)."""
    targets = list(
        _with_figures().filter(plan__branch_id=plan.branch_id, kpi__code=kpi_code).order_by("plan__fiscal_year_id")
    )
    by_year = {t.plan_year: t for t in targets}  # type: ignore[attr-defined]
    year = plan.fiscal_year_id
    if year not in by_year:
        return None
    actuals = list(
        KpiActual.objects.filter(target__in=[t for y, t in by_year.items() if y in (year, year - 1)])
        .exclude(period=KpiActual.Period.YEAR_END)
        .select_related("entered_by")
        .order_by("month", "period")
    )
    this_target = by_year[year]
    mine = [a for a in actuals if a.target_id == this_target.pk]
    results = [result_for(t, mine if t is this_target else ()) for t in by_year.values()]
    series: dict[bool, dict[datetime.date, Decimal]] = {True: {}, False: {}}
    for actual in actuals:  # monthly before interim at the same month: the interim report wins
        if actual.value is not None and actual.month is not None:
            series[actual.target_id == this_target.pk][actual.month] = actual.value
    changes = list(KpiChange.objects.filter(kpi=this_target.kpi).select_related("replaces").order_by("fiscal_year_id"))
    return KpiHistory(
        result=next(r for r in results if r.fiscal_year == year),
        years=results,
        this_year=series[True],
        last_year=series[False],
        actuals=mine,
        changes=changes,
    )


# -- every branch for one fiscal year ----------------------------------------------------------------


@dataclass
class MatrixRow:
    branch: Branch
    cells: list[KpiResult | None]  # one per KPI column; None where the branch has no such target
    counts: dict[Mark | None, int] = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        return any(cell is not None for cell in self.cells)


@dataclass
class NationalMatrix:
    fiscal_year: FiscalYear
    kpis: list[Kpi]
    rows: list[MatrixRow]
    totals: dict[Mark | None, int]


def matrix_columns(fiscal_year: FiscalYear | int) -> list[Kpi]:
    """The KPIs any branch has a target for in ``fiscal_year``: the matrix's columns, in catalog order (1 query)."""
    year = fiscal_year.year if isinstance(fiscal_year, FiscalYear) else fiscal_year
    return list(Kpi.objects.filter(targets__plan__fiscal_year_id=year).distinct().order_by("order", "code"))


def _share_kpis(targets: Iterable[KpiTarget], kpis: dict[int, Kpi]) -> list[KpiTarget]:
    """Give each target the one shared instance of its KPI (read once) instead of a copy per row."""
    rows = list(targets)
    for target in rows:
        target._state.fields_cache["kpi"] = kpis[target.kpi_id]
    return rows


@functools.cache
def _matrix_targets() -> QuerySet[KpiTarget]:
    return _with_figures().select_related(None).annotate(plan_branch=F("plan__branch")).order_by()


#: Up to this many branches' rows, ``national_matrix`` given ``scopes`` reads the results through the result cache
#: (after a save: one branch's row); more (every row, nothing cached) in one query of the nine subqueries.
FEW_BRANCHES = 4


def national_matrix(
    fiscal_year: FiscalYear,
    *,
    every_branch: bool = False,
    branch_ids: Collection[int] | None = None,
    kpis: list[Kpi] | None = None,
    scopes: versions.Scopes | None = None,
) -> NationalMatrix:
    """Branches × KPIs for ``fiscal_year``: every target's result (3 queries; 2 given ``kpis``).

    Rows are the branches with a plan that year, in JIS order; ``every_branch`` lists all 47. ``branch_ids``
    reads only those branches' rows (the view caches each branch's row and reads the ones that changed);
    ``kpis`` are the columns (``matrix_columns``), read here when not given. With ``scopes`` (the versions the page
    read) and at most ``FEW_BRANCHES`` branches, their results come through ``plans.result_cache``
    (``_cached_results``: 2 queries when none changed, 4 when some did, given ``kpis``).
    """
    columns = matrix_columns(fiscal_year) if kpis is None else kpis
    branches = Branch.objects.all()
    if branch_ids is not None:
        branches = branches.filter(pk__in=branch_ids)
    cells: dict[tuple[int, int], KpiResult] = {}
    if branch_ids is not None and scopes is not None and len(branch_ids) <= FEW_BRANCHES:
        for branch_id, result in _cached_results(branch_ids, fiscal_year.year, scopes):
            cells[(branch_id, result.kpi.pk)] = result
    else:
        targets = _matrix_targets().filter(plan__fiscal_year=fiscal_year)
        if branch_ids is not None:
            targets = targets.filter(plan__branch_id__in=branch_ids)
        for target in _share_kpis(targets, {kpi.pk: kpi for kpi in columns}):
            cells[(target.plan_branch, target.kpi_id)] = result_for(target)  # type: ignore[attr-defined]
    rows = []
    for branch in branches:
        row = MatrixRow(branch=branch, cells=[cells.get((branch.pk, kpi.pk)) for kpi in columns])
        if row.has_plan or every_branch:
            row.counts = dict(mark_counts(c for c in row.cells if c is not None))
            rows.append(row)
    return NationalMatrix(fiscal_year=fiscal_year, kpis=columns, rows=rows, totals=dict(mark_counts(cells.values())))


# -- one KPI across branches -------------------------------------------------------------------------


class RankGroup(StrEnum):
    """Which figures a branch is ranked among: like with like only."""

    YEAR_END = "year_end"  # year-end actuals, ranked together
    AS_OF = "as_of"  # mid-year figures at the ranking month (the most common as-of month), ranked together
    UNRANKED = "unranked"  # a mid-year figure at another month, or no figure: listed, not ranked


@dataclass
class RankedResult:
    rank: int | None  # within its group; equal figures share a rank (同順位); None when unranked
    result: KpiResult
    branch: Branch
    group: RankGroup = RankGroup.UNRANKED

    @property
    def as_of(self) -> datetime.date | None:
        """The month of a mid-year figure; None for a year-end figure or no figure."""
        if isinstance(self.result.year_end, Decimal) or self.result.figure is None:
            return None
        return self.result.latest_month


@dataclass(frozen=True)
class RankFacts:
    """What decides a branch's place in a KPI's ranking, as plain values (kept in the cache per branch)."""

    figure: Decimal | None  # the year-end actual, else the latest mid-year figure
    has_year_end: bool
    latest_month: datetime.date | None
    precision: int  # the published decimals: figures equal at it share a rank
    jis_code: str

    @classmethod
    def of(cls, result: KpiResult, branch: Branch) -> RankFacts:
        return cls(
            figure=result.figure,
            has_year_end=isinstance(result.year_end, Decimal),
            latest_month=result.latest_month,
            precision=result.target.precision,
            jis_code=branch.jis_code,
        )

    @property
    def as_of(self) -> datetime.date | None:
        """The month of a mid-year figure; None for a year-end figure or no figure."""
        return None if self.has_year_end or self.figure is None else self.latest_month


@dataclass(frozen=True)
class RankPlace:
    index: int  # in the ranked facts
    rank: int | None
    group: RankGroup


def _ranked(facts: Sequence[RankFacts], indexes: list[int], group: RankGroup, sign: int) -> list[RankPlace]:
    """``indexes`` best figure first, figures equal at the KPI's published precision sharing a rank (同順位, as
    they are judged and shown); ties broken by JIS order."""

    def published(index: int) -> Decimal:
        return rules.round_published(facts[index].figure or Decimal(0), facts[index].precision)

    indexes = sorted(indexes, key=lambda i: (sign * published(i), facts[i].jis_code))
    ranked: list[RankPlace] = []
    rank, previous = 0, None
    for place, index in enumerate(indexes, start=1):
        if published(index) != previous:
            rank, previous = place, published(index)
        ranked.append(RankPlace(index=index, rank=rank, group=group))
    return ranked


def rank_order(facts: Sequence[RankFacts], direction: str) -> list[RankPlace]:
    """Each of ``facts`` in the order of the ranking with its rank and group, ranking only like with like.

    Year-end actuals are ranked together (group YEAR_END, first). Among branches without one, the
    mid-year figures at the most common as-of month are ranked together (group AS_OF, ranks from 1
    again). A mid-year figure at any other month is listed unranked with its month (newest month first),
    then branches without a figure, in JIS order. Which way is best follows the KPI's ``direction``.
    """
    sign = 1 if direction == Kpi.Direction.LOWER else -1
    year_end = [i for i, f in enumerate(facts) if f.has_year_end]
    mid_year = [i for i, f in enumerate(facts) if f.figure is not None and not f.has_year_end]
    month = ranking_month([facts[i].latest_month for i in mid_year if facts[i].latest_month is not None])
    at_month = [i for i in mid_year if facts[i].latest_month == month]
    other_months = sorted(
        (i for i in mid_year if facts[i].latest_month != month),
        key=lambda i: (sign * (facts[i].figure or 0), facts[i].jis_code),
    )
    other_months.sort(key=lambda i: facts[i].latest_month or datetime.date.min, reverse=True)  # newest month first
    no_figure = sorted((i for i, f in enumerate(facts) if f.figure is None), key=lambda i: facts[i].jis_code)
    return [
        *_ranked(facts, year_end, RankGroup.YEAR_END, sign),
        *_ranked(facts, at_month, RankGroup.AS_OF, sign),
        *(RankPlace(index=i, rank=None, group=RankGroup.UNRANKED) for i in [*other_months, *no_figure]),
    ]


def ranking_month(months: list[datetime.date]) -> datetime.date | None:
    """The as-of month most branches report at; on a tie the later month (the newer figures)."""
    counts = Counter(months)
    return max(counts, key=lambda month: (counts[month], month)) if counts else None


def kpi_results(
    fiscal_year: FiscalYear, kpi: Kpi, branch_ids: Collection[int] | None = None
) -> list[tuple[KpiResult, Branch]]:
    """Each branch's result for ``kpi`` in ``fiscal_year`` with its branch, in no order; only ``branch_ids``'
    when given (1 query)."""
    targets = _with_figures().filter(plan__fiscal_year=fiscal_year, kpi=kpi)
    if branch_ids is not None:
        targets = targets.filter(plan__branch_id__in=branch_ids)
    rows = _share_kpis(targets.select_related(None).select_related("plan__branch").order_by(), {kpi.pk: kpi})
    return [(result_for(t), t.plan.branch) for t in rows]


def kpi_ranking(fiscal_year: FiscalYear, kpi: Kpi) -> list[RankedResult]:
    """Every branch's result for ``kpi`` in ``fiscal_year``, ranking only like with like (1 query): see
    ``rank_order``."""
    results = kpi_results(fiscal_year, kpi)
    places = rank_order([RankFacts.of(result, branch) for result, branch in results], kpi.direction)
    return [
        RankedResult(rank=p.rank, result=results[p.index][0], branch=results[p.index][1], group=p.group) for p in places
    ]


# -- one plan as written: areas → measures → KPIs, progress and budget --------------------------------


#: Budget lines are grouped by the budget they belong to: the part of 区分 before this separator
#: (「保健事業予算／健診経費」 belongs to 保健事業予算), as the branches' 予算の執行実績 tables total them.
BUDGET_SEPARATOR = "／"


def _explanation(text: str, label: str) -> str:
    """The explanation of a 【重要度：高】 / 【困難度：高】 badge, without the badge's own words when the
    transcription starts with them."""
    text = text.strip()
    return text[len(label) :].strip() if text.startswith(label) else text


@dataclass
class MeasureNode:
    """A measure (施策) with its KPIs' results, its newest progress report and its sub-measures."""

    measure: Measure
    results: list[KpiResult] = field(default_factory=list)
    progress: MeasureProgress | None = None
    children: list[MeasureNode] = field(default_factory=list)

    IMPORTANCE_LABEL = "【重要度：高】"
    DIFFICULTY_LABEL = "【困難度：高】"

    @property
    def importance_text(self) -> str:
        return _explanation(self.measure.importance_text, self.IMPORTANCE_LABEL)

    @property
    def difficulty_text(self) -> str:
        return _explanation(self.measure.difficulty_text, self.DIFFICULTY_LABEL)

    @property
    def evaluation_css(self) -> str:
        """mark-above / mark-planned / mark-below for a marked progress report, else mark-none."""
        value = self.progress.evaluation if self.progress else ""
        return rules.mark_css(Mark(value) if value in {m.value for m in Mark} else None)


@dataclass
class AreaOutline:
    area: Area
    measures: list[MeasureNode]  # top-level measures, in the plan's order; sub-measures hang below

    @property
    def nodes(self) -> list[MeasureNode]:
        """The area's measures, each parent followed by its children (a child's ``measure.parent_id`` is set)."""
        return [node for top in self.measures for node in (top, *top.children)]


@dataclass
class BudgetTotal:
    """A totals row: the sum of budgets, the sum of known spending and the rate over the whole budget."""

    label: str
    budget: Decimal
    spent: Decimal | None  # None when no line of the group states its spending
    lines: int
    unstated: int  # lines without 執行額, left out of ``spent``

    @property
    def execution_rate(self) -> Decimal | None:
        """執行率 by the same rule as a single line (``BudgetLine.execution_rate``)."""
        return BudgetLine(budget_amount=self.budget, spent_amount=self.spent).execution_rate


def _budget_total(label: str, lines: list[BudgetLine]) -> BudgetTotal:
    spent = [line.spent_amount for line in lines if line.spent_amount is not None]
    return BudgetTotal(
        label=label,
        budget=sum((line.budget_amount for line in lines), Decimal(0)),
        spent=sum(spent, Decimal(0)) if spent else None,
        lines=len(lines),
        unstated=len(lines) - len(spent),
    )


@dataclass
class PlanOutline:
    """A plan as the branch wrote it, live: areas → measures → KPIs, progress, and the budget table."""

    plan: Plan
    areas: list[AreaOutline]
    unlinked: list[KpiResult]  # KPIs of no measure (a plan transcribed from its KPI table only)
    budget_lines: list[BudgetLine]

    @property
    def measures(self) -> list[MeasureNode]:
        """Every measure, each parent before its children."""
        return [node for area in self.areas for node in area.nodes]

    @property
    def kpi_count(self) -> int:
        return sum(len(node.results) for node in self.measures) + len(self.unlinked)

    @property
    def progress_count(self) -> int:
        return sum(1 for node in self.measures if node.progress is not None)

    @property
    def budget_groups(self) -> list[BudgetTotal]:
        """A subtotal per budget (区分 before 「／」), in the order of the lines; empty for a single budget."""
        groups: dict[str, list[BudgetLine]] = {}
        for line in self.budget_lines:
            groups.setdefault(line.category.split(BUDGET_SEPARATOR)[0], []).append(line)
        if len(groups) < 2:
            return []
        return [_budget_total(label, lines) for label, lines in groups.items()]

    @property
    def budget_total(self) -> BudgetTotal | None:
        return _budget_total("", self.budget_lines) if self.budget_lines else None


def plan_outline(plan: Plan, scopes: versions.Scopes | None = None) -> PlanOutline:
    """``plan`` as written: its measures by area with their KPIs' results and newest progress, the KPIs of
    no measure, and the budget lines (5 queries whatever the plan's size; 4 when it has no KPI). With
    ``scopes`` the results come from ``plans.result_cache`` where current (see ``plan_results``).

    The newest progress of a measure is the one with the latest 時点 (as_of, a missing 時点 counting as
    oldest), then the latest 期間 label.
    """
    measures = list(Measure.objects.filter(plan=plan).select_related("area").order_by("area_id", "order", "id"))
    newest = (
        MeasureProgress.objects.filter(measure=OuterRef("measure"))
        .order_by(F("as_of").desc(nulls_last=True), "-period", "-pk")
        .values("pk")[:1]
    )
    progress = {
        p.measure_id: p for p in MeasureProgress.objects.filter(measure__plan=plan, pk=Subquery(newest)).order_by()
    }
    nodes = {m.pk: MeasureNode(measure=m, progress=progress.get(m.pk)) for m in measures}
    unlinked: list[KpiResult] = []
    for result in plan_results(plan, scopes):
        node = nodes.get(result.target.measure_id) if result.target.measure_id else None
        (node.results if node else unlinked).append(result)
    areas: dict[int, AreaOutline] = {}
    for measure in measures:
        node = nodes[measure.pk]
        parent = nodes.get(measure.parent_id) if measure.parent_id else None
        if parent is not None:
            parent.children.append(node)
        else:
            areas.setdefault(measure.area_id, AreaOutline(area=measure.area, measures=[])).measures.append(node)
    budget_lines = list(BudgetLine.objects.filter(plan=plan).order_by("order", "id"))
    return PlanOutline(plan=plan, areas=list(areas.values()), unlinked=unlinked, budget_lines=budget_lines)


# -- the home page and the branch picker ------------------------------------------------------------


def newest_year_with_figures() -> int | None:
    """The newest fiscal year in which any branch has any actual (year-end, interim or monthly) (1 query)."""
    return (
        KpiActual.objects.order_by("-target__plan__fiscal_year_id")
        .values_list("target__plan__fiscal_year_id", flat=True)
        .first()
    )


def branches_with_plan(year: int) -> list[Branch]:
    """The branches that have a plan for fiscal ``year``, in JIS order (1 query)."""
    return list(Branch.objects.filter(plans__fiscal_year_id=year).distinct())


# -- the columns of the table branches publish (事業計画実施状況) ------------------------------------

#: The published table's mark for a definition change, when the lineage note does not give its own (※算出方法変更).
DEFINITION_CHANGED_MARK = gettext_noop("※基準変更")
#: A lineage note that is itself a short change mark (※基準変更, ※算出方法変更) is shown as the mark.
CHANGE_MARK = re.compile(r"※\S{1,10}変更")
#: The next-year target column of the published table for a KPI deleted the next year.
DELETED_MARK = gettext_noop("削除")

#: A 備考 note is cut at the first ``；``-separated segment that was written while transcribing the source PDFs:
#: one that starts with one of these prefixes or contains one of these markers. What comes before it is the
#: published remark (「※基準変更」「一般競争入札案件11件」「（令和６年度新設）」); the full note stays in the
#: admin as the source note (KpiTarget.note).
TRANSCRIBER_PREFIXES = ("KPI達成状況：", "KPI表には", "KPI設定項目一覧表", "monthlyは", "令和５年度実績欄")
TRANSCRIBER_MARKERS = ("抽出テキスト", "（判断：", "（KPI設定項目一覧表）", "と判断", "グラフ「")


def published_remark(note: str) -> str:
    """The part of a target's note the branch published (備考), without the transcriber's notes."""
    kept: list[str] = []
    for segment in (note or "").split("；"):
        text = segment.strip()
        if text.startswith(TRANSCRIBER_PREFIXES) or any(marker in text for marker in TRANSCRIBER_MARKERS):
            break
        if text:
            kept.append(segment)  # as written: the export keeps what a user typed
    return "；".join(kept)


@dataclass(frozen=True)
class PublishedColumns:
    """The columns of the published table that a plan's own results do not hold, for one KPI."""

    two_years_ago: Decimal | str | None = None  # year-end actual of FY-2, same branch and KPI
    last_year: Decimal | str | None = None  # year-end actual of FY-1
    has_next_plan: bool = False  # the branch has a plan for FY+1
    next_year_target: str = ""  # FY+1 target as written ("" without one)
    deleted_next_year: bool = False  # KpiChange 削除 in FY+1
    definition_change: str = ""  # ※基準変更 (or the lineage's own mark) when the definition changes this FY
    next_year_definition_change: str = ""  # the same for FY+1
    remark: str = ""  # 備考 as published (transcriber notes removed)

    @property
    def next_year_text(self) -> str:
        """The next-year target column as the documents print it: 「削除」, 「※基準変更 対前年度以上」 or the target."""
        if self.deleted_next_year:
            return DELETED_MARK
        return " ".join(part for part in (self.next_year_definition_change, self.next_year_target) if part)

    @property
    def shown_remark(self) -> str:
        """備考 without a remark that only repeats a change already shown in its own column."""
        deleted = DELETED_MARK if self.deleted_next_year else ""
        shown = {self.definition_change, self.next_year_definition_change, deleted}
        return "" if self.remark in shown else self.remark


def published_columns(plan: Plan) -> dict[int, PublishedColumns]:
    """Per KPI id of ``plan``: the two previous years' actuals, next year's target, the changes that take
    effect this year or next, and the published remark (1 query, whatever the plan's size).
    ``published_columns_as_read`` also says what it read of this year's targets."""
    return published_columns_as_read(plan)[0]


def published_columns_as_read(plan: Plan) -> tuple[dict[int, PublishedColumns], list[tuple[int, str, str]]]:
    """``published_columns(plan)`` and, sorted, the (KPI id, target as written, note) of this year's targets it
    read them with (1 query)."""
    year = plan.fiscal_year_id
    year_end = KpiActual.objects.filter(target=OuterRef("pk"), period=KpiActual.Period.YEAR_END).order_by()
    changes = KpiChange.objects.filter(kpi=OuterRef("kpi")).order_by("pk")
    breaking = (KpiChange.Change.DEFINITION_CHANGED, KpiChange.Change.REPLACED)

    def change_note(fiscal_year: int) -> Subquery:
        return Subquery(changes.filter(fiscal_year=fiscal_year, change__in=breaking).values("note")[:1])

    rows = (
        KpiTarget.objects.filter(
            plan__branch_id=plan.branch_id, plan__fiscal_year_id__in=(year - 2, year - 1, year, year + 1)
        )
        .order_by()
        .values_list("kpi_id", "plan__fiscal_year_id", "target_text", "note")
        .annotate(
            value=Subquery(year_end.values("value")[:1]),
            text=Subquery(year_end.values("text_value")[:1]),
            change_now=change_note(year),
            change_next=change_note(year + 1),
            deleted_next=Exists(changes.filter(fiscal_year=year + 1, change=KpiChange.Change.DELETED)),
        )
    )
    by_year: dict[tuple[int, int], tuple[Any, ...]] = {(row[0], row[1]): row for row in rows}
    has_next_plan = any(fiscal_year == year + 1 for _kpi, fiscal_year in by_year)

    def actual(kpi_id: int, fiscal_year: int) -> Decimal | str | None:
        row = by_year.get((kpi_id, fiscal_year))
        if row is None:
            return None
        return row[4] if row[4] is not None else (row[5] or None)

    columns = {}
    for (kpi_id, fiscal_year), row in by_year.items():
        if fiscal_year != year:
            continue
        next_year = by_year.get((kpi_id, year + 1))
        columns[kpi_id] = PublishedColumns(
            two_years_ago=actual(kpi_id, year - 2),
            last_year=actual(kpi_id, year - 1),
            has_next_plan=has_next_plan,
            next_year_target=next_year[2] if next_year else "",
            deleted_next_year=row[8],
            definition_change=_change_mark(row[6]),
            next_year_definition_change=_change_mark(row[7]),
            remark=published_remark(row[3]),
        )
    read = sorted((kpi_id, row[2], row[3]) for (kpi_id, fiscal_year), row in by_year.items() if fiscal_year == year)
    return columns, read


def _change_mark(note: str | None) -> str:
    """The mark of a definition change from its lineage note ("" for no change)."""
    if note is None:
        return ""
    return note if CHANGE_MARK.fullmatch(note) else DEFINITION_CHANGED_MARK
