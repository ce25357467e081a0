"""The month's workflow in the browser: POST /branches/<code>/<year>/entry/<YYYY-MM>/<transition>/ per persona,
its refusals, and the ``_month_workflow.html`` box."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import timezone

from branches.access import APPROVE_MONTH_DENIED, ENTER_ACTUALS_DENIED, REOPEN_MONTH_DENIED
from plans import workflow
from plans.models import MeasureProgress, MonthReport, Plan, ShortfallNote
from plans.views.workflow import UNTIL_INVALID, VERSION_MISSING, month_workflow_context
from tests.conftest import client_for
from tests.factories import FiscalYearFactory, KpiActualFactory, KpiFactory, KpiTargetFactory, PlanFactory, member

pytestmark = pytest.mark.django_db

Status = MonthReport.Status
TODAY = datetime.date(2025, 11, 20)
SEPTEMBER = datetime.date(2025, 9, 1)
NEXT = "/branches/tochigi/2025/entry/2025-09/"
DASHBOARD = "/branches/tochigi/2025/"
STATUS_OF = {"submit": Status.DRAFT, "approve": Status.SUBMITTED, "return": Status.SUBMITTED, "reopen": Status.APPROVED}
DENIED = {
    "submit": ENTER_ACTUALS_DENIED,
    "approve": APPROVE_MONTH_DENIED,
    "return": APPROVE_MONTH_DENIED,
    "reopen": REOPEN_MONTH_DENIED,
}


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


@pytest.fixture
def plan(tochigi) -> Plan:
    return PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=2025))


@pytest.fixture
def gifu_manager(gifu):
    return member("gifu-manager", branch=gifu, manager=True)


def report_in(plan: Plan, status: str) -> MonthReport:
    until = TODAY + datetime.timedelta(days=5) if status == Status.REOPENED else None
    return MonthReport.objects.create(plan=plan, month=SEPTEMBER, status=status, reopened_until=until)


def url(name: str, month: str = "2025-09") -> str:
    return f"/branches/tochigi/2025/entry/{month}/{name}/"


def post(client: Client, name: str, report: MonthReport | None, **data: str):
    fields = {"version": str(report.version if report else 1), "next": NEXT, "reason": "", "until": "", **data}
    return client.post(url(name), fields)


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def reload(report: MonthReport) -> MonthReport:
    return MonthReport.objects.get(pk=report.pk)


# -- each move by the persona allowed to make it ------------------------------------------------------------


def test_own_staff_submits_the_month_and_lands_back_on_the_page_they_came_from(plan, tochigi_staff):
    report = report_in(plan, Status.DRAFT)
    response = post(client_for(tochigi_staff), "submit", report)
    assert (response.status_code, response["Location"]) == (302, NEXT)
    assert texts(response) == ["2025年9月の月次報告を提出しました。"]
    moved = reload(report)
    assert (moved.status, moved.version, moved.updated_by) == (Status.SUBMITTED, 2, tochigi_staff)


def test_own_staff_submits_a_month_nobody_opened_yet(plan, tochigi_staff):
    response = post(client_for(tochigi_staff), "submit", None)
    assert response.status_code == 302
    assert MonthReport.objects.get(plan=plan, month=SEPTEMBER).status == Status.SUBMITTED


def test_own_manager_approves(plan, tochigi_manager):
    report = report_in(plan, Status.SUBMITTED)
    response = post(client_for(tochigi_manager), "approve", report)
    assert texts(response) == ["2025年9月の月次報告を承認しました。この月の実績は確定しました。"]
    assert reload(report).status == Status.APPROVED and reload(report).is_locked(TODAY)


def test_own_manager_returns_with_a_reason(plan, tochigi_manager):
    report = report_in(plan, Status.SUBMITTED)
    response = post(client_for(tochigi_manager), "return", report, reason="特定保健指導の件数を確認してください")
    assert texts(response) == ["2025年9月の月次報告を差し戻しました。"]
    moved = reload(report)
    assert (moved.status, moved.reason) == (Status.RETURNED, "特定保健指導の件数を確認してください")


def test_hq_reopens_with_a_reason_and_an_end_date(plan, hq_manager):
    report = report_in(plan, Status.APPROVED)
    response = post(client_for(hq_manager), "reopen", report, reason="健診件数の訂正", until="2025-11-30")
    assert texts(response) == ["2025年9月の月次報告を2025-11-30まで再開しました。"]
    moved = reload(report)
    assert (moved.status, moved.reopened_until, moved.updated_by) == (
        Status.REOPENED,
        datetime.date(2025, 11, 30),
        hq_manager,
    )


# -- who may not --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(workflow.TRANSITIONS))
@pytest.mark.parametrize("persona", ["gifu_staff", "gifu_manager", "outsider"])
def test_another_branch_and_an_outsider_get_403_with_the_permissions_message(request, plan, persona, name):
    report = report_in(plan, STATUS_OF[name])
    response = post(client_for(request.getfixturevalue(persona)), name, report, reason="r", until="2025-11-30")
    assert response.status_code == 403
    assert DENIED[name] in response.content.decode()
    assert (reload(report).status, reload(report).version) == (STATUS_OF[name], 1)


@pytest.mark.parametrize(
    ("persona", "name"),
    [
        ("tochigi_staff", "approve"),
        ("tochigi_staff", "return"),
        ("tochigi_staff", "reopen"),
        ("tochigi_manager", "reopen"),
        ("hq_manager", "submit"),
        ("hq_manager", "approve"),
        ("hq_manager", "return"),
    ],
)
def test_a_button_the_page_did_not_show_is_still_refused(request, plan, persona, name):
    report = report_in(plan, STATUS_OF[name])
    response = post(client_for(request.getfixturevalue(persona)), name, report, reason="r", until="2025-11-30")
    assert response.status_code == 403 and DENIED[name] in response.content.decode()
    assert reload(report).status == STATUS_OF[name]


@pytest.mark.parametrize("name", list(workflow.TRANSITIONS))
def test_an_anonymous_user_is_sent_to_the_login_page(plan, name):
    report = report_in(plan, STATUS_OF[name])
    response = post(Client(), name, report)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert reload(report).version == 1


@pytest.mark.parametrize("name", list(workflow.TRANSITIONS))
def test_get_is_405(plan, tochigi_manager, name):
    assert client_for(tochigi_manager).get(url(name)).status_code == 405


def test_a_post_without_the_csrf_token_is_refused(plan, tochigi_staff):
    report = report_in(plan, Status.DRAFT)
    client = Client(enforce_csrf_checks=True)
    client.force_login(tochigi_staff)
    assert client.post(url("submit"), {"version": "1"}).status_code == 403
    assert reload(report).status == Status.DRAFT


@pytest.mark.parametrize("path", [url("publish"), url("submit", month="2025-13"), url("submit", month="sept")])
def test_an_unknown_move_or_month_is_404(plan, tochigi_staff, path):
    assert client_for(tochigi_staff).post(path, {"version": "1"}).status_code == 404


def test_a_year_without_a_plan_is_404(tochigi, tochigi_staff):
    FiscalYearFactory(year=2025)
    assert client_for(tochigi_staff).post(url("submit"), {"version": "1"}).status_code == 404


# -- refusals: a message, and nothing changed -----------------------------------------------------------------


def test_a_stale_version_is_a_message_and_changes_nothing(plan, tochigi_manager):
    report = report_in(plan, Status.SUBMITTED)
    MonthReport.objects.filter(pk=report.pk).update(version=3)
    response = post(client_for(tochigi_manager), "approve", report)
    assert (response.status_code, response["Location"]) == (302, NEXT)
    assert texts(response) == [
        "この月の状態は他の利用者が先に変更しました（現在: 提出済み）。画面を読み込み直してください。"
    ]
    assert (reload(report).status, reload(report).version) == (Status.SUBMITTED, 3)


@pytest.mark.parametrize(("name", "label"), [("return", "差戻し"), ("reopen", "再開")])
def test_a_missing_reason_is_a_message_and_changes_nothing(request, plan, name, label):
    persona = "hq_manager" if name == "reopen" else "tochigi_manager"
    report = report_in(plan, STATUS_OF[name])
    response = post(client_for(request.getfixturevalue(persona)), name, report, reason="  ", until="2025-11-30")
    assert texts(response) == [f"{label}の理由を入力してください。"]
    assert reload(report).status == STATUS_OF[name]


@pytest.mark.parametrize(
    ("until", "message"),
    [("", workflow.UNTIL_REQUIRED), ("30/11/2025", UNTIL_INVALID), ("2025-11-19", workflow.UNTIL_IN_PAST)],
)
def test_reopening_needs_a_valid_end_date(plan, hq_manager, until, message):
    report = report_in(plan, Status.APPROVED)
    response = post(client_for(hq_manager), "reopen", report, reason="訂正", until=until)
    assert texts(response) == [message]
    assert reload(report).status == Status.APPROVED


@pytest.mark.parametrize("version", ["", "abc"])
def test_a_missing_version_is_a_message_and_changes_nothing(plan, tochigi_staff, version):
    report = report_in(plan, Status.DRAFT)
    response = post(client_for(tochigi_staff), "submit", report, version=version)
    assert texts(response) == [VERSION_MISSING]
    assert reload(report).status == Status.DRAFT


def test_a_move_not_allowed_from_the_status_is_a_message(plan, tochigi_staff):
    report = report_in(plan, Status.APPROVED)
    response = post(client_for(tochigi_staff), "submit", report)
    assert texts(response) == ["「承認済み」の月は提出できません。"]


def test_a_month_still_to_come_is_a_message(plan, tochigi_staff):
    response = client_for(tochigi_staff).post(url("submit", month="2025-12"), {"version": "1", "next": NEXT})
    assert texts(response) == ["2025年12月はまだ来ていません。"]
    assert not MonthReport.objects.filter(plan=plan).exists()


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", ""])
def test_it_never_redirects_off_site(plan, tochigi_staff, next_url):
    report = report_in(plan, Status.DRAFT)
    response = post(client_for(tochigi_staff), "submit", report, next=next_url)
    assert response["Location"] == DASHBOARD


def test_submission_is_blocked_by_a_missing_cause_and_action_naming_the_kpi(plan, tochigi_staff):
    target = KpiTargetFactory(plan=plan, kpi=KpiFactory(name="特定保健指導実施率"), target_text="50.0%以上")
    KpiActualFactory(target=target, value=Decimal("30.0"))
    MeasureProgress.objects.create(measure=target.measure, period="令和7年度上期", as_of=SEPTEMBER, status="実施済み")
    report = report_in(plan, Status.DRAFT)
    response = post(client_for(tochigi_staff), "submit", report)
    assert texts(response) == [
        "2025年9月はまだ提出できません。",
        "「特定保健指導実施率」は△（計画を下回る）です。提出する前に要因と対応を入力してください。",
    ]
    assert reload(report).status == Status.DRAFT
    ShortfallNote.objects.create(target=target, month=SEPTEMBER, cause="勧奨の遅れ", action="11月に再勧奨")
    assert texts(post(client_for(tochigi_staff), "submit", report)) == ["2025年9月の月次報告を提出しました。"]
    assert reload(report).status == Status.SUBMITTED


# -- the box the month screen includes -------------------------------------------------------------------------


def render_box(user, report: MonthReport) -> str:
    request = RequestFactory().get(NEXT)
    request.user = user
    return render_to_string("plans/_month_workflow.html", month_workflow_context(request, report), request=request)


def test_the_box_shows_a_submit_form_to_staff_with_the_version_and_the_way_back(plan, tochigi_staff):
    html = render_box(tochigi_staff, report_in(plan, Status.DRAFT))
    assert "作成中" in html and 'action="/branches/tochigi/2025/entry/2025-09/submit/"' in html
    assert 'name="version" value="1"' in html and f'name="next" value="{NEXT}"' in html
    assert "csrfmiddlewaretoken" in html and "/approve/" not in html and 'name="reason"' not in html


def test_the_box_shows_approve_and_a_return_form_with_a_required_reason_to_the_manager(plan, tochigi_manager):
    html = render_box(tochigi_manager, report_in(plan, Status.SUBMITTED))
    assert "提出済み" in html and "/approve/" in html and "/return/" in html
    assert '<textarea name="reason" rows="2" maxlength="300" required>' in html and "差戻しの理由（必須）" in html


def test_the_box_shows_the_returned_reason_and_who_returned_it(plan, tochigi_manager, tochigi_staff):
    report = report_in(plan, Status.SUBMITTED)
    report = workflow.month_transition(
        report=report, name="return", user=tochigi_manager, expected_version=1, reason="件数を確認"
    )
    html = render_box(tochigi_staff, report)
    assert "差戻し（件数を確認）" in html and "最終更新: tochigi-manager" in html and "/submit/" in html


def test_the_box_shows_a_reopened_month_its_end_date_and_the_re_approval_flag(plan, hq_manager):
    report = report_in(plan, Status.REOPENED)
    workflow.figures_changed(report, user=None)
    html = render_box(hq_manager, reload(report))
    assert "再開中（〜2025-11-25）" in html and "承認後に変更あり（再承認が必要）" in html
    assert "<form" not in html  # HQ cannot submit a branch's month


def test_the_box_offers_hq_a_reopen_form_with_a_date(plan, hq_manager):
    html = render_box(hq_manager, report_in(plan, Status.APPROVED))
    assert "承認済み" in html and '<input type="date" name="until" required>' in html and "/reopen/" in html


def test_the_box_lists_what_blocks_submission(plan, tochigi_staff):
    target = KpiTargetFactory(plan=plan, kpi=KpiFactory(name="特定保健指導実施率"), target_text="50.0%以上")
    KpiActualFactory(target=target, value=Decimal("30.0"))
    html = render_box(tochigi_staff, report_in(plan, Status.DRAFT))
    assert "「特定保健指導実施率」は△（計画を下回る）です。" in html


def test_the_box_shows_no_form_to_another_branch(plan, gifu_staff):
    assert "<form" not in render_box(gifu_staff, report_in(plan, Status.DRAFT))
