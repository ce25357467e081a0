"""Every save or delete of a model a dashboard reads bumps its data version (``plans.versions``) in the same
transaction, whichever door the write came through: the services, the entry and progress screens, the admin,
the importers, the seed. Writes that send no signal (``bulk_create``, ``QuerySet.update()``) bump explicitly."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from branches.models import Branch, Membership
from plans import versions
from plans.models import (
    Area,
    BudgetLine,
    FiscalYear,
    Kpi,
    KpiActual,
    KpiChange,
    KpiTarget,
    Measure,
    MeasureProgress,
    MonthReport,
    NationalAverage,
    Plan,
    ShortfallNote,
)

#: Changes every page may show: the catalog scope.
CATALOG_MODELS: tuple[type[Model], ...] = (Kpi, KpiChange, Area, FiscalYear, Branch, Membership)
#: Rows of one plan (``plan_id``) that a target's result, its KPI table row or its KPI pages show: every target of
#: the plan gets a new stamp.
PLAN_MODELS: tuple[type[Model], ...] = (Measure, KpiTarget)
#: Rows of one plan that no target's result, row or KPI page shows (the plan page's budget table and the month
#: workflow are read afresh on their pages): the plan's version only.
PLAN_ONLY_MODELS: tuple[type[Model], ...] = (BudgetLine, MonthReport)
#: Rows of one KPI target (``target_id``).
TARGET_MODELS: tuple[type[Model], ...] = (KpiActual, ShortfallNote)


def _catalog_changed(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    versions.bump()


def _plan_changed(sender: type[Model], instance: Plan, **kwargs: Any) -> None:
    versions.bump()  # which plans exist: the year pickers and the branch lists
    versions.bump(instance.fiscal_year_id, instance.branch_id)


def _plan_row_changed(sender: type[Model], instance: Any, **kwargs: Any) -> None:
    stamp_targets = sender not in PLAN_ONLY_MODELS
    plan = instance._state.fields_cache.get("plan")
    if plan is not None and plan.pk == instance.plan_id:
        versions.bump(plan.fiscal_year_id, plan.branch_id, stamp_targets=stamp_targets)
    else:
        _bump_plan_or_all(instance.plan_id, stamp_targets=stamp_targets)


def _target_row_changed(sender: type[Model], instance: Any, **kwargs: Any) -> None:
    """An actual or a shortfall note: its plan's scope, and a new stamp for its target only."""
    target = instance._state.fields_cache.get("target")
    plan = target._state.fields_cache.get("plan") if target is not None and target.pk == instance.target_id else None
    if plan is not None and plan.pk == target.plan_id:
        versions.bump(plan.fiscal_year_id, plan.branch_id, target_id=instance.target_id)
        return
    scope = (
        KpiTarget.objects.filter(pk=instance.target_id)
        .values_list("plan__fiscal_year_id", "plan__branch_id")
        .first()
    )
    if scope is None:  # the target is gone already (a cascade): every page
        versions.bump()
    else:
        versions.bump(*scope, target_id=instance.target_id)


def _progress_changed(sender: type[Model], instance: MeasureProgress, **kwargs: Any) -> None:
    """A measure's progress: the plan page shows it (its measure's section is keyed by the progress it shows), no
    target's result or KPI page does."""
    plan_id = Measure.objects.filter(pk=instance.measure_id).values_list("plan_id", flat=True).first()
    _bump_plan_or_all(plan_id, stamp_targets=False)


def _user_changed(sender: type[Model], instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """A user's name is shown with the figures they entered (the KPI page): a change of a user bumps the catalog,
    except the ``last_login`` Django writes at every login."""
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    versions.bump()


def _national_average_changed(sender: type[Model], instance: NationalAverage, **kwargs: Any) -> None:
    versions.bump(instance.fiscal_year_id)


def _bump_plan_or_all(plan_id: int | None, *, stamp_targets: bool = True) -> None:
    """The plan's scope; the catalog (every page) when the plan is gone already (a cascade) or unknown."""
    scope = Plan.objects.filter(pk=plan_id).values_list("fiscal_year_id", "branch_id").first() if plan_id else None
    if scope is None:
        versions.bump()
    else:
        versions.bump(*scope, stamp_targets=stamp_targets)


def connect() -> None:
    handlers: list[tuple[tuple[type[Model], ...], Any]] = [
        (CATALOG_MODELS, _catalog_changed),
        ((Plan,), _plan_changed),
        (PLAN_MODELS + PLAN_ONLY_MODELS, _plan_row_changed),
        (TARGET_MODELS, _target_row_changed),
        ((MeasureProgress,), _progress_changed),
        ((NationalAverage,), _national_average_changed),
    ]
    user_model = get_user_model()
    post_save.connect(_user_changed, sender=user_model, dispatch_uid="data_version_save_user")
    post_delete.connect(_user_changed, sender=user_model, dispatch_uid="data_version_delete_user")
    for models, handler in handlers:
        for model in models:
            for name, signal in (("save", post_save), ("delete", post_delete)):
                signal.connect(handler, sender=model, dispatch_uid=f"data_version_{name}_{model.__name__}")
