"""backup_db / restore_db: a restore into an empty database gives back every figure, every history row and every
user. Run on SQLite in the normal suite; the PostgreSQL variant runs when the suite runs on PostgreSQL
(scripts/test-postgres.sh) and is skipped otherwise. The commands run in a fresh interpreter against databases of
their own, never against the test database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from kpitrack import backup
from tests.conftest import subprocess_env

BASE_DIR = Path(__file__).resolve().parent.parent
COUNTS = (
    "import json; from django.contrib.auth import get_user_model; from plans.models import KpiActual;"
    "H = KpiActual.history.model;"
    "print(json.dumps({'actuals': KpiActual.objects.count(), 'history': H.objects.count(),"
    " 'users': get_user_model().objects.count()}))"
)
FILL = "from django.core.management import call_command; call_command('load_seed'); call_command('load_demo_users')"


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=subprocess_env(**env),
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )


def ok(env: dict[str, str], *args: str) -> str:
    result = manage(env, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def fill(env: dict[str, str]) -> None:
    """The seed plans (figures and their history) and the demo users, loaded by their commands in one interpreter."""
    ok(env, "shell", "-v", "0", "-c", FILL)


@dataclass(frozen=True)
class Snapshot:
    counts: dict[str, int]
    rows: list[dict[str, object]]  # every row of every table Django knows (figures, history, users, sessions...)


def snapshot(env: dict[str, str]) -> Snapshot:
    """The counts and every row of the database, read by one fresh interpreter (``dumpdata``, a stable order)."""
    where = Path(env.get("SQLITE_PATH", "/tmp/kpitrack-pg"))
    out = where.with_name(f"dump-{uuid.uuid4().hex[:8]}.json")
    code = f"{COUNTS}; from django.core.management import call_command;"
    code += f" call_command('dumpdata', natural_foreign=True, output={str(out)!r}, verbosity=0)"
    counts = json.loads(ok(env, "shell", "-v", "0", "-c", code))
    rows = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return Snapshot(counts, sorted(rows, key=lambda row: (str(row["model"]), str(row["pk"]))))


@dataclass(frozen=True)
class BackedUp:
    source: dict[str, str]
    file: Path
    before: Snapshot


def back_up(source: dict[str, str], file: Path) -> BackedUp:
    """Fill ``source`` (already migrated), back it up to ``file`` and read what it holds."""
    fill(source)
    assert "バックアップを" in ok(source, "backup_db", str(file))
    assert file.stat().st_size > 0
    before = snapshot(source)
    assert before.counts["actuals"] > 0 and before.counts["history"] >= before.counts["actuals"]
    assert before.counts["users"] > 0
    return BackedUp(source, file, before)


def restored_gives_everything_back(backed_up: BackedUp, target: dict[str, str]) -> None:
    assert "を復元しました" in ok(target, "restore_db", str(backed_up.file))
    after = snapshot(target)
    assert after.counts == backed_up.before.counts
    # every row, but the catalog's data version, which the restore replaces (no cached page outlives it)
    assert without_catalog_version(after.rows) == without_catalog_version(backed_up.before.rows)
    assert catalog_version(after.rows) != catalog_version(backed_up.before.rows)


def catalog_version(rows: list[dict[str, Any]]) -> Any:
    versions = [r for r in rows if r["model"] == "plans.dataversion" and r["fields"]["fiscal_year"] == 0]
    assert len(versions) == 1
    return versions[0]["fields"]["version"]


def without_catalog_version(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not (r["model"] == "plans.dataversion" and r["fields"]["fiscal_year"] == 0)]


# -- SQLite (once, in the SQLite pass: these use SQLite files of their own whatever the test database is) ---------

sqlite_pass = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="runs in the SQLite pass (SQLite files of its own, not the test database)"
)


@pytest.fixture(scope="module")
def sqlite_backup(migrated_sqlite: Path, tmp_path_factory: pytest.TempPathFactory) -> BackedUp:
    """A migrated SQLite database filled with the seed and the demo users, backed up once for the module."""
    directory = tmp_path_factory.mktemp("backup")
    live = directory / "live.sqlite3"
    shutil.copyfile(migrated_sqlite, live)
    return back_up({"SQLITE_PATH": str(live)}, directory / "kpitrack.backup")


@sqlite_pass
def test_a_sqlite_backup_restored_into_an_empty_database_gives_everything_back(sqlite_backup, tmp_path):
    restored_gives_everything_back(sqlite_backup, {"SQLITE_PATH": str(tmp_path / "restored.sqlite3")})


@sqlite_pass
def test_a_restore_into_a_database_that_is_not_empty_is_refused_and_changes_nothing(sqlite_backup, tmp_path):
    live = tmp_path / "live.sqlite3"  # a copy of the backed-up database: the backup would add nothing new
    shutil.copyfile(sqlite_backup.source["SQLITE_PATH"], live)
    result = manage({"SQLITE_PATH": str(live)}, "restore_db", str(sqlite_backup.file))
    assert result.returncode != 0
    assert "は空ではありません" in result.stderr and "上書き・追加はしません" in result.stderr
    assert snapshot({"SQLITE_PATH": str(live)}) == sqlite_backup.before


def test_a_backup_never_overwrites_a_file(tmp_path):
    file = tmp_path / "exists.backup"
    file.write_bytes(b"keep me")
    with pytest.raises(backup.BackupError) as error:
        backup.backup(file)
    assert str(error.value) == backup.EXISTS.format(path=file)
    assert file.read_bytes() == b"keep me"


@sqlite_pass
def test_a_missing_backup_file_is_named(tmp_path):
    result = manage({"SQLITE_PATH": str(tmp_path / "empty.sqlite3")}, "restore_db", str(tmp_path / "nope.backup"))
    assert result.returncode != 0
    assert backup.NO_FILE.format(path=tmp_path / "nope.backup") in result.stderr


@sqlite_pass
def test_a_file_that_is_not_a_sqlite_backup_is_refused(tmp_path):
    file = tmp_path / "notes.txt"
    file.write_text("これはバックアップではありません" * 100, encoding="utf-8")
    result = manage({"SQLITE_PATH": str(tmp_path / "empty.sqlite3")}, "restore_db", str(file))
    assert result.returncode != 0
    assert backup.NOT_SQLITE.format(path=file) in result.stderr


# -- PostgreSQL -----------------------------------------------------------------------------------------------

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql" or not os.environ.get("DATABASE_URL"),
    reason="the suite runs on SQLite (bash scripts/test-postgres.sh runs this on PostgreSQL)",
)


@pytest.fixture
def two_postgres_databases() -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """Two new, empty databases on the test cluster (created and dropped here), as DATABASE_URLs."""
    import psycopg

    settings = connection.settings_dict
    names = [f"kpitrack_backup_{uuid.uuid4().hex[:8]}_{side}" for side in ("live", "restored")]
    params = {"dbname": "postgres", "host": settings["HOST"], "port": settings["PORT"] or None}
    params.update(user=settings["USER"] or None, password=settings["PASSWORD"] or None)
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        try:
            yield ({"DATABASE_URL": f"{base}/{names[0]}"}, {"DATABASE_URL": f"{base}/{names[1]}"})
        finally:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@on_postgres
def test_a_postgres_dump_restored_into_an_empty_database_gives_everything_back(two_postgres_databases, tmp_path):
    source, target = two_postgres_databases
    ok(source, "migrate", "--no-input", "-v", "0")
    restored_gives_everything_back(back_up(source, tmp_path / "kpitrack.dump"), target)


@on_postgres
def test_a_postgres_restore_into_a_database_that_is_not_empty_is_refused(two_postgres_databases, tmp_path):
    source, _target = two_postgres_databases
    ok(source, "migrate", "--no-input", "-v", "0")
    file = tmp_path / "kpitrack.dump"
    ok(source, "backup_db", str(file))
    result = manage(source, "restore_db", str(file))
    assert result.returncode != 0 and "は空ではありません" in result.stderr


def test_a_backup_into_a_folder_that_does_not_exist_is_refused_with_its_name(tmp_path):
    out = tmp_path / "no-such-folder" / "kpitrack.backup"
    result = manage({"SQLITE_PATH": str(tmp_path / "live.sqlite3")}, "backup_db", str(out))
    assert result.returncode != 0
    assert backup.CANNOT_WRITE.format(path=out, reason="unable to open database file") in result.stderr
    assert "Traceback" not in result.stderr
