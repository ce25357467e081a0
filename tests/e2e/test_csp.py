"""The Content-Security-Policy in a real browser: the KPI detail page (plotly charts) and the branch dashboard in
headless Chromium (the session browser of ``tests/e2e/conftest.py``) draw everything with no CSP violation in the
console. The pages show the seed (``seeded``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.factories import member

PASSWORD = "browser-csp-password"
KPI_PAGE = "/branches/tochigi/2023/kpi/lifestyle_checkup_rate/"
DASHBOARD = "/branches/tochigi/2023/"


@pytest.fixture
def signed_in(
    seeded: None, new_context: Callable[[], Any], live_server: Any
) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A browser page logged in through the login form as a headquarters user, and the console lines it printed."""
    user = member("csp-hq", hq=True)
    user.set_password(PASSWORD)
    user.save()
    page = new_context().new_page()
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


def violations(console: list[str]) -> list[str]:
    return [line for line in console if "Content Security Policy" in line or "Refused to" in line]


@pytest.mark.django_db(transaction=True)
def test_the_kpi_chart_and_the_dashboard_pickers_run_under_the_policy(signed_in: Any, live_server: Any) -> None:
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
