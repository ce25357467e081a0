from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from plans.workbooks.importer import import_workbook
from plans.workbooks.reader import WorkbookRefused


class Command(BaseCommand):
    help = (
        "kpitrackのExcelブック（テンプレート・公表様式・全支部のブック）の実績を取り込みます。"
        "すべての値を確認してから1つのトランザクションで保存し、1件でも誤りがあれば何も保存しません。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="取り込むファイル（.xlsx）")
        parser.add_argument("--dry-run", action="store_true", help="確認だけして保存しない")
        parser.add_argument("--user", help="履歴に記録する利用者名（その利用者の権限で取り込む）")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"利用者「{options['user']}」はいません。")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"「{path}」を読めません: {exc.strerror or exc}") from exc
        try:
            report = import_workbook(data, path.name, user=user, dry_run=options["dry_run"])
        except WorkbookRefused as exc:
            raise CommandError(str(exc)) from exc
        for line in report.warning_lines:
            self.stdout.write(f"確認: {line}")
        if not report.ok:
            for line in report.problem_lines:
                self.stderr.write(line)
            raise CommandError(report.message)
        self.stdout.write(report.message)
