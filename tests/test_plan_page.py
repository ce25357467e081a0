"""The plan page (/branches/<code>/<year>/plan/): areas → measures → KPIs, progress and the budget table.

Counts are checked against the seed (fixtures/seed/*.json): Tokyo FY2024 has 85 measures with a progress report
(○ 69, △ 5, － 11), Gifu FY2024 18 (令和6年度上期), Tochigi FY2023 25 (令和5年度) and 17 budget lines whose
sums per budget match the 総計 rows of 令和５年度 栃木支部 予算の執行実績 (but see the 医療費適正化等予算 note).
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client
from django.utils import translation

from plans.models import Area, BudgetLine, Kpi, MeasureProgress, Plan
from plans.selectors import BudgetTotal, MeasureNode, plan_outline
from tests.conftest import client_for
from tests.factories import (
    KpiActualFactory,
    KpiFactory,
    KpiTargetFactory,
    MeasureFactory,
    PlanFactory,
    member,
)

pytestmark = pytest.mark.django_db

TOCHIGI = "/branches/tochigi/2023/plan/"
TOKYO = "/branches/tokyo/2024/plan/"
GIFU = "/branches/gifu/2024/plan/"

#: Session, user with membership, plan with its branch (plan_or_404), measures, progress, the targets' stamps,
#: the results computed from rows (targets, their and last year's actuals, the year's national averages and
#: lineage breaks), budget, years, the data versions (ETag). A first visit: nothing in the cache.
PLAN_PAGE_QUERIES = 13


@pytest.fixture
def manager(hq_manager) -> Client:
    return client_for(hq_manager)


def _html(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment)).strip()


def _progress_marks(html: str) -> list[tuple[str, str]]:
    """(css class, symbol) of each measure's 評価, in page order."""
    return re.findall(r'<span class="progress-eval">.*?<span class="mark ([\w-]+)"[^>]*>(.*?)</span>', html, re.S)


def _article(html: str, key: str) -> str:
    """A measure's own content: from its <article> to its first sub-measure or its end."""
    start = rf'<article class="measure[^"]*" id="measure-{re.escape(key)}">'
    match = re.search(rf"{start}(.*?)(?:<article|</article>)", html, re.S)
    assert match, f"no measure {key}"
    return match.group(1)


def _budget_rows(html: str, kinds: str = "budget-category|budget-line|subtotal|total") -> list[list[str]]:
    """The cells' text of each row of the budget table: a 区分 header row, then its lines; totals at the end."""
    rows = re.findall(rf'<tr class="(?:{kinds})">(.*?)</tr>', html, re.S)
    return [[_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]


# -- who may see it ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["tochigi_staff", "tochigi_manager", "hq_manager"])
def test_it_shows_the_plan_to_the_branchs_staff_manager_and_headquarters(request, persona):
    html = _html(client_for(request.getfixturevalue(persona)), TOCHIGI)
    assert "事業計画" in html and "健全な財政運営" in html


@pytest.mark.parametrize("persona", ["gifu_staff", "outsider"])
def test_it_forbids_the_plan_to_another_branchs_staff_and_to_users_without_membership(request, persona):
    response = client_for(request.getfixturevalue(persona)).get(TOCHIGI)
    assert response.status_code == 403
    assert "この支部のページを見る権限がありません。" in response.content.decode()


def test_it_redirects_anonymous_visitors_to_the_login_page():
    response = Client().get(TOCHIGI)
    assert response.status_code == 302 and response["Location"] == f"/accounts/login/?next={TOCHIGI}"


@pytest.mark.parametrize("user", ["hq_manager", None])
def test_it_rejects_post_with_405(request, user):
    client = client_for(request.getfixturevalue(user)) if user else Client()
    assert client.post(TOCHIGI).status_code == 405


def test_it_404s_for_an_unknown_branch(manager):
    assert manager.get("/branches/atlantis/2023/plan/").status_code == 404


def test_it_404s_for_a_year_without_a_plan_and_says_which(tochigi_staff):
    response = client_for(tochigi_staff).get("/branches/tochigi/2030/plan/")
    assert response.status_code == 404
    assert "栃木支部の令和12年度の事業計画はありません。" in response.content.decode()


def test_it_forbids_rather_than_404s_a_missing_year_of_someone_elses_branch(gifu_staff):
    assert client_for(gifu_staff).get("/branches/tochigi/2030/plan/").status_code == 403


def test_it_is_named_plan_page():
    from django.urls import reverse

    assert reverse("plan_page", args=["tochigi", 2023]) == TOCHIGI


# -- the seed's progress and budget, shown at last ---------------------------------------------------


def test_it_shows_tokyos_85_measure_evaluations(manager):
    marks = _progress_marks(_html(manager, TOKYO))
    assert len(marks) == 85
    assert sorted({(css, mark): marks.count((css, mark)) for css, mark in marks}.items()) == [
        (("mark-below", "△"), 5),
        (("mark-none", "－"), 11),
        (("mark-planned", "○"), 69),
    ]


def test_it_shows_gifus_18_progress_reports_with_their_period(manager):
    html = _html(manager, GIFU)
    assert html.count('<div class="progress">') == 18
    assert html.count('<span class="period">令和6年度上期</span>') == 18
    assert "マイナ保険証Q＆A" in html  # 実施状況 and 今後の実施予定 of ① ＩＣＴ化の推進


def test_it_shows_tochigis_25_progress_reports(manager):
    html = _html(manager, TOCHIGI)
    assert html.count('<div class="progress">') == 25
    assert html.count("<dt>実施状況</dt>") == 25 and html.count("<dt>今後の実施予定</dt>") == 25
    assert "第４期医療費適正化計画等の策定に当たり" in _article(html, "1-1")


def test_it_shows_tochigis_17_budget_lines_with_yen_and_rates(manager):
    html = _html(manager, TOCHIGI)
    lines = _budget_rows(html, "budget-line")
    assert len(lines) == 17
    assert lines[3] == ["各種メディアを活用したインセンティブ広報", "5,000,000円", "5,511,000円", "110.2%"]
    assert lines[1] == ["医療機関等を通じた患者へのジェネリック医薬品情報提供", "135,000円", "0円", "0.0%"]
    assert [row[0] for row in _budget_rows(html, "budget-category")] == [
        "区分医療費適正化等予算／医療費適正化対策",
        "区分医療費適正化等予算／広報・意見発信",
        "区分保健事業予算／健診経費",
        "区分保健事業予算／保健指導経費・重症化予防事業経費（その他の経費含む）",
        "区分保健事業予算／コラボヘルス事業経費",
        "区分保健事業予算／その他の経費",
        "区分その他の保健事業（特別枠）予算／特別枠",
    ]


def test_it_totals_the_budget_per_budget_and_overall(manager):
    rows = _budget_rows(_html(manager, TOCHIGI), "subtotal|total")
    # 保健事業予算 and 特別枠 match the document's 総計 rows (52,644,000 / 38,346,941 / 72.8%, 1,623,600 …).
    # The document prints 12,585,000 for 医療費適正化等予算, yet its own sub-rows (2,045,000 + 10,541,000) and
    # lines add up to 12,586,000: kpitrack shows the sum of the lines.
    assert rows == [
        ["医療費適正化等予算 計", "12,586,000円", "11,591,614円", "92.1%"],
        ["保健事業予算 計", "52,644,000円", "38,346,941円", "72.8%"],
        ["その他の保健事業（特別枠）予算 計", "1,623,600円", "1,551,027円", "95.5%"],
        ["合計", "66,853,600円", "51,489,582円", "77.0%"],
    ]


def test_it_says_when_a_plan_has_no_budget(manager):
    html = _html(manager, TOKYO)
    assert "この事業計画には予算の執行状況が登録されていません。" in html
    assert _text(re.search(r'<p class="plan-counts">(.*?)</p>', html, re.S).group(1)) == (
        "施策 109件（うち進捗の記載 85件）・KPI 17件"
    )


def test_it_counts_measures_progress_kpis_and_budget_lines(manager):
    counts = re.search(r'<p class="plan-counts">(.*?)</p>', _html(manager, TOCHIGI), re.S).group(1)
    assert _text(counts) == "施策 29件（うち進捗の記載 25件）・KPI 19件・予算 17事業"
    counts = re.search(r'<p class="plan-counts">(.*?)</p>', _html(manager, "/branches/tochigi/2021/plan/"), re.S)
    assert _text(counts.group(1)) == "KPI 19件"


def test_it_leaves_unstated_spending_out_of_the_totals_and_says_so(manager):
    plan = PlanFactory(fiscal_year__year=2023)
    BudgetLine.objects.create(plan=plan, category="A", programme="x", budget_amount=1000, spent_amount=500, order=1)
    BudgetLine.objects.create(plan=plan, category="A", programme="y", budget_amount=1000, spent_amount=None, order=2)
    html = _html(manager, f"/branches/{plan.branch.code}/2023/plan/")
    assert _budget_rows(html) == [
        ["区分A"],
        ["x", "1,000円", "500円", "50.0%"],
        ["y", "1,000円", "－", "－"],
        ["合計", "2,000円", "500円", "25.0%"],  # one budget: no subtotal row
    ]
    assert "執行額の記載がない事業が1件あります。" in html


def test_budget_totals_use_the_lines_rate_rule():
    assert BudgetTotal("", Decimal(3), Decimal(2), lines=1, unstated=0).execution_rate == Decimal("66.7")
    assert BudgetTotal("", Decimal(0), Decimal(0), lines=1, unstated=0).execution_rate is None
    assert BudgetTotal("", Decimal(5), None, lines=1, unstated=1).execution_rate is None


# -- areas, measures, badges ------------------------------------------------------------------------


def test_it_names_the_areas_from_the_area_model(manager):
    Area.objects.filter(number=2).update(name="戦略的保険者機能（改）")
    html = _html(manager, TOCHIGI)
    assert [_text(h) for h in re.findall(r'<section class="plan-area" id="area-\d">\s*<h2>(.*?)</h2>', html, re.S)] == [
        "分野1 基盤的保険者機能",
        "分野2 戦略的保険者機能（改）",
        "分野3 組織・運営体制",
    ]


def test_it_numbers_measures_as_written_and_indents_children_below_their_parent(manager):
    html = _html(manager, TOKYO)
    keys = re.findall(r'<article class="(measure(?: sub)?)" id="measure-([\w-]+)">', html)
    assert keys[:3] == [("measure", "1-1"), ("measure sub", "1-1-1"), ("measure sub", "1-1-2")]
    assert len(keys) == 109
    parent = html[html.index('id="measure-1-1"'):html.index('<article class="measure" id="measure-1-2"')]
    assert parent.count("<article") == 3 and parent.count("</article>") == 4  # ①②③ inside Ⅰ, then Ⅰ closes
    assert '<span class="measure-no">Ⅰ．</span> 健全な財政運営' in _article(html, "1-1")
    assert '<span class="measure-no">①</span>' in _article(html, "1-1-1")


def test_it_shows_importance_and_difficulty_badges_with_their_text_once(manager):
    article = _article(_html(manager, TOCHIGI), "1-1")
    assert '<p class="why"><span class="badge badge-importance">【重要度：高】</span> 協会けんぽは約4,000万' in article
    assert '<p class="why"><span class="badge badge-difficulty">【困難度：高】</span> 協会けんぽの財政は' in article
    assert article.count("【重要度：高】") == 1 and article.count("【困難度：高】") == 1


def test_it_shows_a_badge_without_explanation_on_its_own(manager):
    measure = MeasureFactory(plan=PlanFactory(fiscal_year__year=2023), importance_high=True, difficulty_high=True)
    article = _article(_html(manager, f"/branches/{measure.plan.branch.code}/2023/plan/"), measure.key)
    assert '<span class="badge badge-importance">【重要度：高】</span>' in article
    assert '<span class="badge badge-difficulty">【困難度：高】</span>' in article
    assert 'class="why"' not in article


def test_it_shows_no_badge_for_a_measure_of_ordinary_importance(manager):
    article = _article(_html(manager, TOCHIGI), "1-3")
    assert "重要度" not in article and "困難度" not in article


def test_it_shows_the_group_and_folds_the_body_in_details(manager):
    article = _article(_html(manager, TOCHIGI), "1-2")
    assert "担当：業務グループ" in article
    assert '<details class="measure-body"><summary>施策の内容</summary>' in article
    assert "サービススタンダード：10日間" in article.split("<details")[1]


def test_it_escapes_the_plans_own_text(manager):
    measure = MeasureFactory(plan=PlanFactory(fiscal_year__year=2023), body="<script>alert(1)</script>\n二行目")
    html = _html(manager, f"/branches/{measure.plan.branch.code}/2023/plan/")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>二行目" in html and "<script>alert" not in html


def test_explanations_drop_the_badges_own_words():
    measure = MeasureFactory.build(importance_text="【重要度：高】 理由", difficulty_text="別の理由")
    node = MeasureNode(measure=measure)
    assert (node.importance_text, node.difficulty_text) == ("理由", "別の理由")


# -- KPIs under their measure ------------------------------------------------------------------------


def test_it_lists_each_measures_kpis_with_target_figure_mark_and_link(manager):
    html = _html(manager, TOCHIGI)
    link = '<a class="kpi-name" href="/branches/tochigi/2023/kpi/lifestyle_checkup_rate/">'
    kpi = re.search(rf'<li class="plan-kpi">\s*{link}(.*?)</li>', html, re.S)
    assert kpi, "生活習慣病予防健診 is not listed"
    text = _text(kpi.group(1))
    assert text == "生活習慣病予防健診実施率 目標71.7％以上 年度末実績72.2% 評価◎"
    assert '<span class="mark mark-above" title="計画を上回る実施状況">◎</span>' in kpi.group(1)
    assert html.count('<li class="plan-kpi">') == 19


def test_it_shows_a_projection_as_mikomi_never_as_the_mark(manager):
    target = KpiTargetFactory(plan=PlanFactory(fiscal_year__year=2023), target_text="50.0%以上",
                              kpi=KpiFactory(measure_basis=Kpi.MeasureBasis.YEAR_TO_DATE))
    KpiActualFactory(target=target, interim=True, month=datetime.date(2023, 9, 1), value=Decimal("40.0"))
    html = _html(manager, f"/branches/{target.plan.branch.code}/2023/plan/")
    item = html[html.index('<li class="plan-kpi">'):html.index("</li>")]
    assert "直近実績40.0% 2023年9月時点" in _text(item).replace("直近実績 ", "直近実績")
    assert '<span class="mark mark-none" title="未評価（年度末実績なし）">－</span>' in item
    assert '<span class="cell-label">見込み</span>' in item and "未達のおそれ" in item


def test_it_lists_kpis_of_no_measure_in_their_own_section(manager):
    html = _html(manager, "/branches/tochigi/2021/plan/")  # transcribed from the KPI table only
    assert "この事業計画には施策が登録されていません" in html
    unlinked = html[html.index('id="unlinked"'):html.index('id="budget"')]
    assert "施策に紐づかないKPI" in unlinked and unlinked.count('<li class="plan-kpi">') == 19


def test_it_puts_a_kpi_without_measure_apart_from_the_measures(manager):
    measure = MeasureFactory(plan=PlanFactory(fiscal_year__year=2023), title="施策A")
    KpiTargetFactory(plan=measure.plan, measure=measure, name_as_written="施策AのKPI")
    KpiTargetFactory(plan=measure.plan, measure=None, name_as_written="どの施策にも属さないKPI")
    html = _html(manager, f"/branches/{measure.plan.branch.code}/2023/plan/")
    assert "施策AのKPI" in _article(html, measure.key)
    assert "どの施策にも属さないKPI" in html[html.index('id="unlinked"'):]


# -- the newest progress ----------------------------------------------------------------------------


def test_it_shows_the_newest_progress_by_as_of_then_period(manager):
    first, second = MeasureFactory.create_batch(2, plan=PlanFactory(fiscal_year__year=2024))
    for period, as_of in (("令和6年度上期", datetime.date(2024, 9, 1)), ("令和6年度", datetime.date(2025, 3, 1)),
                          ("時点なし", None)):
        MeasureProgress.objects.create(measure=first, period=period, as_of=as_of, status=f"{period}の状況")
    for period in ("令和6年度上期", "令和6年度下期"):  # same 時点: the later 期間 wins
        MeasureProgress.objects.create(measure=second, period=period, as_of=datetime.date(2024, 9, 1), evaluation="△",
                                       status=f"{period}の状況")
    html = _html(manager, f"/branches/{first.plan.branch.code}/2024/plan/")
    assert '<span class="period">令和6年度</span>' in _article(html, first.key)
    assert "令和6年度の状況" in _article(html, first.key) and "上期の状況" not in _article(html, first.key)
    assert "令和6年度下期の状況" in _article(html, second.key)
    assert '<span class="mark mark-below" title="△ 計画を下回る">△</span>' in _article(html, second.key)


# -- links and queries -------------------------------------------------------------------------------


def test_it_links_to_the_branch_dashboard_and_to_the_other_years_plans(manager):
    html = _html(manager, TOCHIGI)
    assert 'href="/branches/tochigi/2023/"' in html
    assert 'href="/branches/tochigi/2022/plan/"' in html and 'href="/branches/tochigi/2024/plan/"' in html


def test_plan_outline_reads_a_plan_in_five_queries(django_assert_num_queries):
    plan = Plan.objects.get(branch__code="tochigi", fiscal_year_id=2023)
    with django_assert_num_queries(5):
        outline = plan_outline(plan)
    assert (len(outline.measures), outline.progress_count, len(outline.budget_lines)) == (29, 25, 17)


def test_the_plan_page_runs_a_constant_number_of_queries_as_the_plan_grows(manager, django_assert_num_queries):
    plan = PlanFactory(fiscal_year__year=2023)
    url = f"/branches/{plan.branch.code}/2023/plan/"
    parent = MeasureFactory(plan=plan)
    KpiTargetFactory(plan=plan, measure=parent)  # a target at least, or the mid-year actuals are not read at all
    with django_assert_num_queries(PLAN_PAGE_QUERIES):
        assert manager.get(url).status_code == 200
    for area in (1, 2, 3):
        top = MeasureFactory(plan=plan, area__number=area, importance_high=True, importance_text="理由")
        child = MeasureFactory(plan=plan, area__number=area, parent=top)
        for measure in (top, child, parent):
            target = KpiTargetFactory(plan=plan, measure=measure)
            KpiActualFactory(target=target, interim=True)
            MeasureProgress.objects.create(measure=measure, period=f"期間{target.pk}", as_of=datetime.date(2023, 9, 1))
        KpiTargetFactory(plan=plan, measure=None)
        BudgetLine.objects.create(plan=plan, category=f"予算{area}／x", programme="p", budget_amount=10, spent_amount=5)
    with django_assert_num_queries(PLAN_PAGE_QUERIES):
        html = _html(manager, url)
    assert html.count('<li class="plan-kpi">') == 13
    assert html.count('<div class="progress">') == 7  # 6 new measures, and the parent's newest of its 3 reports


def test_the_seed_plans_pages_run_the_same_number_of_queries(manager, django_assert_num_queries):
    for url in (TOCHIGI, TOKYO, GIFU, "/branches/tochigi/2021/plan/"):
        caches["default"].clear()  # each a first visit (Tokyo's page keeps the year's national averages for Gifu's)
        with django_assert_num_queries(PLAN_PAGE_QUERIES):
            assert manager.get(url).status_code == 200


def test_a_branch_manager_sees_their_own_plan_page(tochigi):
    assert client_for(member("tm2", branch=tochigi, manager=True)).get(TOCHIGI).status_code == 200


@pytest.fixture
def _back_to_japanese():
    """A request in English leaves English active in the thread; later tests expect the default."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.mark.usefixtures("_back_to_japanese")
def test_it_renders_for_an_english_browser_with_the_plans_own_words_as_written(manager):
    response = manager.get(TOCHIGI, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200 and '<html lang="en">' in html
    assert "健全な財政運営" in html and "66,853,600円" in html
