"""The plan page: a branch's business plan for a year as written, with live figures, progress and budget."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from branches import access
from plans import selectors
from plans.formatting import format_figure
from plans.models import Measure, Plan
from plans.selectors import BudgetTotal, MeasureNode, PlanOutline
from plans.views.cache import RELEASE, branch_scope, revalidated
from plans.views.common import plan_or_404, plan_years

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


MEASURE_TEMPLATE = "plans/_plan_measure.html"
#: Django's cache the rendered measures are kept in.
CACHE = "default"


def _node_state(node: MeasureNode) -> tuple[object, ...]:
    """Everything a measure's section shows: the measure's fields, its newest progress, its KPIs' results (each
    by the key of its cached result, which changes with every write the result shows) and its sub-measures."""
    measure = tuple(getattr(node.measure, f.attname) for f in Measure._meta.concrete_fields)
    progress = (
        tuple(getattr(node.progress, f.attname) for f in type(node.progress)._meta.concrete_fields)
        if node.progress is not None
        else None
    )
    results = tuple(result.cache_key for result in node.results)
    return (measure, progress, results, tuple(_node_state(child) for child in node.children))


def _cacheable(node: MeasureNode) -> bool:
    return all(result.cache_key for result in node.results) and all(_cacheable(c) for c in node.children)


def measure_sections(outline: PlanOutline, plan: Plan) -> list[list[SafeString]]:
    """Per area, each top-level measure's section (``_plan_measure.html``, its sub-measures inside) as HTML.
    A section is kept in the cache under a digest of all it shows, the language and the release: after a save,
    only the section of the KPI saved is rendered again (rendering the 100-odd measures of a plan was most of the
    page's time)."""
    context = {"branch": plan.branch, "fiscal_year": plan.fiscal_year}
    prefix = f"plan-measure:{RELEASE}:{get_language()}:{plan.branch.code}:{plan.fiscal_year_id}"
    keys: dict[int, str] = {}
    for area in outline.areas:
        for node in area.measures:
            if _cacheable(node):
                state = repr(_node_state(node)).encode()
                keys[node.measure.pk] = f"{prefix}:{hashlib.blake2b(state, digest_size=16).hexdigest()}"
    store = caches[CACHE]
    found = store.get_many(list(keys.values()))
    rendered: dict[str, str] = {}
    sections = []
    for area in outline.areas:
        htmls = []
        for node in area.measures:
            key = keys.get(node.measure.pk)
            html = found.get(key) if key else None
            if html is None:
                html = render_to_string(MEASURE_TEMPLATE, {**context, "node": node})
                if key:
                    rendered[key] = html
            htmls.append(mark_safe(html))  # noqa: S308 (rendered by the template, which escapes)
        sections.append(htmls)
    if rendered:
        store.set_many(rendered, timeout=None)
    return sections


@require_GET
@login_required
@revalidated(branch_scope)
def plan_page(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """Areas → measures → KPIs with figures and marks, each measure's newest progress, and the budget table."""
    scopes = getattr(request, "data_scopes", None)
    plan = plan_or_404(request.user, code, year, scopes)
    branch = plan.branch
    outline = selectors.plan_outline(plan, scopes)
    years = plan_years(branch, scopes)
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
        "areas": list(zip(outline.areas, measure_sections(outline, plan), strict=True)),
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
