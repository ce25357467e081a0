"""The lockout check of django-axes as the first authentication backend (settings: AUTHENTICATION_BACKENDS)."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The Japanese lockout page (status 429) for a login refused by django-axes (settings: AXES_LOCKOUT_CALLABLE):
    how many failures locked it and how long to wait."""
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": settings.AXES_COOLOFF_MINUTES}
    return render(request, LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE)
