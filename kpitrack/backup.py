"""Backup and restore of the whole database: ``manage.py backup_db OUT`` and ``manage.py restore_db IN``.

PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot while the site runs) and ``pg_restore`` into an empty
database. SQLite: the sqlite3 online backup API (a consistent copy while the site runs, WAL included) both ways.
A restore only goes into an empty database (no tables): it never merges into or overwrites live data.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.db import connections

NOT_EMPTY = (
    "復元先のデータベース「{name}」は空ではありません（テーブル{count}個）。"
    "空のデータベースを作成し、そこへ復元してください（上書き・追加はしません）。"
)
NO_FILE = "バックアップファイル「{path}」がありません。"
EXISTS = "出力先「{path}」はすでにあります。別のファイル名を指定してください（上書きはしません）。"
CANNOT_WRITE = "出力先「{path}」に書き込めません（フォルダがあり、書き込めるか確かめてください）: {reason}"
NOT_SQLITE = "「{path}」はSQLiteのバックアップではありません。"
TOOL_MISSING = "{tool} が見つかりません。PostgreSQLのクライアント（Debian: postgresql-client）を入れてください。"
TOOL_FAILED = "{tool} が失敗しました（終了コード {code}）: {stderr}"
UNSUPPORTED = "このデータベース（{vendor}）のバックアップには対応していません（PostgreSQL と SQLite のみ）。"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in Japanese."""


def backup(out: Path, using: str = "default") -> None:
    """Write a backup of database ``using`` to ``out`` (which must not exist yet)."""
    if out.exists():
        raise BackupError(EXISTS.format(path=out))
    connection = connections[using]
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        try:
            target = sqlite3.connect(out)
            try:
                connection.connection.backup(target)
            finally:
                target.close()
        except sqlite3.Error as error:  # no such folder, no permission, a full disk
            out.unlink(missing_ok=True)  # never leave half a backup behind
            raise BackupError(CANNOT_WRITE.format(path=out, reason=error)) from error
    elif connection.vendor == "postgresql":
        _run("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", f"--file={out}"], connection.settings_dict)
    else:
        raise BackupError(UNSUPPORTED.format(vendor=connection.vendor))


def restore(source: Path, using: str = "default") -> None:
    """Restore the backup ``source`` into database ``using``, which must be empty (no tables)."""
    if not source.is_file():
        raise BackupError(NO_FILE.format(path=source))
    connection = connections[using]
    tables = connection.introspection.table_names()
    if tables:
        raise BackupError(NOT_EMPTY.format(name=connection.settings_dict["NAME"], count=len(tables)))
    if connection.vendor == "sqlite":
        try:
            backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            backup_db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as error:
            raise BackupError(NOT_SQLITE.format(path=source)) from error
        connection.ensure_connection()
        try:
            backup_db.backup(connection.connection)
        finally:
            backup_db.close()
    elif connection.vendor == "postgresql":
        connection.close()  # pg_restore writes through its own connection
        _run(
            "pg_restore",
            ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", str(source)],
            connection.settings_dict,
        )
    else:
        raise BackupError(UNSUPPORTED.format(vendor=connection.vendor))


def postgres_tool(tool: str) -> str:
    """Where pg_dump / pg_restore is: $PG_BINDIR, else PATH, else the newest Debian /usr/lib/postgresql/*/bin."""
    candidates = [os.path.join(os.environ["PG_BINDIR"], tool)] if os.environ.get("PG_BINDIR") else []
    found = shutil.which(tool)
    if found:
        candidates.append(found)
    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=_version, reverse=True)
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(TOOL_MISSING.format(tool=tool))


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def _run(tool: str, arguments: list[str], database: dict[str, Any]) -> None:
    """Run a PostgreSQL client tool against ``database`` (Django's settings dict); the password goes by the
    environment, never on the command line."""
    command = [postgres_tool(tool), *arguments, f"--dbname={database['NAME']}"]
    if database.get("HOST"):
        command.append(f"--host={database['HOST']}")
    if database.get("PORT"):
        command.append(f"--port={database['PORT']}")
    if database.get("USER"):
        command.append(f"--username={database['USER']}")
    environment = {**os.environ, "PGPASSWORD": str(database.get("PASSWORD") or "")}
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(TOOL_FAILED.format(tool=tool, code=result.returncode, stderr=result.stderr.strip()))
