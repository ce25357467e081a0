"""A KPI's history in one branch-year, and restoring an earlier value of an actual in one recorded step."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_http_methods

from branches import access
from branches.access import Permission
from plans import fiscal
from plans.history import Change, actual_values, kpi_changes
from plans.models import KpiActual, KpiTarget
from plans.services import ActualConflict, MonthLocked, RestoreError, actual_restore
from plans.views.common import plan_or_404
from plans.views.dashboards import NO_SUCH_KPI

RESTORE_DENIED = gettext_noop(
    "この支部の実績を元に戻す権限がありません。戻せるのはその支部の担当者・管理者と管理者（スーパーユーザー）です。"
)
RESTORED = gettext_noop("{what}を「{value}」に戻しました。")
ALREADY_THAT_VALUE = gettext_noop("{what}はすでに「{value}」です。変更していません。")
RESTORE_INVALID = gettext_noop("元に戻す操作の内容が正しくありません。履歴画面を読み込み直してください。")


class RestoreForm(forms.Form):
    history_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    reason = forms.CharField(label=gettext_lazy("理由"), max_length=200, required=False)


def _restorable(changes: list[Change], current: dict[tuple[str, Any], KpiActual]) -> dict[int, int]:
    """history_id → the version to expect, for each actual row that holds an earlier value of its cell.

    The newest row of each cell is the cell's present state, and an older row holding what the cell holds now
    has nothing to restore either; a deleted cell (its newest row is ``-``) expects version 0, as a form opened
    on an empty cell.
    """
    seen: set[tuple[str, Any]] = set()
    restorable: dict[int, int] = {}
    for change in changes:  # newest first
        if not change.is_actual:
            continue
        cell = (change.period, change.month)
        actual = current.get(cell)
        same_as_now = actual is not None and actual_values(actual) == change.values
        if cell in seen and change.change != "-" and not same_as_now:
            restorable[change.history_id] = actual.version if actual is not None else 0
        seen.add(cell)
    return restorable


def _restore(request: HttpRequest, target: KpiTarget, form: RestoreForm) -> tuple[str, int]:
    """Restore the value the form names through ``actual_restore``; ("", 200) with a success message, else
    the error and its status (400 invalid, 409 conflict or locked month)."""
    if not form.is_valid():
        return _(RESTORE_INVALID), 400
    data = form.cleaned_data
    try:
        actual, outcome = actual_restore(
            target=target,
            history_id=data["history_id"],
            user=request.user,  # type: ignore[arg-type]
            expected_version=data["expected_version"],
            reason=data["reason"],
        )
    except RestoreError as exc:
        return str(exc), 400
    except ValidationError as exc:
        return " ".join(exc.messages), 400
    except (ActualConflict, MonthLocked) as exc:
        return str(exc), 409
    what = f"{target.kpi.name} {actual.get_period_display()}"
    if actual.month is not None:
        what += f" {fiscal.month_label(actual.month)}"
    done = ALREADY_THAT_VALUE if outcome == "unchanged" else RESTORED
    messages.success(request, _(done).format(what=what, value=actual.display_value))
    return "", 200


@login_required
@require_http_methods(["GET", "POST"])
def kpi_history(request: HttpRequest, code: str, year: int, kpi_code: str) -> HttpResponse:
    """Every change to this branch-year's target of the KPI and its actuals, newest first; POST restores one."""
    plan = plan_or_404(request.user, code, year)
    target = KpiTarget.objects.select_related("kpi").filter(plan=plan, kpi__code=kpi_code).first()
    if target is None:
        raise Http404(NO_SUCH_KPI)
    may_restore = access.has_permission(request.user, Permission.ENTER_ACTUALS, plan.branch)
    error, status, form = "", 200, None
    if request.method == "POST":
        if not may_restore:
            raise PermissionDenied(RESTORE_DENIED)
        form = RestoreForm(request.POST)
        error, status = _restore(request, target, form)
        if not error:
            return redirect("kpi_history", code=code, year=year, kpi_code=kpi_code)
    changes = kpi_changes(target)
    current = {(a.period, a.month): a for a in KpiActual.objects.filter(target=target).order_by()}
    restorable = _restorable(changes, current) if may_restore else {}
    context = {
        "plan": plan,
        "branch": plan.branch,
        "fiscal_year": plan.fiscal_year,
        "target": target,
        "kpi": target.kpi,
        "rows": [(change, restorable.get(change.history_id)) for change in changes],
        "may_restore": may_restore,
        "error": error,
        "failed_history_id": form.cleaned_data.get("history_id") if form is not None and form.is_valid() else None,
        "typed_reason": form.data.get("reason", "") if form is not None else "",
    }
    return render(request, "plans/kpi_history.html", context, status=status)
