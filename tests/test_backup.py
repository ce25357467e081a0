"""backup_db / restore_db: a restore into an empty database gives back every figure, every history row and every
user. Run on SQLite in the normal suite; the PostgreSQL variant runs when the suite runs on PostgreSQL
(scripts/test-postgres.sh) and is skipped otherwise. The commands run in a fresh interpreter against databases of
their own, never against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from kpitrack import backup

BASE_DIR = Path(__file__).resolve().parent.parent
COUNTS = (
    "import json; from django.contrib.auth import get_user_model; from plans.models import KpiActual;"
    "H = KpiActual.history.model;"
    "print(json.dumps({'actuals': KpiActual.objects.count(), 'history': H.objects.count(),"
    " 'users': get_user_model().objects.count()}))"
)


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_PATH", "DEBUG"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], env=environment, cwd=BASE_DIR, capture_output=True, text=True, timeout=600
    )


def ok(env: dict[str, str], *args: str) -> str:
    result = manage(env, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def filled(env: dict[str, str]) -> None:
    """A database with the seed plans (figures and their history) and the demo users."""
    ok(env, "migrate", "--no-input", "-v", "0")
    ok(env, "load_seed")
    ok(env, "load_demo_users")


def everything(env: dict[str, str]) -> list[dict[str, object]]:
    """Every row of every table that Django knows (figures, history, users, sessions...), in a stable order."""
    out = Path(env.get("SQLITE_PATH", "/tmp/kpitrack-pg")).with_name(f"dump-{uuid.uuid4().hex[:8]}.json")
    ok(env, "dumpdata", "--natural-foreign", f"--output={out}")
    rows = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return sorted(rows, key=lambda row: (str(row["model"]), str(row["pk"])))


def round_trip(source: dict[str, str], target: dict[str, str], file: Path) -> None:
    filled(source)
    assert "バックアップを" in ok(source, "backup_db", str(file))
    assert file.stat().st_size > 0
    assert "を復元しました" in ok(target, "restore_db", str(file))
    counts = json.loads(ok(target, "shell", "-v", "0", "-c", COUNTS))
    assert counts == json.loads(ok(source, "shell", "-v", "0", "-c", COUNTS))
    assert counts["actuals"] > 0 and counts["history"] >= counts["actuals"] and counts["users"] > 0
    assert everything(target) == everything(source)


# -- SQLite ---------------------------------------------------------------------------------------------------


def test_a_sqlite_backup_restored_into_an_empty_database_gives_everything_back(tmp_path):
    source = {"SQLITE_PATH": str(tmp_path / "live.sqlite3")}
    target = {"SQLITE_PATH": str(tmp_path / "restored.sqlite3")}
    round_trip(source, target, tmp_path / "kpitrack.backup")


def test_a_restore_into_a_database_that_is_not_empty_is_refused_and_changes_nothing(tmp_path):
    live = {"SQLITE_PATH": str(tmp_path / "live.sqlite3")}
    ok(live, "migrate", "--no-input", "-v", "0")
    ok(live, "load_demo_users")
    file = tmp_path / "kpitrack.backup"
    ok(live, "backup_db", str(file))
    before = ok(live, "shell", "-v", "0", "-c", COUNTS)
    result = manage(live, "restore_db", str(file))
    assert result.returncode != 0
    assert "は空ではありません" in result.stderr and "上書き・追加はしません" in result.stderr
    assert ok(live, "shell", "-v", "0", "-c", COUNTS) == before


def test_a_backup_never_overwrites_a_file(tmp_path):
    file = tmp_path / "exists.backup"
    file.write_bytes(b"keep me")
    with pytest.raises(backup.BackupError) as error:
        backup.backup(file)
    assert str(error.value) == backup.EXISTS.format(path=file)
    assert file.read_bytes() == b"keep me"


def test_a_missing_backup_file_is_named(tmp_path):
    result = manage({"SQLITE_PATH": str(tmp_path / "empty.sqlite3")}, "restore_db", str(tmp_path / "nope.backup"))
    assert result.returncode != 0
    assert backup.NO_FILE.format(path=tmp_path / "nope.backup") in result.stderr


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
    round_trip(source, target, tmp_path / "kpitrack.dump")


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
