"""Excel workbooks in the browser: download the published workbook, the national workbook and the entry template;
upload a filled-in workbook (check only, or import all of it). Thin over ``plans.workbooks``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods
from openpyxl import Workbook

from branches import access
from plans.models import FiscalYear
from plans.selectors import plan_results
from plans.views.common import plan_or_404
from plans.workbooks.importer import ImportReport, import_workbook
from plans.workbooks.national import national_filename, national_workbook
from plans.workbooks.published import published_filename, published_workbook, workbook_bytes
from plans.workbooks.reader import TOO_LARGE, WorkbookRefused, max_bytes, size_label
from plans.workbooks.template import template_filename, template_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_FILE = gettext_noop("取り込むExcelファイル（.xlsx）を選んでください。")


def _xlsx(workbook: Workbook, filename: str) -> HttpResponse:
    response = HttpResponse(workbook_bytes(workbook), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_GET
@login_required
def published_download(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """The branch's fiscal year as published (実施状況, 月次実績, 施策の進捗): anyone who may read the branch."""
    plan = plan_or_404(request.user, code, year)
    return _xlsx(published_workbook(plan, plan_results(plan)), published_filename(plan))


@require_GET
@login_required
def template_download(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """The entry template: for those who enter the branch's figures (enter_actuals)."""
    plan = plan_or_404(request.user, code, year)
    access.require(request.user, access.Permission.ENTER_ACTUALS, plan.branch)
    return _xlsx(template_workbook(plan, plan_results(plan)), template_filename(plan))


@require_GET
@login_required
def national_download(request: HttpRequest, year: int) -> HttpResponse:
    """Every branch's KPIs of the year: headquarters (read_all_branches)."""
    access.require_all_branches(request.user)
    fiscal_year = get_object_or_404(FiscalYear, year=year)
    return _xlsx(national_workbook(fiscal_year), national_filename(fiscal_year))


@require_http_methods(["GET", "POST"])
@login_required
def workbook_upload(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """GET: the upload form. POST: check the workbook (``dry_run``) or import all of it; nothing is written
    unless every figure passes. The branch's own staff and managers (enter_actuals) and superusers."""
    plan = plan_or_404(request.user, code, year)
    access.require(request.user, access.Permission.ENTER_ACTUALS, plan.branch)
    report: ImportReport | None = None
    refusal = ""
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("workbook")
        if upload is None:
            refusal, status = NO_FILE, 400
        elif upload.size is not None and upload.size > max_bytes():
            refusal, status = TOO_LARGE.format(limit=size_label(max_bytes())), 400
        else:
            try:
                report = import_workbook(
                    upload.read(),
                    upload.name or "upload.xlsx",
                    user=request.user,  # type: ignore[arg-type]
                    dry_run="preview" in request.POST,
                    today=timezone.localdate(),
                    plan=plan,
                )
            except WorkbookRefused as exc:
                refusal, status = str(exc), 400
            else:
                status = 200 if report.ok else 400
    context = {
        "plan": plan,
        "branch": plan.branch,
        "fiscal_year": plan.fiscal_year,
        "report": report,
        "refusal": refusal,
        "max_mb": max_bytes() // (1024 * 1024),
    }
    return render(request, "plans/workbook_upload.html", context, status=status)
