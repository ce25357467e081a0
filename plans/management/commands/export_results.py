from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from branches.models import Branch
from plans.fiscal import reiwa_label
from plans.models import Plan
from plans.results import export_row
from plans.selectors import plan_results


class Command(BaseCommand):
    help = "支部・年度の事業計画のKPIごとの目標・実績・評価をJSONで出力します（README に形式を記載）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--branch", required=True, help="支部コード（例: tochigi）")
        parser.add_argument("--fiscal-year", required=True, type=int, help="年度（西暦の開始年、例: 2023）")

    def handle(self, *args: Any, **options: Any) -> None:
        code, year = options["branch"], options["fiscal_year"]
        branch = Branch.objects.filter(code=code).first()
        if branch is None:
            raise CommandError(f"支部コード「{code}」の支部はありません。")
        plan = Plan.objects.select_related("fiscal_year", "branch").filter(branch=branch, fiscal_year_id=year).first()
        if plan is None:
            raise CommandError(f"{branch}の{reiwa_label(year)}（FY{year}）の事業計画はありません。")
        rows = [export_row(result) for result in plan_results(plan)]
        self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
