"""The Content-Security-Policy in a real browser: the KPI detail page (plotly charts) and the branch dashboard in
headless Chromium draw everything with no CSP violation in the console. Skipped (with the reason) when Chromium or
Playwright is missing.

The live server needs a transactional database, which Django empties after the test; the seed (loaded before the
test) is what the pages show, and it is loaded again afterwards for the tests that run later.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import member

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
PASSWORD = "browser-csp-password"
KPI_PAGE = "/branches/tochigi/2023/kpi/lifestyle_checkup_rate/"
DASHBOARD = "/branches/tochigi/2023/"

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def _seed_again(django_db_blocker) -> Iterator[None]:
    yield
    from plans.seed import load_seed

    with django_db_blocker.unblock():
        load_seed()


@pytest.fixture
def signed_in(_seed_again, live_server):
    """A browser page logged in through the login form as a headquarters user, and the console lines it printed."""
    user = member("csp-hq", hq=True)
    user.set_password(PASSWORD)
    user.save()
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ja-JP")
        page = context.new_page()
        console: list[str] = []
        failed: list[str] = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
        page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", "csp-hq")
        page.fill("input[name=password]", PASSWORD)
        page.click(".login button[type=submit]")
        page.wait_for_load_state("networkidle")
        yield page, console, failed
        context.close()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def violations(console: list[str]) -> list[str]:
    return [line for line in console if "Content Security Policy" in line or "Refused to" in line]


@pytest.mark.django_db(transaction=True)
def test_the_kpi_chart_and_the_dashboard_pickers_run_under_the_policy(signed_in, live_server):
    page, console, failed = signed_in
    response = page.goto(live_server.url + KPI_PAGE)
    page.wait_for_load_state("networkidle")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("[id$='-chart'] .main-svg", timeout=15_000)
    drawn = page.eval_on_selector_all("[id$='-chart'] .main-svg .trace", "nodes => nodes.length")
    assert drawn > 0, "the chart has no trace drawn"
    # The modebar is styled by the rules plotly.js adds at run time (the reason for style-src 'unsafe-inline').
    page.hover("[id$='-chart'] .main-svg")
    assert page.eval_on_selector("[id$='-chart'] .modebar", "el => getComputedStyle(el).position") == "absolute"

    # The branch / year pickers of the dashboard (static/js/pickers.js, no inline handler).
    page.goto(live_server.url + DASHBOARD)
    page.select_option("form.pickers select[name=branch]", "gifu")
    page.select_option("form.pickers select[name=year]", "2024")
    page.click("form.pickers button[type=submit]")
    page.wait_for_url(f"{live_server.url}/branches/gifu/2024/")

    assert violations(console) == []
    assert [line for line in console if line.startswith("pageerror")] == []
    assert [url for url in failed if not url.endswith("/favicon.ico")] == []
