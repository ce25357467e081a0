"""Year-end projections (見込み) follow the KPI's measure basis; last year's figures count only when comparable.

Every expected figure is worked by hand in the test (the arithmetic is written beside it).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from branches.models import Branch
from plans.models import FiscalYear, Kpi, KpiChange, KpiTarget, Plan
from plans.results import (
    BASELINE_NOT_COMPARABLE,
    NO_MARK_BASELINE_NOT_COMPARABLE,
    NO_MARK_NO_BASELINE,
    KpiResult,
    result_for,
)
from plans.rules import Basis, Mark, Projection, ProjectionMethod, parse_target, project_year_end
from plans.selectors import plan_results
from tests.conftest import client_for
from tests.factories import KpiActualFactory, KpiFactory, KpiTargetFactory, PlanFactory

D = Decimal
ABOVE, PLANNED, BELOW = Mark.ABOVE, Mark.AS_PLANNED, Mark.BELOW


# -- each basis, by hand -----------------------------------------------------------------------------


def test_a_level_is_held_as_it_stands_not_summed() -> None:
    # Gifu 加入者ひとり当たりの支給決定額: 121.8円 (R6.7 = month 4) against 122.4円以下.
    # A level is read as it stands: 121.8 (not 121.8 × 12 ÷ 4 = 365.4); 121.8 < 122.4 → ◎, on track.
    projection = project_year_end(
        parse_target("122.4円以下"), basis=Basis.LEVEL, latest=D("121.8"), months_elapsed=4, precision=1
    )

    assert projection == Projection(D("121.8"), ProjectionMethod.LEVEL, 4, ABOVE)
    assert projection.on_track is True


def test_a_level_carries_last_years_drift_from_the_same_month() -> None:
    # 121.8 + (last year-end 122.4 − last year's July 120.0) = 121.8 + 2.4 = 124.2 > 122.4 → △.
    projection = project_year_end(
        parse_target("122.4円以下"),
        basis="level",
        latest=D("121.8"),
        months_elapsed=4,
        last_year_same_month=D("120.0"),
        last_year_end=D("122.4"),
        precision=1,
    )

    assert projection == Projection(D("124.2"), ProjectionMethod.LAST_YEAR_DRIFT, 4, BELOW)


def test_a_cumulative_rate_follows_last_years_shape() -> None:
    # Kagoshima 事業者健診データ取得率: 4.8% at R6.9 (month 6); FY2023: 2.0% at R5.9, 11.0% at year end.
    # 4.8 × 11.0 ÷ 2.0 = 26.4 > 9.3 → ◎.
    projection = project_year_end(
        parse_target("9.3%以上"),
        basis=Basis.CUMULATIVE,
        latest=D("4.8"),
        months_elapsed=6,
        last_year_same_month=D("2.0"),
        last_year_end=D("11.0"),
        precision=1,
        unit="%",
    )

    assert projection == Projection(D("26.4"), ProjectionMethod.LAST_YEAR_SHAPE, 6, ABOVE)


def test_a_cumulative_rate_without_last_year_is_scaled_by_the_months() -> None:
    # Gifu 生活習慣病予防健診実施率 26.3% at R6.8 (month 5): 26.3 × 12 ÷ 5 = 63.12 → 63.1 < 66.5 → △.
    projection = project_year_end(
        parse_target("66.5％以上"), basis="cumulative", latest=D("26.3"), months_elapsed=5, precision=1
    )

    assert projection == Projection(D("63.1"), ProjectionMethod.LINEAR, 5, BELOW)


@pytest.mark.parametrize("months", [1, 2])
def test_a_cumulative_rate_gets_no_projection_from_its_first_two_months(months: int) -> None:
    # 1.2% in April is not 14.4% in March: too early for scaling by the months.
    assert (
        project_year_end(parse_target("32.1％以上"), basis="cumulative", latest=D("1.2"), months_elapsed=months)
        is None
    )


def test_a_running_total_continues_this_years_pace_from_last_year_end() -> None:
    # Kagoshima 健康宣言事業所数: 969 at FY2023's end, 1,201 at R6.11 (month 8).
    # pace (1201 − 969) ÷ 8 = 29 a month; 1201 + 29 × 4 = 1317 > 1050 → ◎.
    projection = project_year_end(
        parse_target("1,050事業所以上"),
        basis=Basis.RUNNING_TOTAL,
        latest=D("1201"),
        months_elapsed=8,
        last_year_end=D("969"),
        precision=0,
    )

    assert projection == Projection(D("1317"), ProjectionMethod.TREND, 8, ABOVE)


def test_a_year_to_date_ratio_is_held_against_a_stated_baseline() -> None:
    # Tokyo 郵送化率 98.2% at R6.6 against 対前年度（98.4％）以上: held 98.2 < 98.4 → △.
    projection = project_year_end(
        parse_target("対前年度（98.4％）以上"), basis="year_to_date", latest=D("98.2"), months_elapsed=3, precision=1
    )

    assert projection == Projection(D("98.2"), ProjectionMethod.LEVEL, 3, BELOW)


def test_a_single_month_value_is_held() -> None:
    # Kagoshima ジェネリック 89% at R6.7 against 対前年度末(88.0%)以上: 89.0 ≥ 88.0 → ○.
    projection = project_year_end(
        parse_target("対前年度末(88.0%)以上"), basis="single_month", latest=D("89"), months_elapsed=4, precision=1
    )

    assert projection == Projection(D("89.0"), ProjectionMethod.LEVEL, 4, PLANNED)


def test_a_rate_projected_by_drift_stays_within_0_and_100() -> None:
    # 99.0 + (100.0 − 95.0) = 104.0 → 100.0; 0 + (0 − 10.0) = −10.0 → 0.0.
    high = project_year_end(
        parse_target("99.0%以上"),
        basis="year_to_date",
        latest=D("99.0"),
        months_elapsed=6,
        last_year_same_month=D("95.0"),
        last_year_end=D("100.0"),
        precision=1,
        unit="%",
    )
    low = project_year_end(
        parse_target("15%以下"),
        basis="year_to_date",
        latest=D("0"),
        months_elapsed=6,
        last_year_same_month=D("10.0"),
        last_year_end=D("0"),
        precision=1,
        unit="%",
    )

    assert (high.value, low.value) == (D("100.0"), D("0.0"))


@pytest.mark.parametrize("target", ["実施", "関係機関への働きかけ", "毎月", "設定なし"])
@pytest.mark.parametrize("basis", list(Basis))
def test_qualitative_frequency_and_no_target_kpis_get_no_projection(target: str, basis: Basis) -> None:
    assert project_year_end(parse_target(target), basis=basis, latest=D("6"), months_elapsed=6) is None


# -- the seed: Gifu's per-member level ----------------------------------------------------------------


def _seed_result(branch: str, year: int, code: str) -> KpiResult:
    plan = Plan.objects.get(branch__code=branch, fiscal_year_id=year)
    return next(r for r in plan_results(plan) if r.kpi.code == code)


@pytest.mark.django_db
def test_gifus_payment_per_member_is_a_level_projected_on_track() -> None:
    result = _seed_result("gifu", 2024, "judo_payment_per_member")

    assert result.kpi.measure_basis == Kpi.MeasureBasis.LEVEL
    assert result.projection == Projection(D("121.8"), ProjectionMethod.LEVEL, 4, ABOVE)
    assert result.projection.on_track is True


@pytest.mark.django_db
def test_every_seed_projection_stays_within_a_rates_range() -> None:
    results = [r for plan in Plan.objects.all() for r in plan_results(plan)]
    projected = [r for r in results if r.projection is not None]

    assert projected
    for r in projected:
        assert r.projection.value >= 0
        if r.kpi.unit == "%":
            assert r.projection.value <= 100, r.kpi.code
    assert not [r for r in results if r.projection and not r.kpi.is_numeric]


# -- definition changes: last year's figure is not the baseline ------------------------------------------


@pytest.mark.django_db
def test_tochigis_fy2024_assessment_rate_has_no_comparable_baseline() -> None:
    # 対前年度以上 with no stated figure; FY2023's 0.418% is 支払基金と合算, FY2024 counts 協会 alone.
    result = _seed_result("tochigi", 2024, "receipt_assessment_rate")

    assert result.previous_year_end == D("0.418")
    assert result.baseline_comparable is False
    assert result.baseline is None
    assert result.reference is None
    assert result.baseline_note == BASELINE_NOT_COMPARABLE == "比較不可（基準変更）"


@pytest.mark.django_db
def test_kagoshimas_stated_baseline_wins_over_the_definition_change() -> None:
    # 対前年度(0.154%)以上: the document restates last year on the new basis. 0.115 held < 0.154 → △ 見込み.
    result = _seed_result("kagoshima", 2024, "receipt_assessment_rate")

    assert result.baseline_comparable is False
    assert result.baseline == D("0.154")
    assert result.baseline_note is None
    assert result.projection == Projection(D("0.115"), ProjectionMethod.LEVEL, 6, BELOW)


def _two_years(kpi: Kpi, target_text: str, *, last_year_end: str, breaks: bool) -> KpiTarget:
    branch = Branch.objects.get(code="hokkaido")
    last = PlanFactory(branch=branch, fiscal_year__year=2023)
    this = PlanFactory(branch=branch, fiscal_year__year=2024)
    KpiActualFactory(target=KpiTargetFactory(plan=last, kpi=kpi, target_text="対前年度以上"), value=D(last_year_end))
    if breaks:
        KpiChange.objects.create(kpi=kpi, fiscal_year=FiscalYear.objects.get(year=2024), change="definition_changed")
    return KpiTargetFactory(plan=this, kpi=kpi, target_text=target_text)


def _result(target: KpiTarget) -> KpiResult:
    annotated = KpiTarget.objects.with_figures().prefetch_related("actuals").get(pk=target.pk)
    mid_year = [a for a in annotated.actuals.order_by("month", "period") if a.period != "year_end"]
    return result_for(annotated, mid_year)


@pytest.mark.django_db
def test_a_yoy_target_is_judged_against_last_year_without_a_definition_change() -> None:
    target = _two_years(KpiFactory(precision=3), "対前年度以上", last_year_end="0.418", breaks=False)
    KpiActualFactory(target=target, value=D("0.300"))

    result = _result(target)

    assert (result.baseline, result.mark, result.no_mark_reason) == (D("0.418"), BELOW, None)


@pytest.mark.django_db
def test_a_yoy_target_after_a_definition_change_gets_no_mark_and_says_why() -> None:
    target = _two_years(KpiFactory(precision=3), "対前年度以上", last_year_end="0.418", breaks=True)
    KpiActualFactory(target=target, value=D("0.300"))

    result = _result(target)

    assert result.mark is None
    assert result.baseline is None
    assert result.baseline_note == "比較不可（基準変更）"
    assert result.no_mark_reason == NO_MARK_BASELINE_NOT_COMPARABLE


@pytest.mark.django_db
def test_a_stated_baseline_is_used_after_a_definition_change() -> None:
    target = _two_years(KpiFactory(precision=3), "対前年度(0.154%)以上", last_year_end="0.418", breaks=True)
    KpiActualFactory(target=target, value=D("0.300"))

    result = _result(target)

    assert (result.baseline, result.mark, result.baseline_note) == (D("0.154"), PLANNED, None)


@pytest.mark.django_db
def test_a_yoy_target_without_last_years_figure_says_so() -> None:
    target = KpiTargetFactory(plan=PlanFactory(fiscal_year__year=2024), kpi=KpiFactory(), target_text="対前年度以上")
    KpiActualFactory(target=target, value=D("50.0"))

    assert _result(target).no_mark_reason == NO_MARK_NO_BASELINE


@pytest.mark.django_db
def test_a_running_total_after_a_definition_change_gets_no_projection() -> None:
    # Last year's 900 is on the old definition: no pace to measure from, so no projection (not 900-based).
    kpi = KpiFactory(kind=Kpi.Kind.COUNT)
    target = _two_years(kpi, "1,000件以上", last_year_end="900", breaks=True)
    KpiActualFactory(target=target, monthly=True, month=datetime.date(2024, 9, 1), value=D("960"))

    result = _result(target)

    assert result.latest == D("960")
    assert result.projection is None


@pytest.mark.django_db
def test_a_cumulative_rate_after_a_definition_change_ignores_last_years_shape() -> None:
    # Last year: 10.0% in September, 40.0% at year end. Shape would give 20.0 × 40.0 ÷ 10.0 = 80.0;
    # after the change only the months count: 20.0 × 12 ÷ 6 = 40.0 < 50.0 → △.
    kpi = KpiFactory()
    target = _two_years(kpi, "50.0%以上", last_year_end="40.0", breaks=True)
    last = KpiTarget.objects.get(plan__fiscal_year_id=2023, kpi=kpi)
    KpiActualFactory(target=last, monthly=True, month=datetime.date(2023, 9, 1), value=D("10.0"))
    KpiActualFactory(target=target, monthly=True, month=datetime.date(2024, 9, 1), value=D("20.0"))

    result = _result(target)

    assert result.last_year_same_month == D("10.0")
    assert result.projection == Projection(D("40.0"), ProjectionMethod.LINEAR, 6, BELOW)


# -- the seed's bases and the page ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_seed_catalog_bases_follow_the_domain_brief() -> None:
    # domain.md: 健診実施率 cumulative; 健康宣言事業所数 running totals; ジェネリック 単月; 加入者ひとり当たり… a level.
    bases = dict(Kpi.objects.values_list("code", "measure_basis"))

    assert {code: bases[code] for code in ("lifestyle_checkup_rate", "dependent_checkup_rate")} == {
        "lifestyle_checkup_rate": "cumulative",
        "dependent_checkup_rate": "cumulative",
    }
    assert bases["health_declaration_offices"] == "running_total"
    assert bases["generic_drug_share"] == "single_month"
    assert bases["judo_payment_per_member"] == "level"
    assert not [code for code, basis in bases.items() if "per_member" in code and basis != "level"]


@pytest.mark.django_db
def test_the_kpi_page_projects_gifus_payment_per_member_as_held_and_on_track(hq_manager) -> None:
    url = reverse("kpi_detail", args=["gifu", 2024, "judo_payment_per_member"])
    body = client_for(hq_manager).get(url).content.decode()

    facts = body.split("</dl>")[0]
    assert "121.8円（達成見込み・直近値を年度末まで維持と仮定）" in facts
    assert "365.4" not in body and "未達のおそれ" not in facts


@pytest.mark.django_db
def test_the_kpi_page_says_why_a_projection_after_a_definition_change_cannot_be_judged(hq_manager) -> None:
    kpi = KpiFactory(kind=Kpi.Kind.AMOUNT, code="break_amount")
    target = _two_years(kpi, "対前年度以上", last_year_end="9000", breaks=True)
    KpiActualFactory(target=target, interim=True, month=datetime.date(2024, 9, 1), value=D("9500"))

    url = reverse("kpi_detail", args=[target.plan.branch.code, 2024, "break_amount"])
    facts = client_for(hq_manager).get(url).content.decode().split("</dl>")[0]

    assert "9,500円（判定不可：比較不可（基準変更）・直近値を年度末まで維持と仮定）" in facts
