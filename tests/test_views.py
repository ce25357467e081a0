"""View tests for the dashboards: permissions, 404s, content, exports, charts and query counts.

The seed is loaded once per session (see conftest): tochigi 2021–2024, kagoshima 2023–2025, tokyo 2024,
gifu 2023–2024. Tochigi FY2023 figures and marks are checked against the branch's published table
(令和５年度 栃木支部事業計画実施状況: ◎ 5, ○ 8, △ 6 over 19 KPIs).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.cache import caches
from django.test import Client

from branches.models import Branch, Membership
from plans import services
from plans.models import Kpi, KpiActual, KpiTarget, Plan
from tests.conftest import client_for
from tests.factories import (
    AreaFactory,
    BranchFactory,
    KpiActualFactory,
    KpiFactory,
    KpiTargetFactory,
    MeasureFactory,
    NationalAverageFactory,
    PlanFactory,
)

pytestmark = pytest.mark.django_db

DASHBOARD = "/branches/tochigi/2023/"
DETAIL = "/branches/tochigi/2023/kpi/lifestyle_checkup_rate/"
MATRIX = "/national/2023/"
NATIONAL_KPI = "/national/2023/kpi/lifestyle_checkup_rate/"
BRANCH_PAGES = [DASHBOARD, DETAIL]
NATIONAL_PAGES = [MATRIX, NATIONAL_KPI]
ALL_PAGES = ["/", *BRANCH_PAGES, *NATIONAL_PAGES]

# 令和５年度 栃木支部KPI, 実施状況 column of the published table (〇 written as ○).
TOCHIGI_2023_MARKS = {
    "service_standard_rate": "○",
    "mail_application_rate": "△",
    "judo_multi_visit_rate": "○",
    "receipt_assessment_rate": "○",
    "reexam_amount_per_claim": "○",
    "card_recovery_rate": "△",
    "refund_recovery_rate": "△",
    "dependent_confirmation_rate": "△",
    "lifestyle_checkup_rate": "◎",
    "employer_checkup_data_rate": "◎",
    "dependent_checkup_rate": "△",
    "insured_guidance_rate": "△",
    "dependent_guidance_rate": "◎",
    "medical_visit_rate": "○",
    "health_declaration_offices": "◎",
    "health_committee_coverage": "○",
    "generic_drug_share": "○",
    "opinion_statements": "○",
    "single_bid_ratio": "◎",
}
MARK_RANK = {"◎": 3, "○": 2, "△": 1, "－": 0}

# Pinned query counts for the manager (session + user + membership included).
#: 8 + published_columns (one query) + the data versions of the ETag + the targets' stamps (result cache) + the
#: year's national averages and lineage breaks (the results computed from rows), without the membership (read with
#: the user) (issue 12). A first visit: nothing in the cache (the branch picker, kept per catalog version, included).
DASHBOARD_QUERIES = 12
#: - membership (with the user); the data versions, then the targets' stamps (ETag); a first visit (the plan is then
#: kept under the catalog's version: 1 fewer)
DETAIL_QUERIES = 8
MATRIX_QUERIES = 9  # - membership (with the user) + data versions (ETag), the columns, the branch list (issue 12)
#: after saves in a few branches: their rows through the result cache (issue 12): the matrix's 9 - its bulk query +
#: the targets' stamps, the changed targets and their actuals (from rows); the year's averages and breaks are read
#: once more the first time, then kept
MATRIX_AFTER_SAVE_QUERIES = 11
NATIONAL_KPI_QUERIES = 7  # - membership (with the user); the data versions, then the targets' stamps


# -- helpers ----------------------------------------------------------------------------------------


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment)).strip()


def kpi_rows(html: str) -> list[tuple[str, str]]:
    """(kpi code, mark) of each row of the dashboard's KPI table, in display order."""
    tbody = html[html.index("<tbody"):html.index("</tbody>")]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", tbody, re.S):
        code = re.search(r"/kpi/([\w-]+)/", row)
        mark = re.search(r'<td class="mark">(.*?)</td>', row, re.S)
        assert code and mark, row
        rows.append((code.group(1), _text(mark.group(1))))
    return rows


def summary_counts(html: str) -> dict[str, int]:
    pairs = re.findall(
        r'<span class="summary-mark">(.*?)</span><span class="summary-count">(\d+)</span>', html
    )
    return {mark: int(count) for mark, count in pairs}


def json_block(html: str, element_id: str) -> dict:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"no #{element_id}"
    return json.loads(match.group(1))


def matrix_row(html: str, code: str) -> str:
    for row in re.findall(r'<tr>\s*<th class="branch">.*?</tr>', html, re.S):
        if f"/branches/{code}/" in row:
            return row
    raise AssertionError(f"no row for {code}")


def login_url(next_path: str) -> str:
    return f"/accounts/login/?next={next_path}"


def add_plan(code: str, year: int, kpi_codes: list[str], value: str = "60.0") -> Plan:
    """A plan for ``code``/``year`` with a fixed-min target and a year-end actual per KPI."""
    plan = PlanFactory(branch=BranchFactory(code=code), fiscal_year__year=year)
    for order, kpi_code in enumerate(kpi_codes):
        kpi = Kpi.objects.get(code=kpi_code)
        target = KpiTargetFactory(plan=plan, kpi=kpi, measure=None, order=order, target_text="50.0%以上")
        KpiActualFactory(target=target, year_end=True, value=Decimal(value))
    return plan


@pytest.fixture
def manager(hq_manager) -> Client:
    return client_for(hq_manager)


# -- permissions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", BRANCH_PAGES)
def test_it_shows_branch_pages_to_the_branchs_own_staff(tochigi_staff, url):
    assert client_for(tochigi_staff).get(url).status_code == 200


@pytest.mark.parametrize("url", BRANCH_PAGES)
def test_it_forbids_branch_pages_to_another_branchs_staff(gifu_staff, url):
    assert client_for(gifu_staff).get(url).status_code == 403


@pytest.mark.parametrize("url", BRANCH_PAGES)
def test_it_shows_branch_pages_to_a_headquarters_manager(manager, url):
    assert manager.get(url).status_code == 200


@pytest.mark.parametrize("url", ALL_PAGES)
def test_it_redirects_anonymous_visitors_to_the_login_page_with_next(url):
    response = client_for(None).get(url)
    assert response.status_code == 302
    assert response["Location"] == login_url(url)


@pytest.mark.parametrize("url", NATIONAL_PAGES)
def test_it_shows_national_pages_to_a_headquarters_manager(manager, url):
    assert manager.get(url).status_code == 200


@pytest.mark.parametrize("url", NATIONAL_PAGES)
@pytest.mark.parametrize("persona", ["tochigi_staff", "gifu_staff"])
def test_it_forbids_national_pages_to_branch_staff(request, persona, url):
    user = request.getfixturevalue(persona)
    assert client_for(user).get(url).status_code == 403


def test_it_forbids_national_pages_to_a_branch_manager(tochigi):
    user = get_user_model().objects.create_user(username="tochigi-manager", password="pw")
    Membership.objects.create(user=user, branch=tochigi, role=Membership.Role.MANAGER)
    client = client_for(user)
    assert client.get(MATRIX).status_code == 403
    assert client.get(DASHBOARD).status_code == 200
    assert client.get("/branches/gifu/2023/").status_code == 403


def test_it_shows_every_branch_to_a_superuser_without_membership():
    user = get_user_model().objects.create_superuser(username="root", password="pw")
    client = client_for(user)
    assert client.get("/branches/gifu/2024/").status_code == 200
    assert client.get(MATRIX).status_code == 200


@pytest.mark.parametrize("url", ALL_PAGES)
def test_it_rejects_post_with_405(manager, url):
    assert manager.post(url).status_code == 405


@pytest.mark.parametrize("url", ALL_PAGES)
def test_it_rejects_post_with_405_even_for_anonymous_visitors(url):
    assert client_for(None).post(url).status_code == 405


# -- 404s -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/branches/atlantis/2023/",
    "/branches/atlantis/2023/kpi/lifestyle_checkup_rate/",
])
@pytest.mark.parametrize("persona", ["tochigi_staff", "hq_manager"])
def test_it_404s_for_an_unknown_branch(request, persona, url):
    assert client_for(request.getfixturevalue(persona)).get(url).status_code == 404


@pytest.mark.parametrize("url", [
    "/branches/tochigi/2030/",
    "/branches/tochigi/2030/kpi/lifestyle_checkup_rate/",
    "/branches/tochigi/2025/",  # a year other branches have
    "/branches/hokkaido/2023/",  # a branch without any plan
])
def test_it_404s_for_a_year_without_a_plan_for_that_branch(manager, url):
    assert manager.get(url).status_code == 404


def test_it_404s_for_the_own_staff_on_a_year_without_a_plan(tochigi_staff):
    assert client_for(tochigi_staff).get("/branches/tochigi/2030/").status_code == 404


def test_it_forbids_rather_than_404s_a_missing_year_of_someone_elses_branch(gifu_staff):
    assert client_for(gifu_staff).get("/branches/tochigi/2030/").status_code == 403


def test_it_404s_for_an_unknown_kpi_code(manager):
    assert manager.get("/branches/tochigi/2023/kpi/no_such_kpi/").status_code == 404


def test_it_404s_for_a_kpi_not_in_that_plan(manager):
    # judo_multi_visit_rate was deleted from Tochigi's FY2024 plan; it is in FY2023.
    assert manager.get("/branches/tochigi/2023/kpi/judo_multi_visit_rate/").status_code == 200
    assert manager.get("/branches/tochigi/2024/kpi/judo_multi_visit_rate/").status_code == 404


def test_it_404s_for_a_national_kpi_with_no_targets_that_year(manager):
    assert manager.get("/national/2025/kpi/service_standard_days/").status_code == 200
    assert manager.get("/national/2023/kpi/service_standard_days/").status_code == 404


def test_it_404s_for_an_unknown_national_kpi(manager):
    assert manager.get("/national/2023/kpi/no_such_kpi/").status_code == 404


@pytest.mark.parametrize("url", ["/national/2030/", "/national/2019/", "/national/2030/kpi/lifestyle_checkup_rate/"])
def test_it_404s_for_a_national_year_that_does_not_exist(manager, url):
    assert manager.get(url).status_code == 404


# -- home -------------------------------------------------------------------------------------------


def test_it_sends_staff_home_to_their_branchs_latest_plan(tochigi_staff):
    response = client_for(tochigi_staff).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/branches/tochigi/2024/"


def test_it_sends_other_staff_home_to_their_own_branch(gifu_staff):
    assert client_for(gifu_staff).get("/")["Location"] == "/branches/gifu/2024/"


def test_it_sends_a_manager_home_to_the_newest_year_with_figures_not_a_future_plan(manager):
    # FY2025 has only Kagoshima's draft plan (targets, no actuals): every cell would be 「－」.
    response = manager.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/national/2024/"


def test_it_forbids_home_to_a_user_without_membership():
    user = get_user_model().objects.create_user(username="nobody", password="pw")
    assert client_for(user).get("/").status_code == 403


def test_it_tells_staff_of_a_branch_without_plans_that_none_is_loaded():
    user = get_user_model().objects.create_user(username="hokkaido-staff", password="pw")
    Membership.objects.create(user=user, branch=Branch.objects.get(code="hokkaido"), role=Membership.Role.STAFF)
    response = client_for(user).get("/")
    assert response.status_code == 200
    assert "北海道支部の事業計画がまだ登録されていません" in response.content.decode()


# -- branch dashboard -------------------------------------------------------------------------------


def test_it_titles_the_dashboard_with_the_reiwa_year(manager):
    html = manager.get(DASHBOARD).content.decode()
    assert "令和5年度 (FY2023)" in html
    assert "栃木支部" in html


def test_it_summarises_tochigi_2023_as_published(manager):
    html = manager.get(DASHBOARD).content.decode()
    assert summary_counts(html) == {"◎": 5, "○": 8, "△": 6, "－": 0}
    assert "KPI 19件" in html


def test_it_lists_every_kpi_with_its_published_mark(manager):
    rows = kpi_rows(manager.get(DASHBOARD).content.decode())
    assert dict(rows) == TOCHIGI_2023_MARKS
    assert len(rows) == 19


@pytest.mark.parametrize("figure", ["1,529事業所", "1,330事業所以上", "6,535円", "5,684円", "8,472円",
                                    "72.2%", "57.7%", "0.418%", "0.371%", "0.423%", "86.64%", "実施"])
def test_it_formats_figures_with_thousands_separators_and_units(manager, figure):
    assert figure in manager.get(DASHBOARD).content.decode()


def test_it_does_not_localize_years_with_a_thousands_separator(manager):
    html = manager.get(DASHBOARD).content.decode()
    select = re.search(r'<select name="year">.*?</select>', html, re.S).group(0)
    assert '<option value="2023" selected>令和5年度 (FY2023)</option>' in select
    assert "2,02" not in html
    assert 'href="/branches/tochigi/2022/"' in html and 'href="/branches/tochigi/2024/"' in html


def test_it_offers_staff_only_their_own_branch_in_the_branch_picker(tochigi_staff):
    html = client_for(tochigi_staff).get(DASHBOARD).content.decode()
    picker = re.search(r'<select name="branch">.*?</select>', html, re.S).group(0)
    assert re.findall(r'value="(\w+)"', picker) == ["tochigi"]
    assert "/national/" not in html


def test_it_offers_a_manager_only_the_branches_with_a_plan_that_year_in_the_branch_picker(manager):
    html = manager.get(DASHBOARD).content.decode()
    picker = re.search(r'<select name="branch">.*?</select>', html, re.S).group(0)
    assert re.findall(r'value="(\w+)"', picker) == ["tochigi", "gifu", "kagoshima"]  # FY2023 plans, JIS order
    years = re.search(r'<select name="year">.*?</select>', html, re.S).group(0)
    assert re.findall(r'value="(\d+)"', years) == ["2021", "2022", "2023", "2024"]  # Tochigi's plan years
    assert 'href="/national/2023/"' in html


def test_it_filters_by_mark(manager):
    html = manager.get(DASHBOARD, {"mark": "△"}).content.decode()
    rows = kpi_rows(html)
    assert {mark for _, mark in rows} == {"△"}
    assert sorted(code for code, _ in rows) == sorted(c for c, m in TOCHIGI_2023_MARKS.items() if m == "△")
    assert "6件を表示（全19件）" in html
    assert summary_counts(html) == {"◎": 5, "○": 8, "△": 6, "－": 0}  # the summary stays the whole plan


def test_it_filters_by_area(manager):
    html = manager.get(DASHBOARD, {"area": "3"}).content.decode()
    assert kpi_rows(html) == [("single_bid_ratio", "◎")]
    assert "1件を表示（全19件）" in html


def test_it_filters_by_not_judged_to_an_empty_table(manager):
    html = manager.get(DASHBOARD, {"mark": "none"}).content.decode()
    assert "この条件に合うKPIはありません。" in html
    assert "0件を表示（全19件）" in html


def test_it_reports_an_invalid_filter_in_japanese_and_shows_every_row(manager):
    response = manager.get(DASHBOARD, {"mark": "x"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "正しく選択してください。" in html
    assert "条件を外して全件を表示しています。" in html
    assert len(kpi_rows(html)) == 19


def test_it_sorts_by_mark(manager):
    ascending = manager.get(DASHBOARD, {"sort": "mark"})
    descending = manager.get(DASHBOARD, {"sort": "-mark"})
    assert ascending.status_code == descending.status_code == 200
    up = [MARK_RANK[m] for _, m in kpi_rows(ascending.content.decode())]
    down = [MARK_RANK[m] for _, m in kpi_rows(descending.content.decode())]
    assert up == sorted(up) and len(up) == 19
    assert down == sorted(down, reverse=True)


@pytest.fixture
def sortable_plan() -> str:
    """Four KPIs whose every column sorts them differently; returns the plan's dashboard URL.

    Unsorted (area, then order): C, A, D, B. D has no year-end figure: no mark, but a projection.
    """
    plan = PlanFactory(branch=BranchFactory(code="hokkaido"), fiscal_year__year=2023)
    rows = {
        # code: (area, order, measure, group, kpi order, target, latest (period, month), year end, national)
        "a": (2, 1, "イ施策", "業務", 3, "60.0%以上", ("interim", 9, "40.0"), "70.0", "55.0"),  # ◎
        "b": (3, 1, "ウ施策", "保健", 1, "対前年度(40.0%)以上", ("monthly", 10, "28.0"), "45.0", "75.0"),  # ○
        "c": (1, 1, "ア施策", "レセプト", 4, "80.0%以上", ("monthly", 9, "30.0"), "50.0", "65.0"),  # △
        "d": (2, 2, "エ施策", "企画総務", 2, "対前年度(20.0%)以上", ("monthly", 9, "35.0"), None, "45.0"),
    }
    for code, (area, order, title, group, kpi_order, text, latest, year_end, national) in rows.items():
        kpi = KpiFactory(code=f"sort_{code}", order=kpi_order, measure_basis=Kpi.MeasureBasis.YEAR_TO_DATE)
        measure = MeasureFactory(plan=plan, area=AreaFactory(number=area), title=title, group=group)
        target = KpiTargetFactory(plan=plan, kpi=kpi, measure=measure, order=order, target_text=text)
        period, month, value = latest
        KpiActualFactory(target=target, period=period, month=datetime.date(2023, month, 1), value=Decimal(value))
        if year_end is not None:
            KpiActualFactory(target=target, year_end=True, value=Decimal(year_end))
        NationalAverageFactory(kpi=kpi, fiscal_year=plan.fiscal_year, value=Decimal(national))
    return f"/branches/{plan.branch.code}/2023/"


def test_it_lists_the_sortable_plan_by_area_then_order_unsorted(manager, sortable_plan):
    rows = kpi_rows(manager.get(sortable_plan).content.decode())
    assert rows == [("sort_c", "△"), ("sort_a", "◎"), ("sort_d", "－"), ("sort_b", "○")]


# Ties (equal areas, rows without a baseline or projection) keep the unsorted order C, A, D, B; an empty
# cell sorts before any figure.
@pytest.mark.parametrize(
    ("column", "ascending", "descending"),
    [
        ("area", "cadb", "badc"),  # 1, 2, 2, 3
        ("measure", "cabd", "dbac"),  # ア イ ウ エ
        ("group", "cdba", "abdc"),  # レセプト 企画総務 保健 業務 (code point order)
        ("kpi", "bdac", "cadb"),  # the catalog's order: 1 2 3 4
        ("target_text", "acdb", "bdca"),  # 60.0%以上 80.0%以上 対前年度(20.0%)以上 対前年度(40.0%)以上
        ("baseline", "cadb", "bdca"),  # –, –, 20.0, 40.0
        ("latest", "bcda", "adcb"),  # 28.0 30.0 35.0 40.0
        ("year_end", "dbca", "acbd"),  # –, 45.0 50.0 70.0
        ("national_average", "dacb", "bcad"),  # 45.0 55.0 65.0 75.0
        ("mark", "dcba", "abcd"),  # not judged, △ ○ ◎
        ("projection", "cabd", "dcab"),  # –, –, –, 35.0
    ],
)
def test_it_sorts_by_each_column_either_way(manager, sortable_plan, column, ascending, descending):
    for sort, expected in ((column, ascending), (f"-{column}", descending)):
        codes = [code for code, _ in kpi_rows(manager.get(sortable_plan, {"sort": sort}).content.decode())]
        assert codes == [f"sort_{c}" for c in expected], sort


@pytest.mark.parametrize("url", [DASHBOARD, "/branches/tochigi/2024/", "/branches/kagoshima/2025/"])
def test_it_keeps_every_row_and_its_mark_when_sorting_a_seed_plan(manager, url):
    """Seed plans mix text and numbers, empty cells and projections: every sort keeps every row intact."""
    unsorted = sorted(kpi_rows(manager.get(url).content.decode()))
    for column in ("area", "measure", "group", "kpi", "target_text", "baseline", "latest", "year_end",
                   "national_average", "mark", "projection"):
        for sort in (column, f"-{column}"):
            assert sorted(kpi_rows(manager.get(url, {"sort": sort}).content.decode())) == unsorted, sort


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_it_exports_csv_with_japanese_headers(manager):
    response = manager.get(DASHBOARD, {"_export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "kpitrack_tochigi_2023.csv" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0] == [
        "分野", "施策", "担当グループ", "KPI", "前々年度実績", "前年度実績", "目標（記載どおり）", "基準変更",
        "基準値", "直近実績", "直近実績の時点", "年度末実績", "評価", "全国平均", "翌年度目標", "年度末見込み",
        "単位", "備考",
    ]
    assert len(rows) == 1 + 19
    offices = next(r for r in rows if r[3] == "健康宣言事業所数")
    assert offices[11] == "1529" and offices[16] == "事業所" and offices[12] == "◎"
    assert (offices[4], offices[5], offices[14]) == ("1177", "1325", "1,640事業所以上")
    assert sorted(r[12] for r in rows[1:]) == sorted(TOCHIGI_2023_MARKS.values())


def test_it_exports_only_the_filtered_rows(manager):
    rows = _csv_rows(manager.get(DASHBOARD, {"mark": "△", "_export": "csv"}))
    assert len(rows) == 1 + 6
    assert {r[12] for r in rows[1:]} == {"△"}


def test_it_exports_the_rows_in_the_order_chosen_on_the_page(manager):
    rows = _csv_rows(manager.get(DASHBOARD, {"sort": "-mark", "_export": "csv"}))
    marks = [r[12] for r in rows[1:]]
    assert marks == sorted(marks, key=lambda m: MARK_RANK[m or "－"], reverse=True)
    assert marks != [r[12] for r in _csv_rows(manager.get(DASHBOARD, {"_export": "csv"}))[1:]]


def test_it_exports_xlsx_that_openpyxl_opens(manager):
    response = manager.get(DASHBOARD, {"_export": "xlsx"})
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]
    assert "kpitrack_tochigi_2023.xlsx" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "栃木支部 令和5年度"
    assert sheet.max_row == 20
    assert sheet.cell(row=1, column=4).value == "KPI"
    assert sheet.cell(row=1, column=13).value == "評価"


def test_it_rejects_an_unknown_export_format_in_japanese(manager):
    response = manager.get(DASHBOARD, {"_export": "pdf"})
    assert response.status_code == 400
    assert "出力形式は csv か xlsx を指定してください。" in response.content.decode()


def test_it_forbids_the_export_to_another_branchs_staff(gifu_staff):
    assert client_for(gifu_staff).get(DASHBOARD, {"_export": "csv"}).status_code == 403


def test_it_shows_projections_for_a_year_without_year_end_actuals(manager):
    plan = PlanFactory(fiscal_year__year=2023)
    on_track = KpiTargetFactory(plan=plan, kpi=KpiFactory(code="proj_on_track"), target_text="50.0%以上")
    at_risk = KpiTargetFactory(plan=plan, kpi=KpiFactory(code="proj_at_risk"), target_text="50.0%以上")
    september = datetime.date(2023, 9, 1)  # six months in: a cumulative rate is scaled by 12 / 6
    KpiActualFactory(target=on_track, monthly=True, month=september, value=Decimal("30.0"))
    KpiActualFactory(target=at_risk, monthly=True, month=september, value=Decimal("20.0"))
    html = manager.get(f"/branches/{plan.branch.code}/2023/").content.decode()
    assert kpi_rows(html) == [("proj_on_track", "－"), ("proj_at_risk", "－")]  # no year end: no official mark
    assert summary_counts(html) == {"◎": 0, "○": 0, "△": 0, "－": 2}
    projections = [_text(p) for p in re.findall(r'<span class="projection[^"]*"[^>]*>(.*?)</span>', html, re.S)]
    assert projections == ["60.0%達成見込み", "40.0%未達のおそれ"]


# -- kpi detail -------------------------------------------------------------------------------------


def test_it_serves_plotly_locally_and_never_from_a_cdn(manager):
    html = manager.get(DETAIL).content.decode()
    sources = re.findall(r'<script[^>]*\bsrc="([^"]*)"', html)
    assert "/static/vendor/plotly/plotly.min.js" in sources
    assert not [s for s in sources if "cdn" in s.lower() or "http" in s.lower()]


def test_it_finds_the_plotly_static_file():
    assert finders.find("vendor/plotly/plotly.min.js") is not None


def test_it_embeds_both_charts_as_json_with_traces(manager):
    html = manager.get("/branches/gifu/2024/kpi/dependent_checkup_rate/").content.decode()  # monthly and year-end
    for block in ("progress-data", "trend-data"):
        chart = json_block(html, block)
        assert chart["data"] and all("type" in trace for trace in chart["data"])
        assert "layout" in chart


def test_it_charts_gifus_monthly_dependent_checkup_progress(manager):
    html = manager.get("/branches/gifu/2024/kpi/dependent_checkup_rate/").content.decode()
    first = json_block(html, "progress-data")["data"][0]
    assert first["x"][:5] == ["4月", "5月", "6月", "7月", "8月"]
    assert first["y"][:5] == [1.2, 2.0, 2.9, 6.4, 9.6]
    assert first["y"][5:] == [None] * 7


def test_it_marks_a_definition_break_on_the_trend_chart(manager):
    html = manager.get("/branches/tochigi/2024/kpi/receipt_assessment_rate/").content.decode()
    layout = json_block(html, "trend-data")["layout"]
    assert [a["text"] for a in layout["annotations"]] == ["令和6年度から基準・算出方法の変更"]
    assert layout["shapes"][0]["x0"] == 2.5  # between FY2023 (index 2) and FY2024 (index 3)
    assert "KPIの変更履歴" in html


def test_it_shows_no_break_for_a_kpi_without_definition_change(manager):
    html = manager.get("/branches/tochigi/2023/kpi/reexam_amount_per_claim/").content.decode()
    layout = json_block(html, "trend-data")["layout"]
    assert layout["annotations"] == [] and layout["shapes"] == []


def test_it_shows_the_kpi_figures_and_mark(manager):
    html = manager.get(DETAIL).content.decode()
    assert "生活習慣病予防健診実施率" in html
    assert "72.2%" in html and "57.7%" in html and "71.7％以上" in html
    assert '<span class="mark mark-above">◎</span>' in html


def test_it_shows_the_trend_across_the_branchs_plan_years(manager):
    html = manager.get("/branches/tochigi/2024/kpi/receipt_assessment_rate/").content.decode()
    trend = json_block(html, "trend-data")
    assert trend["data"][0]["x"] == ["令和3年度", "令和4年度", "前年度（令和5年度）", "令和6年度"]


# -- national matrix --------------------------------------------------------------------------------


def test_it_lists_the_branches_that_have_plans_that_year(manager):
    html = manager.get(MATRIX).content.decode()
    branches = re.findall(r'<th class="branch"><a href="/branches/(\w+)/2023/">', html)
    assert branches == ["tochigi", "gifu", "kagoshima"]  # JIS order; tokyo has only a FY2024 plan
    assert "評価の内訳（3支部）" in html


def test_it_lists_the_four_seed_branches_for_2024(manager):
    html = manager.get("/national/2024/").content.decode()
    branches = re.findall(r'<th class="branch"><a href="/branches/(\w+)/2024/">', html)
    assert branches == ["tochigi", "tokyo", "gifu", "kagoshima"]


def test_it_shows_tochigis_marks_in_the_matrix(manager):
    row = matrix_row(manager.get(MATRIX).content.decode(), "tochigi")
    marks = re.findall(r'<td class="cell mark-(?:above|planned|below)"><a [^>]*>([◎○△])</a></td>', row)
    assert sorted(marks) == sorted(TOCHIGI_2023_MARKS.values())
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["5", "8", "6"]


def test_it_lists_all_47_branches_on_request(manager):
    html = manager.get(MATRIX, {"all": "1"}).content.decode()
    assert html.count('<th class="branch">') == 47
    assert "評価の内訳（47支部）" in html
    assert "沖縄" in html and "北海道" in html


def test_it_links_only_branches_with_a_plan_to_their_dashboard(manager):
    html = manager.get(MATRIX, {"all": "1"}).content.decode()
    links = re.findall(r'<th class="branch"><a href="(/branches/[^"]+)">', html)
    assert links == ["/branches/tochigi/2023/", "/branches/gifu/2023/", "/branches/kagoshima/2023/"]
    for link in links:
        assert manager.get(link).status_code == 200, link
    assert '<th class="branch">北海道</th>' in html


def test_it_links_to_other_years_without_thousands_separators(manager):
    html = manager.get(MATRIX).content.decode()
    assert 'href="/national/2024/"' in html
    assert "2,02" not in html


def test_it_shows_a_fiscal_year_without_plans_as_empty(manager):
    response = manager.get("/national/2020/")
    assert response.status_code == 200
    assert "この年度の事業計画はまだありません。" in response.content.decode()


# -- national kpi -----------------------------------------------------------------------------------


def test_it_ranks_branches_by_their_figure(manager):
    html = manager.get(NATIONAL_KPI).content.decode()
    tbody = html[html.index("<tbody>"):html.index("</tbody>")]
    rows = [[_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in re.findall(r"<tr>(.*?)</tr>", tbody, re.S)]
    assert [(r[0], r[1], r[4], r[6]) for r in rows] == [
        ("1", "栃木", "72.2%", "◎"),
        ("2", "岐阜", "59.5%", "－"),
        ("3", "鹿児島", "50.9%", "△"),
    ]
    assert "全国平均: 57.7%" in html


def test_it_embeds_the_ranking_chart_json(manager):
    html = manager.get(NATIONAL_KPI).content.decode()
    chart = json_block(html, "ranking-data")
    bars = chart["data"][0]
    assert bars["type"] == "bar"
    assert bars["x"] == ["栃木", "岐阜", "鹿児島"]
    assert bars["y"] == [72.2, 59.5, 50.9]
    assert "/static/vendor/plotly/plotly.min.js" in html


def test_it_formats_the_national_average_with_a_thousands_separator(manager):
    html = manager.get("/national/2023/kpi/reexam_amount_per_claim/").content.decode()
    assert "全国平均: 8,472円" in html


def test_it_gives_branches_with_equal_figures_the_same_rank(manager):
    add_plan("hokkaido", 2023, ["lifestyle_checkup_rate"], value="72.2")  # same as Tochigi's 72.2%
    html = manager.get(NATIONAL_KPI).content.decode()
    tbody = html[html.index("<tbody>"):html.index("</tbody>")]
    ranks = [_text(r) for r in re.findall(r'<tr>\s*<td class="num">(.*?)</td>', tbody, re.S)]
    assert ranks == ["1", "1", "3", "4"]  # 北海道 72.2 = 栃木 72.2, then 岐阜, 鹿児島


# -- query counts -----------------------------------------------------------------------------------


def _tochigi_2023_targets() -> list[KpiTarget]:
    return list(KpiTarget.objects.filter(plan__branch__code="tochigi", plan__fiscal_year_id=2023))


def _add_monthly_actuals(targets: list[KpiTarget], months: int, user=None) -> None:
    for target in targets:
        for index in range(months):
            month = datetime.date(2023 + (index >= 9), (index + 3) % 12 + 1, 1)
            KpiActualFactory(target=target, monthly=True, month=month, value=Decimal(10 + index), entered_by=user)


def test_the_dashboard_runs_a_constant_number_of_queries(manager, hq_manager, django_assert_num_queries):
    with django_assert_num_queries(DASHBOARD_QUERIES):
        assert manager.get(DASHBOARD).status_code == 200
    _add_monthly_actuals(_tochigi_2023_targets(), months=6, user=hq_manager)
    plan = Plan.objects.get(branch__code="tochigi", fiscal_year_id=2023)
    for code in ("health_committee_offices", "service_standard_days"):  # rows with no year-end: projected
        target = KpiTargetFactory(plan=plan, kpi=Kpi.objects.get(code=code), measure=None, order=99,
                                  target_text="対前年度以上")
        _add_monthly_actuals([target], months=4)
    caches["default"].clear()  # a first visit again
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = manager.get(DASHBOARD)
    assert "KPI 21件" in response.content.decode()


def test_the_kpi_detail_runs_a_constant_number_of_queries(manager, hq_manager, django_assert_num_queries):
    with django_assert_num_queries(DETAIL_QUERIES):
        assert manager.get(DETAIL).status_code == 200
    target = KpiTarget.objects.get(plan__branch__code="tochigi", plan__fiscal_year_id=2023,
                                   kpi__code="lifestyle_checkup_rate")
    _add_monthly_actuals([target], months=12, user=hq_manager)
    last_year = KpiTarget.objects.get(plan__branch__code="tochigi", plan__fiscal_year_id=2022,
                                      kpi__code="lifestyle_checkup_rate")
    for index in range(6):
        KpiActualFactory(target=last_year, monthly=True, month=datetime.date(2022, 4 + index, 1),
                         value=Decimal(5 + index))
    with django_assert_num_queries(DETAIL_QUERIES - 1):  # the plan kept under the catalog's version
        response = manager.get(DETAIL)
    html = response.content.decode()
    assert "hq-manager" in html  # entered_by shown for each of the 12 actuals
    assert json_block(html, "progress-data")["data"][1]["y"][:6] == [5.0, 6.0, 7.0, 8.0, 9.0, 10.0]


def test_the_national_matrix_runs_a_constant_number_of_queries(manager, django_assert_num_queries):
    with django_assert_num_queries(MATRIX_QUERIES):
        assert manager.get(MATRIX).status_code == 200
    add_plan("hokkaido", 2023, ["lifestyle_checkup_rate", "employer_checkup_data_rate", "dependent_checkup_rate"])
    add_plan("okinawa", 2023, ["lifestyle_checkup_rate", "insured_guidance_rate"])
    with django_assert_num_queries(MATRIX_QUERIES):
        response = manager.get(MATRIX)
    assert "評価の内訳（5支部）" in response.content.decode()


def test_the_national_matrix_after_saves_reads_the_changed_rows_in_a_constant_number_of_queries(
    manager, django_assert_num_queries
):
    """After saves in a few branches, their rows are read through the result cache: the same queries however many
    targets and branches (up to selectors.FEW_BRANCHES) changed."""
    manager.get(MATRIX)  # every row kept
    targets = list(KpiTarget.objects.filter(plan__fiscal_year_id=2023).select_related("plan").order_by("plan", "pk"))
    by_branch: dict[int, list[KpiTarget]] = {}
    for target in targets:
        by_branch.setdefault(target.plan.branch_id, []).append(target)
    first, second = list(by_branch.values())[:2]

    def save(target: KpiTarget, value: str) -> None:
        services.actual_record(target=target, period=KpiActual.Period.YEAR_END, month=None, value=Decimal(value))

    save(first[0], "11.0")
    with django_assert_num_queries(MATRIX_AFTER_SAVE_QUERIES + 2):  # + the year's averages and breaks, then kept
        assert manager.get(MATRIX).status_code == 200
    for index, target in enumerate(first[:3] + second[:2]):
        save(target, f"{20 + index}.0")
    with django_assert_num_queries(MATRIX_AFTER_SAVE_QUERIES):
        assert manager.get(MATRIX).status_code == 200
    save(second[0], "31.0")
    with django_assert_num_queries(MATRIX_AFTER_SAVE_QUERIES):
        assert manager.get(MATRIX).status_code == 200


def test_the_national_kpi_runs_a_constant_number_of_queries(manager, django_assert_num_queries):
    with django_assert_num_queries(NATIONAL_KPI_QUERIES):
        assert manager.get(NATIONAL_KPI).status_code == 200
    add_plan("hokkaido", 2023, ["lifestyle_checkup_rate"], value="80.0")
    add_plan("okinawa", 2023, ["lifestyle_checkup_rate"], value="40.0")
    with django_assert_num_queries(NATIONAL_KPI_QUERIES):
        response = manager.get(NATIONAL_KPI)
    chart = json_block(response.content.decode(), "ranking-data")
    assert chart["data"][0]["x"] == ["北海道", "栃木", "岐阜", "鹿児島", "沖縄"]


def test_it_draws_a_projected_mark_pale_and_labelled_in_the_ranking_chart(hq_manager: Any) -> None:
    html = client_for(hq_manager).get("/national/2024/kpi/lifestyle_checkup_rate/").content.decode()
    figure = json.loads(re.search(r'id="ranking-data" type="application/json">(.*?)</script>', html, re.S).group(1))
    bars = figure["data"][0]
    # Kagoshima (September) has only a mid-year figure in FY2024: its colour is a projection, not a mark.
    # Gifu's August figure is not ranked against it, so it is not drawn.
    assert bars["x"] == ["鹿児島"]
    assert bars["text"] == ["△見込み"]
    assert bars["marker"]["opacity"] == [0.45]
    assert bars["marker"]["pattern"]["shape"] == ["/"]
