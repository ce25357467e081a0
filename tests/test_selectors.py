"""The dashboards' selectors: what they return and how many queries they run, whatever the data's size."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from branches.models import Branch
from plans.models import FiscalYear, Kpi, KpiActual, KpiTarget, Plan
from plans.results import NotAnnotated, result_for
from plans.rules import Mark
from plans.selectors import (
    RankGroup,
    kpi_history,
    kpi_ranking,
    national_matrix,
    plan_results,
    plan_years,
    ranking_month,
    years_with_plans,
)
from tests.factories import KpiActualFactory, KpiFactory, KpiTargetFactory, PlanFactory

pytestmark = pytest.mark.django_db

D = Decimal


def add_plan(code: str, year: int, values: dict[str, str], *, monthly: bool = False) -> Plan:
    """A plan for ``code`` in ``year`` with a "50.0%以上" target per KPI and a year-end (or September) actual."""
    FiscalYear.objects.get_or_create(year=year)
    plan = Plan.objects.create(branch=Branch.objects.get(code=code), fiscal_year_id=year)
    for order, (kpi_code, value) in enumerate(values.items()):
        target = KpiTarget(plan=plan, kpi=Kpi.objects.get(code=kpi_code), order=order)
        target.apply_target_text("50.0%以上")
        target.save()
        if monthly:
            for month in (datetime.date(year, 8, 1), datetime.date(year, 9, 1)):
                KpiActual.objects.create(target=target, period="monthly", month=month, value=D(value))
        else:
            KpiActual.objects.create(target=target, period="year_end", value=D(value))
    return plan


# -- plan_results ------------------------------------------------------------------------------------


def test_plan_results_reads_a_plan_in_two_queries_whatever_its_size(django_assert_num_queries):
    plan = Plan.objects.get(branch__code="tochigi", fiscal_year_id=2023)
    with django_assert_num_queries(2):
        results = plan_results(plan)
    assert len(results) == 19
    grown = add_plan("hokkaido", 2023, {"lifestyle_checkup_rate": "60.0", "generic_drug_share": "40.0"}, monthly=True)
    with django_assert_num_queries(2):
        rows = plan_results(grown)
    assert [r.kpi.code for r in rows] == ["lifestyle_checkup_rate", "generic_drug_share"]
    assert rows[0].monthly == {datetime.date(2023, 8, 1): D("60.0"), datetime.date(2023, 9, 1): D("60.0")}


def test_result_for_refuses_a_target_not_read_with_its_figures():
    target = KpiTarget.objects.filter(plan__branch__code="tochigi").first()
    with pytest.raises(NotAnnotated):
        result_for(target)


def test_result_for_needs_no_query_once_a_target_is_read(django_assert_num_queries):
    target = KpiTarget.objects.with_figures().get(
        plan__branch__code="tochigi", plan__fiscal_year=2023, kpi__code="lifestyle_checkup_rate"
    )
    with django_assert_num_queries(0):
        result = result_for(target)
    assert (result.fiscal_year, result.year_end, result.mark) == (2023, D("72.2"), Mark.ABOVE)


def test_plan_years_and_years_with_plans(django_assert_num_queries):
    with django_assert_num_queries(2):
        assert plan_years(Branch.objects.get(code="tochigi")) == [2021, 2022, 2023, 2024]
    assert years_with_plans() == [2021, 2022, 2023, 2024, 2025]


# -- kpi_history -------------------------------------------------------------------------------------


def test_kpi_history_gives_every_year_and_this_and_last_years_series(django_assert_num_queries):
    plan = Plan.objects.select_related("branch").get(branch__code="gifu", fiscal_year_id=2024)
    with django_assert_num_queries(3):
        history = kpi_history(plan, "health_committee_coverage")
    assert history is not None
    assert [r.fiscal_year for r in history.years] == [2023, 2024]
    assert history.result.fiscal_year == 2024
    assert history.this_year and all(m.year in (2024, 2025) for m in history.this_year)
    assert history.last_year
    assert all(datetime.date(2023, 4, 1) <= m < datetime.date(2024, 4, 1) for m in history.last_year)
    assert all(a.target_id == history.result.target.pk for a in history.actuals)


def test_kpi_history_is_none_for_a_kpi_the_plan_does_not_have():
    plan = Plan.objects.get(branch__code="tochigi", fiscal_year_id=2024)
    assert kpi_history(plan, "judo_multi_visit_rate") is None  # deleted from Tochigi's FY2024 plan


def test_kpi_history_names_the_definition_breaks():
    plan = Plan.objects.get(branch__code="tochigi", fiscal_year_id=2024)
    history = kpi_history(plan, "receipt_assessment_rate")
    assert history is not None
    assert (2024, "基準・算出方法の変更") in history.breaks


def test_kpi_history_runs_the_same_queries_with_more_years(django_assert_num_queries):
    add_plan("hokkaido", 2022, {"lifestyle_checkup_rate": "55.0"})
    plan = add_plan("hokkaido", 2023, {"lifestyle_checkup_rate": "60.0"}, monthly=True)
    with django_assert_num_queries(3):
        history = kpi_history(plan, "lifestyle_checkup_rate")
    assert history is not None and [r.fiscal_year for r in history.years] == [2022, 2023]
    assert history.result.previous_year_end == D("55.0")


# -- national_matrix ---------------------------------------------------------------------------------


def test_national_matrix_has_a_row_per_branch_with_a_plan_in_jis_order(django_assert_num_queries):
    fiscal_year = FiscalYear.objects.get(year=2023)
    with django_assert_num_queries(3):  # the columns, the targets with their figures, the branches
        matrix = national_matrix(fiscal_year)
    assert [row.branch.code for row in matrix.rows] == ["tochigi", "gifu", "kagoshima"]
    tochigi = matrix.rows[0]
    assert len(tochigi.cells) == len(matrix.kpis)
    assert (tochigi.counts[Mark.ABOVE], tochigi.counts[Mark.AS_PLANNED], tochigi.counts[Mark.BELOW]) == (5, 8, 6)
    all_cells = [c for row in matrix.rows for c in row.cells if c is not None]
    assert sum(matrix.totals.values()) == len(all_cells)


def test_national_matrix_lists_all_47_branches_on_request():
    matrix = national_matrix(FiscalYear.objects.get(year=2023), every_branch=True)
    assert len(matrix.rows) == 47
    assert sum(row.has_plan for row in matrix.rows) == 3


def test_national_matrix_runs_the_same_queries_with_more_branches(django_assert_num_queries):
    for code in ("hokkaido", "aomori", "okinawa"):
        add_plan(code, 2023, {"lifestyle_checkup_rate": "60.0", "generic_drug_share": "40.0"})
    fiscal_year = FiscalYear.objects.get(year=2023)
    with django_assert_num_queries(3):
        matrix = national_matrix(fiscal_year)
    assert [row.branch.code for row in matrix.rows][:2] == ["hokkaido", "aomori"]
    assert matrix.rows[-1].branch.code == "okinawa"


# -- kpi_ranking -------------------------------------------------------------------------------------


def test_kpi_ranking_puts_the_best_figure_first_and_shares_ranks(django_assert_num_queries):
    add_plan("hokkaido", 2023, {"lifestyle_checkup_rate": "72.2"})  # ties Tochigi's 72.2
    add_plan("aomori", 2023, {"lifestyle_checkup_rate": "80.0"})
    fiscal_year, kpi = FiscalYear.objects.get(year=2023), Kpi.objects.get(code="lifestyle_checkup_rate")
    with django_assert_num_queries(1):
        ranking = kpi_ranking(fiscal_year, kpi)
    figures = [(r.rank, r.branch.code, r.result.figure) for r in ranking]
    assert figures[0] == (1, "aomori", D("80.0"))
    assert figures[1][0] == figures[2][0] == 2  # equal figures share a rank (同順位)
    assert {figures[1][1], figures[2][1]} == {"hokkaido", "tochigi"}
    assert all(r.rank is None for r in ranking if r.result.figure is None)


def test_kpi_ranking_puts_the_lowest_first_for_a_lower_is_better_kpi():
    kpi = Kpi.objects.get(code="single_bid_ratio")
    assert kpi.direction == Kpi.Direction.LOWER
    add_plan("hokkaido", 2023, {"single_bid_ratio": "0.5"})
    ranking = kpi_ranking(FiscalYear.objects.get(year=2023), kpi)
    assert ranking[0].branch.code == "tochigi" and ranking[0].result.figure == D("0.0")
    assert [(r.rank, r.branch.code) for r in ranking][1] == (2, "hokkaido")
    numbers = [r.result.figure for r in ranking if r.result.figure is not None]
    assert numbers == sorted(numbers)


def _branch_figure(kpi: Kpi, code: str, value: str, month: datetime.date | None) -> None:
    """``code``'s FY2024 figure for ``kpi``: a year-end actual without ``month``, else an interim one."""
    plan = PlanFactory(branch=Branch.objects.get(code=code), fiscal_year__year=2024)
    target = KpiTargetFactory(plan=plan, kpi=kpi, target_text="50.0%以上")
    if month is None:
        KpiActualFactory(target=target, value=D(value))
    else:
        KpiActualFactory(target=target, interim=True, month=month, value=D(value))


def test_kpi_ranking_does_not_rank_an_august_figure_against_september_ones(django_assert_num_queries):
    kpi, sep, aug = KpiFactory(), datetime.date(2024, 9, 1), datetime.date(2024, 8, 1)
    _branch_figure(kpi, "hokkaido", "60.0", sep)
    _branch_figure(kpi, "aomori", "55.0", sep)
    _branch_figure(kpi, "iwate", "70.0", aug)  # the best figure, but a month earlier
    _branch_figure(kpi, "miyagi", "40.0", None)  # a year-end actual
    _branch_figure(kpi, "akita", "80.0", sep - datetime.timedelta(days=31 + 31))  # July
    PlanFactory(branch=Branch.objects.get(code="yamagata"), fiscal_year__year=2024).targets.create(kpi=kpi)

    fiscal_year = FiscalYear.objects.get(year=2024)
    with django_assert_num_queries(1):
        ranking = kpi_ranking(fiscal_year, kpi)

    assert [(r.group, r.rank, r.branch.code, r.as_of) for r in ranking] == [
        (RankGroup.YEAR_END, 1, "miyagi", None),
        (RankGroup.AS_OF, 1, "hokkaido", sep),
        (RankGroup.AS_OF, 2, "aomori", sep),
        (RankGroup.UNRANKED, None, "iwate", aug),  # newest other month first
        (RankGroup.UNRANKED, None, "akita", datetime.date(2024, 7, 1)),
        (RankGroup.UNRANKED, None, "yamagata", None),  # no figure
    ]


def test_ranking_month_is_the_most_common_as_of_month_and_the_later_on_a_tie():
    aug, sep, nov = (datetime.date(2024, m, 1) for m in (8, 9, 11))
    assert ranking_month([aug, sep, sep, nov]) == sep
    assert ranking_month([aug, nov, sep]) == nov
    assert ranking_month([]) is None


def test_kpi_ranking_of_the_seed_ranks_only_the_branches_at_one_month():
    # FY2024 郵送化率: Tokyo as of June, Gifu as of September, Kagoshima as of November: one month each,
    # so only November (the newest) is ranked; the others are listed with their months.
    ranking = kpi_ranking(FiscalYear.objects.get(year=2024), Kpi.objects.get(code="mail_application_rate"))
    figures = [(r.rank, r.branch.code, r.as_of) for r in ranking if r.result.figure is not None]

    assert figures == [
        (1, "kagoshima", datetime.date(2024, 11, 1)),
        (None, "gifu", datetime.date(2024, 9, 1)),
        (None, "tokyo", datetime.date(2024, 6, 1)),
    ]


def test_kpi_ranking_shares_a_rank_between_figures_equal_at_the_published_precision():
    add_plan("hokkaido", 2023, {"lifestyle_checkup_rate": "72.24"})  # published as 72.2, like Tochigi's 72.2
    add_plan("aomori", 2023, {"lifestyle_checkup_rate": "72.16"})  # also 72.2
    ranking = kpi_ranking(FiscalYear.objects.get(year=2023), Kpi.objects.get(code="lifestyle_checkup_rate"))
    ranks = {r.branch.code: r.rank for r in ranking if r.result.figure is not None and r.result.year_end is not None}
    assert ranks["hokkaido"] == ranks["aomori"] == ranks["tochigi"]
