"""Validators on the dashboards: a repeat visit is 304 without a selector; every write shows at once.

Each write test fetches the pages, writes through one door, then fetches the same pages with the ETags it was
given: each must answer 200 with the new figure (never 304 with the old page).
"""

from __future__ import annotations

import datetime
import pickle
import re
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.http import HttpResponse
from django.test import Client

from branches.models import Branch, Membership
from plans import selectors, services, workflow
from plans.imports.draft import Draft, DraftTarget
from plans.imports.save import save_draft
from plans.models import Kpi, KpiActual, KpiTarget, MeasureProgress, MonthReport, NationalAverage, Plan
from plans.results import KpiResult, export_row
from plans.seed import load_seed
from tests.conftest import client_for
from tests.factories import member

pytestmark = pytest.mark.django_db

KPI = "lifestyle_checkup_rate"  # Tochigi FY2023: year-end 72.2 (seed)
PAGES = [
    "/branches/tochigi/2023/",
    "/branches/tochigi/2023/plan/",
    f"/branches/tochigi/2023/kpi/{KPI}/",
    "/national/2023/",
    f"/national/2023/kpi/{KPI}/",
    "/branches/tochigi/2024/",  # last year's actual is a column of the published table
]
NATIONAL = ["/national/2023/", f"/national/2023/kpi/{KPI}/", "/national/2023/status/"]


@pytest.fixture
def hq(hq_manager: AbstractBaseUser) -> Client:
    return client_for(hq_manager)


def target() -> KpiTarget:
    return KpiTarget.objects.select_related("plan", "kpi").get(
        plan__branch__code="tochigi", plan__fiscal_year_id=2023, kpi__code=KPI
    )


def year_end() -> KpiActual:
    return KpiActual.objects.get(target=target(), period=KpiActual.Period.YEAR_END)


Tags = dict[str, tuple[str, str]]


def etags(client: Client, pages: list[str]) -> Tags:
    """Each page's ETag and HTML, after checking that a repeat visit is answered 304."""
    tags = {}
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert response["Cache-Control"] == "private, no-cache"
        tags[page] = (response["ETag"], response.content.decode())
        assert client.get(page, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304, page
    return tags


def assert_fresh(client: Client, tags: Tags, shown: str | None, *, gone: str | None = None) -> None:
    """Each page, asked with the ETag it gave before the write, answers 200 showing ``shown`` (one more time
    than before when it showed it already) and ``gone`` fewer times than before."""
    for page, (tag, before) in tags.items():
        response = client.get(page, HTTP_IF_NONE_MATCH=tag)
        assert response.status_code == 200, page
        html = response.content.decode()
        if shown is not None:
            assert html.count(shown) > before.count(shown), (page, shown)
        if gone is not None:
            assert html.count(gone) < before.count(gone), (page, gone)


# -- the 304 path ------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [*PAGES, "/national/2023/status/"])
def test_a_repeat_visit_sets_no_cookie_again(hq, page):
    tag = hq.get(page)["ETag"]
    response = hq.get(page, HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 304
    assert not response.cookies  # the CSRF cookie the browser holds is not sent again (nor the session's)


def test_a_first_visit_without_a_csrf_cookie_gets_one_and_its_etag_holds_it(hq):
    hq.cookies.pop("csrftoken", None)
    first = hq.get("/national/2023/")
    assert "csrftoken" in first.cookies
    assert hq.get("/national/2023/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


@pytest.mark.parametrize("page", [*PAGES, "/national/2023/status/"])
def test_it_answers_a_repeat_visit_304_without_running_a_selector(hq, page, monkeypatch, django_assert_num_queries):
    tag = hq.get(page)["ETag"]

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a selector ran on the 304 path")

    for name in ("plan_results", "national_matrix", "kpi_ranking", "kpi_history", "plan_outline", "published_columns"):
        monkeypatch.setattr(selectors, name, refuse)
    monkeypatch.setattr(workflow, "report_status", refuse)
    # session, user with membership, data versions (with the stamps of the targets shown, for a page of one KPI):
    # the same few queries whatever the page's size
    with django_assert_num_queries(3):
        response = hq.get(page, HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == tag
    assert response["Cache-Control"] == "private, no-cache"


def test_the_etag_differs_by_user_language_and_query_string(hq, hq_manager):
    page = "/national/2023/"
    tag = hq.get(page)["ETag"]
    other = client_for(member("hq-other", hq=True))
    assert other.get(page, HTTP_IF_NONE_MATCH=tag).status_code == 200
    assert hq.get(page + "?all=1", HTTP_IF_NONE_MATCH=tag).status_code == 200
    assert hq.get(page, HTTP_IF_NONE_MATCH=tag, HTTP_ACCEPT_LANGUAGE="en").status_code in (200, 304)
    hq.cookies["django_language"] = "en"
    assert hq.get(page, HTTP_IF_NONE_MATCH=tag).status_code == 200


def test_a_renamed_user_or_one_made_staff_is_not_answered_from_the_old_page(hq, hq_manager):
    page = "/national/2023/"
    tag = hq.get(page)["ETag"]
    hq_manager.first_name = "本部太郎"
    hq_manager.save()
    response = hq.get(page, HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 200
    assert "本部太郎" in response.content.decode()
    hq_manager.is_staff = True
    hq_manager.save()
    assert hq.get(page, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 200


def test_a_changed_membership_is_not_answered_from_the_old_page(hq, hq_manager):
    page = "/branches/tochigi/2023/"
    tag = hq.get(page)["ETag"]
    gifu = Branch.objects.get(code="gifu")
    Membership.objects.filter(user=hq_manager).update(role=Membership.Role.STAFF, branch=gifu)
    assert hq.get(page, HTTP_IF_NONE_MATCH=tag).status_code == 403


def test_a_page_with_a_waiting_message_is_rendered_not_304(hq, rf):
    page = "/national/2023/status/"
    tag = hq.get(page)["ETag"]
    storage = CookieStorage(rf.get(page))
    storage.add(messages.INFO, "督促メールを送りました")
    carrier = HttpResponse()
    storage.update(carrier)
    hq.cookies["messages"] = carrier.cookies["messages"].value
    response = hq.get(page, HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 200
    assert "督促メールを送りました" in response.content.decode()


def test_errors_and_redirects_carry_no_etag(tochigi_staff):
    client = client_for(tochigi_staff)
    response = client.get("/branches/gifu/2023/")
    assert response.status_code == 403
    assert not response.has_header("ETag")
    assert Client().get("/branches/tochigi/2023/").status_code == 302


# -- every kind of write shows at once --------------------------------------------------------------


def test_a_service_update_shows_on_every_page(hq):
    tags = etags(hq, PAGES)
    actual = year_end()
    services.actual_record(
        target=actual.target, period=actual.period, month=None, value=Decimal("81.9"), expected_version=actual.version
    )
    assert_fresh(hq, tags, "81.9", gone="72.2")


def test_a_delete_and_a_restore_show_on_every_page(hq, hq_manager):
    actual = year_end()
    tags = etags(hq, PAGES)
    services.actual_delete(actual=actual, user=hq_manager, reason="誤入力", expected_version=actual.version)
    assert_fresh(hq, {p: t for p, t in tags.items() if "/kpi/" not in p}, None, gone="72.2")
    assert hq.get(f"/branches/tochigi/2023/kpi/{KPI}/", HTTP_IF_NONE_MATCH=tags[PAGES[2]][0]).status_code == 200
    tags = etags(hq, PAGES)
    row = KpiActual.history.filter(target_id=actual.target_id).exclude(history_type="-").first()  # type: ignore[attr-defined]
    services.actual_restore(
        target=actual.target, history_id=row.history_id, user=hq_manager, expected_version=0, reason="戻す"
    )
    assert_fresh(hq, tags, "72.2")


def test_an_admin_edit_shows_on_every_page(hq):
    admin = client_for(_superuser())
    actual = year_end()
    tags = etags(hq, PAGES)
    data = {
        "value": "64.4",
        "text_value": "",
        "numerator": "",
        "denominator": "",
        "note": actual.note,
        "is_cumulative": "on",
        "expected_version": str(actual.version),
        "reason": "支部資料の訂正",
    }
    response = admin.post(f"/admin/plans/kpiactual/{actual.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert_fresh(hq, tags, "64.4", gone="72.2")


def _superuser() -> AbstractBaseUser:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("speed-admin", "a@example.com", "pw")


def test_load_seed_shows_on_every_page(hq):
    actual = year_end()
    services.actual_record(target=actual.target, period=actual.period, month=None, value=Decimal("81.9"))
    tags = etags(hq, PAGES)
    load_seed()
    assert_fresh(hq, tags, "72.2", gone="81.9")


def test_a_browser_entry_post_shows_on_the_branch_pages(tochigi_staff):
    from plans import entry

    plan = Plan.objects.create(branch=Branch.objects.get(code="tochigi"), fiscal_year_id=2025)
    rate = KpiTarget(plan=plan, kpi=Kpi.objects.get(code=KPI), order=1)
    rate.apply_target_text("50.0%以上")
    rate.save()
    client = client_for(tochigi_staff)
    pages = ["/branches/tochigi/2025/", f"/branches/tochigi/2025/kpi/{KPI}/", "/branches/tochigi/2025/plan/"]
    tags = etags(client, pages)
    june = datetime.date(2025, 6, 1)
    data = {}
    for row in entry.month_sheet(plan, june).rows:
        data[f"{row.prefix}-version"] = str(row.version)
        for name, value in row.typed.items():
            data[f"{row.prefix}-{name}"] = value
    data[f"t{rate.pk}-value"] = "63.4"
    response = client.post("/branches/tochigi/2025/entry/2025-06/", data)
    assert response.status_code == 302
    assert_fresh(client, tags, "63.4")


def test_an_imported_plan_shows_on_the_national_matrix(hq):
    tags = etags(hq, ["/national/2023/"])
    draft_target = DraftTarget(kpi=KPI, name="特定健診", target_text="", rule=None)
    save_draft(Draft(branch="hokkaido", fiscal_year=2023, targets=[draft_target]))
    assert_fresh(hq, tags, "北海道")


def test_a_progress_save_shows_on_the_plan_page(tochigi_staff):
    client = client_for(tochigi_staff)
    progress = MeasureProgress.objects.filter(measure__plan__branch__code="tochigi", measure__plan__fiscal_year_id=2023)
    row = progress.order_by("-as_of").first()
    tags = etags(client, ["/branches/tochigi/2023/plan/"])
    row.status = "速度の試験で書き換えた実施状況"
    row.save()
    assert_fresh(client, tags, "速度の試験で書き換えた実施状況")


def test_a_month_transition_shows_on_the_report_status(hq, tochigi_staff):
    plan = Plan.objects.get(branch__code="tochigi", fiscal_year_id=2024)
    report = MonthReport.objects.create(plan=plan, month=datetime.date(2024, 4, 1))
    tags = etags(hq, ["/national/2024/status/"])
    workflow.month_transition(report=report, name="submit", user=tochigi_staff, expected_version=report.version)
    assert_fresh(hq, tags, str(MonthReport.Status.SUBMITTED.label))


def test_a_national_average_and_a_catalog_edit_show_at_once(hq):
    tags = etags(hq, [f"/national/2023/kpi/{KPI}/", "/branches/tochigi/2023/"])
    NationalAverage.objects.filter(kpi__code=KPI, fiscal_year_id=2023, as_of__isnull=True).update(value=Decimal("57.7"))
    average = NationalAverage.objects.get(kpi__code=KPI, fiscal_year_id=2023, as_of__isnull=True)
    average.value = Decimal("55.5")
    average.save()
    assert_fresh(hq, tags, "55.5")
    tags = etags(hq, PAGES)
    kpi = Kpi.objects.get(code=KPI)
    kpi.name = "速度試験のKPI名"
    kpi.save()
    target_ = target()
    target_.name_as_written = ""
    target_.save()
    assert_fresh(hq, {p: t for p, t in tags.items() if "tochigi/2024" not in p}, "速度試験のKPI名")


# -- the cached fragments never disagree with the selectors -----------------------------------------------


def _part(html: str, start: str, end: str) -> str:
    return html[html.index(start) : html.index(end, html.index(start))]


def test_a_cached_matrix_after_a_save_is_the_matrix_rendered_from_scratch(hq):
    hq.get("/national/2023/")  # every row cached
    actual = year_end()
    services.actual_record(target=actual.target, period=actual.period, month=None, value=Decimal("41.0"))
    cached = _part(hq.get("/national/2023/").content.decode(), "<tbody>", "</tbody>")
    caches["default"].clear()
    fresh = _part(hq.get("/national/2023/").content.decode(), "<tbody>", "</tbody>")
    assert cached == fresh
    assert "41.0" in cached


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_cached_matrix_head_is_the_head_rendered_from_scratch_and_follows_the_catalog(hq, language):
    hq.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    hq.get("/national/2023/")  # the head cached
    kpi = Kpi.objects.get(code=KPI)
    kpi.name = "見出し試験のKPI名"
    kpi.save()
    cached = _part(hq.get("/national/2023/").content.decode(), "<thead>", "</thead>")
    caches["default"].clear()
    fresh = _part(hq.get("/national/2023/").content.decode(), "<thead>", "</thead>")
    assert cached == fresh
    assert 'title="見出し試験のKPI名"' in cached


def test_a_matrix_row_read_through_the_result_cache_is_the_row_read_in_bulk(hq, tochigi_staff):
    """After a save of a mid-year figure (a projected cell), the saved branch's row comes from the result cache
    (shared with its dashboard, which computed it first) and is the row the bulk query gives."""
    target_2024 = KpiTarget.objects.get(plan__branch__code="tochigi", plan__fiscal_year_id=2024, kpi__code=KPI)
    hq.get("/national/2024/")  # every row cached
    for month, value in ((datetime.date(2024, 9, 1), "41.5"), (datetime.date(2024, 10, 1), "61.5")):
        services.actual_record(target=target_2024, period=KpiActual.Period.MONTHLY, month=month, value=Decimal(value))
        client_for(tochigi_staff).get("/branches/tochigi/2024/")  # its results computed and kept
        cached = _part(hq.get("/national/2024/").content.decode(), "<tbody>", "</tbody>")
        caches["default"].clear()
        fresh = _part(hq.get("/national/2024/").content.decode(), "<tbody>", "</tbody>")
        assert cached == fresh
        assert "見込み" in cached


def test_the_matrix_cells_agree_with_export_results(hq):
    """Each cell's mark is the mark export_results gives for that branch and KPI (the documented interface)."""
    html = hq.get("/national/2023/").content.decode()
    for plan in Plan.objects.filter(fiscal_year_id=2023).select_related("branch"):
        for row in (export_row(result) for result in selectors.plan_results(plan)):
            link = f'href="/branches/{plan.branch.code}/2023/kpi/{row["kpi"]}/"'
            cell = re.search(link + r' title="[^"]*">([^<]*)</a>', html)
            assert cell is not None, (plan.branch.code, row["kpi"])
            if row["mark"] is not None:
                assert cell.group(1) == row["mark"], (plan.branch.code, row["kpi"])


def test_a_cached_kpi_table_is_the_table_rendered_from_scratch(tochigi_staff):
    client = client_for(tochigi_staff)
    page = "/branches/tochigi/2023/?sort=-mark"
    client.get(page)
    actual = year_end()
    services.actual_record(target=actual.target, period=actual.period, month=None, value=Decimal("41.0"))
    cached = _part(client.get(page).content.decode(), '<div class="table-wrap">', "</table>")
    caches["default"].clear()
    fresh = _part(client.get(page).content.decode(), '<div class="table-wrap">', "</table>")
    assert cached == fresh
    assert "41.0" in cached
    exported = {row["kpi"]: row for row in (export_row(r) for r in selectors.plan_results(actual.target.plan))}
    assert exported[KPI]["actual"] == 41.0


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_kpi_table_head_follows_each_requests_sort_order_and_filters(tochigi_staff, language):
    """The head is kept per language and query string: each sort order's links and arrows, each filter kept in
    the sort links, as rendered from scratch."""
    client = client_for(tochigi_staff)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    pages = [f"/branches/tochigi/2023/{q}" for q in ("", "?sort=kpi", "?sort=-kpi", "?mark=△&sort=-mark")]
    cached = {page: _part(client.get(page).content.decode(), "<thead>", "</thead>") for page in pages}
    cached = {page: _part(client.get(page).content.decode(), "<thead>", "</thead>") for page in pages}  # from cache
    for page in pages:
        caches["default"].clear()
        assert cached[page] == _part(client.get(page).content.decode(), "<thead>", "</thead>"), page
    assert len(set(cached.values())) == len(pages)
    assert 'class="asc kpi orderable"><a href="?sort=-kpi"' in cached[pages[1]]
    assert 'class="desc kpi orderable"><a href="?sort=kpi"' in cached[pages[2]]
    assert "mark=%E2%96%B3" in cached[pages[3]]


def test_no_cached_fragment_holds_a_csrf_token_or_the_users_name(hq, hq_manager):
    hq.get("/national/2023/")
    hq.get("/branches/tochigi/2023/")
    store = caches["default"]
    entries = [store.get(key.split(":", 2)[-1]) for key in list(store._cache)]  # type: ignore[attr-defined]
    dicts = [e for e in entries if isinstance(e, dict)]
    assert sum(1 for e in dicts if "html" in e) == 47  # every branch's matrix row
    assert sum(1 for e in dicts if "table_html" in e) == 1  # Tochigi's KPI table
    assert (
        sum(1 for e in entries if isinstance(e, KpiResult))
        == Plan.objects.get(branch__code="tochigi", fiscal_year_id=2023).targets.count()
    )  # each target's result
    assert sum(1 for e in entries if isinstance(e, str) and e.startswith("<tr>")) > 0  # the KPI table's rows
    for entry in entries:  # fragments, results, published columns: nothing of the user in any
        kept = pickle.dumps(entry)
        assert b"csrfmiddlewaretoken" not in kept
        assert hq.cookies["csrftoken"].value.encode() not in kept
        assert hq_manager.get_username().encode() not in kept
        assert hq.session.session_key.encode() not in kept


def test_a_workbook_import_shows_on_every_page(hq, hq_manager):
    from plans.workbooks.importer import import_workbook
    from plans.workbooks.published import published_workbook, workbook_bytes

    plan = target().plan
    data = workbook_bytes(published_workbook(plan, selectors.plan_results(plan)))
    KpiActual.objects.filter(target__plan=plan).delete()
    KpiActual.history.filter(target__plan=plan).delete()  # never held: a deletion after the download is kept
    tags = etags(hq, PAGES)
    import_workbook(data, "tochigi.xlsx", user=_superuser())  # bulk inserts: no signal, the import bumps its plan
    assert_fresh(hq, tags, "72.2")


def test_a_target_edited_in_the_plan_editor_shows_on_the_branch_pages(hq, hq_manager):
    from plans import planning

    edited = target()
    tags = etags(hq, PAGES[:3])
    planning.target_update(edited, "93.7%以上", user=_superuser(), expected_text=edited.target_text, reason="訂正")
    assert_fresh(hq, tags, "93.7")


@pytest.mark.parametrize("order", ["", "-mark", "kpi", "-year_end", "measure"])
@pytest.mark.parametrize("year", [2023, 2024])
def test_the_lean_kpi_table_body_is_the_cells_django_tables2_computes(order: str, year: int) -> None:
    """KpiResultTable.body_html skips django-tables2's per-cell work: it must give exactly the cells its
    BoundRow.items() gives (accessor, empty values and default, render_* method), localized and escaped as a
    template's {{ cell }} would."""
    from django.test import RequestFactory
    from django.utils.formats import localize
    from django.utils.html import conditional_escape
    from django_tables2 import RequestConfig

    from plans.tables import KpiResultTable

    plan = Plan.objects.select_related("branch").get(branch__code="tochigi", fiscal_year_id=year)
    table = KpiResultTable(
        selectors.plan_results(plan), branch_code="tochigi", year=year, published=selectors.published_columns(plan)
    )
    RequestConfig(RequestFactory().get("/", {"sort": order} if order else {}), paginate=False).configure(table)
    expected = "\n".join(
        "<tr>"
        + "".join(
            f"<td {column.attrs['td'].as_html()}>{conditional_escape(localize(cell))}</td>"
            for column, cell in row.items()
        )
        + "</tr>"
        for row in table.rows
    )
    body = table.body_html()
    assert body == expected
    assert body.count("<tr>") == len(table.rows) > 10


def test_the_lean_kpi_table_body_takes_known_rows_as_they_are_and_renders_only_the_others(monkeypatch) -> None:
    """After a save most rows are known (kept in the cache): they are used as they are, the rest rendered as
    without them, and with every row known the columns are not even worked out."""
    from django.test import RequestFactory
    from django_tables2 import RequestConfig

    from plans.tables import KpiResultTable

    plan = Plan.objects.select_related("branch").get(branch__code="tochigi", fiscal_year_id=2024)
    results = selectors.plan_results(plan)

    def table_with(known: dict[int, str]) -> KpiResultTable:
        table = KpiResultTable(results, branch_code="tochigi", year=2024, published=selectors.published_columns(plan))
        RequestConfig(RequestFactory().get("/"), paginate=False).configure(table)
        table.known_rows = known
        return table

    fresh = table_with({})
    rows = fresh.body_html().split("\n")
    ids = [r.target.pk for r in results]
    assert list(fresh.rendered_rows) == ids and list(fresh.rendered_rows.values()) == rows
    known = {pk: f"<tr><td>kept {pk}</td></tr>" for pk in ids[1::2]}
    mixed = table_with(known)
    assert mixed.body_html().split("\n") == [known.get(pk, row) for pk, row in zip(ids, rows, strict=True)]
    assert list(mixed.rendered_rows) == ids[0::2]  # only the rows it rendered are handed back to be kept
    everything = table_with(dict(zip(ids, rows, strict=True)))
    monkeypatch.setattr(KpiResultTable, "_cell_plan", lambda self: pytest.fail("columns worked out for no row"))
    assert everything.body_html().split("\n") == rows
    assert everything.rendered_rows == {}


def test_the_lean_kpi_table_body_works_out_computed_cell_attributes_for_each_table() -> None:
    """A column's <td> attributes are kept per table class, except those a callable computes from the table:
    two tables of the same class then get their own."""
    import django_tables2 as tables
    from django.test import RequestFactory
    from django_tables2 import RequestConfig

    from plans.tables import KpiResultTable

    class YearTable(KpiResultTable):
        latest = tables.Column(accessor="latest", attrs={"td": {"data-year": lambda table: table.year}})

    plan = Plan.objects.select_related("branch").get(branch__code="tochigi", fiscal_year_id=2024)
    results = selectors.plan_results(plan)
    bodies = []
    for year in (2023, 2024):
        table = YearTable(results, branch_code="tochigi", year=year)
        RequestConfig(RequestFactory().get("/"), paginate=False).configure(table)
        bodies.append(table.body_html())
    assert 'data-year="2023"' in bodies[0] and 'data-year="2023"' not in bodies[1]
    assert 'data-year="2024"' in bodies[1]


def test_the_lean_kpi_table_body_uses_a_table_s_own_cell_attributes_and_extra_columns() -> None:
    """A table given attributes of its own (``attrs=``) or a column of its own (``extra_columns``) gets its own
    cells, after and before a plain table of the same class has had its cells kept."""
    import django_tables2 as tables
    from django.test import RequestFactory
    from django_tables2 import RequestConfig

    from plans.tables import KpiResultTable

    plan = Plan.objects.select_related("branch").get(branch__code="tochigi", fiscal_year_id=2024)
    results = selectors.plan_results(plan)

    def body(**options: Any) -> str:
        table = KpiResultTable(results, branch_code="tochigi", year=2024, **options)
        RequestConfig(RequestFactory().get("/"), paginate=False).configure(table)
        return table.body_html()

    plain = body()
    assert "data-own" not in plain
    assert 'data-own="table"' in body(attrs={"class": "kpi-table", "td": {"data-own": "table"}})
    extra = tables.Column(accessor="latest", attrs={"td": {"data-own": "column"}})
    assert 'data-own="column"' in body(extra_columns=[("latest", extra)])
    assert body() == plain  # and the plain table's cells were not replaced by theirs


def test_the_cached_filter_fields_keep_each_request_s_choice(tochigi_staff):
    client = client_for(tochigi_staff)

    def fields(query: str) -> str:
        return _part(client.get(f"/branches/tochigi/2023/{query}").content.decode(), 'class="filters">', "<button")

    fresh = fields("?area=2&group=&mark=")
    assert fields("?area=2&group=&mark=") == fresh  # from the cache
    assert '<option value="2" selected>' in fresh
    other = fields("?area=3&group=&mark=")
    assert '<option value="3" selected>' in other and '<option value="2" selected>' not in other
    assert 'aria-invalid="true"' in fields("?area=99")  # a form with errors is rendered, never cached
    caches["default"].clear()
    assert fields("?area=2&group=&mark=") == fresh


def test_the_report_status_is_read_again_only_after_a_write(hq, tochigi_staff, monkeypatch):
    page = "/national/2024/status/"
    first = hq.get(page).content.decode()
    calls: list[Any] = []
    real = workflow.report_status
    monkeypatch.setattr(workflow, "report_status", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert hq.get(page).content.decode().count("<td") == first.count("<td")
    assert calls == []  # nothing changed: the grid and the late list came from the cache
    plan = Plan.objects.get(branch__code="tochigi", fiscal_year_id=2024)
    report = MonthReport.objects.create(plan=plan, month=datetime.date(2024, 4, 1))
    workflow.month_transition(report=report, name="submit", user=tochigi_staff, expected_version=report.version)
    assert str(MonthReport.Status.SUBMITTED.label) in _part(hq.get(page).content.decode(), "status-grid", "</table>")
    assert len(calls) == 1


def test_a_plan_page_from_cached_sections_is_the_page_rendered_from_scratch(tochigi_staff):
    client = client_for(tochigi_staff)
    page = "/branches/tochigi/2023/plan/"
    client.get(page)
    actual = year_end()
    services.actual_record(target=actual.target, period=actual.period, month=None, value=Decimal("41.0"))
    progress = MeasureProgress.objects.filter(measure__plan=actual.target.plan).first()
    if progress is not None:  # a progress note changed: its measure's section is rendered again
        progress.status = "進捗を更新しました"
        progress.save()
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    cached = csrf.sub("", client.get(page).content.decode())
    caches["default"].clear()
    fresh = csrf.sub("", client.get(page).content.decode())
    assert cached == fresh
    assert "41.0" in cached
    assert progress is None or "進捗を更新しました" in cached


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="PostgreSQL's prepared statements"
)
def test_on_postgresql_a_dashboard_s_repeated_queries_are_prepared_once_per_connection(tochigi_staff):
    """The queries every page runs are parsed and planned once per connection (settings: server-side binding,
    psycopg's prepare_threshold), and the page is the same from a prepared query."""
    from django.db import connection

    client = client_for(tochigi_staff)
    pages = [client.get("/branches/tochigi/2024/").content.decode() for _ in range(7)]
    assert len({re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page) for page in pages}) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("django_session" in statement for statement in prepared)
    assert any("plans_dataversion" in statement for statement in prepared)
