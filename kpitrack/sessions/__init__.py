"""Session stores (settings: SESSION_ENGINE) that read a session in one prepared-once SQL statement.

Every page of a signed-in user reads its session first; Django's stores read it through the ORM, whose query
building costs more than the query itself on a ``304 Not Modified`` (a third of its time). These stores are
Django's ``db`` and ``cached_db`` stores with that one read written in SQL: same table, same condition (the key,
not expired), same answer; every write is Django's own.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any

from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone
from django.utils.dateparse import parse_datetime


@functools.cache
def _select_sql(vendor: str, quoted_table: str) -> str:
    del vendor  # part of the key only: each database's quoting gives its own text
    return f"SELECT session_data, expire_date FROM {quoted_table} WHERE session_key = %s AND expire_date > %s"


def _as_datetime(value: Any) -> datetime.datetime:
    """``expire_date`` as the ORM would give it: an aware datetime (SQLite hands back text)."""
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"not a datetime: {value!r}")
        value = parsed
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return value


class SqlReadMixin:
    """``_get_session_from_db`` in SQL: the unexpired session of ``session_key`` as an unsaved-looking ``Session``
    (key, data, expiry), or None (and the key forgotten, as Django's store does) when there is none."""

    session_key: str | None
    _session_key: str | None

    def _get_session_from_db(self) -> Session | None:
        if not self.session_key:
            self._session_key = None
            return None
        alias = router.db_for_read(Session)
        connection = connections[alias]
        sql = _select_sql(connection.vendor, connection.ops.quote_name(Session._meta.db_table))
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        data, expire_date = row
        return Session.from_db(
            alias, ["session_key", "session_data", "expire_date"], [self.session_key, data, _as_datetime(expire_date)]
        )
