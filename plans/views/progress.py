"""Measure progress per half-year: the branch's sheet (read and save) and HQ's list across branches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_GET, require_http_methods

from branches import access
from branches.access import Permission
from plans import fiscal
from plans.models import Area, FiscalYear, MeasureProgress, Plan
from plans.progress import (
    Conflict,
    Half,
    NationalRow,
    ProgressConflict,
    ProgressInput,
    ProgressRefused,
    SheetRow,
    national_progress,
    progress_digest,
    progress_save,
    progress_sheet,
)
from plans.views.common import plan_or_404

NO_SUCH_HALF = gettext_noop("半期は h1（上期）か h2（下期）で指定してください。")
SAVED = gettext_noop("{label}の進捗を保存しました（{count}件）。")
NOTHING_CHANGED = gettext_noop("{label}の進捗に変更はありませんでした。")
NOT_SAVED = gettext_noop("入力に問題があるため、保存していません。各施策のメッセージを確認してください。")
CONFLICTED = gettext_noop(
    "他の利用者が先に更新した施策があるため、保存していません。両方の内容を見比べ、残す内容で保存し直してください。"
)


def _half_or_404(code: str) -> Half:
    try:
        return Half(code)
    except ValueError:
        raise Http404(NO_SUCH_HALF) from None


@dataclass
class EntryRow:
    """One measure on the page: what the inputs show, the hidden version and digest, and any messages."""

    sheet: SheetRow
    status: str
    evaluation: str
    next_steps: str
    version: int
    digest: str
    errors: list[str] = field(default_factory=list)
    conflict: Conflict | None = None

    @property
    def prefix(self) -> str:
        return f"m{self.sheet.measure.pk}"

    @classmethod
    def stored(cls, row: SheetRow) -> EntryRow:
        p = row.progress
        evaluation = p.evaluation if p else str(MeasureProgress._meta.get_field("evaluation").default)
        return cls(
            sheet=row,
            status=p.status if p else "",
            evaluation=evaluation,
            next_steps=p.next_steps if p else "",
            version=row.version,
            digest=row.digest,
        )


def _posted_rows(request: HttpRequest, rows: list[SheetRow]) -> list[ProgressInput]:
    """The rows present in the POST (a measure without its version field was not on the user's page)."""
    posted = []
    for row in rows:
        prefix = f"m{row.measure.pk}"
        raw_version = request.POST.get(f"{prefix}-version")
        if raw_version is None:
            continue
        try:
            version = int(raw_version)
        except ValueError:
            version = -1
        posted.append(
            ProgressInput(
                measure_id=row.measure.pk,
                status=request.POST.get(f"{prefix}-status", ""),
                evaluation=request.POST.get(f"{prefix}-evaluation", ""),
                next_steps=request.POST.get(f"{prefix}-next_steps", ""),
                version=version,
                digest=request.POST.get(f"{prefix}-digest") or None,
            )
        )
    return posted


def _typed_rows(
    sheet_rows: list[SheetRow],
    posted: list[ProgressInput],
    errors: dict[int | None, list[str]],
    conflicts: list[Conflict],
) -> list[EntryRow]:
    """The page again after a refusal: every typed value kept; a conflicted row offers the stored version, so
    saving again keeps what is typed."""
    by_measure = {p.measure_id: p for p in posted}
    conflict_of = {c.measure.pk: c for c in conflicts}
    rows = []
    for sheet_row in sheet_rows:
        typed = by_measure.get(sheet_row.measure.pk)
        if typed is None:
            rows.append(EntryRow.stored(sheet_row))
            continue
        row = EntryRow(
            sheet=sheet_row,
            status=typed.status,
            evaluation=typed.evaluation,
            next_steps=typed.next_steps,
            version=max(typed.version, 0),
            digest=typed.digest or "",
            errors=errors.get(sheet_row.measure.pk, []),
        )
        conflict = conflict_of.get(sheet_row.measure.pk)
        if conflict is not None:
            row.conflict = conflict
            row.version = conflict.stored.version if conflict.stored else 0
            row.digest = progress_digest(conflict.stored)
        rows.append(row)
    return rows


def _save(request: HttpRequest, plan: Plan, half: Half, sheet: Any) -> tuple[bool, list[Any], list[str], int]:
    """Save the posted rows: (True, …) with a message, or (False, rows as typed, page errors, 400 / 409)."""
    posted = _posted_rows(request, sheet.rows)
    try:
        outcome = progress_save(plan=plan, half=half, rows=posted, user=request.user)
    except ProgressRefused as refused:
        return (
            False,
            _typed_rows(sheet.rows, posted, refused.errors, []),
            refused.errors.get(None) or [_(NOT_SAVED)],
            400,
        )
    except ProgressConflict as conflict:
        return False, _typed_rows(sheet.rows, posted, {}, conflict.conflicts), [_(CONFLICTED)], 409
    if outcome.count:
        messages.success(request, _(SAVED).format(label=sheet.label, count=outcome.count))
    else:
        messages.info(request, _(NOTHING_CHANGED).format(label=sheet.label))
    return True, [], [], 200


@require_http_methods(["GET", "POST"])
@login_required
def progress_entry(request: HttpRequest, code: str, year: int, half: str) -> HttpResponse:
    """A branch's measure progress for a half: staff and the manager edit while the half's month report is not
    locked; headquarters reads."""
    the_half = _half_or_404(half)
    plan = plan_or_404(request.user, code, year)
    can_enter = access.has_permission(request.user, Permission.ENTER_ACTUALS, plan.branch)
    if request.method == "POST":
        access.require(request.user, Permission.ENTER_ACTUALS, plan.branch)
    sheet = progress_sheet(plan, the_half)
    rows = [EntryRow.stored(r) for r in sheet.rows]
    page_errors: list[str] = []
    status = 200
    if request.method == "POST":
        saved, rows, page_errors, status = _save(request, plan, the_half, sheet)
        if saved:
            return redirect("progress_entry", code=plan.branch.code, year=year, half=the_half.value)
    context: dict[str, Any] = {
        "plan": plan,
        "branch": plan.branch,
        "fiscal_year": plan.fiscal_year,
        "sheet": sheet,
        "rows": rows,
        "editable": can_enter and sheet.editable,
        "can_enter": can_enter,
        "page_errors": page_errors,
        "halves": [(h.value, h.label(year)) for h in Half],
        "evaluation_choices": MeasureProgress.EVALUATION_CHOICES,
        "report_month_label": fiscal.month_label(sheet.report_month),
    }
    return render(request, "plans/progress_entry.html", context, status=status)


class NationalProgressFilter(forms.Form):
    area = forms.TypedChoiceField(
        label=gettext_lazy("分野"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", gettext_lazy("すべて")), *((n, f"{n}. {name}") for n, name, _en in Area.FIXED)],
    )
    evaluation = forms.ChoiceField(
        label=gettext_lazy("評価"),
        required=False,
        choices=[("", gettext_lazy("すべて")), *MeasureProgress.EVALUATION_CHOICES],
    )
    q = forms.CharField(label=gettext_lazy("施策名"), required=False, max_length=100)


@require_GET
@login_required
def national_progress_list(request: HttpRequest, year: int, half: str) -> HttpResponse:
    """Headquarters: every branch's evaluation, 実施状況 and 今後の実施予定 for a half, filtered."""
    the_half = _half_or_404(half)
    access.require_all_branches(request.user)
    fiscal_year = get_object_or_404(FiscalYear, year=year)
    form = NationalProgressFilter(request.GET or None)
    # A filter not understood is dropped with its message shown, as on the dashboards.
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    rows: list[NationalRow] = national_progress(
        fiscal_year,
        the_half,
        area=data.get("area"),
        evaluation=data.get("evaluation") or "",
        query=data.get("q") or "",
    )
    context = {
        "fiscal_year": fiscal_year,
        "half": the_half,
        "label": the_half.label(year),
        "halves": [(h.value, h.label(year)) for h in Half],
        "form": form,
        "rows": rows,
    }
    return render(request, "plans/national_progress.html", context)
