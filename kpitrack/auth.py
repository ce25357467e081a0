"""The authentication backends (settings: AUTHENTICATION_BACKENDS): the lockout check of django-axes first, then
the user model's password check, which reads a signed-in user's membership with the user."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
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


class MembershipBackend(ModelBackend):
    """Django's ``ModelBackend``, except that the user of a signed-in request is read together with their
    membership (branch and role) in one query: every page asks for it (permissions, the page header, the ETag)."""

    def get_user(self, user_id: Any) -> AbstractBaseUser | None:
        users = get_user_model()._default_manager.select_related("membership")
        try:
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The Japanese lockout page (status 429) for a login refused by django-axes (settings: AXES_LOCKOUT_CALLABLE):
    how many failures locked it and how long to wait."""
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": settings.AXES_COOLOFF_MINUTES}
    return render(request, LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE)
