"""Data versions: bumped in the write's transaction, one scope per plan, the catalog for everything."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from plans import national_data, services, versions
from plans.models import DataVersion, KpiActual, KpiTarget, NationalAverage, Plan

pytestmark = pytest.mark.django_db


def tochigi_2023() -> Plan:
    return Plan.objects.get(branch__code="tochigi", fiscal_year_id=2023)


def test_bump_counts_up_one_scope_and_current_changes_with_it():
    plan = tochigi_2023()
    before = versions.current(2023, plan.branch_id)
    national = versions.current(2023)
    other_branch = versions.current(2023, Plan.objects.get(branch__code="gifu", fiscal_year_id=2023).branch_id)
    versions.bump(2023, plan.branch_id)
    assert versions.current(2023, plan.branch_id) != before
    assert versions.current(2023) != national  # the national pages read every branch of the year
    assert versions.current(2023, Plan.objects.get(branch__code="gifu", fiscal_year_id=2023).branch_id) == other_branch


def test_next_years_pages_depend_on_this_year_as_a_baseline():
    plan = tochigi_2023()
    national_2024 = versions.current(2024)
    national_2025 = versions.current(2025)
    versions.bump(2023, plan.branch_id)
    assert versions.current(2024) != national_2024
    assert versions.current(2025) == national_2025


def test_bump_without_arguments_changes_every_page():
    plan = tochigi_2023()
    pages = [(2023, None), (2023, plan.branch_id), (2030, 999)]
    before = [versions.current(year, branch) for year, branch in pages]
    versions.bump()
    after = [versions.current(year, branch) for year, branch in pages]
    assert all(old != new for old, new in zip(before, after, strict=True))


def test_a_rolled_back_write_leaves_the_version_as_it_was():
    plan = tochigi_2023()
    before = versions.current(2023, plan.branch_id)
    actual = KpiActual.objects.filter(target__plan=plan, period="year_end", value__isnull=False).first()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.actual_record(target=actual.target, period="year_end", month=None, value=Decimal("1.5"))
        assert versions.current(2023, plan.branch_id) != before
        raise RuntimeError("rolled back")
    assert versions.current(2023, plan.branch_id) == before


def test_the_update_path_of_actual_record_bumps_though_it_sends_no_signal():
    plan = tochigi_2023()
    actual = KpiActual.objects.filter(target__plan=plan, period="year_end", value__isnull=False).first()
    before = DataVersion.objects.get(fiscal_year=2023, branch_id=plan.branch_id).version
    _, outcome = services.actual_record(target=actual.target, period="year_end", month=None, value=Decimal("1.5"))
    assert outcome == "updated"
    assert DataVersion.objects.get(fiscal_year=2023, branch_id=plan.branch_id).version != before


def test_signals_bump_the_scope_of_each_kind_of_row():
    plan = tochigi_2023()
    target = KpiTarget.objects.filter(plan=plan).first()
    mine = versions.current(2023, plan.branch_id)
    target.note = "備考を書き換え"
    target.save()
    assert versions.current(2023, plan.branch_id) != mine
    year_wide = DataVersion.objects.filter(fiscal_year=2023, branch_id=0).values_list("version", flat=True).first() or 0
    average = NationalAverage.objects.filter(fiscal_year_id=2023).first()
    average.value += 1
    average.save()
    assert DataVersion.objects.get(fiscal_year=2023, branch_id=0).version != year_wide


def test_bump_targets_and_bump_plans_find_each_plans_scope_once():
    plan = tochigi_2023()
    before = DataVersion.objects.get(fiscal_year=2023, branch_id=plan.branch_id).version
    versions.bump_targets(KpiTarget.objects.filter(plan=plan).values_list("pk", flat=True))
    bumped = DataVersion.objects.get(fiscal_year=2023, branch_id=plan.branch_id).version
    assert bumped != before
    versions.bump_plans([])
    assert DataVersion.objects.get(fiscal_year=2023, branch_id=plan.branch_id).version == bumped


def test_generated_national_data_bumps_every_page():
    token = versions.current(2023)
    national_data.generate_national_data(first_year=2023, years=1)
    assert versions.current(2023) != token


def test_a_branch_s_scopes_by_code_are_its_scopes_by_id_in_one_query(django_assert_num_queries):
    from branches.models import Branch

    tochigi, gifu = Branch.objects.get(code="tochigi"), Branch.objects.get(code="gifu")
    versions.bump()
    versions.bump(fiscal_year=2023)
    versions.bump(fiscal_year=2023, branch_id=tochigi.pk)
    versions.bump(fiscal_year=2024, branch_id=tochigi.pk)
    versions.bump(fiscal_year=2023, branch_id=gifu.pk)
    with django_assert_num_queries(1):
        by_code = versions.scopes(2023, branch_code="tochigi")
    assert by_code == versions.scopes(2023, branch_id=tochigi.pk)
    assert {(2023, tochigi.pk), (2024, tochigi.pk), (2023, 0), (0, 0)} <= set(by_code)
    assert (2023, gifu.pk) not in by_code
    shared = set(versions.scopes(2023, branch_code="nowhere"))  # an unknown code: the shared scopes only
    assert {(0, 0), (2023, 0)} <= shared and all(branch == 0 for _year, branch in shared)


def test_a_national_pages_scopes_in_sql_are_the_orm_reads(django_assert_num_queries):
    versions.bump(2023, Plan.objects.filter(fiscal_year_id=2023).first().branch_id)
    versions.bump(2023)
    rows = DataVersion.objects.filter(fiscal_year__in=(0, 2022, 2023)).values_list(
        "fiscal_year", "branch_id", "version"
    )
    expected = {(y, b): v for y, b, v in rows}
    assert len(expected) > 2
    with django_assert_num_queries(1):
        assert versions.scopes(2023) == expected


@pytest.mark.parametrize("where", [{"branch_code": "tochigi"}, {"fiscal_year": 2023}])
def test_the_kpi_digests_kept_under_the_plain_versions_are_the_digests_read_afresh(where, django_assert_num_queries):
    """kpi_scopes keeps its digests under the page's plain versions: after every kind of write they are the digests
    read from the targets again, and with nothing written they cost the plain versions' query only."""
    kpi = "lifestyle_checkup_rate"
    target = KpiTarget.objects.select_related("plan").get(
        plan__branch__code="tochigi", plan__fiscal_year_id=2023, kpi__code=kpi
    )
    other = KpiTarget.objects.filter(plan=target.plan).exclude(pk=target.pk).first()

    def check() -> None:
        fresh = versions._kpi_scopes(kpi, **where)
        assert versions.kpi_scopes(kpi, **where) == fresh
        with django_assert_num_queries(1):  # kept: the plain versions' query only
            assert versions.kpi_scopes(kpi, **where) == fresh

    first = versions.kpi_scopes(kpi, **where)
    check()
    services.actual_record(target=other, period=KpiActual.Period.YEAR_END, month=None, value=Decimal("12.5"))
    check()
    assert versions.kpi_scopes(kpi, **where)[versions.TARGETS] == first[versions.TARGETS]  # another KPI's save
    services.actual_record(target=target, period=KpiActual.Period.YEAR_END, month=None, value=Decimal("12.5"))
    check()
    assert versions.kpi_scopes(kpi, **where)[versions.TARGETS] != first[versions.TARGETS]  # this KPI's save
    for actual in KpiActual.objects.filter(target=target):
        actual.delete()
    target.delete()  # a target gone: its id leaves the digests
    check()
    assert versions.kpi_scopes(kpi, **where)[versions.TARGETS] != first[versions.TARGETS]
