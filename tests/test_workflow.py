"""The month's workflow: every transition from every status, its refusals, and its history."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from branches.access import Permission
from branches.models import Branch
from plans import workflow
from plans.models import FiscalYear, MeasureProgress, MonthReport, Plan, ShortfallNote
from plans.progress import Half
from plans.workflow import TRANSITIONS, WorkflowError, month_transition
from tests.factories import FiscalYearFactory, KpiActualFactory, KpiFactory, KpiTargetFactory, PlanFactory

pytestmark = pytest.mark.django_db

Status = MonthReport.Status
TODAY = datetime.date(2024, 11, 20)
SEPTEMBER = datetime.date(2024, 9, 1)

# The whole table: (status, transition) → resulting status, or None where the move is refused.
EXPECTED = {
    (Status.DRAFT, "submit"): Status.SUBMITTED,
    (Status.RETURNED, "submit"): Status.SUBMITTED,
    (Status.REOPENED, "submit"): Status.SUBMITTED,
    (Status.SUBMITTED, "approve"): Status.APPROVED,
    (Status.SUBMITTED, "return"): Status.RETURNED,
    (Status.APPROVED, "reopen"): Status.REOPENED,
}


@pytest.fixture
def plan() -> Plan:
    FiscalYear.objects.get_or_create(year=2024)
    return Plan.objects.create(branch=Branch.objects.get(code="hokkaido"), fiscal_year_id=2024)


@pytest.fixture
def user():
    return get_user_model().objects.create_user(username="manager-h", password="pw")


def make_report(plan: Plan, status: str) -> MonthReport:
    until = TODAY + datetime.timedelta(days=10) if status == Status.REOPENED else None
    return MonthReport.objects.create(plan=plan, month=SEPTEMBER, status=status, reopened_until=until)


def move(report: MonthReport, name: str, user=None, **kwargs) -> MonthReport:
    kwargs.setdefault("reason", "理由あり")
    kwargs.setdefault("until", TODAY + datetime.timedelta(days=7))
    return month_transition(report=report, name=name, user=user, expected_version=report.version, today=TODAY, **kwargs)


@pytest.mark.parametrize("status", Status.values)
@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_each_transition_from_each_status_goes_where_the_table_says(plan, user, status, name):
    report = make_report(plan, status)
    expected = EXPECTED.get((status, name))
    if expected is None:
        with pytest.raises(WorkflowError, match="できません"):
            move(report, name, user)
        report.refresh_from_db()
        assert (report.status, report.version) == (status, 1)
    else:
        moved = move(report, name, user)
        assert (moved.status, moved.version) == (expected, 2)
        next_moves = {n for (s, n) in EXPECTED if s == expected}
        assert {t.name for t in workflow.available(MonthReport.objects.get(pk=moved.pk))} == next_moves


def test_the_table_of_transitions_is_the_one_the_workflow_uses():
    allowed = {(s, t.name): t.target for t in TRANSITIONS.values() for s in t.sources}
    assert allowed == EXPECTED


@pytest.mark.parametrize(("name", "status"), [("return", Status.SUBMITTED), ("reopen", Status.APPROVED)])
def test_returning_and_reopening_need_a_reason(plan, name, status):
    report = make_report(plan, status)
    with pytest.raises(WorkflowError, match="理由を入力してください"):
        move(report, name, reason="  ")
    report.refresh_from_db()
    assert report.status == status


def test_reopening_needs_an_end_date_not_in_the_past(plan):
    report = make_report(plan, Status.APPROVED)
    with pytest.raises(WorkflowError, match="期限（日付）を入力してください"):
        move(report, "reopen", until=None)
    with pytest.raises(WorkflowError, match="今日以降の日付"):
        move(report, "reopen", until=TODAY - datetime.timedelta(days=1))
    reopened = move(report, "reopen", until=TODAY)
    assert (reopened.status, reopened.reopened_until, reopened.reason) == (Status.REOPENED, TODAY, "理由あり")


def test_a_stale_screen_cannot_move_a_report_someone_else_moved(plan):
    report = make_report(plan, Status.SUBMITTED)
    stale_version = report.version
    move(report, "approve")
    with pytest.raises(WorkflowError, match="他の利用者が先に変更しました（現在: 承認済み）"):
        month_transition(
            report=report, name="return", user=None, expected_version=stale_version, reason="x", today=TODAY
        )


def test_every_move_is_in_the_history_with_who_and_why(plan, user):
    report = make_report(plan, Status.SUBMITTED)
    report = move(report, "return", user, reason="9月の被扶養者健診の数値を確認してください")
    report = move(report, "submit", user, reason="")
    records = list(report.history.order_by("history_date", "history_id"))
    assert [r.status for r in records] == [Status.SUBMITTED, Status.RETURNED, Status.SUBMITTED]
    assert records[1].history_change_reason == "9月の被扶養者健診の数値を確認してください"
    assert records[1].updated_by == user and records[2].history_change_reason == "提出"


def test_approval_clears_the_re_approval_flag_and_locks_the_month(plan):
    report = make_report(plan, Status.REOPENED)
    workflow.figures_changed(report, user=None)
    report.refresh_from_db()
    assert report.changed_after_approval
    report = move(move(report, "submit"), "approve")
    assert not report.changed_after_approval
    assert report.is_locked(TODAY)


def test_a_reopened_month_locks_again_after_its_end_date(plan):
    report = make_report(plan, Status.REOPENED)
    assert not report.is_locked(report.reopened_until)
    assert report.is_locked(report.reopened_until + datetime.timedelta(days=1))
    assert not report.is_locked(TODAY) and not MonthReport(status=Status.DRAFT).is_locked(TODAY)


def test_figures_changed_leaves_other_statuses_alone(plan):
    report = make_report(plan, Status.DRAFT)
    workflow.figures_changed(report, user=None)
    report.refresh_from_db()
    assert not report.changed_after_approval


def test_report_for_creates_a_draft_once(plan):
    first = workflow.report_for(plan, SEPTEMBER, today=TODAY)
    second = workflow.report_for(plan, SEPTEMBER, today=TODAY)
    assert first.pk == second.pk and first.status == Status.DRAFT


@pytest.mark.parametrize(
    ("month", "message"),
    [
        (datetime.date(2024, 3, 1), "2024年3月は令和6年度の月ではありません。"),
        (datetime.date(2025, 4, 1), "2025年4月は令和6年度の月ではありません。"),
        (datetime.date(2024, 12, 1), "2024年12月はまだ来ていません。"),
    ],
)
def test_report_for_refuses_a_month_outside_the_year_or_in_the_future(plan, month, message):
    with pytest.raises(WorkflowError) as error:
        workflow.report_for(plan, month, today=TODAY)
    assert str(error.value) == message
    assert not MonthReport.objects.filter(plan=plan).exists()


# -- who may do what ---------------------------------------------------------------------------------------


def test_each_transition_names_the_permission_it_needs():
    assert {t.name: t.permission for t in TRANSITIONS.values()} == {
        "submit": Permission.ENTER_ACTUALS,
        "approve": Permission.APPROVE_MONTH,
        "return": Permission.APPROVE_MONTH,
        "reopen": Permission.REOPEN_MONTH,
    }
    assert all(isinstance(t.permission, Permission) for t in TRANSITIONS.values())


@pytest.fixture
def tochigi_report(tochigi) -> MonthReport:
    plan = PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=2025))
    return MonthReport.objects.create(plan=plan, month=datetime.date(2025, 9, 1))


@pytest.mark.parametrize(
    ("status", "persona", "expected"),
    [
        (Status.DRAFT, "tochigi_staff", ["submit"]),
        (Status.DRAFT, "tochigi_manager", ["submit"]),
        (Status.DRAFT, "gifu_staff", []),
        (Status.DRAFT, "hq_manager", []),
        (Status.DRAFT, "outsider", []),
        (Status.SUBMITTED, "tochigi_staff", []),
        (Status.SUBMITTED, "tochigi_manager", ["approve", "return"]),
        (Status.SUBMITTED, "hq_manager", []),
        (Status.APPROVED, "tochigi_manager", []),
        (Status.APPROVED, "hq_manager", ["reopen"]),
        (Status.APPROVED, "gifu_staff", []),
        (Status.RETURNED, "tochigi_staff", ["submit"]),
    ],
)
def test_actions_for_are_the_moves_of_the_status_the_user_holds_the_permission_for(
    request, tochigi_report, status, persona, expected
):
    tochigi_report.status = status
    user = request.getfixturevalue(persona)
    assert [t.name for t in workflow.actions_for(user, tochigi_report)] == expected


def test_actions_for_an_anonymous_user_are_none(tochigi_report):
    assert workflow.actions_for(AnonymousUser(), tochigi_report) == []


def test_a_superuser_may_make_every_move_the_status_allows(tochigi_report):
    admin = get_user_model().objects.create_superuser(username="root-wf", password="pw")
    tochigi_report.status = Status.SUBMITTED
    assert [t.name for t in workflow.actions_for(admin, tochigi_report)] == ["approve", "return"]


def test_a_reason_longer_than_the_field_is_refused_with_its_length(plan):
    report = make_report(plan, Status.SUBMITTED)
    with pytest.raises(WorkflowError) as error:
        move(report, "return", reason="あ" * 301)
    assert str(error.value) == "差戻しの理由は300文字以内で入力してください（いま301文字）。"
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED


# -- 要因と対応 before submission ------------------------------------------------------------------------------


@pytest.fixture
def behind(plan):
    """Two KPIs of the plan behind their target: one at △ (year-end), one projected 未達のおそれ; one on track."""
    below = KpiTargetFactory(plan=plan, kpi=KpiFactory(name="特定保健指導実施率"), target_text="50.0%以上")
    KpiActualFactory(target=below, value=Decimal("40.0"))
    at_risk = KpiTargetFactory(plan=plan, kpi=KpiFactory(name="被扶養者健診受診率"), target_text="50.0%以上")
    KpiActualFactory(target=at_risk, monthly=True, month=SEPTEMBER, value=Decimal("20.0"))
    fine = KpiTargetFactory(plan=plan, kpi=KpiFactory(name="ジェネリック使用割合"), target_text="50.0%以上")
    KpiActualFactory(target=fine, value=Decimal("60.0"))
    progress_written(plan)
    return below, at_risk


def progress_written(plan: Plan) -> None:
    """September closes 上期: every measure's half-year progress, so only the KPI rule is left to test."""
    for measure in plan.measures.all():
        MeasureProgress.objects.create(
            measure=measure, period=Half.FIRST.label(plan.fiscal_year_id), as_of=SEPTEMBER, status="実施済み"
        )


def test_september_also_needs_each_measures_half_year_progress(plan):
    target = KpiTargetFactory(plan=plan, kpi=KpiFactory(name="事業者健診データ取得率"), target_text="50.0%以上")
    blockers = workflow.submit_blockers(make_report(plan, Status.DRAFT))
    assert blockers == [f"施策「{target.measure}」の令和6年度上期の実施状況が未入力です。"]
    progress_written(plan)
    assert workflow.submit_blockers(make_report_again(plan)) == []


def make_report_again(plan: Plan) -> MonthReport:
    return MonthReport.objects.get(plan=plan, month=SEPTEMBER)


def test_submit_blockers_name_each_kpi_behind_without_its_cause_and_action(plan, behind):
    report = make_report(plan, Status.DRAFT)
    assert workflow.submit_blockers(report) == [
        "「特定保健指導実施率」は△（計画を下回る）です。提出する前に要因と対応を入力してください。",
        "「被扶養者健診受診率」は年度末の見込みが「未達のおそれ」です。提出する前に要因と対応を入力してください。",
    ]


def test_a_blank_cause_or_action_or_another_months_note_does_not_count(plan, behind):
    below, at_risk = behind
    ShortfallNote.objects.create(target=below, month=SEPTEMBER, cause="受診勧奨の遅れ", action="  ")
    ShortfallNote.objects.create(target=at_risk, month=datetime.date(2024, 8, 1), cause="a", action="b")
    assert len(workflow.submit_blockers(make_report(plan, Status.DRAFT))) == 2


def test_submission_is_refused_until_every_kpi_behind_has_its_note(plan, behind, user):
    below, at_risk = behind
    report = make_report(plan, Status.DRAFT)
    ShortfallNote.objects.create(target=below, month=SEPTEMBER, cause="受診勧奨の遅れ", action="10月に再勧奨")
    with pytest.raises(workflow.SubmitBlocked) as error:
        move(report, "submit", user)
    assert error.value.headline == "2024年9月はまだ提出できません。"
    assert error.value.blockers == [
        "「被扶養者健診受診率」は年度末の見込みが「未達のおそれ」です。提出する前に要因と対応を入力してください。"
    ]
    report.refresh_from_db()
    assert (report.status, report.version) == (Status.DRAFT, 1)
    ShortfallNote.objects.create(target=at_risk, month=SEPTEMBER, cause="事業所の協力不足", action="文書で依頼")
    assert move(report, "submit", user).status == Status.SUBMITTED


# -- deadlines ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "day", "deadline"),
    [
        (datetime.date(2024, 9, 1), 10, datetime.date(2024, 10, 10)),
        (datetime.date(2024, 12, 1), 10, datetime.date(2025, 1, 10)),
        (datetime.date(2025, 1, 1), 31, datetime.date(2025, 2, 28)),
        (datetime.date(2024, 3, 1), 31, datetime.date(2024, 4, 30)),
    ],
)
def test_the_deadline_is_the_given_day_of_the_following_month_or_its_last_day(month, day, deadline):
    assert workflow.deadline_of(month, day) == deadline


def test_the_deadline_day_comes_from_the_settings(settings):
    settings.REPORT_DEADLINE_DAY = 5
    assert workflow.deadline_of(SEPTEMBER) == datetime.date(2024, 10, 5)
