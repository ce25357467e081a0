"""Screenshots of every dashboard page in headless Chromium (Debian's chromium), for a human look.

Usage: start the app (bash scripts/run.sh), then
    .venv/bin/python bench/screenshots.py [--base http://127.0.0.1:8000] [--out screenshots]
Needs `pip install playwright` (the dev extra) and /usr/bin/chromium; Playwright's own browser download
is not used.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = {
    "national_matrix_2024": "/national/2024/",
    "national_matrix_2023": "/national/2023/",
    "national_kpi_lifestyle_2024": "/national/2024/kpi/lifestyle_checkup_rate/",
    "branch_tochigi_2023": "/branches/tochigi/2023/",
    "branch_gifu_2024": "/branches/gifu/2024/",
    "kpi_tochigi_lifestyle": "/branches/tochigi/2023/kpi/lifestyle_checkup_rate/",
    "kpi_gifu_dependent_checkup": "/branches/gifu/2024/kpi/dependent_checkup_rate/",
    "kpi_tochigi_receipt": "/branches/tochigi/2024/kpi/receipt_assessment_rate/",
    "plan_tokyo_2024": "/branches/tokyo/2024/plan/",
    "plan_tochigi_2023": "/branches/tochigi/2023/plan/",
    "report_status_2024": "/national/2024/status/",
    "national_progress_2024_h1": "/national/2024/progress/h1/",
    "entry_gifu_2024_09_hq": "/branches/gifu/2024/entry/2024-09/",
    "history_tochigi_lifestyle": "/branches/tochigi/2023/kpi/lifestyle_checkup_rate/history/",
    "error_404_unknown_branch": "/branches/atlantis/2024/",
    "error_404_no_plan": "/branches/hokkaido/2024/",
    "error_404_huge_year": "/branches/tochigi/99999999999999999999/",
    "error_400_export": "/branches/tochigi/2023/?_export=ods",
}
#: Pages seen as another user: (user, path).
PAGES_AS = {
    "entry_tochigi_2024_09_staff": ("tochigi", "/branches/tochigi/2024/entry/2024-09/"),
    "progress_tokyo_2024_h1_staff": ("tokyo", "/branches/tokyo/2024/progress/h1/"),
    "plan_edit_kagoshima_2025_staff": ("kagoshima", "/branches/kagoshima/2025/plan/edit/"),
    "error_403_other_branch": ("gifu", "/branches/tochigi/2023/"),
    "error_403_national_for_staff": ("gifu", "/national/2024/"),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default="screenshots")
    parser.add_argument("--user", default="hq")
    parser.add_argument("--password", default="kpitrack-demo")
    parser.add_argument("--width", type=int, default=1440, help="viewport width (1366 laptop, 390 phone)")
    parser.add_argument("--locale", default="ja-JP", help="browser language (en-US shows the English UI)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        users = {args.user: dict(PAGES), **{user: {} for user, _ in PAGES_AS.values()}}
        for name, (user, path) in PAGES_AS.items():
            users[user][name] = path
        for user, pages in users.items():
            context = browser.new_context(viewport={"width": args.width, "height": 1000}, locale=args.locale)
            page = context.new_page()
            page.goto(f"{args.base}/accounts/login/")
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", args.password)
            page.click(".login button[type=submit]")
            page.wait_for_load_state("networkidle")
            for name, path in pages.items():
                page.goto(args.base + path)
                page.wait_for_load_state("networkidle")
                if page.locator(".chart").count():
                    page.wait_for_selector(".chart .main-svg", timeout=10_000)
                shot = out / f"{name}_{args.width}.png"
                page.screenshot(path=str(shot), full_page=True)
                print(shot)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
