"""The authentication backends (settings: AUTHENTICATION_BACKENDS): the lockout check of django-axes first, then
the user model's password check, which reads a signed-in user's membership with the user."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from branches.models import Membership

LOCKOUT_TEMPLATE = "registration/locked_out.html"


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a locked-out login on every web login (the site's and the admin's both pass the request).

    A call without a request is not a login from the web: Django's test client, the shell, a management command.
    django-axes would raise for it; here it is left to the next backend, which checks the password as usual.
    """

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class MembershipBackend(ModelBackend):
    """Django's ``ModelBackend``, except that the user of a signed-in request is read together with their
    membership (branch and role) in one SQL statement: every page asks for it (permissions, the page header, the
    ETag), and on a ``304 Not Modified`` building that query through the ORM cost more than running it. The
    statement is made once per database from the models' own fields; the instances are the ones
    ``select_related("membership")`` would give (``user.membership`` is read without a query, and raises
    ``RelatedObjectDoesNotExist`` for a user without one)."""

    def get_user(self, user_id: Any) -> AbstractBaseUser | None:
        user = user_with_membership(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def user_with_membership(user_id: Any) -> AbstractBaseUser | None:
    """The user ``user_id`` with their membership cached on it, or None when there is no such user."""
    user_model = get_user_model()
    try:
        pk = user_model._meta.pk.to_python(user_id)
    except ValidationError:
        return None
    alias = router.db_for_read(user_model)
    connection = connections[alias]
    statement = _user_statement(alias)
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    converted = statement.convert(connection, row)
    user_values = converted[: len(statement.user_fields)]
    membership_values = converted[len(statement.user_fields) :]
    user = user_model.from_db(alias, [f.attname for f in statement.user_fields], user_values)
    membership = None
    if membership_values[0] is not None:  # the membership's primary key: no row joined means no membership
        membership = Membership.from_db(alias, [f.attname for f in statement.membership_fields], membership_values)
        Membership.user.field.set_cached_value(membership, user)
    user_model.membership.related.set_cached_value(user, membership)  # type: ignore[attr-defined]
    return user


@dataclass(frozen=True)
class _UserStatement:
    sql: str
    user_fields: tuple[Field, ...]
    membership_fields: tuple[Field, ...]
    #: by connection (each thread's wrapper, kept with it): the columns that have converters, with them
    converters: dict[int, tuple[BaseDatabaseWrapper, list[tuple[int, Any, list[Any]]]]] = field(default_factory=dict)

    def convert(self, connection: BaseDatabaseWrapper, row: Sequence[Any]) -> list[Any]:
        """The row's values as the ORM gives them (e.g. SQLite's text dates as datetimes, its 0/1 as booleans); which
        columns have converters is worked out once per connection."""
        known = self.converters.get(id(connection))
        if known is None or known[0] is not connection:
            plan = []
            for index, column in enumerate(self.user_fields + self.membership_fields):
                expression = column.get_col(column.model._meta.db_table)
                found = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
                if found:
                    plan.append((index, expression, found))
            known = self.converters[id(connection)] = (connection, plan)
        values = list(row)
        for index, expression, converters in known[1]:
            for converter in converters:
                values[index] = converter(values[index], expression, connection)
        return values


@functools.cache
def _user_statement(alias: str) -> _UserStatement:
    connection = connections[alias]
    quote = connection.ops.quote_name
    user_model = get_user_model()
    user_fields = tuple(user_model._meta.concrete_fields)
    membership_fields = tuple(Membership._meta.concrete_fields)
    users, memberships = quote(user_model._meta.db_table), quote(Membership._meta.db_table)
    columns = [f"{users}.{quote(f.column)}" for f in user_fields]
    columns += [f"{memberships}.{quote(f.column)}" for f in membership_fields]
    user_column = quote(Membership._meta.get_field("user").column)
    sql = (
        f"SELECT {', '.join(columns)} FROM {users} LEFT OUTER JOIN {memberships} "
        f"ON {memberships}.{user_column} = {users}.{quote(user_model._meta.pk.column)} "
        f"WHERE {users}.{quote(user_model._meta.pk.column)} = %s"
    )
    return _UserStatement(sql, user_fields, membership_fields)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The Japanese lockout page (status 429) for a login refused by django-axes (settings: AXES_LOCKOUT_CALLABLE):
    how many failures locked it and how long to wait."""
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": settings.AXES_COOLOFF_MINUTES}
    return render(request, LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE)
