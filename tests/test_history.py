"""History and restore: every edited model keeps who, when, + ~ - and why; a KPI's history page; restoring an
earlier value through actual_record; the month lock in the one write path."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branches.models import Branch, Membership
from plans import admin as plans_admin
from plans import services
from plans.history import actual_changes, kpi_changes
from plans.models import (
    BudgetLine,
    KpiActual,
    KpiChange,
    KpiTarget,
    MeasureProgress,
    MonthReport,
    NationalAverage,
    Plan,
)
from plans.seed import SeedError, load_seed
from plans.services import (
    MONTH_LOCKED_MESSAGE,
    ActualConflict,
    MonthLocked,
    RestoreError,
    actual_delete,
    actual_record,
    actual_restore,
)
from plans.views import history as history_views
from tests.conftest import client_for
from tests.factories import (
    FiscalYearFactory,
    KpiFactory,
    KpiTargetFactory,
    MeasureFactory,
    PlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Status = MonthReport.Status
SEPTEMBER = datetime.date(2025, 9, 1)
OCTOBER = datetime.date(2025, 10, 1)
TODAY = datetime.date(2025, 11, 20)
LOCKED = MONTH_LOCKED_MESSAGE.format(month="2025年9月")


@pytest.fixture
def plan(tochigi: Branch) -> Plan:
    """Tochigi's plan for FY2025 (the seed has none): built here so the history holds only this test's rows."""
    return PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=2025))


@pytest.fixture
def target(plan: Plan) -> KpiTarget:
    return KpiTargetFactory(plan=plan, target_text="70.0%以上")


@pytest.fixture
def editor() -> AbstractBaseUser:
    return UserFactory(username="editor")


def _record(target: KpiTarget, value: str, period: str = KpiActual.Period.MONTHLY, month: Any = SEPTEMBER, **kw: Any):
    kw.setdefault("today", TODAY)
    actual, _ = actual_record(target=target, period=period, month=month, value=Decimal(value), **kw)
    return actual


def _report(plan: Plan, status: str, month: datetime.date = SEPTEMBER, until: Any = None) -> MonthReport:
    return MonthReport.objects.create(plan=plan, month=month, status=status, reopened_until=until)


def _history(target: KpiTarget) -> Any:
    return KpiActual.history.filter(target_id=target.pk).order_by("history_id")  # type: ignore[attr-defined]


def _url(target: KpiTarget) -> str:
    return reverse("kpi_history", args=[target.plan.branch.code, target.plan.fiscal_year_id, target.kpi.code])


# -- Every model a user edits keeps its history ------------------------------------------------------------------


def _edits(plan: Plan, editor: AbstractBaseUser) -> dict[str, tuple[Model, str]]:
    """One row of each recorded model, and a field to change on it."""
    target = KpiTargetFactory(plan=plan)
    measure = target.measure
    return {
        "kpi": (target.kpi, "name"),
        "kpichange": (KpiChange.objects.create(kpi=target.kpi, fiscal_year_id=2025, change="new"), "note"),
        "plan": (plan, "source"),
        "measure": (measure, "title"),
        "kpitarget": (target, "note"),
        "nationalaverage": (
            NationalAverage.objects.create(kpi=target.kpi, fiscal_year_id=2025, value=Decimal("50")),
            "value",
        ),
        "measureprogress": (MeasureProgress.objects.create(measure=measure, period="令和7年度上期"), "status"),
        "budgetline": (BudgetLine.objects.create(plan=plan, programme="広報", budget_amount=100), "note"),
        "membership": (Membership.objects.create(user=UserFactory(), branch=plan.branch), "role"),
    }


@pytest.mark.parametrize(
    "name",
    [
        "kpi",
        "kpichange",
        "plan",
        "measure",
        "kpitarget",
        "nationalaverage",
        "measureprogress",
        "budgetline",
        "membership",
    ],
)
def test_it_keeps_each_edited_models_history_with_user_and_reason(
    plan: Plan, editor: AbstractBaseUser, name: str
) -> None:
    row, field = _edits(plan, editor)[name]
    new = Decimal("51") if field == "value" else ("manager" if field == "role" else "書き換え")
    row._history_user = editor  # type: ignore[attr-defined]
    row._change_reason = "支部資料の訂正"  # type: ignore[attr-defined]
    setattr(row, field, new)
    row.save()
    latest, before = row.history.order_by("-history_id")[:2]  # type: ignore[attr-defined]
    assert (latest.history_type, before.history_type) == ("~", "+")
    assert (latest.history_user, latest.history_change_reason) == (editor, "支部資料の訂正")
    [change] = latest.diff_against(before, included_fields=[field]).changes
    assert change.new == new
    assert change.old != new


def test_it_records_who_edited_through_the_admin(admin_client: Client, plan: Plan) -> None:
    line = BudgetLine.objects.create(plan=plan, programme="広報", budget_amount=100)
    data = {"plan": plan.pk, "category": "", "programme": "広報", "budget_amount": "250", "note": "", "order": "0"}
    response = admin_client.post(reverse("admin:plans_budgetline_change", args=[line.pk]), data)
    assert response.status_code == 302
    latest = line.history.order_by("-history_id").first()  # type: ignore[attr-defined]
    assert (latest.history_type, latest.budget_amount, latest.history_user.username) == ("~", 250, "admin")


# -- actual_record, actual_delete and their history rows ----------------------------------------------------------


def test_it_gives_each_write_of_an_actual_a_history_row_with_old_and_new(
    target: KpiTarget, editor: AbstractBaseUser
) -> None:
    actual = _record(target, "26.3", user=editor, reason="9月分")
    _record(target, "27.0", user=editor, reason="訂正", expected_version=1)
    actual_delete(actual=actual, user=editor, reason="二重登録", today=TODAY)
    changes = actual_changes(target)
    assert [(c.change, c.old, c.new, c.reason, c.who) for c in changes] == [
        ("+", "", "26.3", "9月分", "editor"),
        ("~", "26.3", "27", "訂正", "editor"),
        ("-", "27", "", "二重登録", "editor"),
    ]
    assert [r.version for r in _history(target)] == [1, 2, 3]
    assert changes[0].what == "実績 2025年9月"


# -- The month lock ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("period", [KpiActual.Period.MONTHLY, KpiActual.Period.INTERIM])
def test_it_refuses_a_new_actual_in_an_approved_month_and_writes_nothing(
    plan: Plan, target: KpiTarget, period: str
) -> None:
    _report(plan, Status.APPROVED)
    with pytest.raises(MonthLocked) as exc:
        _record(target, "26.3", period=period)
    assert str(exc.value) == LOCKED
    assert str(exc.value) == (
        "2025年9月は承認済みのため変更できません。変更が必要な場合は本部に再開を依頼してください。"
    )
    assert not KpiActual.objects.filter(target=target).exists()
    assert not _history(target).exists()


@pytest.mark.parametrize("period", [KpiActual.Period.MONTHLY, KpiActual.Period.INTERIM])
def test_it_refuses_changing_or_deleting_an_actual_in_an_approved_month(
    plan: Plan, target: KpiTarget, period: str
) -> None:
    actual = _record(target, "26.3", period=period)
    report = _report(plan, Status.APPROVED)
    with pytest.raises(MonthLocked):
        _record(target, "30.0", period=period, expected_version=1)
    with pytest.raises(MonthLocked):
        actual_delete(actual=actual, user=None, reason="誤入力", today=TODAY)
    stored = KpiActual.objects.get(pk=actual.pk)
    assert (stored.value, stored.version) == (Decimal("26.3"), 1)
    assert _history(target).count() == 1
    report.refresh_from_db()
    assert report.changed_after_approval is False


def test_it_accepts_an_unchanged_save_in_an_approved_month_writing_nothing(plan: Plan, target: KpiTarget) -> None:
    _record(target, "26.3")
    _report(plan, Status.APPROVED)
    _, outcome = actual_record(
        target=target, period="monthly", month=SEPTEMBER, value=Decimal("26.30"), expected_version=1, today=TODAY
    )
    assert outcome == "unchanged"
    assert _history(target).count() == 1


@pytest.mark.parametrize("status", [Status.DRAFT, Status.SUBMITTED, Status.RETURNED])
def test_it_lets_a_month_not_yet_approved_be_changed(plan: Plan, target: KpiTarget, status: str) -> None:
    report = _report(plan, status)
    assert _record(target, "26.3").value == Decimal("26.3")
    report.refresh_from_db()
    assert report.changed_after_approval is False


def test_it_lets_a_month_without_a_report_be_changed(plan: Plan, target: KpiTarget) -> None:
    _report(plan, Status.APPROVED, month=OCTOBER)  # another month's lock does not reach September
    assert _record(target, "26.3").version == 1


def test_it_allows_a_reopened_month_until_its_end_date_and_flags_it_for_reapproval(
    plan: Plan, target: KpiTarget, editor: AbstractBaseUser
) -> None:
    actual = _record(target, "26.3")
    report = _report(plan, Status.REOPENED, until=TODAY)  # the end date itself still counts
    _record(target, "27.0", user=editor, reason="承認後の訂正", expected_version=1)
    assert KpiActual.objects.get(pk=actual.pk).value == Decimal("27.0")
    report.refresh_from_db()
    assert report.changed_after_approval is True
    assert report.updated_by == editor


def test_it_flags_a_reopened_month_when_an_actual_is_created_or_deleted(plan: Plan, target: KpiTarget) -> None:
    report = _report(plan, Status.REOPENED, until=TODAY)
    actual = _record(target, "26.3")
    assert MonthReport.objects.get(pk=report.pk).changed_after_approval is True
    MonthReport.objects.filter(pk=report.pk).update(changed_after_approval=False)
    actual_delete(actual=actual, user=None, reason="誤入力", today=TODAY)
    assert MonthReport.objects.get(pk=report.pk).changed_after_approval is True


def test_it_refuses_a_reopened_month_after_its_end_date(plan: Plan, target: KpiTarget) -> None:
    _record(target, "26.3")
    report = _report(plan, Status.REOPENED, until=TODAY - datetime.timedelta(days=1))
    with pytest.raises(MonthLocked, match="2025年9月は承認済み"):
        _record(target, "27.0", expected_version=1)
    assert KpiActual.objects.get(target=target).value == Decimal("26.3")
    report.refresh_from_db()
    assert report.changed_after_approval is False


def test_it_leaves_year_end_actuals_to_no_month_report(plan: Plan, target: KpiTarget) -> None:
    for month in (datetime.date(2026, 3, 1), SEPTEMBER):
        _report(plan, Status.APPROVED, month=month)
    actual = _record(target, "72.2", period=KpiActual.Period.YEAR_END, month=None)
    _record(target, "72.5", period=KpiActual.Period.YEAR_END, month=None, expected_version=1)
    assert actual_delete(actual=actual, user=None, reason="誤入力", today=TODAY) is True


def test_it_checks_the_lock_against_today_by_default(plan: Plan, target: KpiTarget) -> None:
    _report(plan, Status.REOPENED, until=datetime.date(2025, 12, 31))  # long past by the real calendar
    with pytest.raises(MonthLocked):
        actual_record(target=target, period="monthly", month=SEPTEMBER, value=Decimal("1"))


# -- The seed loader meets a locked month ------------------------------------------------------------------------


def _seed_monthly_actual() -> KpiActual:
    return KpiActual.objects.filter(source="seed", month__isnull=False).order_by("pk").first()


def test_it_refuses_to_load_a_seed_that_would_change_an_approved_month() -> None:
    actual = _seed_monthly_actual()
    MonthReport.objects.create(plan=actual.target.plan, month=actual.month, status=Status.APPROVED)
    KpiActual.objects.filter(pk=actual.pk).update(value=actual.value + 1)  # the seed would put it back
    history_rows = KpiActual.history.count()  # type: ignore[attr-defined]
    with pytest.raises(SeedError) as exc:
        load_seed()
    month = f"{actual.month.year}年{actual.month.month}月"
    assert str(exc.value) == (
        f"{actual.target.plan.branch} {actual.target.kpi.code}: {month}は承認済みのため変更できません。"
        "変更が必要な場合は本部に再開を依頼してください。シードデータは読み込んでいません。"
    )
    assert KpiActual.objects.get(pk=actual.pk).value == actual.value + 1
    assert KpiActual.history.count() == history_rows  # type: ignore[attr-defined]


def test_it_reloads_an_unchanged_seed_over_an_approved_month() -> None:
    actual = _seed_monthly_actual()
    MonthReport.objects.create(plan=actual.target.plan, month=actual.month, status=Status.APPROVED)
    report = load_seed()
    assert not report.changed


# -- Restore (the service) --------------------------------------------------------------------------------------


def test_it_restores_an_earlier_value_as_a_new_recorded_version(target: KpiTarget, editor: AbstractBaseUser) -> None:
    _record(target, "26.3")
    _record(target, "27.0", expected_version=1)
    first = _history(target).first()
    actual, outcome = actual_restore(
        target=target, history_id=first.history_id, user=editor, expected_version=2, reason="誤訂正", today=TODAY
    )
    assert (outcome, actual.value, actual.version) == ("updated", Decimal("26.3"), 3)
    latest = _history(target).last()
    assert (latest.history_type, latest.history_user, latest.history_change_reason) == ("~", editor, "復元: 誤訂正")
    assert (actual_changes(target)[-1].old, actual_changes(target)[-1].new) == ("27", "26.3")


def test_it_refuses_a_restore_from_a_stale_page(target: KpiTarget) -> None:
    _record(target, "26.3")
    _record(target, "27.0", expected_version=1)
    first = _history(target).first()
    with pytest.raises(ActualConflict):
        actual_restore(target=target, history_id=first.history_id, user=None, expected_version=1, reason="戻す")
    assert KpiActual.objects.get(target=target).value == Decimal("27.0")
    assert _history(target).count() == 2


def test_it_restores_a_deleted_actual(target: KpiTarget) -> None:
    actual = _record(target, "26.3")
    actual_delete(actual=actual, user=None, reason="誤って削除", today=TODAY)
    first = _history(target).first()
    restored, outcome = actual_restore(
        target=target, history_id=first.history_id, user=None, expected_version=0, reason="削除の取消し", today=TODAY
    )
    assert (outcome, restored.value, restored.version) == ("created", Decimal("26.3"), 1)
    assert [(c.change, c.old, c.new) for c in actual_changes(target)][-1] == ("+", "", "26.3")


def test_it_refuses_a_restore_in_a_locked_month(plan: Plan, target: KpiTarget) -> None:
    _record(target, "26.3")
    _record(target, "27.0", expected_version=1)
    _report(plan, Status.APPROVED)
    first = _history(target).first()
    with pytest.raises(MonthLocked):
        actual_restore(
            target=target, history_id=first.history_id, user=None, expected_version=2, reason="戻す", today=TODAY
        )
    assert KpiActual.objects.get(target=target).value == Decimal("27.0")


def test_it_refuses_a_restore_without_a_reason_or_of_another_targets_row(plan: Plan, target: KpiTarget) -> None:
    _record(target, "26.3")
    other = KpiTargetFactory(plan=plan)
    _record(other, "40.0")
    first = _history(target).first()
    with pytest.raises(RestoreError, match=services.RESTORE_REASON_REQUIRED):
        actual_restore(target=target, history_id=first.history_id, user=None, expected_version=1, reason="  ")
    with pytest.raises(RestoreError, match=services.RESTORE_NO_SUCH_ROW):
        actual_restore(target=other, history_id=first.history_id, user=None, expected_version=1, reason="戻す")


# -- The history page --------------------------------------------------------------------------------------------


@pytest.fixture
def changed(target: KpiTarget, editor: AbstractBaseUser) -> KpiTarget:
    """A target edited once, with a September actual entered and corrected."""
    _record(target, "26.3", user=editor, reason="9月分の入力")
    _record(target, "27.0", user=editor, reason="支部資料の訂正", expected_version=1)
    target._history_user = editor  # type: ignore[attr-defined]
    target._change_reason = "計画の改訂"  # type: ignore[attr-defined]
    target.apply_target_text("72.0%以上")
    target.save()
    return target


def test_it_shows_every_change_newest_first_with_old_and_new(changed: KpiTarget, tochigi_staff: Any) -> None:
    response = client_for(tochigi_staff).get(_url(changed))
    assert response.status_code == 200
    rows = [change for change, _ in response.context["rows"]]
    assert [(c.what, c.old, c.new, c.reason) for c in rows] == [
        ("目標", "70.0%以上", "72.0%以上", "計画の改訂"),
        ("実績 2025年9月", "26.3", "27", "支部資料の訂正"),
        ("実績 2025年9月", "", "26.3", "9月分の入力"),
        ("目標", "", "70.0%以上", ""),
    ]
    html = response.content.decode()
    assert "支部資料の訂正" in html and "editor" in html and "画面入力" in html
    assert html.count("この値に戻す") == 1  # only the earlier value of the actual; the newest is current


def test_it_links_the_history_from_the_dashboard_row_and_the_kpi_page(changed: KpiTarget, tochigi_staff: Any) -> None:
    client = client_for(tochigi_staff)
    plan = changed.plan
    dashboard = client.get(reverse("branch_dashboard", args=[plan.branch.code, plan.fiscal_year_id]))
    detail = client.get(reverse("kpi_detail", args=[plan.branch.code, plan.fiscal_year_id, changed.kpi.code]))
    assert f'href="{_url(changed)}"' in dashboard.content.decode()
    assert f'href="{_url(changed)}"' in detail.content.decode()


@pytest.mark.parametrize("persona", ["tochigi_staff", "tochigi_manager"])
def test_it_lets_the_branch_restore_an_earlier_value(changed: KpiTarget, persona: str, request: Any) -> None:
    user = request.getfixturevalue(persona)
    client = client_for(user)
    first = _history(changed).first()
    response = client.post(_url(changed), {"history_id": first.history_id, "expected_version": 2, "reason": "誤訂正"})
    assert response.status_code == 302
    stored = KpiActual.objects.get(target=changed)
    assert (stored.value, stored.version, stored.entered_by) == (Decimal("26.3"), 3, user)
    latest = _history(changed).last()
    assert (latest.history_user, latest.history_change_reason) == (user, "復元: 誤訂正")
    page = client.get(response["Location"])
    assert "「26.3」に戻しました" in page.content.decode()


def test_it_offers_no_restore_of_a_value_the_actual_holds_now(changed: KpiTarget, tochigi_staff: Any) -> None:
    _record(changed, "26.3", expected_version=2)  # back to the first value by hand
    client = client_for(tochigi_staff)
    response = client.get(_url(changed))
    offered = [(change.new, version) for change, version in response.context["rows"] if version is not None]
    assert offered == [("27", 3)]
    first = _history(changed).first()
    response = client.post(_url(changed), {"history_id": first.history_id, "expected_version": 3, "reason": "x"})
    assert response.status_code == 302
    assert "すでに「26.3」です。変更していません。" in client.get(response["Location"]).content.decode()
    assert _history(changed).count() == 3


def test_it_refuses_a_stale_restore_showing_the_conflict(changed: KpiTarget, tochigi_staff: Any) -> None:
    first = _history(changed).first()
    _record(changed, "28.0", expected_version=2)  # someone saved while the page was open
    response = client_for(tochigi_staff).post(
        _url(changed), {"history_id": first.history_id, "expected_version": 2, "reason": "誤訂正"}
    )
    assert response.status_code == 409
    assert response.context["error"].startswith("この実績は他の利用者が先に更新しました（版 3）。")
    assert 'value="誤訂正"' in response.content.decode()  # what was typed is kept
    assert KpiActual.objects.get(target=changed).value == Decimal("28.0")


def test_it_refuses_a_restore_on_the_page_in_a_locked_month(changed: KpiTarget, tochigi_staff: Any) -> None:
    _report(changed.plan, Status.APPROVED)
    first = _history(changed).first()
    response = client_for(tochigi_staff).post(
        _url(changed), {"history_id": first.history_id, "expected_version": 2, "reason": "誤訂正"}
    )
    assert response.status_code == 409
    assert response.context["error"] == LOCKED
    assert KpiActual.objects.get(target=changed).value == Decimal("27.0")


def test_it_requires_a_reason_to_restore(changed: KpiTarget, tochigi_staff: Any) -> None:
    first = _history(changed).first()
    response = client_for(tochigi_staff).post(
        _url(changed), {"history_id": first.history_id, "expected_version": 2, "reason": ""}
    )
    assert response.status_code == 400
    assert response.context["error"] == services.RESTORE_REASON_REQUIRED
    assert KpiActual.objects.get(target=changed).value == Decimal("27.0")


def test_it_refuses_a_malformed_restore(changed: KpiTarget, tochigi_staff: Any) -> None:
    response = client_for(tochigi_staff).post(_url(changed), {"history_id": "x", "reason": "戻す"})
    assert response.status_code == 400
    assert response.context["error"] == history_views.RESTORE_INVALID


def test_it_lets_headquarters_read_the_history_but_not_restore(changed: KpiTarget, hq_manager: Any) -> None:
    client = client_for(hq_manager)
    page = client.get(_url(changed))
    assert page.status_code == 200
    assert "この値に戻す" not in page.content.decode()
    first = _history(changed).first()
    response = client.post(_url(changed), {"history_id": first.history_id, "expected_version": 2, "reason": "x"})
    assert response.status_code == 403
    assert KpiActual.objects.get(target=changed).value == Decimal("27.0")


def test_it_lets_a_superuser_restore(changed: KpiTarget, admin_client: Client) -> None:
    first = _history(changed).first()
    response = admin_client.post(_url(changed), {"history_id": first.history_id, "expected_version": 2, "reason": "x"})
    assert response.status_code == 302
    assert KpiActual.objects.get(target=changed).value == Decimal("26.3")


@pytest.mark.parametrize("persona", ["gifu_staff", "outsider"])
def test_it_hides_the_history_from_other_branches(changed: KpiTarget, persona: str, request: Any) -> None:
    client = client_for(request.getfixturevalue(persona))
    assert client.get(_url(changed)).status_code == 403
    first = _history(changed).first()
    response = client.post(_url(changed), {"history_id": first.history_id, "expected_version": 2, "reason": "x"})
    assert response.status_code == 403
    assert KpiActual.objects.get(target=changed).value == Decimal("27.0")


def test_it_sends_an_anonymous_visitor_to_the_login(changed: KpiTarget) -> None:
    response = Client().get(_url(changed))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_answers_other_methods_with_405(changed: KpiTarget, tochigi_staff: Any) -> None:
    client = client_for(tochigi_staff)
    assert client.put(_url(changed)).status_code == 405
    assert client.delete(_url(changed)).status_code == 405


def test_it_answers_404_for_a_kpi_not_in_the_plan(changed: KpiTarget, tochigi_staff: Any) -> None:
    other = KpiFactory()
    url = reverse("kpi_history", args=["tochigi", 2025, other.code])
    assert client_for(tochigi_staff).get(url).status_code == 404


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_it_reads_the_history_in_a_constant_number_of_queries(changed: KpiTarget, tochigi_staff: Any) -> None:
    client = client_for(tochigi_staff)
    few = _queries(client, _url(changed))
    for month in (4, 5, 6, 7, 8):
        actual = _record(changed, "10.0", month=datetime.date(2025, month, 1))
        _record(changed, "11.0", month=actual.month, expected_version=1, user=UserFactory())
    MeasureFactory(plan=changed.plan)
    assert len(kpi_changes(changed)) == 14
    assert _queries(client, _url(changed)) == few == 7


# -- The admin: history shown, restore only through the history page, the lock as a form error -------------------


def test_it_shows_an_actuals_history_in_the_admin(changed: KpiTarget, admin_client: Client) -> None:
    actual = KpiActual.objects.get(target=changed)
    response = admin_client.get(reverse("admin:plans_kpiactual_history", args=[actual.pk]))
    assert response.status_code == 200
    assert "支部資料の訂正" in response.content.decode()


def test_it_refuses_the_admins_revert_of_an_actual(changed: KpiTarget, admin_client: Client) -> None:
    actual = KpiActual.objects.get(target=changed)
    first = _history(changed).first()
    url = reverse("admin:plans_kpiactual_simple_history", args=[actual.pk, first.history_id])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"value": "26.3", "reason": "戻す", "expected_version": "2"})
    assert response.status_code == 403
    assert plans_admin.ADMIN_REVERT_REFUSED in response.content.decode()
    assert KpiActual.objects.get(pk=actual.pk).value == Decimal("27.0")


def test_it_shows_a_locked_month_as_an_admin_form_error(changed: KpiTarget, admin_client: Client) -> None:
    _report(changed.plan, Status.APPROVED)
    actual = KpiActual.objects.get(target=changed)
    data = {
        "value": "30",
        "text_value": "",
        "numerator": "",
        "denominator": "",
        "is_cumulative": "on",
        "note": "",
        "reason": "訂正",
        "expected_version": str(actual.version),
    }
    response = admin_client.post(reverse("admin:plans_kpiactual_change", args=[actual.pk]), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [LOCKED]
    assert KpiActual.objects.get(pk=actual.pk).value == Decimal("27.0")


def test_it_refuses_deleting_an_actual_of_a_locked_month_in_the_admin(changed: KpiTarget, admin_client: Client) -> None:
    _report(changed.plan, Status.APPROVED)
    actual = KpiActual.objects.get(target=changed)
    response = admin_client.post(reverse("admin:plans_kpiactual_delete", args=[actual.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert KpiActual.objects.filter(pk=actual.pk).exists()
