"""What every page of a branch's plan starts with: the plan, checked for the user."""

from __future__ import annotations

from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_noop

from branches import access
from branches.models import Branch
from plans import fiscal, selectors, versions
from plans.models import Plan

# Reasons for 403/404, raised as the Japanese msgid: the error page translates them (kpitrack/errors.py).
CANNOT_VIEW_BRANCH = gettext_noop("この支部のページを見る権限がありません。")
NO_PLAN = "{branch}の{year}の事業計画はありません。"
#: Django's cache the plans are kept in (settings.CACHES).
CACHE = "default"


def plan_or_404(user: access.User, code: str, year: int, scopes: versions.Scopes | None = None) -> Plan:
    """Branch ``code``'s plan for fiscal year ``year`` if ``user`` may read it (view_branch).

    404 for an unknown branch or a year without a plan, 403 for another branch's plan; one query when the
    plan exists and may be read. With ``scopes`` (the data versions the page read) the plan, its branch and its
    year are kept in the cache under the catalog's version: every write of them (and a plan created or deleted)
    bumps it (``plans.signals``); the permission is checked on every request.
    """
    plan = _plan(code, year, scopes)
    if plan is None:
        branch = access.get_viewable_branch(user, code)  # 404 unknown branch, 403 someone else's
        raise Http404(NO_PLAN.format(branch=branch, year=fiscal.reiwa_label(year)))
    if not access.can_view_branch(user, plan.branch):
        raise PermissionDenied(CANNOT_VIEW_BRANCH)
    return plan


def _plan(code: str, year: int, scopes: versions.Scopes | None) -> Plan | None:
    def read() -> Plan | None:
        return (
            Plan.objects.select_related("branch", "fiscal_year").filter(branch__code=code, fiscal_year_id=year).first()
        )

    if scopes is None:
        return read()
    key = f"plan:{versions.RELEASE}:{code}:{year}:{scopes.get(versions.CATALOG, 0)}"
    store = caches[CACHE]
    plan: Plan | None = store.get(key)
    if plan is None:
        plan = read()
        if plan is not None:
            store.set(key, plan, timeout=None)
    return plan


def plan_years(branch: Branch, scopes: versions.Scopes | None) -> list[int]:
    """``selectors.plan_years(branch)``, kept in the cache under the catalog's version with ``scopes`` (which plans
    exist is the catalog's)."""
    if scopes is None:
        return selectors.plan_years(branch)
    key = f"plan-years:{versions.RELEASE}:{branch.pk}:{scopes.get(versions.CATALOG, 0)}"
    store = caches[CACHE]
    years: list[int] | None = store.get(key)
    if years is None:
        years = selectors.plan_years(branch)
        store.set(key, years, timeout=None)
    return years
