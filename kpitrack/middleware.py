"""Responses for signed-in users are private and never stored; the idle session timeout is pushed back."""

from __future__ import annotations

import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

#: What a page for a signed-in user (or any export) says to browsers and proxies: keep no copy anywhere.
PRIVATE_NO_STORE = "private, no-store"
#: The session key holding when the session's expiry was last pushed back (seconds since the epoch).
LAST_SEEN_KEY = "_kpitrack_seen"


def is_export(request: HttpRequest) -> bool:
    """A CSV / xlsx download (``?_export=``): figures in a file, which no cache may keep."""
    return "_export" in request.GET


def start_idle_clock(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """On login (signal user_logged_in): the session starts its idle time now, so the first pages after a login
    write nothing more to the session."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN_KEY] = int(time.time())


class PrivatePagesMiddleware:
    """``Cache-Control: private, no-store`` on every response to a signed-in user that set no Cache-Control itself
    (a view that asks for revalidation, e.g. ``private, no-cache`` with an ETag, is left as it is), and on every
    export whatever the view set. Also pushes back the session's idle timeout (``SESSION_IDLE_MINUTES``) at most
    once every ``SESSION_REFRESH_SECONDS``, so that an active user's session stays alive without a database write
    on every page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        signed_in = request.user.is_authenticated
        if signed_in:
            self._push_back_expiry(request)
        response = self.get_response(request)
        if is_export(request) or (
            (signed_in or request.user.is_authenticated) and not response.has_header("Cache-Control")
        ):
            response["Cache-Control"] = PRIVATE_NO_STORE
        return response

    @staticmethod
    def _push_back_expiry(request: HttpRequest) -> None:
        now = int(time.time())
        seen = request.session.get(LAST_SEEN_KEY)
        if not isinstance(seen, int) or now - seen >= settings.SESSION_REFRESH_SECONDS:
            request.session[LAST_SEEN_KEY] = now  # modified: SessionMiddleware saves it with a new expiry


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware (settings: CONTENT_SECURITY_POLICY), except that a ``304 Not Modified`` is left
    without the header: it has no body, and the browser keeps the stored page's headers for those a 304 does not
    send (RFC 9111 §4.3.4), the policy included. django-csp builds the policy on every response; a 304 of a
    dashboard is about a millisecond in all, and that build a tenth of it."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.status_code == HTTPStatus.NOT_MODIFIED:
            return response
        return super().process_response(request, response)
