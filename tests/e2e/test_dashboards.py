"""Reading journeys on the seed: the dashboards draw their plotly charts, and the xlsx export opens in openpyxl."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from plans.exports import HEADERS
from tests.e2e.conftest import PageErrors, screenshot
from tests.factories import PASSWORD, member

pytestmark = pytest.mark.django_db(transaction=True)

PLOTLY_SVG = "svg.main-svg"


def assert_charts_drawn(page: Any, *chart_ids: str) -> None:
    """Each named chart holds plotly's SVG with at least one drawn trace, and no chart on the page is left empty."""
    for chart_id in chart_ids:
        page.wait_for_selector(f"#{chart_id} {PLOTLY_SVG}")
        traces = page.locator(f"#{chart_id} {PLOTLY_SVG} g.trace")
        assert traces.count() > 0, f"#{chart_id}: plotly drew no trace"
        marks = page.locator(f"#{chart_id} {PLOTLY_SVG} g.trace path")
        assert marks.count() > 0, f"#{chart_id}: the traces hold no line, marker or bar"
        box = page.locator(f"#{chart_id} {PLOTLY_SVG}").first.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100, (chart_id, box)
    empty = page.eval_on_selector_all(
        ".chart", f"nodes => nodes.filter(n => !n.querySelector('{PLOTLY_SVG}')).map(n => n.id)"
    )
    assert empty == [], f"charts left undrawn: {empty}"


def test_it_draws_the_charts_on_the_branch_kpi_and_national_pages(
    seeded: None, log_in: Callable[[str, str], Any], page_errors: PageErrors
) -> None:
    member("e2e-hq", hq=True)
    page = log_in("e2e-hq", PASSWORD)

    page.goto("/branches/gifu/2024/")
    assert page.locator("main table tbody tr").count() > 0
    assert_charts_drawn(page)  # the dashboard's own charts, if it has any, are drawn too
    screenshot(page, "branch-dashboard")

    page.goto("/branches/gifu/2024/kpi/dependent_checkup_rate/")
    assert_charts_drawn(page, "progress-chart", "trend-chart")
    screenshot(page, "kpi-detail")

    page.goto("/national/2024/")
    assert page.locator("main table tbody tr").count() >= 4  # the seed's four branches at least
    assert_charts_drawn(page)
    screenshot(page, "national-matrix")

    page.goto("/national/2024/kpi/lifestyle_checkup_rate/")
    assert_charts_drawn(page, "ranking-chart")
    screenshot(page, "national-kpi")
    assert list(page_errors) == []


def test_it_downloads_the_dashboard_as_an_xlsx_file_that_openpyxl_reads(
    seeded: None, log_in: Callable[[str, str], Any], page_errors: PageErrors, tmp_path: Path
) -> None:
    member("e2e-hq", hq=True)
    page = log_in("e2e-hq", PASSWORD)
    page.goto("/branches/tochigi/2023/")
    shown = page.locator("main table tbody tr").count()

    with page.expect_download() as info:
        page.click("a:has-text('Excel (xlsx)')")
    download = info.value
    assert download.suggested_filename == "kpitrack_tochigi_2023.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    workbook = openpyxl.load_workbook(saved)
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    assert len(rows) - 1 == shown
    kpi_column = HEADERS.index("KPI")
    page_text = re.sub(r"\s+", "", page.text_content("main table tbody") or "")
    for row in rows[1:]:
        assert re.sub(r"\s+", "", str(row[kpi_column])) in page_text
    assert list(page_errors) == []
