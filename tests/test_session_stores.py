"""kpitrack's session stores (kpitrack.sessions) read a session in SQL and answer what Django's stores answer."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.sessions.backends import cached_db as django_cached_db
from django.contrib.sessions.backends import db as django_db
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.utils import timezone

from kpitrack.sessions import cached_db, db

pytestmark = pytest.mark.django_db

STORES = [(db.SessionStore, django_db.SessionStore), (cached_db.SessionStore, django_cached_db.SessionStore)]


def _saved(data: dict[str, Any], *, expiry: int | datetime.datetime | None = None) -> str:
    store = django_db.SessionStore()
    store.update(data)
    if expiry is not None:
        store.set_expiry(expiry)
    store.save()
    assert store.session_key is not None
    return store.session_key


@pytest.mark.parametrize(("ours", "djangos"), STORES)
def test_a_session_reads_back_what_djangos_store_reads(ours: Any, djangos: Any) -> None:
    data = {"_auth_user_id": "7", "名前": "山田", "n": [1, 2.5, None]}
    key = _saved(data, expiry=3600)
    cache.clear()
    mine, theirs = ours(key), djangos(key)
    assert dict(mine.items()) == dict(theirs.items())
    assert {k: mine[k] for k in data} == data
    assert mine.session_key == key
    assert abs(mine.get_expiry_age() - theirs.get_expiry_age()) <= 1


@pytest.mark.parametrize(("ours", "djangos"), STORES)
def test_an_expired_session_is_empty_and_its_key_forgotten(ours: Any, djangos: Any) -> None:
    key = _saved({"_auth_user_id": "7"})
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    cache.clear()
    mine, theirs = ours(key), djangos(key)
    assert dict(mine.items()) == dict(theirs.items()) == {}
    assert mine.session_key is None and theirs.session_key is None


@pytest.mark.parametrize(("ours", "djangos"), STORES)
def test_an_unknown_or_missing_key_reads_an_empty_session(ours: Any, djangos: Any) -> None:
    for key in ("x" * 32, None):
        mine = ours(key)
        assert dict(mine.items()) == dict(djangos(key).items()) == {}
        assert mine.session_key is None


def test_the_cached_store_keeps_the_expiry_it_read_from_the_database() -> None:
    """cached_db puts a session read from the database into the cache for its remaining age, which it works out
    from ``expire_date``: an aware datetime on every database."""
    key = _saved({"a": 1}, expiry=600)
    cache.clear()
    store = cached_db.SessionStore(key)
    assert store["a"] == 1
    assert 590 <= store.get_expiry_age() <= 600
    assert cache.get(store.cache_key) == {"a": 1, "_session_expiry": store.get("_session_expiry")}


def test_a_signed_in_page_is_served_from_a_session_read_in_sql(client: Any, tochigi_staff: Any, settings: Any) -> None:
    assert settings.SESSION_ENGINE.startswith("kpitrack.sessions.")
    client.force_login(tochigi_staff)
    assert client.get("/")["Location"].startswith("/branches/tochigi/")
    client.logout()
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_the_stores_are_djangos_with_only_the_read_replaced() -> None:
    assert issubclass(db.SessionStore, django_db.SessionStore)
    assert issubclass(cached_db.SessionStore, django_cached_db.SessionStore)
    for store in (db.SessionStore, cached_db.SessionStore):
        own = {name for name in vars(store) if not name.startswith("__")}
        assert own == set(), own  # everything from the mixin and Django's class
