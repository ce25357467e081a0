"""The plan import in a real browser: paste a plan, watch a target phrase read as it is typed, correct, save.

The session browser of ``tests/e2e/conftest.py``; the KPI catalogue comes from the seed's catalogue (``catalogued``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from plans.models import KpiTarget, Plan
from plans.rules import REASON_TWO_TARGETS
from tests.e2e.conftest import screenshot
from tests.factories import BranchFactory, member
from tests.test_plan_import_views import PLAN_TEXT, YEAR

#: A predicate, not an expression: the page's CSP (script-src 'self') refuses Playwright's eval of a string.
SHOWS = "([id, text]) => document.getElementById(id).textContent.includes(text)"


@pytest.mark.django_db(transaction=True)
def test_a_phrase_is_read_as_it_is_typed_and_the_corrected_draft_is_saved(
    catalogued: None, new_context: Callable[[], Any], live_server: Any
) -> None:
    browser_page = new_context()
    tochigi = BranchFactory(code="tochigi")
    client = Client()
    client.force_login(member("import-staff", branch=tochigi, staff=True))
    browser_page.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = browser_page.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))  # a script error on the page

    page.goto(f"{live_server.url}/branches/tochigi/{YEAR}/plan/import/")
    page.fill("textarea[name=text]", PLAN_TEXT)
    page.click("button:has-text('読み込んで下書きを作る')")
    page.wait_for_load_state()

    assert "目標値 2100" in page.text_content("#parse-0")
    page.fill("[name=line-0-target_text]", "2,000事業所以上とする 1,600事業所以上")
    page.wait_for_function(SHOWS, arg=["parse-0", REASON_TWO_TARGETS])
    page.fill("[name=line-0-target_text]", "2,500事業所以上")
    page.wait_for_function(SHOWS, arg=["parse-0", "2500"])
    assert "固定値以上" in page.text_content("#parse-0")
    page.select_option("[name=line-2-kpi]", "insured_guidance_rate")
    assert page.is_hidden("tbody:nth-of-type(3) .flag-unmatched")
    page.fill("[name=line-2-target_text]", "20.0％以上")
    page.wait_for_function(SHOWS, arg=["parse-2", "20.0"])
    screenshot(page, "plan-import-review-1366")
    assert not Plan.objects.filter(branch=tochigi, fiscal_year=YEAR).exists()

    page.click("button:has-text('この内容で保存')")
    page.wait_for_load_state()

    plan = Plan.objects.get(branch=tochigi, fiscal_year=YEAR)
    saved = dict(KpiTarget.objects.filter(plan=plan).values_list("kpi__code", "target_value"))
    assert saved == {
        "health_declaration_offices": Decimal("2500"),
        "lifestyle_checkup_rate": Decimal("65.0"),
        "insured_guidance_rate": Decimal("20.0"),
    }
    assert "保存しました" in page.text_content(".messages")
    assert errors == []
