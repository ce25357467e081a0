"""Dashboards: per branch, per KPI, and across branches. Thin views over plans.results."""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from branches import access
from branches.models import Branch
from plans import charts, rules
from plans.exports import dashboard_export
from plans.formatting import format_figure, format_month
from plans.forms import ResultFilterForm
from plans.models import FiscalYear, Kpi, KpiActual, KpiChange, KpiTarget, Plan, reiwa_label
from plans.results import KpiResult, plan_results, result_for
from plans.rules import Mark
from plans.tables import KpiResultTable

MARK_ORDER: tuple[str | None, ...] = (Mark.ABOVE.value, Mark.AS_PLANNED.value, Mark.BELOW.value, None)


def mark_summary(results: list[KpiResult]) -> list[dict[str, Any]]:
    """How many KPIs stand ◎ / ○ / △ / not yet judged (with how many of those are projected on track)."""
    counts = Counter(r.mark.value if r.mark else None for r in results)
    labels = {**rules.MARK_LABELS, None: "未評価（年度末実績なし）"}
    return [{"mark": m or "－", "label": labels[m], "count": counts.get(m, 0), "css": m or "none"} for m in MARK_ORDER]


def _plan_or_404(request: HttpRequest, code: str, year: int) -> Plan:
    plan = Plan.objects.select_related("branch", "fiscal_year").filter(branch__code=code, fiscal_year_id=year).first()
    if plan is None:
        branch = access.get_viewable_branch(request.user, code)  # 404 unknown branch, 403 someone else's
        raise Http404(f"{branch}の{reiwa_label(year)}の事業計画はありません。")
    if not access.can_view_branch(request.user, plan.branch):
        raise access.PermissionDenied("この支部のページを見る権限がありません。")
    return plan


def _branch_choices(request: HttpRequest, current: Branch) -> list[Branch]:
    return list(Branch.objects.all()) if access.sees_all_branches(request.user) else [current]


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Staff land on their branch's latest plan; headquarters on the cross-branch matrix."""
    if access.sees_all_branches(request.user):
        latest = Plan.objects.aggregate(year=Max("fiscal_year_id"))["year"]
        if latest is None:
            return render(request, "plans/empty.html", status=200)
        return redirect("national_matrix", year=latest)
    branch = access.home_branch(request.user)
    if branch is None:
        raise access.PermissionDenied("所属支部が登録されていません。管理者に連絡してください。")
    latest = Plan.objects.filter(branch=branch).aggregate(year=Max("fiscal_year_id"))["year"]
    if latest is None:
        return render(request, "plans/empty.html", {"branch": branch})
    return redirect("branch_dashboard", code=branch.code, year=latest)


@require_GET
@login_required
def branch_dashboard(request: HttpRequest, code: str, year: int) -> HttpResponse:
    plan = _plan_or_404(request, code, year)
    results = plan_results(plan)
    form = ResultFilterForm(request.GET or None)
    shown = form.apply(results)
    table = KpiResultTable(shown, branch_code=code, year=year)
    RequestConfig(request, paginate=False).configure(table)
    if "_export" in request.GET:  # rows as filtered and sorted above; a bad format is a 400 (ExportFormatError)
        return dashboard_export(plan, [row.record for row in table.rows], request.GET["_export"])
    years = list(
        Plan.objects.filter(branch=plan.branch).values_list("fiscal_year_id", flat=True).order_by("fiscal_year_id")
    )
    on_track = sum(1 for r in results if r.mark is None and r.projection and r.projection.on_track)
    at_risk = sum(1 for r in results if r.mark is None and r.projection and r.projection.on_track is False)
    return render(
        request,
        "plans/branch_dashboard.html",
        {
            "plan": plan,
            "branch": plan.branch,
            "fiscal_year": plan.fiscal_year,
            "table": table,
            "form": form,
            "summary": mark_summary(results),
            "total": len(results),
            "shown": len(shown),
            "on_track": on_track,
            "at_risk": at_risk,
            "years": [(y, reiwa_label(y)) for y in years],
            "previous_year": year - 1 if year - 1 in years else None,
            "next_year": year + 1 if year + 1 in years else None,
            "branches": _branch_choices(request, plan.branch),
            "sees_all": access.sees_all_branches(request.user),
        },
    )


@require_GET
@login_required
def kpi_detail(request: HttpRequest, code: str, year: int, kpi_code: str) -> HttpResponse:
    """One KPI of one branch: its monthly progress this year and its trend across years."""
    plan = _plan_or_404(request, code, year)
    history = list(
        KpiTarget.objects.filter(plan__branch=plan.branch, kpi__code=kpi_code)
        .with_figures()
        .select_related("kpi", "measure", "plan__fiscal_year")
        .order_by("plan__fiscal_year_id")
    )
    rows = {t.plan.fiscal_year_id: result_for(t) for t in history}
    if year not in rows:
        raise Http404("この事業計画にこのKPIはありません。")
    result = rows[year]
    kpi: Kpi = result.kpi
    target = result.target
    actuals = list(
        KpiActual.objects.filter(
            target__plan__branch=plan.branch, target__kpi=kpi, target__plan__fiscal_year_id__in=[year, year - 1]
        )
        .exclude(period=KpiActual.Period.YEAR_END)
        .select_related("target__plan", "entered_by")
        .order_by("month", "period")
    )
    this_year: dict[datetime.date, Decimal] = {}
    last_year: dict[datetime.date, Decimal] = {}
    for actual in actuals:  # monthly before interim at the same month: the interim report wins
        if actual.value is None or actual.month is None:
            continue
        if actual.target.plan.fiscal_year_id == year:
            this_year[actual.month] = actual.value
        else:
            last_year[actual.month] = actual.value
    changes = list(KpiChange.objects.filter(kpi=kpi).select_related("replaces").order_by("fiscal_year_id"))
    breaks = [(c.fiscal_year_id, c.get_change_display()) for c in changes if c.breaks_series]
    years = sorted(rows)
    progress_chart = charts.monthly_progress(
        kpi_name=kpi.name,
        unit=kpi.unit,
        precision=target.precision,
        fiscal_year=year,
        this_year=this_year,
        last_year=last_year,
        reference=result.reference,
        rule=result.rule.kind,
        year_end=result.year_end if isinstance(result.year_end, Decimal) else None,
    )
    trend_chart = charts.multi_year_trend(
        kpi_name=kpi.name,
        unit=kpi.unit,
        precision=target.precision,
        years=years,
        actuals=[rows[y].year_end if isinstance(rows[y].year_end, Decimal) else None for y in years],
        targets=[rows[y].reference for y in years],
        national=[rows[y].national_average for y in years],
        marks=[rows[y].mark.value if rows[y].mark else None for y in years],
        breaks=breaks,
    )
    return render(
        request,
        "plans/kpi_detail.html",
        {
            "plan": plan,
            "branch": plan.branch,
            "fiscal_year": plan.fiscal_year,
            "result": result,
            "kpi": kpi,
            "history": [rows[y] for y in years],
            "actuals": [a for a in actuals if a.target.plan.fiscal_year_id == year],
            "changes": changes,
            "progress_chart": progress_chart,
            "trend_chart": trend_chart,
            "method_labels": rules.PROJECTION_METHOD_LABELS,
        },
    )


def matrix_cell(result: KpiResult | None) -> dict[str, str]:
    """One cell of the matrix, ready to print: css class, symbol and a tooltip with the figures."""
    if result is None:
        return {"css": "empty", "symbol": "", "title": ""}
    kpi, precision = result.kpi, result.target.precision
    target = result.target.target_text or "－"
    if result.mark:
        figure = format_figure(result.year_end, kpi.unit, precision)
        return {
            "css": f"mark-bg-{result.mark.value}",
            "symbol": result.mark.value,
            "title": f"{kpi.name}: {figure}（目標 {target}）",
        }
    if result.projected_mark and result.projection:
        projected = format_figure(result.projection.value, kpi.unit, precision)
        latest = format_figure(result.latest, kpi.unit, precision)
        return {
            "css": f"projected mark-bg-{result.projected_mark.value}",
            "symbol": result.projected_mark.value,
            "title": f"{kpi.name}: 見込み {projected}（{format_month(result.latest_month)}時点 {latest}・目標 {target}）",
        }
    return {"css": "none", "symbol": "－", "title": f"{kpi.name}: 評価なし（目標 {target}）"}


def _fiscal_year_or_404(year: int) -> FiscalYear:
    return get_object_or_404(FiscalYear, year=year)


@require_GET
@login_required
def national_matrix(request: HttpRequest, year: int) -> HttpResponse:
    """Branches × KPIs coloured by mark: the scorecard of every branch for a fiscal year."""
    access.require_all_branches(request.user)
    fiscal_year = _fiscal_year_or_404(year)
    targets = list(
        KpiTarget.objects.filter(plan__fiscal_year_id=year)
        .with_figures()
        .select_related("kpi", "plan")
        .order_by("kpi__order", "kpi__code")
    )
    branches = list(Branch.objects.all())
    kpis: dict[int, Kpi] = {}
    cells: dict[tuple[int, int], KpiResult] = {}
    for target in targets:
        target.plan.fiscal_year = fiscal_year
        kpis.setdefault(target.kpi_id, target.kpi)
        cells[(target.plan.branch_id, target.kpi_id)] = result_for(target)
    kpi_list = sorted(kpis.values(), key=lambda k: (k.order, k.code))
    rows = []
    for branch in branches:
        row_results = [cells.get((branch.pk, kpi.pk)) for kpi in kpi_list]
        if any(row_results) or request.GET.get("all") == "1":
            counts = Counter(c.mark.value for c in row_results if c is not None and c.mark)
            rows.append(
                {
                    "branch": branch,
                    "cells": [matrix_cell(c) for c in row_results],
                    "above": counts.get("◎", 0),
                    "planned": counts.get("○", 0),
                    "below": counts.get("△", 0),
                    "has_plan": any(row_results),
                }
            )
    years = list(FiscalYear.objects.filter(plans__isnull=False).distinct().values_list("year", flat=True))
    totals = Counter(r.mark.value if r.mark else None for r in cells.values())
    return render(
        request,
        "plans/national_matrix.html",
        {
            "fiscal_year": fiscal_year,
            "kpis": kpi_list,
            "rows": rows,
            "years": [(y, reiwa_label(y)) for y in years],
            "previous_year": year - 1 if year - 1 in years else None,
            "next_year": year + 1 if year + 1 in years else None,
            "summary": [{"mark": m or "－", "count": totals.get(m, 0), "css": m or "none"} for m in MARK_ORDER],
            "branch_count": len(rows),
            "show_all": request.GET.get("all") == "1",
        },
    )


@require_GET
@login_required
def national_kpi(request: HttpRequest, year: int, kpi_code: str) -> HttpResponse:
    """One KPI across every branch: target, actual and mark, ranked, with the national average."""
    access.require_all_branches(request.user)
    fiscal_year = _fiscal_year_or_404(year)
    kpi = get_object_or_404(Kpi, code=kpi_code)
    targets = list(
        KpiTarget.objects.filter(plan__fiscal_year_id=year, kpi=kpi).with_figures().select_related("plan__branch")
    )
    results = []
    for target in targets:
        target.kpi = kpi
        target.plan.fiscal_year = fiscal_year
        results.append(result_for(target))
    if not results:
        raise Http404(f"{fiscal_year.label}に{kpi.name}の目標を立てた支部はありません。")

    def figure(r: KpiResult) -> Decimal | None:
        if isinstance(r.year_end, Decimal):
            return r.year_end
        return r.latest if isinstance(r.latest, Decimal) else None

    higher_is_better = kpi.direction != Kpi.Direction.LOWER
    ranked = sorted(
        results,
        key=lambda r: (
            figure(r) is None,
            -(figure(r) or 0) if higher_is_better else (figure(r) or 0),
            r.target.plan.branch.jis_code,
        ),
    )
    national_average = next((r.national_average for r in results if r.national_average is not None), None)
    chart = charts.branch_ranking(
        kpi_name=kpi.name,
        unit=kpi.unit,
        precision=kpi.precision,
        fiscal_year=year,
        branches=[r.target.plan.branch.name for r in ranked],
        values=[figure(r) for r in ranked],
        targets=[r.reference for r in ranked],
        marks=[(r.mark or r.projected_mark).value if (r.mark or r.projected_mark) else None for r in ranked],
        national_average=national_average,
        projected=[r.mark is None and r.projected_mark is not None for r in ranked],
    )
    rows = []
    rank, previous = 0, None
    for index, r in enumerate(ranked, start=1):
        value = figure(r)
        if value is not None and value != previous:
            rank, previous = index, value  # equal figures share a rank (同順位)
        rows.append({"rank": rank if value is not None else None, "result": r, "figure": value})
    return render(
        request,
        "plans/national_kpi.html",
        {
            "fiscal_year": fiscal_year,
            "kpi": kpi,
            "rows": rows,
            "chart": chart,
            "national_average": national_average,
        },
    )
