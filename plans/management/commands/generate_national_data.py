from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from plans.national_data import generate_national_data, remove_national_data


class Command(BaseCommand):
    help = "ベンチマーク用の全国規模データ（47支部×10年度×KPIカタログ×12か月）を決定的に生成します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--first-year", type=int, default=2016, help="最初の年度（既定: 2016）")
        parser.add_argument("--years", type=int, default=10, help="年度数（既定: 10）")
        parser.add_argument("--seed", type=int, default=2024, help="乱数の種（既定: 2024）")
        parser.add_argument("--remove", action="store_true", help="生成したデータを削除します（シードは残ります）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["remove"]:
            self.stdout.write(f"生成データの事業計画 {remove_national_data()}件を削除しました。")
            return
        started = time.perf_counter()
        counts = generate_national_data(first_year=options["first_year"], years=options["years"], seed=options["seed"])
        self.stdout.write(
            f"事業計画 {counts.plans:,}件、KPI目標 {counts.targets:,}件、実績 {counts.actuals:,}件、"
            f"全国平均 {counts.national_averages:,}件を生成しました（{time.perf_counter() - started:.1f}秒）。"
        )
