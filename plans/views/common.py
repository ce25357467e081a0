"""What every page of a branch's plan starts with: the plan, checked for the user."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_noop

from branches import access
from plans import fiscal
from plans.models import Plan

# Reasons for 403/404, raised as the Japanese msgid: the error page translates them (kpitrack/errors.py).
CANNOT_VIEW_BRANCH = gettext_noop("この支部のページを見る権限がありません。")
NO_PLAN = "{branch}の{year}の事業計画はありません。"


def plan_or_404(user: access.User, code: str, year: int) -> Plan:
    """Branch ``code``'s plan for fiscal year ``year`` if ``user`` may read it (view_branch).

    404 for an unknown branch or a year without a plan, 403 for another branch's plan; one query when the
    plan exists and may be read.
    """
    plan = Plan.objects.select_related("branch", "fiscal_year").filter(branch__code=code, fiscal_year_id=year).first()
    if plan is None:
        branch = access.get_viewable_branch(user, code)  # 404 unknown branch, 403 someone else's
        raise Http404(NO_PLAN.format(branch=branch, year=fiscal.reiwa_label(year)))
    if not access.can_view_branch(user, plan.branch):
        raise PermissionDenied(CANNOT_VIEW_BRANCH)
    return plan
