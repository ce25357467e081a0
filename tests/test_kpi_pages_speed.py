"""The branch KPI page and the national KPI page made faster (issue 12) show exactly what they showed before.

``tests/reference/*_before.html`` are the two pages' templates as they were before their content was cached and
partly rendered in Python, ``tests/reference/before.py`` the national page's ranking, rows and chart code of then;
each test renders every page of the seed with them, as the views did then, and compares it byte for byte with
the page served now, in Japanese and in English.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.test import Client
from django.utils import translation

from branches.models import Branch
from plans import selectors, versions
from plans.models import FiscalYear, Kpi, KpiActual, KpiTarget, Plan
from plans.views import dashboards
from tests.conftest import client_for
from tests.factories import member
from tests.reference import before

pytestmark = pytest.mark.django_db

REFERENCE = Path(__file__).parent / "reference"
LANGUAGES = ("ja", "en")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')

DETAIL_COLD_QUERIES = 8  # session, user with membership, data versions, the targets' stamps (kept per data versions
# after), plan, targets, actuals, lineage
DETAIL_WARM_QUERIES = 3  # the stamps, the content and the plan from the cache: no plan, target, actual or lineage read
NATIONAL_COLD_QUERIES = 7  # session, user with membership, data versions, the targets' stamps (kept per data versions
# after), branches (and the year), KPI, targets
NATIONAL_AFTER_A_SAVE_QUERIES = 5  # branches and KPI from the cache (the catalog is unchanged), one branch's target
NATIONAL_WARM_QUERIES = 3  # the stamps and the content from the cache: no branch, KPI or target read


def _render_before(name: str, context: dict[str, Any], request: HttpRequest, language: str) -> str:
    with translation.override(language):
        return engines["django"].from_string((REFERENCE / name).read_text()).render(context, request)


def _detail_before(plan: Plan, kpi_code: str, request: HttpRequest, language: str) -> str:
    """The KPI page as the view rendered it before (the same calls, the template of then)."""
    with translation.override(language):
        history = selectors.kpi_history(plan, kpi_code)
        assert history is not None
        context = dashboards.kpi_detail_context(plan, history)  # the view's context of then, unchanged
    return _render_before("kpi_detail_before.html", context, request, language)


def _national_before(fiscal_year: FiscalYear, kpi: Kpi, request: HttpRequest, language: str) -> str:
    with translation.override(language):
        ranking = before.kpi_ranking(fiscal_year, kpi)
        national_average = next(
            (r.result.national_average for r in ranking if r.result.national_average is not None), None
        )
        context = {
            "fiscal_year": fiscal_year,
            "kpi": kpi,
            "rows": ranking,
            "rows_html": before.ranking_rows_html(fiscal_year, kpi, ranking),
            "chart": before.branch_ranking(fiscal_year.year, kpi, ranking, national_average),
            "national_average": national_average,
        }
    return _render_before("national_kpi_before.html", context, request, language)


def _same(served: str, before: str) -> bool:
    """Equal but for the CSRF tokens of the header's forms (masked afresh on each rendering)."""
    return CSRF.sub("csrf", served) == CSRF.sub("csrf", before)


def _get(client: Client, path: str, language: str) -> tuple[str, HttpRequest]:
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, path
    return response.content.decode(), response.wsgi_request


@pytest.fixture
def hq(hq_manager: AbstractBaseUser) -> Client:
    return client_for(hq_manager)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_branch_kpi_page_of_the_seed_is_the_same_as_before(hq: Client, language: str) -> None:
    pages = sorted(set(KpiTarget.objects.values_list("plan__branch__code", "plan__fiscal_year_id", "kpi__code")))
    assert len(pages) > 150
    plans = {(p.branch.code, p.fiscal_year_id): p for p in Plan.objects.select_related("branch", "fiscal_year")}
    differ = []
    for code, year, kpi_code in pages:
        served, request = _get(hq, f"/branches/{code}/{year}/kpi/{kpi_code}/", language)
        if not _same(served, _detail_before(plans[code, year], kpi_code, request, language)):
            differ.append((code, year, kpi_code))
    assert differ == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_national_kpi_page_of_the_seed_is_the_same_as_before(hq: Client, language: str) -> None:
    pages = sorted(set(KpiTarget.objects.values_list("plan__fiscal_year_id", "kpi__code")))
    assert len(pages) > 50
    years = {fy.year: fy for fy in FiscalYear.objects.all()}
    kpis = {kpi.code: kpi for kpi in Kpi.objects.all()}
    differ = []
    for year, kpi_code in pages:
        served, request = _get(hq, f"/national/{year}/kpi/{kpi_code}/", language)
        if not _same(served, _national_before(years[year], kpis[kpi_code], request, language)):
            differ.append((year, kpi_code))
    assert differ == []


@pytest.mark.parametrize(
    "path", ["/branches/tochigi/2023/kpi/lifestyle_checkup_rate/", "/national/2024/kpi/lifestyle_checkup_rate/"]
)
def test_a_page_from_the_cache_is_the_page_rendered_afresh(hq: Client, path: str) -> None:
    for language in LANGUAGES:
        fresh, _ = _get(hq, path, language)
        cached, _ = _get(hq, path, language)
        caches["default"].clear()
        again, _ = _get(hq, path, language)
        assert _same(cached, fresh)
        assert _same(again, fresh)


def test_the_cached_content_holds_nothing_of_the_user_who_saw_it_first(hq: Client) -> None:
    path = "/branches/tochigi/2023/kpi/lifestyle_checkup_rate/"
    first, _ = _get(hq, path, "ja")
    staff = client_for(member("tochigi-reader", branch=Branch.objects.get(code="tochigi")))
    second, _ = _get(staff, path, "ja")
    assert "hq-manager" in first and "hq-manager" not in second
    assert _main(first) == _main(second)


def test_the_branch_kpi_page_runs_a_constant_number_of_queries_cold_and_warm(
    hq: Client, django_assert_num_queries: Any
) -> None:
    path = "/branches/tochigi/2023/kpi/lifestyle_checkup_rate/"
    with django_assert_num_queries(DETAIL_COLD_QUERIES):
        assert hq.get(path).status_code == 200
    with django_assert_num_queries(DETAIL_WARM_QUERIES):
        assert hq.get(path).status_code == 200
    KpiTarget.objects.get(
        plan__branch__code="tochigi", plan__fiscal_year_id=2023, kpi__code="lifestyle_checkup_rate"
    ).save()
    with django_assert_num_queries(DETAIL_COLD_QUERIES - 1):  # the plan is kept under the catalog's version
        assert hq.get(path).status_code == 200


def test_the_national_kpi_page_runs_a_constant_number_of_queries_cold_and_warm(
    hq: Client, django_assert_num_queries: Any
) -> None:
    path = "/national/2024/kpi/lifestyle_checkup_rate/"
    with django_assert_num_queries(NATIONAL_COLD_QUERIES):
        assert hq.get(path).status_code == 200
    with django_assert_num_queries(NATIONAL_WARM_QUERIES):
        assert hq.get(path).status_code == 200
    KpiTarget.objects.get(
        plan__branch__code="tokyo", plan__fiscal_year_id=2024, kpi__code="lifestyle_checkup_rate"
    ).save()
    with django_assert_num_queries(NATIONAL_AFTER_A_SAVE_QUERIES):
        assert hq.get(path).status_code == 200
    versions.bump()  # the catalog: every branch's entry is read again
    with django_assert_num_queries(NATIONAL_COLD_QUERIES):
        assert hq.get(path).status_code == 200


def _main(html: str) -> str:
    match = re.search(r"<main.*</main>", html, re.S)
    assert match
    return match.group(0)


def test_after_a_save_in_one_branch_the_national_page_is_the_one_rendered_from_scratch(hq: Client) -> None:
    """Only the saving branch's entry is read again; the page equals one made with an empty cache."""
    path = "/national/2023/kpi/lifestyle_checkup_rate/"
    before_save = _main(hq.get(path).content.decode())
    actual = KpiActual.objects.filter(
        target__plan__branch__code="tochigi",
        target__plan__fiscal_year_id=2023,
        period=KpiActual.Period.YEAR_END,
        target__kpi__code="lifestyle_checkup_rate",
        value__isnull=False,
    ).first()
    assert actual is not None
    actual.value = Decimal("12.3")
    actual.save()
    after_save = _main(hq.get(path).content.decode())
    caches["default"].clear()
    assert after_save == _main(hq.get(path).content.decode())
    assert after_save != before_save
    assert "12.3%" in after_save


def test_a_target_added_to_a_branch_without_one_joins_the_ranking(hq: Client) -> None:
    path = "/national/2023/kpi/lifestyle_checkup_rate/"
    assert "東京" not in _main(hq.get(path).content.decode())
    plan = Plan.objects.get(branch__code="tokyo", fiscal_year_id=2024)
    plan.pk, plan.fiscal_year_id = None, 2023
    plan.save()
    assert "東京" not in _main(hq.get(path).content.decode())  # a plan without this KPI: still not ranked
    KpiTarget.objects.create(
        plan=plan, kpi=Kpi.objects.get(code="lifestyle_checkup_rate"), target_text="70.0%以上", order=1
    )
    assert "東京" in _main(hq.get(path).content.decode())


def test_a_kpi_no_plan_has_is_still_404_and_never_cached(hq: Client) -> None:
    unplanned = Kpi.objects.exclude(targets__plan__fiscal_year_id=2021).first()
    assert unplanned is not None
    for _ in range(2):
        assert hq.get("/branches/tochigi/2024/kpi/judo_multi_visit_rate/").status_code == 404
        assert hq.get(f"/national/2021/kpi/{unplanned.code}/").status_code == 404
    kept = [key for key in caches["default"]._cache if "kpi-detail:" in key or "national-kpi:" in key]  # locmem
    assert kept == []


@pytest.mark.parametrize(
    "path", ["/branches/tochigi/2023/kpi/lifestyle_checkup_rate/", "/national/2023/kpi/lifestyle_checkup_rate/"]
)
def test_a_page_with_a_waiting_message_is_read_afresh_and_shows_the_same_content(
    hq: Client, rf: Any, path: str
) -> None:
    """With a flash message waiting there are no data versions: nothing is taken from the cache or kept."""
    cached = _main(hq.get(path).content.decode())
    storage = CookieStorage(rf.get(path))
    storage.add(messages.INFO, "保存しました")
    carrier = HttpResponse()
    storage.update(carrier)
    hq.cookies["messages"] = carrier.cookies["messages"].value
    caches["default"].clear()
    shown = _main(hq.get(path).content.decode())
    assert "保存しました" in shown
    assert shown.replace('<ul class="messages"><li class="info">保存しました</li></ul>', "") == cached
    assert list(caches["default"]._cache) == []  # locmem: nothing kept


def test_an_unknown_year_or_kpi_is_404_each_time(hq: Client) -> None:
    for _ in range(2):
        assert hq.get("/national/2099/kpi/lifestyle_checkup_rate/").status_code == 404
        assert hq.get("/national/2024/kpi/no_such_kpi/").status_code == 404
    assert hq.get("/national/2024/kpi/lifestyle_checkup_rate/").status_code == 200


def test_a_renamed_kpi_shows_its_new_name_on_both_pages_at_once(hq: Client) -> None:
    pages = ["/national/2023/kpi/lifestyle_checkup_rate/", "/branches/tochigi/2023/kpi/lifestyle_checkup_rate/"]
    for page in pages:
        assert hq.get(page).status_code == 200
    kpi = Kpi.objects.get(code="lifestyle_checkup_rate")
    kpi.name = "特定健診受診率（改称）"
    kpi.save()
    assert "<title>特定健診受診率（改称） 全支部" in hq.get(pages[0]).content.decode()
    assert "<title>特定健診受診率（改称） 栃木" in hq.get(pages[1]).content.decode()
