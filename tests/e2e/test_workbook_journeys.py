"""Excel journeys in the browser: the entry template downloaded from the month screen, filled in with openpyxl and
uploaded (check only, then import); a refused upload; the published and national workbooks downloaded from the
dashboards and opened with openpyxl."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from plans.models import Kpi, KpiActual, KpiTarget
from plans.services import actual_record
from plans.workbooks import layout, reader
from plans.workbooks.importer import IMPORTED, PREVIEW
from tests.e2e.conftest import PageErrors, screenshot
from tests.factories import (
    PASSWORD,
    BranchFactory,
    FiscalYearFactory,
    KpiFactory,
    KpiTargetFactory,
    PlanFactory,
    member,
)

pytestmark = pytest.mark.django_db(transaction=True)

JUNE = datetime.date(2025, 6, 1)
JUNE_COLUMN = layout.FIRST_MONTH_COLUMN + 2  # fiscal month 3 (April is 1)
ENTRY = "/branches/shiga/2025/entry/2025-06/"
UPLOAD = "/branches/shiga/2025/workbook/import/"


@pytest.fixture
def shiga(transactional_db: None) -> dict[str, KpiTarget]:
    """Shiga's 2025 plan with two count KPIs, a staff member and a headquarters reader (password: PASSWORD)."""
    branch = BranchFactory(code="shiga")
    plan = PlanFactory(branch=branch, fiscal_year=FiscalYearFactory(year=2025))
    visits = KpiTargetFactory(
        plan=plan, kpi=KpiFactory(kind=Kpi.Kind.COUNT, code="office_visits", name="事業所訪問件数"), order=1
    )
    talks = KpiTargetFactory(
        plan=plan, kpi=KpiFactory(kind=Kpi.Kind.COUNT, code="declaration_talks", name="健康宣言説明会件数"), order=2
    )
    member("shiga-staff", branch=branch, staff=True)
    member("wb-hq", hq=True)
    return {"visits": visits, "talks": talks}


def fill_month(path: Path, figures: dict[str, int]) -> None:
    """Type June's figures into the template's value rows, as a branch would in Excel."""
    book = openpyxl.load_workbook(path)
    sheet = book[layout.FIGURES_SHEET]
    found = set()
    for row in sheet.iter_rows(min_row=layout.FIGURES_HEADER_ROW + 1):
        code, label = row[0].value, row[5].value
        if code in figures and label == layout.VALUE_ROW:
            sheet.cell(row=row[0].row, column=JUNE_COLUMN, value=figures[code])
            found.add(code)
    assert found == set(figures), f"template rows missing: {set(figures) - found}"
    book.save(path)


def upload(page: Any, path: Path, button: str) -> str:
    page.set_input_files("#workbook", str(path))
    with page.expect_navigation():
        page.click(f"form.upload-form button:has-text('{button}')")
    return page.text_content("main") or ""


def history_rows(target: KpiTarget) -> int:
    return KpiActual.history.filter(target_id=target.pk).count()


def test_it_imports_a_month_filled_into_the_template_downloaded_from_the_month_screen(
    shiga: dict[str, KpiTarget], log_in: Callable[[str, str], Any], page_errors: PageErrors, tmp_path: Path
) -> None:
    visits, talks = shiga["visits"], shiga["talks"]
    page = log_in("shiga-staff", PASSWORD)
    page.goto(ENTRY)
    with page.expect_download() as info:
        page.click("a:has-text('Excelテンプレート（.xlsx）')")
    download = info.value
    assert download.suggested_filename == "kpitrack_shiga_2025_template.xlsx"
    book = tmp_path / "shiga_june.xlsx"
    download.save_as(str(book))
    fill_month(book, {"office_visits": 14, "declaration_talks": 2})

    page.click("a:has-text('Excelブックから取り込む')")
    page.wait_for_url(f"**{UPLOAD}")
    shown = upload(page, book, "確認のみ（保存しない）")
    assert PREVIEW.format(created=2, updated=0, unchanged=0) in shown
    assert not KpiActual.objects.filter(target__plan=visits.plan).exists()  # checking writes nothing

    shown = upload(page, book, "取り込む")
    assert IMPORTED.format(filename="shiga_june.xlsx", created=2, updated=0, unchanged=0) in shown
    saved = {a.target_id: a for a in KpiActual.objects.filter(target__plan=visits.plan, month=JUNE)}
    assert saved[visits.pk].value == Decimal(14) and saved[talks.pk].value == Decimal(2)
    assert saved[visits.pk].source == KpiActual.Source.IMPORT
    screenshot(page, "workbook-imported")

    page.goto(ENTRY)  # the month screen shows the imported figures
    assert (page.text_content(f"#t{visits.pk} .saved-value") or "").strip() == "14"
    assert page.input_value(f"[name=t{talks.pk}-value]") == "2"

    page.goto("/branches/shiga/2025/kpi/office_visits/history/")
    row = page.locator("table.history-table tbody tr").first
    cells = [text.strip() for text in row.locator("td").all_text_contents()]
    assert cells[1] == "shiga-staff" and cells[5] == "14" and cells[7] == "ファイル取込", cells
    assert "shiga_june.xlsx" in cells[6], cells
    screenshot(page, "workbook-history")

    shown = upload_again(page, book)  # the same file a second time changes nothing
    assert IMPORTED.format(filename="shiga_june.xlsx", created=0, updated=0, unchanged=2) in shown
    assert history_rows(visits) == 1
    assert list(page_errors) == []


def upload_again(page: Any, book: Path) -> str:
    page.goto(UPLOAD)
    return upload(page, book, "取り込む")


def test_it_refuses_a_workbook_that_is_not_kpitracks_in_japanese_and_changes_nothing(
    shiga: dict[str, KpiTarget], log_in: Callable[[str, str], Any], page_errors: PageErrors, tmp_path: Path
) -> None:
    visits = shiga["visits"]
    page = log_in("shiga-staff", PASSWORD)
    page.goto(ENTRY)
    page.fill(f"[name=t{visits.pk}-value]", "9")
    with page.expect_navigation():
        page.click("button:has-text('この月の実績を保存')")
    before = list(KpiActual.objects.values_list("target_id", "month", "value", "version"))
    history_before = history_rows(visits)

    foreign = tmp_path / "集計表.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["事業所訪問件数", 99])
    book.save(foreign)
    page.goto(UPLOAD)
    shown = upload(page, foreign, "取り込む")

    assert (page.text_content(".error[role=alert]") or "").strip() == reader.NOT_TEMPLATE
    assert "取り込みました" not in shown
    assert list(KpiActual.objects.values_list("target_id", "month", "value", "version")) == before
    assert history_rows(visits) == history_before
    screenshot(page, "workbook-refused")
    page.goto(ENTRY)
    assert (page.text_content(f"#t{visits.pk} .saved-value") or "").strip() == "9"
    assert [line for line in page_errors if "400" not in line] == []  # the refusal page answers 400


def test_it_downloads_the_published_and_national_workbooks_which_open_in_openpyxl(
    shiga: dict[str, KpiTarget], log_in: Callable[[str, str], Any], page_errors: PageErrors, tmp_path: Path
) -> None:
    visits = shiga["visits"]
    staff = member("shiga-writer", branch=visits.plan.branch, staff=True)
    actual_record(target=visits, period=KpiActual.Period.MONTHLY, month=JUNE, value=Decimal(17), user=staff)
    page = log_in("wb-hq", PASSWORD)

    page.goto("/branches/shiga/2025/")
    with page.expect_download() as info:
        page.click("a:has-text('公表様式のExcelブック')")
    assert info.value.suggested_filename == "kpitrack_shiga_2025_published.xlsx"
    published = tmp_path / "published.xlsx"
    info.value.save_as(str(published))
    book = openpyxl.load_workbook(published)
    assert book.sheetnames[:3] == [layout.PUBLISHED_SHEET, layout.FIGURES_SHEET, layout.PROGRESS_SHEET]
    values = [cell for row in book[layout.FIGURES_SHEET].iter_rows(values_only=True) for cell in row]
    assert "事業所訪問件数" in values and 17 in values

    page.goto("/national/2025/")
    with page.expect_download() as info:
        page.click("a:has-text('全支部のExcelブック')")
    national = tmp_path / "national.xlsx"
    info.value.save_as(str(national))
    book = openpyxl.load_workbook(national)
    assert book.sheetnames[0] == layout.OVERVIEW_SHEET
    texts = {str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row if cell}
    assert any("事業所訪問件数" in text for text in texts)
    assert list(page_errors) == []
