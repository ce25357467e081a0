"""Error pages a user can read: Japanese 400/403/404/500 in the site's layout, keeping the reason."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.test import Client
from django.urls import path, reverse

from kpitrack import errors
from kpitrack.urls import handler400, handler403, handler404, handler500
from kpitrack.urls import urlpatterns as site_urlpatterns
from plans.exports import EXPORT_FORMAT_ERROR
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

LAYOUT = '<header class="site-header">'
HOME_LINK = '<a href="/">トップページへ戻る</a>'


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug the user must not see")


def _forbidden_without_reason(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def _not_found_in_english(request: HttpRequest) -> HttpResponse:
    raise Http404("No Widget matches the given query.")


# A test-only URLconf: the site's pages and error handlers plus views that fail on purpose.
urlpatterns = [
    path("test-errors/boom/", _boom),
    path("test-errors/forbidden/", _forbidden_without_reason),
    path("test-errors/english-404/", _not_found_in_english),
    *site_urlpatterns,
]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


@pytest.fixture
def production(settings) -> None:
    settings.DEBUG = False


@pytest.fixture
def manager(hq_manager) -> Client:
    return client_for(hq_manager)


# -- 403 ---------------------------------------------------------------------------------------------


def test_it_explains_a_403_in_japanese_inside_the_layout(gifu_staff):
    response = client_for(gifu_staff).get("/branches/tochigi/2023/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "この支部のページを見る権限がありません。" in html
    assert LAYOUT in html and HOME_LINK in html
    assert "gifu-staff" in html  # the user is still shown as logged in, with the logout button
    assert "Forbidden" not in html


@pytest.mark.urls(__name__)
def test_it_gives_a_general_japanese_reason_for_a_403_without_one(gifu_staff):
    response = client_for(gifu_staff).get("/test-errors/forbidden/")
    assert response.status_code == 403
    assert errors.PERMISSION_DENIED in response.content.decode()


def test_it_explains_a_csrf_failure_in_japanese():
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "ページを再読み込みしてから、もう一度送信してください。" in html
    assert LAYOUT in html and "CSRF" not in html


# -- 404 ---------------------------------------------------------------------------------------------


def test_it_explains_a_404_in_japanese_with_our_reason(production, manager):
    response = manager.get("/branches/tochigi/2019/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "栃木支部の令和元年度の事業計画はありません。" in html
    assert LAYOUT in html and HOME_LINK in html


@pytest.mark.parametrize("url", ["/no/such/page/", "/branches/nowhere/2023/", "/national/2023/kpi/nothing/"])
def test_it_never_shows_djangos_english_404_text(production, manager, url):
    response = manager.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert errors.NOT_FOUND in html
    assert LAYOUT in html
    for english in ("No Branch matches", "No Kpi matches", "Page not found", "URLconf", "tried", "Resolver404"):
        assert english not in html


@pytest.mark.urls(__name__)
def test_it_replaces_an_english_404_message_by_the_japanese_one(production, manager):
    html = manager.get("/test-errors/english-404/").content.decode()
    assert errors.NOT_FOUND in html and "No Widget" not in html


def test_it_shows_the_404_page_to_an_anonymous_visitor(production):
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert errors.NOT_FOUND in html and "ログアウト" not in html


@pytest.mark.parametrize(
    "url",
    [
        "/branches/tochigi/99999999999999999999/",
        "/branches/tochigi/99999999999999999999/kpi/lifestyle_checkup_rate/",
        "/national/99999999999999999999/",
        "/national/99999999999999999999/kpi/lifestyle_checkup_rate/",
        "/branches/tochigi/20231/",
        "/branches/tochigi/-2023/",
    ],
)
def test_it_404s_a_year_too_large_for_the_database(production, manager, url):
    assert manager.get(url).status_code == 404


def test_it_still_links_four_digit_years():
    assert reverse("branch_dashboard", args=["tochigi", 2023]) == "/branches/tochigi/2023/"
    assert reverse("national_kpi", kwargs={"year": 2024, "kpi_code": "x"}) == "/national/2024/kpi/x/"


# -- 400 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["ods", "xls", "yaml", "json", "latex", "tsv", "", "CSV", "pdf"])
def test_it_answers_400_with_the_japanese_message_for_any_export_but_csv_and_xlsx(production, manager, fmt):
    response = manager.get("/branches/tochigi/2023/", {"_export": fmt})
    assert response.status_code == 400
    html = response.content.decode()
    assert EXPORT_FORMAT_ERROR in html
    assert LAYOUT in html and HOME_LINK in html


def test_it_answers_a_disallowed_host_with_the_japanese_400_page(production):
    response = Client(HTTP_HOST="evil.example").get("/")
    assert response.status_code == 400
    html = response.content.decode()
    assert errors.BAD_REQUEST in html and LAYOUT in html
    assert "evil.example" not in html and "DisallowedHost" not in html


# -- 500 ---------------------------------------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_it_shows_a_japanese_500_page_in_the_layout_without_the_error(production, hq_manager):
    client = Client(raise_request_exception=False)
    client.force_login(hq_manager)
    response = client.get("/test-errors/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert errors.SERVER_ERROR in html
    assert LAYOUT in html and HOME_LINK in html
    assert "/static/css/kpitrack.css" in html
    assert "RuntimeError" not in html and "a bug the user must not see" not in html


# -- which messages are shown --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exception", "reason"),
    [
        (PermissionDenied("この支部のページを見る権限がありません。"), "この支部のページを見る権限がありません。"),
        (Http404("令和6年度に健診の目標を立てた支部はありません。"), "令和6年度に健診の目標を立てた支部はありません。"),
        (Http404("No Branch matches the given query."), ""),
        (Http404({"path": "x/", "tried": []}), ""),
        (PermissionDenied(), ""),
        (None, ""),
    ],
)
def test_it_keeps_only_reasons_written_in_japanese(exception, reason):
    assert errors.readable_reason(exception) == reason
