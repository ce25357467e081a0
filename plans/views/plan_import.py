"""Plans in, in the browser: upload a branch's plan PDF (or paste its text), review the draft beside the source,
correct it, confirm. Nothing is saved before the confirmation.

The draft between the steps lives in the session under the branch×year, with a token the review form carries
and the time it was read: a review posted with another token (the document was read again in another tab) or
after ``DRAFT_MAX_AGE`` is refused. The confirmation applies the form's corrections, checks everything again
and saves with ``plans.imports.save.save_draft`` (one transaction; an existing plan is refused).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from branches import access
from branches.models import Branch
from plans import fiscal
from plans.forms_import import ImportUploadForm, apply_corrections
from plans.imports.build import draft_from_text
from plans.imports.review import Review, fold_lines
from plans.imports.save import ERROR_PLAN_EXISTS, ImportRefused, save_draft
from plans.models import Area, Kpi, Plan

#: A draft older than this (seconds) is not saved: read the document again.
DRAFT_MAX_AGE = 2 * 60 * 60
SESSION_KEY = "plan_import:{code}:{year}"

ERROR_STALE = (
    "この下書きは期限切れか、別の画面で読み込み直されています。もう一度読み込んでください（何も保存していません）。"
)
ERROR_NO_DRAFT = "確認する下書きがありません。事業計画のPDFかテキストを読み込んでください。"
#: The history's reason for every row the import saves.
IMPORT_REASON = "事業計画の読み込み（画面から、資料: {source}）"
SAVED = "{branch}の{year}の事業計画を保存しました（施策 {measures}件、KPI {targets}件）。"


def _manageable_branch(user: access.User, code: str) -> Branch:
    """The branch named by ``code`` if ``user`` may manage its plan (its staff and manager, superusers): 404/403."""
    branch = get_object_or_404(Branch, code=code)
    access.require(user, access.Permission.MANAGE_PLAN, branch)
    return branch


def _plan_exists(branch: Branch, year: int) -> bool:
    return Plan.objects.filter(branch=branch, fiscal_year_id=year).exists()


def _store(request: HttpRequest, review: Review, token: str | None = None, created: float | None = None) -> str:
    token = token or secrets.token_urlsafe(16)
    request.session[SESSION_KEY.format(code=review.branch, year=review.fiscal_year)] = {
        "token": token,
        "created": created if created is not None else time.time(),
        "review": review.as_data(),
    }
    return token


def _stored(request: HttpRequest, code: str, year: int) -> dict[str, Any] | None:
    """The session's draft for branch×year with its review read back; None when absent, expired or unreadable."""
    stored = request.session.get(SESSION_KEY.format(code=code, year=year))
    try:
        if time.time() - float(stored["created"]) > DRAFT_MAX_AGE:
            return None
        return {**stored, "review": Review.from_data(stored["review"])}
    except (KeyError, TypeError, ValueError):  # nothing stored, or stored by another version of this page
        return None


def _forget(request: HttpRequest, code: str, year: int) -> None:
    request.session.pop(SESSION_KEY.format(code=code, year=year), None)


@require_http_methods(["GET", "POST"])
@login_required
def plan_import_upload(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """Step 1: a PDF or pasted text for branch ``code``'s plan of ``year``; read into a draft, nothing saved."""
    branch = _manageable_branch(request.user, code)
    exists_message = (
        ERROR_PLAN_EXISTS.format(branch=branch.name, year=fiscal.reiwa_label(year))
        if _plan_exists(branch, year)
        else ""
    )
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and not exists_message and form.is_valid():
        text = form.cleaned_data["document_text"]
        draft = draft_from_text(text, branch=branch.code, fiscal_year=year, source=form.cleaned_data["source"])
        _store(request, Review.from_draft(draft, text))
        return redirect("plan_import_review", code=branch.code, year=year)
    context = {
        "branch": branch,
        "year": year,
        "year_label": fiscal.reiwa_label(year),
        "form": form,
        "exists_message": exists_message,
        "has_draft": _stored(request, branch.code, year) is not None,
    }
    return render(request, "plans/plan_import_upload.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@login_required
def plan_import_review(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """Step 2: the draft beside its source; POST applies corrections, and with ``action=confirm`` saves it."""
    branch = _manageable_branch(request.user, code)
    stored = _stored(request, branch.code, year)
    upload_url = reverse("plan_import_upload", args=[branch.code, year])
    if request.method == "GET":
        if stored is None:
            messages.error(request, ERROR_NO_DRAFT)
            return redirect(upload_url)
        review = stored["review"]
        return _render_review(request, branch, review, stored["token"])
    if stored is None or not secrets.compare_digest(str(stored["token"]), request.POST.get("token", "")):
        messages.error(request, ERROR_STALE)
        return redirect(upload_url)
    review = stored["review"]
    apply_corrections(review, request.POST)
    token = _store(request, review, stored["token"], stored["created"])
    if request.POST.get("action") != "confirm":
        return redirect("plan_import_review", code=branch.code, year=year)
    errors = review.errors(set(Kpi.objects.values_list("code", flat=True)))
    if errors:
        return _render_review(request, branch, review, token, errors=errors, status=400)
    draft = review.to_draft()
    try:
        plan = save_draft(draft, reason=IMPORT_REASON.format(source=review.source))
    except ImportRefused as error:
        return _render_review(request, branch, review, token, errors=[str(error)], status=409)
    _forget(request, branch.code, year)
    messages.success(
        request,
        SAVED.format(
            branch=branch.name,
            year=fiscal.reiwa_label(year),
            measures=len(draft.measures),
            targets=len(draft.targets),
        ),
    )
    return redirect("plan_page", code=branch.code, year=plan.fiscal_year_id)


def _render_review(
    request: HttpRequest,
    branch: Branch,
    review: Review,
    token: str,
    *,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    source = review.source_lines()
    folded = fold_lines(source)
    catalog = list(Kpi.objects.order_by("order", "code").values_list("code", "name"))
    names = dict(catalog)
    rows = []
    cited: dict[int, str] = {}
    for index, line in enumerate(review.lines):
        at = review.source_line_of(line, folded)
        if at is not None:
            cited[at] = "warn" if line.warnings or line.kpi is None else "hit"
        rows.append(
            {
                "index": index,
                "number": index + 1,
                "line": line,
                "catalog_name": names.get(line.kpi or ""),
                "reading": review.reading(line),
                "source_line": at,
            }
        )
    year = review.fiscal_year
    context = {
        "branch": branch,
        "year": year,
        "year_label": fiscal.reiwa_label(year),
        "review": review,
        "token": token,
        "rows": rows,
        "catalog": catalog,
        "deleted": [(code, names.get(code, code)) for code in review.deleted],
        "areas": [(area.number, area.name) for area in Area.objects.order_by("number")] or _FALLBACK_AREAS,
        "source": [(number, text, cited.get(number, "")) for number, text in enumerate(source, start=1)],
        "errors": errors if errors is not None else review.errors({code for code, _ in catalog}),
        "confirm_refused": errors is not None,
        "unmatched": sum(1 for line in review.lines if line.kpi is None and not line.dropped),
        "flagged": sum(1 for line in review.lines if line.warnings and not line.dropped),
        "parse_url": reverse("parse_target"),
        "upload_url": reverse("plan_import_upload", args=[branch.code, year]),
    }
    return render(request, "plans/plan_import_review.html", context, status=status)


_FALLBACK_AREAS = [(number, name) for number, name, _ in Area.FIXED]
