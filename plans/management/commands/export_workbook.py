from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from branches.models import Branch
from plans.fiscal import reiwa_label
from plans.models import FiscalYear, Plan
from plans.selectors import plan_results
from plans.workbooks.published import published_workbook


class Command(BaseCommand):
    help = (
        "支部・年度の事業計画実施状況（公表様式・月次実績・施策の進捗）をExcelブックに出力します。"
        "--national で全支部のブック（評価の一覧とKPIごとのシート）を出力します。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--branch", help="支部コード（例: tochigi）。--national のときは不要")
        parser.add_argument("--fiscal-year", required=True, type=int, help="年度（西暦の開始年、例: 2023）")
        parser.add_argument("--out", required=True, type=Path, help="出力するファイル（.xlsx）")
        parser.add_argument("--national", action="store_true", help="全支部のブックを出力する")

    def handle(self, *args: Any, **options: Any) -> None:
        year, out = options["fiscal_year"], options["out"]
        if options["national"]:
            from plans.workbooks.national import national_workbook

            fiscal_year = FiscalYear.objects.filter(year=year).first()
            if fiscal_year is None:
                raise CommandError(f"{reiwa_label(year)}（FY{year}）の事業計画はありません。")
            workbook = national_workbook(fiscal_year)
        else:
            code = options["branch"]
            if not code:
                raise CommandError("--branch（支部コード）か --national を指定してください。")
            branch = Branch.objects.filter(code=code).first()
            if branch is None:
                raise CommandError(f"支部コード「{code}」の支部はありません。")
            plan = (
                Plan.objects.select_related("fiscal_year", "branch").filter(branch=branch, fiscal_year_id=year).first()
            )
            if plan is None:
                raise CommandError(f"{branch}の{reiwa_label(year)}（FY{year}）の事業計画はありません。")
            workbook = published_workbook(plan, plan_results(plan))
        try:
            workbook.save(out)
        except OSError as exc:
            raise CommandError(f"「{out}」に書き込めません: {exc.strerror or exc}") from exc
        self.stdout.write(f"{out} を出力しました。")
