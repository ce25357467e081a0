"""The user of a signed-in request is read with their membership in one query (kpitrack.auth.MembershipBackend)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from branches import access
from kpitrack.auth import MembershipBackend

pytestmark = pytest.mark.django_db


def test_it_reads_the_user_and_their_membership_in_one_query(
    tochigi_staff: AbstractBaseUser, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        user = MembershipBackend().get_user(tochigi_staff.pk)
        assert user is not None
        membership = access.membership_of(user)
        assert membership is not None
        assert membership.branch_id == tochigi_staff.membership.branch_id


def test_a_user_without_membership_is_read_in_one_query_and_has_none(
    outsider: AbstractBaseUser, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        user = MembershipBackend().get_user(outsider.pk)
        assert user is not None
        assert access.membership_of(user) is None


def test_an_inactive_or_unknown_user_is_not_signed_in(tochigi_staff: AbstractBaseUser) -> None:
    get_user_model().objects.filter(pk=tochigi_staff.pk).update(is_active=False)
    assert MembershipBackend().get_user(tochigi_staff.pk) is None
    assert MembershipBackend().get_user(987654321) is None


def test_a_signed_in_page_sees_the_membership_read_with_the_user(tochigi_staff: AbstractBaseUser, client: Any) -> None:
    client.force_login(tochigi_staff)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/branches/tochigi/")


def test_a_session_signed_in_through_djangos_model_backend_stays_signed_in_after_the_migration(
    tochigi_staff: AbstractBaseUser, client: Any
) -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module("branches.migrations.0004_sessions_membership_backend")
    client.force_login(tochigi_staff, backend=migration.OLD)  # a session from before the new backend
    assert client.get("/")["Location"].startswith("/accounts/login/")  # Django no longer accepts it
    assert migration.move_sessions(apps, migration.OLD, migration.NEW) == 1
    assert client.get("/")["Location"].startswith("/branches/tochigi/")  # signed in, as before the deployment
    assert migration.move_sessions(apps, migration.NEW, migration.OLD) == 1  # and back
