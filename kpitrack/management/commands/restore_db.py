"""``python manage.py restore_db IN``: restore a backup_db file into an empty database (README: Backup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kpitrack.backup import BackupError, restore
from plans import versions

DONE = "「{path}」を復元しました。"


class Command(BaseCommand):
    help = "backup_db のファイルを空のデータベースへ復元します（空でないデータベースには復元しません）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", type=Path, help="backup_db で書き出したファイル")
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["source"]
        try:
            restore(source, using=options["database"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        # The catalog's data version anew: no page or result an app server keeps in its cache from before the
        # restore is read for the restored data, even where a stamp of the backup is met again.
        versions.bump(using=options["database"])
        self.stdout.write(DONE.format(path=source))
