"""How a user gets from the dashboards to the plan page, the month screen, progress and HQ's lists."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from plans import fiscal
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("year", "today", "month"),
    [
        (2023, datetime.date(2024, 11, 20), datetime.date(2024, 3, 1)),  # a past year: its March
        (2024, datetime.date(2024, 11, 20), datetime.date(2024, 11, 1)),  # this year: this month
        (2025, datetime.date(2024, 11, 20), None),  # a year still to come: no month yet
    ],
)
def test_latest_month_of_a_fiscal_year(year, today, month):
    assert fiscal.latest_month(year, today) == month


def test_the_dashboard_links_the_plan_page_the_newest_month_and_its_half(monkeypatch, tochigi_staff):
    monkeypatch.setattr(timezone, "localdate", lambda: datetime.date(2024, 11, 20))
    html = client_for(tochigi_staff).get("/branches/tochigi/2024/").content.decode()
    assert 'href="/branches/tochigi/2024/plan/"' in html
    assert 'href="/branches/tochigi/2024/entry/2024-11/"' in html and "月次の実績入力（2024年11月）" in html
    assert 'href="/branches/tochigi/2024/progress/h2/"' in html and "施策の進捗（下期）" in html


def test_a_plan_for_a_year_to_come_links_only_the_plan_page(monkeypatch, hq_manager):
    monkeypatch.setattr(timezone, "localdate", lambda: datetime.date(2024, 11, 20))
    html = client_for(hq_manager).get("/branches/kagoshima/2025/").content.decode()
    assert 'href="/branches/kagoshima/2025/plan/"' in html
    assert "/branches/kagoshima/2025/entry/" not in html and "/branches/kagoshima/2025/progress/" not in html


def test_the_matrix_links_the_reporting_status_and_the_evaluations_across_branches(hq_manager):
    html = client_for(hq_manager).get("/national/2024/").content.decode()
    assert 'href="/national/2024/status/"' in html
    assert 'href="/national/2024/progress/h1/"' in html and 'href="/national/2024/progress/h2/"' in html


def test_the_ranking_table_scrolls_in_its_box_and_keeps_branch_names_whole(hq_manager):
    html = client_for(hq_manager).get("/national/2024/kpi/lifestyle_checkup_rate/").content.decode()
    assert '<div class="table-scroll"><table class="kpi-table ranking-table">' in html
    assert '<td class="nowrap"><a href="/branches/kagoshima/2024/kpi/lifestyle_checkup_rate/">鹿児島</a></td>' in html


def test_the_dashboard_says_a_baseline_from_before_a_definition_change_is_not_comparable(tochigi_staff):
    html = client_for(tochigi_staff).get("/branches/tochigi/2024/").content.decode()
    row = html[html.index("/kpi/receipt_assessment_rate/") :]
    row = row[: row.index("</tr>")]
    assert '<span class="change">比較不可（基準変更）</span>' in row
