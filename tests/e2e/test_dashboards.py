"""Reading journeys: the dashboards draw their plotly charts (on the seed), and the xlsx export opens in openpyxl."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from plans.exports import HEADERS
from plans.models import Kpi, KpiActual
from plans.services import actual_record
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
    log_in: Callable[[str, str], Any], page_errors: PageErrors, tmp_path: Path
) -> None:
    """Its own small plan (not the seed: reloading the seed after a live-server test costs seconds)."""
    plan = PlanFactory(branch=BranchFactory(code="nara"), fiscal_year=FiscalYearFactory(year=2025))
    names = {"事業所訪問件数": Decimal(12), "健康宣言説明会件数": Decimal(3)}
    for order, (name, value) in enumerate(names.items()):
        target = KpiTargetFactory(plan=plan, kpi=KpiFactory(kind=Kpi.Kind.COUNT, name=name), order=order)
        actual_record(
            target=target,
            period=KpiActual.Period.MONTHLY,
            month=datetime.date(2025, 6, 1),
            value=value,
            source=KpiActual.Source.MANUAL,
            expected_version=0,
        )
    member("e2e-hq", hq=True)
    page = log_in("e2e-hq", PASSWORD)
    page.goto("/branches/nara/2025/")
    assert page.locator("main table tbody tr").count() == len(names)

    with page.expect_download() as info:
        page.click("a:has-text('Excel (xlsx)')")
    download = info.value
    assert download.suggested_filename == "kpitrack_nara_2025.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    exported = {row[HEADERS.index("KPI")]: row[HEADERS.index("直近実績")] for row in rows[1:]}
    assert exported == {name: int(value) for name, value in names.items()}
    assert list(page_errors) == []
