"""Security: login lockout (django-axes) on the site and the admin, the Content-Security-Policy, no inline script
in any template, Cache-Control on signed-in pages and exports, and the idle session timeout."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.utils import timezone

from kpitrack import middleware
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "a-long-correct-password"
LOCKED_TITLE = "ログインが一時的に停止されています"
BAD_LOGIN = "ユーザー名またはパスワードが正しくありません"


@pytest.fixture
def user():
    person = UserFactory(username="sato")
    person.set_password(PASSWORD)
    person.save()
    return person


@pytest.fixture
def staff_user():
    person = UserFactory(username="admin-sato", is_staff=True, is_superuser=True)
    person.set_password(PASSWORD)
    person.save()
    return person


def site_login(client: Client, username: str, password: str) -> HttpResponse:
    return client.post("/accounts/login/", {"username": username, "password": password})


def admin_login(client: Client, username: str, password: str) -> HttpResponse:
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


# -- lockout ----------------------------------------------------------------------------------------------------


def test_the_settings_lock_after_a_few_failures_for_a_cool_off():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == datetime.timedelta(minutes=15)
    assert settings.AXES_RESET_ON_SUCCESS is True


def test_fifty_wrong_passwords_meet_the_lockout_page(user):
    client = Client()
    statuses = [site_login(client, "sato", f"wrong-{i}").status_code for i in range(50)]
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the login form again, with its error
    assert set(statuses[limit - 1 :]) == {429}
    page = site_login(client, "sato", "wrong-again").content.decode()
    assert LOCKED_TITLE in page
    assert f"パスワードの誤りが{limit}回続いたため" in page
    assert f"{settings.AXES_COOLOFF_MINUTES}分ほど待ってから" in page


def test_the_right_password_is_refused_during_the_lockout(user):
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        site_login(client, "sato", f"wrong-{i}")
    response = site_login(client, "sato", PASSWORD)
    assert response.status_code == 429 and LOCKED_TITLE in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still sent to the login page


def test_a_failure_below_the_limit_then_the_right_password_logs_in_and_clears_the_count(user):
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert BAD_LOGIN in site_login(client, "sato", f"wrong-{i}").content.decode()
    response = site_login(client, "sato", PASSWORD)
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    assert not AccessAttempt.objects.filter(username="sato").exists()


def test_the_admin_login_is_locked_out_too(staff_user):
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        admin_login(client, "admin-sato", f"wrong-{i}")
    response = admin_login(client, "admin-sato", PASSWORD)
    assert response.status_code == 429 and LOCKED_TITLE in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_failures_on_the_site_count_towards_the_admin_lockout(staff_user):
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        site_login(client, "admin-sato", f"wrong-{i}")
    assert admin_login(client, "admin-sato", PASSWORD).status_code == 429


def test_the_lockout_ends_after_the_cool_off(user):
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        site_login(client, "sato", f"wrong-{i}")
    assert site_login(client, "sato", PASSWORD).status_code == 429
    past = timezone.now() - settings.AXES_COOLOFF_TIME - datetime.timedelta(seconds=1)
    AccessAttempt.objects.filter(username="sato").update(attempt_time=past)
    response = site_login(client, "sato", PASSWORD)
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


def test_another_user_is_not_locked_out_by_someone_elses_failures(user, staff_user):
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        site_login(client, "sato", f"wrong-{i}")
    assert site_login(Client(), "admin-sato", PASSWORD).status_code == 302


def test_a_login_without_a_request_is_left_to_the_password_check(user):
    """Django's test client and the shell log in without a request: not a web login, so not throttled."""
    assert Client().login(username="sato", password=PASSWORD) is True
    assert Client().login(username="sato", password="wrong") is False


def test_the_lockout_page_has_no_inline_script(user):
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        site_login(client, "sato", f"wrong-{i}")
    assert "<script" not in site_login(client, "sato", PASSWORD).content.decode()


# -- Content-Security-Policy ------------------------------------------------------------------------------------


def policy(response: HttpResponse) -> dict[str, list[str]]:
    directives = [part.strip().split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {name: values for name, *values in directives}


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_every_page_carries_the_content_security_policy(url):
    csp = policy(Client().get(url))
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]


def test_a_signed_in_page_carries_it_too(user):
    client = Client()
    client.force_login(user)
    response = client.get("/", follow=True)
    assert policy(response)["script-src"] == ["'self'"]


def test_a_304_of_a_page_leaves_its_stored_policy_alone_and_a_200_carries_it(hq_manager):
    """A 304 has no body: the browser keeps the stored page's headers it does not send (RFC 9111 4.3.4)."""
    client = Client()
    client.force_login(hq_manager)
    page = client.get("/national/2023/")
    assert page.status_code == 200 and policy(page)["script-src"] == ["'self'"]
    revalidated = client.get("/national/2023/", HTTP_IF_NONE_MATCH=page["ETag"])
    assert revalidated.status_code == 304
    assert "Content-Security-Policy" not in revalidated


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
TEMPLATE_DIRS = [BASE_DIR / "templates", BASE_DIR / "plans" / "templates", BASE_DIR / "branches" / "templates"]


def project_templates() -> list[Path]:
    return sorted(path for folder in TEMPLATE_DIRS if folder.exists() for path in folder.rglob("*.html"))


def test_there_are_templates_to_scan():
    names = {path.name for path in project_templates()}
    assert {"base.html", "branch_dashboard.html", "kpi_detail.html", "login.html", "locked_out.html"} <= names


@pytest.mark.parametrize("path", project_templates(), ids=lambda path: str(path.relative_to(BASE_DIR)))
def test_no_template_has_an_inline_script_or_an_inline_event_handler(path):
    text = path.read_text(encoding="utf-8")
    assert INLINE_SCRIPT.findall(text) == []
    assert INLINE_HANDLER.findall(text) == []


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ("<script>alert(1)</script>", True),
        ('<script type="module">x()</script>', True),
        ('<script src="/static/js/charts.js"></script>', False),
        ('<script type="application/json" id="c-data">{}</script>', False),
    ],
)
def test_the_scan_finds_inline_scripts(html, found):
    assert bool(INLINE_SCRIPT.findall(html)) is found


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ('<form onsubmit="go()">', True),
        ('<a href="#" onclick = "x()">', True),
        ('<input data-onchange="x">', False),
        ('<button type="submit">', False),
    ],
)
def test_the_scan_finds_inline_handlers(html, found):
    assert bool(INLINE_HANDLER.findall(html)) is found


# -- Cache-Control ----------------------------------------------------------------------------------------------


def test_the_month_entry_page_is_private_and_not_stored(hq_manager):
    response = client_for(hq_manager).get("/branches/tochigi/2024/entry/2024-09/")
    assert response.status_code == 200
    assert response["Cache-Control"] == middleware.PRIVATE_NO_STORE


@pytest.mark.parametrize("export", ["csv", "xlsx"])
def test_an_export_of_the_dashboard_is_not_stored(hq_manager, export):
    response = client_for(hq_manager).get(f"/branches/tochigi/2023/?_export={export}")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == middleware.PRIVATE_NO_STORE


def test_the_login_page_is_never_cached():
    assert "no-store" in Client().get("/accounts/login/")["Cache-Control"]


def test_a_signed_in_page_without_its_own_cache_control_gets_private_no_store(user):
    client = Client()
    client.force_login(user)
    response = client.get("/")  # home: a redirect or the empty page, no Cache-Control of its own
    assert response["Cache-Control"] == middleware.PRIVATE_NO_STORE


def test_an_anonymous_static_like_response_is_left_alone():
    view_response = HttpResponse("ok")
    request = HttpRequest()
    request.user = _Anonymous()
    assert not middleware.PrivatePagesMiddleware(lambda r: view_response)(request).has_header("Cache-Control")


class _Anonymous:
    is_authenticated = False


def _signed_in_request(user, query: str = "") -> HttpRequest:
    from django.contrib.sessions.backends.db import SessionStore
    from django.http import QueryDict

    request = HttpRequest()
    request.user = user
    request.session = SessionStore()
    request.GET = QueryDict(query)
    return request


def test_a_view_that_sets_its_own_cache_control_is_respected(user):
    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse("dashboard")
        response["Cache-Control"] = "private, no-cache"
        response["ETag"] = '"abc"'
        return response

    response = middleware.PrivatePagesMiddleware(view)(_signed_in_request(user))
    assert response["Cache-Control"] == "private, no-cache"


def test_an_export_is_no_store_whatever_the_view_said(user):
    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse("a,b")
        response["Cache-Control"] = "private, no-cache"
        return response

    response = middleware.PrivatePagesMiddleware(view)(_signed_in_request(user, "_export=csv"))
    assert response["Cache-Control"] == middleware.PRIVATE_NO_STORE


# -- sessions ---------------------------------------------------------------------------------------------------


def test_sessions_are_kept_in_the_database_with_an_idle_timeout():
    assert settings.SESSION_ENGINE == "kpitrack.sessions.db"  # Django's db store, its read in SQL
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_an_idle_session_ends_and_the_next_page_asks_to_log_in(user):
    client = Client()
    client.force_login(user)
    assert "/accounts/login/" not in client.get("/").get("Location", "")
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_activity_pushes_the_idle_timeout_back(user, settings):
    settings.SESSION_REFRESH_SECONDS = 0
    client = Client()
    client.force_login(user)
    soon = timezone.now() + datetime.timedelta(minutes=1)
    Session.objects.update(expire_date=soon)
    client.get("/")
    expiry = Session.objects.get().expire_date
    assert expiry > timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


def test_a_page_soon_after_the_login_writes_nothing_to_the_session(user):
    client = Client()
    client.force_login(user)
    soon = timezone.now() + datetime.timedelta(minutes=1)
    Session.objects.update(expire_date=soon)
    client.get("/")
    assert Session.objects.get().expire_date == soon


def test_djangos_password_validators_are_on():
    names = {validator["NAME"].rsplit(".", 1)[-1] for validator in settings.AUTH_PASSWORD_VALIDATORS}
    assert names == {
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    }
