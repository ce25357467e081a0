"""Who may see and change what: branch staff their own branch, headquarters every branch."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from branches.models import Branch, Membership

User = AbstractBaseUser | AnonymousUser


def membership_of(user: User) -> Membership | None:
    if not user.is_authenticated:
        return None
    try:
        return user.membership  # type: ignore[union-attr]
    except Membership.DoesNotExist:
        return None


def sees_all_branches(user: User) -> bool:
    """Headquarters (本部) users and superusers read every branch."""
    if not user.is_authenticated:
        return False
    if getattr(user, "is_superuser", False):
        return True
    membership = membership_of(user)
    return membership is not None and membership.is_headquarters


def home_branch(user: User) -> Branch | None:
    membership = membership_of(user)
    return membership.branch if membership is not None else None


def can_view_branch(user: User, branch: Branch) -> bool:
    if sees_all_branches(user):
        return True
    membership = membership_of(user)
    return membership is not None and membership.branch_id == branch.pk


def can_edit_branch(user: User, branch: Branch) -> bool:
    """Only the branch's own people (and superusers) enter its actuals and progress."""
    if getattr(user, "is_superuser", False):
        return True
    membership = membership_of(user)
    return membership is not None and membership.branch_id == branch.pk


def get_viewable_branch(user: User, code: str) -> Branch:
    """The branch named by ``code`` if ``user`` may read it: 404 when unknown, 403 when not theirs."""
    branch = get_object_or_404(Branch, code=code)
    if not can_view_branch(user, branch):
        raise PermissionDenied("この支部のページを見る権限がありません。")
    return branch


def require_all_branches(user: User) -> None:
    if not sees_all_branches(user):
        raise PermissionDenied("全支部のページは本部の利用者だけが見られます。")
