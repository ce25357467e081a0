"""User text is escaped on every page that shows it: a measure title, a KPI name as written, a target's remark,
a figure's note, a shortfall note (要因・対応), a progress note (実施状況・今後の実施予定), a change reason and a
user's name, each carrying a <script> element, an <img onerror> and a quote that would break out of an attribute."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from plans.models import KpiActual, MeasureProgress, ShortfallNote
from tests.conftest import client_for
from tests.factories import (
    FiscalYearFactory,
    KpiFactory,
    KpiTargetFactory,
    MeasureFactory,
    PlanFactory,
    member,
    recorded_actual,
)

pytestmark = pytest.mark.django_db

YEAR = 2025
JUNE = datetime.date(2025, 6, 1)
#: What must never reach a page as markup.
RAW = ("<script>alert", "<img src=x", '"onmouseover="alert')


def evil(field: str) -> str:
    """A value that would run script if a page printed it unescaped; ``MARK-<field>`` shows where it went."""
    return f'<script>alert("{field}")</script><img src=x onerror=alert(1)>"onmouseover="alert(2) MARK-{field}'


@pytest.fixture
def evil_plan(tochigi):
    plan = PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=YEAR))
    measure = MeasureFactory(plan=plan, title=evil("measure")[:300])
    kpi = KpiFactory(code="evil_kpi", name="受診率")
    target = KpiTargetFactory(
        plan=plan, kpi=kpi, measure=measure, name_as_written=evil("kpi_name")[:300], note=evil("remark")[:300]
    )
    staff = member("evil-staff", branch=tochigi, staff=True)
    staff.first_name = evil("user")[:150]
    staff.save()
    recorded_actual(
        target,
        period=KpiActual.Period.MONTHLY,
        month=JUNE,
        value=Decimal("40"),
        note=evil("figure_note")[:200],
        user=staff,
    )
    recorded_actual(target, period=KpiActual.Period.YEAR_END, month=None, value=Decimal("45"), user=staff)
    ShortfallNote.objects.create(
        target=target, month=JUNE, cause=evil("cause"), action=evil("action"), updated_by=staff
    )
    MeasureProgress.objects.create(
        measure=measure,
        period="令和7年度上期",
        as_of=datetime.date(2025, 9, 30),
        status=evil("progress_status"),
        next_steps=evil("progress_next"),
    )
    return plan, staff


PAGES: dict[str, tuple[str, set[str]]] = {
    # page: (path, the fields it must show, escaped); "user" is the signed-in user's name in the header
    "branch dashboard": (f"/branches/tochigi/{YEAR}/", {"kpi_name", "measure", "remark", "user"}),
    "plan page": (
        f"/branches/tochigi/{YEAR}/plan/",
        {"kpi_name", "measure", "progress_status", "progress_next", "user"},
    ),
    "KPI detail": (f"/branches/tochigi/{YEAR}/kpi/evil_kpi/", {"kpi_name", "remark", "figure_note", "user"}),
    "KPI history": (f"/branches/tochigi/{YEAR}/kpi/evil_kpi/history/", {"user"}),
    "month entry": (f"/branches/tochigi/{YEAR}/entry/2025-06/", {"kpi_name", "cause", "action", "user"}),
    "progress entry": (
        f"/branches/tochigi/{YEAR}/progress/h1/",
        {"kpi_name", "measure", "progress_status", "progress_next", "user"},
    ),
}
HQ_PAGES: dict[str, set[str]] = {
    f"/national/{YEAR}/": set(),
    f"/national/{YEAR}/kpi/evil_kpi/": set(),
    f"/national/{YEAR}/status/": set(),
    f"/national/{YEAR}/progress/h1/": {"measure", "progress_status", "progress_next"},
}


def shown(html: str) -> set[str]:
    names = ("measure", "kpi_name", "remark", "figure_note", "cause", "action", "progress_status", "progress_next")
    return {name for name in (*names, "user") if f"MARK-{name}" in html}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_escapes_the_user_text_it_shows(evil_plan, page):
    _plan, staff = evil_plan
    path, expected = PAGES[page]
    response = client_for(staff).get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert [raw for raw in RAW if raw in html] == []
    assert expected <= shown(html), f"{page} shows {sorted(shown(html))}"
    assert "&lt;script&gt;alert(" in html


@pytest.mark.parametrize("path", HQ_PAGES)
def test_headquarters_pages_escape_it_too(evil_plan, hq_manager, path):
    response = client_for(hq_manager).get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert [raw for raw in RAW if raw in html] == []
    assert HQ_PAGES[path] <= shown(html)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/admin/plans/measure/", {"measure"}),
        ("/admin/auth/user/?q=evil", {"user"}),
    ],
)
def test_the_admin_escapes_it_too(evil_plan, path, expected):
    from tests.factories import UserFactory

    admin = UserFactory(username="evil-admin", is_staff=True, is_superuser=True)
    response = client_for(admin).get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert [raw for raw in RAW if raw in html] == []
    assert expected <= shown(html)
