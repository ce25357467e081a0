"""Excel in and out (issue 11): the published workbook, the entry template, and the all-or-nothing import."""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from plans import entry, figures
from plans.models import KpiActual, MonthReport, Plan
from plans.rules import Mark
from plans.selectors import plan_results
from plans.services import (
    MONTH_LOCKED_MESSAGE,
    ActualWrite,
    MonthLocked,
    actual_delete,
    actual_record,
    actuals_import,
)
from plans.workbooks import importer, layout, reader, styles
from plans.workbooks.importer import (
    COUNTS_NOT_KEPT,
    FALLS_BELOW_PREVIOUS,
    HAS_PROBLEMS,
    NOT_IN_PLAN,
    NOT_YOUR_BRANCH,
    OUTSIDE_RANGE,
    ImportReport,
    import_workbook,
)
from plans.workbooks.published import published_workbook, workbook_bytes
from plans.workbooks.reader import WorkbookRefused
from plans.workbooks.styles import MARK_COLOURS
from plans.workbooks.template import template_workbook

pytestmark = pytest.mark.django_db

#: Every plan the seed documents hold (branch, fiscal year).
SEED_PLANS = [
    ("tochigi", 2021),
    ("tochigi", 2022),
    ("tochigi", 2023),
    ("tochigi", 2024),
    ("tokyo", 2024),
    ("gifu", 2023),
    ("gifu", 2024),
    ("kagoshima", 2023),
    ("kagoshima", 2024),
    ("kagoshima", 2025),
]


def export_results(branch: str, year: int) -> list[dict[str, Any]]:
    out = StringIO()
    call_command("export_results", branch=branch, fiscal_year=year, stdout=out)
    return json.loads(out.getvalue())


def plan_of(branch: str, year: int) -> Plan:
    return Plan.objects.select_related("branch", "fiscal_year").get(branch__code=branch, fiscal_year_id=year)


def template_bytes(branch: str = "tochigi", year: int = 2023) -> bytes:
    plan = plan_of(branch, year)
    return workbook_bytes(template_workbook(plan, plan_results(plan)))


def edited(data: bytes, edits: dict[tuple[str, str], dict[int, Any]]) -> bytes:
    """The workbook with figure cells changed: {(kpi code, row label): {fiscal month (1-12, 13 = year end): value}}."""
    book = load_workbook(io.BytesIO(data))
    sheet = book[layout.FIGURES_SHEET]
    for (code, label), cells in edits.items():
        line = row_of(sheet, code, label)
        for fiscal_month, value in cells.items():
            sheet.cell(row=line, column=layout.FIRST_MONTH_COLUMN + fiscal_month - 1, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row_of(sheet: Worksheet, code: str, label: str) -> int:
    for row in sheet.iter_rows(min_row=layout.FIGURES_HEADER_ROW + 1):
        if row[0].value == code and row[5].value == label:
            return row[0].row
    raise AssertionError(f"no row {code} {label}")


def monthly(plan: Plan, code: str, month: datetime.date) -> KpiActual | None:
    return KpiActual.objects.filter(
        target__plan=plan, target__kpi__code=code, period=KpiActual.Period.MONTHLY, month=month
    ).first()


APRIL = datetime.date(2023, 4, 1)
MAY = datetime.date(2023, 5, 1)


# -- round trip: export_workbook → remove the plan's actuals → import_workbook ------------------------------------


def test_the_seed_plans_are_the_ones_listed() -> None:
    assert sorted((p.branch.code, p.fiscal_year_id) for p in Plan.objects.select_related("branch")) == sorted(
        SEED_PLANS
    )


@pytest.mark.parametrize(("branch", "year"), SEED_PLANS)
def test_it_round_trips_each_seed_plan_through_the_published_workbook(branch: str, year: int, tmp_path: Path) -> None:
    before = export_results(branch, year)
    book = tmp_path / f"{branch}_{year}.xlsx"
    call_command("export_workbook", branch=branch, fiscal_year=year, out=book, stdout=StringIO())
    plan = plan_of(branch, year)
    removed = KpiActual.objects.filter(target__plan=plan).count()
    KpiActual.objects.filter(target__plan=plan).delete()
    # As a database that never held them (a deletion on screen after the download is not undone by an import)
    KpiActual.history.filter(target__plan=plan).delete()  # type: ignore[attr-defined]
    if removed:
        assert export_results(branch, year) != before  # the removal is visible: the comparison below can fail
    out = StringIO()
    call_command("import_workbook", str(book), stdout=out)
    assert export_results(branch, year) == before
    assert KpiActual.objects.filter(target__plan=plan).count() == removed
    assert KpiActual.objects.filter(target__plan=plan).exclude(source=KpiActual.Source.IMPORT).count() == 0


def test_it_imports_the_published_workbook_of_an_unchanged_plan_as_unchanged(tmp_path: Path) -> None:
    book = tmp_path / "tochigi.xlsx"
    call_command("export_workbook", branch="tochigi", fiscal_year=2023, out=book, stdout=StringIO())
    history = KpiActual.history.count()  # type: ignore[attr-defined]
    out = StringIO()
    call_command("import_workbook", str(book), stdout=out)
    assert "新規 0件・更新 0件・変更なし 19件" in out.getvalue()
    assert KpiActual.history.count() == history  # type: ignore[attr-defined]


# -- idempotence, history, updates ---------------------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing_the_second_time(tochigi_staff: AbstractBaseUser) -> None:
    data = edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: 93.5, 2: "94.1"}})
    first = import_workbook(data, "april.xlsx", user=tochigi_staff)
    assert (first.ok, first.created, first.updated) == (True, 2, 0)
    history = KpiActual.history.count()  # type: ignore[attr-defined]
    versions = list(KpiActual.objects.order_by("pk").values_list("pk", "version"))
    second = import_workbook(data, "april.xlsx", user=tochigi_staff)
    assert (second.ok, second.created, second.updated) == (True, 0, 0)
    assert KpiActual.history.count() == history  # type: ignore[attr-defined]
    assert list(KpiActual.objects.order_by("pk").values_list("pk", "version")) == versions


def test_each_figure_written_has_a_history_row_with_the_import_source_user_and_file_name(
    tochigi_staff: AbstractBaseUser,
) -> None:
    plan = plan_of("tochigi", 2023)
    data = edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: 93.5}})
    import_workbook(data, "四月分.xlsx", user=tochigi_staff)
    actual = monthly(plan, "mail_application_rate", APRIL)
    assert actual is not None and actual.value == Decimal("93.5") and actual.source == KpiActual.Source.IMPORT
    row = actual.history.get()  # type: ignore[attr-defined]
    assert (row.history_type, row.history_user) == ("+", tochigi_staff)
    assert row.history_change_reason == "ファイル取込: 四月分.xlsx"
    assert row.source == KpiActual.Source.IMPORT

    changed = edited(data, {("mail_application_rate", layout.VALUE_ROW): {1: 93.7}})
    report = import_workbook(changed, "四月分_訂正.xlsx", user=tochigi_staff)
    assert (report.created, report.updated) == (0, 1)
    actual.refresh_from_db()
    assert (actual.value, actual.version) == (Decimal("93.7"), 2)
    latest = actual.history.order_by("-history_id").first()  # type: ignore[attr-defined]
    assert (latest.history_type, latest.version) == ("~", 2)
    assert latest.history_change_reason == "ファイル取込: 四月分_訂正.xlsx"


def test_an_empty_cell_keeps_the_saved_figure(tochigi_staff: AbstractBaseUser) -> None:
    plan = plan_of("tochigi", 2023)
    import_workbook(
        edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: 93.5}}), "a.xlsx", user=None
    )
    report = import_workbook(
        edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: None, 2: 94}}), "b.xlsx", user=None
    )
    assert report.ok
    assert monthly(plan, "mail_application_rate", APRIL).value == Decimal("93.5")  # type: ignore[union-attr]
    assert monthly(plan, "mail_application_rate", MAY).value == Decimal("94")  # type: ignore[union-attr]


def test_a_rate_is_computed_from_its_numerator_and_denominator_as_on_screen() -> None:
    plan = plan_of("tochigi", 2023)
    data = edited(
        template_bytes(),
        {
            ("mail_application_rate", layout.NUMERATOR_ROW): {1: 939},
            ("mail_application_rate", layout.DENOMINATOR_ROW): {1: 1000},
        },
    )
    assert import_workbook(data, "a.xlsx", user=None).ok
    actual = monthly(plan, "mail_application_rate", APRIL)
    assert actual is not None
    assert (actual.value, actual.numerator, actual.denominator) == (Decimal("93.9"), Decimal(939), Decimal(1000))


# -- refused cells: the browser entry's rules and messages, by sheet / row / column, nothing written ---------------


def problems_of(report: ImportReport) -> list[str]:
    return [message for _place, message in report.problems]


def test_it_refuses_a_bad_figure_with_the_entry_message_and_writes_nothing() -> None:
    plan = plan_of("tochigi", 2023)
    count = KpiActual.objects.count()
    data = edited(
        template_bytes(),
        {
            ("mail_application_rate", layout.VALUE_ROW): {1: 93.5, 2: "93.5%"},
            ("card_recovery_rate", layout.VALUE_ROW): {1: 120},
        },
    )
    report = import_workbook(data, "bad.xlsx", user=None)
    assert not report.ok
    assert report.message == HAS_PROBLEMS.format(count=2)
    assert figures.HAS_UNIT.format(unit="%") in problems_of(report)
    assert figures.RATE_OUT_OF_RANGE.format(field="実績値", value="120") in problems_of(report)
    assert KpiActual.objects.count() == count  # the good April cell was not written either
    assert monthly(plan, "mail_application_rate", APRIL) is None
    line = row_of(load_workbook(io.BytesIO(data))[layout.FIGURES_SHEET], "mail_application_rate", layout.VALUE_ROW)
    assert f"シート「月次実績」{line}行目・H列: {figures.HAS_UNIT.format(unit='%')}" in report.problem_lines


def test_it_refuses_one_count_without_the_other() -> None:
    data = edited(template_bytes(), {("mail_application_rate", layout.NUMERATOR_ROW): {1: 939}})
    report = import_workbook(data, "a.xlsx", user=None)
    assert problems_of(report) == [entry.ONE_COUNT_ONLY]


def test_it_refuses_a_qualitative_text_that_is_not_a_choice() -> None:
    data = edited(template_bytes(), {("opinion_statements", layout.VALUE_ROW): {1: "たぶん"}})
    report = import_workbook(data, "a.xlsx", user=None)
    assert problems_of(report) == [entry.NOT_A_CHOICE.format(text="たぶん")]


def test_it_refuses_a_kpi_code_the_plan_does_not_have() -> None:
    book = load_workbook(io.BytesIO(template_bytes()))
    sheet = book[layout.FIGURES_SHEET]
    sheet.cell(row=row_of(sheet, "mail_application_rate", layout.VALUE_ROW), column=1, value="no_such_kpi")
    out = io.BytesIO()
    book.save(out)
    report = import_workbook(out.getvalue(), "a.xlsx", user=None)
    assert NOT_IN_PLAN.format(code="no_such_kpi", branch="栃木支部", year="令和5年度") in problems_of(report)


def test_it_refuses_a_changed_figure_in_an_approved_month_but_not_an_unchanged_one() -> None:
    plan = plan_of("tochigi", 2023)
    import_workbook(
        edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: 93.5}}), "a.xlsx", user=None
    )
    MonthReport.objects.create(plan=plan, month=APRIL, status=MonthReport.Status.APPROVED)
    same = edited(template_bytes(), {})  # the template now holds April's 93.5: unchanged in the locked month
    assert import_workbook(same, "same.xlsx", user=None).ok
    changed = edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: 95, 2: 95}})
    report = import_workbook(changed, "b.xlsx", user=None)
    assert problems_of(report) == [MONTH_LOCKED_MESSAGE.format(month="2023年4月")]
    assert monthly(plan, "mail_application_rate", APRIL).value == Decimal("93.5")  # type: ignore[union-attr]
    assert monthly(plan, "mail_application_rate", MAY) is None  # all or nothing


def test_a_formula_without_a_saved_value_is_refused_at_its_cell() -> None:
    data = edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: "=90+3.5"}})
    report = import_workbook(data, "a.xlsx", user=None)
    assert problems_of(report) == [reader.FORMULA_NO_VALUE]


# -- refused files -------------------------------------------------------------------------------------------------


def refusal(data: bytes, filename: str = "a.xlsx", user: AbstractBaseUser | None = None) -> str:
    with pytest.raises(WorkbookRefused) as caught:
        import_workbook(data, filename, user=user)
    return str(caught.value)


def test_it_refuses_a_file_that_is_not_xlsx() -> None:
    assert refusal("KPI,実績\r\nmail,93.5\r\n".encode(), "a.csv") == reader.NOT_XLSX
    assert refusal(b"", "a.xlsx") == reader.EMPTY_FILE


def test_it_refuses_an_old_xls_file() -> None:
    assert refusal(reader.CFB_MAGIC + b"\x00" * 512, "a.xls") == reader.OLD_XLS


def test_it_refuses_a_password_protected_workbook() -> None:
    # An encrypted xlsx is an OLE compound file holding the EncryptionInfo and EncryptedPackage streams.
    encrypted = reader.CFB_MAGIC + b"\x00" * 100 + reader.ENCRYPTED_STREAM + b"\x00" * 100
    assert refusal(encrypted) == reader.ENCRYPTED


def test_it_refuses_a_file_larger_than_the_setting(settings: Any) -> None:
    settings.WORKBOOK_IMPORT_MAX_BYTES = 1000
    assert refusal(template_bytes()) == reader.TOO_LARGE.format(limit="1000バイト")


def test_it_refuses_a_workbook_with_macros() -> None:
    assert refusal(template_bytes(), "a.xlsm") == reader.MACROS
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template_bytes())) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("xl/vbaProject.bin", b"macro")
    assert refusal(buffer.getvalue()) == reader.MACROS


def test_it_refuses_a_workbook_that_is_not_a_kpitrack_template() -> None:
    book = Workbook()
    book.active.append(["KPI", "4月"])
    out = io.BytesIO()
    book.save(out)
    assert refusal(out.getvalue()) == reader.NOT_TEMPLATE


def test_it_refuses_a_template_whose_headings_were_changed() -> None:
    book = load_workbook(io.BytesIO(template_bytes()))
    book[layout.FIGURES_SHEET].cell(row=layout.FIGURES_HEADER_ROW, column=layout.FIRST_MONTH_COLUMN, value="5月")
    out = io.BytesIO()
    book.save(out)
    assert refusal(out.getvalue()) == reader.HEADINGS_CHANGED.format(sheet="月次実績", row=4)


def test_it_refuses_a_branch_the_user_does_not_belong_to(gifu_staff: AbstractBaseUser) -> None:
    count = KpiActual.objects.count()
    data = edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: 93.5}})
    assert refusal(data, user=gifu_staff) == NOT_YOUR_BRANCH.format(branch="栃木支部")
    assert KpiActual.objects.count() == count


def test_the_branch_manager_and_a_superuser_may_import(tochigi_manager: AbstractBaseUser) -> None:
    data = edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: 93.5}})
    assert import_workbook(data, "a.xlsx", user=tochigi_manager).created == 1
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    data = edited(data, {("mail_application_rate", layout.VALUE_ROW): {2: 94}})
    assert import_workbook(data, "b.xlsx", user=admin).created == 1


# -- the commands --------------------------------------------------------------------------------------------------


def test_import_workbook_dry_run_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: 93.5, 2: 94}}))
    count = KpiActual.objects.count()
    out = StringIO()
    call_command("import_workbook", str(path), dry_run=True, stdout=out)
    assert "確認のみ: 取り込むと 新規 2件・更新 0件・変更なし 19件 です。" in out.getvalue()
    assert KpiActual.objects.count() == count


def test_import_workbook_lists_the_problems_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: "abc"}}))
    err = StringIO()
    with pytest.raises(CommandError, match="取り込めない値があります（1件）"):
        call_command("import_workbook", str(path), stderr=err)
    assert figures.NOT_A_NUMBER.format(text="abc") in err.getvalue()


def test_import_workbook_attributes_the_history_to_the_user_given(tmp_path: Path, tochigi_staff: Any) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: 93.5}}))
    call_command("import_workbook", str(path), user="tochigi-staff", stdout=StringIO())
    actual = monthly(plan_of("tochigi", 2023), "mail_application_rate", APRIL)
    assert actual is not None and actual.history.get().history_user == tochigi_staff  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="利用者「nobody」はいません。"):
        call_command("import_workbook", str(path), user="nobody", stdout=StringIO())


def test_export_workbook_refuses_an_unknown_branch_or_plan(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="支部コード「nowhere」の支部はありません。"):
        call_command("export_workbook", branch="nowhere", fiscal_year=2023, out=tmp_path / "a.xlsx")
    with pytest.raises(CommandError, match="事業計画はありません"):
        call_command("export_workbook", branch="okinawa", fiscal_year=2023, out=tmp_path / "a.xlsx")


# -- the exported workbook's craft ---------------------------------------------------------------------------------


@pytest.fixture
def tochigi_book() -> Workbook:
    plan = plan_of("tochigi", 2023)
    return load_workbook(io.BytesIO(workbook_bytes(published_workbook(plan, plan_results(plan)))))


def cell_in_column(sheet: Worksheet, header_row: int, text: str, header: str) -> Any:
    columns = {cell.value: cell.column for cell in sheet[header_row]}
    for row in sheet.iter_rows(min_row=header_row + 1):
        if any(cell.value == text for cell in row):
            return sheet.cell(row=row[0].row, column=columns[header])
    raise AssertionError(text)


def test_the_published_sheet_has_the_published_columns_with_reiwa_labels(tochigi_book: Workbook) -> None:
    assert tochigi_book.sheetnames == ["実施状況", "月次実績", "施策の進捗", "_kpitrack"]
    sheet = tochigi_book["実施状況"]
    assert [c.value for c in sheet[4]] == [
        "項番", "担当グループ", "KPI", "令和3年度実績", "令和4年度実績", "令和5年度目標", "令和5年度実績",
        "評価", "全国平均", "令和6年度目標", "備考",
    ]  # fmt: skip
    actual = cell_in_column(sheet, 4, "現金給付等の申請に係る郵送化率", "令和5年度実績")
    assert (actual.value, actual.number_format) == (93.9, '0.0"%"')
    offices = cell_in_column(sheet, 4, "健康宣言事業所数", "令和5年度実績")
    assert offices.number_format == '#,##0"事業所"' and offices.data_type == "n"
    mark = cell_in_column(sheet, 4, "現金給付等の申請に係る郵送化率", "評価")
    assert mark.value == "△" and mark.font.color.rgb == "00C0392B" and mark.fill.fgColor.rgb == "00F8D7D3"


def test_every_sheet_is_set_up_for_a4_landscape_with_print_titles_and_frozen_panes(tochigi_book: Workbook) -> None:
    expected = {"実施状況": "D5", "月次実績": "G5", "施策の進捗": "B5"}
    for name, freeze in expected.items():
        sheet = tochigi_book[name]
        assert sheet.freeze_panes == freeze
        assert sheet.page_setup.paperSize == 9  # A4
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
        assert sheet.print_title_rows == "$4:$4"


def test_the_metadata_sheet_is_very_hidden_and_names_the_workbook(tochigi_book: Workbook) -> None:
    meta = tochigi_book[layout.META_SHEET]
    assert meta.sheet_state == "veryHidden"
    values = dict(meta.iter_rows(values_only=True))
    assert datetime.datetime.fromisoformat(values.pop(layout.EXPORTED_AT)).tzinfo is not None
    assert values == {
        "kind": "published", "branch": "tochigi", "fiscal_year": "2023", "version": layout.FORMAT_VERSION,
    }  # fmt: skip


def test_the_figures_sheet_keeps_exact_figures_and_protects_the_labels(tochigi_book: Workbook) -> None:
    sheet = tochigi_book["月次実績"]
    line = row_of(sheet, "receipt_assessment_rate", layout.VALUE_ROW)
    year_end = sheet.cell(row=line, column=layout.FIRST_MONTH_COLUMN + 12)
    assert year_end.value == 0.418 and year_end.number_format == "#,##0.000"
    assert year_end.protection.locked is False
    assert sheet.cell(row=line, column=3).protection.locked is True and sheet.protection.sheet
    assert sheet.column_dimensions["A"].hidden


def test_text_that_looks_like_a_formula_is_exported_as_text() -> None:
    plan = plan_of("tochigi", 2023)
    target = plan.targets.get(kpi__code="mail_application_rate")
    target.name_as_written = '=HYPERLINK("http://x")'
    target.save()
    book = load_workbook(io.BytesIO(workbook_bytes(published_workbook(plan, plan_results(plan)))))
    cell = cell_in_column(book["実施状況"], 4, '=HYPERLINK("http://x")', "KPI")
    assert cell.data_type == "s"


# -- the national workbook -----------------------------------------------------------------------------------------


def test_the_national_workbook_round_trips_every_branchs_monthly_and_year_end_figures(tmp_path: Path) -> None:
    plans = [("tokyo", 2024), ("gifu", 2024), ("kagoshima", 2024)]
    before = {plan: export_results(*plan) for plan in plans}
    book = tmp_path / "national.xlsx"
    call_command("export_workbook", national=True, fiscal_year=2024, out=book, stdout=StringIO())
    figures_of_year = KpiActual.objects.filter(
        target__plan__fiscal_year_id=2024, period__in=(KpiActual.Period.MONTHLY, KpiActual.Period.YEAR_END)
    )
    removed = figures_of_year.count()
    assert removed > 0
    figures_of_year.delete()
    KpiActual.history.filter(target__plan__fiscal_year_id=2024).delete()  # type: ignore[attr-defined]
    out = StringIO()
    call_command("import_workbook", str(book), stdout=out)
    assert f"新規 {removed}件" in out.getvalue()
    assert {plan: export_results(*plan) for plan in plans} == before


def test_the_national_workbook_has_an_overview_of_coloured_marks_and_a_sheet_per_kpi(tmp_path: Path) -> None:
    book = tmp_path / "national.xlsx"
    call_command("export_workbook", national=True, fiscal_year=2023, out=book, stdout=StringIO())
    workbook = load_workbook(book)
    overview = workbook["概要"]
    assert overview.freeze_panes == "B5" and overview.print_title_rows == "$4:$4"
    marks = [c for row in overview.iter_rows(min_row=5) for c in row[1:] if c.value in ("◎", "○", "△")]
    assert marks and all(c.font.color.rgb[2:] == MARK_COLOURS[Mark(c.value)][0] for c in marks)
    meta = [row for row in workbook[layout.META_SHEET].iter_rows(values_only=True) if row[0] == "kpi_sheet"]
    assert len(meta) == len(workbook.sheetnames) - 2
    sheet = workbook[meta[0][1]]
    assert sheet.freeze_panes == "D5" and sheet.page_setup.orientation == "landscape"
    assert [c.value for c in sheet[4]][:5] == ["支部コード", "支部", "目標", "4月", "5月"]


def test_export_workbook_national_refuses_a_year_without_plans(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="令和12年度（FY2030）の事業計画はありません。"):
        call_command("export_workbook", national=True, fiscal_year=2030, out=tmp_path / "a.xlsx")


def test_a_formula_is_read_as_the_value_saved_with_it() -> None:
    data = edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: "=90+3.5"}})
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename.startswith("xl/worksheets/"):  # what Excel saves: the formula and its result
                content = content.replace(b"<f>90+3.5</f><v />", b"<f>90+3.5</f><v>93.5</v>")
            target.writestr(item, content)
    report = import_workbook(buffer.getvalue(), "a.xlsx", user=None)
    assert report.ok and report.created == 1
    assert monthly(plan_of("tochigi", 2023), "mail_application_rate", APRIL).value == Decimal("93.5")  # type: ignore[union-attr]


def test_wrapped_text_rows_are_tall_enough_to_show_it(tochigi_book: Workbook) -> None:
    sheet = tochigi_book["施策の進捗"]
    longest = max(range(5, sheet.max_row + 1), key=lambda r: len(str(sheet.cell(row=r, column=5).value or "")))
    assert len(str(sheet.cell(row=longest, column=5).value)) > 60
    assert sheet.row_dimensions[longest].height >= 2 * styles.LINE_HEIGHT


# -- services.actuals_import: the bulk write path applies actual_record's rules ------------------------------------


def target_of(code: str) -> Any:
    return plan_of("tochigi", 2023).targets.select_related("kpi", "plan").get(kpi__code=code)


def test_actuals_import_refuses_a_figure_check_actual_refuses_and_writes_nothing() -> None:
    target = target_of("mail_application_rate")
    good = ActualWrite(target=target, period=KpiActual.Period.MONTHLY, month=APRIL, value=Decimal("93.5"))
    bad = ActualWrite(target=target, period=KpiActual.Period.MONTHLY, month=MAY, value=Decimal("101"))
    count = KpiActual.objects.count()
    with pytest.raises(ValidationError) as caught:
        actuals_import([good, bad], user=None, reason="r")
    assert caught.value.messages == [figures.RATE_OUT_OF_RANGE.format(field="実績値", value="101")]
    assert KpiActual.objects.count() == count


def test_actuals_import_refuses_a_month_outside_the_plans_year() -> None:
    write = ActualWrite(
        target=target_of("mail_application_rate"),
        period=KpiActual.Period.MONTHLY,
        month=datetime.date(2024, 4, 1),
        value=Decimal("93.5"),
    )
    with pytest.raises(ValidationError, match="2024年4月は令和5年度の月ではありません。"):
        actuals_import([write], user=None, reason="r")


def test_actuals_import_refuses_a_locked_month_and_flags_a_reopened_one() -> None:
    target = target_of("mail_application_rate")
    plan = target.plan
    MonthReport.objects.create(plan=plan, month=APRIL, status=MonthReport.Status.APPROVED)
    reopened = MonthReport.objects.create(
        plan=plan, month=MAY, status=MonthReport.Status.REOPENED, reopened_until=datetime.date(2099, 1, 1)
    )
    april = ActualWrite(target=target, period=KpiActual.Period.MONTHLY, month=APRIL, value=Decimal("93.5"))
    may = ActualWrite(target=target, period=KpiActual.Period.MONTHLY, month=MAY, value=Decimal("94"))
    with pytest.raises(MonthLocked):
        actuals_import([may, april], user=None, reason="r")
    assert monthly(plan, "mail_application_rate", MAY) is None
    assert actuals_import([may], user=None, reason="r") == {"created": 1, "updated": 0, "unchanged": 0}
    reopened.refresh_from_db()
    assert reopened.changed_after_approval


def test_actuals_import_keeps_a_rows_note_and_bumps_its_version_once(tochigi_staff: AbstractBaseUser) -> None:
    target = target_of("mail_application_rate")
    actual, _ = actual_record(
        target=target, period=KpiActual.Period.MONTHLY, month=APRIL, value=Decimal("93"), note="速報値"
    )
    write = ActualWrite(target=target, period=KpiActual.Period.MONTHLY, month=APRIL, value=Decimal("93.5"))
    assert actuals_import([write], user=tochigi_staff, reason="ファイル取込: a.xlsx")["updated"] == 1
    actual.refresh_from_db()
    assert (actual.value, actual.note, actual.version, actual.source) == (Decimal("93.5"), "速報値", 2, "import")
    assert actual.entered_by == tochigi_staff
    assert actuals_import([write], user=tochigi_staff, reason="again")["unchanged"] == 1
    assert actual.history.count() == 2  # type: ignore[attr-defined]


def test_the_month_screens_warnings_are_listed_but_do_not_stop_the_import(tmp_path: Path) -> None:
    data = edited(template_bytes(), {("lifestyle_checkup_rate", layout.VALUE_ROW): {1: 20, 2: 15}})
    report = import_workbook(data, "a.xlsx", user=None, dry_run=True)
    assert report.ok
    line = row_of(load_workbook(io.BytesIO(data))[layout.FIGURES_SHEET], "lifestyle_checkup_rate", layout.VALUE_ROW)
    warning = FALLS_BELOW_PREVIOUS.format(previous="20")
    assert report.warning_lines == [f"シート「月次実績」{line}行目・H列: {warning}"]  # May: column H
    path = tmp_path / "a.xlsx"
    path.write_bytes(data)
    out = StringIO()
    call_command("import_workbook", str(path), stdout=out)
    assert f"確認: シート「月次実績」{line}行目・H列: {warning}" in out.getvalue()
    assert monthly(plan_of("tochigi", 2023), "lifestyle_checkup_rate", MAY).value == 15  # type: ignore[union-attr]


def test_a_figure_far_outside_the_branchs_past_range_is_listed() -> None:
    plan = plan_of("tochigi", 2023)
    earlier = plan_of("tochigi", 2022).targets.get(kpi__code="mail_application_rate")
    for month, value in ((4, "90"), (5, "91"), (6, "92")):
        actual_record(
            target=earlier, period="monthly", month=datetime.date(2022, month, 1), value=Decimal(value), reason="seed"
        )
    data = edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: 30}})
    report = import_workbook(data, "a.xlsx", user=None)
    assert report.ok and [m for _p, m in report.warnings] == [OUTSIDE_RANGE.format(low="90", high="92")]
    assert monthly(plan, "mail_application_rate", APRIL).value == 30  # type: ignore[union-attr]


def test_a_computed_float_is_read_as_excel_shows_it() -> None:
    data = edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: 939 / 1000 * 100}})
    assert 939 / 1000 * 100 != 93.9  # the float Excel keeps inside
    assert import_workbook(data, "a.xlsx", user=None).ok
    assert monthly(plan_of("tochigi", 2023), "mail_application_rate", APRIL).value == Decimal("93.9")  # type: ignore[union-attr]


def test_counts_on_a_kpi_that_is_not_a_rate_are_refused_not_ignored() -> None:
    book = load_workbook(io.BytesIO(template_bytes()))
    sheet = book[layout.FIGURES_SHEET]
    line = row_of(sheet, "health_declaration_offices", layout.VALUE_ROW)
    sheet.cell(row=line, column=6, value=layout.NUMERATOR_ROW)
    sheet.cell(row=line, column=layout.FIRST_MONTH_COLUMN, value=12)
    out = io.BytesIO()
    book.save(out)
    report = import_workbook(out.getvalue(), "a.xlsx", user=None)
    assert set(problems_of(report)) == {COUNTS_NOT_KEPT}  # April and the year end now on a 分子 row


def test_a_kpi_row_given_twice_is_refused_not_silently_overwritten() -> None:
    book = load_workbook(io.BytesIO(template_bytes()))
    sheet = book[layout.FIGURES_SHEET]
    line = row_of(sheet, "mail_application_rate", layout.VALUE_ROW)
    copy = row_of(sheet, "mail_application_rate", layout.NUMERATOR_ROW)
    sheet.cell(row=copy, column=6, value=layout.VALUE_ROW)
    out = io.BytesIO()
    book.save(out)
    report = import_workbook(out.getvalue(), "a.xlsx", user=None)
    what = "mail_application_rate 実績値"
    assert problems_of(report) == [reader.DUPLICATE_ROW.format(what=what, first=line, row=copy)]


def test_it_refuses_a_sheet_with_more_rows_than_a_kpitrack_workbook_can_hold() -> None:
    # A small file can claim a huge sheet (rows far down, a dimension of A1:XFD1048576): refused, not read row by row.
    book = load_workbook(io.BytesIO(template_bytes()))
    book[layout.FIGURES_SHEET].cell(row=layout.FIGURES_HEADER_ROW + reader.MAX_ROWS + 1, column=1, value="mail")
    out = io.BytesIO()
    book.save(out)
    assert refusal(out.getvalue()) == reader.TOO_MANY_ROWS.format(sheet=layout.FIGURES_SHEET, limit=reader.MAX_ROWS)


def test_it_refuses_a_metadata_sheet_with_more_rows_than_it_can_hold() -> None:
    book = load_workbook(io.BytesIO(template_bytes()))
    book[layout.META_SHEET].cell(row=reader.MAX_ROWS + 10, column=1, value="kpi_sheet")
    out = io.BytesIO()
    book.save(out)
    assert refusal(out.getvalue()) == reader.TOO_MANY_ROWS.format(sheet=layout.META_SHEET, limit=reader.MAX_ROWS)


def test_a_sheet_claiming_the_largest_dimension_reads_only_the_layouts_columns(monkeypatch: Any) -> None:
    # <dimension ref="A1:XFD1048576"/> would pad every row to 16,384 cells: only the layout's columns are asked for.
    asked: list[dict[str, Any]] = []
    original = ReadOnlyWorksheet.iter_rows

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ReadOnlyWorksheet, "iter_rows", spy)
    reader.read_workbook(template_bytes(), "a.xlsx")
    assert asked and all(kw.get("max_col") and kw.get("max_row") for kw in asked)


# -- a figure changed on screen after the workbook was downloaded ---------------------------------------------------


def saved_april(value: str) -> KpiActual:
    target = target_of("mail_application_rate")
    actual, _ = actual_record(
        target=target, period=KpiActual.Period.MONTHLY, month=APRIL, value=Decimal(value), reason="画面"
    )
    return actual


def test_a_figure_changed_on_screen_after_the_download_is_not_overwritten_by_the_books_old_copy() -> None:
    plan = plan_of("tochigi", 2023)
    saved_april("90")
    data = template_bytes()  # April 90 written into the template
    saved_april("92")  # changed on screen after the download
    report = import_workbook(edited(data, {("mail_application_rate", layout.VALUE_ROW): {2: 94}}), "a.xlsx", user=None)
    assert report.ok and report.created == 1
    assert monthly(plan, "mail_application_rate", APRIL).value == Decimal("92")  # type: ignore[union-attr]
    assert monthly(plan, "mail_application_rate", MAY).value == Decimal("94")  # type: ignore[union-attr]
    assert [message for _, message in report.warnings] == [importer.CHANGED_ON_SCREEN_KEPT.format(saved="92")]


def test_a_figure_deleted_on_screen_after_the_download_is_not_brought_back() -> None:
    plan = plan_of("tochigi", 2023)
    actual = saved_april("90")
    data = template_bytes()
    actual_delete(actual=actual, user=None, reason="誤入力")
    report = import_workbook(edited(data, {("mail_application_rate", layout.VALUE_ROW): {2: 94}}), "a.xlsx", user=None)
    assert report.ok and report.created == 1
    assert monthly(plan, "mail_application_rate", APRIL) is None
    assert [message for _, message in report.warnings] == [importer.CHANGED_ON_SCREEN_KEPT.format(saved="空欄")]


def test_a_figure_changed_both_on_screen_and_in_the_book_is_refused_and_nothing_is_written() -> None:
    plan = plan_of("tochigi", 2023)
    saved_april("90")
    data = template_bytes()
    saved_april("92")
    edits = {("mail_application_rate", layout.VALUE_ROW): {1: 95, 2: 94}}
    report = import_workbook(edited(data, edits), "a.xlsx", user=None)
    assert problems_of(report) == [importer.CHANGED_ON_SCREEN.format(saved="92")]
    assert monthly(plan, "mail_application_rate", APRIL).value == Decimal("92")  # type: ignore[union-attr]
    assert monthly(plan, "mail_application_rate", MAY) is None


def test_a_dry_run_lists_a_changed_figure_in_an_approved_month_at_its_cell() -> None:
    plan = plan_of("tochigi", 2023)
    MonthReport.objects.create(plan=plan, month=APRIL, status=MonthReport.Status.APPROVED)
    data = edited(template_bytes(), {("mail_application_rate", layout.VALUE_ROW): {1: 95}})
    report = import_workbook(data, "b.xlsx", user=None, dry_run=True)
    line = row_of(load_workbook(io.BytesIO(data))[layout.FIGURES_SHEET], "mail_application_rate", layout.VALUE_ROW)
    place = reader.Place(layout.FIGURES_SHEET, line, layout.FIRST_MONTH_COLUMN)
    assert report.problems == [(place, MONTH_LOCKED_MESSAGE.format(month="2023年4月"))]


def test_a_figure_saved_while_the_workbook_is_built_is_not_undone_by_importing_it(monkeypatch) -> None:
    """The download time is taken before the figures are read: a save between the reading and the end of the build
    (here: just before the metadata sheet is written) is after it, so the book's old copy does not undo it."""
    plan = plan_of("tochigi", 2023)
    saved_april("90")
    original = layout.write_meta

    def save_then_write(*args: Any, **kwargs: Any) -> None:
        saved_april("92")  # another user saves while the workbook is being built
        original(*args, **kwargs)

    monkeypatch.setattr(layout, "write_meta", save_then_write)
    data = template_bytes()  # April 90 in the book
    monkeypatch.setattr(layout, "write_meta", original)
    report = import_workbook(data, "a.xlsx", user=None)
    assert report.ok
    assert monthly(plan, "mail_application_rate", APRIL).value == Decimal("92")  # type: ignore[union-attr]
