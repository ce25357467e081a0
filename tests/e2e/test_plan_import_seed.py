"""A seed plan document imported in the browser: paste its text, review the draft, correct one line, confirm, and
see the saved plan on the plan page. The KPI catalogue and the branches come from the seed's catalogue
(``catalogued``)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from branches.models import Branch
from plans.models import KpiTarget, Plan
from plans.views.plan_import import SAVED
from tests.e2e.conftest import PageErrors, screenshot
from tests.factories import PASSWORD, member
from tests.test_plan_import_views import SEEDS

pytestmark = pytest.mark.django_db(transaction=True)

DOCUMENT = SEEDS / "001_1a96f4371dfdfb7e.txt"  # 令和7年度 鹿児島支部事業計画（案）
CORRECTED = "health_declaration_offices"
#: A predicate, not an expression: the page's CSP (script-src 'self') refuses Playwright's eval of a string.
SHOWS = "([id, text]) => document.getElementById(id).textContent.includes(text)"


def test_it_saves_a_pasted_seed_plan_after_one_line_is_corrected_on_the_review_page(
    catalogued: None, log_in: Callable[[str, str], Any], page_errors: PageErrors
) -> None:
    if not DOCUMENT.is_file():
        pytest.skip(f"seed document absent: {DOCUMENT}")
    Plan.objects.filter(branch__code="kagoshima", fiscal_year=2025).delete()
    member("kagoshima-staff", branch=Branch.objects.get(code="kagoshima"), staff=True)
    page = log_in("kagoshima-staff", PASSWORD)

    page.goto("/branches/kagoshima/2025/plan/import/")
    page.fill("textarea[name=text]", DOCUMENT.read_text(encoding="utf-8"))
    with page.expect_navigation():
        page.click("button:has-text('読み込んで下書きを作る')")
    assert page.url.endswith("/branches/kagoshima/2025/plan/import/review/")
    assert page.locator("ol.source-text li").count() > 10  # the source beside the draft
    assert not Plan.objects.filter(branch__code="kagoshima", fiscal_year=2025).exists()

    selects = page.locator("select[name$='-kpi']")
    chosen = {selects.nth(i).input_value(): selects.nth(i).get_attribute("name") for i in range(selects.count())}
    assert CORRECTED in chosen, sorted(chosen)
    index = (chosen[CORRECTED] or "").split("-")[1]
    page.fill(f"[name=line-{index}-target_text]", "3,333事業所以上")
    page.wait_for_function(SHOWS, arg=[f"parse-{index}", "3333"])
    for name in [n for code, n in chosen.items() if code == ""]:  # a line the catalogue does not know is left out
        page.check(f"[name={(name or '').replace('-kpi', '-drop')}]")
    screenshot(page, "plan-import-seed-review")

    with page.expect_navigation():
        page.click("button:has-text('この内容で保存')")
    assert page.url.endswith("/branches/kagoshima/2025/plan/"), page.text_content("main")
    plan = Plan.objects.get(branch__code="kagoshima", fiscal_year=2025)
    targets = KpiTarget.objects.filter(plan=plan)
    message = SAVED.format(
        branch=plan.branch.name, year="令和7年度", measures=plan.measures.count(), targets=targets.count()
    )
    assert message in (page.text_content(".messages") or "")
    corrected = targets.get(kpi__code=CORRECTED)
    assert corrected.target_value == Decimal(3333) and corrected.target_text == "3,333事業所以上"
    assert "3,333事業所以上" in (page.text_content("main") or "")
    screenshot(page, "plan-import-seed-saved")
    assert list(page_errors) == []
