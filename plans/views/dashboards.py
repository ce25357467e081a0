"""Dashboards: per branch, per KPI, and across branches. Thin views over ``plans.selectors``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from branches import access
from plans import charts, fiscal, rules, selectors
from plans.exports import dashboard_export
from plans.formatting import format_figure
from plans.forms import ResultFilterForm, is_at_risk
from plans.models import FiscalYear, Kpi, Plan
from plans.progress import half_of
from plans.results import KpiResult, mark_counts
from plans.rules import Mark
from plans.tables import KpiResultTable
from plans.views.cache import branch_scope, national_scope, revalidated
from plans.views.common import plan_or_404

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
        return render(request, "plans/empty.html", {"branch": branch})
    return redirect("branch_dashboard", code=branch.code, year=years[-1])


@require_GET
@login_required
@revalidated(branch_scope)
def branch_dashboard(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """One branch's KPIs for a fiscal year: figures, marks, projections; filters, sorting, exports."""
    plan = plan_or_404(request.user, code, year)
    results = selectors.plan_results(plan)
    form = ResultFilterForm(request.GET or None)
    shown = form.apply(results)
    published = selectors.published_columns(plan)
    table = KpiResultTable(shown, branch_code=code, year=year, published=published)
    RequestConfig(request, paginate=False).configure(table)
    if "_export" in request.GET:  # rows as filtered and sorted above; a bad format is a 400 (ExportFormatError)
        return dashboard_export(plan, [row.record for row in table.rows], request.GET["_export"], published)
    sees_all = access.sees_all_branches(request.user)
    context = {
        "plan": plan,
        "branch": plan.branch,
        "fiscal_year": plan.fiscal_year,
        "table": table,
        "form": form,
        "summary": mark_summary(mark_counts(results)),
        "total": len(results),
        "shown": len(shown),
        "projected": projected_summary(results),
        "branches": selectors.branches_with_plan(year) if sees_all else [plan.branch],
        "sees_all": sees_all,
        **year_links(year, selectors.plan_years(plan.branch)),
        **plan_links(plan),
    }
    return render(request, "plans/branch_dashboard.html", context)


@require_GET
@login_required
@revalidated(branch_scope)
def kpi_detail(request: HttpRequest, code: str, year: int, kpi_code: str) -> HttpResponse:
    """One KPI of one branch: its monthly progress this year and its trend across years."""
    plan = plan_or_404(request.user, code, year)
    history = selectors.kpi_history(plan, kpi_code)
    if history is None:
        raise Http404(NO_SUCH_KPI)
    context = {
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


@require_GET
@login_required
@revalidated(national_scope)
def national_matrix(request: HttpRequest, year: int) -> HttpResponse:
    """Branches × KPIs coloured by mark: the scorecard of every branch for a fiscal year."""
    access.require_all_branches(request.user)
    fiscal_year = get_object_or_404(FiscalYear, year=year)
    show_all = request.GET.get("all") == "1"
    at_risk_only = request.GET.get("at_risk") == "1"
    matrix = selectors.national_matrix(fiscal_year, every_branch=show_all and not at_risk_only)
    rows = matrix_rows(matrix, year)
    if at_risk_only:
        rows = [row for row in rows if row["at_risk"]]
    every_result = [c for row in matrix.rows for c in row.cells if c is not None]
    context = {
        "fiscal_year": fiscal_year,
        "kpis": matrix.kpis,
        "marks": list(Mark),
        "rows": rows,
        "summary": mark_summary(matrix.totals),
        "projected": projected_summary(every_result),
        "branch_count": len(rows),
        "show_all": show_all,
        "at_risk_only": at_risk_only,
        **year_links(year, selectors.years_with_plans()),
    }
    return render(request, "plans/national_matrix.html", context)


@require_GET
@login_required
@revalidated(national_scope)
def national_kpi(request: HttpRequest, year: int, kpi_code: str) -> HttpResponse:
    """One KPI across every branch: target, actual and mark, ranked, with the national average."""
    access.require_all_branches(request.user)
    fiscal_year = get_object_or_404(FiscalYear, year=year)
    kpi = get_object_or_404(Kpi, code=kpi_code)
    ranking = selectors.kpi_ranking(fiscal_year, kpi)
    if not ranking:
        raise Http404(NO_BRANCH_HAS_KPI.format(year=fiscal_year.label, kpi=kpi.name))
    national_average = next((r.result.national_average for r in ranking if r.result.national_average is not None), None)
    context = {
        "fiscal_year": fiscal_year,
        "kpi": kpi,
        "rows": ranking,
        "chart": charts.branch_ranking(fiscal_year.year, kpi, ranking, national_average),
        "national_average": national_average,
    }
    return render(request, "plans/national_kpi.html", context)
