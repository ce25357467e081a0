from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from plans.seed import SEED_DIR, SeedError, load_seed


class Command(BaseCommand):
    help = (
        "支部資料から作成したシード（47支部・年度・KPIカタログ・各支部の事業計画）を読み込みます。"
        "何度実行しても同じ結果になります。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, default=SEED_DIR, help="シードのフォルダ（既定: fixtures/seed）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = load_seed(options["dir"])
        except SeedError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.summary())
