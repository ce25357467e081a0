"""The test setup itself: the session-wide seed is there, and so is a working Django configuration."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from plans.models import Plan

pytestmark = pytest.mark.django_db


def test_it_loads_the_four_seed_branches_plans_for_every_test() -> None:
    years = {
        code: sorted(Plan.objects.filter(branch__code=code).values_list("fiscal_year_id", flat=True))
        for code in ("tochigi", "kagoshima", "tokyo", "gifu")
    }
    assert years == {
        "tochigi": [2021, 2022, 2023, 2024],
        "kagoshima": [2023, 2024, 2025],
        "tokyo": [2024],
        "gifu": [2023, 2024],
    }
    assert Plan.objects.count() == 10


def test_it_passes_the_django_system_checks() -> None:
    out = StringIO()
    call_command("check", fail_level="WARNING", stdout=out)
    assert "no issues" in out.getvalue()
