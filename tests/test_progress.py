"""Measure progress per half-year: the half's calendar, the sheet, saving with conflicts, the lock, the submit rule
and HQ's list across branches."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.db.models.signals import pre_save
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from branches.models import Branch
from plans import progress
from plans.models import FiscalYear, Measure, MeasureProgress, MonthReport, Plan
from plans.progress import Half, ProgressConflict, ProgressInput, ProgressRefused, progress_blockers, progress_save
from tests.conftest import client_for
from tests.factories import AreaFactory, FiscalYearFactory, KpiTargetFactory, MeasureFactory, PlanFactory

pytestmark = pytest.mark.django_db

YEAR = 2030  # 令和12年度: no seed plan, so every row here is the test's own
TODAY = datetime.date(2030, 11, 20)  # 上期 is over (its report month, September, exists); 下期 is the current half
SEPTEMBER = datetime.date(2030, 9, 1)
MARCH = datetime.date(2031, 3, 1)
H1_LABEL = "令和12年度上期"
Status = MonthReport.Status


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> datetime.date:
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def plan(tochigi: Branch) -> Plan:
    return PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=YEAR))


@pytest.fixture
def measures(plan: Plan) -> list[Measure]:
    """A parent with one nested measure, and a flagged measure in area 2 with a KPI."""
    parent = MeasureFactory(plan=plan, area=AreaFactory(number=1), number="（１）", title="サービス水準の向上", order=1)
    child = MeasureFactory(plan=plan, area=parent.area, parent=parent, number="①", title="郵送化の推進", order=2)
    flagged = MeasureFactory(
        plan=plan,
        area=AreaFactory(number=2),
        number="（２）",
        title="特定保健指導の推進",
        order=3,
        importance_high=True,
    )
    KpiTargetFactory(plan=plan, measure=flagged, name_as_written="被保険者の特定保健指導の実施率")
    return [parent, child, flagged]


def url(plan: Plan, half: str = "h1") -> str:
    return f"/branches/{plan.branch.code}/{plan.fiscal_year_id}/progress/{half}/"


def form_of(html: str) -> dict[str, str]:
    """The form as the page sends it back: hidden fields, textareas and the selected evaluations."""
    data = dict(re.findall(r'<input type="hidden" name="(m\d+-\w+)" value="([^"]*)"', html))
    for name, text in re.findall(r'<textarea name="(m\d+-\w+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[name] = text
    for name, body in re.findall(r'<select name="(m\d+-evaluation)"[^>]*>(.*?)</select>', html, re.S):
        data[name] = re.search(r'<option value="([^"]*)" selected>', body)[1]
    return data


def stored(measure: Measure, label: str = H1_LABEL) -> MeasureProgress | None:
    return MeasureProgress.objects.filter(measure=measure, period=label).first()


def row(measure: Measure, status: str = "", evaluation: str = "○", next_steps: str = "", version: int = 0):
    return ProgressInput(
        measure_id=measure.pk, status=status, evaluation=evaluation, next_steps=next_steps, version=version
    )


# -- the half's calendar -----------------------------------------------------------------------------


def test_it_covers_april_to_september_in_the_first_half_and_october_to_march_in_the_second():
    assert [m.month for m in Half.FIRST.months(2024)] == [4, 5, 6, 7, 8, 9]
    assert Half.SECOND.months(2024) == [datetime.date(2024, m, 1) for m in (10, 11, 12)] + [
        datetime.date(2025, m, 1) for m in (1, 2, 3)
    ]


def test_it_labels_halves_as_the_seed_writes_its_periods():
    assert Half.FIRST.label(2024) == "令和6年度上期"
    assert Half.SECOND.label(2024) == "令和6年度下期"
    assert Half.FIRST.label(2019) == "令和元年度上期"
    gifu_periods = set(
        MeasureProgress.objects.filter(measure__plan__branch__code="gifu").values_list("period", flat=True)
    )
    assert gifu_periods == {Half.FIRST.label(2024)}


def test_it_puts_a_half_in_the_report_of_its_last_month():
    assert Half.FIRST.last_month(2024) == datetime.date(2024, 9, 1)
    assert Half.SECOND.last_month(2024) == datetime.date(2025, 3, 1)
    assert progress.half_of(datetime.date(2024, 9, 1)) is Half.FIRST
    assert progress.half_of(datetime.date(2025, 1, 1)) is Half.SECOND
    assert progress.half_ending_in(datetime.date(2024, 9, 1)) is Half.FIRST
    assert progress.half_ending_in(datetime.date(2025, 3, 1)) is Half.SECOND
    assert progress.half_ending_in(datetime.date(2024, 8, 1)) is None


def test_it_orders_nested_measures_right_after_their_parent_within_the_area(plan):
    late_parent = MeasureFactory(plan=plan, area=AreaFactory(number=1), order=10)
    early = MeasureFactory(plan=plan, area=AreaFactory(number=1), order=1)
    child = MeasureFactory(plan=plan, area=early.area, parent=late_parent, order=2)
    area3 = MeasureFactory(plan=plan, area=AreaFactory(number=3), order=0)
    ordered = progress.tree_order([area3, child, late_parent, early])
    assert ordered == [(early, 0), (late_parent, 0), (child, 1), (area3, 0)]


# -- who sees what -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["tochigi_staff", "tochigi_manager"])
def test_it_lets_the_branch_staff_and_manager_edit(request, plan, measures, persona):
    html = client_for(request.getfixturevalue(persona)).get(url(plan)).content.decode()
    assert html.count("<textarea") == 2 * len(measures)
    assert "進捗を保存" in html and "重要度：高" in html and "被保険者の特定保健指導の実施率" in html


def test_it_shows_headquarters_the_sheet_read_only_and_refuses_its_post(hq_manager, plan, measures):
    client = client_for(hq_manager)
    html = client.get(url(plan)).content.decode()
    assert "<textarea" not in html and "閲覧のみです" in html
    response = client.post(url(plan), {f"m{measures[0].pk}-version": "0", f"m{measures[0].pk}-status": "x"})
    assert response.status_code == 403
    assert stored(measures[0]) is None


def test_it_refuses_another_branch_and_users_without_a_membership(gifu_staff, outsider, plan, measures):
    for user in (gifu_staff, outsider):
        assert client_for(user).get(url(plan)).status_code == 403
        assert client_for(user).post(url(plan), {f"m{measures[0].pk}-version": "0"}).status_code == 403


def test_it_sends_anonymous_visitors_to_the_login_page(plan):
    response = client_for(None).get(url(plan))
    assert response.status_code == 302 and response["Location"] == f"/accounts/login/?next={url(plan)}"


def test_it_allows_only_get_and_post(tochigi_staff, hq_manager, plan):
    assert client_for(tochigi_staff).put(url(plan)).status_code == 405
    assert client_for(hq_manager).post(f"/national/{YEAR}/progress/h1/").status_code == 405


def test_it_answers_404_for_an_unknown_half_or_a_year_without_plan(tochigi_staff, plan):
    assert client_for(tochigi_staff).get(url(plan, "h3")).status_code == 404
    assert client_for(tochigi_staff).get(f"/branches/tochigi/{YEAR + 1}/progress/h1/").status_code == 404


# -- saving ---------------------------------------------------------------------------------------------


def test_it_saves_every_row_for_the_half_and_bumps_the_version(tochigi_staff, plan, measures):
    client = client_for(tochigi_staff)
    data = form_of(client.get(url(plan)).content.decode())
    child = measures[1]
    data |= {f"m{child.pk}-status": "郵送化を周知した。\r\n", f"m{child.pk}-evaluation": "△"}
    data[f"m{child.pk}-next_steps"] = "事業所へ案内を送る。"
    response = client.post(url(plan), data, follow=True)
    assert response.redirect_chain == [(url(plan), 302)]
    assert "令和12年度上期の進捗を保存しました（1件）。" in response.content.decode()
    saved = stored(child)
    assert (saved.status, saved.evaluation, saved.next_steps) == ("郵送化を周知した。", "△", "事業所へ案内を送る。")
    assert (saved.version, saved.updated_by, saved.as_of) == (1, tochigi_staff, SEPTEMBER)
    assert stored(measures[0]) is None and stored(measures[2]) is None  # rows left as shown are not written

    data = form_of(client.get(url(plan)).content.decode())
    data[f"m{child.pk}-status"] = "郵送化を周知し、説明会を開いた。"
    client.post(url(plan), data)
    saved.refresh_from_db()
    assert (saved.status, saved.version) == ("郵送化を周知し、説明会を開いた。", 2)


def test_it_says_so_when_nothing_changed(tochigi_staff, plan, measures):
    client = client_for(tochigi_staff)
    response = client.post(url(plan), form_of(client.get(url(plan)).content.decode()), follow=True)
    assert "令和12年度上期の進捗に変更はありませんでした。" in response.content.decode()
    assert not MeasureProgress.objects.filter(measure__plan=plan).exists()


def test_it_writes_the_half_of_the_url_only(tochigi_staff, plan, measures):
    client = client_for(tochigi_staff)
    data = form_of(client.get(url(plan, "h2")).content.decode())
    data[f"m{measures[0].pk}-status"] = "下期の取組"
    client.post(url(plan, "h2"), data)
    assert stored(measures[0], "令和12年度下期").as_of == MARCH
    assert stored(measures[0]) is None


def test_it_shows_both_texts_on_a_conflict_and_saves_nothing_until_the_user_chooses(
    tochigi_staff, tochigi_manager, plan, measures
):
    staff, manager = client_for(tochigi_staff), client_for(tochigi_manager)
    m = measures[1]
    staff_form = form_of(staff.get(url(plan)).content.decode())
    manager_form = form_of(manager.get(url(plan)).content.decode())
    staff.post(url(plan), staff_form | {f"m{m.pk}-status": "担当者の記載"})
    other = measures[2]
    response = manager.post(
        url(plan), manager_form | {f"m{m.pk}-status": "管理者の記載", f"m{other.pk}-status": "同時に書いた別の施策"}
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "郵送化の推進の進捗は他の利用者が先に更新しました（版 1）" in html
    assert "担当者の記載" in html and "管理者の記載" in html  # stored and typed, side by side
    assert stored(m).status == "担当者の記載" and stored(other) is None  # nothing of the second save was written

    response = manager.post(url(plan), form_of(html))  # the user keeps their text and saves again
    assert response.status_code == 302
    assert (stored(m).status, stored(m).version, stored(m).updated_by) == ("管理者の記載", 2, tochigi_manager)
    assert stored(other).status == "同時に書いた別の施策"


def test_it_keeps_someone_elses_change_to_a_row_the_user_left_alone(tochigi_staff, tochigi_manager, plan, measures):
    staff, manager = client_for(tochigi_staff), client_for(tochigi_manager)
    a, b = measures[1], measures[2]
    staff_form = form_of(staff.get(url(plan)).content.decode())
    manager_form = form_of(manager.get(url(plan)).content.decode())
    staff.post(url(plan), staff_form | {f"m{a.pk}-status": "担当者の記載"})
    response = manager.post(url(plan), manager_form | {f"m{b.pk}-status": "管理者の記載"})
    assert response.status_code == 302
    assert stored(a).status == "担当者の記載" and stored(b).status == "管理者の記載"


def test_it_refuses_an_over_long_text_and_saves_no_row(tochigi_staff, plan, measures):
    client = client_for(tochigi_staff)
    limit = MeasureProgress._meta.get_field("next_steps").max_length
    data = form_of(client.get(url(plan)).content.decode())
    data[f"m{measures[0].pk}-status"] = "正しい記載"
    data[f"m{measures[1].pk}-next_steps"] = "あ" * (limit + 1)
    response = client.post(url(plan), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert f"① 郵送化の推進の今後の実施予定は{limit}文字以内で入力してください（入力: {limit + 1}文字）。" in html
    assert "正しい記載" in html  # what was typed is kept
    assert not MeasureProgress.objects.filter(measure__plan=plan).exists()


def test_it_refuses_an_unknown_evaluation(plan, measures):
    with pytest.raises(ProgressRefused) as refused:
        progress_save(plan=plan, half=Half.FIRST, rows=[row(measures[0], "記載", evaluation="×")], user=None)
    assert refused.value.errors[measures[0].pk] == [
        "（１） サービス水準の向上の評価は ◎・○・△・－ のいずれかを選んでください（入力: ×）。"
    ]
    assert stored(measures[0]) is None


def test_it_refuses_a_measure_of_another_plan(plan, measures):
    foreign = MeasureFactory(plan=PlanFactory(fiscal_year=plan.fiscal_year))
    with pytest.raises(ProgressRefused) as refused:
        progress_save(plan=plan, half=Half.FIRST, rows=[row(measures[0], "記載"), row(foreign, "x")], user=None)
    assert refused.value.errors[None] == [progress.UNKNOWN_MEASURE]
    assert not MeasureProgress.objects.filter(measure__in=[measures[0], foreign]).exists()


def test_it_reports_a_stale_version_as_a_conflict_in_the_service(plan, measures):
    progress_save(plan=plan, half=Half.FIRST, rows=[row(measures[0], "一回目")], user=None)
    with pytest.raises(ProgressConflict) as conflict:
        progress_save(plan=plan, half=Half.FIRST, rows=[row(measures[0], "別の人", version=0)], user=None)
    assert [c.stored.status for c in conflict.value.conflicts] == ["一回目"]
    assert stored(measures[0]).status == "一回目"


# -- the month's workflow ---------------------------------------------------------------------------------


def test_it_refuses_changes_once_the_halfs_report_is_approved(tochigi_staff, plan, measures):
    MonthReport.objects.create(plan=plan, month=SEPTEMBER, status=Status.APPROVED)
    client = client_for(tochigi_staff)
    html = client.get(url(plan)).content.decode()
    assert "<textarea" not in html
    assert "2030年9月の月次報告が「承認済み」のため、令和12年度上期の進捗は変更できません。" in html
    assert 'class="badge badge-approved"' in html
    response = client.post(url(plan), {f"m{measures[0].pk}-version": "0", f"m{measures[0].pk}-status": "後から"})
    assert response.status_code == 400
    assert "2030年9月の月次報告が「承認済み」のため" in response.content.decode()
    assert stored(measures[0]) is None


def test_it_opens_the_halfs_report_as_a_draft_on_the_first_save(tochigi_staff, plan, measures):
    client = client_for(tochigi_staff)
    assert "未作成" in client.get(url(plan)).content.decode()
    assert not MonthReport.objects.filter(plan=plan).exists()  # reading creates nothing
    data = form_of(client.get(url(plan)).content.decode()) | {f"m{measures[0].pk}-status": "実施した"}
    client.post(url(plan), data)
    assert MonthReport.objects.get(plan=plan).month == SEPTEMBER
    assert "badge-draft" in client.get(url(plan)).content.decode()


def test_it_lets_the_current_half_be_edited_before_its_report_month_exists(tochigi_staff, plan, measures):
    client = client_for(tochigi_staff)
    data = form_of(client.get(url(plan, "h2")).content.decode()) | {f"m{measures[0].pk}-status": "進行中"}
    assert client.post(url(plan, "h2"), data).status_code == 302
    assert stored(measures[0], "令和12年度下期").status == "進行中"
    assert not MonthReport.objects.filter(plan=plan).exists()  # March 2031 has not come yet


def test_it_refuses_a_half_not_yet_begun(plan, measures):
    with pytest.raises(ProgressRefused) as refused:
        progress_save(
            plan=plan, half=Half.SECOND, rows=[row(measures[0], "早すぎる")], user=None, today=datetime.date(2030, 8, 1)
        )
    assert refused.value.errors[None] == ["令和12年度下期はまだ始まっていないため、進捗は入力できません。"]


def test_it_lets_a_submitted_report_be_corrected_and_flags_a_reopened_one(plan, measures):
    report = MonthReport.objects.create(
        plan=plan, month=SEPTEMBER, status=Status.REOPENED, reopened_until=TODAY + datetime.timedelta(days=5)
    )
    progress_save(plan=plan, half=Half.FIRST, rows=[row(measures[0], "再開中の訂正")], user=None)
    report.refresh_from_db()
    assert report.changed_after_approval is True


def test_it_refuses_a_reopened_report_past_its_end_date(plan, measures):
    MonthReport.objects.create(
        plan=plan, month=SEPTEMBER, status=Status.REOPENED, reopened_until=TODAY - datetime.timedelta(days=1)
    )
    with pytest.raises(ProgressRefused):
        progress_save(plan=plan, half=Half.FIRST, rows=[row(measures[0], "期限切れ")], user=None)
    assert stored(measures[0]) is None


def test_it_blocks_submitting_a_half_end_month_until_each_measure_has_its_status(plan, measures):
    parent, child, flagged = measures
    report = MonthReport.objects.create(plan=plan, month=SEPTEMBER)
    progress_save(
        plan=plan, half=Half.FIRST, rows=[row(child, "実施した"), row(flagged, "", evaluation="－")], user=None
    )
    assert progress_blockers(report) == ["施策「（２） 特定保健指導の推進」の令和12年度上期の実施状況が未入力です。"]
    progress_save(plan=plan, half=Half.FIRST, rows=[row(flagged, "着手した", evaluation="－")], user=None)
    assert progress_blockers(report) == []  # a parent with nested measures needs none of its own


def test_it_checks_the_blockers_in_two_queries_whatever_the_plans_size(plan, measures, django_assert_num_queries):
    report = MonthReport.objects.create(plan=plan, month=SEPTEMBER)
    for _n in range(5):
        MeasureFactory(plan=plan)
    report = MonthReport.objects.get(pk=report.pk)
    with django_assert_num_queries(2):
        assert len(progress_blockers(report)) == 7


def test_it_does_not_block_months_that_end_no_half(plan, measures):
    assert progress_blockers(MonthReport.objects.create(plan=plan, month=datetime.date(2030, 10, 1))) == []
    assert len(progress_blockers(MonthReport.objects.create(plan=plan, month=MARCH))) == 2


# -- headquarters' list ------------------------------------------------------------------------------------


@pytest.fixture
def two_branches(plan, measures, gifu) -> dict[str, MeasureProgress]:
    gifu_plan = PlanFactory(branch=gifu, fiscal_year=plan.fiscal_year)
    gifu_measure = MeasureFactory(plan=gifu_plan, area=AreaFactory(number=2), title="特定保健指導の推進")
    gifu_other = MeasureFactory(plan=gifu_plan, area=AreaFactory(number=1), title="債権回収")
    progress_save(plan=plan, half=Half.FIRST, rows=[row(measures[2], "栃木の記載", "○")], user=None)
    progress_save(
        plan=gifu_plan,
        half=Half.FIRST,
        rows=[row(gifu_measure, "岐阜の記載", "△", "委託先を増やす"), row(gifu_other, "回収した", "△")],
        user=None,
    )
    return {"gifu": stored(gifu_measure)}


def national(client, query: str = ""):
    return client.get(f"/national/{YEAR}/progress/h1/{query}")


def test_it_lists_which_branches_are_behind_on_a_measure_and_what_they_plan(hq_manager, two_branches):
    html = national(client_for(hq_manager), "?area=2&evaluation=△&q=特定保健").content.decode()
    assert "岐阜の記載" in html and "委託先を増やす" in html
    assert "栃木の記載" not in html and "回収した" not in html


def test_it_filters_the_national_list_by_area_evaluation_and_title(two_branches, plan):
    fy = FiscalYear.objects.get(year=YEAR)
    texts = lambda **f: sorted(r.progress.status for r in progress.national_progress(fy, Half.FIRST, **f))  # noqa: E731
    assert texts() == ["回収した", "岐阜の記載", "栃木の記載"]
    assert texts(area=2) == ["岐阜の記載", "栃木の記載"]
    assert texts(evaluation="△") == ["回収した", "岐阜の記載"]
    assert texts(query="債権") == ["回収した"]
    assert texts(area=3) == []


def test_it_shows_the_national_list_to_headquarters_only(tochigi_staff, outsider, two_branches):
    assert national(client_for(tochigi_staff)).status_code == 403
    assert national(client_for(outsider)).status_code == 403
    assert national(client_for(None)).status_code == 302


def test_it_drops_a_filter_it_does_not_understand_with_a_message(hq_manager, two_branches):
    html = national(client_for(hq_manager), "?area=9").content.decode()
    assert "条件を外して全件を表示しています。" in html and "岐阜の記載" in html


# -- queries -----------------------------------------------------------------------------------------------


def _count(callable_) -> int:
    with CaptureQueriesContext(connection) as queries:
        callable_()
    return len(queries)


def test_the_sheet_reads_in_a_constant_number_of_queries(tochigi_staff, plan, measures):
    client = client_for(tochigi_staff)
    progress_save(plan=plan, half=Half.FIRST, rows=[row(measures[0], "記載")], user=None)
    before = _count(lambda: client.get(url(plan)))
    for n in range(6):
        measure = MeasureFactory(plan=plan, area=AreaFactory(number=3), parent=measures[2] if n % 2 else None)
        KpiTargetFactory(plan=plan, measure=measure)
        progress_save(plan=plan, half=Half.FIRST, rows=[row(measure, f"記載{n}")], user=None)
    assert _count(lambda: client.get(url(plan))) == before
    with CaptureQueriesContext(connection) as queries:
        progress.progress_sheet(plan, Half.FIRST)
    assert len(queries) == 5


def test_the_national_list_reads_in_one_query(hq_manager, two_branches, django_assert_num_queries):
    fy = FiscalYear.objects.get(year=YEAR)
    with django_assert_num_queries(1):
        rows = progress.national_progress(fy, Half.FIRST)
        assert [r.branch.name for r in rows] and [r.measure.area.name for r in rows]
    client = client_for(hq_manager)
    before = _count(lambda: national(client))
    plan3 = PlanFactory(fiscal_year=fy)
    for n in range(4):
        progress_save(plan=plan3, half=Half.FIRST, rows=[row(MeasureFactory(plan=plan3), f"x{n}")], user=None)
    assert _count(lambda: national(client)) == before


def test_the_seed_plans_sheet_shows_gifus_first_half_to_headquarters(hq_manager):
    html = client_for(hq_manager).get("/branches/gifu/2024/progress/h1/").content.decode()
    seeded = MeasureProgress.objects.filter(measure__plan__branch__code="gifu", period="令和6年度上期")
    assert seeded.count() == 18
    for entry in seeded:
        first_line = entry.status.splitlines()[0] if entry.status else ""
        assert escape(first_line) in html


def test_it_hands_the_user_and_a_reason_to_the_history_on_each_write(tochigi_staff, plan, measures):
    seen: list[tuple[object, str, object]] = []

    def record(sender, instance, **kwargs):
        seen.append((instance.updated_by, instance._change_reason, instance._history_user))

    pre_save.connect(record, sender=MeasureProgress)
    try:
        progress_save(plan=plan, half=Half.FIRST, rows=[row(measures[0], "記載")], user=tochigi_staff)
        progress_save(plan=plan, half=Half.FIRST, rows=[row(measures[0], "訂正", version=1)], user=tochigi_staff)
    finally:
        pre_save.disconnect(record, sender=MeasureProgress)
    assert seen == [(tochigi_staff, "令和12年度上期の進捗を更新", tochigi_staff)] * 2
