"""Save a reviewed draft as a plan: Plan, Measures and KpiTargets in one transaction."""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model

from branches.models import Branch
from plans.imports.draft import Draft
from plans.models import Area, FiscalYear, Kpi, KpiTarget, Measure, Plan
from plans.rules import TargetParseError

ERROR_PLAN_EXISTS = "{branch}の{year}の事業計画はすでにあります。上書きはしません（管理画面で確認してください）。"
ERROR_UNKNOWN_BRANCH = "支部コード「{code}」の支部がありません。"
ERROR_UNKNOWN_KPI = "KPIコード「{code}」はカタログにありません。"
ERROR_INVALID = "KPI「{name}」を保存できません: {reason}（何も保存していません）"


class ImportRefused(ValueError):
    """The draft cannot be saved; nothing was written."""


def save_draft(draft: Draft, *, reason: str = "") -> Plan:
    """Write the draft's plan, its measures and its matched KPIs' targets; all or nothing.

    A KPI the reader could not match is not saved (it is in the draft's warnings). A target the reader
    left empty is saved with no target text, for the admin to fill in. ``reason``, when given, is the history
    rows' change reason.
    """
    branch = Branch.objects.filter(code=draft.branch).first()
    if branch is None:
        raise ImportRefused(ERROR_UNKNOWN_BRANCH.format(code=draft.branch))
    kpis = {kpi.code: kpi for kpi in Kpi.objects.filter(code__in=[t.kpi for t in draft.targets if t.kpi])}
    for target in draft.targets:
        if target.kpi is not None and target.kpi not in kpis:
            raise ImportRefused(ERROR_UNKNOWN_KPI.format(code=target.kpi))
    with transaction.atomic():
        year, _ = FiscalYear.objects.get_or_create(year=draft.fiscal_year)
        if Plan.objects.filter(branch=branch, fiscal_year=year).exists():
            raise ImportRefused(ERROR_PLAN_EXISTS.format(branch=branch.name, year=year.label))
        plan = _with_reason(Plan(branch=branch, fiscal_year=year, source=draft.source[:200]), reason)
        plan.save()
        Area.sync()
        areas = {area.number: area for area in Area.objects.all()}
        counters: dict[int, int] = {}
        for order, measure in enumerate(draft.measures):
            counters[measure.area] = counters.get(measure.area, 0) + 1
            _with_reason(
                Measure(
                    plan=plan,
                    key=f"{measure.area}-{counters[measure.area]}",
                    area=areas[measure.area],
                    number=measure.number,
                    title=measure.title,
                    order=order,
                ),
                reason,
            ).save()
        for order, draft_target in enumerate(t for t in draft.targets if t.kpi is not None):
            target = KpiTarget(plan=plan, kpi=kpis[draft_target.kpi], name_as_written=draft_target.name, order=order)
            try:
                target.apply_target_text(draft_target.target_text)
                target.full_clean()
            except (TargetParseError, ValidationError) as error:
                reason = "; ".join(error.messages) if isinstance(error, ValidationError) else error.reason
                raise ImportRefused(ERROR_INVALID.format(name=draft_target.name, reason=reason)) from error
            _with_reason(target, reason).save()
    return plan


M = TypeVar("M", bound=Model)


def _with_reason(row: M, reason: str) -> M:
    if reason:
        row._change_reason = reason  # type: ignore[attr-defined]  # read by django-simple-history
    return row
