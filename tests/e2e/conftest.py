"""End-to-end journeys in a real browser: Playwright (sync API) driving Debian's Chromium against ``live_server``.

One Chromium is started for the whole ``tests/e2e`` package and every test opens its own browser contexts (one
per person: separate cookies and localStorage). Waits are on elements, URLs and downloads, never on time. Every
browser test of the suite lives here, so Chromium starts once per run.

Without Chromium or Playwright the journeys are skipped with the reason, unless ``KPITRACK_REQUIRE_BROWSER`` (or
``CI``) is set: then a missing browser is a failure, so CI cannot pass without running them.

The live server needs a transactional database, which Django empties after each test. The journeys that read the
seed load it again when it is gone (``seeded``; ``catalogued`` loads only its KPI catalogue), and the package puts
it back at the end for the tests that run later (the rest of the suite expects the seed that ``tests/conftest.py``
loads once per session).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

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
TIMEOUT_MS = 15_000  # a journey step that takes longer is a failure, not a hang
SCREENSHOTS = Path(os.environ.get("KPITRACK_SCREENSHOTS", "/tmp/kpitrack-screens")) / "e2e"


def _required() -> bool:
    flags = (os.environ.get(name, "").strip().lower() for name in ("KPITRACK_REQUIRE_BROWSER", "CI"))
    return any(flag in {"1", "true", "yes"} for flag in flags)


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    return None


def _seed_present() -> bool:
    from plans.models import Plan

    return Plan.objects.filter(branch__code="gifu", fiscal_year_id=2024).exists()


@pytest.fixture(scope="package", autouse=True)
def _seed_back_afterwards(django_db_blocker: Any) -> Iterator[None]:
    """Put the seed back after the package: each live-server test empties the database when it ends."""
    yield
    from plans.seed import load_seed

    with django_db_blocker.unblock():
        if not _seed_present():
            load_seed()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One headless Chromium for every journey of the package."""
    reason = _missing_browser()
    if reason is not None:
        if _required():
            pytest.fail(f"browser tests are required here but cannot run: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the tests read the database between its calls.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    manager = sync_playwright().start()
    chromium = manager.chromium.launch(
        executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"), args=LAUNCH_ARGS
    )
    try:
        yield chromium
    finally:
        chromium.close()
        manager.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class PageErrors(list[str]):
    """Uncaught script errors and console errors of every page a test opened (a chart that throws shows here)."""


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def new_context(browser: Any, live_server: Any, page_errors: PageErrors) -> Iterator[Callable[[], Any]]:
    """A factory of browser contexts (one per person) on the live server; all are closed after the test."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1366, "height": 900}, locale="ja-JP", accept_downloads=True
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.on("page", lambda page: _watch(page, page_errors))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def _watch(page: Any, errors: PageErrors) -> None:
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    page.on("console", lambda msg: _console(page, msg, errors))


def _console(page: Any, message: Any, errors: PageErrors) -> None:
    # The site has no favicon; the browser's own request for one is not the page's error.
    if message.type == "error" and not str(message.location.get("url", "")).endswith("/favicon.ico"):
        errors.append(f"{page.url}: {message.text}")


@pytest.fixture
def log_in(new_context: Callable[[], Any]) -> Callable[[str, str], Any]:
    """``log_in(username, password)``: a new context whose page signed in through the login page."""

    def sign_in(username: str, password: str) -> Any:
        page = new_context().new_page()
        page.goto("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("section.login form button[type=submit]")
        assert "/accounts/login/" not in page.url, f"{username} could not log in: {page.text_content('main')}"
        return page

    return sign_in


@pytest.fixture
def seeded(transactional_db: None) -> None:
    """The seed documents in the database (loaded again when an earlier live-server test emptied it)."""
    from plans.seed import load_seed

    if not _seed_present():
        load_seed()


@pytest.fixture
def catalogued(transactional_db: None, tmp_path: Path) -> None:
    """Only the seed's catalogue: the 47 branches, the areas and the national KPIs (no plan, no figure). A tenth of a
    second where the whole seed takes seconds, for journeys that need KPI names but not the seed plans."""
    from plans.seed import CATALOG_FILE, SEED_DIR, load_seed

    directory = tmp_path / "catalog-only"
    directory.mkdir()
    shutil.copyfile(SEED_DIR / CATALOG_FILE, directory / CATALOG_FILE)
    load_seed(directory)


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
