from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from branches.models import Branch, Membership


@pytest.fixture(autouse=True)
def _fast_passwords(settings: pytest.FixtureRequest) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    """Load the seed once per test session: every test sees the four branches' plans."""
    from plans.seed import load_seed

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        load_seed()
    yield


def _user(username: str, branch: Branch | None, role: str) -> AbstractBaseUser:
    user = get_user_model().objects.create_user(username=username, password="pw")
    Membership.objects.create(user=user, branch=branch, role=role)
    return user


@pytest.fixture
def tochigi() -> Branch:
    return Branch.objects.get(code="tochigi")


@pytest.fixture
def gifu() -> Branch:
    return Branch.objects.get(code="gifu")


@pytest.fixture
def tochigi_staff(tochigi: Branch) -> AbstractBaseUser:
    """A planning staff member of the Tochigi branch (the branch's own staff)."""
    return _user("tochigi-staff", tochigi, Membership.Role.STAFF)


@pytest.fixture
def gifu_staff(gifu: Branch) -> AbstractBaseUser:
    """Staff of another branch."""
    return _user("gifu-staff", gifu, Membership.Role.STAFF)


@pytest.fixture
def hq_manager() -> AbstractBaseUser:
    """A headquarters manager: reads every branch."""
    return _user("hq-manager", None, Membership.Role.HQ)


def client_for(user: AbstractBaseUser | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
