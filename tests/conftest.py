from __future__ import annotations

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
