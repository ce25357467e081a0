"""Dashboards, second pass (issue 9): HQ's first look, the published table's columns, notes, and the filters.

The seed (conftest) holds Tochigi FY2021–2024 with its published table (令和５年度 栃木支部事業計画実施状況), Gifu
and Tokyo FY2024 with mid-year figures only, and Kagoshima's FY2025 draft plan (targets, no actuals).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.test import Client

from plans.exports import HEADERS
from plans.models import FiscalYear, Kpi, KpiActual, KpiChange, KpiTarget, Plan
from plans.selectors import (
    TRANSCRIBER_MARKERS,
    TRANSCRIBER_PREFIXES,
    plan_results,
    published_columns,
    published_remark,
)
from tests.conftest import client_for
from tests.factories import KpiActualFactory, KpiFactory, KpiTargetFactory, PlanFactory

pytestmark = pytest.mark.django_db

TOCHIGI_2023 = "/branches/tochigi/2023/"
TOCHIGI_2024 = "/branches/tochigi/2024/"
GIFU_2024 = "/branches/gifu/2024/"
SEED_DIR = Path(settings.BASE_DIR) / "fixtures" / "seed"


@pytest.fixture
def manager(hq_manager) -> Client:
    return client_for(hq_manager)


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


def table_rows(html: str) -> dict[str, dict[str, str]]:
    """KPI code → {column css/name: cell text} of the dashboard's KPI table."""
    thead = html[html.index("<thead"):html.index("</thead>")]
    headers = [_text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", thead, re.S)]
    tbody = html[html.index("<tbody"):html.index("</tbody>")]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", tbody, re.S):
        code = re.search(r"/kpi/([\w-]+)/", row)
        assert code, row
        cells = [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows[code.group(1)] = dict(zip(headers, cells, strict=True))
    return rows


def csv_rows(response) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == HEADERS
    return [dict(zip(HEADERS, row, strict=True)) for row in rows[1:]]


def codes(results) -> list[str]:
    return [r.kpi.code for r in results]


# -- HQ's first look: home ---------------------------------------------------------------------------


def test_it_opens_hq_on_the_newest_year_with_any_figures_not_the_draft_plan(manager):
    assert Plan.objects.filter(fiscal_year_id=2025).exists()  # Kagoshima's FY2025 draft plan
    assert not KpiActual.objects.filter(target__plan__fiscal_year_id=2025).exists()
    assert manager.get("/")["Location"] == "/national/2024/"


def test_it_opens_hq_on_a_year_once_a_monthly_figure_is_entered_there(manager):
    target = KpiTarget.objects.filter(plan__fiscal_year_id=2025).first()
    KpiActualFactory(target=target, monthly=True, month=datetime.date(2025, 4, 1), value=Decimal("10.0"))
    assert manager.get("/")["Location"] == "/national/2025/"


def test_it_opens_hq_on_the_newest_plan_when_no_year_has_figures(manager):
    KpiActual.objects.all().delete()
    assert manager.get("/")["Location"] == "/national/2025/"


# -- the matrix: links, heads, projected split, at-risk filter ---------------------------------------


def test_it_links_each_matrix_cell_to_that_branchs_kpi_page_with_the_tooltip(manager):
    html = manager.get("/national/2023/").content.decode()
    link = re.search(r'<td class="cell mark-above"><a href="/branches/tochigi/2023/kpi/lifestyle_checkup_rate/"'
                     r' title="([^"]*)">◎</a></td>', html)
    assert link, "no link for Tochigi's lifestyle_checkup_rate cell"
    assert link.group(1) == "生活習慣病予防健診実施率: 72.2%（目標 71.7％以上）"  # the target as written
    assert manager.get("/branches/tochigi/2023/kpi/lifestyle_checkup_rate/").status_code == 200


def test_it_links_projected_and_unjudged_cells_but_not_empty_ones(manager):
    html = manager.get("/national/2024/").content.decode()
    projected = r'<td class="cell projected [^"]*"><a href="/branches/gifu/2024/kpi/\w+/" title="[^"]*見込み'
    assert re.search(projected, html)
    assert re.search(r'<td class="cell mark-none"><a href="/branches/tochigi/2024/kpi/\w+/" title="[^"]*評価なし', html)
    assert '<td class="cell empty"></td>' in html
    hrefs = re.findall(r'<td class="cell[^"]*"><a href="([^"]+)"', html)
    assert hrefs and all(manager.get(h).status_code == 200 for h in hrefs[:5])


def test_it_shows_the_projected_split_beside_the_official_one_on_the_matrix(manager):
    html = manager.get("/national/2024/").content.decode()
    results = [r for plan in Plan.objects.filter(fiscal_year_id=2024) for r in plan_results(plan)]
    verdicts = [r.projection.on_track if r.projection else None for r in results if r.mark is None]
    on_track, at_risk = verdicts.count(True), verdicts.count(False)
    assert on_track and at_risk  # the seed has both in FY2024
    assert len(verdicts) == 72  # ◎0 ○0 △0 －72: every FY2024 KPI is unmarked
    text = re.sub(r"\s+", "", _text(html))
    assert "見込み（公式の評価ではありません）:" in text
    assert f"達成見込み{on_track}・未達のおそれ{at_risk}・判定不可{72 - on_track - at_risk}" in text


def test_it_shows_the_projected_split_on_the_branch_dashboard(manager):
    results = plan_results(Plan.objects.get(branch__code="gifu", fiscal_year_id=2024))
    verdicts = [r.projection.on_track if r.projection else None for r in results if r.mark is None]
    text = re.sub(r"\s+", "", _text(manager.get(GIFU_2024).content.decode()))
    on_track, at_risk, unjudgeable = verdicts.count(True), verdicts.count(False), verdicts.count(None)
    expected = f"達成見込み{on_track}・未達のおそれ{at_risk}・判定不可{unjudgeable}"
    assert expected in text


def test_it_leaves_out_the_projected_split_when_every_kpi_has_its_mark(manager):
    assert "見込み（公式の評価ではありません）:" not in manager.get(TOCHIGI_2023).content.decode()


def test_it_shows_only_branches_with_an_at_risk_kpi_on_request(manager):
    html = manager.get("/national/2024/", {"at_risk": "1"}).content.decode()
    shown = re.findall(r'<th class="branch"><a href="/branches/(\w+)/2024/">', html)
    expected = [
        code for code in ("tochigi", "tokyo", "gifu", "kagoshima")
        if any(r.mark is None and r.projection and r.projection.on_track is False
               for r in plan_results(Plan.objects.get(branch__code=code, fiscal_year_id=2024)))
    ]
    assert shown == expected
    assert "tochigi" not in shown  # Tochigi has no FY2024 figures: nothing is at risk
    assert "at-risk" in html


def test_it_says_so_when_no_branch_has_an_at_risk_kpi(manager):
    html = manager.get("/national/2023/", {"at_risk": "1"}).content.decode()
    assert "未達のおそれがあるKPIを持つ支部はありません。" in html


# -- branch dashboard: picker and at-risk filter -----------------------------------------------------


def pickers(html: str) -> tuple[list[str], list[str]]:
    branch = re.search(r'<select name="branch">.*?</select>', html, re.S).group(0)
    year = re.search(r'<select name="year">.*?</select>', html, re.S).group(0)
    return re.findall(r'value="(\w+)"', branch), re.findall(r'value="(\d+)"', year)


def test_it_offers_hq_only_branches_with_a_plan_that_year_and_that_branchs_years(manager):
    assert pickers(manager.get("/branches/kagoshima/2025/").content.decode()) == (
        ["kagoshima"], ["2023", "2024", "2025"]
    )
    assert pickers(manager.get(GIFU_2024).content.decode()) == (
        ["tochigi", "tokyo", "gifu", "kagoshima"], ["2023", "2024"]
    )


def test_the_branch_picker_follows_a_plan_created_or_deleted_and_a_branch_renamed(manager):
    """The picker's options are kept per catalog version: which plans exist and the branches' names are in it."""
    from branches.models import Branch

    assert pickers(manager.get(GIFU_2024).content.decode())[0] == ["tochigi", "tokyo", "gifu", "kagoshima"]
    newcomer = Branch.objects.exclude(plans__fiscal_year_id=2024).order_by("jis_code").first()
    assert newcomer is not None
    plan = PlanFactory(branch=newcomer, fiscal_year=FiscalYear.objects.get(year=2024))
    assert newcomer.code in pickers(manager.get(GIFU_2024).content.decode())[0]
    plan.delete()
    assert pickers(manager.get(GIFU_2024).content.decode())[0] == ["tochigi", "tokyo", "gifu", "kagoshima"]
    gifu = Branch.objects.get(code="gifu")
    gifu.name = "岐阜（改称試験）"
    gifu.save()
    html = manager.get(GIFU_2024).content.decode()
    assert '<option value="gifu" selected>岐阜（改称試験）</option>' in html
    # the plan, its branch and its year are kept per catalog version too
    assert re.search(r"<h1>岐阜（改称試験）[^<]* <span", html)
    assert re.search(r"<h1>岐阜（改称試験）[^<]* <span", manager.get(f"{GIFU_2024}plan/").content.decode())


def test_it_offers_staff_only_their_own_branch(gifu_staff):
    assert pickers(client_for(gifu_staff).get(GIFU_2024).content.decode()) == (["gifu"], ["2023", "2024"])


def test_every_pair_the_picker_offers_exists(manager):
    for url in (TOCHIGI_2023, GIFU_2024, "/branches/kagoshima/2025/"):
        year = url.rstrip("/").rsplit("/", 1)[1]
        branches, _years = pickers(manager.get(url).content.decode())
        for code in branches:
            assert manager.get(f"/branches/{code}/{year}/").status_code == 200, (code, year)


def test_it_filters_the_dashboard_to_at_risk_kpis(manager):
    results = plan_results(Plan.objects.get(branch__code="gifu", fiscal_year_id=2024))
    expected = [r.kpi.code for r in results if r.mark is None and r.projection and r.projection.on_track is False]
    assert expected
    html = manager.get(GIFU_2024, {"mark": "at_risk"}).content.decode()
    assert sorted(table_rows(html)) == sorted(expected)
    assert f"{len(expected)}件を表示（全{len(results)}件）" in html
    assert '<option value="at_risk" selected>未達のおそれ（見込み）</option>' in html


def test_it_exports_only_the_at_risk_rows_when_so_filtered(manager):
    rows = csv_rows(manager.get(GIFU_2024, {"mark": "at_risk", "_export": "csv"}))
    assert rows and all(row["評価"] == "" and row["年度末見込み"] for row in rows)


# -- the published table --------------------------------------------------------------------------------


def test_it_has_every_column_of_the_published_table(manager):
    html = manager.get(TOCHIGI_2023).content.decode()
    headers = _text(html[html.index("<thead"):html.index("</thead>")])
    for header in ("前々年度実績", "前年度実績", "目標", "年度末実績", "評価", "全国平均", "翌年度目標", "備考"):
        assert header in headers


# Rows of 令和５年度 栃木支部事業計画実施状況: 令和３年度実績, 令和４年度実績, 令和６年度目標.
PUBLISHED_TOCHIGI_2023 = {
    "service_standard_rate": ("100.00%", "100.00%", "100%"),
    "mail_application_rate": ("94.6%", "93.9%", "対前年度以上"),
    "reexam_amount_per_claim": ("5,758円", "5,684円", "対前年度以上"),
    "card_recovery_rate": ("86.78%", "89.48%", "対前年度以上"),
    "health_declaration_offices": ("1,177事業所", "1,325事業所", "1,640事業所以上"),
    "employer_checkup_data_rate": ("7.6%", "9.4%", "10.1%以上"),
    "opinion_statements": ("実施", "実施", "実施"),
    "single_bid_ratio": ("0.0%", "0.0%", "15%以下"),
}


@pytest.mark.parametrize(("kpi", "published"), PUBLISHED_TOCHIGI_2023.items())
def test_it_shows_the_two_previous_years_and_next_years_target_as_published(manager, kpi, published):
    row = table_rows(manager.get(TOCHIGI_2023).content.decode())[kpi]
    assert (row["前々年度実績"], row["前年度実績"], row["翌年度目標"]) == published


def test_it_shows_deleted_next_year_against_this_year_as_the_documents_do(manager):
    rows = table_rows(manager.get(TOCHIGI_2023).content.decode())
    for kpi in ("judo_multi_visit_rate", "dependent_confirmation_rate"):  # 削除 in FY2024
        assert rows[kpi]["翌年度目標"] == "削除"
        assert "翌年度削除" in rows[kpi]["KPI"]
        assert rows[kpi]["備考"] == "－"  # the note 「削除」 is not repeated
    assert "翌年度削除" not in rows["mail_application_rate"]["KPI"]


def test_it_shows_a_definition_change_beside_the_target_of_the_year_it_takes_effect(manager):
    rows_2023 = table_rows(manager.get(TOCHIGI_2023).content.decode())
    assert rows_2023["receipt_assessment_rate"]["翌年度目標"] == "※基準変更 対前年度以上"
    assert rows_2023["lifestyle_checkup_rate"]["翌年度目標"] == "※算出方法変更 65.9%以上"
    assert "※基準変更" not in rows_2023["receipt_assessment_rate"]["目標"]  # the change is FY2024's
    rows_2024 = table_rows(manager.get(TOCHIGI_2024).content.decode())
    assert rows_2024["receipt_assessment_rate"]["目標"] == "対前年度以上 ※基準変更"
    assert rows_2024["lifestyle_checkup_rate"]["目標"] == "65.9%以上 ※算出方法変更"
    assert "※" not in rows_2024["mail_application_rate"]["目標"]


def test_it_shows_empty_previous_years_and_no_next_year_where_there_are_none(manager):
    rows = table_rows(manager.get("/branches/tochigi/2021/").content.decode())
    lifestyle = rows["lifestyle_checkup_rate"]
    assert lifestyle["前々年度実績"] == "－" and lifestyle["前年度実績"] == "－"
    rows = table_rows(manager.get("/branches/kagoshima/2025/").content.decode())
    assert {row["翌年度目標"] for row in rows.values()} == {"－"}  # no FY2026 plan


def test_it_reads_the_published_columns_in_one_query_whatever_the_plans_size(django_assert_num_queries):
    plan = Plan.objects.get(branch__code="tochigi", fiscal_year_id=2023)
    with django_assert_num_queries(1):
        before = published_columns(plan)
    for code in ("service_standard_days", "health_committee_offices"):
        kpi = Kpi.objects.get(code=code)
        for year in (2021, 2022, 2023):
            target = KpiTargetFactory(plan=Plan.objects.get(branch__code="tochigi", fiscal_year_id=year), kpi=kpi,
                                      measure=None, target_text="対前年度以上")
            KpiActualFactory(target=target, value=Decimal("50.0"))
    with django_assert_num_queries(1):
        after = published_columns(plan)
    assert len(after) == len(before) + 2
    assert after[Kpi.objects.get(code="service_standard_days").pk].two_years_ago == Decimal("50.0")


# -- notes: transcriber notes hidden, published remarks shown --------------------------------------------


def seed_target_notes() -> list[str]:
    notes = []
    for path in sorted(SEED_DIR.glob("*.json")):
        for plan in json.loads(path.read_text(encoding="utf-8")).get("plans") or []:
            notes += [kpi["note"] for kpi in plan.get("kpis") or [] if kpi.get("note")]
    return notes


def test_no_transcriber_note_of_the_seed_survives_as_a_published_remark():
    notes = seed_target_notes()
    assert any("抽出テキスト" in note for note in notes)  # the seed does hold transcriber notes
    for note in notes:
        remark = published_remark(note)
        assert not remark.startswith(TRANSCRIBER_PREFIXES), note
        assert not any(marker in remark for marker in TRANSCRIBER_MARKERS), note


@pytest.mark.parametrize(
    ("note", "remark"),
    [
        ("※基準変更", "※基準変更"),
        ("一般競争入札案件11件", "一般競争入札案件11件"),
        ("（令和６年度新設）", "（令和６年度新設）"),
        ("被保険者（40歳以上）（実施対象者数：2,404,374人）（実施見込者数：1,442,600人）；実績：－（KPI設定項目一覧表）",
         "被保険者（40歳以上）（実施対象者数：2,404,374人）（実施見込者数：1,442,600人）"),
        ("KPI達成状況：－。グラフ「再審査定率（単月）」の数値は抽出テキストになし。", ""),
        ("KPI達成状況：－", ""),
        ("令和５年度実績欄の「①122.4円」（判断：KPI表の令和５年度実績列と解釈）", ""),
        ("KPI設定項目一覧表では目標「40.00％以上」", ""),
        ("", ""),
    ],
)
def test_it_keeps_the_published_remark_and_drops_the_transcribers_note(note, remark):
    assert published_remark(note) == remark


def test_it_hides_transcriber_notes_from_the_dashboard_and_its_exports(manager):
    for url in (GIFU_2024, "/branches/tokyo/2024/", "/branches/gifu/2023/"):
        html = manager.get(url).content.decode()
        exported = manager.get(url, {"_export": "csv"}).content.decode("utf-8-sig")
        sheet = openpyxl.load_workbook(io.BytesIO(manager.get(url, {"_export": "xlsx"}).content)).active
        workbook_text = " ".join(str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value)
        for text in (html, exported, workbook_text):
            for marker in ("抽出テキスト", "KPI達成状況：", "（判断：", "KPI設定項目一覧表"):
                assert marker not in text, (url, marker)


def test_it_shows_published_remarks_in_the_remark_column(manager):
    rows = table_rows(manager.get(TOCHIGI_2023).content.decode())
    assert rows["single_bid_ratio"]["備考"] == "一般競争入札案件11件"
    tokyo = table_rows(manager.get("/branches/tokyo/2024/").content.decode())
    assert tokyo["refund_recovery_rate"]["備考"] == "（令和６年度新設）"
    assert tokyo["lifestyle_checkup_rate"]["備考"].startswith("被保険者（40歳以上）")


def test_it_keeps_the_source_note_for_admins(manager):
    target = KpiTarget.objects.get(
        plan__branch__code="gifu", plan__fiscal_year_id=2024, kpi__code="receipt_assessment_rate"
    )
    assert "抽出テキスト" in target.note  # unchanged in the database and the admin


# -- exports: the same published columns ------------------------------------------------------------------


def test_it_exports_the_published_columns_to_csv(manager):
    rows = {row["KPI"]: row for row in csv_rows(manager.get(TOCHIGI_2023, {"_export": "csv"}))}
    offices = rows["健康宣言事業所数"]
    published = (offices["前々年度実績"], offices["前年度実績"], offices["翌年度目標"])
    assert published == ("1177", "1325", "1,640事業所以上")
    judo = next(row for name, row in rows.items() if name.startswith("柔道整復施術療養費"))
    assert judo["翌年度目標"] == "削除" and judo["備考"] == ""
    receipt = rows["社会保険診療報酬支払基金と合算したレセプト点検の査定率"]
    assert receipt["翌年度目標"] == "※基準変更 対前年度以上" and receipt["備考"] == ""
    assert rows["一般競争入札に占める一者応札案件の割合"]["備考"] == "一般競争入札案件11件"
    rows_2024 = csv_rows(manager.get(TOCHIGI_2024, {"_export": "csv"}))
    changed = {row["KPI"]: row["基準変更"] for row in rows_2024 if row["基準変更"]}
    assert changed["生活習慣病予防健診実施率"] == "※算出方法変更"
    assert len(changed) == 5  # receipt, refund, lifestyle, medical visit, committee coverage (FY2024 lineage)


def test_it_exports_the_published_columns_to_xlsx_as_numbers(manager):
    sheet = openpyxl.load_workbook(io.BytesIO(manager.get(TOCHIGI_2023, {"_export": "xlsx"}).content)).active
    header = [cell.value for cell in sheet[1]]
    assert tuple(header) == HEADERS
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("KPI")].value == "健康宣言事業所数")
    two_years_ago = row[header.index("前々年度実績")]
    assert two_years_ago.value == Decimal("1177") or two_years_ago.value == 1177
    assert "事業所" in two_years_ago.number_format
    assert row[header.index("翌年度目標")].value == "1,640事業所以上"


def test_it_marks_a_kpi_deleted_next_year_from_the_lineage_not_the_note(manager):
    plan = PlanFactory(fiscal_year=FiscalYear.objects.get(year=2023))
    kpi = KpiFactory()
    KpiTargetFactory(plan=plan, kpi=kpi, target_text="50.0%以上")
    url = f"/branches/{plan.branch.code}/2023/"
    assert table_rows(manager.get(url).content.decode())[kpi.code]["翌年度目標"] == "－"
    KpiChange.objects.create(kpi=kpi, fiscal_year_id=2024, change=KpiChange.Change.DELETED)
    assert table_rows(manager.get(url).content.decode())[kpi.code]["翌年度目標"] == "削除"
