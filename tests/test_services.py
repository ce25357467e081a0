"""actual_record: one actual and its audit history (django-simple-history), with optimistic locking."""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from branches.models import Branch
from plans import services
from plans.history import actual_changes
from plans.models import Kpi, KpiActual, KpiTarget, MonthReport, Plan
from plans.services import CONFLICT_MESSAGE, DELETED_CONFLICT_MESSAGE, ActualConflict, actual_delete, actual_record

SEPTEMBER = datetime.date(2023, 9, 1)


@pytest.fixture
def target(db: None) -> KpiTarget:
    """A target with no actuals yet: 北海道 FY2023 生活習慣病予防健診実施率 71.7％以上."""
    plan = Plan.objects.create(branch=Branch.objects.get(code="hokkaido"), fiscal_year_id=2023)
    target = KpiTarget(plan=plan, kpi=Kpi.objects.get(code="lifestyle_checkup_rate"), target_text="71.7％以上")
    target.clean()
    target.save()
    return target


@pytest.fixture
def user(db: None) -> AbstractBaseUser:
    return get_user_model().objects.create_user(username="hokkaido-staff", password="pw")


def _history(target: KpiTarget) -> Any:
    """The target's actuals' history rows, oldest first."""
    return KpiActual.history.filter(target_id=target.pk).order_by("history_id")  # type: ignore[attr-defined]


def _record(target: KpiTarget, value: str, **kwargs):  # type: ignore[no-untyped-def]
    return actual_record(
        target=target, period=KpiActual.Period.INTERIM, month=SEPTEMBER, value=Decimal(value), **kwargs
    )


def test_it_creates_an_actual_with_a_create_history_row(target: KpiTarget, user: AbstractBaseUser) -> None:
    actual, outcome = _record(target, "26.3", user=user, reason="9月分の入力")
    assert outcome == "created"
    assert actual.version == 1
    assert actual.value == Decimal("26.3")
    assert actual.entered_by == user
    assert actual.source == KpiActual.Source.MANUAL
    revision = _history(target).get(id=actual.pk)
    assert revision.history_type == "+"
    assert [(c.old, c.new) for c in actual_changes(target)] == [("", "26.3")]
    assert revision.version == 1
    assert revision.target_id == target.pk
    assert (revision.period, revision.month) == (KpiActual.Period.INTERIM, SEPTEMBER)
    assert revision.history_user == user
    assert revision.history_change_reason == "9月分の入力"


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
    assert _history(target).get(id=actual.pk).text_value == "実施"
    assert [c.new for c in actual_changes(target)] == ["実施"]


def test_it_writes_no_history_row_for_an_unchanged_save(target: KpiTarget) -> None:
    first, _ = _record(target, "26.3")
    again, outcome = _record(target, "26.30", expected_version=1)
    assert outcome == "unchanged"
    assert again.pk == first.pk
    assert again.version == 1
    assert _history(target).count() == 1
    assert KpiActual.objects.filter(target=target).count() == 1


def test_it_updates_an_actual_bumping_its_version(target: KpiTarget, user: AbstractBaseUser) -> None:
    first, _ = _record(target, "26.3")
    updated, outcome = _record(target, "27.0", user=user, expected_version=1, reason="訂正")
    assert outcome == "updated"
    assert updated.pk == first.pk
    assert updated.version == 2
    stored = KpiActual.objects.get(pk=first.pk)
    assert (stored.value, stored.version, stored.entered_by) == (Decimal("27.0"), 2, user)
    revisions = list(_history(target).filter(id=first.pk))
    assert [(r.history_type, r.version) for r in revisions] == [("+", 1), ("~", 2)]
    assert [(c.change, c.old, c.new) for c in actual_changes(target)] == [("+", "", "26.3"), ("~", "26.3", "27")]
    assert revisions[1].history_user == user
    assert revisions[1].history_change_reason == "訂正"
    assert [c.field for c in revisions[1].diff_against(revisions[0], included_fields=["value"]).changes] == ["value"]


def test_it_counts_a_change_of_note_only_as_an_update(target: KpiTarget) -> None:
    _record(target, "26.3")
    actual, outcome = _record(target, "26.3", note="※9月受診分まで")
    assert outcome == "updated"
    assert actual.version == 2
    assert _history(target).filter(id=actual.pk, version=2).count() == 1
    change = actual_changes(target)[1]
    assert (change.old, change.new) == ("26.3", "26.3")
    assert change.details == ("注記: － → ※9月受診分まで",)


def test_it_refuses_a_stale_version_and_changes_nothing(target: KpiTarget) -> None:
    _record(target, "26.3")
    _record(target, "27.0", expected_version=1)  # someone else saved first: now version 2
    with pytest.raises(ActualConflict) as exc:
        _record(target, "28.5", expected_version=1)
    assert str(exc.value) == (
        "この実績は他の利用者が先に更新しました（版 2）。保存されている値は「27」、入力された値は「28.5」です。"
        "入力された値は保存していません。最新の値を確認してから入力し直してください。"
    )
    assert str(exc.value) == CONFLICT_MESSAGE.format(current=2, stored="27", typed="28.5")
    assert exc.value.current.version == 2
    assert exc.value.current.value == Decimal("27.0")
    stored = KpiActual.objects.get(target=target)
    assert (stored.value, stored.version) == (Decimal("27.0"), 2)
    assert _history(target).count() == 2


def test_it_refuses_a_stale_version_even_when_the_value_is_the_same(target: KpiTarget) -> None:
    _record(target, "26.3")
    _record(target, "27.0")
    with pytest.raises(ActualConflict):
        _record(target, "27.0", expected_version=1)
    assert _history(target).count() == 2


def test_it_validates_the_month_before_saving(target: KpiTarget) -> None:
    with pytest.raises(ValidationError) as exc:
        actual_record(
            target=target, period=KpiActual.Period.MONTHLY, month=datetime.date(2024, 4, 1), value=Decimal("1")
        )
    assert exc.value.message_dict["month"] == ["2024年4月は令和5年度の月ではありません。"]
    assert not KpiActual.objects.filter(target=target).exists()
    assert not _history(target).exists()


def test_it_keeps_separate_actuals_per_period_and_month(target: KpiTarget) -> None:
    _record(target, "26.3")
    _, outcome = actual_record(target=target, period=KpiActual.Period.MONTHLY, month=SEPTEMBER, value=Decimal("26.3"))
    assert outcome == "created"
    _, outcome = actual_record(target=target, period=KpiActual.Period.YEAR_END, month=None, value=Decimal("72.2"))
    assert outcome == "created"
    assert KpiActual.objects.filter(target=target).count() == 3


# -- Conflicts ---------------------------------------------------------------------------------------------------


def test_it_refuses_version_0_when_the_cell_already_has_an_actual(target: KpiTarget) -> None:
    _record(target, "26.3")
    with pytest.raises(ActualConflict) as exc:
        _record(target, "30.1", expected_version=0)
    assert exc.value.current.value == Decimal("26.3")
    assert exc.value.typed == "30.1"
    assert "保存されている値は「26.3」、入力された値は「30.1」" in str(exc.value)
    assert KpiActual.objects.get(target=target).value == Decimal("26.3")
    assert _history(target).count() == 1


def test_it_creates_an_actual_when_version_0_finds_an_empty_cell(target: KpiTarget) -> None:
    actual, outcome = _record(target, "26.3", expected_version=0)
    assert (outcome, actual.version) == ("created", 1)


def test_it_refuses_to_recreate_an_actual_someone_deleted_since_the_form_was_opened(target: KpiTarget) -> None:
    actual, _ = _record(target, "26.3")
    actual_delete(actual=actual, user=None, reason="誤入力")
    with pytest.raises(ActualConflict) as exc:
        _record(target, "27.0", expected_version=1)
    assert str(exc.value) == DELETED_CONFLICT_MESSAGE.format(typed="27")
    assert exc.value.current is None
    assert not KpiActual.objects.filter(target=target).exists()


def test_it_turns_a_lost_insert_race_into_a_conflict_showing_the_winner(
    target: KpiTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row appears between our read and our insert: the unique constraint fires, nothing of ours is kept."""
    winner, _ = _record(target, "26.3")
    reads = iter([None])
    original = services._locked
    monkeypatch.setattr(services, "_locked", lambda *args: next(reads, None) or original(*args))
    with pytest.raises(ActualConflict) as exc:
        _record(target, "31.0", expected_version=0)
    assert exc.value.current.pk == winner.pk
    assert exc.value.current.value == Decimal("26.3")
    assert KpiActual.objects.get(target=target).value == Decimal("26.3")
    assert _history(target).count() == 1


def test_it_updates_the_winner_when_a_lost_insert_race_had_no_version_to_check(
    target: KpiTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record(target, "26.3")
    reads = iter([None])
    original = services._locked
    monkeypatch.setattr(services, "_locked", lambda *args: next(reads, None) or original(*args))
    actual, outcome = _record(target, "31.0")  # the seed loader's upsert: no check
    assert (outcome, actual.value, actual.version) == ("updated", Decimal("31.0"), 2)


def test_it_refuses_an_update_when_the_version_changed_after_the_read(
    target: KpiTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The conditional UPDATE is the last line of defence: a save slipping in after our read is a conflict."""
    first, _ = _record(target, "26.3")
    original = services._locked

    def read_then_someone_saves(*args):  # type: ignore[no-untyped-def]
        row = original(*args)
        KpiActual.objects.filter(pk=first.pk).update(value=Decimal("40"), version=2)
        return row

    monkeypatch.setattr(services, "_locked", read_then_someone_saves)
    with pytest.raises(ActualConflict) as exc:
        _record(target, "27.0", expected_version=1)
    assert (exc.value.current.value, exc.value.current.version) == (Decimal("40"), 2)
    assert _history(target).count() == 1


# -- Deleting ----------------------------------------------------------------------------------------------------


def test_it_deletes_an_actual_keeping_its_value_in_a_delete_history_row(
    target: KpiTarget, user: AbstractBaseUser
) -> None:
    actual, _ = _record(target, "26.3")
    _record(target, "27.0", expected_version=1)
    assert actual_delete(actual=actual, user=user, reason="二重登録") is True
    assert not KpiActual.objects.filter(pk=actual.pk).exists()
    revision = _history(target).get(history_type="-")
    assert (revision.value, revision.version) == (Decimal("27.0"), 3)
    assert (actual_changes(target)[-1].old, actual_changes(target)[-1].new) == ("27", "")
    assert (revision.period, revision.month, revision.history_user, revision.history_change_reason) == (
        KpiActual.Period.INTERIM,
        SEPTEMBER,
        user,
        "二重登録",
    )
    assert _history(target).count() == 3  # create, update, delete: history kept


def test_it_refuses_to_delete_an_actual_changed_since_it_was_shown(target: KpiTarget) -> None:
    actual, _ = _record(target, "26.3")
    _record(target, "27.0")
    with pytest.raises(ActualConflict):
        actual_delete(actual=actual, user=None, reason="", expected_version=1)
    assert KpiActual.objects.filter(pk=actual.pk).exists()
    assert not _history(target).filter(history_type="-").exists()


def test_it_refuses_to_delete_with_a_version_an_actual_someone_deleted_first(target: KpiTarget) -> None:
    actual, _ = _record(target, "26.3")
    actual_delete(actual=actual, user=None, reason="")
    with pytest.raises(ActualConflict) as exc:
        actual_delete(actual=actual, user=None, reason="", expected_version=1)
    assert str(exc.value) == "この実績は他の利用者が先に削除しました。最新の状態を確認してください。"


def test_it_does_nothing_when_deleting_an_actual_already_gone(target: KpiTarget) -> None:
    actual, _ = _record(target, "26.3")
    actual_delete(actual=actual, user=None, reason="")
    assert actual_delete(actual=actual, user=None, reason="") is False
    assert _history(target).filter(history_type="-").count() == 1


# -- Real concurrency: committed data, two threads, two connections --------------------------------------------


@pytest.fixture
def committed_target(django_db_blocker: Any) -> Iterator[KpiTarget]:
    """A target committed outside any test transaction (threads use their own connections), removed afterwards.

    These tests are not marked for the database (a test transaction would hide the data from the threads, and a
    transactional test would flush the session's seed): they use the test database the earlier tests of this
    module set up, and skip when it is not there (e.g. when selected alone with -k).
    """
    name, test_name = str(connection.settings_dict["NAME"]), connection.settings_dict["TEST"].get("NAME")
    if not (name == test_name if test_name else name.startswith("test_")):
        pytest.skip("the test database was not set up: run these tests together with the rest of test_services.py")
    with django_db_blocker.unblock():
        plan = Plan.objects.create(branch=Branch.objects.get(code="okinawa"), fiscal_year_id=2023)
        target = KpiTarget(plan=plan, kpi=Kpi.objects.get(code="lifestyle_checkup_rate"), target_text="71.7％以上")
        target.clean()
        target.save()
        try:
            yield target
        finally:
            _history(target).delete()
            KpiActual.objects.filter(target=target).delete()
            target.delete()
            plan.delete()


def _race(target: KpiTarget, values: list[str], expected_version: int) -> list[str | BaseException]:
    """Run actual_record for each value in its own thread, all at once; returns each outcome or exception."""
    barrier = threading.Barrier(len(values))
    results: list[str | BaseException] = [""] * len(values)

    def save(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            _, results[i] = _record(target, values[i], expected_version=expected_version)
        except BaseException as exc:  # noqa: BLE001 - the test inspects every exception
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(i,)) for i in range(len(values))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _slow_reads(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Widen the window between reading the row and writing it, so both threads read before either writes."""
    original = services._locked

    def slow(*args):  # type: ignore[no-untyped-def]
        row = original(*args)
        time.sleep(seconds)
        return row

    monkeypatch.setattr(services, "_locked", slow)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite locking")
def test_it_reports_a_concurrent_save_on_sqlite_as_a_conflict_never_database_is_locked(
    committed_target: KpiTarget, django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with django_db_blocker.unblock():
        _record(committed_target, "26.3")
        _slow_reads(monkeypatch, 0.2)
        results = _race(committed_target, ["27.0", "28.0"], expected_version=1)
        assert not [r for r in results if isinstance(r, OperationalError)], results
        assert sorted(type(r).__name__ if isinstance(r, BaseException) else r for r in results) == [
            "ActualConflict",
            "updated",
        ]
        stored = KpiActual.objects.get(target=committed_target)
        assert stored.version == 2
        winner = "27.0" if results[0] == "updated" else "28.0"
        assert stored.value == Decimal(winner)
        assert _history(committed_target).count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="runs when DATABASE_URL points at PostgreSQL")
def test_it_reports_a_create_create_race_on_postgresql_as_a_conflict_showing_the_winner(
    committed_target: KpiTarget, django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    both_read = threading.Barrier(2)
    original = services._validate_new

    def after_both_read(actual: KpiActual) -> None:
        both_read.wait(timeout=10)  # both threads found the cell empty; now both insert
        original(actual)

    monkeypatch.setattr(services, "_validate_new", after_both_read)
    with django_db_blocker.unblock():
        results = _race(committed_target, ["27.0", "28.0"], expected_version=0)
        conflicts = [r for r in results if isinstance(r, ActualConflict)]
        assert sorted(type(r).__name__ if isinstance(r, BaseException) else r for r in results) == [
            "ActualConflict",
            "created",
        ], results
        stored = KpiActual.objects.get(target=committed_target)
        assert conflicts[0].current.pk == stored.pk
        assert conflicts[0].current.value == stored.value
        assert _history(committed_target).count() == 1


# -- the check constraints judged in Python (services.PYTHON_CHECKS) ---------------------------------------------

FIGURE_CASES = [
    {"value": Decimal("50"), "numerator": Decimal("5"), "denominator": Decimal("10")},
    {"value": None, "text_value": ""},
    {"value": None, "text_value": "実施"},
    {"value": Decimal("50"), "numerator": Decimal("5"), "denominator": Decimal("0")},
    {"value": Decimal("50"), "numerator": Decimal("-1"), "denominator": Decimal("10")},
    {"value": None, "numerator": Decimal("-1"), "denominator": Decimal("-3")},
    {"value": "abc", "numerator": Decimal("-1"), "denominator": Decimal("0")},
    {"value": Decimal("50"), "numerator": "x", "denominator": Decimal("0")},
]


def _errors(check: Any) -> dict[str, list[tuple[str, str | None]]] | None:
    try:
        check()
    except ValidationError as exc:
        return {name: [(e.messages[0], e.code) for e in errors] for name, errors in exc.error_dict.items()}
    return None


@pytest.mark.parametrize("figures", FIGURE_CASES)
@pytest.mark.parametrize("exclude", [services.UNCHANGED_BY_UPDATE, ("entered_by",), ()])
@pytest.mark.parametrize("with_target", [True, False])
def test_the_figures_checks_in_python_give_the_errors_the_database_checks_give(
    target: KpiTarget, figures: dict[str, Any], exclude: tuple[str, ...], with_target: bool
) -> None:
    """Without a target, ``clean()`` checks no figure: the constraints alone refuse them."""

    def actual() -> KpiActual:
        owner = {"target": target} if with_target else {}
        return KpiActual(period=KpiActual.Period.INTERIM, month=SEPTEMBER, **owner, **figures)

    expected = _errors(lambda: actual().full_clean(exclude=exclude))
    assert _errors(lambda: services._full_clean(actual(), exclude)) == expected


def test_the_figures_checks_in_python_refuse_what_the_database_refuses(target: KpiTarget) -> None:
    for figures in (FIGURE_CASES[i] for i in (1, 3, 4, 5)):  # no figure, a 0 denominator, a negative numerator
        assert _errors(lambda f=figures: services._full_clean(KpiActual(**f), services.UNCHANGED_BY_UPDATE))


ROW_CASES = [
    {"period": KpiActual.Period.INTERIM, "month": SEPTEMBER, "value": Decimal("50")},
    {"period": KpiActual.Period.INTERIM, "month": None, "value": Decimal("50")},
    {"period": KpiActual.Period.YEAR_END, "month": SEPTEMBER, "value": Decimal("50")},
    {"period": KpiActual.Period.YEAR_END, "month": None, "value": Decimal("50")},
    {"period": KpiActual.Period.MONTHLY, "month": datetime.date(2023, 9, 2), "value": None},
    {"period": KpiActual.Period.MONTHLY, "month": datetime.date(2023, 9, 2), "denominator": Decimal("0")},
]


def _validated_as_new_by_django(actual: KpiActual) -> None:
    actual.full_clean(validate_unique=False, validate_constraints=False)
    actual.validate_constraints(exclude={"target"})


@pytest.mark.parametrize(
    "row", ROW_CASES + [{"period": KpiActual.Period.MONTHLY, "month": SEPTEMBER, **f} for f in FIGURE_CASES]
)
@pytest.mark.parametrize("with_target", [True, False])
def test_a_new_actual_is_refused_with_the_errors_the_database_checks_give(
    target: KpiTarget, row: dict[str, Any], with_target: bool
) -> None:
    def actual() -> KpiActual:
        return KpiActual(**({"target": target} if with_target else {}), **row)

    assert _errors(lambda: services._validate_new(actual())) == _errors(lambda: _validated_as_new_by_django(actual()))


def test_the_row_checks_in_python_refuse_what_the_database_refuses() -> None:
    for row in (ROW_CASES[i] for i in (1, 2, 4, 5)):  # no month, a year-end month, not the 1st, no figure
        assert services._constraint_errors(KpiActual(**row), {"target"})


def test_a_new_actual_is_checked_without_a_query(target: KpiTarget) -> None:
    with CaptureQueriesContext(connection) as queries:
        _record(target, "50")
    assert not any('"_check"' in q["sql"] for q in queries)


def test_each_check_in_python_is_a_check_constraint_of_the_actual() -> None:
    names = {c.name for c in KpiActual._meta.constraints}
    assert set(services.PYTHON_CHECKS) <= names


def test_an_update_checks_the_figures_constraints_without_a_query(
    target: KpiTarget, django_assert_num_queries: Any
) -> None:
    _record(target, "50")
    with CaptureQueriesContext(connection) as queries:
        _record(target, "51", expected_version=1)
    assert not any('"_check"' in q["sql"] for q in queries)
    with pytest.raises(ValidationError) as refused:
        actual_record(
            target=target,
            period=KpiActual.Period.INTERIM,
            month=SEPTEMBER,
            value=Decimal("50"),
            numerator=Decimal("5"),
            denominator=Decimal("0"),
            expected_version=2,
        )
    assert refused.value.message_dict == {"denominator": ["分母に0は入力できません。"]}  # clean()'s, as before
    assert KpiActual.objects.get(target=target).value == Decimal("51")


def test_the_locked_reads_find_the_cell_and_its_months_report(target: KpiTarget) -> None:
    interim, _ = _record(target, "50")
    year_end, _ = actual_record(target=target, period=KpiActual.Period.YEAR_END, month=None, value=Decimal("60"))
    report = MonthReport.objects.create(plan=target.plan, month=SEPTEMBER)
    with transaction.atomic():
        assert services._locked(target, KpiActual.Period.INTERIM, SEPTEMBER) == interim
        assert services._locked(target, KpiActual.Period.YEAR_END, None) == year_end
        assert services._locked(target, KpiActual.Period.MONTHLY, SEPTEMBER) is None
        assert services._month_report(target.plan_id, KpiActual.Period.INTERIM, SEPTEMBER) == report
        assert services._month_report(target.plan_id, KpiActual.Period.YEAR_END, None) is None
        found = services._locked(target, KpiActual.Period.INTERIM, SEPTEMBER)
        assert found is not None and found.value == Decimal("50") and found.version == interim.version


def test_an_update_writes_every_changed_field_as_the_returned_actual_holds_it(
    target: KpiTarget, user: AbstractBaseUser
) -> None:
    _record(target, "50", numerator=Decimal("5"), denominator=Decimal("10"))
    actual, outcome = _record(
        target,
        "33.3333",
        numerator=Decimal("1"),
        denominator=Decimal("3"),
        note="訂正",
        source=KpiActual.Source.IMPORT,
        user=user,
        expected_version=1,
    )
    assert outcome == "updated"
    stored = KpiActual.objects.get(pk=actual.pk)
    names = ("value", "numerator", "denominator", "note", "version", "source", "entered_by_id", "entered_at")
    assert {n: getattr(stored, n) for n in names} == {n: getattr(actual, n) for n in names}
    assert stored.value == Decimal("33.3333") and stored.version == 2 and stored.entered_by_id == user.pk
    _record(target, "40", expected_version=2)  # by nobody: the user is cleared
    assert KpiActual.objects.get(pk=actual.pk).entered_by_id is None
