"""Each KPI target's result kept under its own stamp (issue 12): which writes stamp which targets, that a
dashboard after a save computes only the target it touched, and that a cached result is never other than the
one computed from scratch."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from branches.models import Branch
from plans import selectors, services, versions
from plans.models import FiscalYear, KpiActual, KpiTarget, Measure, Plan
from plans.results import export_row
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

KPI = "lifestyle_checkup_rate"
DASHBOARD = "/branches/tochigi/2023/"


def plan() -> Plan:
    return Plan.objects.select_related("branch").get(branch__code="tochigi", fiscal_year_id=2023)


def stamps(of: Plan | None = None) -> dict[int, int]:
    return dict(KpiTarget.objects.filter(plan=of or plan()).values_list("pk", "data_version"))


def target(code: str = KPI) -> KpiTarget:
    return KpiTarget.objects.select_related("plan", "kpi").get(
        plan__branch__code="tochigi", plan__fiscal_year_id=2023, kpi__code=code
    )


def year_end(of: KpiTarget) -> KpiActual:
    return KpiActual.objects.get(target=of, period=KpiActual.Period.YEAR_END)


def changed(before: dict[int, int], after: dict[int, int]) -> set[int]:
    return {pk for pk, stamp in after.items() if before.get(pk) != stamp}


# -- which writes stamp which targets -----------------------------------------------------------------


def test_saving_an_actual_stamps_its_target_only() -> None:
    saved = target()
    before = stamps()
    services.actual_record(target=saved, period=KpiActual.Period.YEAR_END, month=None, value=Decimal("41.0"))
    assert changed(before, stamps()) == {saved.pk}


def test_saving_an_actual_through_the_admin_or_a_model_save_stamps_its_target_only() -> None:
    saved = target()
    before = stamps()
    actual = year_end(saved)
    actual.value = Decimal("42.0")
    actual.save()
    assert changed(before, stamps()) == {saved.pk}
    actual.delete()
    assert changed(before, stamps()) == {saved.pk}


def test_a_bulk_write_of_actuals_stamps_the_targets_it_wrote_and_bumps_their_plans() -> None:
    first, second = KpiTarget.objects.filter(plan=plan()).order_by("pk")[:2]
    before, version = stamps(), versions.current(2023, plan().branch_id)
    versions.bump_targets([first.pk, second.pk])
    assert changed(before, stamps()) == {first.pk, second.pk}
    assert versions.current(2023, plan().branch_id) != version


@pytest.mark.parametrize("write", ["measure", "target", "bump_plans", "bump_scope"])
def test_a_write_to_the_plan_itself_stamps_every_target_of_the_plan(write: str) -> None:
    before = stamps()
    other_plan = Plan.objects.get(branch__code="tokyo", fiscal_year_id=2024)
    others = stamps(other_plan)
    if write == "measure":
        measure = Measure.objects.filter(plan=plan()).first()
        assert measure is not None
        measure.title = measure.title + "（改）"
        measure.save()
    elif write == "target":
        edited = target()
        edited.note = "備考を変更"
        edited.save()
    elif write == "bump_plans":
        versions.bump_plans([plan().pk])
    else:
        versions.bump(2023, plan().branch_id)
    assert changed(before, stamps()) == set(before)
    assert stamps(other_plan) == others  # another plan is untouched


def test_a_stale_copy_of_a_target_saved_later_still_gets_a_new_stamp() -> None:
    stale = target()  # read before the save below: holds the old stamp
    services.actual_record(target=target(), period=KpiActual.Period.YEAR_END, month=None, value=Decimal("41.0"))
    after_save = stamps()[stale.pk]
    stale.note = "古い写しから保存"
    stale.save()
    assert stamps()[stale.pk] not in (after_save, stale.data_version)


def test_the_stamp_is_not_part_of_the_targets_history() -> None:
    history_fields = {f.name for f in KpiTarget.history.model._meta.fields}  # type: ignore[attr-defined]
    assert "data_version" not in history_fields


# -- the dashboard computes only what a save touched ------------------------------------------------------


def computed_targets(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records the ids of the targets the result cache asks to compute."""
    seen: list[int] = []
    original = selectors._recomputed

    def spy(*args: Any) -> Any:
        results = original(*args)
        seen.extend(r.target.pk for r in results)
        return results

    monkeypatch.setattr(selectors, "_recomputed", spy)
    return seen


def test_after_a_save_the_dashboard_computes_the_saved_target_only(
    tochigi_staff: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(tochigi_staff)
    seen = computed_targets(monkeypatch)
    assert client.get(DASHBOARD).status_code == 200
    assert len(seen) == KpiTarget.objects.filter(plan=plan()).count()  # the first visit computes every target
    seen.clear()
    saved = target()
    services.actual_record(target=saved, period=KpiActual.Period.YEAR_END, month=None, value=Decimal("41.0"))
    response = client.get(DASHBOARD)
    assert seen == [saved.pk]
    assert "41.0" in response.content.decode()


def test_after_a_save_the_dashboard_reads_one_result_with_a_constant_number_of_queries(
    tochigi_staff: AbstractBaseUser, django_assert_num_queries: Any
) -> None:
    client = client_for(tochigi_staff)
    client.get(DASHBOARD)
    saved = target()
    services.actual_record(target=saved, period=KpiActual.Period.YEAR_END, month=None, value=Decimal("41.0"))
    # session, user with membership, data versions, the targets' stamps, the one result computed again from rows
    # (target, its and last year's actuals; the year's national averages and lineage breaks are kept); the plan and
    # the year picker are kept under the catalog's version, published_columns under the targets' phrases (a figure
    # of this year is none of them)
    with django_assert_num_queries(6):
        client.get(DASHBOARD)


def test_a_cached_result_is_the_result_computed_from_scratch_after_every_kind_of_write(
    tochigi_staff: AbstractBaseUser,
) -> None:
    client = client_for(tochigi_staff)
    scopes = versions.scopes(2023, branch_code="tochigi")
    client.get(DASHBOARD)
    saved = target()
    other = KpiTarget.objects.filter(plan=plan(), actuals__period=KpiActual.Period.YEAR_END).exclude(pk=saved.pk)[0]
    writes = [
        lambda: services.actual_record(
            target=saved, period=KpiActual.Period.YEAR_END, month=None, value=Decimal("41.0")
        ),
        lambda: year_end(other).delete(),
        lambda: (
            KpiTarget.objects.filter(pk=saved.pk).update(target_text="80%以上") and versions.bump_plans([saved.plan_id])
        ),
        lambda: versions.bump(),
    ]
    for write in writes:
        write()
        scopes = versions.scopes(2023, branch_code="tochigi")
        cached = [export_row(r) for r in selectors.plan_results(plan(), scopes)]
        caches["default"].clear()
        fresh = [export_row(r) for r in selectors.plan_results(plan())]
        assert cached == fresh
        selectors.plan_results(plan(), scopes)  # the cache filled again for the next write


def test_the_stamps_are_read_before_any_figure() -> None:
    scopes = versions.scopes(2023, branch_code="tochigi")
    read = plan()
    with CaptureQueriesContext(connection) as captured:
        selectors.plan_results(read, scopes)
    sql = [q["sql"] for q in captured.captured_queries]
    assert "data_version" in sql[0] and "plans_kpiactual" not in sql[0]
    assert any("plans_kpiactual" in statement for statement in sql[1:])


# -- pages of one KPI are validated by the stamps of the targets they show -----------------------------------

BRANCH_KPI_PAGE = f"/branches/tochigi/2023/kpi/{KPI}/"
NATIONAL_KPI_PAGE = f"/national/2023/kpi/{KPI}/"


def revalidate(client: Any, page: str, tag: str) -> Any:
    return client.get(page, HTTP_IF_NONE_MATCH=tag)


def another_kpis_target() -> KpiTarget:
    return (
        KpiTarget.objects.select_related("plan", "kpi")
        .filter(plan=plan(), actuals__period=KpiActual.Period.YEAR_END)
        .exclude(kpi__code=KPI)[0]
    )


@pytest.mark.parametrize("page", [BRANCH_KPI_PAGE, NATIONAL_KPI_PAGE])
def test_a_save_of_another_kpi_leaves_a_kpi_page_not_modified(hq_manager: AbstractBaseUser, page: str) -> None:
    client = client_for(hq_manager)
    tag = client.get(page)["ETag"]
    other = another_kpis_target()
    services.actual_record(target=other, period=KpiActual.Period.YEAR_END, month=None, value=Decimal("12.3"))
    assert revalidate(client, page, tag).status_code == 304


@pytest.mark.parametrize("page", [BRANCH_KPI_PAGE, NATIONAL_KPI_PAGE])
def test_a_save_of_the_kpi_shows_on_its_pages_at_once(hq_manager: AbstractBaseUser, page: str) -> None:
    client = client_for(hq_manager)
    tag = client.get(page)["ETag"]
    services.actual_record(target=target(), period=KpiActual.Period.YEAR_END, month=None, value=Decimal("41.3"))
    response = revalidate(client, page, tag)
    assert response.status_code == 200
    assert "41.3" in response.content.decode()


def test_a_save_of_last_years_figure_shows_on_this_years_national_kpi_page(hq_manager: AbstractBaseUser) -> None:
    client = client_for(hq_manager)
    page = f"/national/2024/kpi/{KPI}/"  # Tochigi 2024 is judged against its 2023 year-end
    tag = client.get(page)["ETag"]
    services.actual_record(target=target(), period=KpiActual.Period.YEAR_END, month=None, value=Decimal("41.3"))
    assert revalidate(client, page, tag).status_code == 200


@pytest.mark.parametrize("page", [BRANCH_KPI_PAGE, NATIONAL_KPI_PAGE])
@pytest.mark.parametrize("write", ["target_text", "target_added", "catalog", "national_average"])
def test_every_other_write_a_kpi_page_shows_changes_its_etag(
    hq_manager: AbstractBaseUser, page: str, write: str
) -> None:
    client = client_for(hq_manager)
    tag = client.get(page)["ETag"]
    if write == "target_text":
        edited = target()
        edited.target_text = "99.9%以上"
        edited.save()
    elif write == "target_added":  # bulk_create sends no signal: the writer bumps, as plans.versions requires
        if page == BRANCH_KPI_PAGE:  # in a year Tochigi has no plan for
            FiscalYear.objects.bulk_create([FiscalYear(year=2010)], ignore_conflicts=True)
            new = Plan(branch=plan().branch, fiscal_year_id=2010)
        else:  # a branch without a plan for 2023
            new = Plan(branch=Branch.objects.exclude(plans__fiscal_year_id=2023)[0], fiscal_year_id=2023)
        Plan.objects.bulk_create([new])
        new = Plan.objects.get(branch=new.branch, fiscal_year_id=new.fiscal_year_id)
        created = KpiTarget.objects.bulk_create([KpiTarget(plan=new, kpi=target().kpi, target_text="50%以上")])
        versions.bump_targets(
            [t.pk for t in created if t.pk] or KpiTarget.objects.filter(plan=new).values_list("pk", flat=True)
        )
    elif write == "catalog":
        versions.bump()
    else:
        versions.bump(2023)
    response = revalidate(client, page, tag)
    assert response.status_code in (200, 404)
    assert response.get("ETag") != tag


def test_a_save_of_last_years_figure_computes_this_years_result_of_that_kpi_again(
    tochigi_staff: AbstractBaseUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(tochigi_staff)
    page = "/branches/tochigi/2024/"  # judged against Tochigi's 2023 year-end
    client.get(page)
    seen = computed_targets(monkeypatch)
    services.actual_record(target=target(), period=KpiActual.Period.YEAR_END, month=None, value=Decimal("41.3"))
    client.get(page)
    this_year = KpiTarget.objects.get(plan__branch__code="tochigi", plan__fiscal_year_id=2024, kpi__code=KPI)
    assert seen == [this_year.pk]
    scopes = versions.scopes(2024, branch_code="tochigi")
    plan_2024 = Plan.objects.get(branch__code="tochigi", fiscal_year_id=2024)
    cached = selectors.plan_results(plan_2024, scopes)
    assert [export_row(r) for r in cached] == [export_row(r) for r in selectors.plan_results(plan_2024)]
    assert next(r for r in cached if r.target.pk == this_year.pk).previous_year_end == Decimal("41.3")


def test_published_columns_read_after_an_edit_are_not_kept_under_the_key_of_the_text_before_it(
    tochigi_staff: AbstractBaseUser,
) -> None:
    """A request reads the targets (note ONE), an edit commits note TWO before it reads the published columns, then
    the edit is undone: the page must show ONE, not the TWO kept under ONE's key (the key can come back)."""
    from plans.views import dashboards

    read = plan()
    edited = KpiTarget.objects.filter(plan=read).order_by("pk").first()
    assert edited is not None
    edited.note = "REMARK-ONE"
    edited.save()
    scopes = versions.scopes(2023, branch_code="tochigi")
    results = selectors.plan_results(read, scopes)
    edited.note = "REMARK-TWO"
    edited.save()
    key, columns = dashboards._published_columns(read, scopes, results)
    assert columns[edited.kpi_id].remark == "REMARK-TWO"  # shown on that one page, as read
    assert key is None  # and kept nowhere
    edited.note = "REMARK-ONE"
    edited.save()
    html = client_for(tochigi_staff).get(DASHBOARD).content.decode()
    assert "REMARK-ONE" in html and "REMARK-TWO" not in html


@pytest.mark.parametrize("write", ["month_report", "budget_line", "progress", "reminder"])
def test_a_write_no_result_shows_bumps_the_plan_but_stamps_no_target(write: str) -> None:
    from plans.models import BudgetLine, MeasureProgress, MonthReport

    before, version = stamps(), versions.current(2023, plan().branch_id)
    if write == "month_report":
        MonthReport.objects.create(plan=plan(), month=datetime.date(2023, 4, 1))
    elif write == "budget_line":
        BudgetLine.objects.create(plan=plan(), programme="テスト事業", budget_amount=Decimal("1000"))
    elif write == "progress":
        measure = Measure.objects.filter(plan=plan()).first()
        assert measure is not None
        MeasureProgress.objects.create(measure=measure, period="上期", status="実施中")
    else:
        versions.bump_scopes([(2023, plan().branch_id)], stamp_targets=False)
    assert stamps() == before
    assert versions.current(2023, plan().branch_id) != version


def test_a_renamed_user_shows_on_the_kpi_page_at_once_and_a_login_invalidates_nothing(
    tochigi_staff: AbstractBaseUser,
) -> None:
    month = datetime.date(2023, 10, 1)
    services.actual_record(
        target=target(), period=KpiActual.Period.MONTHLY, month=month, value=Decimal("11"), user=tochigi_staff
    )
    client = client_for(tochigi_staff)
    tag = client.get(BRANCH_KPI_PAGE)["ETag"]
    client_for(tochigi_staff)  # another login: Django saves last_login only
    assert revalidate(client, BRANCH_KPI_PAGE, tag).status_code == 304
    tochigi_staff.username = "tochigi-renamed"
    tochigi_staff.save()
    response = revalidate(client, BRANCH_KPI_PAGE, tag)
    assert response.status_code == 200
    assert "tochigi-renamed" in response.content.decode()


@pytest.mark.parametrize("year", [2022, 2023, 2024, 2025])
def test_a_plans_stamps_in_sql_are_the_orm_reads_in_the_plans_order(year: int) -> None:
    """plan_target_stamps: the stamps target_stamps reads through the ORM, in plan_results' order (area, order, id;
    targets without a measure where each database puts a null area), with last year's pairing."""
    for branch in Branch.objects.filter(plans__fiscal_year_id=year):
        targets = KpiTarget.objects.filter(plan__branch=branch, plan__fiscal_year_id__in=(year - 1, year))
        ordered = targets.order_by("plan__fiscal_year_id", "measure__area_id", "order", "id")
        expected = selectors.target_stamps(ordered, year)
        assert expected, (branch.code, year)
        assert selectors.plan_target_stamps(branch.pk, year) == expected
