"""The plan page: a branch's business plan for a year as written, with live figures, progress and budget."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from branches import access
from plans import selectors
from plans.formatting import format_figure
from plans.selectors import BudgetTotal
from plans.views.cache import branch_scope, revalidated
from plans.views.common import plan_or_404

YEN = "円"
PERCENT = "%"


def budget_figures(total: BudgetTotal) -> dict[str, Any]:
    """A totals row ready to print: 66,853,600円 / 51,489,582円 / 77.0%."""
    return {
        "label": total.label,
        "budget": format_figure(total.budget, YEN),
        "spent": format_figure(total.spent, YEN),
        "rate": format_figure(total.execution_rate, PERCENT, 1),
        "unstated": total.unstated,
    }


@require_GET
@login_required
@revalidated(branch_scope)
def plan_page(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """Areas → measures → KPIs with figures and marks, each measure's newest progress, and the budget table."""
    plan = plan_or_404(request.user, code, year)
    branch = plan.branch
    outline = selectors.plan_outline(plan)
    years = selectors.plan_years(branch)
    budget = [
        {
            "line": line,
            "budget": format_figure(line.budget_amount, YEN),
            "spent": format_figure(line.spent_amount, YEN),
            "rate": format_figure(line.execution_rate, PERCENT, 1),
        }
        for line in outline.budget_lines
    ]
    context = {
        "plan": plan,
        "branch": branch,
        "fiscal_year": plan.fiscal_year,
        "outline": outline,
        "budget": budget,
        "budget_groups": [budget_figures(group) for group in outline.budget_groups],
        "budget_total": budget_figures(outline.budget_total) if outline.budget_total else None,
        "previous_year": year - 1 if year - 1 in years else None,
        "next_year": year + 1 if year + 1 in years else None,
        "import_year": (
            year + 1
            if year + 1 not in years and access.has_permission(request.user, access.Permission.MANAGE_PLAN, branch)
            else None
        ),
    }
    return render(request, "plans/plan.html", context)
