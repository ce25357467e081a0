"""The month's workflow in the browser (提出・承認・差戻し・再開) and HQ's reporting status (提出状況).

Thin views over ``plans.workflow``: every move goes through ``workflow.month_transition`` and the permission is
checked here on every POST, whatever buttons the page showed.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import escape, format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_noop, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from branches import access
from branches.models import Branch
from plans import fiscal, versions, workflow
from plans.models import FiscalYear, MonthReport, Plan, ShortfallNote
from plans.results import KpiResult
from plans.views import cache
from plans.views.cache import national_scope, revalidated

NO_SUCH_TRANSITION = gettext_noop("この操作はありません。")
NO_SUCH_MONTH = gettext_noop("月は YYYY-MM の形で指定してください。")
NO_PLAN = gettext_noop("この支部のこの年度の事業計画はありません。")
VERSION_MISSING = gettext_noop("画面の情報が古いか欠けています。画面を読み込み直してから、もう一度操作してください。")
UNTIL_INVALID = gettext_noop("再開の期限は日付（例: 2024-12-31）で入力してください。")
DONE: dict[str, str] = {
    "submit": gettext_noop("{month}の月次報告を提出しました。"),
    "approve": gettext_noop("{month}の月次報告を承認しました。この月の実績は確定しました。"),
    "return": gettext_noop("{month}の月次報告を差し戻しました。"),
    "reopen": gettext_noop("{month}の月次報告を{until}まで再開しました。"),
}


def month_workflow_context(
    request: HttpRequest,
    report: MonthReport,
    results: Iterable[KpiResult] | None = None,
    notes: Iterable[ShortfallNote] | None = None,
) -> dict[str, Any]:
    """What ``plans/_month_workflow.html`` needs: the report, the user's allowed moves, and what still blocks
    submission (only computed when the user may submit; from ``results`` and ``notes``, the plan's current
    ``plan_results`` and the month's 要因・対応, when the caller has just read them)."""
    actions = workflow.actions_for(request.user, report)
    can_submit = any(a.name == "submit" for a in actions)
    blockers = workflow.submit_blockers(report, results, notes) if can_submit else []
    return {"report": report, "actions": actions, "blockers": blockers}


def _back(request: HttpRequest, code: str, year: int) -> str:
    """Where to go after a move: the page the form came from (``next``), else the branch's dashboard."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("branch_dashboard", args=[code, year])


def _until(raw: str) -> datetime.date | None:
    raw = raw.strip()
    return datetime.date.fromisoformat(raw) if raw else None


def _move(request: HttpRequest, plan: Plan, month: datetime.date, step: workflow.Transition) -> None:
    """Make the move through ``workflow.month_transition``; every outcome becomes a message, a refusal
    changes nothing."""
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, _(VERSION_MISSING))
        return
    try:
        until = _until(request.POST.get("until", ""))
    except ValueError:
        messages.error(request, _(UNTIL_INVALID))
        return
    try:
        report = workflow.report_for(plan, month)
        moved = workflow.month_transition(
            report=report,
            name=step.name,
            user=request.user,  # type: ignore[arg-type]
            expected_version=version,
            reason=request.POST.get("reason", ""),
            until=until,
        )
    except workflow.SubmitBlocked as refused:
        messages.error(request, refused.headline)
        for blocker in refused.blockers:
            messages.error(request, blocker)
    except workflow.WorkflowError as refused:
        messages.error(request, str(refused))
    else:
        until_label = moved.reopened_until.isoformat() if moved.reopened_until else ""
        messages.success(request, _(DONE[step.name]).format(month=fiscal.month_label(moved.month), until=until_label))


@require_POST
@login_required
def month_transition(request: HttpRequest, code: str, year: int, month: str, transition: str) -> HttpResponse:
    """POST version, reason, until (reopen), next: move the branch's month report by ``transition``.

    403 (the permission's message) when the user may not make this move for the branch; a refused move is a
    message and changes nothing.
    """
    step = workflow.TRANSITIONS.get(transition)
    if step is None:
        raise Http404(NO_SUCH_TRANSITION)
    try:
        month_date = fiscal.parse_month(month)
    except ValueError:
        raise Http404(NO_SUCH_MONTH) from None
    branch = get_object_or_404(Branch, code=code)
    access.require(request.user, step.permission, branch)
    plan = Plan.objects.filter(branch=branch, fiscal_year_id=year).select_related("branch").first()
    if plan is None or month_date is None:
        raise Http404(NO_PLAN)
    _move(request, plan, month_date, step)
    return redirect(_back(request, code, year))


# -- HQ: the reporting status of every branch -----------------------------------------------------------------


def status_rows_html(status: workflow.ReportStatus) -> list[dict[str, Any]]:
    """The grid's rows (branch, whether it has a plan, and its cells as HTML): 47 × 12 cells, each once a template
    loop with eight lookups and a translation, now one string with the per-month and per-status parts worked out
    once (the page took 0.3–1.7 s)."""
    late_mark = format_html('<span class="late-mark">{}</span>', _("遅延"))
    months = {m: (f"{m:%Y-%m}", escape(fiscal.month_label(m))) for m in status.months}
    labels: dict[str, str] = {}
    rows = []
    for row in status.rows:
        name = escape(row.branch.name)
        cells = []
        for cell in row.cells:
            month, month_label = months[cell.month]
            if cell.status not in labels:
                labels[cell.status] = escape(cell.label)
            state = escape(cell.status)
            cells.append(
                f'<td class="{"late" if cell.is_late else ""}" data-month="{month}" data-status="{state}">'
                f'<a class="wf-{state}" href="{escape(cell.path)}" title="{name} {month_label}">{labels[cell.status]}'
                f"{late_mark if cell.is_late else ''}</a></td>"
            )
        rows.append({"branch": row.branch, "has_plan": row.has_plan, "cells_html": mark_safe("".join(cells))})  # noqa: S308
    return rows


def late_rows_html(late: list[workflow.StatusCell]) -> str:
    """The late branch-months as table rows, every text escaped; what repeats (a branch, a month, a status) is
    escaped once."""
    branches: dict[int, str] = {}
    months: dict[datetime.date, tuple[str, str]] = {}
    statuses: dict[str, str] = {}
    rows = []
    for cell in late:
        if cell.branch.pk not in branches:
            branches[cell.branch.pk] = escape(str(cell.branch))
        if cell.month not in months:
            months[cell.month] = (escape(cell.month_label), cell.deadline.isoformat())
        if cell.status not in statuses:
            statuses[cell.status] = f'<span class="wf-badge wf-{escape(cell.status)}">{escape(cell.label)}</span>'
        month_label, deadline = months[cell.month]
        days = escape(ngettext("%(days)s日", "%(days)s日", cell.days_late or 0) % {"days": localize(cell.days_late)})
        reminded = cell.report.last_reminded_on if cell.report is not None else None
        rows.append(
            f'<tr class="late-row">\n      <td>{branches[cell.branch.pk]}</td>\n'
            f'      <td><a href="{escape(cell.path)}">{month_label}</a></td>\n'
            f"      <td>{statuses[cell.status]}</td>\n      <td>{deadline}</td>\n"
            f'      <td class="late-days">{days}</td>\n      <td>{reminded.isoformat() if reminded else "－"}</td>\n'
            "    </tr>"
        )
    return mark_safe("".join(rows))  # noqa: S308 (every text escaped above)


@require_GET
@login_required
@revalidated(national_scope)
def report_status(request: HttpRequest, year: int) -> HttpResponse:
    """Branches × months of the fiscal year so far: each month's status, late ones flagged, and the list of late
    branch-months with the reminder button. Headquarters only."""
    access.require_all_branches(request.user)
    fiscal_year = get_object_or_404(FiscalYear, year=year)
    context = {"fiscal_year": fiscal_year, **status_part(request, year), "deadline_day": settings.REPORT_DEADLINE_DAY}
    return render(request, "plans/report_status.html", context)


def status_part(request: HttpRequest, year: int) -> dict[str, Any]:
    """What the status page shows of the data: ``status`` (today, months), ``rows``, ``late_count`` and
    ``late_html``. Kept in the cache while the year's data versions and the day are unchanged (the key holds
    them and the language); it holds no CSRF token and nothing that depends on the user."""
    today = timezone.localdate()
    scopes = getattr(request, "data_scopes", None)
    key = None
    if scopes is not None:
        key = f"report-status:{cache.RELEASE}:{get_language()}:{year}:{today}:{versions.token(scopes)}"
        found = caches["default"].get(key)
        if found is not None:
            return found
    status = workflow.report_status(year, today)
    late = status.late
    part = {
        "status": {"today": status.today, "months": status.months},
        "rows": status_rows_html(status),
        "late_count": len(late),
        "late_html": late_rows_html(late),
    }
    if key is not None:
        caches["default"].set(key, part, timeout=None)
    return part


@require_POST
@login_required
def report_reminders(request: HttpRequest, year: int) -> HttpResponse:
    """E-mail the late branches' staff and managers (at most once per branch-month per day). Headquarters only."""
    access.require_all_branches(request.user)
    get_object_or_404(FiscalYear, year=year)
    today = timezone.localdate()
    status = workflow.report_status(year, today)
    notes = workflow.send_reminders(
        status.late, base_url=request.build_absolute_uri("/"), today=today, sent_by=request.user.get_username()
    )
    for note in notes:
        messages.info(request, note)
    return redirect("report_status", year=year)
