"""Who may do what, for which branch.

The rules are data: ``PERMISSIONS`` says, for each permission, which roles hold it for their own branch and which
hold it for every branch. Superusers hold every permission; inactive users, anonymous users and users without a
membership hold none.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404

from branches.models import Branch, Membership

User = AbstractBaseUser | AnonymousUser
Role = Membership.Role
M = TypeVar("M", bound=Model)


class Permission(StrEnum):
    VIEW_BRANCH = "view_branch"
    ENTER_ACTUALS = "enter_actuals"
    APPROVE_MONTH = "approve_month"
    REOPEN_MONTH = "reopen_month"
    MANAGE_PLAN = "manage_plan"
    READ_ALL_BRANCHES = "read_all_branches"
    MANAGE_CATALOG = "manage_catalog"


@dataclass(frozen=True)
class Grant:
    """The roles holding a permission: ``own_branch`` for their own branch only, ``any_branch`` for every branch."""

    own_branch: frozenset[Role] = frozenset()
    any_branch: frozenset[Role] = frozenset()


PERMISSIONS: dict[Permission, Grant] = {
    Permission.VIEW_BRANCH: Grant(own_branch=frozenset({Role.STAFF, Role.MANAGER}), any_branch=frozenset({Role.HQ})),
    Permission.ENTER_ACTUALS: Grant(own_branch=frozenset({Role.STAFF, Role.MANAGER})),
    Permission.APPROVE_MONTH: Grant(own_branch=frozenset({Role.MANAGER})),
    Permission.REOPEN_MONTH: Grant(any_branch=frozenset({Role.HQ})),
    Permission.MANAGE_PLAN: Grant(own_branch=frozenset({Role.STAFF, Role.MANAGER})),
    Permission.READ_ALL_BRANCHES: Grant(any_branch=frozenset({Role.HQ})),
    # Shared lists (KPIs, areas, fiscal years, branches, memberships) are kept by headquarters.
    Permission.MANAGE_CATALOG: Grant(any_branch=frozenset({Role.HQ})),
}

VIEW_BRANCH_DENIED = "この支部のページを見る権限がありません。"
ENTER_ACTUALS_DENIED = "この支部の実績を入力する権限がありません。実績を入力できるのはその支部の担当者と管理者です。"
APPROVE_MONTH_DENIED = "この支部の月次実績を承認できるのは、その支部の管理者だけです。"
REOPEN_MONTH_DENIED = "承認済みの月を差し戻せるのは本部の利用者だけです。"
MANAGE_PLAN_DENIED = "この支部の事業計画を編集する権限がありません。編集できるのはその支部の担当者と管理者です。"
READ_ALL_BRANCHES_DENIED = "全支部のページは本部の利用者だけが見られます。"
MANAGE_CATALOG_DENIED = "KPI・分野・年度・支部・所属の一覧を変更できるのは本部の利用者だけです。"
NO_HOME_BRANCH = "所属支部が登録されていません。管理者に連絡してください。"

DENIED_MESSAGES: dict[Permission, str] = {
    Permission.VIEW_BRANCH: VIEW_BRANCH_DENIED,
    Permission.ENTER_ACTUALS: ENTER_ACTUALS_DENIED,
    Permission.APPROVE_MONTH: APPROVE_MONTH_DENIED,
    Permission.REOPEN_MONTH: REOPEN_MONTH_DENIED,
    Permission.MANAGE_PLAN: MANAGE_PLAN_DENIED,
    Permission.READ_ALL_BRANCHES: READ_ALL_BRANCHES_DENIED,
    Permission.MANAGE_CATALOG: MANAGE_CATALOG_DENIED,
}


def membership_of(user: User) -> Membership | None:
    """The membership of a signed-in, active user, or None."""
    if not user.is_authenticated or not user.is_active:
        return None
    try:
        return user.membership  # type: ignore[union-attr]
    except Membership.DoesNotExist:
        return None


def _is_active_superuser(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and getattr(user, "is_superuser", False))


def has_permission(user: User, permission: Permission, branch: Branch | None = None) -> bool:
    """Whether ``user`` holds ``permission`` for ``branch``.

    Without a branch, only what holds for every branch counts (headquarters' grants, superusers).
    """
    if _is_active_superuser(user):
        return True
    membership = membership_of(user)
    if membership is None:
        return False
    grant = PERMISSIONS[permission]
    role = Role(membership.role)
    if role in grant.any_branch:
        return True
    return (
        branch is not None
        and role in grant.own_branch
        and membership.branch_id is not None
        and membership.branch_id == branch.pk
    )


def require(user: User, permission: Permission, branch: Branch | None = None) -> None:
    """Raise ``PermissionDenied`` (403) with the permission's Japanese message unless ``user`` holds it."""
    if not has_permission(user, permission, branch):
        raise PermissionDenied(DENIED_MESSAGES[permission])


def holds_anywhere(user: User, permission: Permission) -> bool:
    """Whether ``user`` holds ``permission`` for at least one branch (their own, or every branch)."""
    return has_permission(user, permission) or has_permission(user, permission, home_branch(user))


def filter_permitted(queryset: QuerySet[M], user: User, permission: Permission, branch_path: str) -> QuerySet[M]:
    """The rows of ``queryset`` whose branch (reached by ``branch_path``, e.g. ``"plan__branch"``) ``user`` holds
    ``permission`` for: every row, the home branch's rows, or none."""
    if has_permission(user, permission):
        return queryset
    branch = home_branch(user)
    if branch is not None and has_permission(user, permission, branch):
        return queryset.filter(**{branch_path: branch.pk})
    return queryset.none()


# -- The functions the views call -------------------------------------------------------------------------------


def sees_all_branches(user: User) -> bool:
    """Headquarters (本部) users and superusers read every branch."""
    return has_permission(user, Permission.READ_ALL_BRANCHES)


def home_branch(user: User) -> Branch | None:
    membership = membership_of(user)
    return membership.branch if membership is not None else None


def can_view_branch(user: User, branch: Branch) -> bool:
    return has_permission(user, Permission.VIEW_BRANCH, branch)


def get_viewable_branch(user: User, code: str) -> Branch:
    """The branch named by ``code`` if ``user`` may read it: 404 when unknown, 403 when not theirs."""
    branch = get_object_or_404(Branch, code=code)
    require(user, Permission.VIEW_BRANCH, branch)
    return branch


def require_all_branches(user: User) -> None:
    require(user, Permission.READ_ALL_BRANCHES)
