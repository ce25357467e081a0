"""Writing journeys on the month screen: log in, save a month, meet a conflict, submit and approve.

Each person has their own browser context (cookies, localStorage) and signs in through the login page.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from plans.models import Kpi, KpiActual, KpiTarget, MonthReport, Plan
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

JUNE = datetime.date(2025, 6, 1)
URL = "/branches/shiga/2025/entry/2025-06/"
SAVE = "button:has-text('この月の実績を保存')"
SAVED_MESSAGE = "2025年6月の実績を保存しました"


@dataclass
class Month:
    plan: Plan
    visits: KpiTarget
    talks: KpiTarget


@pytest.fixture
def shiga_june(transactional_db: None) -> Month:
    """Shiga's 2025 plan with two count KPIs, its two staff members and its manager (password: PASSWORD)."""
    shiga = BranchFactory(code="shiga")
    plan = PlanFactory(branch=shiga, fiscal_year=FiscalYearFactory(year=2025))
    visits = KpiTargetFactory(plan=plan, kpi=KpiFactory(kind=Kpi.Kind.COUNT, name="事業所訪問件数"), order=1)
    talks = KpiTargetFactory(plan=plan, kpi=KpiFactory(kind=Kpi.Kind.COUNT, name="健康宣言説明会件数"), order=2)
    member("shiga-staff", branch=shiga, staff=True)
    member("shiga-staff2", branch=shiga, staff=True)
    member("shiga-manager", branch=shiga, manager=True)
    return Month(plan, visits, talks)


def value_field(target: KpiTarget) -> str:
    return f"[name=t{target.pk}-value]"


def save(page: Any) -> None:
    """Press save and wait for the answer page (a redirect after a save, the same form after a refusal)."""
    with page.expect_navigation():
        page.click(SAVE)


def test_it_saves_a_month_typed_by_staff_who_logged_in_on_the_login_page(
    shiga_june: Month, log_in: Callable[[str, str], Any], page_errors: PageErrors
) -> None:
    page = log_in("shiga-staff", PASSWORD)
    page.goto(URL)
    page.fill(value_field(shiga_june.visits), "12")
    page.fill(value_field(shiga_june.talks), "3")
    save(page)

    assert SAVED_MESSAGE in (page.text_content(".messages") or "")
    assert page.url.endswith(URL)
    assert (page.text_content(f"#t{shiga_june.visits.pk} .saved-value") or "").strip() == "12"
    assert page.input_value(value_field(shiga_june.talks)) == "3"
    saved = {a.target_id: a for a in KpiActual.objects.filter(target__plan=shiga_june.plan, month=JUNE)}
    assert saved[shiga_june.visits.pk].value == Decimal(12) and saved[shiga_june.talks.pk].value == Decimal(3)
    history = saved[shiga_june.visits.pk].history.get()
    assert history.history_user.username == "shiga-staff" and history.value == Decimal(12)

    page.reload()  # what the page shows after a fresh load is what was saved
    assert page.input_value(value_field(shiga_june.visits)) == "12"
    assert not page.is_visible(".restore-notice")
    screenshot(page, "month-saved")
    assert list(page_errors) == []


def test_it_shows_both_values_when_two_people_save_the_same_kpi_and_loses_neither(
    shiga_june: Month, log_in: Callable[[str, str], Any], page_errors: PageErrors
) -> None:
    first = log_in("shiga-staff", PASSWORD)
    second = log_in("shiga-staff2", PASSWORD)
    first.goto(URL)
    second.goto(URL)  # both read the month while the cell is still empty

    first.fill(value_field(shiga_june.visits), "20")
    save(first)
    assert SAVED_MESSAGE in (first.text_content(".messages") or "")

    second.fill(value_field(shiga_june.visits), "21")
    second.fill(value_field(shiga_june.talks), "4")
    save(second)
    conflict = second.text_content(f"#t{shiga_june.visits.pk} .conflict") or ""
    assert "「20」（shiga-staff、" in conflict and "あなたの入力: 「21」" in conflict
    assert "他の利用者が先に保存した値があります" in (second.text_content("main") or "")
    # Nothing of the second save was written (the month is saved whole or not at all) and nothing typed is gone.
    actuals = KpiActual.objects.filter(target__plan=shiga_june.plan, month=JUNE)
    assert {(a.target_id, a.value) for a in actuals} == {(shiga_june.visits.pk, Decimal(20))}
    assert second.input_value(value_field(shiga_june.visits)) == "21"
    assert second.input_value(value_field(shiga_june.talks)) == "4"
    screenshot(second, "month-conflict")

    second.check(f"[name=t{shiga_june.visits.pk}-resolve][value=mine]")
    save(second)
    assert SAVED_MESSAGE in (second.text_content(".messages") or "")
    visits = KpiActual.objects.get(target=shiga_june.visits, month=JUNE)
    assert visits.value == Decimal(21)
    assert KpiActual.objects.get(target=shiga_june.talks, month=JUNE).value == Decimal(4)
    assert [(h.value, h.history_user.username) for h in visits.history.order_by("history_date")] == [
        (Decimal(20), "shiga-staff"),
        (Decimal(21), "shiga-staff2"),
    ]

    first.reload()  # the first person now sees the value chosen after the conflict
    assert first.input_value(value_field(shiga_june.visits)) == "21"
    assert list(page_errors) == []


def test_it_locks_the_month_once_the_branch_manager_approves_what_staff_submitted(
    shiga_june: Month, log_in: Callable[[str, str], Any], page_errors: PageErrors
) -> None:
    staff = log_in("shiga-staff", PASSWORD)
    staff.goto(URL)
    staff.fill(value_field(shiga_june.visits), "30")
    staff.fill(value_field(shiga_june.talks), "5")
    save(staff)
    assert SAVED_MESSAGE in (staff.text_content(".messages") or "")
    notes = staff.locator("input[name$='-cause']")
    if notes.count():  # rows behind their target need 要因 and 対応 before the month can be submitted
        for field in staff.query_selector_all("input[name$='-cause']"):
            field.fill("訪問の日程調整の遅れ")
        for field in staff.query_selector_all("input[name$='-action']"):
            field.fill("7月に集中して訪問")
        save(staff)
    with staff.expect_navigation():
        staff.click(".wf-form-submit button")
    report = MonthReport.objects.get(plan=shiga_june.plan, month=JUNE)
    assert report.status == MonthReport.Status.SUBMITTED, staff.text_content(".month-workflow")
    assert staff.locator(".wf-form-approve").count() == 0  # staff cannot approve their own month

    manager = log_in("shiga-manager", PASSWORD)
    manager.goto(URL)
    with manager.expect_navigation():
        manager.click(".wf-form-approve button")
    report.refresh_from_db()
    assert report.status == MonthReport.Status.APPROVED
    assert (manager.text_content(".wf-badge") or "").strip() == "承認済み"
    assert manager.is_disabled(value_field(shiga_june.visits))
    screenshot(manager, "month-approved")

    staff.reload()  # staff now read a locked month: no save button, figures unchanged
    assert "承認済みでロックされています" in (staff.text_content(".locked-notice") or "")
    assert staff.locator(SAVE).count() == 0
    assert KpiActual.objects.get(target=shiga_june.visits, month=JUNE).value == Decimal(30)
    assert list(page_errors) == []
