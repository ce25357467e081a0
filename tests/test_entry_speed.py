"""The month screen made cheap (issue 12): its rows are written by ``plans.views.entry.rows_html`` instead of a template
loop, the years before are read only for the rows a save checks, and the query counts of a read, a save and a
conflict are pinned and do not grow with the plan's KPIs.

Sameness: the rows ``rows_html`` writes are compared with the template they replaced
(tests/templates/month_entry_rows_reference.html, the loop of plans/month_entry.html as it was) on the seed's
plans and on sheets with refused, warned and conflicting rows, in Japanese and in English.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from plans import entry, fiscal
from plans.models import Kpi, KpiActual, MonthReport, Plan, ShortfallNote
from plans.services import actual_record
from plans.views.entry import rows_html
from tests.conftest import client_for
from tests.factories import FiscalYearFactory, KpiFactory, KpiTargetFactory, PlanFactory, recorded_actual

pytestmark = pytest.mark.django_db

REFERENCE = Path(__file__).parent / "templates" / "month_entry_rows_reference.html"
SEED_MONTHS = (0, 3, 5, 6, 11)  # of each plan's fiscal year: April, July, September, October, March
GIFU_SEPTEMBER = datetime.date(2024, 9, 1)


def _normalized(html: str) -> str:
    """The HTML with every run of whitespace as one space (where whitespace is, not how much, is what a browser
    shows)."""
    return " ".join(html.split())


def _reference(rows: list[entry.Row], *, read_only: bool) -> str:
    template = engines["django"].from_string(REFERENCE.read_text(encoding="utf-8"))
    return template.render({"rows": rows, "read_only": read_only})


def _assert_same_rows(rows: list[entry.Row], *, read_only: bool) -> None:
    assert _normalized(rows_html(rows, read_only=read_only)) == _normalized(_reference(rows, read_only=read_only))


def _seed_sheets() -> list[entry.Sheet]:
    """Every seed plan from 2023 (marks, monthly figures, choice KPIs), at five months of its year."""
    plans = Plan.objects.filter(fiscal_year_id__gte=2023).select_related("branch", "fiscal_year").order_by("id")
    return [entry.month_sheet(plan, fiscal.months_of(plan.fiscal_year_id)[i]) for plan in plans for i in SEED_MONTHS]


def _gifu() -> Plan:
    return Plan.objects.select_related("branch", "fiscal_year").get(branch__code="gifu", fiscal_year_id=2024)


def _form(sheet: entry.Sheet, **cells: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for row in sheet.rows:
        data[f"{row.prefix}-version"] = str(row.version)
        for name, value in row.typed.items():
            data[f"{row.prefix}-{name}"] = value
    data.update(cells)
    return data


def _save(plan: Plan, month: datetime.date, posted: dict[str, str], user=None) -> entry.SaveOutcome:  # noqa: ANN001
    report, _ = MonthReport.objects.get_or_create(plan=plan, month=month)
    return entry.month_save(
        plan=plan, month=month, report=report, posted=posted, user=user, today=datetime.date(2025, 6, 1)
    )


# -- the rows are the template's ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("read_only", [False, True])
def test_it_writes_the_seed_sheets_rows_as_the_template_did(language, read_only):
    sheets = _seed_sheets()
    assert len({sheet.plan for sheet in sheets}) >= 5
    with translation.override(language):
        for sheet in sheets:
            _assert_same_rows(sheet.rows, read_only=read_only)
    assert sum(len(sheet.rows) for sheet in sheets) > 400


def test_the_seed_sheets_show_every_kind_of_row_the_comparison_covers():
    rows = [row for sheet in _seed_sheets() for row in sheet.rows]
    assert any(row.is_choice for row in rows)
    assert any(row.is_rate for row in rows)
    assert any(row.last_year for row in rows)
    assert any(row.previous_display for row in rows)
    assert any(row.result.mark for row in rows)
    assert any(row.result.projection for row in rows)
    assert any(row.needs_note for row in rows)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_it_writes_refused_and_warned_rows_as_the_template_did(language):
    plan = _gifu()
    empty_rate = next(row for row in entry.month_sheet(plan, GIFU_SEPTEMBER).rows if row.is_rate and not row.actual)
    actual_record(  # a rate saved with its counts: the saved counts are shown beside the row
        target=empty_rate.target,
        period=KpiActual.Period.MONTHLY,
        month=GIFU_SEPTEMBER,
        value=Decimal("50"),
        numerator=Decimal("1"),
        denominator=Decimal("2"),
        expected_version=0,
    )
    noted = entry.month_sheet(plan, GIFU_SEPTEMBER).rows[-1].target
    ShortfallNote.objects.create(target=noted, month=GIFU_SEPTEMBER, cause="<要因>", action="対応 & 次の手")
    sheet = entry.month_sheet(plan, GIFU_SEPTEMBER)
    assert sheet.rows[-1].note is not None
    numbers = [row for row in sheet.rows if not row.is_choice]
    rate = next(row for row in numbers if row.prefix == empty_rate.prefix)
    assert rate.actual is not None and rate.actual.numerator == 1
    saved = next(row for row in numbers if row.actual is not None and row is not rate)
    others = [row for row in numbers if row not in (rate, saved)]
    cells = {
        f"{rate.prefix}-numerator": "<b>12</b>",  # refused, and shown back escaped
        f"{saved.prefix}-value": "",  # clears a saved value: a warning
        f"{others[0].prefix}-value": "999999",  # far outside the past range: a warning
        f"{others[1].prefix}-cause": "要因だけ",  # 要因 without 対応
        f"{others[2].prefix}-reason": "x" * (entry.REASON_MAX + 1),
        f"{others[3].prefix}-conflict": "1",  # a conflict answered without choosing
    }
    outcome = _save(plan, GIFU_SEPTEMBER, _form(sheet, **cells))
    assert not outcome.saved and outcome.message == entry.NOTHING_SAVED
    rows = outcome.sheet.rows
    assert {row.state for row in rows} >= {"refused", "warning"}
    tochigi = Plan.objects.get(branch__code="tochigi", fiscal_year_id=2024)
    choices = entry.month_sheet(tochigi, GIFU_SEPTEMBER)
    choice = next(row for row in choices.rows if row.is_choice)
    refused_choice = _save(tochigi, GIFU_SEPTEMBER, _form(choices, **{f"{choice.prefix}-text": "たぶん<"}))
    assert (
        entry.NOT_A_CHOICE.format(text="たぶん<")
        in refused_choice.sheet.rows[choices.rows.index(choice)].errors["text"]
    )
    with translation.override(language):
        _assert_same_rows(rows, read_only=False)
        _assert_same_rows(refused_choice.sheet.rows, read_only=False)
        _assert_same_rows(sheet.rows, read_only=False)  # as read: the note saved for the month
    assert "&lt;b&gt;12&lt;/b&gt;" in rows_html(rows, read_only=False)
    read = rows_html(sheet.rows, read_only=False)
    assert "&lt;要因&gt;" in read and "対応 &amp; 次の手" in read


@pytest.mark.parametrize("language", ["ja", "en"])
def test_it_writes_conflicting_rows_as_the_template_did(language, tochigi_staff):
    plan = _gifu()
    sheet = entry.month_sheet(plan, GIFU_SEPTEMBER)
    numbers = [row for row in sheet.rows if not row.is_choice and row.actual is not None]
    empty = next(row for row in sheet.rows if not row.is_choice and row.actual is None)
    theirs = numbers[0]
    actual_record(  # someone else saves the first cell after the page was read
        target=theirs.target,
        period=KpiActual.Period.MONTHLY,
        month=GIFU_SEPTEMBER,
        value=theirs.actual.value + 1,
        user=tochigi_staff,
        expected_version=theirs.version,
    )
    cells = {
        f"{theirs.prefix}-value": str(theirs.actual.value + 2),
        f"{theirs.prefix}-reason": "訂正",
        f"{empty.prefix}-value": "50",
        f"{empty.prefix}-version": "3",  # a version for a cell that is empty now: deleted meanwhile
        f"{empty.prefix}-reason": "訂正",
    }
    outcome = _save(plan, GIFU_SEPTEMBER, _form(sheet, **cells))
    rows = outcome.sheet.rows
    assert not outcome.saved
    assert any(row.conflict is not None for row in rows) and any(row.conflict_deleted for row in rows)
    with translation.override(language):
        _assert_same_rows(rows, read_only=False)
        html = rows_html(rows, read_only=False)
    assert tochigi_staff.get_username() in html


def test_the_page_carries_the_rows_rows_html_writes(tochigi_staff):
    plan = Plan.objects.get(branch__code="tochigi", fiscal_year_id=2024)
    response = client_for(tochigi_staff).get("/branches/tochigi/2024/entry/2024-09/")
    assert response.status_code == 200
    rows = entry.month_sheet(plan, datetime.date(2024, 9, 1)).rows
    assert str(rows_html(rows, read_only=False)) in response.content.decode()


# -- the years before are read for the rows a save checks ---------------------------------------------------------


def test_read_past_gives_every_earlier_monthly_figure_of_the_branch_for_the_kpi():
    plan = _gifu()
    rows = entry.month_sheet(plan, GIFU_SEPTEMBER).rows
    entry.read_past(plan, rows)
    for row in rows:
        expected = KpiActual.objects.filter(
            target__plan__branch=plan.branch,
            target__kpi_id=row.target.kpi_id,
            period=KpiActual.Period.MONTHLY,
            month__lt=GIFU_SEPTEMBER,
            value__isnull=False,
        ).values_list("value", flat=True)
        assert sorted(row.past) == sorted(expected)
        # read as rows, converted as the ORM converts them: Decimals written the same (the range in a warning)
        assert sorted(str(v) for v in row.past) == sorted(str(v) for v in expected)
        assert all(type(v) is Decimal for v in row.past)
    assert any(len(row.past) > 1 for row in rows)


def test_the_sheets_same_month_last_year_and_notes_are_what_the_orm_reads():
    """Read in SQL written once (``entry._history``, ``entry._notes``): the same figures and notes as the ORM's."""
    plan = _gifu()
    ShortfallNote.objects.create(target=plan.targets.first(), month=GIFU_SEPTEMBER, cause="要因", action="対応")
    for sheet in _seed_sheets():
        same_month = sheet.month.replace(year=sheet.month.year - 1)
        expected = {
            a.target.kpi_id: a.display_value
            for a in KpiActual.objects.filter(
                target__plan__branch_id=sheet.plan.branch_id,
                target__plan__fiscal_year_id__lt=sheet.plan.fiscal_year_id,
                target__kpi__targets__plan=sheet.plan,
                period=KpiActual.Period.MONTHLY,
                month=same_month,
            ).select_related("target")
        }
        assert {row.target.kpi_id: row.last_year for row in sheet.rows if row.last_year} == expected
        notes = ShortfallNote.objects.filter(target__plan=sheet.plan, month=sheet.month)
        assert {row.target.pk: row.note for row in sheet.rows if row.note is not None} == {
            n.target_id: n for n in notes
        }
        assert all(row.cause == row.note.cause for row in sheet.rows if row.note is not None)
    assert any(row.last_year for sheet in _seed_sheets() for row in sheet.rows)
    assert any(row.note for row in entry.month_sheet(plan, GIFU_SEPTEMBER).rows)


def test_a_screen_shown_again_after_a_refusal_has_the_same_month_last_year():
    """A save reads no figure of last year (it redirects); a refused save shows the sheet again, with them."""
    sheets = [sheet for sheet in _seed_sheets() if any(row.last_year for row in sheet.rows)][:3]
    assert sheets
    for sheet in sheets:
        figure = next(row for row in sheet.rows if not row.is_choice)
        refused = _save(sheet.plan, sheet.month, _form(sheet, **{f"{figure.prefix}-value": "abc"}))
        assert not refused.saved
        assert [row.last_year for row in refused.sheet.rows] == [row.last_year for row in sheet.rows]


def test_read_past_of_no_rows_reads_nothing(django_assert_num_queries):
    plan = _gifu()
    with django_assert_num_queries(0):
        entry.read_past(plan, [])


# -- query counts ----------------------------------------------------------------------------------------------

YEAR = 2025
JUNE = datetime.date(2025, 6, 1)
MAY = datetime.date(2025, 5, 1)
URL = f"/branches/tochigi/{YEAR}/entry/2025-06/"
# session, user with membership, the report with its plan and branch (3); the sheet: the data versions, the
# targets' stamps (every result from the result cache), the mid-year actuals, notes (4; the same month last year is
# read only for a screen shown again, not for a save); the years before of the changed KPI (1); the write through
# services.actual_record in its savepoints: the row, the month's report, the update, its history row, the plan's
# data version and the target's stamp (10); the counts after the save: the saved target computed again from rows
# (last year's pairing, the target, its actuals: 3).
# (On a server the savepoints are BEGIN and COMMIT.) The saved signal is a cookie, not a session write; the
# figures' check constraints are judged in Python. Before: 53 (the whole sheet read again after the save with every
# past figure, the target's plan, the foreign keys and the constraints on the target, period and month an update
# leaves alone), then 33 (the saved signal in the session: 3; a query in a savepoint for each of the figures' three
# check constraints: 9; the plan, then the report: 1), then 20 (the same month last year, which a save redirecting
# never shows: 1), then 21 (the results through the result cache: 2 cheap queries more than the nine-subquery one,
# which cost more on PostgreSQL).
SAVE_QUERIES = 21
# as a save up to the write (9; before: 10, the plan then the report), which meets the other version and rolls back
# (7); the workflow box's notes (1).
CONFLICT_QUERIES = 17


def _plan_with(n: int, tochigi) -> Plan:  # noqa: ANN001
    plan = PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=YEAR))
    for i in range(n):
        target = KpiTargetFactory(plan=plan, kpi=KpiFactory(kind=Kpi.Kind.RATE), order=i)
        recorded_actual(target, period=KpiActual.Period.MONTHLY, month=MAY, value=Decimal("40"))
        recorded_actual(target, period=KpiActual.Period.MONTHLY, month=JUNE, value=Decimal("41"))
    return plan


def _one_cell(plan: Plan, value: str, *, stale: bool = False) -> dict[str, str]:
    target = plan.targets.order_by("order").first()
    actual = KpiActual.objects.get(target=target, month=JUNE)
    version = actual.version - 1 if stale else actual.version
    return {f"t{target.pk}-version": str(version), f"t{target.pk}-value": value, f"t{target.pk}-reason": "訂正"}


def _count(client, posted: dict[str, str], status: int) -> int:  # noqa: ANN001
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, posted)
    assert response.status_code == status
    return len(queries)


@pytest.mark.parametrize("n", [24])
def test_a_save_of_one_cell_answers_with_a_pinned_number_of_queries(
    n, tochigi, tochigi_staff, django_assert_num_queries
):
    plan = _plan_with(n, tochigi)
    client = client_for(tochigi_staff)
    client.get(URL)  # the month's report is created on the first visit
    posted = _one_cell(plan, "42")
    with django_assert_num_queries(SAVE_QUERIES):
        response = client.post(URL, posted)
    assert response.status_code == 302


def test_a_conflict_answers_with_a_pinned_number_of_queries(tochigi, tochigi_staff, django_assert_num_queries):
    plan = _plan_with(24, tochigi)
    client = client_for(tochigi_staff)
    client.get(URL)
    posted = _one_cell(plan, "42", stale=True)
    with django_assert_num_queries(CONFLICT_QUERIES):
        response = client.post(URL, posted)
    assert response.status_code == 200
    assert 'class="conflict"' in response.content.decode()


def test_the_queries_of_a_save_and_a_conflict_do_not_grow_with_the_kpis(tochigi, tochigi_staff):
    plan = _plan_with(3, tochigi)
    client = client_for(tochigi_staff)
    caches["default"].clear()  # each series from the same cache state: every result computed by its first GET
    client.get(URL)
    small = (
        _count(client, _one_cell(plan, "42"), 302),
        _count(client, _one_cell(plan, "43", stale=True), 200),
    )
    for i in range(10):
        KpiTargetFactory(plan=plan, kpi=KpiFactory(kind=Kpi.Kind.COUNT), order=100 + i)
    caches["default"].clear()
    client.get(URL)
    large = (
        _count(client, _one_cell(plan, "44"), 302),
        _count(client, _one_cell(plan, "45", stale=True), 200),
    )
    assert large == small


# -- the write path validates an update without looking up what it does not change ---------------------------------


@pytest.mark.parametrize(
    "figures",
    [
        {"value": Decimal("50"), "numerator": Decimal("1"), "denominator": Decimal("0")},
        {"value": Decimal("50"), "numerator": Decimal("-1"), "denominator": Decimal("2")},
        {"value": None},
        {"value": Decimal("150")},
    ],
)
def test_an_update_is_refused_with_the_messages_of_a_full_validation(figures, tochigi):
    plan = PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=YEAR))
    target = KpiTargetFactory(plan=plan, kpi=KpiFactory(kind=Kpi.Kind.RATE))
    saved = recorded_actual(target, period=KpiActual.Period.MONTHLY, month=JUNE, value=Decimal("40"))
    with pytest.raises(ValidationError) as refused:
        actual_record(
            target=target, period=KpiActual.Period.MONTHLY, month=JUNE, expected_version=saved.version, **figures
        )
    probe = KpiActual.objects.get(pk=saved.pk)
    for name, value in figures.items():
        setattr(probe, name, value)
    with pytest.raises(ValidationError) as full:
        probe.full_clean()
    assert refused.value.message_dict == full.value.message_dict
    assert KpiActual.objects.get(pk=saved.pk).value == Decimal("40")


def _fields(instance) -> dict[str, object]:  # noqa: ANN001
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_open_report_is_the_reports_select_related_read():
    """Read in SQL written once: the report, its plan, branch and fiscal year with every field as the ORM reads them
    (dates, aware datetimes, choices), and None for a month nobody opened, another branch or year."""
    plan = _gifu()
    reopened = MonthReport.objects.create(
        plan=plan,
        month=GIFU_SEPTEMBER,
        status=MonthReport.Status.REOPENED,
        reason="訂正のため",
        reopened_until=datetime.date(2024, 11, 30),
        changed_after_approval=True,
        version=3,
    )
    reopened.refresh_from_db()
    found = entry.open_report("gifu", 2024, GIFU_SEPTEMBER)
    expected = MonthReport.objects.select_related("plan__branch", "plan__fiscal_year").get(pk=reopened.pk)
    assert found is not None
    assert _fields(found) == _fields(expected)
    assert _fields(found.plan) == _fields(expected.plan)
    assert _fields(found.plan.branch) == _fields(expected.plan.branch)
    assert _fields(found.plan.fiscal_year) == _fields(expected.plan.fiscal_year)
    assert found.plan.fiscal_year.display == expected.plan.fiscal_year.display
    assert not found._state.adding and found.plan.branch.code == "gifu"
    assert entry.open_report("gifu", 2024, datetime.date(2024, 10, 1)) is None
    assert entry.open_report("tochigi", 2024, GIFU_SEPTEMBER) is None
    assert entry.open_report("gifu", 2023, GIFU_SEPTEMBER) is None
