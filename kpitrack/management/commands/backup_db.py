"""``python manage.py backup_db OUT``: a consistent backup of the database while the site runs (README: Backup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kpitrack.backup import BackupError, backup

DONE = "バックアップを「{path}」に書き出しました（{size:,}バイト）。"


class Command(BaseCommand):
    help = "データベース全体をファイルにバックアップします（PostgreSQL: pg_dump 形式、SQLite: データベースの複製）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="書き出すファイル（まだ存在しないこと）")
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        try:
            backup(out, using=options["database"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(DONE.format(path=out, size=out.stat().st_size))
