"""Database constraints and model behaviour of plans and branches."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from branches.models import Branch, Membership
from plans.fiscal import fiscal_year_of, reiwa_label
from plans.models import (
    BudgetLine,
    FiscalYear,
    Kpi,
    KpiActual,
    KpiTarget,
    Measure,
    NationalAverage,
    Plan,
)
from tests.factories import (
    AreaFactory,
    BranchFactory,
    KpiActualFactory,
    KpiFactory,
    KpiTargetFactory,
    MeasureFactory,
    NationalAverageFactory,
    PlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


# -- helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def plan() -> Plan:
    """A plan no seed document covers: 北海道 FY2023."""
    return PlanFactory(branch=BranchFactory(code="hokkaido"), fiscal_year__year=2023)


@pytest.fixture
def kpi() -> Kpi:
    return KpiFactory(name="生活習慣病予防健診実施率", kind=Kpi.Kind.RATE)


@pytest.fixture
def target(plan: Plan, kpi: Kpi) -> KpiTarget:
    return KpiTargetFactory(plan=plan, kpi=kpi, target_text="71.7％以上")


def _integrity_error(create: Callable[[], object]) -> str:
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        create()
    return str(exc.value)


def assert_check_violated(constraint: str, create: Callable[[], object]) -> None:
    """``create`` is refused by the database, by the check constraint named ``constraint``."""
    assert constraint in _integrity_error(create)


def assert_unique_violated(constraint: str, create: Callable[[], object]) -> None:
    """``create`` is refused by the database as a duplicate (SQLite names the columns, PostgreSQL the constraint)."""
    message = _integrity_error(create)
    if connection.vendor == "sqlite":
        assert message.startswith("UNIQUE constraint failed")
    else:
        assert constraint in message


# -- FiscalYear ------------------------------------------------------------------------------------


def test_it_labels_a_fiscal_year_in_reiwa() -> None:
    year = FiscalYear(year=2024)
    assert year.label == "令和6年度"
    assert year.display == "令和6年度 (FY2024)"
    assert str(year) == "令和6年度 (FY2024)"


def test_it_calls_2019_the_first_year_of_reiwa() -> None:
    assert FiscalYear(year=2019).label == "令和元年度"
    assert reiwa_label(2023) == "令和5年度"


def test_it_labels_years_before_reiwa_in_heisei() -> None:
    assert reiwa_label(2018) == "平成30年度"
    assert reiwa_label(2008) == "平成20年度"


def test_it_lists_the_months_of_a_fiscal_year_april_to_march() -> None:
    months = FiscalYear(year=2023).months()
    assert len(months) == 12
    assert months[0] == datetime.date(2023, 4, 1)
    assert months[8] == datetime.date(2023, 12, 1)
    assert months[9] == datetime.date(2024, 1, 1)
    assert months[-1] == datetime.date(2024, 3, 1)
    assert [m.month for m in months] == [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]


def test_it_knows_the_days_of_a_fiscal_year() -> None:
    year = FiscalYear(year=2023)
    assert year.contains(datetime.date(2023, 4, 1))
    assert year.contains(datetime.date(2024, 3, 31))
    assert not year.contains(datetime.date(2024, 4, 1))
    assert not year.contains(datetime.date(2023, 3, 31))


def test_it_puts_january_to_march_in_the_previous_fiscal_year() -> None:
    assert fiscal_year_of(datetime.date(2024, 3, 31)) == 2023
    assert fiscal_year_of(datetime.date(2024, 4, 1)) == 2024


@pytest.mark.parametrize("year", [2007, 2101])
def test_it_rejects_a_fiscal_year_out_of_range(year: int) -> None:
    assert_check_violated("fiscal_year_in_range", lambda: FiscalYear.objects.create(year=year))


@pytest.mark.parametrize("year", [2008, 2100])
def test_it_accepts_the_fiscal_year_range_bounds(year: int) -> None:
    FiscalYear.objects.create(year=year)
    assert FiscalYear.objects.filter(year=year).exists()


# -- Branch and Membership -------------------------------------------------------------------------


@pytest.mark.parametrize("jis_code", [0, 48])
def test_it_rejects_a_branch_jis_code_outside_1_to_47(jis_code: int) -> None:
    assert_check_violated(
        "branch_jis_code_1_47",
        lambda: Branch.objects.create(jis_code=jis_code, code="nowhere", name="架空", name_en="Nowhere"),
    )


@pytest.mark.parametrize("role", [Membership.Role.STAFF, Membership.Role.MANAGER])
def test_it_requires_a_branch_for_branch_staff_and_managers(role: str) -> None:
    user = UserFactory(username="member-without-branch")
    assert_check_violated(
        "membership_hq_iff_no_branch", lambda: Membership.objects.create(user=user, branch=None, role=role)
    )


def test_it_refuses_a_branch_for_a_headquarters_member() -> None:
    user = UserFactory(username="hq-with-branch")
    branch = Branch.objects.get(code="tochigi")
    assert_check_violated(
        "membership_hq_iff_no_branch",
        lambda: Membership.objects.create(user=user, branch=branch, role=Membership.Role.HQ),
    )


def test_it_lets_a_headquarters_member_work_without_a_branch() -> None:
    user = UserFactory(username="hq")
    membership = Membership.objects.create(user=user, branch=None, role=Membership.Role.HQ)
    assert membership.is_headquarters
    assert str(membership) == "hq (本部)"


def test_it_names_a_branch_manager_with_branch_and_role() -> None:
    user = UserFactory(username="tochigi-manager")
    membership = Membership.objects.create(
        user=user, branch=Branch.objects.get(code="tochigi"), role=Membership.Role.MANAGER
    )
    assert not membership.is_headquarters
    assert str(membership) == "tochigi-manager (栃木・支部管理者)"


# -- Kpi -------------------------------------------------------------------------------------------


def test_it_does_not_let_a_kpi_replace_itself(kpi: Kpi) -> None:
    kpi.replaced_by = kpi
    assert_check_violated("kpi_not_replaced_by_itself", lambda: kpi.save())


def test_it_lets_a_kpi_be_replaced_by_another() -> None:
    successor = KpiFactory()
    old = KpiFactory(replaced_by=successor)
    assert list(successor.replaces.all()) == [old]


# -- Plan ------------------------------------------------------------------------------------------


def test_it_allows_one_plan_per_branch_and_year(plan: Plan) -> None:
    assert_unique_violated(
        "one_plan_per_branch_and_year",
        lambda: Plan.objects.create(branch=plan.branch, fiscal_year_id=plan.fiscal_year_id),
    )


def test_it_names_a_plan_by_branch_and_year(plan: Plan) -> None:
    assert str(plan) == "北海道支部 令和5年度 事業計画"


# -- Measure ---------------------------------------------------------------------------------------


def _measure(plan: Plan, key: str, parent: Measure | None = None) -> Measure:
    return MeasureFactory(plan=plan, key=key, area=AreaFactory(number=1), title=f"施策{key}", parent=parent)


def test_it_keeps_a_measure_key_unique_within_a_plan(plan: Plan) -> None:
    _measure(plan, "1-1")
    assert_unique_violated("measure_key_unique_in_plan", lambda: _measure(plan, "1-1"))


def test_it_allows_the_same_measure_key_in_another_plan(plan: Plan) -> None:
    _measure(plan, "1-1")
    other = PlanFactory(branch=plan.branch, fiscal_year__year=2024)
    _measure(other, "1-1")
    same_key = Measure.objects.filter(plan__branch=plan.branch, key="1-1")
    assert sorted(same_key.values_list("plan__fiscal_year_id", flat=True)) == [2023, 2024]


def test_it_does_not_let_a_measure_be_its_own_parent(plan: Plan) -> None:
    measure = _measure(plan, "1-1")
    measure.parent = measure
    assert_check_violated("measure_not_its_own_parent", lambda: measure.save())


def test_it_allows_one_level_of_measure_nesting(plan: Plan) -> None:
    parent = _measure(plan, "1-1")
    child = Measure(plan=plan, key="1-1-1", area=parent.area, title="子", parent=parent)
    child.clean()  # no error


def test_it_rejects_a_second_level_of_measure_nesting(plan: Plan) -> None:
    parent = _measure(plan, "1-1")
    child = _measure(plan, "1-1-1", parent=parent)
    grandchild = Measure(plan=plan, key="1-1-1-1", area=parent.area, title="孫", parent=child)
    with pytest.raises(ValidationError) as exc:
        grandchild.clean()
    assert exc.value.message_dict == {"parent": ["施策の入れ子は1段までです。"]}


def test_it_rejects_a_parent_measure_of_another_plan(plan: Plan) -> None:
    other_parent = MeasureFactory()
    assert other_parent.plan != plan
    child = Measure(plan=plan, key="1-1-1", area=other_parent.area, title="子", parent=other_parent)
    with pytest.raises(ValidationError) as exc:
        child.clean()
    assert exc.value.message_dict == {"parent": ["親施策は同じ事業計画の施策を選んでください。"]}


# -- KpiTarget -------------------------------------------------------------------------------------


def test_it_allows_one_target_per_kpi_and_plan(target: KpiTarget) -> None:
    assert_unique_violated(
        "one_target_per_kpi_and_plan",
        lambda: KpiTargetFactory(plan=target.plan, kpi=target.kpi, target_text="60％以上"),
    )


@pytest.mark.parametrize("rule", ["fixed_min", "fixed_max", "exact"])
def test_it_requires_a_target_value_for_a_fixed_rule(plan: Plan, kpi: Kpi, rule: str) -> None:
    assert_check_violated(
        "target_value_only_for_fixed_rules",
        lambda: KpiTarget.objects.create(plan=plan, kpi=kpi, rule=rule, target_value=None),
    )


@pytest.mark.parametrize("rule", ["yoy_min", "yoy_max", "done", "frequency", "none"])
def test_it_allows_a_target_value_only_for_fixed_rules(plan: Plan, kpi: Kpi, rule: str) -> None:
    assert_check_violated(
        "target_value_only_for_fixed_rules",
        lambda: KpiTarget.objects.create(plan=plan, kpi=kpi, rule=rule, target_value=Decimal("1")),
    )


@pytest.mark.parametrize("rule", ["yoy_min", "yoy_max"])
def test_it_allows_a_stated_baseline_for_yoy_rules(plan: Plan, kpi: Kpi, rule: str) -> None:
    target = KpiTarget.objects.create(plan=plan, kpi=kpi, rule=rule, stated_baseline=Decimal("93.3"))
    assert target.stated_baseline == Decimal("93.3")


@pytest.mark.parametrize("rule", ["fixed_min", "exact", "done", "none"])
def test_it_allows_a_stated_baseline_only_for_yoy_rules(plan: Plan, kpi: Kpi, rule: str) -> None:
    value = Decimal("71.7") if rule in {"fixed_min", "exact"} else None
    assert_check_violated(
        "stated_baseline_only_for_yoy_rules",
        lambda: KpiTarget.objects.create(
            plan=plan, kpi=kpi, rule=rule, target_value=value, stated_baseline=Decimal("93.3")
        ),
    )


def test_it_caps_a_target_precision_override_at_4(plan: Plan, kpi: Kpi) -> None:
    assert_check_violated(
        "target_precision_at_most_4",
        lambda: KpiTarget.objects.create(plan=plan, kpi=kpi, rule="none", precision_override=5),
    )


@pytest.mark.parametrize(
    ("text", "rule", "value", "baseline"),
    [
        ("71.7％以上", "fixed_min", Decimal("71.7"), None),
        ("20％以下", "fixed_max", Decimal("20"), None),
        ("7日以内", "fixed_max", Decimal("7"), None),
        ("100％とする", "exact", Decimal("100"), None),
        ("1,330事業所以上", "fixed_min", Decimal("1330"), None),
        ("対前年度以上", "yoy_min", None, None),
        ("対前年度以下", "yoy_max", None, None),
        ("対前年度(93.3%)以上", "yoy_min", None, Decimal("93.3")),
        ("前年度（0.087％）以上", "yoy_min", None, Decimal("0.087")),
        ("実施", "done", None, None),
        ("毎月", "frequency", None, None),
        ("関係機関への働きかけ", "done", None, None),
        ("設定なし", "none", None, None),
        ("", "none", None, None),
    ],
)
def test_it_sets_the_rule_from_the_target_text_on_clean(
    plan: Plan, kpi: Kpi, text: str, rule: str, value: Decimal | None, baseline: Decimal | None
) -> None:
    target = KpiTarget(plan=plan, kpi=kpi, target_text=text, rule="none", target_value=Decimal("99"))
    target.clean()
    assert (target.rule, target.target_value, target.stated_baseline) == (rule, value, baseline)
    target.save()  # the database agrees with what clean() set
    assert KpiTarget.objects.get(pk=target.pk).rule == rule


def test_it_rejects_an_unreadable_target_text_on_clean(plan: Plan, kpi: Kpi) -> None:
    target = KpiTarget(plan=plan, kpi=kpi, target_text="がんばる")
    with pytest.raises(ValidationError) as exc:
        target.clean()
    assert exc.value.message_dict == {
        "target_text": [
            "目標「がんばる」を読み取れません: 以上・以下・以内・とする・対前年度・実施・毎月のいずれの形でもありません"
        ]
    }


def test_it_rejects_two_targets_in_one_text_on_clean(plan: Plan, kpi: Kpi) -> None:
    target = KpiTarget(plan=plan, kpi=kpi, target_text="・72.2%以上・委嘱事業所数対前年度以上")
    with pytest.raises(ValidationError) as exc:
        target.clean()
    assert exc.value.message_dict == {
        "target_text": ["目標「・72.2%以上・委嘱事業所数対前年度以上」を読み取れません: 複数の目標が書かれています"]
    }


def test_it_uses_the_plans_precision_override_before_the_kpis(target: KpiTarget) -> None:
    assert target.precision == 1
    target.precision_override = 2
    assert target.precision == 2


# -- KpiActual -------------------------------------------------------------------------------------


def _actual(target: KpiTarget, **fields: object) -> KpiActual:
    return KpiActualFactory(target=target, **{"value": Decimal("72.2"), **fields})


def test_it_allows_one_year_end_actual_per_target(target: KpiTarget) -> None:
    _actual(target)
    assert_unique_violated("one_year_end_actual_per_target", lambda: _actual(target, value=Decimal("70.0")))


def test_it_allows_one_actual_per_target_period_and_month(target: KpiTarget) -> None:
    _actual(target, period="interim", month=datetime.date(2023, 9, 1), value=Decimal("30.1"))
    assert_unique_violated(
        "one_actual_per_target_period_month",
        lambda: _actual(target, period="interim", month=datetime.date(2023, 9, 1), value=Decimal("30.2")),
    )


def test_it_allows_a_monthly_and_an_interim_actual_for_the_same_month(target: KpiTarget) -> None:
    _actual(target, period="interim", month=datetime.date(2023, 9, 1), value=Decimal("30.1"))
    _actual(target, period="monthly", month=datetime.date(2023, 9, 1), value=Decimal("30.1"))
    assert target.actuals.count() == 2


@pytest.mark.parametrize("period", ["monthly", "interim"])
def test_it_requires_a_month_unless_year_end(target: KpiTarget, period: str) -> None:
    assert_check_violated("actual_month_set_unless_year_end", lambda: _actual(target, period=period, month=None))


def test_it_forbids_a_month_on_the_year_end_actual(target: KpiTarget) -> None:
    assert_check_violated(
        "actual_month_set_unless_year_end", lambda: _actual(target, period="year_end", month=datetime.date(2024, 3, 1))
    )


def test_it_requires_an_actual_to_have_a_value_or_text(target: KpiTarget) -> None:
    assert_check_violated("actual_has_a_value", lambda: _actual(target, value=None, text_value=""))


def test_it_accepts_a_qualitative_actual_as_text(target: KpiTarget) -> None:
    actual = _actual(target, value=None, text_value="実施")
    assert actual.display_value == "実施"
    assert actual.judged_value == "実施"


@pytest.mark.parametrize("denominator", [Decimal("0"), Decimal("-1")])
def test_it_requires_a_positive_denominator(target: KpiTarget, denominator: Decimal) -> None:
    assert_check_violated(
        "actual_denominator_positive", lambda: _actual(target, numerator=Decimal("1"), denominator=denominator)
    )


def test_it_rejects_a_negative_numerator(target: KpiTarget) -> None:
    assert_check_violated(
        "actual_numerator_not_negative", lambda: _actual(target, numerator=Decimal("-1"), denominator=Decimal("10"))
    )


def test_it_requires_the_month_to_be_the_first_of_the_month(target: KpiTarget) -> None:
    assert_check_violated(
        "actual_month_first_day", lambda: _actual(target, period="monthly", month=datetime.date(2023, 5, 15))
    )


def test_it_rejects_a_month_outside_the_plans_fiscal_year_on_clean(target: KpiTarget) -> None:
    actual = KpiActual(target=target, period="monthly", month=datetime.date(2024, 4, 1), value=Decimal("1.2"))
    with pytest.raises(ValidationError) as exc:
        actual.clean()
    assert exc.value.message_dict == {"month": ["2024年4月は令和5年度の月ではありません。"]}


def test_it_rejects_the_march_before_the_fiscal_year_on_clean(target: KpiTarget) -> None:
    actual = KpiActual(target=target, period="interim", month=datetime.date(2023, 3, 1), value=Decimal("1.2"))
    with pytest.raises(ValidationError) as exc:
        actual.clean()
    assert exc.value.message_dict == {"month": ["2023年3月は令和5年度の月ではありません。"]}


def test_it_accepts_march_at_the_end_of_the_fiscal_year_on_clean(target: KpiTarget) -> None:
    KpiActual(target=target, period="monthly", month=datetime.date(2024, 3, 1), value=Decimal("72.0")).clean()


def test_it_rejects_a_rate_numerator_above_its_denominator_on_clean(target: KpiTarget) -> None:
    actual = KpiActual(
        target=target, period="year_end", value=Decimal("72.2"), numerator=Decimal("300"), denominator=Decimal("200")
    )
    with pytest.raises(ValidationError) as exc:
        actual.clean()
    assert exc.value.message_dict == {
        "numerator": ["分子（300）が分母（200）より大きくなっています。率の分子は分母以下です。"]
    }


# -- KpiActual: full_clean gives Japanese messages beside the field ------------------------------------


@pytest.fixture
def count_target(plan: Plan) -> KpiTarget:
    return KpiTarget.objects.create(
        plan=plan,
        kpi=Kpi.objects.get(code="health_declaration_offices"),
        target_text="1330事業所以上",
        rule="fixed_min",
        target_value=Decimal("1330"),
    )


def _messages(actual: KpiActual) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        actual.full_clean()
    return exc.value.message_dict


def test_it_names_the_month_field_for_a_month_not_on_the_first(target: KpiTarget) -> None:
    actual = KpiActual(target=target, period="monthly", month=datetime.date(2023, 5, 15), value=Decimal("30.1"))
    assert _messages(actual) == {"month": ["対象月は月の1日の日付で入力してください（入力: 2023-05-15）。"]}


def test_it_names_the_value_field_for_a_rate_above_100(target: KpiTarget) -> None:
    actual = KpiActual(target=target, period="year_end", value=Decimal("722"))
    assert _messages(actual) == {"value": ["実績値は0〜100（％）の範囲で入力してください（入力: 722）。"]}


def test_it_names_the_value_field_for_a_negative_count(count_target: KpiTarget) -> None:
    actual = KpiActual(target=count_target, period="year_end", value=Decimal("-5"))
    assert _messages(actual) == {"value": ["実績値に負の数は入力できません（入力: -5）。"]}


def test_it_names_the_value_field_for_a_fractional_count(count_target: KpiTarget) -> None:
    actual = KpiActual(target=count_target, period="year_end", value=Decimal("1529.5"))
    assert _messages(actual) == {"value": ["実績値は件数なので整数で入力してください（入力: 1529.5）。"]}


def test_it_names_the_numerator_for_a_rate_numerator_above_its_denominator(target: KpiTarget) -> None:
    actual = KpiActual(
        target=target, period="year_end", value=Decimal("72.2"), numerator=Decimal("300"), denominator=Decimal("200")
    )
    assert _messages(actual) == {
        "numerator": ["分子（300）が分母（200）より大きくなっています。率の分子は分母以下です。"]
    }


def test_it_names_the_value_field_when_a_rate_disagrees_with_its_counts(target: KpiTarget) -> None:
    actual = KpiActual(
        target=target,
        period="year_end",
        value=Decimal("73.2"),
        numerator=Decimal("163860"),
        denominator=Decimal("226946"),
    )
    assert _messages(actual) == {
        "value": [
            "実績値 73.2 が 分子÷分母×100 = 72.2022 と合いません"
            "（小数点以下1桁に四捨五入または切り捨てすると 72.2 です）。"
        ]
    }


def test_it_names_the_text_field_for_a_figure_typed_as_text(target: KpiTarget) -> None:
    actual = KpiActual(target=target, period="year_end", value=None, text_value="72.2%")
    assert _messages(actual) == {
        "text_value": ["「72.2%」は数値です。実績（定性）ではなく実績値に、数値だけ（72.2）を入力してください。"]
    }


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (Decimal("1"), Decimal("0"), {"denominator": ["分母に0は入力できません。"]}),
        (Decimal("-1"), Decimal("10"), {"numerator": ["分子に負の数は入力できません（入力: -1）。"]}),
        (Decimal("1"), Decimal("-10"), {"denominator": ["分母に負の数は入力できません（入力: -10）。"]}),
    ],
)
def test_it_names_the_field_for_a_bad_numerator_or_denominator(
    count_target: KpiTarget, numerator: Decimal, denominator: Decimal, expected: dict[str, list[str]]
) -> None:
    actual = KpiActual(
        target=count_target, period="year_end", value=Decimal("10"), numerator=numerator, denominator=denominator
    )
    assert _messages(actual) == expected


def test_it_says_in_japanese_that_an_actual_needs_a_value(target: KpiTarget) -> None:
    actual = KpiActual(target=target, period="year_end", value=None, text_value="")
    assert _messages(actual) == {"__all__": ["実績値か実績（定性）のどちらかを入力してください。"]}


def test_it_says_in_japanese_that_a_year_end_actual_has_no_month(target: KpiTarget) -> None:
    actual = KpiActual(target=target, period="year_end", month=datetime.date(2024, 3, 1), value=Decimal("72.2"))
    assert _messages(actual) == {"__all__": ["対象月は、年度末実績では空欄にし、月次・中途実績では入力してください。"]}


def test_it_says_in_japanese_that_the_year_end_actual_exists_already(target: KpiTarget) -> None:
    _actual(target)
    actual = KpiActual(target=target, period="year_end", value=Decimal("70.0"))
    # a unique constraint on one field is reported beside that field
    assert _messages(actual) == {"target": ["このKPI目標の年度末実績はすでに登録されています。"]}


def test_it_says_in_japanese_that_the_months_actual_exists_already(target: KpiTarget) -> None:
    _actual(target, period="interim", month=datetime.date(2023, 9, 1), value=Decimal("30.1"))
    actual = KpiActual(target=target, period="interim", month=datetime.date(2023, 9, 1), value=Decimal("30.2"))
    assert _messages(actual) == {"__all__": ["このKPI目標のこの区分・対象月の実績はすでに登録されています。"]}


def test_it_accepts_the_seeds_rate_with_its_counts_on_full_clean(target: KpiTarget) -> None:
    KpiActual(
        target=target,
        period="year_end",
        value=Decimal("72.2"),
        numerator=Decimal("163860"),
        denominator=Decimal("226946"),
    ).full_clean()


def test_it_gives_every_plans_constraint_a_japanese_message() -> None:
    from django.apps import apps

    for model in apps.get_app_config("plans").get_models():
        for constraint in model._meta.constraints:
            message = constraint.get_violation_error_message()
            assert constraint.name not in message, constraint.name
            assert message.endswith("。"), constraint.name
            assert any("\u3040" <= ch <= "\u9fff" for ch in message), constraint.name


def test_it_shows_an_actual_with_its_month(target: KpiTarget) -> None:
    actual = _actual(target, period="interim", month=datetime.date(2023, 9, 1), value=Decimal("26.3000"))
    assert actual.display_value == "26.3"
    assert str(actual) == "生活習慣病予防健診実施率 2023年9月: 26.3"
    assert str(_actual(target, value=Decimal("100"))) == "生活習慣病予防健診実施率 年度末: 100"


# -- NationalAverage -------------------------------------------------------------------------------


def test_it_allows_one_year_end_national_average_per_kpi_and_year(kpi: Kpi) -> None:
    NationalAverageFactory(kpi=kpi, fiscal_year__year=2023, value=Decimal("57.7"))
    assert_unique_violated(
        "one_year_end_national_average",
        lambda: NationalAverage.objects.create(kpi=kpi, fiscal_year_id=2023, as_of=None, value=Decimal("50")),
    )


def test_it_allows_one_national_average_per_kpi_and_month(kpi: Kpi) -> None:
    month = datetime.date(2023, 9, 1)
    NationalAverageFactory(kpi=kpi, fiscal_year__year=2023, as_of=month, value=Decimal("30.0"))
    NationalAverageFactory(kpi=kpi, fiscal_year__year=2023, as_of=datetime.date(2023, 10, 1), value=Decimal("35"))
    assert_unique_violated(
        "one_national_average_per_month",
        lambda: NationalAverage.objects.create(kpi=kpi, fiscal_year_id=2023, as_of=month, value=Decimal("31.0")),
    )


# -- BudgetLine ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("budget", "spent", "rate"),
    [
        ("1910000", "1644044", Decimal("86.1")),
        ("5000000", "5511000", Decimal("110.2")),  # spending above budget
        ("555000", "273900", Decimal("49.4")),  # 49.35… rounds half up
        ("135000", "0", Decimal("0.0")),
        ("0", "0", None),  # no budget: no rate
        ("1000", None, None),  # nothing spent yet recorded: no rate
    ],
)
def test_it_computes_the_execution_rate(plan: Plan, budget: str, spent: str | None, rate: Decimal | None) -> None:
    line = BudgetLine(
        plan=plan, programme="事業", budget_amount=Decimal(budget), spent_amount=Decimal(spent) if spent else None
    )
    assert line.execution_rate == rate


def test_it_rejects_a_negative_budget(plan: Plan) -> None:
    assert_check_violated(
        "budget_not_negative",
        lambda: BudgetLine.objects.create(plan=plan, programme="事業", budget_amount=Decimal("-1")),
    )


def test_it_rejects_negative_spending(plan: Plan) -> None:
    assert_check_violated(
        "spent_not_negative",
        lambda: BudgetLine.objects.create(
            plan=plan, programme="事業", budget_amount=Decimal("1"), spent_amount=Decimal("-1")
        ),
    )


def test_it_allows_one_budget_line_per_programme(plan: Plan) -> None:
    BudgetLine.objects.create(plan=plan, category="健診経費", programme="事業", budget_amount=Decimal("1"))
    assert_unique_violated(
        "one_budget_line_per_programme",
        lambda: BudgetLine.objects.create(plan=plan, category="健診経費", programme="事業", budget_amount=Decimal("2")),
    )


def test_it_rejects_nesting_a_measure_that_has_children(plan: Plan) -> None:
    top = _measure(plan, "1-1")
    middle = _measure(plan, "1-2")
    _measure(plan, "1-2-1", parent=middle)
    middle.parent = top
    with pytest.raises(ValidationError) as exc:
        middle.clean()
    assert exc.value.message_dict == {"parent": ["施策の入れ子は1段までです。"]}
