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


def _fields(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


@pytest.mark.parametrize("who", ["tochigi_staff", "hq_manager", "outsider"])
def test_the_user_read_in_sql_is_the_user_the_orm_reads(who: str, request: Any) -> None:
    """Every field of the user and of their membership, typed as the ORM types them (dates, booleans, keys)."""
    from kpitrack.auth import user_with_membership

    original = request.getfixturevalue(who)
    get_user_model().objects.filter(pk=original.pk).update(first_name="花子", last_name="山田")
    expected = get_user_model().objects.select_related("membership").get(pk=original.pk)
    got = user_with_membership(original.pk)
    assert got is not None
    assert _fields(got) == _fields(expected)
    assert got._state.adding is False and got._state.db == expected._state.db
    assert hasattr(got, "membership") == hasattr(expected, "membership")
    if hasattr(expected, "membership"):
        assert _fields(got.membership) == _fields(expected.membership)
        assert got.membership.user is got


def test_a_signed_in_users_last_login_comes_back_as_an_aware_datetime(
    tochigi_staff: AbstractBaseUser, client: Any
) -> None:
    from kpitrack.auth import user_with_membership

    client.force_login(tochigi_staff)  # sets last_login
    user = user_with_membership(tochigi_staff.pk)
    assert user is not None and user.last_login is not None
    assert user.last_login.utcoffset() is not None
    assert user.last_login == get_user_model().objects.get(pk=tochigi_staff.pk).last_login


@pytest.mark.parametrize("user_id", ["not-a-number", "", None, "12abc"])
def test_a_session_with_a_malformed_user_id_signs_nobody_in(user_id: Any) -> None:
    assert MembershipBackend().get_user(user_id) is None


def test_the_user_read_as_a_string_id_from_the_session(tochigi_staff: AbstractBaseUser) -> None:
    user = MembershipBackend().get_user(str(tochigi_staff.pk))  # sessions hold the id as text
    assert user is not None and user.pk == tochigi_staff.pk
