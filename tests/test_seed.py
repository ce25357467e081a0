"""The seed: figures read back from the database match the branches' own documents (../shared/seeds/).

Every expected figure below is copied from the source document named in the test, not from the JSON.
"""

from __future__ import annotations

import datetime
import json
import shutil
from collections.abc import Callable
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings
from hypothesis import strategies as st

from branches.models import Branch
from plans.models import (
    BudgetLine,
    Kpi,
    KpiActual,
    KpiChange,
    KpiTarget,
    Measure,
    MeasureProgress,
    NationalAverage,
    Plan,
)
from plans.seed import SEED_DIR, SeedError, load_seed, read_seed
from plans.selectors import plan_results

pytestmark = pytest.mark.django_db

D = Decimal


def month(raw: str) -> datetime.date:
    year, mon = raw.split("-")
    return datetime.date(int(year), int(mon), 1)


def actual(branch: str, year: int, kpi: str, period: str = "year_end", as_of: str | None = None) -> KpiActual:
    return KpiActual.objects.get(
        target__plan__branch__code=branch,
        target__plan__fiscal_year_id=year,
        target__kpi__code=kpi,
        period=period,
        month=month(as_of) if as_of else None,
    )


def interim(branch: str, year: int, kpi: str) -> tuple[Decimal | None, str]:
    """The one interim actual of a KPI: (value, as-of month as YYYY-MM)."""
    row = KpiActual.objects.get(
        target__plan__branch__code=branch, target__plan__fiscal_year_id=year, target__kpi__code=kpi, period="interim"
    )
    return row.value, row.month.strftime("%Y-%m")


def target(branch: str, year: int, kpi: str) -> KpiTarget:
    return KpiTarget.objects.select_related("kpi").get(
        plan__branch__code=branch, plan__fiscal_year_id=year, kpi__code=kpi
    )


def row_counts() -> dict[str, int]:
    models = [*apps.get_app_config("plans").get_models(), *apps.get_app_config("branches").get_models()]
    return {model._meta.label: model._default_manager.count() for model in models}


# ==================================================================================================
# 栃木 Tochigi — 004_92917589d574a77c.txt (令和5年度 事業計画実施状況)
# ==================================================================================================

# KPI table: 令和３年度実績, 令和４年度実績, 令和５年度実績
TOCHIGI_YEAR_END = {
    "service_standard_rate": ("100", "100", "100"),
    "mail_application_rate": ("94.6", "93.9", "93.9"),
    "judo_multi_visit_rate": ("1.08", "0.95", "0.94"),
    "receipt_assessment_rate": ("0.370", "0.371", "0.418"),
    "reexam_amount_per_claim": ("5758", "5684", "6535"),
    "card_recovery_rate": ("86.78", "89.48", "86.64"),
    "refund_recovery_rate": ("68.97", "67.68", "62.60"),
    "dependent_confirmation_rate": ("91.05", "90.50", "89.60"),
    "lifestyle_checkup_rate": ("68.1", "71.9", "72.2"),
    "employer_checkup_data_rate": ("7.6", "9.4", "8.9"),
    "dependent_checkup_rate": ("29.1", "30.9", "30.7"),
    "insured_guidance_rate": ("25.1", "25.0", "28.7"),
    "dependent_guidance_rate": ("18.8", "19.3", "19.9"),
    "medical_visit_rate": ("10.6", "12.6", "13.1"),
    "health_declaration_offices": ("1177", "1325", "1529"),
    "health_committee_coverage": ("66.8", "70.9", "72.0"),
    "generic_drug_share": ("80.7", "82.0", "83.8"),
    "single_bid_ratio": ("0.0", "0.0", "0.0"),
}


@pytest.mark.parametrize(("kpi", "values"), TOCHIGI_YEAR_END.items(), ids=list(TOCHIGI_YEAR_END))
def test_it_loads_tochigis_year_end_actuals_for_2021_to_2023(kpi: str, values: tuple[str, str, str]) -> None:
    for year, expected in zip((2021, 2022, 2023), values, strict=True):
        assert actual("tochigi", year, kpi).value == D(expected), year


def test_it_loads_tochigis_qualitative_actual_as_text() -> None:
    for year in (2021, 2022, 2023):
        row = actual("tochigi", year, "opinion_statements")
        assert (row.value, row.text_value) == (None, "実施")


def test_it_loads_tochigis_counts_behind_a_rate() -> None:
    # ■ KPI：①生活習慣病予防健診実施率:72.2％ … 受診対象者数：226,946 人 … 実施者数：163,860 人
    lifestyle = actual("tochigi", 2023, "lifestyle_checkup_rate")
    assert (lifestyle.numerator, lifestyle.denominator) == (D("163860"), D("226946"))
    # 13.1％（勧奨実施数 7,986 人、受診者数 1,044 人）
    visits = actual("tochigi", 2023, "medical_visit_rate")
    assert (visits.numerator, visits.denominator) == (D("1044"), D("7986"))


# 令和５年度 全国平均 (－ where none is printed)
FY2023_NATIONAL_AVERAGES = {
    "service_standard_rate": "99.99",
    "mail_application_rate": "95.6",
    "judo_multi_visit_rate": "0.83",
    "receipt_assessment_rate": "0.423",
    "reexam_amount_per_claim": "8472",
    "card_recovery_rate": "82.10",
    "refund_recovery_rate": "53.29",
    "dependent_confirmation_rate": "89.12",
    "lifestyle_checkup_rate": "57.7",
    "employer_checkup_data_rate": "7.1",
    "dependent_checkup_rate": "28.3",
    "insured_guidance_rate": "19.8",
    "dependent_guidance_rate": "15.6",
    "medical_visit_rate": "9.2",
    "health_committee_coverage": "52.6",
    "generic_drug_share": "82.0",
}


def test_it_loads_the_fy2023_national_averages() -> None:
    loaded = {
        n.kpi.code: n.value
        for n in NationalAverage.objects.filter(fiscal_year_id=2023, as_of=None).select_related("kpi")
    }
    assert loaded == {code: D(value) for code, value in FY2023_NATIONAL_AVERAGES.items()}


def test_it_has_no_national_average_where_tochigi_prints_a_dash() -> None:
    for kpi in ("health_declaration_offices", "opinion_statements", "single_bid_ratio"):
        assert not NationalAverage.objects.filter(kpi__code=kpi, fiscal_year_id=2023).exists()


# 令和５年度目標 and 令和５年度実施状況 (the mark Tochigi printed)
TOCHIGI_FY2023_TARGETS = {
    "service_standard_rate": ("exact", "100", "○"),
    "mail_application_rate": ("fixed_min", "96.0", "△"),
    "judo_multi_visit_rate": ("yoy_max", None, "○"),
    "receipt_assessment_rate": ("yoy_min", None, "○"),
    "reexam_amount_per_claim": ("yoy_min", None, "○"),
    "card_recovery_rate": ("yoy_min", None, "△"),
    "refund_recovery_rate": ("yoy_min", None, "△"),
    "dependent_confirmation_rate": ("fixed_min", "94.0", "△"),
    "lifestyle_checkup_rate": ("fixed_min", "71.7", "◎"),
    "employer_checkup_data_rate": ("fixed_min", "8.6", "◎"),
    "dependent_checkup_rate": ("fixed_min", "33.2", "△"),
    "insured_guidance_rate": ("fixed_min", "34.5", "△"),
    "dependent_guidance_rate": ("fixed_min", "18.9", "◎"),
    "medical_visit_rate": ("fixed_min", "13.1", "○"),
    "health_declaration_offices": ("fixed_min", "1330", "◎"),
    "health_committee_coverage": ("fixed_min", "72.0", "○"),
    "generic_drug_share": ("yoy_min", None, "○"),
    "opinion_statements": ("done", None, "○"),
    "single_bid_ratio": ("fixed_max", "20", "◎"),
}


def test_it_loads_tochigis_19_fy2023_targets_with_their_published_marks() -> None:
    targets = KpiTarget.objects.filter(plan__branch__code="tochigi", plan__fiscal_year_id=2023).select_related("kpi")
    assert targets.count() == 19
    loaded = {t.kpi.code: (t.rule, t.target_value, t.published_mark) for t in targets}
    assert loaded == {
        code: (rule, D(value) if value else None, mark) for code, (rule, value, mark) in TOCHIGI_FY2023_TARGETS.items()
    }


def test_it_judges_tochigis_fy2023_kpis_as_tochigi_did() -> None:
    plan = Plan.objects.select_related("fiscal_year", "branch").get(branch__code="tochigi", fiscal_year_id=2023)
    results = plan_results(plan)
    assert len(results) == 19
    assert {r.kpi.code: r.mark.value if r.mark else None for r in results} == {
        r.kpi.code: r.target.published_mark for r in results
    }
    # and one by one through the model, with last year's year-end as the yoy baseline
    for t in KpiTarget.objects.filter(plan=plan).select_related("kpi"):
        year_end = actual("tochigi", 2023, t.kpi.code)
        previous = KpiActual.objects.filter(
            target__plan__branch__code="tochigi",
            target__plan__fiscal_year_id=2022,
            target__kpi=t.kpi,
            period="year_end",
        ).first()
        mark = t.judge(year_end.judged_value, previous_year_end=previous.value if previous else None)
        assert mark == t.published_mark, t.kpi.code


# 令和６年度目標 column
TOCHIGI_FY2024_TARGETS = {
    "service_standard_rate": ("exact", "100"),
    "mail_application_rate": ("yoy_min", None),
    "receipt_assessment_rate": ("yoy_min", None),
    "reexam_amount_per_claim": ("yoy_min", None),
    "card_recovery_rate": ("yoy_min", None),
    "refund_recovery_rate": ("yoy_min", None),
    "lifestyle_checkup_rate": ("fixed_min", "65.9"),
    "employer_checkup_data_rate": ("fixed_min", "10.1"),
    "dependent_checkup_rate": ("fixed_min", "33.2"),
    "insured_guidance_rate": ("fixed_min", "31.7"),
    "dependent_guidance_rate": ("fixed_min", "26.1"),
    "medical_visit_rate": ("yoy_min", None),
    "health_declaration_offices": ("fixed_min", "1640"),
    "health_committee_coverage": ("fixed_min", "72.2"),  # ・72.2%以上
    "health_committee_offices": ("yoy_min", None),  # ・委嘱事業所数 対前年度以上
    "generic_drug_share": ("yoy_min", None),
    "opinion_statements": ("done", None),
    "single_bid_ratio": ("fixed_max", "15"),
}


def test_it_loads_tochigis_fy2024_targets() -> None:
    targets = KpiTarget.objects.filter(plan__branch__code="tochigi", plan__fiscal_year_id=2024).select_related("kpi")
    assert {t.kpi.code: (t.rule, t.target_value) for t in targets} == {
        code: (rule, D(value) if value else None) for code, (rule, value) in TOCHIGI_FY2024_TARGETS.items()
    }


def test_it_drops_the_kpis_tochigi_marks_deleted_from_fy2024() -> None:
    # 備考: 削除
    for kpi in ("judo_multi_visit_rate", "dependent_confirmation_rate"):
        assert not KpiTarget.objects.filter(plan__branch__code="tochigi", plan__fiscal_year_id=2024, kpi__code=kpi)


# 予算執行: 予算額（円） 執行額（円） 執行率
TOCHIGI_BUDGET = [
    ("０歳児加入者を主とした医療費適正化のための情報提供", "1910000", "1644044", "86.1"),
    ("医療機関等を通じた患者へのジェネリック医薬品情報提供", "135000", "0", "0.0"),
    ("紙媒体による広報", "1888000", "1749638", "92.7"),
    ("各種メディアを活用したインセンティブ広報", "5000000", "5511000", "110.2"),
    ("YouTube広告を活用した「上手な医療のかかり方」の広報", "555000", "273900", "49.4"),
    ("小学生を対象とした医療費適正化等の情報提供（動画・冊子等の制作）", "2017000", "1513600", "75.0"),
    ("新規適用、新規加入者に対する協会けんぽ事業内容等の情報提供", "1081000", "899432", "83.2"),
    ("事業者健診結果データ取得事業", "8888000", "4102863", "46.2"),
    ("被扶養者を対象とした集団健診の実施", "15251000", "13264576", "87.0"),
    ("生活習慣病予防健診", "1922000", "1486512", "77.3"),
    ("被保険者および被扶養者への受診勧奨等", "4708000", "3736926", "79.4"),
    ("特定保健指導", "3534000", "1884310", "53.3"),
    ("未治療者受診勧奨・重症化予防対策", "10870000", "7575185", "69.7"),
    ("健康経営の推進", "6526000", "5689681", "87.2"),
    ("事業所の健康度見える化ツールの提供", "934000", "606888", "65.0"),
    ("保健指導対象者に対する健診前の文書支援事業", "11000", "0", "0.0"),
    ("メタボリスク保有者への行動変容通知発送および効果検証事業", "1623600", "1551027", "95.5"),
]


@pytest.mark.parametrize(("programme", "budget", "spent", "rate"), TOCHIGI_BUDGET, ids=[b[0] for b in TOCHIGI_BUDGET])
def test_it_loads_tochigis_budget_lines_with_the_printed_execution_rate(
    programme: str, budget: str, spent: str, rate: str
) -> None:
    line = BudgetLine.objects.get(plan__branch__code="tochigi", plan__fiscal_year_id=2023, programme=programme)
    assert (line.budget_amount, line.spent_amount) == (D(budget), D(spent))
    assert line.execution_rate == D(rate)


def test_it_loads_all_of_tochigis_budget_lines() -> None:
    assert BudgetLine.objects.filter(plan__branch__code="tochigi", plan__fiscal_year_id=2023).count() == 17


# ==================================================================================================
# 鹿児島 Kagoshima — 001_1a96f4371dfdfb7e.txt (令和7年度KPI (案))
# ==================================================================================================

KAGOSHIMA_FY2025_TARGETS = {
    "service_standard_rate": ("100%", "exact", "100", None),
    "service_standard_days": ("7日以内", "fixed_max", "7", None),
    "counter_receipt_rate": ("対前年度以下", "yoy_max", None, None),
    "receipt_assessment_rate": ("対前年度以上", "yoy_min", None, None),
    "reexam_amount_per_claim": ("対前年度以上", "yoy_min", None, None),
    "refund_recovery_rate": ("対前年度以上", "yoy_min", None, None),
    "lifestyle_checkup_rate": ("60.3%以上", "fixed_min", "60.3", None),
    "employer_checkup_data_rate": ("9.3%以上", "fixed_min", "9.3", None),
    "dependent_checkup_rate": ("26.0%以上", "fixed_min", "26.0", None),
    "insured_guidance_rate": ("25.3%以上", "fixed_min", "25.3", None),
    "dependent_guidance_rate": ("11.2%以上", "fixed_min", "11.2", None),
    "medical_visit_rate": ("対前年度以上", "yoy_min", None, None),
    "health_declaration_offices": ("1,310事業所以上", "fixed_min", "1310", None),
    "generic_drug_share": ("対前年度末以上", "yoy_min", None, None),
    "biosimilar_outreach": ("関係機関への働きかけ", "done", None, None),
    "health_committee_coverage": ("54.7%以上", "fixed_min", "54.7", None),
    "health_committee_offices": ("対前年度以上", "yoy_min", None, None),
    "sns_monthly_posts": ("毎月", "frequency", None, None),
    "single_bid_ratio": ("15.0%以下", "fixed_max", "15.0", None),
}


def test_it_loads_kagoshimas_fy2025_targets() -> None:
    targets = KpiTarget.objects.filter(plan__branch__code="kagoshima", plan__fiscal_year_id=2025).select_related("kpi")
    assert {t.kpi.code: (t.target_text, t.rule, t.target_value, t.stated_baseline) for t in targets} == {
        code: (text, rule, D(value) if value else None, baseline)
        for code, (text, rule, value, baseline) in KAGOSHIMA_FY2025_TARGETS.items()
    }


# 令和6年度 KPI / 中途実績 with its as-of month
KAGOSHIMA_FY2024 = {
    "service_standard_rate": ("exact", "100", None, "100", "2024-10"),
    "mail_application_rate": ("yoy_min", None, "93.3", "94.2", "2024-11"),
    "receipt_assessment_rate": ("yoy_min", None, "0.154", "0.115", "2024-09"),
    "reexam_amount_per_claim": ("yoy_min", None, "11378", "12303", "2024-09"),
    "refund_recovery_rate": ("yoy_min", None, "59.29", "51.17", "2024-10"),
    "lifestyle_checkup_rate": ("fixed_min", "60.3", None, "29.6", "2024-09"),
    "employer_checkup_data_rate": ("fixed_min", "9.3", None, "4.8", "2024-09"),
    "dependent_checkup_rate": ("fixed_min", "24.9", None, "9.1", "2024-09"),
    "insured_guidance_rate": ("fixed_min", "22.2", None, "9.4", "2024-08"),
    "dependent_guidance_rate": ("fixed_min", "7.3", None, "2.7", "2024-08"),
    "medical_visit_rate": ("yoy_min", None, "36.9", "40.8", "2024-11"),
    "health_declaration_offices": ("fixed_min", "1050", None, "1201", "2024-11"),
    "generic_drug_share": ("yoy_min", None, "88.0", "89", "2024-07"),
    "health_committee_coverage": ("fixed_min", "53.2", None, "53.3", "2024-11"),
    "health_committee_offices": ("yoy_min", None, "2955", "3093", "2024-11"),
    "single_bid_ratio": ("fixed_max", "15", None, "0", "2024-11"),
}


@pytest.mark.parametrize(("kpi", "expected"), KAGOSHIMA_FY2024.items(), ids=list(KAGOSHIMA_FY2024))
def test_it_loads_kagoshimas_fy2024_targets_and_interim_actuals(kpi: str, expected: tuple[Any, ...]) -> None:
    rule, value, baseline, interim_value, as_of = expected
    t = target("kagoshima", 2024, kpi)
    assert (t.rule, t.target_value, t.stated_baseline) == (
        rule,
        D(value) if value else None,
        D(baseline) if baseline else None,
    )
    assert interim("kagoshima", 2024, kpi) == (D(interim_value), as_of)
    assert not t.actuals.filter(period="year_end").exists()


def test_it_loads_kagoshimas_fy2024_kpis_only() -> None:
    codes = set(
        KpiTarget.objects.filter(plan__branch__code="kagoshima", plan__fiscal_year_id=2024).values_list(
            "kpi__code", flat=True
        )
    )
    assert codes == set(KAGOSHIMA_FY2024)


# 令和5年度 KPI, 年度末実績, 中途実績 with its as-of month
KAGOSHIMA_FY2023 = {
    "service_standard_rate": ("100%", "100", "100", "2023-11"),
    "mail_application_rate": ("96.0%以上", "93.3", "93.4", "2023-11"),
    "reexam_amount_per_claim": ("対前年度(9,115円)以上", "11378", "10010", "2023-11"),
    "lifestyle_checkup_rate": ("61.1%以上", "50.9", "26.0", "2023-09"),
    "employer_checkup_data_rate": ("13.8%以上", "11.0", "2.0", "2023-09"),
    "dependent_checkup_rate": ("26.0%以上", "22.5", "9.2", "2023-09"),
    "insured_guidance_rate": ("38.0%以上", "21.6", "26.4", "2023-09"),
    "dependent_guidance_rate": ("19.4%以上", "5.1", "12.9", "2023-08"),
    "health_declaration_offices": ("770事業所以上", "969", "890", "2023-12"),
    "generic_drug_share": ("対前年度(86.8%)以上", "88.0", "87.1", "2023-08"),
    "health_committee_coverage": ("50.5%以上", "52.8", "52.7", "2023-12"),
    "single_bid_ratio": ("20.0%以下", "14.3", "10.0", "2023-12"),
}


@pytest.mark.parametrize(("kpi", "expected"), KAGOSHIMA_FY2023.items(), ids=list(KAGOSHIMA_FY2023))
def test_it_loads_kagoshimas_fy2023_year_end_and_interim_actuals(kpi: str, expected: tuple[str, ...]) -> None:
    text, year_end, interim_value, as_of = expected
    assert target("kagoshima", 2023, kpi).target_text == text
    assert actual("kagoshima", 2023, kpi).value == D(year_end)
    assert interim("kagoshima", 2023, kpi) == (D(interim_value), as_of)


def test_it_reads_the_stated_baselines_of_kagoshimas_fy2023_targets() -> None:
    assert target("kagoshima", 2023, "reexam_amount_per_claim").stated_baseline == D("9115")
    assert target("kagoshima", 2023, "generic_drug_share").stated_baseline == D("86.8")


# ==================================================================================================
# 東京 Tokyo — 002_c55e886e2f12d222.txt (令和６年度 KPI設定項目一覧表, 実施状況・評価・今後の実施予定等)
# ==================================================================================================

TOKYO_FY2024 = {
    "service_standard_rate": ("exact", "100", None, "100", "2024-04"),
    "mail_application_rate": ("yoy_min", None, "98.4", "98.2", "2024-06"),
    "receipt_assessment_rate": ("yoy_min", None, "0.087", "0.091", "2024-05"),
    "reexam_amount_per_claim": ("yoy_min", None, "9109", "14097", "2024-05"),
    "refund_recovery_rate": ("yoy_min", None, "50.35", "31.58", "2024-05"),
    "card_recovery_rate": ("yoy_min", None, "70.80", "71.16", "2024-05"),
    "medical_visit_rate": ("yoy_min", None, "31.2", "32.7", "2024-05"),
    "health_declaration_offices": ("fixed_min", "2900", None, "2719", "2024-05"),
    "health_committee_coverage": ("fixed_min", "40", None, "39.39", "2024-05"),
    "health_committee_offices": ("yoy_min", None, "10263", "10369", "2024-05"),
    "single_bid_ratio": ("fixed_max", "15", None, "0", "2024-05"),
}


@pytest.mark.parametrize(("kpi", "expected"), TOKYO_FY2024.items(), ids=list(TOKYO_FY2024))
def test_it_loads_tokyos_fy2024_targets_and_interim_actuals(kpi: str, expected: tuple[Any, ...]) -> None:
    rule, value, baseline, interim_value, as_of = expected
    t = target("tokyo", 2024, kpi)
    assert (t.rule, t.target_value, t.stated_baseline) == (
        rule,
        D(value) if value else None,
        D(baseline) if baseline else None,
    )
    assert interim("tokyo", 2024, kpi) == (D(interim_value), as_of)


def test_it_loads_tokyos_targets_without_an_actual_yet() -> None:
    # 実績 "－" in the KPI設定項目一覧表
    for kpi, value in [
        ("lifestyle_checkup_rate", "60.0"),
        ("employer_checkup_data_rate", "3.8"),
        ("dependent_checkup_rate", "32.0"),
        ("insured_guidance_rate", "11.4"),
        ("dependent_guidance_rate", "10.1"),
    ]:
        t = target("tokyo", 2024, kpi)
        assert (t.rule, t.target_value) == ("fixed_min", D(value))
        assert not t.actuals.exists()
    generic = target("tokyo", 2024, "generic_drug_share")
    assert (generic.rule, generic.stated_baseline) == ("yoy_min", D("82.6"))
    assert not generic.actuals.exists()


def _progress(key: str) -> MeasureProgress:
    return MeasureProgress.objects.get(
        measure__plan__branch__code="tokyo", measure__plan__fiscal_year_id=2024, measure__key=key
    )


def _flat(text: str) -> str:
    return "".join(text.split())


def test_it_loads_tokyos_evaluation_and_next_steps_for_public_finance() -> None:
    # Ⅰ．健全な財政運営 ① … ○ … 令和６年７月12日、10月11日、12月６日、令和７年１月17日に評議会を開催
    progress = _progress("1-1-1")
    assert progress.evaluation == "○"
    assert _flat(progress.next_steps) == "令和６年７月12日、10月11日、12月６日、令和７年１月17日に評議会を開催"
    assert "年間開催回数の増加" in _flat(progress.status)
    assert progress.measure.parent is not None and progress.measure.parent.key == "1-1"


def test_it_loads_tokyos_below_plan_evaluation_for_claims_recovery() -> None:
    # （５）債権管理・回収 ① … △ … 保険者間調整の申請書未提出者に対する勧奨を行い確実な活用を促す。
    progress = _progress("1-7-1")
    assert progress.evaluation == "△"
    assert "保険者間調整の申請書未提出者に対する勧奨を行い確実な活用を促す。" in _flat(progress.next_steps)
    assert "高額債務者に対する進捗管理を月次で行い効率的な回収に取り組む。" in _flat(progress.next_steps)
    assert "前年同期比約160％" in _flat(progress.status)


def test_it_loads_tokyos_not_rated_measure() -> None:
    # ⑤ 対象案件なし — no evaluation (－)
    progress = _progress("1-5-5")
    assert progress.evaluation == "－"
    assert progress.status == "対象案件なし"
    assert _progress("1-5-6").next_steps == "令和６年10月上旬実施"


def test_it_loads_tokyos_receipt_check_evaluation() -> None:
    progress = _progress("1-6-1")
    assert progress.evaluation == "△"
    assert "外部講師等による研修会を下期に実施予定" in _flat(progress.next_steps)


def test_it_nests_tokyos_measures_one_level_only() -> None:
    measures = Measure.objects.filter(plan__branch__code="tokyo", plan__fiscal_year_id=2024)
    assert measures.exists()
    assert not measures.filter(parent__parent__isnull=False).exists()
    assert all(
        m.key.startswith(m.parent.key + "-") for m in measures.filter(parent__isnull=False).select_related("parent")
    )


# ==================================================================================================
# 岐阜 Gifu — 000_6213b90890f42860.txt (令和６年度 上期 実施結果)
# ==================================================================================================

GIFU_FY2024 = {
    "service_standard_rate": ("100", "2024-07"),  # 100％（R6.7現在）
    "mail_application_rate": ("96.0", "2024-09"),  # 96.0％（R6.9現在）
    "judo_payment_per_member": ("121.8", "2024-07"),  # ①121.8円（R6.7現在）
    "judo_multi_visit_rate": ("0.54", "2024-07"),  # ②0.54％（R6.7現在）
    "receipt_assessment_rate": ("0.127", "2024-07"),
    "reexam_amount_per_claim": ("12744", "2024-07"),
    "refund_recovery_rate": ("49.21", "2024-08"),
    "card_recovery_rate": ("85.98", "2024-08"),
    "health_declaration_offices": ("1481", "2024-09"),
    "generic_drug_share": ("84.3", "2024-05"),
    "health_committee_coverage": ("64.50", "2024-06"),
    "health_committee_offices": ("5528", "2024-09"),
    "lifestyle_checkup_rate": ("26.3", "2024-08"),
    "employer_checkup_data_rate": ("2.5", "2024-08"),
    "dependent_checkup_rate": ("9.6", "2024-08"),
    "insured_guidance_rate": ("8.2", "2024-08"),
    "dependent_guidance_rate": ("9.3", "2024-08"),
    "single_bid_ratio": ("0", "2024-09"),
}


@pytest.mark.parametrize(("kpi", "expected"), GIFU_FY2024.items(), ids=list(GIFU_FY2024))
def test_it_loads_gifus_fy2024_interim_actuals(kpi: str, expected: tuple[str, str]) -> None:
    value, as_of = expected
    assert interim("gifu", 2024, kpi) == (D(value), as_of)


def test_it_loads_gifus_fy2024_targets() -> None:
    expected = {
        "judo_payment_per_member": ("fixed_max", "122.4"),
        "judo_multi_visit_rate": ("fixed_max", "0.57"),
        "receipt_assessment_rate": ("fixed_min", "0.121"),
        "reexam_amount_per_claim": ("fixed_min", "8889"),
        "refund_recovery_rate": ("fixed_min", "73.92"),
        "card_recovery_rate": ("fixed_min", "86.15"),
        "health_declaration_offices": ("fixed_min", "1570"),
        "generic_drug_share": ("fixed_min", "83.5"),
        "health_committee_coverage": ("fixed_min", "64.5"),
        "health_committee_offices": ("fixed_min", "5420"),
        "lifestyle_checkup_rate": ("fixed_min", "66.5"),
        "employer_checkup_data_rate": ("fixed_min", "15.8"),
        "dependent_checkup_rate": ("fixed_min", "32.1"),
        "insured_guidance_rate": ("fixed_min", "32.9"),
        "dependent_guidance_rate": ("fixed_min", "35.9"),
        "single_bid_ratio": ("fixed_max", "15"),
    }
    for kpi, (rule, value) in expected.items():
        t = target("gifu", 2024, kpi)
        assert (t.rule, t.target_value) == (rule, D(value)), kpi
    assert target("gifu", 2024, "medical_visit_rate").rule == "yoy_min"  # 前年度以上
    assert target("gifu", 2024, "mynumber_card_usage_rate").rule == "none"  # 設定なし


def _series(branch: str, year: int, kpi: str) -> dict[str, Decimal]:
    rows = KpiActual.objects.filter(
        target__plan__branch__code=branch, target__plan__fiscal_year_id=year, target__kpi__code=kpi, period="monthly"
    ).order_by("month")
    return {r.month.strftime("%Y-%m"): r.value for r in rows}


def test_it_loads_gifus_monthly_series_from_the_charts() -> None:
    # 健康宣言事業所数（累計）: 1,344 1,378 1,410 1,434 1,458 1,481 for R6.4 … R6.9
    assert _series("gifu", 2024, "health_declaration_offices") == {
        "2024-04": D("1344"),
        "2024-05": D("1378"),
        "2024-06": D("1410"),
        "2024-07": D("1434"),
        "2024-08": D("1458"),
        "2024-09": D("1481"),
    }
    # 被扶養者の特定健診 実施率（累計）: 1.2 2.0 2.9 6.4 9.6 for R6.4 … R6.8
    assert _series("gifu", 2024, "dependent_checkup_rate") == {
        "2024-04": D("1.2"),
        "2024-05": D("2.0"),
        "2024-06": D("2.9"),
        "2024-07": D("6.4"),
        "2024-08": D("9.6"),
    }
    # Ⓑ 健康保険委員の委嘱事業所数（累計）: 5,408 5,415 5,422 for R6.4 … R6.6
    assert _series("gifu", 2024, "health_committee_offices") == {
        "2024-04": D("5408"),
        "2024-05": D("5415"),
        "2024-06": D("5422"),
    }


def test_it_puts_gifus_fy2023_chart_points_in_fy2023() -> None:
    # Ⓐ 健康保険委員の被保険者カバー率（累計）: 64.03 (R5.9) 64.01 (R5.12) 64.49 (R6.3) | 64.50 (R6.6)
    assert _series("gifu", 2023, "health_committee_coverage") == {
        "2023-09": D("64.03"),
        "2023-12": D("64.01"),
        "2024-03": D("64.49"),
    }
    assert _series("gifu", 2024, "health_committee_coverage") == {"2024-06": D("64.50")}
    assert actual("gifu", 2023, "health_committee_coverage").value == D("64.49")


def test_it_loads_gifus_fy2023_year_end_actuals() -> None:
    # 令和５年度 実績 column
    expected = {
        "service_standard_rate": "100",
        "mail_application_rate": "95.6",
        "judo_payment_per_member": "122.4",
        "judo_multi_visit_rate": "0.57",
        "receipt_assessment_rate": "0.121",
        "reexam_amount_per_claim": "8889",
        "refund_recovery_rate": "73.92",
        "card_recovery_rate": "86.15",
        "health_declaration_offices": "1240",
        "generic_drug_share": "83.5",
        "health_committee_offices": "5420",
        "lifestyle_checkup_rate": "59.5",
        "employer_checkup_data_rate": "12.9",
        "dependent_checkup_rate": "27.7",
        "insured_guidance_rate": "26.0",
        "dependent_guidance_rate": "23.6",
        "single_bid_ratio": "7.7",
    }
    for kpi, value in expected.items():
        assert actual("gifu", 2023, kpi).value == D(value), kpi
    # 59.5％（182,616件）
    assert actual("gifu", 2023, "lifestyle_checkup_rate").numerator == D("182616")


def test_it_loads_gifus_national_service_days_as_of_july() -> None:
    # R6.7平均所要日数：5.08日（全国5.56日）
    assert interim("gifu", 2024, "service_standard_days") == (D("5.08"), "2024-07")
    national = NationalAverage.objects.get(kpi__code="service_standard_days", fiscal_year_id=2024)
    assert (national.as_of, national.value) == (datetime.date(2024, 7, 1), D("5.56"))


def test_it_adds_gifus_own_kpis_to_the_catalog_as_branch_specific() -> None:
    t = target("gifu", 2024, "judo_payment_per_member")
    assert t.kpi.is_national is False
    assert t.kpi.unit == "円"
    assert target("gifu", 2024, "lifestyle_checkup_rate").kpi.is_national is True


# ==================================================================================================
# Branches, plans and the loader itself
# ==================================================================================================

JIS_ORDER = (
    "hokkaido aomori iwate miyagi akita yamagata fukushima ibaraki tochigi gunma saitama chiba tokyo kanagawa "
    "niigata toyama ishikawa fukui yamanashi nagano gifu shizuoka aichi mie shiga kyoto osaka hyogo nara wakayama "
    "tottori shimane okayama hiroshima yamaguchi tokushima kagawa ehime kochi fukuoka saga nagasaki kumamoto oita "
    "miyazaki kagoshima okinawa"
).split()


def test_it_loads_the_47_branches_in_jis_order() -> None:
    branches = list(Branch.objects.all())
    assert [(b.jis_code, b.code) for b in branches] == list(enumerate(JIS_ORDER, start=1))
    names = {b.code: b.name for b in branches}
    assert (names["tochigi"], names["tokyo"], names["gifu"], names["kagoshima"]) == ("栃木", "東京", "岐阜", "鹿児島")
    assert str(branches[8]) == "栃木支部"


def test_it_loads_the_plans_of_the_four_seed_branches() -> None:
    plans = set(Plan.objects.values_list("branch__code", "fiscal_year_id"))
    assert plans == {
        ("tochigi", 2021),
        ("tochigi", 2022),
        ("tochigi", 2023),
        ("tochigi", 2024),
        ("kagoshima", 2023),
        ("kagoshima", 2024),
        ("kagoshima", 2025),
        ("tokyo", 2024),
        ("gifu", 2023),
        ("gifu", 2024),
    }


def test_it_records_the_kpi_lineage() -> None:
    replaced = KpiChange.objects.get(kpi__code="counter_receipt_rate", fiscal_year_id=2025)
    assert replaced.change == "replaced"
    assert replaced.replaces is not None and replaced.replaces.code == "mail_application_rate"
    assert replaced.breaks_series
    assert Kpi.objects.get(code="mail_application_rate").replaced_by == replaced.kpi
    changed = KpiChange.objects.get(kpi__code="receipt_assessment_rate", fiscal_year_id=2024)
    assert changed.change == "definition_changed"
    assert KpiChange.objects.get(kpi__code="health_committee_offices", fiscal_year_id=2024, change="new")


def test_it_marks_seed_actuals_as_coming_from_the_seed() -> None:
    assert set(KpiActual.objects.values_list("source", flat=True)) == {"seed"}
    assert set(KpiActual.objects.values_list("version", flat=True)) == {1}


def test_it_changes_nothing_when_loaded_again() -> None:
    before = row_counts()
    report = load_seed()
    assert not report.changed
    assert report.summary().startswith("変更なし（")
    assert row_counts() == before


def test_it_says_so_when_the_command_changes_nothing() -> None:
    before = row_counts()
    out = StringIO()
    call_command("load_seed", stdout=out)
    assert out.getvalue().startswith("変更なし（")
    assert row_counts() == before


def test_it_updates_a_figure_changed_in_the_seed(tmp_path: Path) -> None:
    seed = _copy_seed(tmp_path)
    _edit(seed, "tochigi.json", lambda doc: _kpi(doc, 2023, "mail_application_rate")["year_end"].update(value="94.0"))
    before = row_counts()
    report = load_seed(seed)
    assert report.changed
    assert report.summary() == "KPI実績 1件を更新"
    row = actual("tochigi", 2023, "mail_application_rate")
    assert (row.value, row.version) == (D("94.0"), 2)
    assert row_counts()["plans.HistoricalKpiActual"] == before["plans.HistoricalKpiActual"] + 1


# -- validation ------------------------------------------------------------------------------------


def _copy_seed(tmp_path: Path) -> Path:
    target_dir = tmp_path / "seed"
    shutil.copytree(SEED_DIR, target_dir)
    return target_dir


def _edit(seed: Path, name: str, change: Callable[[dict[str, Any]], Any]) -> None:
    path = seed / name
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _plan_index(doc: dict[str, Any], year: int) -> int:
    return next(i for i, p in enumerate(doc["plans"]) if p["fiscal_year"] == year)


def _kpi_index(doc: dict[str, Any], year: int, code: str) -> int:
    plan = doc["plans"][_plan_index(doc, year)]
    return next(i for i, k in enumerate(plan["kpis"]) if k["kpi"] == code)


def _kpi(doc: dict[str, Any], year: int, code: str) -> dict[str, Any]:
    return doc["plans"][_plan_index(doc, year)]["kpis"][_kpi_index(doc, year, code)]


def _where(seed: Path, name: str, year: int, code: str) -> str:
    doc = json.loads((seed / name).read_text(encoding="utf-8"))
    return f"{name} plans[{_plan_index(doc, year)}] kpis[{_kpi_index(doc, year, code)}]"


def _also_change_a_valid_figure(seed: Path) -> None:
    """A change that would be written if the rest were valid: proves nothing at all is written."""
    _edit(seed, "tochigi.json", lambda doc: _kpi(doc, 2023, "card_recovery_rate")["year_end"].update(value="99.9"))


BROKEN: dict[str, tuple[str, Callable[[dict[str, Any]], Any], Callable[[Path], str]]] = {
    "unknown kpi code": (
        "tochigi.json",
        lambda doc: _kpi(doc, 2023, "single_bid_ratio").update(kpi="no_such_kpi"),
        lambda seed: (
            f"{_where(seed, 'tochigi.json', 2023, 'single_bid_ratio')}: KPIコード 'no_such_kpi' はカタログにありません"
        ),
    ),
    "unreadable target": (
        "tochigi.json",
        lambda doc: _kpi(doc, 2023, "mail_application_rate").update(target_text="がんばる"),
        lambda seed: (
            f"{_where(seed, 'tochigi.json', 2023, 'mail_application_rate')}: 目標「がんばる」を読み取れません: "
            "以上・以下・以内・とする・対前年度・実施・毎月のいずれの形でもありません"
        ),
    ),
    "month outside the fiscal year": (
        "gifu.json",
        lambda doc: _kpi(doc, 2024, "health_declaration_offices")["monthly"][0].update(month="2025-04"),
        lambda seed: (
            f"{_where(seed, 'gifu.json', 2024, 'health_declaration_offices')} monthly[0]: "
            "2025-04 は2024年度の月ではありません"
        ),
    ),
    "interim as of a month outside the fiscal year": (
        "kagoshima.json",
        lambda doc: _kpi(doc, 2024, "lifestyle_checkup_rate")["interim"][0].update(as_of="2024-03"),
        lambda seed: (
            f"{_where(seed, 'kagoshima.json', 2024, 'lifestyle_checkup_rate')} interim[0]: "
            "2024-03 は2024年度の月ではありません"
        ),
    ),
    "duplicate measure key": (
        "tokyo.json",
        lambda doc: doc["plans"][0]["measures"][1].update(key=doc["plans"][0]["measures"][0]["key"]),
        lambda seed: "tokyo.json plans[0] measures[1]: 施策キー 1-1 が重複しています",
    ),
    "unknown branch": (
        "kagoshima.json",
        lambda doc: doc.update(branch="atlantis"),
        lambda seed: "kagoshima.json: 支部コード 'atlantis' は47支部にありません",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_it_refuses_a_broken_seed_naming_the_file_and_place_and_writes_nothing(tmp_path: Path, case: str) -> None:
    name, breaking, message = BROKEN[case]
    seed = _copy_seed(tmp_path)
    expected = message(seed)
    _edit(seed, name, breaking)
    _also_change_a_valid_figure(seed)
    before = row_counts()
    with pytest.raises(SeedError) as exc:
        load_seed(seed)
    assert str(exc.value) == f"シードデータに誤りがあります:\n- {expected}"
    assert row_counts() == before
    assert actual("tochigi", 2023, "card_recovery_rate").value == D("86.64")


def test_it_lists_every_problem_of_a_broken_seed(tmp_path: Path) -> None:
    seed = _copy_seed(tmp_path)
    for case in ("unknown kpi code", "duplicate measure key", "unknown branch"):
        name, breaking, _ = BROKEN[case]
        _edit(seed, name, breaking)
    with pytest.raises(SeedError) as exc:
        load_seed(seed)
    lines = str(exc.value).splitlines()
    assert lines[0] == "シードデータに誤りがあります:"
    assert len(lines) == 4
    assert any(line.startswith("- tochigi.json plans[") for line in lines)
    assert any(line.startswith("- tokyo.json plans[0] measures[1]") for line in lines)
    assert "- kagoshima.json: 支部コード 'atlantis' は47支部にありません" in lines


def test_it_refuses_a_seed_file_that_is_not_json(tmp_path: Path) -> None:
    seed = _copy_seed(tmp_path)
    (seed / "gifu.json").write_text("{not json", encoding="utf-8")
    before = row_counts()
    with pytest.raises(SeedError) as exc:
        load_seed(seed)
    assert "- gifu.json: JSONとして読めません:" in str(exc.value)
    assert row_counts() == before


def test_the_command_exits_with_an_error_for_a_broken_seed(tmp_path: Path) -> None:
    name, breaking, message = BROKEN["unknown kpi code"]
    seed = _copy_seed(tmp_path)
    expected = message(seed)
    _edit(seed, name, breaking)
    before = row_counts()
    with pytest.raises(CommandError) as exc:
        call_command("load_seed", dir=seed, stdout=StringIO())
    assert str(exc.value) == f"シードデータに誤りがあります:\n- {expected}"
    assert row_counts() == before


# -- gaps in the validation: the reader lets through what the models refuse -------------------------

MODEL_REFUSES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "numerator above denominator": lambda doc: _kpi(doc, 2023, "lifestyle_checkup_rate")["year_end"].update(
        numerator="300000"
    ),
    "zero denominator": lambda doc: _kpi(doc, 2023, "lifestyle_checkup_rate")["year_end"].update(denominator="0"),
    "five decimals": lambda doc: _kpi(doc, 2023, "lifestyle_checkup_rate")["year_end"].update(value="72.12345"),
}


@pytest.mark.parametrize("case", list(MODEL_REFUSES))
def test_it_writes_nothing_when_the_models_refuse_a_seed_figure(tmp_path: Path, case: str) -> None:
    seed = _copy_seed(tmp_path)
    _edit(seed, "tochigi.json", MODEL_REFUSES[case])
    _edit(seed, "gifu.json", lambda doc: _kpi(doc, 2024, "single_bid_ratio").update(target_text="10％以下"))
    before = row_counts()
    with pytest.raises(Exception):  # noqa: B017 - whatever it raises, the transaction is rolled back
        load_seed(seed)
    assert row_counts() == before
    assert target("gifu", 2024, "single_bid_ratio").target_value == D("15")


@pytest.mark.parametrize("case", list(MODEL_REFUSES))
def test_it_refuses_a_seed_figure_the_models_would_refuse_as_a_seed_error(tmp_path: Path, case: str) -> None:
    seed = _copy_seed(tmp_path)
    _edit(seed, "tochigi.json", MODEL_REFUSES[case])
    with pytest.raises(SeedError) as exc:
        load_seed(seed)
    assert "tochigi.json plans[" in str(exc.value)


def test_it_refuses_a_target_with_more_decimals_than_kpitrack_stores(tmp_path: Path) -> None:
    seed = _copy_seed(tmp_path)
    _edit(
        seed, "tochigi.json", lambda doc: _kpi(doc, 2023, "lifestyle_checkup_rate").update(target_text="71.12345％以上")
    )
    with pytest.raises(SeedError):
        load_seed(seed)


def test_it_refuses_a_progress_dated_outside_the_fiscal_year(tmp_path: Path) -> None:
    seed = _copy_seed(tmp_path)
    _edit(seed, "tokyo.json", lambda doc: doc["plans"][0]["measures"][1]["progress"][0].update(as_of="2030-06"))
    with pytest.raises(SeedError) as exc:
        load_seed(seed)
    assert "tokyo.json plans[0] measures[1] progress[0]" in str(exc.value)


# -- figures the models would refuse, caught while reading, with file and place ----------------------

VALUE_REFUSED: dict[str, tuple[str, int, str, Callable[[dict[str, Any]], Any], str]] = {
    "rate above 100": (
        "tochigi.json",
        2023,
        "mail_application_rate",
        lambda kpi: kpi["year_end"].update(value="193.9"),
        "year_end: 実績値は0〜100（％）の範囲で入力してください（入力: 193.9）。",
    ),
    "negative count": (
        "tochigi.json",
        2023,
        "health_declaration_offices",
        lambda kpi: kpi["year_end"].update(value="-1529"),
        "year_end: 実績値に負の数は入力できません（入力: -1529）。",
    ),
    "fractional count": (
        "tochigi.json",
        2023,
        "health_declaration_offices",
        lambda kpi: kpi["year_end"].update(value="1529.5"),
        "year_end: 実績値は件数なので整数で入力してください（入力: 1529.5）。",
    ),
    "numerator above denominator": (
        "tochigi.json",
        2023,
        "lifestyle_checkup_rate",
        lambda kpi: kpi["year_end"].update(numerator="300000"),
        "year_end: 分子（300000）が分母（226946）より大きくなっています。率の分子は分母以下です。",
    ),
    "rate disagreeing with its counts": (
        "tochigi.json",
        2023,
        "lifestyle_checkup_rate",
        lambda kpi: kpi["year_end"].update(value="75.0"),
        "year_end: 実績値 75 が 分子÷分母×100 = 72.2022 と合いません"
        "（小数点以下0桁に四捨五入または切り捨てすると 72 です）。",
    ),
    "figure written with a unit": (
        "tochigi.json",
        2023,
        "mail_application_rate",
        lambda kpi: kpi["year_end"].update(value="93.9%"),
        "year_end value: 数値だけを入力してください（「%」などの単位は不要です）。",
    ),
    "words for a numeric kpi": (
        "tochigi.json",
        2023,
        "mail_application_rate",
        lambda kpi: kpi["year_end"].update(value="実施"),
        "year_end value: 「実施」は数値ではありません。数値を入力してください。",
    ),
    "a number for a qualitative kpi": (
        "tochigi.json",
        2023,
        "opinion_statements",
        lambda kpi: kpi["year_end"].update(value="1"),
        "year_end: このKPIの実績は「実施」などの文章です。実績値ではなく実績（定性）に入力してください。",
    ),
    "numerator with more decimals than its column": (
        "tochigi.json",
        2023,
        "lifestyle_checkup_rate",
        lambda kpi: kpi["year_end"].update(numerator="163860.125"),
        "year_end numerator: 小数点以下は2桁までです（「163860.125」）。",
    ),
    "negative monthly count": (
        "gifu.json",
        2024,
        "health_declaration_offices",
        lambda kpi: kpi["monthly"][0].update(value="-5"),
        "monthly[0]: 実績値に負の数は入力できません（入力: -5）。",
    ),
}


@pytest.mark.parametrize("case", list(VALUE_REFUSED))
def test_it_refuses_a_figure_the_models_refuse_naming_the_file_and_place(tmp_path: Path, case: str) -> None:
    name, year, code, breaking, message = VALUE_REFUSED[case]
    seed = _copy_seed(tmp_path)
    _edit(seed, name, lambda doc: breaking(_kpi(doc, year, code)))
    _also_change_a_valid_figure(seed)
    before = row_counts()
    with pytest.raises(SeedError) as exc:
        load_seed(seed)
    assert str(exc.value) == f"シードデータに誤りがあります:\n- {_where(seed, name, year, code)} {message}"
    assert row_counts() == before
    assert actual("tochigi", 2023, "card_recovery_rate").value == D("86.64")


def test_it_no_longer_keeps_a_figure_with_a_unit_as_a_text_actual(tmp_path: Path) -> None:
    seed = _copy_seed(tmp_path)
    _edit(seed, "tochigi.json", lambda doc: _kpi(doc, 2023, "mail_application_rate")["year_end"].update(value="93.9%"))
    with pytest.raises(SeedError):
        load_seed(seed)
    row = actual("tochigi", 2023, "mail_application_rate")
    assert (row.value, row.text_value) == (D("93.9"), "")


# -- wrong JSON shapes -------------------------------------------------------------------------------


def _write(seed: Path, name: str, text: str) -> None:
    (seed / name).write_text(text, encoding="utf-8")


SHAPES: dict[str, tuple[str, Callable[[Any], Any], str]] = {
    "branch file is a list": ("gifu.json", lambda doc: [doc], "gifu.json: 全体をオブジェクト {...} で書いてください"),
    "catalog is a list": ("catalog.json", lambda doc: [doc], "catalog.json: 全体をオブジェクト {...} で書いてください"),
    "plans is an object": (
        "tokyo.json",
        lambda doc: {**doc, "plans": {"fiscal_year": 2024}},
        "tokyo.json: plans はリスト [...] で書いてください（{'fiscal_year': 2024}）",
    ),
    "catalog kpis is a string": (
        "catalog.json",
        lambda doc: {**doc, "kpis": "all"},
        "catalog.json: kpis はリスト [...] で書いてください（'all'）",
    ),
    "a plan is a string": (
        "tokyo.json",
        lambda doc: {**doc, "plans": ["2024"]},
        "tokyo.json plans[0]: オブジェクト {...} で書いてください（'2024'）",
    ),
    "measures is a number": (
        "tokyo.json",
        lambda doc: doc["plans"][0].update(measures=3) or doc,
        "tokyo.json plans[0]: measures はリスト [...] で書いてください（3）",
    ),
    "a kpi row is a list": (
        "tokyo.json",
        lambda doc: doc["plans"][0]["kpis"].__setitem__(0, []) or doc,
        "tokyo.json plans[0] kpis[0]: オブジェクト {...} で書いてください（[]）",
    ),
    "fiscal year as a string": (
        "tokyo.json",
        lambda doc: doc["plans"][0].update(fiscal_year="2024") or doc,
        "tokyo.json plans[0]: fiscal_year '2024' は2008〜2100の整数です",
    ),
    "fiscal year as true": (
        "tokyo.json",
        lambda doc: doc["plans"][0].update(fiscal_year=True) or doc,
        "tokyo.json plans[0]: fiscal_year True は2008〜2100の整数です",
    ),
    "area as a string": (
        "tokyo.json",
        lambda doc: doc["plans"][0]["measures"][0].update(area="1") or doc,
        "tokyo.json plans[0] measures[0]: area は1・2・3のいずれかです",
    ),
    "area as true": (
        "tokyo.json",
        lambda doc: doc["plans"][0]["measures"][0].update(area=True) or doc,
        "tokyo.json plans[0] measures[0]: area は1・2・3のいずれかです",
    ),
    "kpi code as a list": (
        "tokyo.json",
        lambda doc: doc["plans"][0]["kpis"][0].update(kpi=["x"]) or doc,
        "tokyo.json plans[0] kpis[0]: KPIコード ['x'] はカタログにありません",
    ),
    "title as a number": (
        "tokyo.json",
        lambda doc: doc["plans"][0]["measures"][0].update(title=12) or doc,
        "tokyo.json plans[0] measures[0]: title は文字列で書いてください（12）",
    ),
    "cumulative as a string": (
        "gifu.json",
        lambda doc: _kpi(doc, 2024, "health_declaration_offices")["monthly"][0].update(cumulative="false") or doc,
        "gifu.json plans[1] kpis[10] monthly[0]: cumulative は true か false で書いてください（'false'）",
    ),
    "figure as true": (
        "tochigi.json",
        lambda doc: _kpi(doc, 2023, "mail_application_rate")["year_end"].update(value=True) or doc,
        "tochigi.json plans[2] kpis[1] year_end value: 数値は文字列で書いてください（True）",
    ),
}


@pytest.mark.parametrize("case", list(SHAPES))
def test_it_refuses_a_wrong_json_shape_naming_the_file_and_place(tmp_path: Path, case: str) -> None:
    name, breaking, message = SHAPES[case]
    seed = _copy_seed(tmp_path)
    doc = json.loads((seed / name).read_text(encoding="utf-8"))
    _write(seed, name, json.dumps(breaking(doc), ensure_ascii=False))
    before = row_counts()
    with pytest.raises(SeedError) as exc:
        load_seed(seed)
    assert f"\n- {message}" in str(exc.value)
    assert row_counts() == before


def test_it_refuses_nan_in_a_seed_file(tmp_path: Path) -> None:
    seed = _copy_seed(tmp_path)
    _write(seed, "gifu.json", '{"branch": "gifu", "plans": [{"fiscal_year": NaN}]}')
    with pytest.raises(SeedError) as exc:
        load_seed(seed)
    assert "- gifu.json: JSONとして読めません: NaN は数値として使えません" in str(exc.value)


def test_it_reads_a_figure_given_as_a_json_number_exactly(tmp_path: Path) -> None:
    seed = _copy_seed(tmp_path)
    text = (seed / "tochigi.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    doc_judo = _kpi(doc, 2023, "judo_multi_visit_rate")
    doc_judo["year_end"]["value"] = "@judo@"
    doc_mail = _kpi(doc, 2023, "mail_application_rate")
    doc_mail["year_end"]["value"] = "@mail@"
    text = json.dumps(doc, ensure_ascii=False).replace('"@judo@"', "0.1").replace('"@mail@"', "94")
    _write(seed, "tochigi.json", text)
    load_seed(seed)
    judo = actual("tochigi", 2023, "judo_multi_visit_rate").value
    assert judo == D("0.1")  # a binary float 0.1 would be 0.1000000000000000055…, five decimals and more
    assert actual("tochigi", 2023, "mail_application_rate").value == D("94")


# -- text longer than its model field -----------------------------------------------------------------


def _limit(model: type, name: str) -> int:
    return model._meta.get_field(name).max_length  # type: ignore[attr-defined, no-any-return]


def test_it_refuses_a_target_name_longer_than_its_field(tmp_path: Path) -> None:
    limit = _limit(KpiTarget, "name_as_written")
    seed = _copy_seed(tmp_path)
    _edit(seed, "tochigi.json", lambda doc: _kpi(doc, 2023, "mail_application_rate").update(name="率" * (limit + 1)))
    with pytest.raises(SeedError) as exc:
        load_seed(seed)
    where = _where(seed, "tochigi.json", 2023, "mail_application_rate")
    assert str(exc.value).splitlines()[1:] == [f"- {where}: name は{limit}文字までです（{limit + 1}文字）"]


def test_it_accepts_a_target_name_as_long_as_its_field(tmp_path: Path) -> None:
    limit = _limit(KpiTarget, "name_as_written")
    seed = _copy_seed(tmp_path)
    _edit(seed, "tochigi.json", lambda doc: _kpi(doc, 2023, "mail_application_rate").update(name="率" * limit))
    load_seed(seed)
    assert target("tochigi", 2023, "mail_application_rate").name_as_written == "率" * limit


LONG: dict[str, tuple[str, Callable[[dict[str, Any], int], Any], type, str, str]] = {
    "qualitative actual": (
        "tochigi.json",
        lambda doc, n: _kpi(doc, 2023, "opinion_statements")["year_end"].update(value="実" * n),
        KpiActual,
        "text_value",
        "tochigi.json plans[2] kpis[17] year_end: value は{limit}文字までです（{n}文字）",
    ),
    "actual note": (
        "tochigi.json",
        lambda doc, n: _kpi(doc, 2023, "mail_application_rate")["year_end"].update(note="注" * n),
        KpiActual,
        "note",
        "tochigi.json plans[2] kpis[1] year_end: note は{limit}文字までです（{n}文字）",
    ),
    "measure key": (
        "tokyo.json",
        lambda doc, n: doc["plans"][0]["measures"][0].update(key="k" * n),
        Measure,
        "key",
        "tokyo.json plans[0] measures[0]: key は{limit}文字までです（{n}文字）",
    ),
    "measure title": (
        "tokyo.json",
        lambda doc, n: doc["plans"][0]["measures"][0].update(title="題" * n),
        Measure,
        "title",
        "tokyo.json plans[0] measures[0]: title は{limit}文字までです（{n}文字）",
    ),
    "progress period": (
        "tokyo.json",
        lambda doc, n: doc["plans"][0]["measures"][1]["progress"][0].update(period="期" * n),
        MeasureProgress,
        "period",
        "tokyo.json plans[0] measures[1] progress[0]: period は{limit}文字までです（{n}文字）",
    ),
    "kpi name in the catalog": (
        "catalog.json",
        lambda doc, n: doc["kpis"][0].update(name="名" * n),
        Kpi,
        "name",
        "catalog.json kpis[0]: name は{limit}文字までです（{n}文字）",
    ),
    "kpi code of a branch's own kpi": (
        "gifu.json",
        lambda doc, n: doc["catalog_additions"][0].update(code="k" * n),
        Kpi,
        "code",
        "gifu.json catalog_additions[0]: KPIコード {code} は{limit}文字までです（{n}文字）",
    ),
    "source": (
        "kagoshima.json",
        lambda doc, n: doc.update(source="s" * n),
        Plan,
        "source",
        "kagoshima.json: source は{limit}文字までです（{n}文字）",
    ),
}


@pytest.mark.parametrize("case", list(LONG))
def test_it_refuses_a_text_longer_than_its_model_field(tmp_path: Path, case: str) -> None:
    name, lengthen, model, field_name, message = LONG[case]
    limit = _limit(model, field_name)
    seed = _copy_seed(tmp_path)
    _edit(seed, name, lambda doc: lengthen(doc, limit + 1))
    with pytest.raises(SeedError) as exc:
        load_seed(seed)
    expected = message.format(limit=limit, n=limit + 1, code="k" * (limit + 1))
    assert f"\n- {expected}" in str(exc.value)


# -- random shapes: only SeedError ever escapes the reader ---------------------------------------------

SEED_KEYS = [
    "source", "branch", "catalog_additions", "lineage", "plans", "fiscal_year", "measures", "kpis", "budget",
    "key", "area", "parent", "title", "group", "progress", "as_of", "evaluation", "period", "kpi", "measure",
    "name", "target_text", "precision", "published_mark", "year_end", "interim", "monthly", "national_averages",
    "value", "numerator", "denominator", "note", "month", "cumulative", "code", "unit", "direction", "kind",
    "measure_basis", "change", "replaces", "previous_name", "programme", "spent", "category",
]  # fmt: skip

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["tochigi", "2024", "2024-05", "72.2", "72.2%", "実施", "lifestyle_checkup_rate", "1-1", "○"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(SEED_KEYS) | st.text(max_size=4), children, max_size=5)
    ),
    max_leaves=25,
)


def _read_only_seed_error(directory: Path) -> None:
    try:
        read_seed(directory)
    except SeedError as exc:
        assert str(exc)


@settings(max_examples=150, deadline=None)
@given(doc=json_values)
def test_it_raises_only_a_seed_error_for_any_json_in_a_branch_file(
    tmp_path_factory: pytest.TempPathFactory, doc: Any
) -> None:
    seed = tmp_path_factory.mktemp("random-branch")
    shutil.copy(SEED_DIR / "catalog.json", seed / "catalog.json")
    _write(seed, "random.json", json.dumps(doc))
    _read_only_seed_error(seed)


@settings(max_examples=100, deadline=None)
@given(catalog=json_values)
def test_it_raises_only_a_seed_error_for_any_json_in_the_catalog(
    tmp_path_factory: pytest.TempPathFactory, catalog: Any
) -> None:
    seed = tmp_path_factory.mktemp("random-catalog")
    _write(seed, "catalog.json", json.dumps(catalog))
    _write(seed, "small.json", json.dumps(_small_branch_doc(), ensure_ascii=False))
    _read_only_seed_error(seed)


def _small_branch_doc() -> dict[str, Any]:
    """A valid branch file small enough to mutate: Tokyo's plan with a few measures and KPIs."""
    doc = json.loads((SEED_DIR / "tokyo.json").read_text(encoding="utf-8"))
    plan = doc["plans"][0]
    keys = {k.get("measure") for k in plan["kpis"][:4]}
    plan["measures"] = [m for m in plan["measures"] if m["key"] in keys or m["key"] == "1-1"]
    plan["measures"] = [m for m in plan["measures"] if m.get("parent") is None][:3]
    kept = {m["key"] for m in plan["measures"]}
    plan["kpis"] = [{**k, "measure": k.get("measure") if k.get("measure") in kept else None} for k in plan["kpis"][:4]]
    plan["kpis"][0]["year_end"] = {"value": "72.2", "numerator": "163860", "denominator": "226946", "note": ""}
    return {"source": doc["source"], "branch": "tokyo", "plans": [plan]}


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*path, index))
    return found


def test_the_small_branch_doc_is_valid(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    shutil.copy(SEED_DIR / "catalog.json", seed / "catalog.json")
    _write(seed, "small.json", json.dumps(_small_branch_doc(), ensure_ascii=False))
    data = read_seed(seed)
    assert len(data.plans[("tokyo", 2024)].targets) == 4


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_it_raises_only_a_seed_error_when_any_part_of_a_valid_file_is_replaced(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    doc = _small_branch_doc()
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        replacement = data.draw(json_values)
        if not path:
            doc = replacement
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = replacement
    seed = tmp_path_factory.mktemp("mutated")
    shutil.copy(SEED_DIR / "catalog.json", seed / "catalog.json")
    _write(seed, "small.json", json.dumps(doc, ensure_ascii=False))
    _read_only_seed_error(seed)


# -- what the writing would refuse with a traceback ------------------------------------------------------


def test_it_refuses_a_kpi_replaced_by_itself(tmp_path: Path) -> None:
    seed = _copy_seed(tmp_path)
    _edit(
        seed, "tochigi.json", lambda doc: doc["lineage"][0].update(change="replaced", replaces=doc["lineage"][0]["kpi"])
    )
    with pytest.raises(SeedError) as exc:
        load_seed(seed)
    assert str(exc.value).splitlines()[1:] == [
        "- tochigi.json lineage[0]: judo_multi_visit_rate は自分自身から変更されたことにはできません（replaces）"
    ]


def test_it_refuses_two_progress_reports_for_the_same_period(tmp_path: Path) -> None:
    seed = _copy_seed(tmp_path)

    def duplicate(doc: dict[str, Any]) -> None:
        progress = doc["plans"][0]["measures"][1]["progress"]
        progress.append({**progress[0], "status": "別の実施状況"})

    _edit(seed, "tokyo.json", duplicate)
    doc = json.loads((seed / "tokyo.json").read_text(encoding="utf-8"))
    progress = doc["plans"][0]["measures"][1]["progress"]
    with pytest.raises(SeedError) as exc:
        load_seed(seed)
    assert str(exc.value).splitlines()[1:] == [
        f"- tokyo.json plans[0] measures[1] progress[{len(progress) - 1}]: "
        f"period {progress[0]['period']} が重複しています"
    ]


def test_it_loads_a_plan_of_the_first_fiscal_year(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    shutil.copy(SEED_DIR / "catalog.json", seed / "catalog.json")
    plan = {"fiscal_year": 2008, "kpis": [{"kpi": "lifestyle_checkup_rate", "name": "健診", "target_text": "50％以上"}]}
    _write(seed, "first.json", json.dumps({"source": "first", "branch": "hokkaido", "plans": [plan]}))
    load_seed(seed)
    assert target("hokkaido", 2008, "lifestyle_checkup_rate").target_value == D("50")
