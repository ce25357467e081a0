"""Validators for the dashboards: a repeat visit with nothing changed is answered 304 without rendering.

A page's ETag is built from what it shows and whom it is shown to: the data versions it depends on
(``plans.versions.current``, read from the database on each request, so every app server agrees), the page and
its query string, the user and their permissions, the language, the session and CSRF secret (the page holds
the CSRF token of the logout and language forms), the day (「今月」 links and late flags move with the date) and
the release. A page is never answered 304 while a flash message waits to be shown. Dashboards are sent
``Cache-Control: private, no-cache``: kept in the user's own browser only and always revalidated.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags, quote_etag
from django.utils.translation import get_language

from branches import access
from plans import versions

CACHE_CONTROL = "private, no-cache"

#: What a page depends on: (fiscal year, branch code) for a branch's pages, (fiscal year, None) for the national
#: ones, the versions already read (``plans.versions.kpi_scopes``) for a page of one KPI, or None for "no
#: validator" (the view then runs as usual).
Scope = tuple[int, str | None] | versions.Scopes | None
View = Callable[..., HttpResponse]


#: The code and templates being served (``plans.versions.RELEASE``): part of every ETag and cache key.
RELEASE = versions.RELEASE


def viewer(request: HttpRequest) -> str:
    """Who is looking, as the page header shows them, and with which permissions (the membership is read once
    per request and cached)."""
    user = request.user
    membership = access.membership_of(user)
    role = (membership.role, membership.branch_id) if membership else None
    flags = (user.is_active, getattr(user, "is_staff", False), getattr(user, "is_superuser", False))
    name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"{user.pk}|{user.get_username()}|{name}|{flags}|{role}"


def page_etag(request: HttpRequest, page: str, data_version: str) -> str:
    """The quoted ETag of ``page`` for this request, given the data version it depends on."""
    session = request.session.session_key or ""
    if "CSRF_COOKIE" not in request.META:  # the secret the page's CSRF tokens come from: made when the browser
        get_token(request)  # has none yet (get_token on a cookie already sent would send it again, on a 304 too)
    parts = (
        RELEASE,
        page,
        data_version,
        viewer(request),
        get_language() or "",
        request.get_full_path(),
        hashlib.sha256(f"{session}|{request.META.get('CSRF_COOKIE', '')}".encode()).hexdigest(),
        timezone.localdate().isoformat(),
    )
    return quote_etag(hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest())


def has_pending_messages(request: HttpRequest) -> bool:
    """Whether a flash message waits to be shown (reading the count does not consume them)."""
    return bool(len(messages.get_messages(request)))  # type: ignore[arg-type]


def branch_scope(request: HttpRequest, code: str, year: int, **kwargs: Any) -> Scope:
    return (year, code)  # an unknown code reads the shared scopes only: the view answers 404, without an ETag


def national_scope(request: HttpRequest, year: int, **kwargs: Any) -> Scope:
    return (year, None)


def branch_kpi_scope(request: HttpRequest, code: str, year: int, kpi_code: str, **kwargs: Any) -> Scope:
    """A branch's KPI page shows that branch's targets of the KPI in every year (with the national averages): a
    save of another KPI of the branch leaves it as it was."""
    return versions.kpi_scopes(kpi_code, branch_code=code)


def national_kpi_scope(request: HttpRequest, year: int, kpi_code: str, **kwargs: Any) -> Scope:
    """The national page of a KPI shows every branch's target of it in ``year``, judged against last year's."""
    return versions.kpi_scopes(kpi_code, fiscal_year=year)


def revalidated(scope: Callable[..., Scope]) -> Callable[[View], View]:
    """Answer a GET whose If-None-Match holds the page's current ETag with 304 before the view runs (no
    selector, no rendering); otherwise run the view and send its 200 with the ETag. Every response of the
    view gets ``Cache-Control: private, no-cache``. ``request.data_scopes`` are the versions the ETag was built
    from (``plans.versions.scopes``), for the view's cache keys. Put it inside ``login_required`` (an anonymous
    user is redirected first)."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            etag = None
            revalidating = request.method in ("GET", "HEAD") and not has_pending_messages(request)
            where = scope(request, *args, **kwargs) if revalidating else None
            if where is not None:
                if isinstance(where, dict):
                    scopes = where
                else:
                    year, code = where
                    scopes = versions.scopes(year, branch_code=code) if code else versions.scopes(year)
                request.data_scopes = scopes  # type: ignore[attr-defined]
                etag = page_etag(request, view.__name__, versions.token(scopes))
                if etag in parse_etags(request.META.get("HTTP_IF_NONE_MATCH", "")):
                    response: HttpResponse = HttpResponseNotModified()
                    response["ETag"] = etag
                    response["Cache-Control"] = CACHE_CONTROL
                    patch_vary_headers(response, ("Cookie",))
                    return response
            response = view(request, *args, **kwargs)
            if etag is not None and response.status_code == 200 and not response.has_header("ETag"):
                response["ETag"] = etag
            response["Cache-Control"] = CACHE_CONTROL
            return response

        return wrapped

    return decorator
