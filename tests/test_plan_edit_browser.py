"""The plan edit page in a real browser: typing a target phrase shows how it reads, or why it cannot be read.

Playwright driving Debian's Chromium against ``live_server``; skipped (with the reason) when either is missing.
The live server empties the database after the test: the module reloads the seed afterwards.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import BranchFactory, FiscalYearFactory, KpiTargetFactory, PlanFactory, member
from tests.test_entry_browser import SCREENSHOTS

CHROMIUM = os.environ.get("KPITRACK_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def _seed_again(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    yield
    from plans.seed import load_seed

    with django_db_blocker.unblock():
        load_seed()


@pytest.mark.django_db(transaction=True)
def test_typing_a_phrase_shows_the_parsed_rule_and_the_error(_seed_again, live_server) -> None:  # type: ignore[no-untyped-def]
    tochigi = BranchFactory(code="tochigi")
    plan = PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=2026))
    target = KpiTargetFactory(plan=plan, target_text="")
    staff = member("browser-staff", branch=tochigi, staff=True)
    client = Client()
    client.force_login(staff)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ja-JP")
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
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "plan-edit-1366.png"), full_page=True)
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    assert read == "対前年度以上・基準値 93.3%"
    assert error is not None and error.startswith("目標「たくさん」を読み取れません")
    assert "is-changed" in (changed or "")
