"""Input the databases would treat differently is refused by the month screen before it reaches them: an over-long
要因・対応 (SQLite would store any length, PostgreSQL's varchar columns would fail) and a figure too large for its
column (SQLite would store it rounded as a float, PostgreSQL would raise "numeric field overflow"). Each gets a
Japanese message and changes nothing. The suite runs on SQLite; bash scripts/test-postgres.sh runs the same tests on
PostgreSQL, where the boundary values must also come back exactly."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from plans import entry, figures
from plans.models import Kpi, KpiActual, KpiTarget, Plan, ShortfallNote
from tests.conftest import client_for
from tests.factories import FiscalYearFactory, KpiFactory, KpiTargetFactory, PlanFactory

pytestmark = pytest.mark.django_db

YEAR = 2025
JUNE = datetime.date(2025, 6, 1)
URL = f"/branches/tochigi/{YEAR}/entry/2025-06/"


@pytest.fixture
def plan(tochigi) -> Plan:
    return PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=YEAR))


@pytest.fixture
def count(plan) -> KpiTarget:
    return KpiTargetFactory(plan=plan, kpi=KpiFactory(kind=Kpi.Kind.COUNT), target_text="100件以上", order=1)


@pytest.fixture
def rate(plan) -> KpiTarget:
    return KpiTargetFactory(plan=plan, kpi=KpiFactory(kind=Kpi.Kind.RATE), order=2)


def form(plan: Plan, **cells: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for row in entry.month_sheet(plan, JUNE).rows:
        data[f"{row.prefix}-version"] = str(row.version)
        for name, value in row.typed.items():
            data[f"{row.prefix}-{name}"] = value
    data.update(cells)
    return data


def post(user, plan: Plan, **cells: str):
    return client_for(user).post(URL, form(plan, **cells))


def test_an_over_long_shortfall_note_is_refused_with_a_japanese_message(tochigi_staff, plan, count):
    limit = entry.NOTE_MAX
    cells = {f"t{count.pk}-value": "10", f"t{count.pk}-cause": "遅" * (limit + 1), f"t{count.pk}-action": "再勧奨"}
    response = post(tochigi_staff, plan, **cells)
    assert response.status_code == 200
    assert entry.NOTE_TOO_LONG.format(limit=limit) in response.content.decode()
    assert not ShortfallNote.objects.filter(target=count).exists()
    assert not KpiActual.objects.filter(target=count, month=JUNE).exists()


def test_a_shortfall_note_of_exactly_the_limit_is_kept_whole(tochigi_staff, plan, count):
    limit = entry.NOTE_MAX
    cause, action = "遅" * limit, "策" * limit
    cells = {f"t{count.pk}-value": "10", f"t{count.pk}-cause": cause, f"t{count.pk}-action": action}
    assert post(tochigi_staff, plan, **cells).status_code == 302
    note = ShortfallNote.objects.get(target=count, month=JUNE)
    assert (note.cause, note.action) == (cause, action)


@pytest.mark.parametrize("typed", ["1234567890123", "1,234,567,890,123", "99999999999999999999"])
def test_a_number_too_large_for_the_column_is_refused_with_a_japanese_message(tochigi_staff, plan, count, typed):
    response = post(tochigi_staff, plan, **{f"t{count.pk}-value": typed})
    assert response.status_code == 200
    assert figures.TOO_MANY_DIGITS.format(digits=12, text=typed) in response.content.decode()
    assert not KpiActual.objects.filter(target=count, month=JUNE).exists()


def test_a_numerator_too_large_for_its_column_is_refused(tochigi_staff, plan, rate):
    typed = "123456789012345"
    response = post(tochigi_staff, plan, **{f"t{rate.pk}-numerator": typed, f"t{rate.pk}-denominator": "5"})
    assert response.status_code == 200
    assert figures.TOO_MANY_DIGITS.format(digits=14, text=typed) in response.content.decode()
    assert not KpiActual.objects.filter(target=rate, month=JUNE).exists()


def test_the_largest_number_the_column_holds_is_saved_and_read_back_exactly(tochigi_staff, plan, count):
    assert post(tochigi_staff, plan, **{f"t{count.pk}-value": "999999999999"}).status_code == 302
    assert KpiActual.objects.get(target=count, month=JUNE).value == Decimal("999999999999")
