"""cron: e-mail the branches whose monthly reports are late (as the 「督促メールを送る」 button on HQ's status page)."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from plans import fiscal, workflow
from plans.models import FiscalYear


def default_years(today: datetime.date) -> list[int]:
    """The fiscal year of last month and of this month (in April, last year's March is still due)."""
    last_month = today.replace(day=1) - datetime.timedelta(days=1)
    return sorted({fiscal.fiscal_year_of(last_month), fiscal.fiscal_year_of(today)})


class Command(BaseCommand):
    help = (
        "提出期限を過ぎた月次報告のある支部の担当者・管理者に督促メールを送ります（同じ支部・月には1日1回まで）。"
        "--dry-run で送らずに内容だけ表示します。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="送らずに、送る相手と月だけを表示します。")
        parser.add_argument(
            "--fiscal-year", type=int, help="年度（西暦の開始年、例: 2024）。省略時は今月と先月の年度。"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        years = [options["fiscal_year"]] if options["fiscal_year"] else default_years(today)
        known = set(FiscalYear.objects.filter(year__in=years).values_list("year", flat=True))
        if options["fiscal_year"] and not known:
            year = options["fiscal_year"]
            raise CommandError(f"{fiscal.reiwa_label(year)}（FY{year}）の年度は登録されていません。")
        late = [cell for year in sorted(known) for cell in workflow.report_status(year, today).late]
        notes = workflow.send_reminders(
            late, base_url=settings.SITE_URL, today=today, dry_run=options["dry_run"], sent_by="send_report_reminders"
        )
        for note in notes:
            self.stdout.write(note)
