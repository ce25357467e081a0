"""Django's database session store, its read in SQL (see ``kpitrack.sessions``)."""

from __future__ import annotations

from django.contrib.sessions.backends import db

from kpitrack.sessions import SqlReadMixin


class SessionStore(SqlReadMixin, db.SessionStore):
    pass
