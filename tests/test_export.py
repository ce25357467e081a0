"""export_results: the documented JSON interface of a plan's KPI results."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.conftest import subprocess_env

pytestmark = pytest.mark.django_db

KEYS = {
    "kpi",
    "name",
    "unit",
    "target_text",
    "rule",
    "target",
    "baseline",
    "actual",
    "interim",
    "as_of",
    "monthly",
    "national_average",
    "mark",
}


def export(branch: str, fiscal_year: int) -> list[dict[str, Any]]:
    out = StringIO()
    call_command("export_results", branch=branch, fiscal_year=fiscal_year, stdout=out)
    return json.loads(out.getvalue())


def by_kpi(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["kpi"]: row for row in rows}


@pytest.fixture(scope="module")
def tochigi_2023(django_db_setup: None, django_db_blocker: Any) -> dict[str, dict[str, Any]]:
    with django_db_blocker.unblock():
        return by_kpi(export("tochigi", 2023))


# ==================================================================================================
# 栃木 FY2023 — the published table of 004_92917589d574a77c.txt
# ==================================================================================================

# kpi: (unit, target_text, rule, target, baseline (= 令和４年度実績 for yoy), actual, national_average, mark)
TOCHIGI_2023 = {
    "service_standard_rate": ("%", "100％とする", "exact", 100, None, 100, 99.99, "○"),
    "mail_application_rate": ("%", "96.0％以上", "fixed_min", 96, None, 93.9, 95.6, "△"),
    "judo_multi_visit_rate": ("%", "対前年度以下", "yoy_max", None, 0.95, 0.94, 0.83, "○"),
    "receipt_assessment_rate": ("%", "対前年度以上", "yoy_min", None, 0.371, 0.418, 0.423, "○"),
    "reexam_amount_per_claim": ("円", "対前年度以上", "yoy_min", None, 5684, 6535, 8472, "○"),
    "card_recovery_rate": ("%", "対前年度以上", "yoy_min", None, 89.48, 86.64, 82.10, "△"),
    "refund_recovery_rate": ("%", "対前年度以上", "yoy_min", None, 67.68, 62.60, 53.29, "△"),
    "dependent_confirmation_rate": ("%", "94.0％以上", "fixed_min", 94, None, 89.60, 89.12, "△"),
    "lifestyle_checkup_rate": ("%", "71.7％以上", "fixed_min", 71.7, None, 72.2, 57.7, "◎"),
    "employer_checkup_data_rate": ("%", "8.6％以上", "fixed_min", 8.6, None, 8.9, 7.1, "◎"),
    "dependent_checkup_rate": ("%", "33.2％以上", "fixed_min", 33.2, None, 30.7, 28.3, "△"),
    "insured_guidance_rate": ("%", "34.5％以上", "fixed_min", 34.5, None, 28.7, 19.8, "△"),
    "dependent_guidance_rate": ("%", "18.9％以上", "fixed_min", 18.9, None, 19.9, 15.6, "◎"),
    "medical_visit_rate": ("%", "13.1％以上", "fixed_min", 13.1, None, 13.1, 9.2, "○"),
    "health_declaration_offices": ("事業所", "1,330事業所以上", "fixed_min", 1330, None, 1529, None, "◎"),
    "health_committee_coverage": ("%", "72.0％以上", "fixed_min", 72, None, 72.0, 52.6, "○"),
    "generic_drug_share": ("%", "対前年度以上", "yoy_min", None, 82.0, 83.8, 82.0, "○"),
    "opinion_statements": ("", "実施", "done", None, None, "実施", None, "○"),
    "single_bid_ratio": ("%", "20％以下", "fixed_max", 20, None, 0.0, None, "◎"),
}


def test_it_exports_one_object_per_kpi_with_exactly_the_documented_keys() -> None:
    rows = export("tochigi", 2023)
    assert len(rows) == 19
    assert all(set(row) == KEYS for row in rows)


def test_it_exports_the_kpis_in_the_order_of_the_published_table() -> None:
    assert [row["kpi"] for row in export("tochigi", 2023)] == list(TOCHIGI_2023)


@pytest.mark.parametrize(("kpi", "expected"), TOCHIGI_2023.items(), ids=list(TOCHIGI_2023))
def test_it_exports_tochigis_published_figures(
    tochigi_2023: dict[str, dict[str, Any]], kpi: str, expected: tuple[Any, ...]
) -> None:
    unit, target_text, rule, target, baseline, actual, national_average, mark = expected
    row = tochigi_2023[kpi]
    assert row["unit"] == unit
    assert row["target_text"] == target_text
    assert row["rule"] == rule
    assert row["target"] == target
    assert row["baseline"] == baseline
    assert row["actual"] == actual
    assert row["national_average"] == national_average
    assert row["mark"] == mark
    # a year-end only table: no mid-year figures
    assert (row["interim"], row["as_of"], row["monthly"]) == (None, None, {})


def test_it_exports_the_name_as_the_branch_wrote_it(tochigi_2023: dict[str, dict[str, Any]]) -> None:
    assert tochigi_2023["receipt_assessment_rate"]["name"] == "社会保険診療報酬支払基金と合算したレセプト点検の査定率"
    assert tochigi_2023["medical_visit_rate"]["name"] == "受診勧奨後、３か月以内に医療機関を受診した者の割合"
    assert tochigi_2023["lifestyle_checkup_rate"]["name"] == "生活習慣病予防健診実施率"


def test_it_exports_numbers_as_json_numbers_and_text_as_strings(tochigi_2023: dict[str, dict[str, Any]]) -> None:
    assert isinstance(tochigi_2023["health_declaration_offices"]["actual"], int)
    assert isinstance(tochigi_2023["lifestyle_checkup_rate"]["actual"], float)
    assert tochigi_2023["opinion_statements"]["actual"] == "実施"


def test_it_uses_last_years_actual_as_the_baseline_of_a_yoy_rule() -> None:
    rows = by_kpi(export("tochigi", 2024))
    # 令和６年度目標 対前年度以上 against 令和５年度実績
    assert rows["mail_application_rate"]["baseline"] == 93.9
    assert rows["card_recovery_rate"]["baseline"] == 86.64
    assert rows["generic_drug_share"]["baseline"] == 83.8
    assert rows["lifestyle_checkup_rate"]["baseline"] is None  # a fixed rule has no baseline
    assert rows["lifestyle_checkup_rate"]["target"] == 65.9
    assert rows["health_committee_offices"]["baseline"] is None  # new in FY2024: nothing to compare with
    assert all(row["actual"] is None and row["mark"] is None for row in rows.values())


def test_it_prefers_the_stated_baseline_to_last_years_actual() -> None:
    rows = by_kpi(export("kagoshima", 2024))
    # 対前年度 (93.3%) 以上: the stated number wins
    assert rows["mail_application_rate"]["target_text"] == "対前年度(93.3%)以上"
    assert rows["mail_application_rate"]["baseline"] == 93.3


# ==================================================================================================
# Mid-year exports: interim + as_of + monthly
# ==================================================================================================

KAGOSHIMA_2024 = {
    "service_standard_rate": (100, "2024-10"),
    "mail_application_rate": (94.2, "2024-11"),
    "receipt_assessment_rate": (0.115, "2024-09"),
    "reexam_amount_per_claim": (12303, "2024-09"),
    "refund_recovery_rate": (51.17, "2024-10"),
    "lifestyle_checkup_rate": (29.6, "2024-09"),
    "employer_checkup_data_rate": (4.8, "2024-09"),
    "dependent_checkup_rate": (9.1, "2024-09"),
    "insured_guidance_rate": (9.4, "2024-08"),
    "dependent_guidance_rate": (2.7, "2024-08"),
    "medical_visit_rate": (40.8, "2024-11"),
    "health_declaration_offices": (1201, "2024-11"),
    "generic_drug_share": (89, "2024-07"),
    "health_committee_coverage": (53.3, "2024-11"),
    "health_committee_offices": (3093, "2024-11"),
    "single_bid_ratio": (0, "2024-11"),
}


def test_it_exports_kagoshimas_interim_actuals_with_their_as_of_month() -> None:
    rows = by_kpi(export("kagoshima", 2024))
    assert {code: (row["interim"], row["as_of"]) for code, row in rows.items()} == KAGOSHIMA_2024
    assert all(row["actual"] is None and row["mark"] is None for row in rows.values())
    assert rows["lifestyle_checkup_rate"]["monthly"] == {}  # an interim report is not a monthly series


def test_it_exports_kagoshimas_stated_baselines() -> None:
    rows = by_kpi(export("kagoshima", 2024))
    assert {code: row["baseline"] for code, row in rows.items() if row["rule"] == "yoy_min"} == {
        "mail_application_rate": 93.3,
        "receipt_assessment_rate": 0.154,
        "reexam_amount_per_claim": 11378,
        "refund_recovery_rate": 59.29,
        "medical_visit_rate": 36.9,
        "generic_drug_share": 88.0,
        "health_committee_offices": 2955,
    }


def test_it_exports_kagoshimas_fy2023_year_end_beside_its_interim() -> None:
    rows = by_kpi(export("kagoshima", 2023))
    lifestyle = rows["lifestyle_checkup_rate"]
    assert (lifestyle["actual"], lifestyle["interim"], lifestyle["as_of"]) == (50.9, 26.0, "2023-09")
    assert lifestyle["mark"] == "△"  # 50.9% against 61.1%以上
    offices = rows["health_declaration_offices"]
    assert (offices["actual"], offices["interim"], offices["as_of"], offices["mark"]) == (969, 890, "2023-12", "◎")


def test_it_exports_gifus_monthly_series_and_latest_figure() -> None:
    rows = by_kpi(export("gifu", 2024))
    offices = rows["health_declaration_offices"]
    assert offices["target"] == 1570
    assert (offices["interim"], offices["as_of"]) == (1481, "2024-09")
    assert offices["monthly"] == {
        "2024-04": 1344,
        "2024-05": 1378,
        "2024-06": 1410,
        "2024-07": 1434,
        "2024-08": 1458,
        "2024-09": 1481,
    }
    checkups = rows["dependent_checkup_rate"]
    assert (checkups["interim"], checkups["as_of"]) == (9.6, "2024-08")
    assert checkups["monthly"] == {"2024-04": 1.2, "2024-05": 2.0, "2024-06": 2.9, "2024-07": 6.4, "2024-08": 9.6}
    # an interim report newer than the monthly series is the latest figure
    committee = rows["health_committee_offices"]
    assert (committee["interim"], committee["as_of"]) == (5528, "2024-09")
    assert committee["monthly"] == {"2024-04": 5408, "2024-05": 5415, "2024-06": 5422}
    assert all(row["actual"] is None and row["mark"] is None for row in rows.values())


def test_it_exports_a_kpi_without_a_target() -> None:
    rows = by_kpi(export("gifu", 2024))
    assert rows["mynumber_card_usage_rate"]["rule"] == "none"
    assert rows["mynumber_card_usage_rate"]["target"] is None


# ==================================================================================================
# Errors
# ==================================================================================================


def test_it_refuses_an_unknown_branch_in_one_japanese_line() -> None:
    with pytest.raises(CommandError) as exc:
        call_command("export_results", branch="nowhere", fiscal_year=2023, stdout=StringIO())
    assert str(exc.value) == "支部コード「nowhere」の支部はありません。"


def test_it_refuses_a_year_without_a_plan_in_one_japanese_line() -> None:
    with pytest.raises(CommandError) as exc:
        call_command("export_results", branch="tochigi", fiscal_year=2019, stdout=StringIO())
    assert str(exc.value) == "栃木支部の令和元年度（FY2019）の事業計画はありません。"


def test_it_refuses_a_branch_without_any_plan() -> None:
    with pytest.raises(CommandError) as exc:
        call_command("export_results", branch="okinawa", fiscal_year=2024, stdout=StringIO())
    assert str(exc.value) == "沖縄支部の令和6年度（FY2024）の事業計画はありません。"


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="runs in the SQLite pass (a SQLite file of its own, not the test database)"
)
def test_the_command_exits_non_zero_with_one_line_on_stderr(fresh_sqlite: Path) -> None:
    """Run for real: a migrated SQLite file of its own (the test database is not visible to a subprocess)."""
    env = subprocess_env(SQLITE_PATH=str(fresh_sqlite))
    manage = [sys.executable, "manage.py"]
    result = subprocess.run(
        [*manage, "export_results", "--branch", "nowhere", "--fiscal-year", "2023"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["CommandError: 支部コード「nowhere」の支部はありません。"]
