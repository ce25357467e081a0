"""Dashboards: per branch, per KPI, and across branches. Thin views over ``plans.selectors``."""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.db.models import Exists
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import escape, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from branches import access
from branches.models import Branch
from plans import charts, fiscal, rules, selectors, versions
from plans.exports import dashboard_export
from plans.formatting import format_figure
from plans.forms import ResultFilterForm, is_at_risk
from plans.models import FiscalYear, Kpi, Plan
from plans.progress import half_of
from plans.results import KpiResult, mark_counts
from plans.rules import Mark
from plans.tables import KpiResultTable
from plans.views import cache
from plans.views.cache import branch_kpi_scope, branch_scope, national_kpi_scope, national_scope, revalidated
from plans.views.common import plan_or_404, plan_years

# Reasons for 403/404, raised as the Japanese msgid: the error page translates them (kpitrack/errors.py).
NO_HOME_BRANCH = gettext_noop("所属支部が登録されていません。管理者に連絡してください。")
NO_SUCH_KPI = gettext_noop("この事業計画にこのKPIはありません。")
NO_BRANCH_HAS_KPI = "{year}に{kpi}の目標を立てた支部はありません。"

#: Summary boxes in this order: ◎ ○ △ and not judged.
SUMMARY_ORDER: tuple[Mark | None, ...] = (*Mark, None)


def mark_summary(counts: Mapping[Mark | None, int]) -> list[dict[str, Any]]:
    """The ◎ / ○ / △ / － boxes: symbol, label, count and CSS class of each."""
    return [
        {
            "mark": mark or rules.NOT_JUDGED,
            "label": mark.label if mark else rules.NOT_JUDGED_LABEL,
            "count": counts.get(mark, 0),
            "css": rules.mark_css(mark),
        }
        for mark in SUMMARY_ORDER
    ]


def projected_summary(results: Iterable[KpiResult]) -> dict[str, int]:
    """Among results without an official mark: projected on track, at risk, and not projectable (判定不可)."""
    on_track = at_risk = unjudgeable = 0
    for result in results:
        if result.mark is not None:
            continue
        verdict = result.projection.on_track if result.projection else None
        if verdict is True:
            on_track += 1
        elif verdict is False:
            at_risk += 1
        else:
            unjudgeable += 1
    return {"on_track": on_track, "at_risk": at_risk, "unjudgeable": unjudgeable}


def year_links(year: int, years: list[int]) -> dict[str, Any]:
    """The year picker and the previous / next year links, for the years that have a plan."""
    return {
        "years": [(y, fiscal.reiwa_label(y)) for y in years],
        "previous_year": year - 1 if year - 1 in years else None,
        "next_year": year + 1 if year + 1 in years else None,
    }


def plan_links(plan: Plan) -> dict[str, Any]:
    """Where a plan's other pages are: the plan page, the newest month's entry screen and that half's progress
    (none of the two for a year still to come)."""
    month = fiscal.latest_month(plan.fiscal_year_id, timezone.localdate())
    args = [plan.branch.code, plan.fiscal_year_id]
    links: dict[str, Any] = {"plan_url": reverse("plan_page", args=args), "entry_month": month}
    if month is not None:
        links["entry_url"] = reverse("month_entry", args=[*args, f"{month:%Y-%m}"])
        links["progress_half"] = half_of(month)
        links["progress_url"] = reverse("progress_entry", args=[*args, half_of(month).value])
    return links


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Staff land on their branch's latest plan; headquarters on the cross-branch matrix of the newest year with
    any figures (a future plan with only targets would show every cell as 「－」), else of the newest plan."""
    if access.sees_all_branches(request.user):
        year = selectors.newest_year_with_figures()
        if year is None:
            years = selectors.years_with_plans()
            year = years[-1] if years else None
        return redirect("national_matrix", year=year) if year else render(request, "plans/empty.html")
    branch = access.home_branch(request.user)
    if branch is None:
        raise access.PermissionDenied(NO_HOME_BRANCH)
    years = selectors.plan_years(branch)
    if not years:
        manages = access.has_permission(request.user, access.Permission.MANAGE_PLAN, branch)
        import_year = fiscal.fiscal_year_of(timezone.localdate()) if manages else None
        return render(request, "plans/empty.html", {"branch": branch, "import_year": import_year})
    return redirect("branch_dashboard", code=branch.code, year=years[-1])


def kpi_table(request: HttpRequest, plan: Plan, form: ResultFilterForm) -> dict[str, Any]:
    """The KPI table and what is counted from the same results: ``table_html``, ``summary``, ``total``, ``shown``
    and ``projected``. Kept in the cache while the branch's data versions are unchanged (the key holds them, the
    language and the query string: the filters and the sort order); the table holds no CSRF token and nothing
    that depends on the user. When they changed (a save), only what the save touched is made again: each
    target's result (``plans.result_cache``), the published columns and each rendered row are kept under keys
    of their own. An export (``_export``) is never cached: see ``branch_dashboard``."""
    scopes = getattr(request, "data_scopes", None)
    if scopes is None:
        part = _kpi_table_part(request, plan, form, selectors.plan_results(plan), selectors.published_columns(plan))
        part.pop("rendered_rows")
        return part
    language = get_language()
    key = f"kpi-table:{cache.RELEASE}:{language}:{plan.pk}:{versions.token(scopes)}:{request.GET.urlencode()}"
    store = caches[MATRIX_CACHE]
    found = store.get(key)
    if found is not None:
        return found
    results = selectors.plan_results(plan, scopes)  # only the targets whose figures changed are computed
    published_key, published = _published_columns(plan, scopes, results)
    row_keys = (
        {r.target.pk: f"kpi-row:{language}:{r.cache_key}:{published_key}" for r in results if r.cache_key}
        if published_key
        else {}
    )
    known = store.get_many(list(row_keys.values()))
    known_rows = {pk: known[row_key] for pk, row_key in row_keys.items() if row_key in known}
    part = _kpi_table_part(request, plan, form, results, published, known_rows=known_rows)
    rendered = part.pop("rendered_rows")
    store.set_many({row_keys[pk]: html for pk, html in rendered.items() if pk in row_keys}, timeout=None)
    store.set(key, part, timeout=None)
    return part


def _published_columns(
    plan: Plan, scopes: versions.Scopes, results: list[KpiResult]
) -> tuple[str | None, dict[int, selectors.PublishedColumns]]:
    """``selectors.published_columns(plan)`` and the key it is kept under. They read the branch's other years and
    the catalog (every version but this plan's) and this year's targets as written, which ``results`` hold: a
    save of a figure this year leaves them as they were. The key holds those phrases and notes, which can come
    back (an edit undone): the columns are kept only when the targets they read are the ones ``results`` hold, else
    (a target edited meanwhile) they are used for this page and the key is None (nothing kept, rows included)."""
    year, branch_id = plan.fiscal_year_id, plan.branch_id
    others = versions.token({scope: v for scope, v in scopes.items() if scope != (year, branch_id)})
    written = sorted((r.kpi.pk, r.target.target_text, r.target.note) for r in results)
    digest = hashlib.blake2b(repr((plan.pk, others, written)).encode(), digest_size=12).hexdigest()
    key = f"published:{cache.RELEASE}:{digest}"
    store = caches[MATRIX_CACHE]
    published = store.get(key)
    if published is None:
        published, read = selectors.published_columns_as_read(plan)
        if read != written:
            return None, published
        store.set(key, published, timeout=None)
    return key, published


def _kpi_table_part(
    request: HttpRequest,
    plan: Plan,
    form: ResultFilterForm,
    results: list[KpiResult],
    published: Mapping[int, selectors.PublishedColumns],
    known_rows: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    shown = form.apply(results)
    table = KpiResultTable(shown, branch_code=plan.branch.code, year=plan.fiscal_year_id, published=published)
    table.known_rows = known_rows or {}
    RequestConfig(request, paginate=False).configure(table)
    table.head_html = kpi_table_head_html(request, table, keep=known_rows is not None)
    return {
        "table_html": table.as_html(request),
        "summary": mark_summary(mark_counts(results)),
        "total": len(results),
        "shown": len(shown),
        "projected": projected_summary(results),
        "rendered_rows": table.rendered_rows,
    }


def kpi_table_head_html(request: HttpRequest, table: KpiResultTable, *, keep: bool) -> str:
    """The KPI table's ``<thead>`` (plans/_kpi_table_head.html): each column's header and sort link. It depends
    only on the language and the query string (the sort order and the filters the links keep): with ``keep`` it is
    kept in the cache under those, and the code that renders it."""

    def rendered() -> str:
        return render_to_string("plans/_kpi_table_head.html", {"table": table}, request=request)

    if not keep:
        return mark_safe(rendered())  # noqa: S308 (a template's output, escaped by it)
    digest = hashlib.blake2b(request.GET.urlencode().encode(), digest_size=12).hexdigest()
    key = f"kpi-table-head:{cache.RELEASE}:{get_language()}:{digest}"
    store = caches[MATRIX_CACHE]
    found = store.get(key)
    if found is None:
        found = rendered()
        store.set(key, found, timeout=None)
    return mark_safe(found)  # noqa: S308 (a template's output, escaped by it)


def branch_options_html(plan: Plan, sees_all: bool, scopes: versions.Scopes | None) -> str:
    """The branch picker's ``<option>``s (plans/_branch_options.html), ``plan``'s branch selected: every branch
    with a plan that year for a user who sees all branches, else their own. Which plans exist is the catalog's
    version: the list is kept while it is unchanged (the key holds it, the year, the branch, the language and the
    code that renders it); rendered and not kept without ``scopes``."""

    def rendered() -> str:
        branches = selectors.branches_with_plan(plan.fiscal_year_id) if sees_all else [plan.branch]
        return render_to_string("plans/_branch_options.html", {"branches": branches, "branch": plan.branch})

    if scopes is None:
        return mark_safe(rendered())  # noqa: S308 (a template's output, escaped by it)
    catalog = scopes.get(versions.CATALOG, 0)
    key = f"branch-options:{cache.RELEASE}:{get_language()}:{plan.pk}:{sees_all}:{catalog}"
    store = caches[MATRIX_CACHE]
    found = store.get(key)
    if found is None:
        found = rendered()
        store.set(key, found, timeout=None)
    return mark_safe(found)  # noqa: S308 (a template's output, escaped by it)


def filter_fields_html(form: ResultFilterForm) -> str:
    """The filter form's labelled fields as HTML. Their choices are fixed, so the HTML depends only on the
    language and the values asked for: a valid or unbound form's is kept in the cache (Django renders each
    ``<option>`` through a template: a fifth of a cached dashboard's time); a form with errors is rendered as
    usual (its fields carry ``aria-invalid``)."""

    def rendered() -> str:
        return format_html_join("", "<label>{} {}</label>", ((field.label, field) for field in form))

    if form.is_bound and not form.is_valid():
        return rendered()
    asked = [form.data.get(name, "") for name in form.fields] if form.is_bound else None
    digest = hashlib.blake2b(repr(asked).encode(), digest_size=8).hexdigest()
    key = f"filter-fields:{cache.RELEASE}:{get_language()}:{digest}"
    found = caches[MATRIX_CACHE].get(key)
    if found is None:
        found = rendered()
        caches[MATRIX_CACHE].set(key, found, timeout=None)
    return found


@require_GET
@login_required
@revalidated(branch_scope)
def branch_dashboard(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """One branch's KPIs for a fiscal year: figures, marks, projections; filters, sorting, exports."""
    plan = plan_or_404(request.user, code, year, getattr(request, "data_scopes", None))
    form = ResultFilterForm(request.GET or None)
    if "_export" in request.GET:  # rows as filtered and sorted on the page; a bad format is a 400 (ExportFormatError)
        published = selectors.published_columns(plan)
        rows = form.apply(selectors.plan_results(plan))
        table = KpiResultTable(rows, branch_code=code, year=year, published=published)
        RequestConfig(request, paginate=False).configure(table)
        return dashboard_export(plan, [row.record for row in table.rows], request.GET["_export"], published)
    sees_all = access.sees_all_branches(request.user)
    context = {
        "plan": plan,
        "branch": plan.branch,
        "fiscal_year": plan.fiscal_year,
        "form": form,
        "filter_fields": filter_fields_html(form),
        **kpi_table(request, plan, form),
        "branch_options": branch_options_html(plan, sees_all, getattr(request, "data_scopes", None)),
        "sees_all": sees_all,
        **year_links(year, plan_years(plan.branch, getattr(request, "data_scopes", None))),
        **plan_links(plan),
    }
    return render(request, "plans/branch_dashboard.html", context)


def cached_part(request: HttpRequest, name: str, build: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
    """``build()``'s part of a page, kept in the cache while the page's data versions are unchanged: the key holds
    ``name`` (the page and what it is about), the versions the page's ETag was built from, the language and the
    code that renders it. A part holds nothing that depends on the user or the session (no CSRF token). Built
    afresh and not kept without data versions (a flash message waits) and when ``build()`` answers None (a 404)."""
    scopes = getattr(request, "data_scopes", None)
    if scopes is None:
        return build()
    key = f"{name}:{cache.RELEASE}:{get_language()}:{versions.token(scopes)}"
    found = caches[MATRIX_CACHE].get(key)
    if found is None:
        found = build()
        if found is not None:
            caches[MATRIX_CACHE].set(key, found, timeout=None)
    return found


def kpi_detail_part(plan: Plan, kpi_code: str) -> dict[str, Any] | None:
    """The KPI page's content (``content``: its HTML, charts' JSON included) and the KPI's name (``kpi_name``),
    or None when ``plan`` has no such KPI."""
    history = selectors.kpi_history(plan, kpi_code)
    if history is None:
        return None
    return {
        "content": render_to_string("plans/_kpi_detail_content.html", kpi_detail_context(plan, history)),
        "kpi_name": history.result.kpi.name,
    }


def kpi_detail_context(plan: Plan, history: selectors.KpiHistory) -> dict[str, Any]:
    """What the KPI page's content is rendered with: the plan, the KPI's history and its two charts' data."""
    return {
        "plan": plan,
        "branch": plan.branch,
        "fiscal_year": plan.fiscal_year,
        "history": history,
        "result": history.result,
        "kpi": history.result.kpi,
        "progress_chart": charts.monthly_progress(history),
        "trend_chart": charts.multi_year_trend(history),
        "method_labels": rules.PROJECTION_METHOD_LABELS,
    }


@require_GET
@login_required
@revalidated(branch_kpi_scope)
def kpi_detail(request: HttpRequest, code: str, year: int, kpi_code: str) -> HttpResponse:
    """One KPI of one branch: its monthly progress this year and its trend across years."""
    plan = plan_or_404(request.user, code, year, getattr(request, "data_scopes", None))
    part = cached_part(request, f"kpi-detail:{plan.pk}:{kpi_code}", lambda: kpi_detail_part(plan, kpi_code))
    if part is None:
        raise Http404(NO_SUCH_KPI)
    context = {
        "branch": plan.branch,
        "fiscal_year": plan.fiscal_year,
        "kpi_name": part["kpi_name"],
        "content": mark_safe(part["content"]),  # noqa: S308 (rendered by the template, autoescaped)
    }
    return render(request, "plans/kpi_detail.html", context)


def matrix_cell(result: KpiResult | None, url: str = "") -> dict[str, str]:
    """One cell of the matrix, ready to print: css class, symbol, a tooltip with the figures and the link to
    the branch's KPI page (``url``)."""
    if result is None:
        return {"css": "empty", "symbol": "", "title": "", "url": ""}
    kpi, precision = result.kpi, result.target.precision
    target = result.target.target_text or rules.NOT_JUDGED
    if result.mark:
        figure = format_figure(result.year_end, kpi.unit, precision)
        return {
            "url": url,
            "css": result.mark.css,
            "symbol": result.mark,
            "title": _("{kpi}: {figure}（目標 {target}）").format(kpi=kpi.name, figure=figure, target=target),
        }
    if result.projected_mark and result.projection:
        projected = format_figure(result.projection.value, kpi.unit, precision)
        latest = format_figure(result.latest, kpi.unit, precision)
        as_of = fiscal.month_label(result.latest_month)
        return {
            "url": url,
            "css": f"projected {result.projected_mark.css}" + (" at-risk" if is_at_risk(result) else ""),
            "symbol": result.projected_mark,
            "title": _("{kpi}: 見込み {projected}（{as_of}時点 {latest}・目標 {target}）").format(
                kpi=kpi.name, projected=projected, as_of=as_of, latest=latest, target=target
            ),
        }
    return {
        "url": url,
        "css": rules.NOT_JUDGED_CSS + (" at-risk" if is_at_risk(result) else ""),
        "symbol": rules.NOT_JUDGED,
        "title": _("{kpi}: 評価なし（目標 {target}）").format(kpi=kpi.name, target=target),
    }


def matrix_rows(matrix: selectors.NationalMatrix, year: int) -> list[dict[str, Any]]:
    """The matrix's rows ready to print: each cell with its link to the branch's KPI page, mark counts and
    how many KPIs are at risk."""
    # One reversed URL, then the branch and KPI codes put in: 47 × 30 reverse() calls would cost more.
    url_pattern = reverse("kpi_detail", args=["BRANCH", year, "KPI"])

    def url(branch_code: str, result: KpiResult | None) -> str:
        return url_pattern.replace("BRANCH", branch_code, 1).replace("KPI", result.kpi.code, 1) if result else ""

    return [
        {
            "branch": row.branch,
            "has_plan": row.has_plan,
            "cells": [matrix_cell(c, url(row.branch.code, c)) for c in row.cells],
            "counts": [row.counts.get(mark, 0) for mark in Mark],
            "at_risk": sum(1 for c in row.cells if c is not None and is_at_risk(c)),
        }
        for row in matrix.rows
    ]


def matrix_row_html(row: dict[str, Any], year: int) -> str:
    """One branch's row of the national matrix (``matrix_rows``' shape), every text escaped: the branch, a cell
    per KPI linked to the branch's KPI page with the figures as tooltip, and the mark counts."""
    branch = row["branch"]
    name = escape(branch.name)
    if row["has_plan"]:
        name = f'<a href="{escape(reverse("branch_dashboard", args=[branch.code, year]))}">{name}</a>'
    cells = "".join(
        f'<td class="cell {escape(cell["css"])}">'
        + (
            f'<a href="{escape(cell["url"])}" title="{escape(cell["title"])}">{escape(cell["symbol"])}</a>'
            if cell["url"]
            else ""
        )
        + "</td>"
        for cell in row["cells"]
    )
    counts = "".join(f'<td class="num">{escape(localize(count))}</td>' for count in row["counts"])
    return mark_safe(  # noqa: S308 (every text escaped above)
        f'\n<tr>\n    <th class="branch">{name}</th>\n    {cells}\n    {counts}\n  </tr>\n'
    )


#: The cache the matrix keeps each branch's rendered row in (settings.CACHES; per process by default).
MATRIX_CACHE = "default"


def _row_key(year: int, branch_id: int, columns: str, scopes: versions.Scopes) -> str:
    """A branch's row depends on the catalog, the year-wide scopes and the branch's plans of this year and last
    (last year's year-end is the baseline), the columns, the language and the code that renders it."""
    depends = [(0, 0), (year, 0), (year - 1, 0), (year, branch_id), (year - 1, branch_id)]
    counters = ".".join(str(scopes.get(scope, 0)) for scope in depends)
    return f"matrix-row:{cache.RELEASE}:{get_language()}:{year}:{branch_id}:{columns}:{counters}"


def cached_matrix_rows(
    fiscal_year: FiscalYear, scopes: versions.Scopes | None
) -> tuple[list[Kpi], list[dict[str, Any]]]:
    """The columns, and every branch's matrix row (47, JIS order): ``html``, ``has_plan``, ``at_risk``, and
    ``marks`` / ``projected`` for the summary. A row is taken from the cache while its branch's data versions are
    unchanged, else read and rendered again: after a save, one branch's row (without ``scopes``: every row)."""
    year = fiscal_year.year
    columns = selectors.matrix_columns(fiscal_year)
    column_key = hashlib.blake2b(",".join(str(k.pk) for k in columns).encode(), digest_size=6).hexdigest()
    branch_ids = list(Branch.objects.order_by("jis_code").values_list("pk", flat=True))
    store = caches[MATRIX_CACHE]
    keys = {pk: _row_key(year, pk, column_key, scopes) for pk in branch_ids} if scopes is not None else {}
    found = store.get_many(list(keys.values())) if keys else {}
    missing = [pk for pk in branch_ids if keys.get(pk) not in found]
    fresh: dict[int, dict[str, Any]] = {}
    if missing:
        matrix = selectors.national_matrix(
            fiscal_year, every_branch=True, branch_ids=missing, kpis=columns, scopes=scopes
        )
        for row, shown in zip(matrix.rows, matrix_rows(matrix, year), strict=True):
            results = [c for c in row.cells if c is not None]
            fresh[row.branch.pk] = {
                "html": matrix_row_html(shown, year),
                "has_plan": shown["has_plan"],
                "at_risk": shown["at_risk"],
                "marks": dict(row.counts),
                "projected": projected_summary(results),
            }
        if keys:
            store.set_many({keys[pk]: entry for pk, entry in fresh.items()}, timeout=None)
    return columns, [fresh[pk] if pk in fresh else found[keys[pk]] for pk in branch_ids]


def matrix_head_html(fiscal_year: FiscalYear, columns: list[Kpi], scopes: versions.Scopes | None) -> str:
    """The matrix's header row (``plans/_matrix_head.html``: a link per KPI column, the mark counts' heads). It
    shows the columns and their KPIs' names: kept while the columns and the catalog are unchanged (the key holds
    their ids, the catalog's version, the year, the language and the code that renders it). Without ``scopes`` it
    is rendered and not kept."""

    def rendered() -> str:
        context = {"fiscal_year": fiscal_year, "kpis": columns, "marks": list(Mark)}
        return render_to_string("plans/_matrix_head.html", context)

    if scopes is None:
        return mark_safe(rendered())  # noqa: S308 (a template's output, escaped by it)
    ids = ",".join(str(kpi.pk) for kpi in columns)
    digest = hashlib.blake2b(ids.encode(), digest_size=8).hexdigest()
    key = f"matrix-head:{cache.RELEASE}:{get_language()}:{fiscal_year.year}:{scopes.get((0, 0), 0)}:{digest}"
    store = caches[MATRIX_CACHE]
    found = store.get(key)
    if found is None:
        found = rendered()
        store.set(key, found, timeout=None)
    return mark_safe(found)  # noqa: S308 (a template's output, escaped by it)


@require_GET
@login_required
@revalidated(national_scope)
def national_matrix(request: HttpRequest, year: int) -> HttpResponse:
    """Branches × KPIs coloured by mark: the scorecard of every branch for a fiscal year."""
    access.require_all_branches(request.user)
    fiscal_year = get_object_or_404(FiscalYear, year=year)
    show_all = request.GET.get("all") == "1"
    at_risk_only = request.GET.get("at_risk") == "1"
    scopes = getattr(request, "data_scopes", None)
    columns, every_row = cached_matrix_rows(fiscal_year, scopes)
    with_plan = [row for row in every_row if row["has_plan"]]
    rows = every_row if show_all and not at_risk_only else with_plan
    if at_risk_only:
        rows = [row for row in rows if row["at_risk"]]
    totals: Counter[Mark | None] = Counter()
    projected: Counter[str] = Counter({"on_track": 0, "at_risk": 0, "unjudgeable": 0})
    for row in with_plan:
        totals.update(row["marks"])
        projected.update(row["projected"])
    context = {
        "fiscal_year": fiscal_year,
        "head_html": matrix_head_html(fiscal_year, columns, scopes),
        "rows": rows,
        "summary": mark_summary(totals),
        "projected": dict(projected),
        "branch_count": len(rows),
        "show_all": show_all,
        "at_risk_only": at_risk_only,
        **year_links(year, selectors.years_with_plans()),
    }
    return render(request, "plans/national_matrix.html", context)


class RankingEntry(NamedTuple):
    """A branch's row of a KPI's ranking as plain values, ready to rank and print (kept in the cache per branch,
    so a tuple of primitives: cheap to pickle): what ranks it, its bar in the chart, its table cells after the rank
    (``cells_html``) and the national average. Marks are their symbols, "" for none."""

    figure: Decimal | None
    has_year_end: bool
    latest_month: datetime.date | None
    precision: int
    jis_code: str
    name: str
    mark: str
    projected_mark: str
    reference: Decimal | None
    national_average: Decimal | None
    cells_html: str

    def facts(self) -> selectors.RankFacts:
        return selectors.RankFacts(self.figure, self.has_year_end, self.latest_month, self.precision, self.jis_code)

    def bar(self, place: selectors.RankPlace) -> charts.RankingBar:
        """The branch's bar in the chart, at its ``place`` in the ranking."""
        return charts.RankingBar(
            self.name,
            self.figure,
            Mark(self.mark) if self.mark else None,
            Mark(self.projected_mark) if self.projected_mark else None,
            self.reference,
            place.rank,
            place.group,
            self.facts().as_of,
        )


def ranking_cells_html(result: KpiResult, branch: Branch, url: str) -> str:
    """A branch's row of the ranking table after its rank: the branch linked to its KPI page (``url``), target,
    baseline, figure, as-of and mark, every text escaped (47 rows through a template loop were half of the
    page's time)."""
    empty = "－"
    unit, precision = result.kpi.unit, result.target.precision
    if result.baseline_note:
        baseline = escape(_(result.baseline_note))
    else:
        baseline = escape(format_figure(result.baseline, unit, precision))
    if result.year_end is not None:
        as_of = escape(_("年度末"))
    elif result.latest_month:
        as_of = _("%(month)s時点") % {"month": escape(fiscal.month_label(result.latest_month))}
    else:
        as_of = empty
    if result.mark:
        mark = escape(result.mark)
    elif result.projected_mark:
        projected = _("%(mark)s（見込み）") % {"mark": escape(result.projected_mark)}
        mark = f'<span class="projected">{projected}</span>'
    else:
        mark = empty
    return (
        f'    <td class="nowrap"><a href="{escape(url)}">{escape(branch.name)}</a></td>\n'
        f"    <td>{escape(result.target.target_text or empty)}</td>"
        f'<td class="num">{baseline}</td>\n'
        f'    <td class="num">{escape(format_figure(result.figure, unit, precision))}</td>\n'
        f'    <td class="nowrap">{as_of}</td>\n'
        f'    <td class="mark nowrap">{mark}</td>\n'
        "  </tr>"
    )


def ranking_entry(result: KpiResult, branch: Branch, url_pattern: str) -> RankingEntry:
    """A branch's ``RankingEntry``; ``url_pattern`` is the KPI page's URL with BRANCH for the branch's code."""
    url = url_pattern.replace("BRANCH", branch.code, 1)
    facts = selectors.RankFacts.of(result, branch)  # what ranks it, read as the selector reads it
    return RankingEntry(
        figure=facts.figure,
        has_year_end=facts.has_year_end,
        latest_month=facts.latest_month,
        precision=facts.precision,
        jis_code=facts.jis_code,
        name=branch.name,
        mark=str(result.mark or ""),
        projected_mark=str(result.projected_mark or ""),
        reference=result.reference,
        national_average=result.national_average,
        cells_html=ranking_cells_html(result, branch, url),
    )


def ranking_rows_html(entries: list[RankingEntry], places: list[selectors.RankPlace]) -> str:
    """The ranking table's body: a heading row where the group changes, then each branch's rank and cells."""
    rows, group = [], None
    for place in places:
        entry = entries[place.index]
        if place.group != group:
            group = place.group
            if group == selectors.RankGroup.YEAR_END:
                heading = _("年度末実績の順位")
            elif group == selectors.RankGroup.AS_OF:
                heading = _("%(month)s時点の実績の順位（年度末実績のない支部）") % {
                    "month": escape(fiscal.month_label(entry.facts().as_of))
                }
            else:
                heading = _("順位なし（時点が異なる実績・実績なし）")
            rows.append(f'<tr class="group"><th colspan="7">{heading}</th></tr>')
        rank = escape(localize(place.rank)) if place.rank else "－"
        rows.append(f'<tr>\n    <td class="num">{rank}</td>\n{entry.cells_html}')
    return mark_safe("".join(rows))  # noqa: S308 (every text escaped: ranking_cells_html and above)


def _ranking_keys(year: int, kpi_id: int, branch_ids: list[int], scopes: versions.Scopes) -> dict[int, str]:
    """Each branch's cache key of its ranking entry, which depends on the catalog, the year-wide scopes and the
    branch's plans of this year and last (last year's figures are the baseline), the language and the code that
    renders it."""
    shared = ".".join(str(scopes.get(scope, 0)) for scope in (versions.CATALOG, (year, 0), (year - 1, 0)))
    prefix = f"ranking-entry:{cache.RELEASE}:{get_language()}:{year}:{kpi_id}:{shared}"
    return {pk: f"{prefix}:{pk}:{scopes.get((year, pk), 0)}.{scopes.get((year - 1, pk), 0)}" for pk in branch_ids}


def _national_catalog(year: int, kpi_code: str, scopes: versions.Scopes) -> tuple[list[int], Kpi | None]:
    """Every branch's id (none when fiscal year ``year`` does not exist) and the KPI ``kpi_code`` (None when there
    is none), read in 2 queries and kept in the cache while the catalog (branches, years, KPIs) is unchanged."""
    key = f"national-kpi-catalog:{cache.RELEASE}:{scopes.get(versions.CATALOG, 0)}:{year}:{kpi_code}"
    found = caches[MATRIX_CACHE].get(key)
    if found is None:
        year_exists = Exists(FiscalYear.objects.filter(year=year))
        branch_ids = list(Branch.objects.filter(year_exists).order_by("pk").values_list("pk", flat=True))
        found = (branch_ids, Kpi.objects.filter(code=kpi_code).first())
        caches[MATRIX_CACHE].set(key, found, timeout=None)
    return found


def ranking_entries(
    fiscal_year: FiscalYear, kpi: Kpi, scopes: versions.Scopes | None, branch_ids: list[int] | None
) -> list[RankingEntry]:
    """The ``RankingEntry`` of each branch with a target for ``kpi`` in ``fiscal_year``, in no order. Given
    ``scopes`` and ``branch_ids`` (every branch), a branch's entry (or that it has no target) is taken from the
    cache while its data versions are unchanged, else read again: after a save, one branch's. Without them, every
    branch's is read and nothing kept."""
    url_pattern = reverse("kpi_detail", args=["BRANCH", fiscal_year.year, kpi.code])
    if scopes is None or branch_ids is None:
        return [ranking_entry(r, b, url_pattern) for r, b in selectors.kpi_results(fiscal_year, kpi)]
    store = caches[MATRIX_CACHE]
    keys = _ranking_keys(fiscal_year.year, kpi.pk, branch_ids, scopes)
    found = store.get_many(list(keys.values()))
    missing = [pk for pk in branch_ids if keys[pk] not in found]
    fresh: dict[int, RankingEntry | bool] = {}
    if missing:
        read = selectors.kpi_results(fiscal_year, kpi, None if len(missing) == len(branch_ids) else missing)
        fresh = dict.fromkeys(missing, False)  # False: no target
        fresh.update((b.pk, ranking_entry(r, b, url_pattern)) for r, b in read)
        store.set_many({keys[pk]: entry for pk, entry in fresh.items()}, timeout=None)
    entries = [fresh[pk] if pk in fresh else found[keys[pk]] for pk in branch_ids]
    return [entry for entry in entries if isinstance(entry, RankingEntry)]


def national_kpi_part(
    fiscal_year: FiscalYear, kpi: Kpi, scopes: versions.Scopes | None, branch_ids: list[int] | None
) -> dict[str, Any] | None:
    """The national KPI page's content (``content``: its HTML, the chart's JSON included), or None when no branch
    has a target for ``kpi`` in ``fiscal_year`` (``ranking_entries``)."""
    entries = ranking_entries(fiscal_year, kpi, scopes, branch_ids)
    if not entries:
        return None
    places = selectors.rank_order([entry.facts() for entry in entries], kpi.direction)
    ranked = [entries[place.index] for place in places]
    national_average = next((e.national_average for e in ranked if e.national_average is not None), None)
    bars = [entries[p.index].bar(p) for p in places]
    context = {
        "fiscal_year": fiscal_year,
        "kpi": kpi,
        "rows_html": ranking_rows_html(entries, places),
        "chart": charts.ranking_chart(fiscal_year.year, kpi, bars, national_average),
        "national_average": national_average,
    }
    return {"content": render_to_string("plans/_national_kpi_content.html", context)}


@require_GET
@login_required
@revalidated(national_kpi_scope)
def national_kpi(request: HttpRequest, year: int, kpi_code: str) -> HttpResponse:
    """One KPI across every branch: target, actual and mark, ranked, with the national average."""
    access.require_all_branches(request.user)
    scopes = getattr(request, "data_scopes", None)
    branch_ids, kpi = _national_catalog(year, kpi_code, scopes) if scopes is not None else (None, None)
    # Read here only to answer 404 (an unknown year, then an unknown KPI) or without data versions.
    fiscal_year = FiscalYear(year=year) if branch_ids else get_object_or_404(FiscalYear, year=year)
    kpi = kpi or get_object_or_404(Kpi, code=kpi_code)
    part = cached_part(
        request, f"national-kpi:{year}:{kpi.pk}", lambda: national_kpi_part(fiscal_year, kpi, scopes, branch_ids)
    )
    if part is None:
        raise Http404(NO_BRANCH_HAS_KPI.format(year=fiscal_year.label, kpi=kpi.name))
    context = {
        "fiscal_year": fiscal_year,
        "kpi": kpi,
        "content": mark_safe(part["content"]),  # noqa: S308 (rendered by the template, autoescaped)
    }
    return render(request, "plans/national_kpi.html", context)
