"""The plan edit page: a branch's planning staff (and administrators) edit a year's plan in the browser.

Thin over ``plans.planning`` (the one write path): target phrases with a live reading (``plans.phrases.read_phrase``,
the ``parse_target`` JSON of ``plans.views.phrases``),
KPIs added to or taken out of the plan, the lineage (新設・削除・変更) of the year, and next year's plan.
Everything needs ``manage_plan`` on the branch (its staff and manager) or a superuser; others get 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from branches import access
from plans import fiscal, planning
from plans.models import Kpi, KpiChange, KpiTarget, Measure, Plan
from plans.phrases import PHRASE_LIMIT, PhraseReading, read_phrase
from plans.views.common import plan_or_404

SAVED = gettext_noop("目標を{count}件保存しました。")
OTHER_ROWS_KEPT = gettext_noop("ほかの行で入力中の目標はまだ保存していません。「すべて保存」で保存してください。")
NOTHING_CHANGED = gettext_noop("変更された目標はありません。")
NOT_SAVED = gettext_noop(
    "保存できなかった目標があります。どの目標も保存していません。各行のメッセージを確認してください。"
)
NEXT_PLAN_CREATED = gettext_noop(
    "{year}の事業計画を作成しました。施策{measures}件・KPI{kpis}件を引き継ぎました。目標は空欄です。入力してください。"
)
NEXT_PLAN_DROPPED = gettext_noop("{year}に削除されたKPIは引き継いでいません: {names}")
NEXT_PLAN_REPLACED = gettext_noop("{year}に変更されたKPIは後継のKPIで引き継ぎました: {pairs}")
NEXT_PLAN_OFFERED = gettext_noop("{year}に新設されたKPIがあります。必要なら「KPIを追加」から追加してください: {names}")
TARGET_ADDED = gettext_noop("「{kpi}」を事業計画に追加しました。")
TARGET_REMOVED = gettext_noop("「{kpi}」を事業計画から外しました。")
CHANGE_RECORDED = gettext_noop("「{kpi}」の{year}の「{change}」を登録しました。")
NO_SUCH_KPI = gettext_noop("KPIを一覧から選んでください。")
NO_SUCH_MEASURE = gettext_noop("施策を一覧から選んでください。")
NO_SUCH_CHANGE = gettext_noop("変更の種類を一覧から選んでください。")
NO_SUCH_TARGET = gettext_noop("この事業計画にその目標はありません。")

# -- access ---------------------------------------------------------------------------------------------------------


def _editable_plan(request: HttpRequest, code: str, year: int) -> Plan:
    """The plan if the user may edit it: 404 unknown branch or plan, 403 without manage_plan on the branch."""
    plan = plan_or_404(request.user, code, year)
    access.require(request.user, access.Permission.MANAGE_PLAN, plan.branch)
    return plan


def _target_or_404(plan: Plan, pk: Any) -> KpiTarget:
    try:
        return plan.targets.select_related("kpi").get(pk=int(pk))
    except (KpiTarget.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404(NO_SUCH_TARGET) from exc


# -- the page -------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One target row of the edit page: the edit (phrase typed over the phrase seen), its reading and lineage."""

    edit: planning.TargetEdit
    reading: PhraseReading
    changes: list[KpiChange]

    @property
    def target(self) -> KpiTarget:
        return self.edit.target

    @property
    def prefix(self) -> str:
        return f"t{self.target.pk}"

    @property
    def text(self) -> str:
        return self.edit.text

    @text.setter
    def text(self, value: str) -> None:
        self.edit.text = value

    @property
    def seen(self) -> str:
        return self.edit.seen

    @seen.setter
    def seen(self, value: str) -> None:
        self.edit.seen = value

    @property
    def error(self) -> str:
        return self.edit.error

    @property
    def conflict(self) -> planning.TargetConflict | None:
        return self.edit.conflict


def _rows(plan: Plan, posted: dict[str, Any] | None = None) -> list[Row]:
    targets = list(
        plan.targets.select_related("kpi", "measure", "measure__area").order_by(
            "measure__area_id", "measure__order", "measure_id", "order", "pk"
        )
    )
    changes = planning.changes_of(plan, [t.kpi for t in targets])
    rows = []
    for target in targets:
        prefix = f"t{target.pk}"
        text = target.target_text if posted is None else posted.get(f"{prefix}-text", target.target_text)
        seen = target.target_text if posted is None else posted.get(f"{prefix}-seen", target.target_text)
        edit = planning.TargetEdit(target, text, seen)
        rows.append(Row(edit, read_phrase(text, plan.fiscal_year_id), changes.get(target.kpi_id, [])))
    return rows


def _render(request: HttpRequest, plan: Plan, rows: list[Row], status: int = 200) -> HttpResponse:
    held = {row.target.kpi_id for row in rows}
    offered = planning.offered_kpis(plan)
    offered_ids = {kpi.pk for kpi in offered}
    context = {
        "plan": plan,
        "branch": plan.branch,
        "fiscal_year": plan.fiscal_year,
        "rows": rows,
        "measures": Measure.objects.filter(plan=plan).select_related("area").order_by("area_id", "order", "pk"),
        "offered": offered,
        "addable": [k for k in Kpi.objects.exclude(pk__in=held).order_by("order", "code") if k.pk not in offered_ids],
        "catalog": Kpi.objects.order_by("order", "code"),
        "change_choices": KpiChange.Change.choices,
        "year_changes": KpiChange.objects.filter(fiscal_year_id=plan.fiscal_year_id)
        .select_related("kpi", "replaces")
        .order_by("kpi__order", "pk"),
        "next_plan_exists": Plan.objects.filter(branch=plan.branch, fiscal_year_id=plan.fiscal_year_id + 1).exists(),
        "text_limit": PHRASE_LIMIT,
    }
    return render(request, "plans/plan_edit.html", context, status=status)


def _gone(posted: Any, rows: list[Row]) -> list[str]:
    """Phrases typed for targets that someone else took out of the plan meanwhile (they cannot be saved)."""
    present = {row.prefix for row in rows}
    typed = []
    for key in posted:
        prefix, _sep, suffix = key.partition("-")
        text = posted[key].strip()
        if suffix == "text" and prefix not in present and text != posted.get(f"{prefix}-seen", "").strip():
            typed.append(text)
    return typed


@require_http_methods(["GET", "POST"])
@login_required
def plan_edit(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """GET: the plan's targets with editable phrases. POST: save the changed phrases (all or nothing), or the one
    row named by ``only``; a phrase changed meanwhile by someone else is refused with both phrases."""
    plan = _editable_plan(request, code, year)
    if request.method == "GET":
        return _render(request, plan, _rows(plan))
    rows = _rows(plan, request.POST)
    only = request.POST.get("only")
    reason = request.POST.get("reason", "")
    gone = _gone(request.POST, rows)
    asked = [row for row in rows if not only or row.prefix == only]
    with transaction.atomic():
        saved = planning.targets_update([row.edit for row in asked], user=request.user, reason=reason)
        if gone:  # typed for a target removed meanwhile: nothing is saved, as for any refused row
            transaction.set_rollback(True)
            saved = 0
    if gone or any(row.edit.refused for row in rows):
        messages.error(request, _(NOT_SAVED))
        for typed in gone:
            messages.error(request, planning.TARGET_GONE.format(typed=typed))
        stored = dict(plan.targets.values_list("pk", "target_text"))  # as saved now: the rows were rolled back
        for row in rows:
            row.target.target_text = stored.get(row.target.pk, row.seen)
            if row.conflict is not None and row.conflict.stored is not None:
                row.seen = row.conflict.stored  # both phrases were shown: saving again is a choice made knowingly
            elif not row.edit.touched:  # untouched rows show what is saved now
                row.text = row.seen = row.target.target_text
                row.reading = read_phrase(row.text, plan.fiscal_year_id)
        return _render(request, plan, rows)
    for row in asked:
        if row.edit.saved:
            row.seen = row.text = row.target.target_text
    messages.success(request, _(SAVED).format(count=saved) if saved else _(NOTHING_CHANGED))
    if only and any(row.edit.touched for row in rows):
        messages.info(request, _(OTHER_ROWS_KEPT))  # the other rows' typing is kept on the page, not saved
        return _render(request, plan, rows)
    return redirect("plan_edit", code=plan.branch.code, year=year)


# -- actions (POST only) --------------------------------------------------------------------------------------------


def _kpi_or_none(raw: str | None) -> Kpi | None:
    return Kpi.objects.filter(code=raw).first() if raw else None


@require_POST
@login_required
def plan_next_year(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """次年度の計画を作成: next year's plan from this one, then its edit page (or back here with the reason)."""
    plan = _editable_plan(request, code, year)
    try:
        result = planning.plan_start_next_year(plan, user=request.user, reason=request.POST.get("reason", ""))
    except planning.PlanningError as exc:
        messages.error(request, str(exc))
        return redirect("plan_page", code=plan.branch.code, year=year)
    label = fiscal.reiwa_label(year + 1)
    messages.success(
        request,
        _(NEXT_PLAN_CREATED).format(year=label, measures=result.plan.measures.count(), kpis=len(result.copied)),
    )
    if result.dropped:
        messages.info(request, _(NEXT_PLAN_DROPPED).format(year=label, names="、".join(k.name for k in result.dropped)))
    if result.replaced:
        pairs = "、".join(f"{old.name} → {new.name}" for old, new in result.replaced)
        messages.info(request, _(NEXT_PLAN_REPLACED).format(year=label, pairs=pairs))
    if result.offered:
        messages.info(request, _(NEXT_PLAN_OFFERED).format(year=label, names="、".join(k.name for k in result.offered)))
    return redirect("plan_edit", code=plan.branch.code, year=year + 1)


@require_POST
@login_required
def target_add(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """KPIを追加: a KPI into the plan, with its phrase and measure; 新設 recorded when asked."""
    plan = _editable_plan(request, code, year)
    kpi = _kpi_or_none(request.POST.get("kpi"))
    measure_pk = request.POST.get("measure") or None
    measure = Measure.objects.filter(pk=measure_pk, plan=plan).first() if measure_pk and measure_pk.isdigit() else None
    if kpi is None:
        messages.error(request, _(NO_SUCH_KPI))
    elif measure_pk and measure is None:
        messages.error(request, _(NO_SUCH_MEASURE))
    else:
        try:
            planning.target_add(
                plan,
                kpi,
                user=request.user,
                measure=measure,
                text=request.POST.get("text", "")[: PHRASE_LIMIT + 1],
                record_new=request.POST.get("record_new") == "1",
                note=request.POST.get("note", ""),
                reason=request.POST.get("reason", ""),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except planning.PlanningError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _(TARGET_ADDED).format(kpi=kpi.name))
    return redirect("plan_edit", code=plan.branch.code, year=year)


@require_POST
@login_required
def target_remove(request: HttpRequest, code: str, year: int, pk: int) -> HttpResponse:
    """計画から外す: a target out of the plan (refused while it has actuals); 削除 recorded when asked."""
    plan = _editable_plan(request, code, year)
    target = _target_or_404(plan, pk)
    try:
        planning.target_remove(
            target,
            user=request.user,
            record_deleted=request.POST.get("record_deleted") == "1",
            note=request.POST.get("note", ""),
            reason=request.POST.get("reason", ""),
        )
    except planning.PlanningError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _(TARGET_REMOVED).format(kpi=target.kpi.name))
    return redirect("plan_edit", code=plan.branch.code, year=year)


@require_POST
@login_required
def change_record(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """KPIの新設・削除・変更を登録 for the plan's year."""
    plan = _editable_plan(request, code, year)
    kpi = _kpi_or_none(request.POST.get("kpi"))
    change = request.POST.get("change", "")
    replaces_code = request.POST.get("replaces") or None
    replaces = _kpi_or_none(replaces_code)
    if kpi is None or (replaces_code and replaces is None):
        messages.error(request, _(NO_SUCH_KPI))
    elif change not in KpiChange.Change.values:
        messages.error(request, _(NO_SUCH_CHANGE))
    else:
        try:
            planning.kpi_change_record(
                plan,
                kpi,
                change,
                user=request.user,
                note=request.POST.get("note", ""),
                previous_name=request.POST.get("previous_name", ""),
                replaces=replaces,
                reason=request.POST.get("reason", ""),
            )
        except (planning.PlanningError, ValidationError) as exc:
            messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
        else:
            label = KpiChange.Change(change).label
            text = _(CHANGE_RECORDED).format(kpi=kpi.name, year=plan.fiscal_year.label, change=label)
            messages.success(request, text)
    return redirect("plan_edit", code=plan.branch.code, year=year)
