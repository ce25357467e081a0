"""HQ's reporting status at /national/<year>/status/: every branch × month, late months, reminders by e-mail and
the ``send_report_reminders`` command."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from branches.access import READ_ALL_BRANCHES_DENIED
from branches.models import Branch
from plans import workflow
from plans.management.commands.send_report_reminders import default_years
from plans.models import MonthReport, Plan
from tests.conftest import client_for
from tests.factories import BranchFactory, FiscalYearFactory, PlanFactory, member

pytestmark = pytest.mark.django_db

Status = MonthReport.Status
YEAR = 2026
TODAY = datetime.date(2026, 11, 20)
STATUS = f"/national/{YEAR}/status/"
REMIND = f"/national/{YEAR}/status/remind/"
BASE_DIR = Path(__file__).resolve().parent.parent


def month(m: int) -> datetime.date:
    return datetime.date(YEAR + (m < 4), m, 1)


@pytest.fixture
def today(monkeypatch):
    """Freeze the day the page and the reminders see; returns a setter for tests that move it."""
    current = {"day": TODAY}
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: current["day"])

    def move_to(day: datetime.date) -> None:
        current["day"] = day

    return move_to


@pytest.fixture
def plan(tochigi) -> Plan:
    """Tochigi's FY2026 months: every status, late and not."""
    plan = PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=YEAR))
    for m, status in [(4, Status.APPROVED), (5, Status.SUBMITTED), (6, Status.RETURNED), (8, Status.DRAFT)]:
        MonthReport.objects.create(plan=plan, month=month(m), status=status)
    MonthReport.objects.create(plan=plan, month=month(7), status=Status.REOPENED, reopened_until=TODAY)
    MonthReport.objects.create(plan=plan, month=month(10), status=Status.DRAFT)
    return plan


def cells_of(html: str, branch_code: str) -> dict[str, tuple[str, bool, str]]:
    """month → (status, late, link) of one branch's row."""
    found = re.findall(
        r'<td class="(late)?" data-month="(\d{4}-\d{2})" data-status="(\w+)"><a class="wf-\w+" href="([^"]+)"', html
    )
    return {m: (status, late == "late", link) for late, m, status, link in found if f"/{branch_code}/" in link}


# -- the grid ---------------------------------------------------------------------------------------------------


def test_each_cell_shows_the_months_status_and_late_months_are_flagged(plan, hq_manager, today):
    html = client_for(hq_manager).get(STATUS).content.decode()
    link = "/branches/tochigi/2026/entry/{}/".format
    assert cells_of(html, "tochigi") == {
        "2026-04": ("approved", False, link("2026-04")),
        "2026-05": ("submitted", False, link("2026-05")),
        "2026-06": ("returned", True, link("2026-06")),
        "2026-07": ("reopened", False, link("2026-07")),
        "2026-08": ("draft", True, link("2026-08")),
        "2026-09": ("not_started", True, link("2026-09")),
        "2026-10": ("draft", True, link("2026-10")),
        "2026-11": ("not_started", False, link("2026-11")),  # due 2026-12-10
    }
    for label in ("承認済み", "提出済み", "差戻し", "再開中", "作成中", "未着手", "遅延"):
        assert label in html


def test_the_months_stop_at_the_current_month(plan, hq_manager, today):
    html = client_for(hq_manager).get(STATUS).content.decode()
    head = re.search(r"<thead>.*?</thead>", html.split('class="status-grid"')[1], re.S)[0]
    assert "11月" in head and "12月" not in head and "2026-12" not in html


def test_the_branches_come_in_jis_order_and_those_without_a_plan_are_greyed(plan, hq_manager, today):
    PlanFactory(branch=BranchFactory(code="hokkaido"), fiscal_year=plan.fiscal_year)
    html = client_for(hq_manager).get(STATUS).content.decode()
    grid = html.split('class="status-grid"')[1]
    names = re.findall(r'<th class="branch">(?:<a [^>]+>)?([^<]+)', grid)
    assert names == list(Branch.objects.order_by("jis_code").values_list("name", flat=True))
    assert len(names) == 47
    assert grid.count('<tr class="no-plan">') == 45


def test_a_month_is_late_the_day_after_its_deadline(plan, hq_manager, today):
    today(datetime.date(2026, 11, 10))  # October is due on the 10th of November
    assert cells_of(client_for(hq_manager).get(STATUS).content.decode(), "tochigi")["2026-10"][1] is False
    today(datetime.date(2026, 11, 11))
    assert cells_of(client_for(hq_manager).get(STATUS).content.decode(), "tochigi")["2026-10"][1] is True


def test_the_deadline_day_is_a_setting(plan, hq_manager, today, settings):
    settings.REPORT_DEADLINE_DAY = 25
    assert cells_of(client_for(hq_manager).get(STATUS).content.decode(), "tochigi")["2026-10"][1] is False


def test_the_late_list_says_branch_month_status_and_days_late(plan, hq_manager, today):
    status = workflow.report_status(YEAR, TODAY)
    assert [(c.branch.code, c.month, c.label, c.days_late) for c in status.late] == [
        ("tochigi", month(6), "差戻し", 133),
        ("tochigi", month(8), "作成中", 71),
        ("tochigi", month(9), "未着手", 41),
        ("tochigi", month(10), "作成中", 10),
    ]
    html = client_for(hq_manager).get(STATUS).content.decode()
    assert "遅延している月（4件）" in html and "133日" in html and "督促メールを送る" in html


def test_nothing_late_says_so_and_offers_no_button(tochigi, hq_manager, today):
    PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=YEAR))
    today(datetime.date(2026, 4, 30))
    html = client_for(hq_manager).get(STATUS).content.decode()
    assert "遅れている支部はありません。" in html and "督促メールを送る" not in html


@pytest.mark.parametrize("persona", ["tochigi_staff", "tochigi_manager", "gifu_staff", "outsider"])
def test_only_hq_sees_the_status_page(request, plan, persona):
    response = client_for(request.getfixturevalue(persona)).get(STATUS)
    assert response.status_code == 403 and READ_ALL_BRANCHES_DENIED in response.content.decode()


def test_an_anonymous_user_is_sent_to_log_in():
    response = Client().get(STATUS)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_unknown_year_is_404(hq_manager):
    assert client_for(hq_manager).get("/national/2090/status/").status_code == 404


def test_the_status_page_reads_a_constant_number_of_queries(plan, hq_manager, today, django_assert_num_queries):
    client = client_for(hq_manager)
    client.get(STATUS)
    with django_assert_num_queries(4):  # nothing changed: the grid and the late list from the cache (issue 12)
        client.get(STATUS)
    caches["default"].clear()
    with django_assert_num_queries(7):  # 7 + the data versions of the ETag - the membership, read with the user
        client.get(STATUS)
    for code in ("hokkaido", "aomori", "iwate"):
        other = PlanFactory(branch=BranchFactory(code=code), fiscal_year=plan.fiscal_year)
        MonthReport.objects.create(plan=other, month=month(4), status=Status.SUBMITTED)
    with django_assert_num_queries(7):
        assert client.get(STATUS).status_code == 200


# -- reminders --------------------------------------------------------------------------------------------------


@pytest.fixture
def people(tochigi, gifu):
    """Tochigi's staff and manager with e-mail, one staff without; people elsewhere who must get nothing."""
    users = {
        "staff": member("tochigi-staff", branch=tochigi, staff=True),
        "manager": member("tochigi-manager", branch=tochigi, manager=True),
        "no-mail": member("tochigi-newcomer", branch=tochigi, staff=True),
        "gifu": member("gifu-staff", branch=gifu, staff=True),
        "hq": member("hq-manager", hq=True),
    }
    for key, address in [("staff", "staff@tochigi.example"), ("manager", "boss@tochigi.example")]:
        users[key].email = address
        users[key].save()
    users["gifu"].email = "staff@gifu.example"
    users["gifu"].save()
    users["hq"].email = "hq@example"
    users["hq"].save()
    return users


def remind(user):
    response = client_for(user).post(REMIND)
    return response, [str(m) for m in get_messages(response.wsgi_request)]


def test_the_reminder_goes_to_the_late_branchs_staff_and_manager_with_its_late_months(plan, people, today, mailoutbox):
    response, notes = remind(people["hq"])
    assert (response.status_code, response["Location"]) == (302, STATUS)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["boss@tochigi.example", "staff@tochigi.example"]
    assert mail.subject == "【kpitrack】栃木支部 月次報告の提出のお願い"
    assert "2026年6月: 差戻し（期限 2026-07-10、133日経過）" in mail.body
    assert "2026年9月: 未着手（期限 2026-10-10、41日経過）" in mail.body
    assert "http://testserver/branches/tochigi/2026/entry/2026-09/" in mail.body
    assert "2026年5月" not in mail.body and "2026年11月" not in mail.body
    assert notes == [
        "栃木支部のtochigi-newcomerはメールアドレスが登録されていないため、送りませんでした。",
        "栃木支部の2026年6月・2026年8月・2026年9月・2026年10月について督促メールを2人に送りました。",
    ]


def test_the_reminder_day_is_kept_and_a_month_not_started_gets_its_draft(plan, people, today, mailoutbox):
    remind(people["hq"])
    reports = MonthReport.objects.filter(plan=plan, month__in=[month(m) for m in (6, 8, 9, 10)])
    assert {r.month: r.last_reminded_on for r in reports} == {month(m): TODAY for m in (6, 8, 9, 10)}
    assert MonthReport.objects.get(plan=plan, month=month(9)).status == Status.DRAFT
    assert MonthReport.objects.get(plan=plan, month=month(5)).last_reminded_on is None
    assert MonthReport.objects.get(plan=plan, month=month(6)).version == 1  # a reminder is not a status move


def test_a_second_click_the_same_day_sends_nothing_and_says_so(plan, people, today, mailoutbox):
    remind(people["hq"])
    _, notes = remind(people["hq"])
    assert len(mailoutbox) == 1
    assert notes[0] == (
        "栃木支部の2026年6月・2026年8月・2026年9月・2026年10月は本日すでに督促済みのため、送りませんでした。"
    )
    today(TODAY + datetime.timedelta(days=1))
    remind(people["hq"])
    assert len(mailoutbox) == 2


def test_a_branch_without_anyone_to_write_to_is_named(tochigi, hq_manager, today, mailoutbox):
    PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=YEAR))
    _, notes = remind(hq_manager)
    assert mailoutbox == [] and "栃木支部には督促メールを送れる担当者・管理者がいません。" in notes
    assert not MonthReport.objects.filter(last_reminded_on=TODAY).exists()


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("Connection refused")


def test_a_failed_send_keeps_nothing_and_says_so(plan, people, today, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    _, notes = remind(people["hq"])
    assert notes[-1] == (
        "督促メールを送れませんでした（Connection refused）。メールの設定を確認して、もう一度送ってください。"
    )
    assert not any("送りました" in note for note in notes)
    assert not MonthReport.objects.filter(last_reminded_on=TODAY).exists()


def test_an_inactive_user_gets_no_reminder(plan, people, today, mailoutbox):
    people["manager"].is_active = False
    people["manager"].save()
    remind(people["hq"])
    assert mailoutbox[0].to == ["staff@tochigi.example"]


@pytest.mark.parametrize("persona", ["staff", "manager", "gifu"])
def test_only_hq_sends_reminders(plan, people, today, mailoutbox, persona):
    response, _ = remind(people[persona])
    assert response.status_code == 403 and mailoutbox == []
    assert not MonthReport.objects.filter(last_reminded_on=TODAY).exists()


def test_the_reminder_button_is_post_only(people):
    assert client_for(people["hq"]).get(REMIND).status_code == 405


def test_sending_reminders_reads_a_constant_number_of_queries(
    plan, people, today, mailoutbox, django_assert_num_queries
):
    client = client_for(people["hq"])
    client.get(STATUS)
    # 12 + the data versions of the reminded branches (issue 12) - the membership (read with the user); the
    # reminder stamps no target (no result shows it)
    with django_assert_num_queries(13):
        client.post(REMIND)
    for code in ("hokkaido", "aomori", "iwate"):
        branch = BranchFactory(code=code)
        PlanFactory(branch=branch, fiscal_year=plan.fiscal_year)
        user = member(f"{code}-staff", branch=branch, staff=True)
        user.email = f"{code}@example"
        user.save()
    today(TODAY + datetime.timedelta(days=1))
    with django_assert_num_queries(13):
        client.post(REMIND)
    assert len(mailoutbox) == 5


def test_reminders_are_logged(plan, people, today, mailoutbox, caplog):
    caplog.set_level("INFO", logger="plans.reminders")
    remind(people["hq"])
    assert "reminder sent: branch=tochigi months=2026-06,2026-08,2026-09,2026-10" in caplog.text
    assert "to=boss@tochigi.example,staff@tochigi.example by=hq-manager" in caplog.text


# -- the command for cron ---------------------------------------------------------------------------------------


def test_the_commands_dry_run_says_what_it_would_send_and_sends_nothing(plan, people, today, mailoutbox, capsys):
    call_command("send_report_reminders", "--dry-run")
    out = capsys.readouterr().out
    assert "栃木支部の2026年6月・2026年8月・2026年9月・2026年10月について督促メールを2人に送ります（試行のみ）。" in out
    assert mailoutbox == [] and not MonthReport.objects.filter(last_reminded_on=TODAY).exists()
    assert not MonthReport.objects.filter(plan=plan, month=month(9)).exists()


def test_the_command_sends_with_links_to_the_site_once_a_day(plan, people, today, mailoutbox, settings, capsys):
    settings.SITE_URL = "https://kpitrack.example/"
    call_command("send_report_reminders")
    call_command("send_report_reminders")
    assert len(mailoutbox) == 1
    assert "https://kpitrack.example/branches/tochigi/2026/entry/2026-09/" in mailoutbox[0].body
    assert "本日すでに督促済み" in capsys.readouterr().out


def test_the_command_reads_last_years_march_in_april(tochigi, people, today, mailoutbox):
    PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=YEAR))
    today(datetime.date(2027, 4, 15))  # March 2027 (FY2026) was due on 10 April
    call_command("send_report_reminders", "--fiscal-year", str(YEAR))
    assert "2027年3月" in mailoutbox[0].body


@pytest.mark.parametrize(
    ("day", "years"),
    [
        (datetime.date(2027, 4, 15), [2026, 2027]),
        (datetime.date(2026, 11, 20), [2026]),
        (datetime.date(2027, 3, 1), [2026]),
    ],
)
def test_without_a_year_the_command_reads_last_months_and_this_months_years(day, years):
    assert default_years(day) == years


def test_the_command_refuses_an_unknown_year():
    with pytest.raises(CommandError, match="FY2090"):
        call_command("send_report_reminders", "--fiscal-year", "2090")


# -- settings -------------------------------------------------------------------------------------------------

EMAIL_VARIABLES = ("EMAIL_BACKEND", "EMAIL_FILE_PATH", "EMAIL_PORT", "EMAIL_USE_TLS", "EMAIL_USE_SSL")


def settings_with(**env: str) -> subprocess.CompletedProcess[str]:
    """kpitrack.settings imported in a fresh interpreter with ``env``; prints the e-mail and deadline settings."""
    names = (*EMAIL_VARIABLES, "REPORT_DEADLINE_DAY")
    environment = {k: v for k, v in os.environ.items() if k not in names}
    environment.update(env)
    code = f"import json, kpitrack.settings as s; print(json.dumps({{n: getattr(s, n) for n in {names!r}}}))"
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=BASE_DIR, capture_output=True, text=True, timeout=120
    )


def test_with_nothing_set_mail_goes_to_the_console_and_reports_are_due_on_the_tenth():
    loaded = json.loads(settings_with().stdout)
    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert (loaded["REPORT_DEADLINE_DAY"], loaded["EMAIL_PORT"], loaded["EMAIL_USE_TLS"]) == (10, 25, False)


def test_the_file_and_smtp_backends_are_chosen_by_name():
    loaded = json.loads(settings_with(EMAIL_BACKEND="file", EMAIL_FILE_PATH="/tmp/kpitrack-mail").stdout)
    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert loaded["EMAIL_FILE_PATH"] == "/tmp/kpitrack-mail"
    loaded = json.loads(settings_with(EMAIL_BACKEND="smtp", EMAIL_PORT="587", EMAIL_USE_TLS="true").stdout)
    assert (loaded["EMAIL_BACKEND"], loaded["EMAIL_PORT"], loaded["EMAIL_USE_TLS"]) == (
        "django.core.mail.backends.smtp.EmailBackend",
        587,
        True,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REPORT_DEADLINE_DAY": "0"}, "REPORT_DEADLINE_DAY must be a day of the month (1–31), not 0"),
        ({"REPORT_DEADLINE_DAY": "32"}, "REPORT_DEADLINE_DAY must be a day of the month (1–31), not 32"),
        ({"REPORT_DEADLINE_DAY": "tenth"}, "REPORT_DEADLINE_DAY must be a whole number, not 'tenth'"),
        ({"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"}, "EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on"),
    ],
)
def test_settings_refuse_a_bad_deadline_day_or_both_tls_and_ssl(env, message):
    result = settings_with(**env)
    assert result.returncode != 0 and message in result.stderr.strip().splitlines()[-1]


def test_the_late_list_and_the_grid_are_translated_and_escaped_in_english(plan, hq_manager, today):
    """The late rows and the grid's cells are made in Python (issue 12): the same catalog entries as the
    template's, and every text escaped."""
    client = client_for(hq_manager)
    client.cookies["django_language"] = "en"
    html = client.get(STATUS, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<td class="late-days">133 days</td>' in html
    row = re.search(r'<tr class="late-row">.*?</tr>', html, re.S)
    assert row is not None and '<span class="wf-badge wf-returned">Returned</span>' in row.group(0)
    assert re.search(
        r'<td class="late" data-month="2026-06" data-status="returned"><a class="wf-returned" '
        r'href="/branches/tochigi/2026/entry/2026-06/" title="[^"<>]+">[^<]+<span class="late-mark">'
        r"Overdue</span></a></td>",
        html,
    )
