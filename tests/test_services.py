"""actual_record: one actual and its audit history, with optimistic locking."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError

from branches.models import Branch
from plans.models import ActualRevision, Kpi, KpiActual, KpiTarget, Plan
from plans.services import CONFLICT_MESSAGE, ActualConflict, actual_record

pytestmark = pytest.mark.django_db

SEPTEMBER = datetime.date(2023, 9, 1)


@pytest.fixture
def target() -> KpiTarget:
    """A target with no actuals yet: 北海道 FY2023 生活習慣病予防健診実施率 71.7％以上."""
    plan = Plan.objects.create(branch=Branch.objects.get(code="hokkaido"), fiscal_year_id=2023)
    target = KpiTarget(plan=plan, kpi=Kpi.objects.get(code="lifestyle_checkup_rate"), target_text="71.7％以上")
    target.clean()
    target.save()
    return target


@pytest.fixture
def user() -> AbstractBaseUser:
    return get_user_model().objects.create_user(username="hokkaido-staff", password="pw")


def _record(target: KpiTarget, value: str, **kwargs):  # type: ignore[no-untyped-def]
    return actual_record(
        target=target, period=KpiActual.Period.INTERIM, month=SEPTEMBER, value=Decimal(value), **kwargs
    )


def test_it_creates_an_actual_with_a_create_revision(target: KpiTarget, user: AbstractBaseUser) -> None:
    actual, outcome = _record(target, "26.3", user=user, reason="9月分の入力")
    assert outcome == "created"
    assert actual.version == 1
    assert actual.value == Decimal("26.3")
    assert actual.entered_by == user
    assert actual.source == KpiActual.Source.MANUAL
    revision = ActualRevision.objects.get(actual=actual)
    assert revision.action == ActualRevision.Action.CREATE
    assert (revision.old_value, revision.new_value) == ("", "26.3")
    assert revision.version == 1
    assert revision.target == target
    assert (revision.period, revision.month) == (KpiActual.Period.INTERIM, SEPTEMBER)
    assert revision.changed_by == user
    assert revision.reason == "9月分の入力"


def test_it_records_a_qualitative_actual_as_text(target: KpiTarget) -> None:
    # a qualitative KPI (意見発信, target 実施): text is refused for a rate like the fixture's
    target = KpiTarget.objects.create(
        plan=target.plan, kpi=Kpi.objects.get(code="opinion_statements"), target_text="実施", rule="done"
    )
    actual, outcome = actual_record(
        target=target, period=KpiActual.Period.YEAR_END, month=None, value=None, text_value="実施"
    )
    assert outcome == "created"
    assert actual.text_value == "実施"
    assert ActualRevision.objects.get(actual=actual).new_value == "実施"


def test_it_writes_no_revision_for_an_unchanged_save(target: KpiTarget) -> None:
    first, _ = _record(target, "26.3")
    again, outcome = _record(target, "26.30", expected_version=1)
    assert outcome == "unchanged"
    assert again.pk == first.pk
    assert again.version == 1
    assert ActualRevision.objects.filter(target=target).count() == 1
    assert KpiActual.objects.filter(target=target).count() == 1


def test_it_updates_an_actual_bumping_its_version(target: KpiTarget, user: AbstractBaseUser) -> None:
    first, _ = _record(target, "26.3")
    updated, outcome = _record(target, "27.0", user=user, expected_version=1, reason="訂正")
    assert outcome == "updated"
    assert updated.pk == first.pk
    assert updated.version == 2
    stored = KpiActual.objects.get(pk=first.pk)
    assert (stored.value, stored.version, stored.entered_by) == (Decimal("27.0"), 2, user)
    revisions = ActualRevision.objects.filter(actual=first).order_by("version")
    assert [(r.action, r.old_value, r.new_value, r.version) for r in revisions] == [
        (ActualRevision.Action.CREATE, "", "26.3", 1),
        (ActualRevision.Action.UPDATE, "26.3", "27", 2),
    ]
    assert revisions[1].changed_by == user
    assert revisions[1].reason == "訂正"


def test_it_counts_a_change_of_note_only_as_an_update(target: KpiTarget) -> None:
    _record(target, "26.3")
    actual, outcome = _record(target, "26.3", note="※9月受診分まで")
    assert outcome == "updated"
    assert actual.version == 2
    revision = ActualRevision.objects.get(actual=actual, version=2)
    assert (revision.old_value, revision.new_value) == ("26.3", "26.3")


def test_it_refuses_a_stale_version_and_changes_nothing(target: KpiTarget) -> None:
    _record(target, "26.3")
    _record(target, "27.0", expected_version=1)  # someone else saved first: now version 2
    with pytest.raises(ActualConflict) as exc:
        _record(target, "28.5", expected_version=1)
    assert str(exc.value) == (
        "この実績は他の利用者が先に更新しました（版 2）。最新の値を確認してから入力し直してください。"
    )
    assert str(exc.value) == CONFLICT_MESSAGE.format(current=2)
    assert exc.value.current.version == 2
    assert exc.value.current.value == Decimal("27.0")
    stored = KpiActual.objects.get(target=target)
    assert (stored.value, stored.version) == (Decimal("27.0"), 2)
    assert ActualRevision.objects.filter(target=target).count() == 2


def test_it_refuses_a_stale_version_even_when_the_value_is_the_same(target: KpiTarget) -> None:
    _record(target, "26.3")
    _record(target, "27.0")
    with pytest.raises(ActualConflict):
        _record(target, "27.0", expected_version=1)
    assert ActualRevision.objects.filter(target=target).count() == 2


def test_it_validates_the_month_before_saving(target: KpiTarget) -> None:
    with pytest.raises(ValidationError) as exc:
        actual_record(
            target=target, period=KpiActual.Period.MONTHLY, month=datetime.date(2024, 4, 1), value=Decimal("1")
        )
    assert exc.value.message_dict["month"] == ["2024年4月は令和5年度の月ではありません。"]
    assert not KpiActual.objects.filter(target=target).exists()
    assert not ActualRevision.objects.filter(target=target).exists()


def test_it_keeps_separate_actuals_per_period_and_month(target: KpiTarget) -> None:
    _record(target, "26.3")
    _, outcome = actual_record(target=target, period=KpiActual.Period.MONTHLY, month=SEPTEMBER, value=Decimal("26.3"))
    assert outcome == "created"
    _, outcome = actual_record(target=target, period=KpiActual.Period.YEAR_END, month=None, value=Decimal("72.2"))
    assert outcome == "created"
    assert KpiActual.objects.filter(target=target).count() == 3
