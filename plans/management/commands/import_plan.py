"""python manage.py import_plan PATH --branch CODE --fiscal-year YYYY [--dry-run] [--json] [--fixture OUT.json]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from branches.models import Branch
from plans.imports.build import draft_from_text
from plans.imports.pdf import DocumentError, extract_text
from plans.imports.save import ImportRefused, save_draft

ERROR_NO_FILE = "ファイル「{path}」がありません。"
ERROR_UNKNOWN_BRANCH = "支部コード「{code}」の支部がありません（例: tochigi）。"
SAVED = "{branch}の{year}年度の事業計画を保存しました（施策 {measures}件、KPI {targets}件）。"
DRY_RUN = "下書きのみ（--dry-run）: 何も保存していません。"


class Command(BaseCommand):
    help = (
        "支部の事業計画（PDF またはその抽出テキスト）から施策・KPI・目標を読み取り、下書きを作ります。"
        "--dry-run では何も保存せず、--json で下書きを JSON で出力します。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="事業計画の PDF またはテキスト")
        parser.add_argument("--branch", required=True, help="支部コード（例: tochigi）")
        parser.add_argument("--fiscal-year", type=int, required=True, help="計画の年度（西暦、令和6年度 = 2024）")
        parser.add_argument("--dry-run", action="store_true", help="保存せず下書きだけを出力する")
        parser.add_argument("--json", action="store_true", help="下書きを JSON で出力する")
        parser.add_argument("--fixture", type=Path, help="fixtures/seed/ 形式で書き出すファイル")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(ERROR_NO_FILE.format(path=path))
        branch = Branch.objects.filter(code=options["branch"]).first()
        if branch is None:
            raise CommandError(ERROR_UNKNOWN_BRANCH.format(code=options["branch"]))
        try:
            text = extract_text(path)
        except DocumentError as error:
            raise CommandError(str(error)) from error
        draft = draft_from_text(text, branch=branch.code, fiscal_year=options["fiscal_year"], source=path.name)
        if not options["dry_run"]:
            try:
                save_draft(draft)
            except ImportRefused as error:
                raise CommandError(str(error)) from error
        if options["fixture"]:
            options["fixture"].write_text(
                json.dumps(draft.as_fixture(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
        if options["json"]:
            self.stdout.write(json.dumps(draft.as_json(), ensure_ascii=False, indent=2))
            return
        for target in draft.targets:
            self.stdout.write(f"{target.kpi or '（不明）'}\t{target.name}\t{target.target_text or '（目標なし）'}")
        for warning in draft.warnings:
            self.stderr.write(f"警告: {warning}")
        if options["dry_run"]:
            self.stdout.write(DRY_RUN)
        else:
            self.stdout.write(
                SAVED.format(
                    branch=branch.name,
                    year=options["fiscal_year"],
                    measures=len(draft.measures),
                    targets=sum(1 for t in draft.targets if t.kpi),
                )
            )
