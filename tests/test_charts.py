"""plans.charts: figures that say something — no empty charts, years named as years, legends with data only,
axes a reader expects, the projection drawn, break labels on one line — and the pages that show them."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from branches.models import Branch
from plans import charts
from plans.models import FiscalYear, Kpi, Plan
from plans.selectors import KpiHistory, kpi_history, kpi_ranking
from tests.conftest import client_for
from tests.factories import KpiActualFactory, KpiFactory, KpiTargetFactory, PlanFactory

pytestmark = pytest.mark.django_db

D = Decimal


def history(branch: str, year: int, code: str) -> KpiHistory:
    found = kpi_history(Plan.objects.get(branch__code=branch, fiscal_year_id=year), code)
    assert found is not None
    return found


def names(figure: dict[str, Any]) -> list[str]:
    return [trace["name"] for trace in figure["data"]]


# -- monthly progress --------------------------------------------------------------------------------


def test_the_monthly_chart_draws_the_projection_dashed_from_the_latest_month_to_march():
    # Gifu 健康宣言事業所数: 1,481 in September; 1,240 at FY2023's end → 1,481 + (241 ÷ 6) × 6 = 1,722 in March.
    figure = charts.monthly_progress(history("gifu", 2024, "health_declaration_offices"))

    projection = next(t for t in figure["data"] if t["name"].startswith("見込み"))
    assert projection["x"] == ["9月", "3月"]
    assert projection["y"] == [1481.0, 1722.0]
    assert projection["line"]["dash"] == "dash"
    assert projection["text"] == ["", "見込み"]
    assert "公式の評価ではありません" in projection["name"]


def test_the_monthly_chart_names_the_year_itself_and_lists_only_series_with_data():
    figure = charts.monthly_progress(history("gifu", 2024, "health_declaration_offices"))

    assert names(figure)[0] == "令和6年度"
    assert not any("今年度" in name for name in names(figure))
    # FY2023 has no monthly figures for Gifu: no 前年度 entry in the legend
    assert not any("前年度" in name for name in names(figure))
    assert all(any(v is not None for v in trace["y"]) for trace in figure["data"])


def test_the_monthly_chart_names_the_previous_year_as_such_and_marks_a_definition_change():
    # 健康保険委員カバー率 changed its definition in FY2024 (※基準変更): last year's months are shown, flagged.
    figure = charts.monthly_progress(history("gifu", 2024, "health_committee_coverage"))

    assert names(figure)[:2] == ["令和6年度", "前年度（令和5年度）同月（基準変更前）"]


def test_the_monthly_chart_of_a_count_gets_a_padded_range_of_its_data():
    # 1,344 … 1,722 (with the 1,570 target): span 378, padding 378 × 0.12 = 45.36.
    figure = charts.monthly_progress(history("gifu", 2024, "health_declaration_offices"))

    assert figure["layout"]["yaxis"]["range"] == [1298.64, 1767.36]


def test_the_monthly_chart_of_a_close_level_keeps_its_scale():
    # Gifu 121.8円 against 122.4円: span at least 122.4 × 0.1 = 12.24, padding 12.24 × 0.12 = 1.4688,
    # so 0.6円 is not drawn as the whole height of the chart.
    figure = charts.monthly_progress(history("gifu", 2024, "judo_payment_per_member"))

    assert figure["layout"]["yaxis"]["range"] == [120.3312, 123.8688]


def test_the_monthly_chart_of_a_rate_starts_at_zero_and_stops_by_100():
    # Gifu 被扶養者の特定健診: 1.2 … 9.6% this year, target 32.1%, projection ≤ 100.
    figure = charts.monthly_progress(history("gifu", 2024, "dependent_checkup_rate"))

    low, high = figure["layout"]["yaxis"]["range"]
    assert low == 0
    assert 32.1 < high <= 100


@pytest.mark.parametrize("code", ["opinion_statements"])
def test_a_qualitative_kpi_has_no_chart(code: str):
    found = history("tochigi", 2023, code)

    assert charts.monthly_progress(found) is None
    assert charts.multi_year_trend(found) is None


def test_a_numeric_kpi_without_figures_has_no_chart():
    target = KpiTargetFactory(plan=PlanFactory(fiscal_year__year=2024), kpi=KpiFactory())
    found = kpi_history(target.plan, target.kpi.code)

    assert charts.monthly_progress(found) is None
    assert charts.multi_year_trend(found) is None


# -- multi-year trend --------------------------------------------------------------------------------


def test_the_trend_chart_names_past_years_by_their_year_not_this_year():
    figure = charts.multi_year_trend(history("tochigi", 2023, "lifestyle_checkup_rate"))

    assert figure["data"][0]["x"] == ["令和3年度", "前年度（令和4年度）", "令和5年度", "令和6年度"]
    assert not any("今年度" in label for trace in figure["data"] for label in trace["x"])


def test_the_trend_chart_puts_a_break_label_on_one_line_with_its_year():
    figure = charts.multi_year_trend(history("tochigi", 2023, "lifestyle_checkup_rate"))

    [annotation] = figure["layout"]["annotations"]
    assert annotation["text"] == "令和6年度から基準・算出方法の変更"
    assert "<br>" not in annotation["text"]
    assert (annotation["x"], annotation["xanchor"]) == (2.5, "left")  # right of the line before 令和6年度


def test_the_trend_chart_of_a_small_rate_is_not_flattened_against_100():
    # Tochigi 査定率 0.370, 0.371, 0.418 (national 0.423): 0 to 0.423 + 0.423 × 0.12 = 0.47376.
    figure = charts.multi_year_trend(history("tochigi", 2023, "receipt_assessment_rate"))

    assert figure["layout"]["yaxis"]["range"] == [0.0, 0.47376]


def test_the_trend_chart_lists_only_series_with_data():
    # Gifu has no national averages: the legend has no 全国平均.
    figure = charts.multi_year_trend(history("gifu", 2024, "health_declaration_offices"))

    assert "全国平均" not in names(figure)
    assert all(any(v is not None for v in trace["y"]) for trace in figure["data"])


# -- branch ranking ----------------------------------------------------------------------------------


def _figure_at(kpi: Kpi, code: str, value: str, month: datetime.date | None) -> None:
    target = KpiTargetFactory(plan=PlanFactory(branch=Branch.objects.get(code=code), fiscal_year__year=2024), kpi=kpi)
    if month is None:
        KpiActualFactory(target=target, value=D(value))
    else:
        KpiActualFactory(target=target, interim=True, month=month, value=D(value))


def test_the_ranking_chart_draws_only_figures_ranked_together():
    kpi, sep = KpiFactory(), datetime.date(2024, 9, 1)
    _figure_at(kpi, "hokkaido", "60.0", sep)
    _figure_at(kpi, "aomori", "55.0", sep)
    _figure_at(kpi, "iwate", "70.0", datetime.date(2024, 8, 1))
    _figure_at(kpi, "miyagi", "40.0", None)
    ranking = kpi_ranking(FiscalYear.objects.get(year=2024), kpi)

    figure = charts.branch_ranking(2024, kpi, ranking, national_average=D("45.0"))

    bars = [t for t in figure["data"] if t["type"] == "bar"]
    assert [(t["name"], t["x"]) for t in bars] == [
        ("年度末実績", ["宮城"]),
        ("2024年9月時点の実績（淡色・斜線は年度末見込みによる色）", ["北海道", "青森"]),
    ]
    assert "全国平均 45.0%" in names(figure)
    assert figure["layout"]["yaxis"]["range"][0] == 0
    assert figure["layout"]["xaxis"]["range"] == [-1.5, 3.5]  # three bars in room for five


def test_the_ranking_chart_of_mid_year_figures_leaves_out_the_year_end_national_average():
    kpi, sep = KpiFactory(), datetime.date(2024, 9, 1)
    _figure_at(kpi, "hokkaido", "60.0", sep)
    ranking = kpi_ranking(FiscalYear.objects.get(year=2024), kpi)

    figure = charts.branch_ranking(2024, kpi, ranking, national_average=D("45.0"))

    assert not any(name.startswith("全国平均") for name in names(figure))
    assert figure["layout"]["shapes"] == []


def test_a_qualitative_kpi_has_no_ranking_chart():
    kpi = Kpi.objects.get(code="opinion_statements")
    ranking = kpi_ranking(FiscalYear.objects.get(year=2023), kpi)

    assert ranking
    assert charts.branch_ranking(2023, kpi, ranking, None) is None


# -- the pages ---------------------------------------------------------------------------------------


def test_the_kpi_page_says_why_a_qualitative_kpi_has_no_chart(hq_manager):
    response = client_for(hq_manager).get(reverse("kpi_detail", args=["tochigi", 2023, "opinion_statements"]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "このKPIは数値ではなく実施の状況で評価するため、グラフはありません。" in body
    assert 'id="progress-data"' not in body and 'id="progress-chart"' not in body


def test_the_kpi_page_shows_a_baseline_from_before_a_definition_change_as_not_comparable(hq_manager):
    response = client_for(hq_manager).get(reverse("kpi_detail", args=["tochigi", 2024, "receipt_assessment_rate"]))

    body = response.content.decode()
    assert "比較不可（基準変更）" in body
    assert "0.418%" not in body.split("年度ごとの目標と実績")[0]  # not offered as this year's baseline


def test_the_national_kpi_page_groups_ranks_by_as_of_month(hq_manager):
    response = client_for(hq_manager).get(reverse("national_kpi", args=[2024, "mail_application_rate"]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "2024年11月時点の実績の順位（年度末実績のない支部）" in body
    assert "順位なし（時点が異なる実績・実績なし）" in body
