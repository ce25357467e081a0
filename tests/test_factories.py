"""The factories build valid, consistent rows and never collide with the seed."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from branches.models import Branch, Membership
from plans.models import KpiActual, Plan
from tests.factories import (
    BranchFactory,
    KpiActualFactory,
    KpiFactory,
    KpiTargetFactory,
    MembershipFactory,
    PlanFactory,
    member,
    recorded_actual,
)

pytestmark = pytest.mark.django_db


def test_it_reuses_the_prefecture_row_for_a_branch() -> None:
    assert BranchFactory(code="gifu") == Branch.objects.get(code="gifu")
    assert Branch.objects.count() == 47


def test_it_gives_a_new_plan_a_branch_without_a_plan_that_year() -> None:
    first, second = PlanFactory(), PlanFactory()
    assert (first.branch.code, second.branch.code) == ("hokkaido", "aomori")
    assert Plan.objects.filter(fiscal_year_id=2023, branch__code="tochigi").count() == 1


@pytest.mark.parametrize(
    ("text", "rule", "value", "baseline"),
    [
        ("50.0%以上", "fixed_min", Decimal("50.0"), None),
        ("対前年度(93.3%)以上", "yoy_min", None, Decimal("93.3")),
        ("実施", "done", None, None),
    ],
)
def test_it_reads_a_targets_rule_from_its_text(text, rule, value, baseline) -> None:
    target = KpiTargetFactory(target_text=text)
    target.refresh_from_db()
    assert (target.rule, target.target_value, target.stated_baseline) == (rule, value, baseline)


@pytest.mark.parametrize("kind", ["rate", "count", "amount", "days", "qualitative", "frequency"])
def test_it_gives_each_kpi_kind_a_target_its_rule_reads(kind) -> None:
    target = KpiTargetFactory(kpi=KpiFactory(kind=kind))
    assert target.rule != "none"
    assert target.measure.plan == target.plan


def test_it_refuses_a_rule_that_does_not_come_from_the_text() -> None:
    with pytest.raises(TypeError, match="target_value"):
        KpiTargetFactory(target_text="50.0%以上", target_value=Decimal("60"))


def test_it_dates_monthly_and_interim_actuals_within_the_plans_year() -> None:
    target = KpiTargetFactory(plan=PlanFactory(fiscal_year__year=2024))
    assert KpiActualFactory(target=target, monthly=True).month == datetime.date(2024, 4, 1)
    assert KpiActualFactory(target=target, interim=True).month == datetime.date(2024, 9, 1)
    assert KpiActualFactory(target=target).month is None


def test_it_records_an_actual_with_its_history() -> None:
    target = KpiTargetFactory()
    recorded_actual(target, value=Decimal("55.0"))
    actual = recorded_actual(target, value=Decimal("56.0"))
    assert actual.version == 2
    history = KpiActual.history.filter(target_id=target.pk).order_by("-history_id")  # type: ignore[attr-defined]
    assert list(history.values_list("history_type", flat=True)) == ["~", "+"]
    assert KpiActual.objects.filter(target=target).count() == 1


def test_it_builds_staff_manager_and_headquarters_members() -> None:
    tochigi = Branch.objects.get(code="tochigi")
    staff = MembershipFactory(branch=tochigi)
    manager = MembershipFactory(branch=tochigi, manager=True)
    hq = MembershipFactory(hq=True)
    assert (staff.role, manager.role) == (Membership.Role.STAFF, Membership.Role.MANAGER)
    assert hq.branch is None and hq.role == Membership.Role.HQ
    assert member("someone", branch=tochigi).membership.branch == tochigi
