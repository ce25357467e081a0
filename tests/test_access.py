"""branches.access: who may do what for the Tochigi branch, one test per persona × permission."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.http import Http404

from branches import access
from branches.access import DENIED_MESSAGES, PERMISSIONS, Permission
from branches.models import Branch, Membership
from plans.models import Plan

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = ("admin", "hq", "tochigi", "kagoshima", "tokyo", "gifu", "tochigi-manager")

P = Permission
PERSONAS: dict[str, Callable[[], AbstractBaseUser | AnonymousUser]] = {}


def persona(name: str) -> Callable[[Callable[[], AbstractBaseUser | AnonymousUser]], None]:
    def register(make: Callable[[], AbstractBaseUser | AnonymousUser]) -> None:
        PERSONAS[name] = make

    return register


def _member(username: str, branch_code: str | None, role: str, **flags: bool) -> AbstractBaseUser:
    user = get_user_model().objects.create_user(username=username, password="pw", **flags)
    branch = Branch.objects.get(code=branch_code) if branch_code else None
    Membership.objects.create(user=user, branch=branch, role=role)
    return user


persona("own_staff")(lambda: _member("tochigi-staff", "tochigi", Membership.Role.STAFF))
persona("own_manager")(lambda: _member("tochigi-manager", "tochigi", Membership.Role.MANAGER))
persona("other_staff")(lambda: _member("gifu-staff", "gifu", Membership.Role.STAFF))
persona("other_manager")(lambda: _member("gifu-manager", "gifu", Membership.Role.MANAGER))
persona("hq")(lambda: _member("hq", None, Membership.Role.HQ))
persona("superuser")(lambda: get_user_model().objects.create_superuser(username="root", password="pw"))
persona("anonymous")(AnonymousUser)
persona("no_membership")(lambda: get_user_model().objects.create_user(username="nobody", password="pw"))
persona("inactive_manager")(
    lambda: _member("retired-manager", "tochigi", Membership.Role.MANAGER, is_active=False)
)
persona("inactive_hq")(lambda: _member("retired-hq", None, Membership.Role.HQ, is_active=False))
persona("inactive_superuser")(
    lambda: get_user_model().objects.create_superuser(username="old-root", password="pw", is_active=False)
)

# What each persona may do for the Tochigi branch (branch-wide permissions are asked without a branch too).
ALLOWED: dict[str, set[Permission]] = {
    "own_staff": {P.VIEW_BRANCH, P.ENTER_ACTUALS, P.MANAGE_PLAN},
    "own_manager": {P.VIEW_BRANCH, P.ENTER_ACTUALS, P.APPROVE_MONTH, P.MANAGE_PLAN},
    "other_staff": set(),
    "other_manager": set(),
    "hq": {P.VIEW_BRANCH, P.REOPEN_MONTH, P.READ_ALL_BRANCHES, P.MANAGE_CATALOG},
    "superuser": set(Permission),
    "anonymous": set(),
    "no_membership": set(),
    "inactive_manager": set(),
    "inactive_hq": set(),
    "inactive_superuser": set(),
}
CASES = [(name, permission, permission in ALLOWED[name]) for name in PERSONAS for permission in Permission]


@pytest.mark.parametrize(("name", "permission", "allowed"), CASES, ids=[f"{n}-{p}" for n, p, _ in CASES])
def test_it_grants_each_persona_exactly_its_permissions_for_the_branch(
    name: str, permission: Permission, allowed: bool
) -> None:
    user = PERSONAS[name]()
    tochigi = Branch.objects.get(code="tochigi")
    assert access.has_permission(user, permission, tochigi) is allowed
    if allowed:
        access.require(user, permission, tochigi)
    else:
        with pytest.raises(PermissionDenied) as exc:
            access.require(user, permission, tochigi)
        assert str(exc.value) == DENIED_MESSAGES[permission]


def test_it_lists_every_persona_and_permission_in_the_table() -> None:
    assert set(ALLOWED) == set(PERSONAS)
    assert set(PERMISSIONS) == set(Permission) == set(DENIED_MESSAGES)


@pytest.mark.parametrize(
    ("name", "permission", "allowed"),
    [
        ("own_manager", P.APPROVE_MONTH, False),  # a branch permission needs the branch
        ("own_staff", P.VIEW_BRANCH, False),
        ("hq", P.VIEW_BRANCH, True),  # headquarters views every branch
        ("hq", P.REOPEN_MONTH, True),
        ("superuser", P.ENTER_ACTUALS, True),
    ],
)
def test_it_counts_only_every_branch_grants_when_no_branch_is_given(
    name: str, permission: Permission, allowed: bool
) -> None:
    assert access.has_permission(PERSONAS[name](), permission) is allowed


@pytest.mark.parametrize(
    ("permission", "message"),
    [
        (P.VIEW_BRANCH, "この支部のページを見る権限がありません。"),
        (
            P.ENTER_ACTUALS,
            "この支部の実績を入力する権限がありません。実績を入力できるのはその支部の担当者と管理者です。",
        ),
        (P.APPROVE_MONTH, "この支部の月次実績を承認できるのは、その支部の管理者だけです。"),
        (P.REOPEN_MONTH, "承認済みの月を差し戻せるのは本部の利用者だけです。"),
        (P.MANAGE_PLAN, "この支部の事業計画を編集する権限がありません。編集できるのはその支部の担当者と管理者です。"),
        (P.READ_ALL_BRANCHES, "全支部のページは本部の利用者だけが見られます。"),
        (P.MANAGE_CATALOG, "KPI・分野・年度・支部・所属の一覧を変更できるのは本部の利用者だけです。"),
    ],
)
def test_it_refuses_with_a_japanese_message_per_permission(permission: Permission, message: str) -> None:
    with pytest.raises(PermissionDenied) as exc:
        access.require(AnonymousUser(), permission, Branch.objects.get(code="tochigi"))
    assert str(exc.value) == message


# -- The functions the views call -----------------------------------------------------------------------------


def test_it_gives_a_404_for_an_unknown_branch_and_a_403_for_another_branch() -> None:
    user = PERSONAS["own_staff"]()
    assert access.get_viewable_branch(user, "tochigi").code == "tochigi"
    with pytest.raises(Http404):
        access.get_viewable_branch(user, "atlantis")
    with pytest.raises(PermissionDenied) as exc:
        access.get_viewable_branch(user, "gifu")
    assert str(exc.value) == "この支部のページを見る権限がありません。"


@pytest.mark.parametrize(("name", "sees_all"), [("hq", True), ("superuser", True), ("own_manager", False)])
def test_it_lets_only_headquarters_and_superusers_read_all_branches(name: str, sees_all: bool) -> None:
    user = PERSONAS[name]()
    assert access.sees_all_branches(user) is sees_all
    if sees_all:
        access.require_all_branches(user)
    else:
        with pytest.raises(PermissionDenied, match="全支部のページは本部の利用者だけが見られます。"):
            access.require_all_branches(user)


def test_it_reports_the_home_branch_of_a_member_only() -> None:
    assert access.home_branch(PERSONAS["own_manager"]()) == Branch.objects.get(code="tochigi")
    assert access.home_branch(PERSONAS["hq"]()) is None
    assert access.home_branch(AnonymousUser()) is None
    assert access.membership_of(PERSONAS["inactive_manager"]()) is None


@pytest.mark.parametrize(
    ("name", "branches"),
    [
        ("own_staff", {"tochigi"}),
        ("other_manager", {"gifu"}),
        ("hq", {"tochigi", "gifu", "tokyo", "kagoshima"}),
        ("superuser", {"tochigi", "gifu", "tokyo", "kagoshima"}),
        ("no_membership", set()),
        ("anonymous", set()),
    ],
)
def test_it_filters_rows_to_the_branches_a_user_may_view(name: str, branches: set[str]) -> None:
    plans = access.filter_permitted(Plan.objects.all(), PERSONAS[name](), P.VIEW_BRANCH, "branch")
    assert set(plans.values_list("branch__code", flat=True)) == branches


def test_it_filters_to_nothing_when_the_role_lacks_the_permission_for_its_branch() -> None:
    plans = access.filter_permitted(Plan.objects.all(), PERSONAS["hq"](), P.ENTER_ACTUALS, "branch")
    assert not plans.exists()


# -- Demo users ------------------------------------------------------------------------------------------------


def test_it_loads_a_demo_login_for_every_role_idempotently() -> None:
    call_command("load_demo_users", stdout=StringIO())
    call_command("load_demo_users", stdout=StringIO())
    users = {u.username: u for u in get_user_model().objects.filter(username__in=DEMO_USERNAMES)}
    assert set(users) == set(DEMO_USERNAMES)
    members = {name: u.membership for name, u in users.items() if name != "admin"}
    roles = {name: (m.role, m.branch.code if m.branch else None) for name, m in members.items()}
    assert roles == {
        "hq": ("hq", None),
        "tochigi": ("staff", "tochigi"),
        "kagoshima": ("staff", "kagoshima"),
        "tokyo": ("staff", "tokyo"),
        "gifu": ("staff", "gifu"),
        "tochigi-manager": ("manager", "tochigi"),
    }
    assert users["admin"].is_superuser and users["admin"].check_password("kpitrack-admin")
    assert all(users[name].check_password("kpitrack-demo") for name in roles)
    tochigi = Branch.objects.get(code="tochigi")
    assert access.has_permission(users["tochigi-manager"], P.APPROVE_MONTH, tochigi)
    assert not access.has_permission(users["tochigi"], P.APPROVE_MONTH, tochigi)
    assert access.has_permission(users["hq"], P.REOPEN_MONTH, tochigi)
