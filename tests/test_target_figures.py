"""A target's figures computed from plain rows (``plans.target_figures``, through ``selectors._recomputed``) are
exactly what ``KpiTarget.objects.with_figures()`` annotates, field by field (values, types and decimals): on the
seed plans with national data generated around them, and on random actuals (hypothesis). A page's results taken
from the cache with the changed targets computed from rows are the results computed from scratch."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from branches.models import Branch
from plans import national_data, selectors, services, target_figures, versions
from plans.models import KpiActual, KpiChange, KpiTarget, NationalAverage, Plan
from plans.results import KpiResult
from tests.factories import BranchFactory, FiscalYearFactory, KpiFactory, KpiTargetFactory, PlanFactory

pytestmark = pytest.mark.django_db

FIELDS = tuple(target_figures.TargetFigures.__dataclass_fields__)


def annotated(target: KpiTarget) -> dict[str, str]:
    """The figures on ``target``, each as its repr (so 1.2 and 1.2000, True and 1 differ)."""
    return {name: repr(target.__dict__[name]) for name in FIELDS}


def last_years(plan: Plan) -> dict[int, int]:
    """Each target of ``plan`` with last year's of the same branch and KPI (0 without one), as ``plan_results``
    pairs them (``target_stamps``)."""
    year = plan.fiscal_year_id
    targets = KpiTarget.objects.filter(plan__branch_id=plan.branch_id, plan__fiscal_year_id__in=(year - 1, year))
    stamps = selectors.target_stamps(targets.order_by("plan__fiscal_year_id", "order", "id"), year)
    return {stamp.target_id: stamp.previous_id for stamp in stamps}


def recomputed(plan: Plan) -> list[KpiResult]:
    """The results of ``plan``'s targets as ``plan_results`` computes changed ones: from rows."""
    last_year = last_years(plan)
    return selectors._recomputed(list(last_year), last_year)


def assert_same_figures(plans: Iterable[Plan]) -> int:
    """Every target of ``plans``: figures and result from rows are those of ``with_figures``. The targets
    compared."""
    compared = 0
    for plan in plans:
        by_subqueries = {r.target.pk: r for r in selectors._results_of(selectors._plan_targets().filter(plan=plan))}
        by_rows = {r.target.pk: r for r in recomputed(plan)}
        assert by_rows.keys() == by_subqueries.keys()
        for pk, expected in by_subqueries.items():
            got = by_rows[pk]
            assert annotated(got.target) == annotated(expected.target), (plan, got.target)
            assert repr(got) == repr(expected)
            assert got == expected
            assert got.target._state.fields_cache.keys() == expected.target._state.fields_cache.keys()
            if expected.target.measure is not None:
                assert got.target.measure.area == expected.target.measure.area
            compared += 1
    return compared


# -- the pure function -------------------------------------------------------------------------------------


def row(period: str, month: datetime.date | None, value: str | None, text: str = "", pk: int = 1) -> Any:
    fiscal_month = None if month is None else (month.month + 8) % 12 + 1
    return (pk, period, month, fiscal_month, None if value is None else Decimal(value), text)


APRIL, MAY, SEPTEMBER = datetime.date(2024, 4, 1), datetime.date(2024, 5, 1), datetime.date(2024, 9, 1)
LAST_MAY, LAST_SEPTEMBER = datetime.date(2023, 5, 1), datetime.date(2023, 9, 1)


def test_it_takes_the_interim_figure_over_the_monthly_one_at_the_same_month() -> None:
    rows = [row("monthly", APRIL, "1"), row("monthly", SEPTEMBER, "5"), row("interim", SEPTEMBER, "6")]
    figures = target_figures.figures_of(2024, rows, [], national_average=None, baseline_breaks=False)
    assert (figures.latest_value, figures.latest_month, figures.latest_fiscal_month) == (Decimal("6"), SEPTEMBER, 6)


def test_the_newest_month_wins_even_when_its_figure_is_text_only() -> None:
    rows = [row("interim", MAY, "3"), row("monthly", SEPTEMBER, None, "実施")]
    figures = target_figures.figures_of(2024, rows, [], national_average=None, baseline_breaks=False)
    assert (figures.latest_value, figures.latest_month) == (None, SEPTEMBER)


def test_last_years_same_month_is_an_interim_number_first_and_never_a_year_end_or_text() -> None:
    own = [row("monthly", MAY, "3")]
    last_year = [
        row("monthly", LAST_MAY, "10"),
        row("interim", LAST_MAY, None, "途中"),
        row("year_end", None, "40", pk=2),
        row("interim", LAST_SEPTEMBER, "12"),
    ]
    figures = target_figures.figures_of(2024, own, last_year, national_average=None, baseline_breaks=False)
    assert (figures.last_year_same_month, figures.previous_year_end) == (Decimal("10"), Decimal("40"))
    last_year[1] = row("interim", LAST_MAY, "11")
    figures = target_figures.figures_of(2024, own, last_year, national_average=None, baseline_breaks=False)
    assert figures.last_year_same_month == Decimal("11")


def test_without_a_mid_year_figure_there_is_no_same_month_last_year() -> None:
    own = [row("year_end", None, None, "実施")]
    figures = target_figures.figures_of(
        2024, own, [row("monthly", LAST_MAY, "10")], national_average=None, baseline_breaks=True
    )
    assert figures.latest_fiscal_month is None and figures.last_year_same_month is None
    assert (figures.year_end_value, figures.year_end_text, figures.baseline_breaks) == (None, "実施", True)


def test_a_year_end_with_a_number_only_has_empty_text_and_none_without_a_row() -> None:
    with_number = target_figures.figures_of(
        2024, [row("year_end", None, "7")], [], national_average=Decimal("5"), baseline_breaks=False
    )
    without = target_figures.figures_of(2024, [], [], national_average=None, baseline_breaks=False)
    assert (with_number.year_end_value, with_number.year_end_text) == (Decimal("7"), "")
    assert (without.year_end_value, without.year_end_text, without.latest_month) == (None, None, None)


def test_annotate_sets_what_result_for_reads() -> None:
    target = KpiTarget()
    target_figures.figures_of(2024, [], [], national_average=None, baseline_breaks=False).annotate(target)
    assert annotated(target)["plan_year"] == "2024"
    assert all(name in target.__dict__ for name in FIELDS)


# -- the seed plans and generated national data ---------------------------------------------------------------


def test_the_figures_from_rows_are_with_figures_on_every_seed_and_generated_target() -> None:
    """The seed plans (text figures, interim reports, lineage breaks, national averages) and two generated years of
    every other branch: each target's figures and result, from rows and from subqueries, are the same."""
    national_data.generate_national_data(first_year=2023, years=2)
    monthly = KpiActual.objects.filter(period="monthly", target__plan__source=national_data.GENERATED_SOURCE)
    pks = list(monthly.order_by("pk").values_list("pk", flat=True))
    KpiActual.objects.filter(pk__in=pks[::7]).update(value=None, text_value="済")  # text only
    KpiActual.objects.bulk_create(  # interim reports, some at the month of the newest monthly figure
        KpiActual(target_id=a.target_id, period="interim", month=a.month, value=a.value + 1)
        for a in KpiActual.objects.filter(pk__in=pks[3::11], value__isnull=False)
    )
    plans = list(Plan.objects.order_by("fiscal_year_id", "branch__jis_code"))
    compared = assert_same_figures(plans)
    assert compared == KpiTarget.objects.count()
    with_previous = KpiTarget.objects.with_figures().filter(previous_year_end__isnull=False).count()
    assert with_previous > 1000  # the generated years pair every branch's targets with last year's
    assert KpiTarget.objects.with_figures().filter(baseline_breaks=True).exists()
    assert KpiTarget.objects.with_figures().filter(latest_value__isnull=True, latest_month__isnull=False).exists()


def test_it_reads_rows_in_four_queries_whatever_the_number_of_targets(django_assert_num_queries: Any) -> None:
    plan = Plan.objects.filter(fiscal_year_id=2024).order_by("pk").first()
    assert plan is not None
    ids = list(KpiTarget.objects.filter(plan=plan).values_list("pk", flat=True))
    assert len(ids) > 3
    last_year = last_years(plan)
    for wanted in (ids[:1], ids):
        with django_assert_num_queries(4):  # the targets, the actuals, the national averages, the breaks
            results = selectors._recomputed(wanted, last_year)
        assert len(results) == len(wanted)
    with django_assert_num_queries(1):
        assert selectors._recomputed([0], last_year) == []  # a target gone since its stamp was read


def computed_ids(monkeypatch: Any) -> list[int]:
    """Records the ids of the targets ``plan_results`` computes from rows."""
    computed: list[int] = []
    original = selectors._recomputed

    def spy(ids: Any, *args: Any) -> Any:
        computed.extend(ids)
        return original(ids, *args)

    monkeypatch.setattr(selectors, "_recomputed", spy)
    return computed


def test_a_page_from_cached_and_recomputed_results_is_the_page_computed_from_scratch(monkeypatch: Any) -> None:
    """Cache a plan's results, change some targets' figures in several ways (a new interim report, a monthly figure
    corrected, last year's year-end changed, a national average, a lineage break), then read the plan with its
    scopes: the results (most cached, the changed ones from rows) are those computed from scratch, down to each
    decimal."""
    plan = Plan.objects.get(branch__code="tochigi", fiscal_year_id=2024)
    targets = list(KpiTarget.objects.filter(plan=plan).select_related("plan", "kpi").order_by("order", "id"))
    first, second, third, fourth = targets[:4]
    services.actual_record(target=second, period="monthly", month=datetime.date(2024, 5, 1), value=Decimal("10.5"))
    selectors.plan_results(plan, versions.scopes(2024, branch_code="tochigi"))  # every result cached
    services.actual_record(target=first, period="interim", month=datetime.date(2024, 11, 1), value=Decimal("12.3"))
    services.actual_record(target=second, period="monthly", month=datetime.date(2024, 5, 1), value=Decimal("11"))
    last_year = KpiTarget.objects.select_related("plan", "kpi").get(
        plan__branch__code="tochigi", plan__fiscal_year_id=2023, kpi=third.kpi
    )
    services.actual_record(target=last_year, period="year_end", month=None, value=Decimal("33.25"))
    computed = computed_ids(monkeypatch)
    mixed = selectors.plan_results(plan, versions.scopes(2024, branch_code="tochigi"))
    assert sorted(computed) == sorted([first.pk, second.pk, third.pk])  # the others from the cache
    assert [repr(r) for r in mixed] == [repr(r) for r in selectors.plan_results(plan)]
    NationalAverage.objects.update_or_create(
        kpi=fourth.kpi, fiscal_year_id=2024, as_of=None, defaults={"value": Decimal("44.4")}
    )
    scopes = versions.scopes(2024, branch_code="tochigi")
    cached = selectors.plan_results(plan, scopes)
    fresh = selectors.plan_results(plan)
    assert [repr(r) for r in cached] == [repr(r) for r in fresh]
    assert [annotated(r.target) for r in cached] == [annotated(r.target) for r in fresh]
    shown = {r.target.pk: r for r in cached}
    assert shown[first.pk].latest == Decimal("12.3") and shown[second.pk].monthly[datetime.date(2024, 5, 1)] == 11
    assert shown[third.pk].previous_year_end == Decimal("33.25")
    assert shown[fourth.pk].national_average == Decimal("44.4")
    fifth = targets[4]
    KpiChange.objects.get_or_create(kpi=fifth.kpi, fiscal_year_id=2024, change=KpiChange.Change.DEFINITION_CHANGED)
    cached = selectors.plan_results(plan, versions.scopes(2024, branch_code="tochigi"))  # the year's breaks read again
    assert [repr(r) for r in cached] == [repr(r) for r in selectors.plan_results(plan)]
    assert not next(r for r in cached if r.target.pk == fifth.pk).baseline_comparable


def test_only_the_changed_target_is_computed_from_rows_and_it_equals_the_fresh_one(monkeypatch: Any) -> None:
    plan = Plan.objects.get(branch__code="gifu", fiscal_year_id=2024)
    scopes = versions.scopes(2024, branch_code="gifu")
    selectors.plan_results(plan, scopes)
    computed = computed_ids(monkeypatch)
    target = KpiTarget.objects.select_related("plan", "kpi").filter(plan=plan).order_by("id").last()
    assert target is not None
    services.actual_record(target=target, period="monthly", month=datetime.date(2024, 6, 1), value=Decimal("2"))
    cached = selectors.plan_results(plan, versions.scopes(2024, branch_code="gifu"))
    assert computed == [target.pk]
    assert [repr(r) for r in cached] == [repr(r) for r in selectors.plan_results(plan)]


# -- random actuals ---------------------------------------------------------------------------------------


PERIODS = ("monthly", "interim", "year_end")
#: An actual as drawn: its period, the month of its fiscal year (0 = April, 11 = March of the next calendar year;
#: ignored at the year end), a number (or None) and a text ("" or one). Few months, so that monthly and interim
#: figures meet at a month, in a year and last year.
actuals = st.lists(
    st.tuples(
        st.sampled_from(PERIODS),
        st.sampled_from((0, 1, 5, 11)),
        st.one_of(st.none(), st.integers(0, 4).flatmap(lambda places: st.decimals(-999, 99999, places=places))),
        st.sampled_from(("", "実施", "未実施")),
    ),
    max_size=12,
)


def _month(year: int, index: int) -> datetime.date:
    month = (index + 3) % 12 + 1
    return datetime.date(year + (1 if month < 4 else 0), month, 1)


def _write(target: KpiTarget, drawn: list[tuple[str, int, Decimal | None, str]]) -> None:
    seen: set[tuple[str, int | None]] = set()
    for period, index, value, text in drawn:
        month = None if period == "year_end" else _month(target.plan.fiscal_year_id, index)
        key = (period, None if month is None else index)
        if key in seen or (value is None and not text):
            continue
        seen.add(key)
        KpiActual.objects.create(target=target, period=period, month=month, value=value, text_value=text)


YEARS = (2016, 2017, 2018)  # years no seed plan has


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    drawn=st.lists(actuals, min_size=len(YEARS) * 2, max_size=len(YEARS) * 2),
    planned=st.lists(st.booleans(), min_size=len(YEARS) * 2, max_size=len(YEARS) * 2),
    averages=st.lists(st.one_of(st.none(), st.decimals(min_value=0, max_value=999, places=1)), min_size=3, max_size=3),
    changes=st.lists(st.sampled_from(KpiChange.Change.values), max_size=3),
)
@example(  # last year at the newest month: an interim text and a monthly number (the number is the one)
    drawn=[[], [("interim", 5, None, "実施"), ("monthly", 5, Decimal("5.5"), "")], [("monthly", 5, Decimal("7"), "")]]
    + [[]] * 3,
    planned=[True] * 6,
    averages=[None, None, Decimal("3.5")],
    changes=["new"],
)
def test_random_actuals_give_the_same_figures_from_rows_and_from_subqueries(
    drawn: list[Any], planned: list[bool], averages: list[Decimal | None], changes: list[str]
) -> None:
    """Two branches × three years of one KPI (some years without a target), random monthly, interim and year-end
    actuals (numbers, text, both), national averages and lineage changes of some years; another KPI has a national
    average and a break every year (none of them is this KPI's)."""
    with transaction.atomic():
        kpi, other = KpiFactory(), KpiFactory()
        branches: list[Branch] = [BranchFactory(code="aomori"), BranchFactory(code="iwate")]
        for year, average in zip(YEARS, averages, strict=True):
            FiscalYearFactory(year=year)
            NationalAverage.objects.create(kpi=other, fiscal_year_id=year, value=Decimal("99.9"))
            KpiChange.objects.create(kpi=other, fiscal_year_id=year, change=KpiChange.Change.DEFINITION_CHANGED)
            if average is not None:
                NationalAverage.objects.create(kpi=kpi, fiscal_year_id=year, value=average)
        for year, change in zip(YEARS, changes, strict=False):
            KpiChange.objects.get_or_create(kpi=kpi, fiscal_year_id=year, change=change)
        plans: list[Plan] = []
        cells = [(branch, year) for branch in branches for year in YEARS]
        for (branch, year), rows, has_target in zip(cells, drawn, planned, strict=True):
            plan = PlanFactory(branch=branch, fiscal_year=FiscalYearFactory(year=year))
            plans.append(plan)
            if has_target:
                _write(KpiTargetFactory(plan=plan, kpi=kpi, measure=None, target_text="対前年度以上"), rows)
        assert_same_figures(plans)
        transaction.set_rollback(True)
