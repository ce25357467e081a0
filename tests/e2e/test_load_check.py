"""The load test's database check (bench/load/loadtest.py ``verify``): it must find a lost or unrecorded save.

Not a browser test; it lives beside the journeys because both prove the same promise end to end: nothing a user
saved is lost silently.
"""

from __future__ import annotations

import datetime
import importlib.util
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from plans.models import Kpi, KpiActual
from plans.services import actual_record
from tests.factories import FiscalYearFactory, KpiFactory, KpiTargetFactory, PlanFactory

LOADTEST = Path(__file__).resolve().parents[2] / "bench" / "load" / "loadtest.py"
JUNE = datetime.date(2025, 6, 1)


@pytest.fixture(scope="module")
def loadtest() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kpitrack_loadtest", LOADTEST)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while they are built
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def cell(db: None) -> int:
    """A count KPI saved twice through the write path: version 1 = 20, version 2 = 21 (both with history)."""
    target = KpiTargetFactory(
        plan=PlanFactory(fiscal_year=FiscalYearFactory(year=2025)), kpi=KpiFactory(kind=Kpi.Kind.COUNT)
    )
    for expected, value in ((0, 20), (1, 21)):
        actual_record(
            target=target,
            period=KpiActual.Period.MONTHLY,
            month=JUNE,
            value=Decimal(value),
            source=KpiActual.Source.MANUAL,
            user=None,
            expected_version=expected,
        )
    return target.pk


def test_it_passes_saves_that_are_all_in_the_table_and_the_history(loadtest: ModuleType, cell: int) -> None:
    acks = [loadtest.Ack(cell, "2025-06", 0, Decimal(20), "a"), loadtest.Ack(cell, "2025-06", 1, Decimal(21), "b")]
    assert loadtest.verify(acks) == []


def test_it_reports_two_saves_acknowledged_from_the_same_version_as_a_lost_update(
    loadtest: ModuleType, cell: int
) -> None:
    acks = [loadtest.Ack(cell, "2025-06", 0, Decimal(20), "a"), loadtest.Ack(cell, "2025-06", 0, Decimal(20), "b")]
    problems = loadtest.verify(acks)
    assert any(problem.startswith("lost update:") for problem in problems), problems


def test_it_reports_an_acknowledged_value_missing_from_the_table_and_the_history(
    loadtest: ModuleType, cell: int
) -> None:
    acks = [loadtest.Ack(cell, "2025-06", 1, Decimal(22), "a")]  # the server said 22 was saved as version 2
    problems = loadtest.verify(acks)
    assert any(problem.startswith("no history row:") for problem in problems), problems
    assert any(problem.startswith("lost:") for problem in problems), problems


def test_it_reports_an_acknowledged_save_newer_than_what_the_table_holds(loadtest: ModuleType, cell: int) -> None:
    problems = loadtest.verify([loadtest.Ack(cell, "2025-06", 2, Decimal(23), "a")])  # version 3 was never written
    assert any(problem.startswith("lost:") and "is not in KpiActual" in problem for problem in problems), problems


def test_it_reports_a_write_after_the_last_acknowledged_save(loadtest: ModuleType, cell: int) -> None:
    problems = loadtest.verify([loadtest.Ack(cell, "2025-06", 0, Decimal(20), "a")])  # version 2 was not acknowledged
    assert any(problem.startswith("unacknowledged write:") for problem in problems), problems
