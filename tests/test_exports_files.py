"""The dashboard's csv/xlsx files: what Excel in a Japanese office sees when it opens them (plans/exports.py)."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import BadRequest
from django.test import Client

from branches.models import Branch
from plans.exports import (
    EXPORT_FORMAT_ERROR,
    HEADERS,
    MONTH_FORMAT,
    ExportFormatError,
    dashboard_export,
    number_format,
)
from plans.models import Area, Kpi, KpiActual, KpiTarget, Measure, Plan
from plans.selectors import plan_results
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

TOCHIGI_2023 = "/branches/tochigi/2023/"
KAGOSHIMA_2024 = "/branches/kagoshima/2024/"
OKINAWA_2024 = "/branches/okinawa/2024/"
BOM = b"\xef\xbb\xbf"

COLUMN = {header: index for index, header in enumerate(HEADERS)}


@pytest.fixture
def manager(hq_manager) -> Client:
    return client_for(hq_manager)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def workbook_sheet(response) -> openpyxl.worksheet.worksheet.Worksheet:
    return openpyxl.load_workbook(io.BytesIO(response.content)).active


def sheet_row(sheet, kpi_name: str) -> dict[str, openpyxl.cell.cell.Cell]:
    for row in sheet.iter_rows(min_row=2):
        if row[COLUMN["KPI"]].value == kpi_name:
            return {header: row[index] for header, index in COLUMN.items()}
    raise AssertionError(f"no row for {kpi_name}")


def csv_row(rows: list[list[str]], kpi_name: str) -> dict[str, str]:
    row = next(r for r in rows if r[COLUMN["KPI"]] == kpi_name)
    return dict(zip(HEADERS, row, strict=True))


@pytest.fixture
def hostile_plan() -> Plan:
    """Okinawa FY2024 (no seed plan): every text a spreadsheet could run as a formula, and a blank written name."""
    plan = Plan.objects.create(branch=Branch.objects.get(code="okinawa"), fiscal_year_id=2024)
    measure = Measure.objects.create(
        plan=plan, key="1-1", area=Area.objects.get(number=1), title="=HYPERLINK(\"http://x\",\"施策\")", group="業務"
    )
    kpi = Kpi.objects.create(code="formula_named_kpi", name="=1+1 受診率", unit="%", precision=1)
    target = KpiTarget.objects.create(
        plan=plan, kpi=kpi, measure=measure, name_as_written="", target_text="+50.0%以上", note="@SUM(A1)"
    )
    KpiActual.objects.create(target=target, period=KpiActual.Period.YEAR_END, value=Decimal("1.25"))
    other = Kpi.objects.create(code="tab_named_kpi", name="普通の名前", unit="円", precision=0)
    KpiTarget.objects.create(
        plan=plan, kpi=other, measure=measure, name_as_written="-3 で始まる名前", note="\t=cmd", order=1
    )
    return plan


# -- csv ---------------------------------------------------------------------------------------------


def test_it_starts_the_csv_with_a_utf8_bom_and_ends_lines_with_crlf(manager):
    content = manager.get(TOCHIGI_2023, {"_export": "csv"}).content
    assert content.startswith(BOM)
    assert content.count(b"\r\n") == 1 + 19
    assert b"\n" not in content.replace(b"\r\n", b"")


def test_it_round_trips_the_csv_through_the_csv_module(manager):
    rows = csv_rows(manager.get(TOCHIGI_2023, {"_export": "csv"}))
    assert tuple(rows[0]) == HEADERS
    assert all(len(row) == len(HEADERS) for row in rows)
    lifestyle = csv_row(rows, "生活習慣病予防健診実施率")
    figures = (lifestyle["年度末実績"], lifestyle["全国平均"], lifestyle["単位"], lifestyle["評価"])
    assert figures == ("72.2", "57.7", "%", "◎")
    assert lifestyle["目標（記載どおり）"] == "71.7％以上"
    assert lifestyle["分野"] == "2"


def test_it_writes_csv_figures_at_the_published_precision_without_separators(manager):
    rows = csv_rows(manager.get(TOCHIGI_2023, {"_export": "csv"}))
    assert csv_row(rows, "健康宣言事業所数")["年度末実績"] == "1529"
    year_ends = {(r[COLUMN["年度末実績"]], r[COLUMN["単位"]]) for r in rows[1:]}
    assert {("86.64", "%"), ("0.418", "%"), ("6535", "円"), ("100.00", "%"), ("実施", "")} <= year_ends


def test_it_writes_the_as_of_month_of_an_interim_figure_in_japanese(manager):
    rows = csv_rows(manager.get(KAGOSHIMA_2024, {"_export": "csv"}))
    months = {r[COLUMN["直近実績の時点"]] for r in rows[1:]}
    assert "2024年9月" in months and "2024年11月" in months


def test_it_quotes_csv_text_that_a_spreadsheet_would_run_as_a_formula(manager, hostile_plan):
    rows = csv_rows(manager.get(OKINAWA_2024, {"_export": "csv"}))
    first = csv_row(rows, "'=1+1 受診率")
    assert first["施策"] == "'=HYPERLINK(\"http://x\",\"施策\")"
    assert first["目標（記載どおり）"] == "'+50.0%以上"
    assert first["備考"] == "'@SUM(A1)"
    assert first["年度末実績"] == "1.3"  # rounded half up to the published decimal
    second = csv_row(rows, "'-3 で始まる名前")
    assert second["備考"] == "'\t=cmd"


def test_it_shows_the_kpi_name_when_the_written_name_is_blank(manager, hostile_plan):
    rows = csv_rows(manager.get(OKINAWA_2024, {"_export": "csv"}))
    assert [r[COLUMN["KPI"]] for r in rows[1:]] == ["'=1+1 受診率", "'-3 で始まる名前"]
    sheet = workbook_sheet(manager.get(OKINAWA_2024, {"_export": "xlsx"}))
    assert sheet.cell(row=2, column=COLUMN["KPI"] + 1).value == "=1+1 受診率"


# -- xlsx --------------------------------------------------------------------------------------------


def test_it_stores_xlsx_figures_as_numbers_with_the_unit_in_the_number_format(manager):
    sheet = workbook_sheet(manager.get(TOCHIGI_2023, {"_export": "xlsx"}))
    lifestyle = sheet_row(sheet, "生活習慣病予防健診実施率")
    assert lifestyle["年度末実績"].data_type == "n"
    assert lifestyle["年度末実績"].value == pytest.approx(72.2)
    assert lifestyle["年度末実績"].number_format == '0.0"%"'
    assert lifestyle["全国平均"].value == pytest.approx(57.7)
    offices = sheet_row(sheet, "健康宣言事業所数")
    assert offices["年度末実績"].value == 1529
    assert offices["年度末実績"].number_format == '#,##0"事業所"'
    assert offices["年度末実績"].data_type == "n"


def test_it_keeps_text_actuals_as_text_in_xlsx(manager):
    sheet = workbook_sheet(manager.get(TOCHIGI_2023, {"_export": "xlsx"}))
    values = [row[COLUMN["年度末実績"]].value for row in sheet.iter_rows(min_row=2)]
    assert "実施" in values


def test_it_stores_the_as_of_month_as_a_date_shown_in_japanese(manager):
    sheet = workbook_sheet(manager.get(KAGOSHIMA_2024, {"_export": "xlsx"}))
    cell = sheet_row(sheet, "生活習慣病予防健診受診率")["直近実績の時点"]
    assert cell.value == datetime.datetime(2024, 9, 1)
    assert cell.number_format == MONTH_FORMAT


def test_it_lays_out_the_sheet_for_reading(manager):
    sheet = workbook_sheet(manager.get(TOCHIGI_2023, {"_export": "xlsx"}))
    assert sheet.title == "栃木支部 令和5年度"
    assert tuple(cell.value for cell in sheet[1]) == HEADERS
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= 30  # 施策
    assert sheet.column_dimensions["D"].width >= 30  # KPI


def test_it_never_writes_a_formula_into_the_xlsx(manager, hostile_plan):
    response = manager.get(OKINAWA_2024, {"_export": "xlsx"})
    sheet = workbook_sheet(response)
    first = sheet_row(sheet, "=1+1 受診率")
    assert first["KPI"].data_type == "s"
    assert first["施策"].value == "=HYPERLINK(\"http://x\",\"施策\")" and first["施策"].data_type == "s"
    assert first["目標（記載どおり）"].value == "+50.0%以上" and first["目標（記載どおり）"].data_type == "s"
    assert first["備考"].value == "@SUM(A1)" and first["備考"].data_type == "s"
    assert first["年度末実績"].value == pytest.approx(1.3) and first["年度末実績"].data_type == "n"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


# -- the function and its formats -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "precision", "expected"),
    [
        ("%", 1, '0.0"%"'),
        ("%", 3, '0.000"%"'),
        ("事業所", 0, '#,##0"事業所"'),
        ("円", 0, '#,##0"円"'),
        ("", 2, "#,##0.00"),
        ('"', 0, "#,##0"),
    ],
)
def test_it_builds_number_formats_from_the_unit_and_precision(unit, precision, expected):
    assert number_format(unit, precision) == expected


@pytest.mark.parametrize("fmt", ["ods", "xls", "json", ""])
def test_it_raises_a_bad_request_for_any_other_format(fmt):
    plan = Plan.objects.select_related("branch", "fiscal_year").get(branch__code="tochigi", fiscal_year_id=2023)
    with pytest.raises(ExportFormatError) as raised:
        dashboard_export(plan, plan_results(plan), fmt)
    assert isinstance(raised.value, BadRequest)
    assert str(raised.value) == EXPORT_FORMAT_ERROR


def test_it_names_the_file_after_the_branch_and_year(manager):
    for fmt in ("csv", "xlsx"):
        disposition = manager.get(TOCHIGI_2023, {"_export": fmt})["Content-Disposition"]
        assert disposition == f'attachment; filename="kpitrack_tochigi_2023.{fmt}"'
