"""The month's workflow: every transition from every status, its refusals, and its history."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model

from branches.models import Branch
from plans import workflow
from plans.models import FiscalYear, MonthReport, Plan
from plans.workflow import TRANSITIONS, WorkflowError, month_transition

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
    assert {t.name: t.permission for t in TRANSITIONS.values()} == {
        "submit": "enter_actuals",
        "approve": "approve_month",
        "return": "approve_month",
        "reopen": "reopen_month",
    }


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
