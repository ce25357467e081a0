"""The plan edit page in a real browser: typing a target phrase shows how it reads, or why it cannot be read.

The session browser of ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.e2e.conftest import screenshot
from tests.factories import BranchFactory, FiscalYearFactory, KpiTargetFactory, PlanFactory, member


@pytest.mark.django_db(transaction=True)
def test_typing_a_phrase_shows_the_parsed_rule_and_the_error(new_context: Callable[[], Any], live_server: Any) -> None:
    tochigi = BranchFactory(code="tochigi")
    plan = PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=2026))
    target = KpiTargetFactory(plan=plan, target_text="")
    staff = member("browser-staff", branch=tochigi, staff=True)
    client = Client()
    client.force_login(staff)
    context = new_context()
    session = client.cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/branches/tochigi/2026/plan/edit/")
    field = page.locator(f"input[name=t{target.pk}-text]")
    output = page.locator(f"#t{target.pk}-parse")

    field.type("対前年度（93.3％）以上")
    page.wait_for_function("el => el.textContent.includes('基準値')", arg=output.element_handle())
    read = output.text_content()
    field.fill("たくさん")
    page.wait_for_function("el => el.classList.contains('parse-error')", arg=output.element_handle())
    error = output.text_content()
    changed = page.locator(f"tr#t{target.pk}").get_attribute("class")
    screenshot(page, "plan-edit-1366")

    assert read == "対前年度以上・基準値 93.3%"
    assert error is not None and error.startswith("目標「たくさん」を読み取れません")
    assert "is-changed" in (changed or "")


@pytest.mark.django_db(transaction=True)
def test_the_edit_page_fits_a_phone_without_scrolling_sideways(new_context: Callable[[], Any], live_server: Any):
    tochigi = BranchFactory(code="tochigi")
    plan = PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=2026))
    KpiTargetFactory(plan=plan, target_text="71.7%以上")
    client = Client()
    client.force_login(member("phone-staff", branch=tochigi, staff=True))
    context = new_context()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/branches/tochigi/2026/plan/edit/")
    page.wait_for_selector("input.target-text")
    screenshot(page, "plan-edit-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
