"""The month screen: a branch's figures for one month, entered as one sheet. Thin over ``plans.entry``."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods

from branches import access
from branches.models import Branch
from plans import entry, fiscal, workflow
from plans.entry import SaveOutcome, Sheet
from plans.models import MonthReport, Plan
from plans.views.common import NO_PLAN
from plans.views.dashboards import mark_summary
from plans.views.workflow import month_workflow_context

NO_SUCH_MONTH = gettext_noop("月はYYYY-MMの形で指定してください（例: 2024-05）。")
SAVED_FLAG = "entry_saved"
COUNTS = "評価の内訳 ◎{above} ○{planned} △{below}・見込み 達成{on_track} 未達のおそれ{at_risk}"
BEFORE_AFTER = "{message}（保存前: {before} → 保存後: {after}）"


def _month_or_404(raw: str) -> datetime.date:
    try:
        month = fiscal.parse_month(raw)
    except ValueError as exc:
        raise Http404(NO_SUCH_MONTH) from exc
    if month is None or len(raw) != 7:
        raise Http404(NO_SUCH_MONTH)
    return month


def _open(request: HttpRequest, code: str, year: int, raw_month: str) -> tuple[Plan, datetime.date, MonthReport]:
    """The plan and month report, checked: 404 unknown branch / plan / month, 403 without view_branch (reading)
    or enter_actuals (saving). Headquarters reads the month (and reopens it from the workflow box)."""
    branch = get_object_or_404(Branch, code=code)
    needed = access.Permission.ENTER_ACTUALS if request.method == "POST" else access.Permission.VIEW_BRANCH
    access.require(request.user, needed, branch)
    plan = Plan.objects.select_related("branch", "fiscal_year").filter(branch=branch, fiscal_year_id=year).first()
    if plan is None:
        raise Http404(NO_PLAN.format(branch=branch, year=fiscal.reiwa_label(year)))
    month = _month_or_404(raw_month)
    try:
        report = workflow.report_for(plan, month, today=timezone.localdate())
    except workflow.WorkflowError as exc:
        raise Http404(str(exc)) from exc
    return plan, month, report


def _counts(summary: dict[str, int]) -> str:
    return COUNTS.format(**summary)


@require_http_methods(["GET", "POST"])
@login_required
def month_entry(request: HttpRequest, code: str, year: int, month: str) -> HttpResponse:
    """GET: the month's sheet. POST: save it whole (PRG) or show what was refused, warned or in conflict."""
    plan, month_date, report = _open(request, code, year, month)
    today = timezone.localdate()
    if request.method == "POST":
        if report.is_locked(today):
            raise PermissionDenied(entry.LOCKED)
        preview = "preview" in request.POST
        outcome = entry.month_save(
            plan=plan,
            month=month_date,
            report=report,
            posted=request.POST,
            user=request.user,
            today=today,
            preview=preview,
        )
        if outcome.saved:
            text = _(outcome.message)
            if outcome.written:
                text = BEFORE_AFTER.format(message=text, before=_counts(outcome.before), after=_counts(outcome.after))
                request.session[SAVED_FLAG] = True
            messages.success(request, text)
            return redirect("month_entry", code=plan.branch.code, year=year, month=month)
        return _render(request, plan, month_date, report, outcome.sheet, outcome, status=200)
    sheet = entry.month_sheet(plan, month_date, today)
    return _render(request, plan, month_date, report, sheet, None)


def _preview(outcome: SaveOutcome | None) -> dict[str, str] | None:
    """The preview box: the counts now and the counts the typed month would give (nothing saved)."""
    if outcome is None or outcome.saved or not outcome.after:
        return None
    return {"message": _(outcome.message), "before": _counts(outcome.before), "after": _counts(outcome.after)}


def _render(
    request: HttpRequest,
    plan: Plan,
    month: datetime.date,
    report: MonthReport,
    sheet: Sheet,
    outcome: SaveOutcome | None,
    status: int = 200,
) -> HttpResponse:
    months = fiscal.months_of(plan.fiscal_year_id)
    index = months.index(month)
    today = timezone.localdate()
    previous_month = months[index - 1] if index > 0 else None
    next_month = months[index + 1] if index + 1 < len(months) and months[index + 1] <= today else None
    projected = sheet.projected
    can_enter = access.has_permission(request.user, access.Permission.ENTER_ACTUALS, plan.branch)
    locked = report.is_locked(today)
    context = {
        "plan": plan,
        "branch": plan.branch,
        "fiscal_year": plan.fiscal_year,
        "month": month,
        "report": report,
        "sheet": sheet,
        "rows": sheet.rows,
        "earlier_months": sheet.earlier_months,
        "locked": locked,
        "read_only": locked or not can_enter,
        "error_message": _(outcome.message) if outcome is not None and not outcome.after else "",
        "preview": _preview(outcome),
        "summary": mark_summary(sheet.counts),
        "on_track": projected.get(True, 0),
        "at_risk": projected.get(False, 0),
        "previous_month": previous_month,
        "next_month": next_month,
        "just_saved": bool(request.session.pop(SAVED_FLAG, False)),
        "storage_key": f"kpitrack-entry:{plan.branch.code}:{plan.fiscal_year_id}:{month:%Y-%m}",
        **month_workflow_context(request, report),
    }
    return render(request, "plans/month_entry.html", context, status=status)
