"""Django's cached database session store, its database read in SQL (see ``kpitrack.sessions``)."""

from __future__ import annotations

from django.contrib.sessions.backends import cached_db

from kpitrack.sessions import SqlReadMixin


class SessionStore(SqlReadMixin, cached_db.SessionStore):
    pass
