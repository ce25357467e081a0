"""The month screen in a real browser: the keyboard, a block pasted from Excel, a reload that keeps what was typed,
a refused save, a conflict, submit and approve (the session browser of ``tests/e2e/conftest.py``)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from plans.models import Kpi, KpiActual, KpiTarget, MonthReport
from tests.e2e.conftest import screenshot
from tests.factories import BranchFactory, FiscalYearFactory, KpiFactory, KpiTargetFactory, PlanFactory, member

JUNE = datetime.date(2025, 6, 1)


@pytest.fixture
def browser_page(new_context: Callable[[], Any]) -> Any:
    """A browser context of its own (cookies are added by the test)."""
    return new_context()


def _paste(page: Any, selector: str, text: str) -> None:
    page.eval_on_selector(
        selector,
        """(el, text) => { el.focus(); const dt = new DataTransfer(); dt.setData('text/plain', text);
            el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true})); }""",
        text,
    )


@pytest.mark.django_db(transaction=True)
def test_a_month_is_entered_with_the_keyboard_and_a_pasted_block(
    browser_page: Any, new_context: Callable[[], Any], live_server: Any
) -> None:
    tochigi = BranchFactory(code="tochigi")
    plan = PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=2025))
    rate = KpiTargetFactory(plan=plan, kpi=KpiFactory(kind=Kpi.Kind.RATE, name="特定健診受診率"), order=1)
    counts: list[KpiTarget] = [
        KpiTargetFactory(plan=plan, kpi=KpiFactory(kind=Kpi.Kind.COUNT, name=f"訪問件数{i}"), order=2 + i)
        for i in range(2)
    ]
    done = KpiTargetFactory(plan=plan, kpi=KpiFactory(kind=Kpi.Kind.QUALITATIVE, name="広報の実施"), order=9)
    staff = member("browser-staff", branch=tochigi, staff=True)
    client = Client()
    client.force_login(staff)
    session = client.cookies["sessionid"].value
    browser_page.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = browser_page.new_page()
    url = f"{live_server.url}/branches/tochigi/2025/entry/2025-06/"
    page.goto(url)

    # Keyboard: numerator, Tab, denominator; the rate shows live at the KPI's precision.
    page.click(f"[name=t{rate.pk}-numerator]")
    page.keyboard.type("361")
    page.keyboard.press("Tab")
    page.keyboard.type("500")
    assert page.text_content(f"#t{rate.pk} .live-rate") == "= 72.2%"
    # Enter moves down to the next row's value cell.
    page.click(f"[name=t{rate.pk}-value]")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.name") == f"t{counts[0].pk}-value"

    # Arrow keys move up and down the same column.
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.name") == f"t{rate.pk}-value"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.name") == f"t{counts[0].pk}-value"

    # A block copied from Excel fills the cells below; one of them is refused on save.
    _paste(page, f"[name=t{counts[0].pk}-value]", "12\n-3\n実施\n")
    assert page.input_value(f"[name=t{counts[1].pk}-value]") == "-3"
    assert page.input_value(f"[name=t{done.pk}-text]") == "実施"
    assert "is-edited" in (page.get_attribute(f"[name=t{counts[0].pk}-value]", "class") or "")

    # A reload keeps what was typed, with a notice.
    page.reload()
    assert page.input_value(f"[name=t{counts[1].pk}-value]") == "-3"
    assert page.is_visible(".restore-notice")

    page.click("button:has-text('この月の実績を保存')")
    page.wait_for_load_state()
    assert "負の数は入力できません" in page.text_content(f"#t{counts[1].pk}")
    assert page.input_value(f"[name=t{counts[1].pk}-value]") == "-3"
    assert not KpiActual.objects.filter(target__plan=plan).exists()
    screenshot(page, "entry-refused-1366")

    page.fill(f"[name=t{counts[1].pk}-value]", "13")
    page.click("button:has-text('この月の実績を保存')")
    page.wait_for_load_state()
    assert "2025年6月の実績を保存しました" in page.text_content(".messages")
    saved = {a.target_id: a for a in KpiActual.objects.filter(target__plan=plan, month=JUNE)}
    assert saved[rate.pk].value == Decimal("72.2") and saved[counts[1].pk].value == 13
    assert saved[done.pk].text_value == "実施"
    assert page.evaluate("localStorage.getItem('kpitrack-entry:tochigi:2025:2025-06')") is None
    screenshot(page, "entry-saved-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "entry-saved-390")
    page.set_viewport_size({"width": 1366, "height": 900})

    # Someone else saves the same row meanwhile: the browser's save meets a conflict and chooses.
    manager = Client()
    manager.force_login(member("browser-manager", branch=tochigi, manager=True))
    actual = KpiActual.objects.get(target=counts[0], month=JUNE)
    data = {f"t{counts[0].pk}-value": "20", f"t{counts[0].pk}-version": str(actual.version)}
    assert manager.post(url.removeprefix(live_server.url), data).status_code == 302
    page.fill(f"[name=t{counts[0].pk}-value]", "21")
    page.click("button:has-text('この月の実績を保存')")
    page.wait_for_load_state()
    conflict = page.text_content(f"#t{counts[0].pk} .conflict") or ""
    assert "「20」" in conflict and "browser-manager" in conflict and "「21」" in conflict
    assert KpiActual.objects.get(target=counts[0], month=JUNE).value == 20
    screenshot(page, "entry-conflict-1366")
    page.check(f"[name=t{counts[0].pk}-resolve][value=mine]")
    page.click("button:has-text('この月の実績を保存')")
    page.wait_for_load_state()
    assert KpiActual.objects.get(target=counts[0], month=JUNE).value == 21

    # Submit: rows behind their target need 要因 and 対応 first, then the staff member submits the month.
    for field in page.query_selector_all("input[name$='-cause']"):
        field.fill("受診勧奨の遅れ")
    for field in page.query_selector_all("input[name$='-action']"):
        field.fill("10月に再勧奨")
    page.click("button:has-text('この月の実績を保存')")
    page.wait_for_load_state()
    page.click(".wf-form-submit button")
    page.wait_for_load_state()
    report = MonthReport.objects.get(plan=plan, month=JUNE)
    assert report.status == MonthReport.Status.SUBMITTED, page.text_content(".month-workflow")

    # The branch's manager approves in their own browser session; the month is then locked.
    manager_page = new_context()
    manager_page.add_cookies(
        [{"name": "sessionid", "value": manager.cookies["sessionid"].value, "url": live_server.url}]
    )
    approver = manager_page.new_page()
    approver.goto(url)
    approver.click(".wf-form-approve button")
    approver.wait_for_load_state()
    report.refresh_from_db()
    assert report.status == MonthReport.Status.APPROVED
    assert approver.is_disabled(f"[name=t{counts[0].pk}-value]")
    screenshot(approver, "entry-approved-1366")
