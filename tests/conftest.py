from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from branches.models import Branch
from tests.factories import BranchFactory, UserFactory, member


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache: a row written by test code with ``QuerySet.update()`` (no data
    version bump) must not meet a dashboard fragment cached by an earlier test."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def _fast_passwords(settings: pytest.FixtureRequest) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> None:
    """Load the seed once per test session: the dashboard tests check published figures against it.

    Tests that are not about the seed documents build their own rows with ``tests.factories``.
    """
    from plans.seed import load_seed

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        load_seed()


# -- databases of their own for commands run in a fresh interpreter ---------------------------------


def subprocess_env(**extra: str) -> dict[str, str]:
    """This process's environment without the test database's variables, plus ``extra``."""
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_PATH", "DEBUG"}}
    environment.update(DJANGO_SETTINGS_MODULE="kpitrack.settings", **extra)
    return environment


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite file with every migration applied, made once per session by ``manage.py migrate`` in a fresh
    interpreter. Copy it (``fresh_sqlite``) rather than use it: it is shared."""
    path = tmp_path_factory.mktemp("migrated") / "migrated.sqlite3"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=Path(__file__).resolve().parent.parent,
        env=subprocess_env(SQLITE_PATH=str(path)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture
def fresh_sqlite(migrated_sqlite: Path, tmp_path: Path) -> Path:
    """A migrated, empty SQLite file of this test's own (a copy of ``migrated_sqlite``)."""
    path = tmp_path / "fresh.sqlite3"
    shutil.copyfile(migrated_sqlite, path)
    return path


# -- personas (built by tests.factories) ------------------------------------------------------------


@pytest.fixture
def tochigi() -> Branch:
    return BranchFactory(code="tochigi")


@pytest.fixture
def gifu() -> Branch:
    return BranchFactory(code="gifu")


@pytest.fixture
def tochigi_staff(tochigi: Branch) -> AbstractBaseUser:
    """A planning staff member of the Tochigi branch (the branch's own staff)."""
    return member("tochigi-staff", branch=tochigi, staff=True)


@pytest.fixture
def tochigi_manager(tochigi: Branch) -> AbstractBaseUser:
    """The Tochigi branch's manager: their own branch only."""
    return member("tochigi-manager", branch=tochigi, manager=True)


@pytest.fixture
def gifu_staff(gifu: Branch) -> AbstractBaseUser:
    """Staff of another branch."""
    return member("gifu-staff", branch=gifu, staff=True)


@pytest.fixture
def hq_manager() -> AbstractBaseUser:
    """Headquarters (本部): reads every branch."""
    return member("hq-manager", hq=True)


@pytest.fixture
def outsider() -> AbstractBaseUser:
    """A signed-in user without any membership."""
    return UserFactory(username="outsider")


def client_for(user: AbstractBaseUser | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
