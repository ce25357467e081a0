"""plans.planning: next year's plan with the lineage applied, target edits with conflicts, 新設・削除・変更, history."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError

from plans import planning, rules
from plans.models import FiscalYear, KpiChange, KpiTarget, Measure, Plan
from tests.factories import (
    KpiActualFactory,
    KpiFactory,
    KpiTargetFactory,
    MeasureFactory,
    PlanFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db

YEAR = 2030


@pytest.fixture
def admin() -> AbstractBaseUser:
    return UserFactory(username="plan-admin", is_superuser=True, is_staff=True)


@pytest.fixture
def plan() -> Plan:
    return PlanFactory(fiscal_year=FiscalYear.objects.get_or_create(year=YEAR)[0])


@pytest.fixture
def staff(plan: Plan) -> AbstractBaseUser:
    return member("plan-staff", branch=plan.branch, staff=True)


def change(kpi, year: int, kind: str, **kwargs) -> KpiChange:  # type: ignore[no-untyped-def]
    FiscalYear.objects.get_or_create(year=year)
    return KpiChange.objects.create(kpi=kpi, fiscal_year_id=year, change=kind, **kwargs)


# -- next year's plan ---------------------------------------------------------------------------------------------


def test_it_copies_measures_with_their_nesting_and_targets_left_to_fill(plan: Plan, admin: AbstractBaseUser) -> None:
    parent = MeasureFactory(plan=plan, key="2-1", title="健診の推進", importance_high=True)
    child = MeasureFactory(plan=plan, key="2-1-1", parent=parent, title="被扶養者の健診")
    target = KpiTargetFactory(plan=plan, measure=child, target_text="71.7%以上", precision_override=2)

    result = planning.plan_start_next_year(plan, user=admin)

    new = result.plan
    assert (new.branch, new.fiscal_year_id) == (plan.branch, YEAR + 1)
    copied_child = Measure.objects.get(plan=new, key="2-1-1")
    assert copied_child.parent == Measure.objects.get(plan=new, key="2-1", title="健診の推進", importance_high=True)
    [copy] = new.targets.all()
    assert (copy.kpi, copy.measure, copy.precision_override) == (target.kpi, copied_child, 2)
    assert (copy.target_text, copy.rule, copy.target_value) == ("", KpiTarget.RuleChoice.NONE, None)
    assert plan.targets.get().target_text == "71.7%以上"  # this year's plan is untouched


def test_it_refuses_when_next_years_plan_exists(plan: Plan, admin: AbstractBaseUser) -> None:
    KpiTargetFactory(plan=plan)
    existing = PlanFactory(branch=plan.branch, fiscal_year=FiscalYear.objects.get_or_create(year=YEAR + 1)[0])

    with pytest.raises(planning.PlanningError) as error:
        planning.plan_start_next_year(plan, user=admin)

    assert str(error.value) == planning.NEXT_PLAN_EXISTS.format(branch=plan.branch, year="令和13年度")
    assert not existing.targets.exists()


def test_it_applies_the_lineage_deleted_replaced_and_new(plan: Plan, admin: AbstractBaseUser) -> None:
    kept, deleted, old, successor, new, local_new = KpiFactory.create_batch(6)
    local_new.is_national = False
    local_new.save()
    for kpi in (kept, deleted, old):
        KpiTargetFactory(plan=plan, kpi=kpi)
    change(deleted, YEAR + 1, "deleted")
    change(successor, YEAR + 1, "replaced", replaces=old)
    change(new, YEAR + 1, "new")
    change(local_new, YEAR + 1, "new")

    result = planning.plan_start_next_year(plan, user=admin)

    assert [t.kpi for t in result.plan.targets.order_by("order")] == [kept, successor]
    assert result.dropped == [deleted]
    assert result.replaced == [(old, successor)]
    assert result.offered == [new]  # a branch's own new KPI is not offered to every branch
    assert result.plan.targets.get(kpi=successor).name_as_written == successor.name


def test_it_reads_a_replacement_from_the_catalogs_successor(plan: Plan, admin: AbstractBaseUser) -> None:
    successor = KpiFactory()
    old = KpiFactory(replaced_by=successor)
    KpiTargetFactory(plan=plan, kpi=old)
    change(successor, YEAR + 1, "replaced")

    result = planning.plan_start_next_year(plan, user=admin)

    assert [t.kpi for t in result.plan.targets.all()] == [successor]


def test_it_keeps_history_rows_with_who_and_why(plan: Plan, staff: AbstractBaseUser) -> None:
    KpiTargetFactory(plan=plan)
    result = planning.plan_start_next_year(plan, user=staff)

    [row] = result.plan.history.all()
    assert (row.history_type, row.history_user) == ("+", staff)
    assert row.history_change_reason == "令和12年度の事業計画から作成"
    [target_row] = result.copied[0].history.all()
    assert target_row.history_change_reason == "令和12年度の事業計画から作成"


def test_it_writes_nothing_when_a_copy_fails(plan: Plan, admin: AbstractBaseUser, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    KpiTargetFactory(plan=plan)

    def broken(self: KpiTarget, text: str) -> None:
        raise ValidationError("broken")

    monkeypatch.setattr(KpiTarget, "apply_target_text", broken)
    with pytest.raises(ValidationError):
        planning.plan_start_next_year(plan, user=admin)

    assert not Plan.objects.filter(branch=plan.branch, fiscal_year_id=YEAR + 1).exists()


# -- target phrases -----------------------------------------------------------------------------------------------


def test_it_updates_a_target_from_its_phrase_with_history(plan: Plan, staff: AbstractBaseUser) -> None:
    target = KpiTargetFactory(plan=plan, target_text="")

    changed = planning.target_update(target, " 65.0%以上 ", user=staff, expected_text="", reason="支部会議で決定")

    target.refresh_from_db()
    assert changed is True
    assert (target.target_text, target.rule, target.target_value) == ("65.0%以上", "fixed_min", Decimal("65.0"))
    latest = target.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (staff, "目標を変更（画面入力）: 支部会議で決定")


def test_it_refuses_a_phrase_it_cannot_read_and_changes_nothing(plan: Plan, staff: AbstractBaseUser) -> None:
    target = KpiTargetFactory(plan=plan, target_text="50%以上")

    with pytest.raises(ValidationError) as error:
        planning.target_update(target, "たくさん", user=staff, expected_text="50%以上")

    assert error.value.message_dict["target_text"][0].startswith("目標「たくさん」を読み取れません")
    target.refresh_from_db()
    assert target.target_text == "50%以上"
    assert target.history.count() == 1


def test_it_refuses_kpi_deleted_as_a_phrase(plan: Plan, staff: AbstractBaseUser) -> None:
    target = KpiTargetFactory(plan=plan, target_text="")

    with pytest.raises(ValidationError) as error:
        planning.target_update(target, "※KPIは削除", user=staff, expected_text="")

    assert error.value.message_dict["target_text"] == [
        planning.TARGET_DELETED_PHRASE.format(kpi=target.kpi.name, typed="※KPIは削除")
    ]


def test_it_refuses_a_target_changed_by_someone_else_with_both_phrases(plan: Plan, staff: AbstractBaseUser) -> None:
    target = KpiTargetFactory(plan=plan, target_text="50%以上")
    planning.target_update(target, "55%以上", user=staff, expected_text="50%以上")

    with pytest.raises(planning.TargetConflict) as error:
        planning.target_update(target, "60%以上", user=staff, expected_text="50%以上")

    assert (error.value.stored, error.value.typed) == ("55%以上", "60%以上")
    assert str(error.value) == planning.TARGET_CONFLICT.format(kpi=target.kpi.name, stored="55%以上", typed="60%以上")
    target.refresh_from_db()
    assert target.target_text == "55%以上"


def test_it_reports_a_target_removed_meanwhile(plan: Plan, staff: AbstractBaseUser) -> None:
    target = KpiTargetFactory(plan=plan, target_text="")
    KpiTarget.objects.filter(pk=target.pk).delete()

    with pytest.raises(planning.TargetConflict) as error:
        planning.target_update(target, "実施", user=staff, expected_text="")

    assert str(error.value) == planning.TARGET_GONE.format(typed="実施")


def test_it_writes_no_history_for_an_unchanged_phrase(plan: Plan, staff: AbstractBaseUser) -> None:
    target = KpiTargetFactory(plan=plan, target_text="実施")

    assert planning.target_update(target, "実施", user=staff, expected_text="実施") is False
    assert target.history.count() == 1


def test_it_refuses_a_named_year_that_is_not_last_year(plan: Plan, staff: AbstractBaseUser) -> None:
    target = KpiTargetFactory(plan=plan, target_text="")

    with pytest.raises(ValidationError) as error:
        planning.target_update(target, "令和5年度実績以上", user=staff, expected_text="")

    expected = rules.REASON_NOT_LAST_YEAR.format(named=2023, previous=YEAR - 1)
    assert expected in error.value.message_dict["target_text"][0]


# -- adding and removing KPIs, lineage -----------------------------------------------------------------------------


def test_it_adds_a_branch_kpi_and_records_new(plan: Plan, staff: AbstractBaseUser) -> None:
    kpi = KpiFactory(is_national=False)
    measure = MeasureFactory(plan=plan)

    target = planning.target_add(plan, kpi, user=staff, measure=measure, text="10件以上", record_new=True, note="※新設")

    assert (target.measure, target.rule, target.target_value) == (measure, "fixed_min", Decimal("10"))
    recorded = KpiChange.objects.get(kpi=kpi, fiscal_year_id=YEAR)
    assert (recorded.change, recorded.note) == ("new", "※新設")
    assert recorded.history.get().history_user == staff
    assert target.history.get().history_change_reason == planning.REASON_TARGET_ADD


def test_it_refuses_a_kpi_twice_and_a_measure_of_another_plan(plan: Plan, staff: AbstractBaseUser) -> None:
    target = KpiTargetFactory(plan=plan)
    with pytest.raises(planning.PlanningError) as twice:
        planning.target_add(plan, target.kpi, user=staff)
    other = MeasureFactory()
    with pytest.raises(planning.PlanningError) as elsewhere:
        planning.target_add(plan, KpiFactory(), user=staff, measure=other)

    assert str(twice.value) == planning.TARGET_EXISTS.format(kpi=target.kpi.name)
    assert str(elsewhere.value) == planning.MEASURE_NOT_IN_PLAN
    assert plan.targets.count() == 1


def test_it_leaves_national_lineage_to_the_catalogs_keepers(plan: Plan, staff: AbstractBaseUser) -> None:
    kpi = KpiFactory(is_national=True)

    with pytest.raises(planning.PlanningError) as error:
        planning.target_add(plan, kpi, user=staff, record_new=True)

    assert str(error.value) == planning.LINEAGE_NATIONAL_ONLY_HQ.format(kpi=kpi.name)
    assert not plan.targets.exists()  # all or nothing
    assert planning.may_record_lineage(member("plan-hq", hq=True), kpi, plan.branch)


def test_it_removes_a_target_recording_deleted(plan: Plan, admin: AbstractBaseUser) -> None:
    target = KpiTargetFactory(plan=plan)
    kpi = target.kpi

    planning.target_remove(target, user=admin, record_deleted=True, reason="全国で廃止")

    assert not plan.targets.exists()
    assert KpiChange.objects.get(kpi=kpi, fiscal_year_id=YEAR).change == "deleted"
    gone = KpiTarget.history.filter(id=target.pk).latest()
    assert (gone.history_type, gone.history_change_reason) == ("-", "KPIを事業計画から外す: 全国で廃止")


def test_it_refuses_to_remove_a_target_with_actuals(plan: Plan, admin: AbstractBaseUser) -> None:
    target = KpiTargetFactory(plan=plan)
    KpiActualFactory(target=target)

    with pytest.raises(planning.PlanningError) as error:
        planning.target_remove(target, user=admin, record_deleted=True)

    assert str(error.value) == planning.TARGET_HAS_ACTUALS.format(kpi=target.kpi.name, count=1)
    assert plan.targets.exists()
    assert not KpiChange.objects.filter(kpi=target.kpi).exists()


def test_it_records_a_definition_change_that_the_dashboard_reads_as_a_break(
    plan: Plan, admin: AbstractBaseUser
) -> None:
    target = KpiTargetFactory(plan=plan)

    with pytest.raises(planning.PlanningError) as no_note:
        planning.kpi_change_record(plan, target.kpi, "definition_changed", user=admin)
    planning.kpi_change_record(plan, target.kpi, "definition_changed", user=admin, note="※算出方法変更")

    assert str(no_note.value) == planning.DEFINITION_NEEDS_NOTE
    assert KpiTarget.objects.with_figures().get(pk=target.pk).baseline_breaks is True


def test_it_refuses_a_change_recorded_twice_and_a_replacement_without_its_predecessor(
    plan: Plan, admin: AbstractBaseUser
) -> None:
    kpi = KpiFactory()
    planning.kpi_change_record(plan, kpi, "new", user=admin)

    with pytest.raises(planning.PlanningError) as twice:
        planning.kpi_change_record(plan, kpi, "new", user=admin)
    with pytest.raises(planning.PlanningError) as no_predecessor:
        planning.kpi_change_record(plan, kpi, "replaced", user=admin)
    with pytest.raises(planning.PlanningError) as itself:
        planning.kpi_change_record(plan, kpi, "replaced", user=admin, replaces=kpi)

    assert str(twice.value) == planning.CHANGE_EXISTS.format(kpi=kpi.name, year="令和12年度", change="新設")
    assert str(no_predecessor.value) == planning.REPLACES_REQUIRED
    assert str(itself.value) == planning.REPLACES_ITSELF
    assert KpiChange.objects.filter(kpi=kpi).count() == 1


def test_it_records_a_replacement_with_the_previous_name(plan: Plan, admin: AbstractBaseUser) -> None:
    old, new = KpiFactory(), KpiFactory()

    recorded = planning.kpi_change_record(plan, new, "replaced", user=admin, replaces=old)

    assert (recorded.replaces, recorded.previous_name) == (old, old.name)


def test_it_offers_new_kpis_the_plan_does_not_hold(plan: Plan) -> None:
    held, offered = KpiFactory(), KpiFactory()
    KpiTargetFactory(plan=plan, kpi=held)
    change(held, YEAR, "new")
    change(offered, YEAR, "new")

    assert planning.offered_kpis(plan) == [offered]


def test_it_refuses_an_overlong_reason(plan: Plan, staff: AbstractBaseUser) -> None:
    target = KpiTargetFactory(plan=plan, target_text="")

    with pytest.raises(planning.PlanningError) as error:
        planning.target_update(target, "実施", user=staff, expected_text="", reason="あ" * 501)

    assert str(error.value) == planning.REASON_TOO_LONG.format(limit=500, length=501)



def test_it_refuses_recording_deleted_for_a_kpi_still_in_the_plan(plan: Plan, admin: AbstractBaseUser) -> None:
    target = KpiTargetFactory(plan=plan)

    with pytest.raises(planning.PlanningError) as error:
        planning.kpi_change_record(plan, target.kpi, "deleted", user=admin)

    assert str(error.value) == planning.DELETED_BUT_IN_PLAN.format(kpi=target.kpi.name)
    assert not KpiChange.objects.filter(kpi=target.kpi).exists()


def test_it_saves_a_whole_plan_all_or_nothing(plan: Plan, staff: AbstractBaseUser) -> None:
    good, bad, untouched = (KpiTargetFactory(plan=plan, target_text="") for _ in range(3))
    edits = [
        planning.TargetEdit(good, "実施", ""),
        planning.TargetEdit(bad, "たくさん", ""),
        planning.TargetEdit(untouched, "", ""),
    ]

    assert planning.targets_update(edits, user=staff) == 0

    assert [e.saved for e in edits] == [False, False, False]
    assert edits[1].error.startswith("目標「たくさん」を読み取れません") and not edits[0].refused
    good.refresh_from_db()
    assert good.target_text == ""
    assert good.history.count() == 1


def test_it_saves_every_touched_phrase_when_all_are_readable(plan: Plan, staff: AbstractBaseUser) -> None:
    first, second = (KpiTargetFactory(plan=plan, target_text="") for _ in range(2))
    edits = [planning.TargetEdit(first, "実施", ""), planning.TargetEdit(second, "毎月", "")]

    assert planning.targets_update(edits, user=staff, reason="一括入力") == 2

    assert list(plan.targets.order_by("pk").values_list("target_text", "rule")) == [
        ("実施", "done"),
        ("毎月", "frequency"),
    ]


def test_a_line_break_dropped_by_the_text_field_is_not_an_edit(plan: Plan, staff: AbstractBaseUser) -> None:
    target = KpiTargetFactory(plan=plan, target_text="71.7%\n以上")
    edit = planning.TargetEdit(target, "71.7%以上", "71.7%\r\n以上")  # as the browser sends them back

    assert edit.touched is False
    assert planning.targets_update([edit], user=staff) == 0
    assert planning.target_update(target, "72%以上", user=staff, expected_text="71.7%\r\n以上") is True


def test_it_leaves_a_branch_kpi_another_branch_holds_to_that_branch(plan: Plan, staff: AbstractBaseUser) -> None:
    kpi = KpiFactory(is_national=False)
    elsewhere = KpiTargetFactory(kpi=kpi, plan=PlanFactory(fiscal_year=plan.fiscal_year))  # another branch's KPI
    assert elsewhere.plan.branch_id != plan.branch_id

    with pytest.raises(planning.PlanningError) as error:
        planning.kpi_change_record(plan, kpi, KpiChange.Change.REPLACED, user=staff, replaces=KpiFactory())

    assert str(error.value) == planning.LINEAGE_OTHER_BRANCH.format(kpi=kpi.name)
    assert not KpiChange.objects.filter(kpi=kpi).exists()
    assert not planning.may_record_lineage(staff, kpi, plan.branch)
    assert planning.may_record_lineage(member("plan-hq2", hq=True), kpi, plan.branch)
