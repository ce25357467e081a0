"""Template filters of the plan edit links: ``{% load plan_edit %}{% if user|can_manage_plan:branch %}``."""

from __future__ import annotations

from django import template

from branches import access
from branches.models import Branch

register = template.Library()


@register.filter
def can_manage_plan(user: access.User, branch: Branch) -> bool:
    """Whether ``user`` may edit ``branch``'s plans (its staff and manager, superusers)."""
    return access.has_permission(user, access.Permission.MANAGE_PLAN, branch)
