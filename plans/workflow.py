"""The month's workflow (月次報告): draft → submitted → approved, or returned with a reason; reopened by HQ.

The allowed moves are data (``TRANSITIONS``); ``month_transition`` is the one write path for a report's
status, used by the browser, the admin and the tests alike. Each move is recorded in the report's history
with who, when and the reason.
"""

from __future__ import annotations

import calendar
import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from branches.access import Permission, User, has_permission
from branches.models import Branch, Membership
from plans import fiscal, selectors, versions
from plans.models import MonthReport, Plan, ShortfallNote
from plans.results import KpiResult
from plans.rules import Mark

Status = MonthReport.Status

REASON_REQUIRED = "{action}の理由を入力してください。"
REASON_TOO_LONG = "{action}の理由は{limit}文字以内で入力してください（いま{length}文字）。"
UNTIL_REQUIRED = "再開の期限（日付）を入力してください。"
UNTIL_IN_PAST = "再開の期限は今日以降の日付にしてください。"
NOT_ALLOWED_FROM = "「{status}」の月は{action}できません。"
STATUS_CONFLICT = "この月の状態は他の利用者が先に変更しました（現在: {status}）。画面を読み込み直してください。"
MONTH_OUTSIDE_YEAR = "{month}は{year}の月ではありません。"
MONTH_IN_FUTURE = "{month}はまだ来ていません。"
SUBMIT_BLOCKED = "{month}はまだ提出できません。"
SHORTFALL_NOTE_REQUIRED = "「{kpi}」は{state}です。提出する前に要因と対応を入力してください。"
STATE_BELOW = "△（計画を下回る）"
STATE_AT_RISK = "年度末の見込みが「未達のおそれ」"


@dataclass(frozen=True)
class Transition:
    """One allowed move of a month report."""

    name: str
    label: str  # what the button says: 提出 / 承認 / 差戻し / 再開
    sources: frozenset[str]
    target: str
    permission: Permission  # what the user must hold for the report's branch
    needs_reason: bool = False
    needs_until: bool = False


_SUBMITTABLE = frozenset({Status.DRAFT, Status.RETURNED, Status.REOPENED})

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("submit", gettext_noop("提出"), _SUBMITTABLE, Status.SUBMITTED, Permission.ENTER_ACTUALS),
        Transition(
            "approve", gettext_noop("承認"), frozenset({Status.SUBMITTED}), Status.APPROVED, Permission.APPROVE_MONTH
        ),
        Transition(
            "return",
            gettext_noop("差戻し"),
            frozenset({Status.SUBMITTED}),
            Status.RETURNED,
            Permission.APPROVE_MONTH,
            needs_reason=True,
        ),
        Transition(
            "reopen",
            gettext_noop("再開"),
            frozenset({Status.APPROVED}),
            Status.REOPENED,
            Permission.REOPEN_MONTH,
            needs_reason=True,
            needs_until=True,
        ),
    )
}


class WorkflowError(Exception):
    """A move that is not allowed or not complete; the message is for the user. Nothing was changed."""


class SubmitBlocked(WorkflowError):
    """Submission refused: ``blockers`` holds one message per KPI still missing its 要因 and 対応."""

    def __init__(self, message: str, blockers: list[str]) -> None:
        super().__init__(" ".join([message, *blockers]))
        self.headline = message
        self.blockers = blockers


def available(report: MonthReport) -> list[Transition]:
    """The moves the report's status allows (permissions aside)."""
    return [t for t in TRANSITIONS.values() if report.status in t.sources]


def actions_for(user: User, report: MonthReport) -> list[Transition]:
    """The moves the report's status allows and ``user`` holds the permission for, for the report's branch.

    What the buttons show; the view checks the permission again on every POST.
    """
    branch = report.plan.branch
    return [t for t in available(report) if has_permission(user, t.permission, branch)]


def submit_blockers(
    report: MonthReport, results: Iterable[KpiResult] | None = None, notes: Iterable[ShortfallNote] | None = None
) -> list[str]:
    """What stops ``report`` from being submitted: one message per KPI of the plan standing at △ or projected
    「未達のおそれ」 that has no 要因 and 対応 (``ShortfallNote``) for the report's month, and in a half's last
    month one per measure without its half-year progress (at most 6 queries).

    The marks and projections are the plan's current ones (``plans.selectors.plan_results``), the notes the month's;
    ``results`` and ``notes`` (every note of the plan for the month) when the caller has just read them, e.g. the
    month screen.
    """
    if notes is None:
        notes = ShortfallNote.objects.filter(target__plan_id=report.plan_id, month=report.month).only(
            "target_id", "cause", "action"
        )
    noted = {note.target_id for note in notes if note.cause.strip() and note.action.strip()}
    blockers = []
    for result in selectors.plan_results(report.plan) if results is None else results:
        if result.mark is Mark.BELOW:
            state = STATE_BELOW
        elif result.mark is None and result.projection is not None and result.projection.on_track is False:
            state = STATE_AT_RISK
        else:
            continue
        if result.target.pk not in noted:
            blockers.append(SHORTFALL_NOTE_REQUIRED.format(kpi=result.name, state=state))
    # A half's last month (September, March) also carries the half's measure progress (plans.progress);
    # imported here because plans.progress builds on this module.
    from plans.progress import progress_blockers

    return blockers + progress_blockers(report)


def report_for(plan: Plan, month: datetime.date, *, today: datetime.date | None = None) -> MonthReport:
    """The month's report, created as a draft the first time someone opens the month.

    Refuses a month outside the plan's fiscal year or still in the future.
    """
    check_month(plan, month, today=today)
    report, _ = MonthReport.objects.get_or_create(plan=plan, month=month)
    return report


def check_month(plan: Plan, month: datetime.date, *, today: datetime.date | None = None) -> None:
    """What ``report_for`` refuses (``WorkflowError``): a month outside the plan's fiscal year or still to come."""
    today = today or timezone.localdate()
    if not fiscal.in_year(month, plan.fiscal_year_id):
        raise WorkflowError(
            MONTH_OUTSIDE_YEAR.format(month=fiscal.month_label(month), year=fiscal.reiwa_label(plan.fiscal_year_id))
        )
    if month > today.replace(day=1):
        raise WorkflowError(MONTH_IN_FUTURE.format(month=fiscal.month_label(month)))


@transaction.atomic
def month_transition(
    *,
    report: MonthReport,
    name: str,
    user: AbstractBaseUser | None,
    expected_version: int,
    reason: str = "",
    until: datetime.date | None = None,
    today: datetime.date | None = None,
) -> MonthReport:
    """Move ``report`` by transition ``name``. Raises ``WorkflowError`` (nothing changed) when the move is
    not allowed from the current status, a reason or end date is missing, someone else moved the report
    since ``expected_version`` was read, or (``SubmitBlocked``) a KPI behind its target still lacks its
    要因 and 対応 at submission. The caller checks the user's permission (``Transition.permission``).
    """
    transition = TRANSITIONS[name]
    today = today or timezone.localdate()
    reason = reason.strip()
    if transition.needs_reason and not reason:
        raise WorkflowError(REASON_REQUIRED.format(action=transition.label))
    limit = MonthReport._meta.get_field("reason").max_length or 0
    if len(reason) > limit:
        raise WorkflowError(REASON_TOO_LONG.format(action=transition.label, limit=limit, length=len(reason)))
    if transition.needs_until and until is None:
        raise WorkflowError(UNTIL_REQUIRED)
    if until is not None and until < today:
        raise WorkflowError(UNTIL_IN_PAST)
    versions.lock_plan(*_plan_scope(report))  # the plan's data version row first (plans.versions.bump)
    current = MonthReport.objects.select_for_update().get(pk=report.pk)
    if current.version != expected_version:
        raise WorkflowError(STATUS_CONFLICT.format(status=current.get_status_display()))
    if current.status not in transition.sources:
        raise WorkflowError(NOT_ALLOWED_FROM.format(status=current.get_status_display(), action=transition.label))
    if transition.target == Status.SUBMITTED:
        blockers = submit_blockers(current)
        if blockers:
            raise SubmitBlocked(SUBMIT_BLOCKED.format(month=fiscal.month_label(current.month)), blockers)
    current.status = transition.target
    current.reason = reason
    current.reopened_until = until if transition.needs_until else None
    if transition.target == Status.APPROVED:
        current.changed_after_approval = False
    current.version += 1
    current.updated_by = user  # type: ignore[assignment]
    current._change_reason = reason or transition.label  # type: ignore[attr-defined]
    current.full_clean()
    current.save()
    return current


def figures_changed(report: MonthReport, *, user: AbstractBaseUser | None) -> None:
    """Called by the write path when a figure of ``report``'s month changes: a reopened month is flagged
    for re-approval (承認後に変更あり)."""
    if report.status == Status.REOPENED and not report.changed_after_approval:
        report.changed_after_approval = True
        report.updated_by = user  # type: ignore[assignment]
        report._change_reason = "承認後に実績を変更"  # type: ignore[attr-defined]
        report.save(update_fields=["changed_after_approval", "updated_by", "updated_at"])


# -- reporting status for HQ (提出状況) ---------------------------------------------------------------------

NOT_STARTED = "not_started"
NOT_STARTED_LABEL = gettext_noop("未着手")  # the month has no report yet
#: Statuses that count as reported: a month in any other status is late once its deadline has passed.
#: A reopened month was approved in time; its own end date (``reopened_until``) locks it again.
REPORTED = frozenset({Status.SUBMITTED, Status.APPROVED, Status.REOPENED})


def deadline_of(month: datetime.date, day: int | None = None) -> datetime.date:
    """The reporting deadline of ``month``: day ``day`` (default ``settings.REPORT_DEADLINE_DAY``) of the
    following month, or that month's last day when it is shorter."""
    day = day if day is not None else settings.REPORT_DEADLINE_DAY
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following.replace(day=min(day, calendar.monthrange(following.year, following.month)[1]))


def reporting_months(year: int, today: datetime.date) -> list[datetime.date]:
    """The months of fiscal year ``year`` up to and including the current month."""
    return [m for m in fiscal.months_of(year) if m <= today.replace(day=1)]


def entry_path(branch_code: str, year: int, month: datetime.date) -> str:
    """The branch's month screen (``month_entry``): /branches/<code>/<year>/entry/<YYYY-MM>/."""
    return f"/branches/{branch_code}/{year}/entry/{month:%Y-%m}/"


@dataclass(frozen=True)
class StatusCell:
    """One branch-month of the reporting status: its status, and how many days late it is (None: not late)."""

    branch: Branch
    plan: Plan
    month: datetime.date
    status: str  # NOT_STARTED or a MonthReport.Status value
    report: MonthReport | None
    deadline: datetime.date
    days_late: int | None

    @property
    def label(self) -> str:
        """未着手 / 作成中 / 提出済み / 差戻し / 承認済み / 再開中, in the active language."""
        return gettext(NOT_STARTED_LABEL) if self.status == NOT_STARTED else str(Status(self.status).label)

    @property
    def is_late(self) -> bool:
        return self.days_late is not None

    @property
    def month_label(self) -> str:
        return fiscal.month_label(self.month)

    @property
    def path(self) -> str:
        return entry_path(self.branch.code, self.plan.fiscal_year_id, self.month)


@dataclass(frozen=True)
class StatusRow:
    branch: Branch
    cells: list[StatusCell]  # empty when the branch has no plan that year

    @property
    def has_plan(self) -> bool:
        return bool(self.cells)


@dataclass(frozen=True)
class ReportStatus:
    year: int
    today: datetime.date
    months: list[datetime.date]
    rows: list[StatusRow]

    @property
    def late(self) -> list[StatusCell]:
        """The late branch-months, branch by branch (JIS order), oldest month first."""
        return [cell for row in self.rows for cell in row.cells if cell.is_late]


def status_cell(
    plan: Plan,
    month: datetime.date,
    report: MonthReport | None,
    today: datetime.date,
    deadline: datetime.date | None = None,
) -> StatusCell:
    """One branch-month's status and lateness; ``deadline`` is ``deadline_of(month)`` when not given."""
    status = report.status if report is not None else NOT_STARTED
    deadline = deadline or deadline_of(month)
    late = status not in REPORTED and today > deadline
    return StatusCell(plan.branch, plan, month, status, report, deadline, (today - deadline).days if late else None)


def report_status(year: int, today: datetime.date | None = None) -> ReportStatus:
    """Every branch (JIS order) × the months of fiscal year ``year`` so far (3 queries, whatever the number
    of branches)."""
    today = today or timezone.localdate()
    months = reporting_months(year, today)
    plans = {p.branch_id: p for p in Plan.objects.filter(fiscal_year_id=year)}
    reports = {  # who updated a report is not shown here: no join to the users
        (r.plan_id, r.month): r for r in MonthReport.objects.filter(plan__fiscal_year_id=year, month__in=months)
    }
    deadlines = {m: deadline_of(m) for m in months}
    rows = []
    for branch in Branch.objects.order_by("jis_code"):
        plan = plans.get(branch.pk)
        cells = []
        if plan is not None:
            plan.branch = branch
            cells = [status_cell(plan, m, reports.get((plan.pk, m)), today, deadlines[m]) for m in months]
        rows.append(StatusRow(branch, cells))
    return ReportStatus(year, today, months, rows)


# -- reminders (督促メール) ----------------------------------------------------------------------------------

REMINDED_TODAY = gettext_noop("{branch}の{months}は本日すでに督促済みのため、送りませんでした。")
REMINDER_SENT = gettext_noop("{branch}の{months}について督促メールを{count}人に送りました。")
REMINDER_WOULD_SEND = gettext_noop("{branch}の{months}について督促メールを{count}人に送ります（試行のみ）。")
NO_EMAIL = gettext_noop("{branch}の{users}はメールアドレスが登録されていないため、送りませんでした。")
NO_RECIPIENTS = gettext_noop("{branch}には督促メールを送れる担当者・管理者がいません。")
NOTHING_LATE = gettext_noop("遅れている支部はありません。")
SEND_FAILED = gettext_noop("督促メールを送れませんでした（{error}）。メールの設定を確認して、もう一度送ってください。")
REMINDER_SUBJECT = "plans/email/report_reminder_subject.txt"
REMINDER_BODY = "plans/email/report_reminder_body.txt"

logger = logging.getLogger("plans.reminders")


@dataclass
class BranchReminder:
    """What a reminder to one branch covers and who gets it."""

    branch: Branch
    cells: list[StatusCell]  # the late months not reminded today
    already_reminded: list[StatusCell]  # the late months reminded earlier today
    recipients: list[str] = field(default_factory=list)  # e-mail addresses of the branch's staff and manager
    without_email: list[str] = field(default_factory=list)  # usernames of those who have none

    @property
    def months(self) -> str:
        return "・".join(c.month_label for c in self.cells)

    @property
    def reminded_months(self) -> str:
        return "・".join(c.month_label for c in self.already_reminded)



def _plan_scope(report: MonthReport) -> tuple[int, int]:
    """(fiscal year, branch id) of ``report``'s plan, without a query when the plan was read with it."""
    plan = report._state.fields_cache.get("plan")
    if plan is not None and plan.pk == report.plan_id:
        return plan.fiscal_year_id, plan.branch_id
    return Plan.objects.filter(pk=report.plan_id).values_list("fiscal_year_id", "branch_id").get()

def plan_reminders(late: list[StatusCell], today: datetime.date) -> list[BranchReminder]:
    """Group the late cells by branch and find each branch's recipients (1 query)."""
    by_branch: dict[int, BranchReminder] = {}
    for cell in late:
        reminder = by_branch.setdefault(cell.branch.pk, BranchReminder(cell.branch, [], []))
        reminded = cell.report is not None and cell.report.last_reminded_on == today
        (reminder.already_reminded if reminded else reminder.cells).append(cell)
    members = Membership.objects.filter(
        branch_id__in=by_branch, role__in=[Membership.Role.STAFF, Membership.Role.MANAGER], user__is_active=True
    ).select_related("user")
    for membership in members.order_by("branch_id", "user__username"):
        user = membership.user
        reminder = by_branch[membership.branch_id]
        if user.email.strip():
            reminder.recipients.append(user.email.strip())
        else:
            reminder.without_email.append(user.get_username())
    return list(by_branch.values())


def reminder_message(reminder: BranchReminder, base_url: str) -> EmailMessage:
    context = {"branch": reminder.branch, "cells": reminder.cells, "base_url": base_url.rstrip("/")}
    subject = " ".join(render_to_string(REMINDER_SUBJECT, context).split())
    body = render_to_string(REMINDER_BODY, context)
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, reminder.recipients)


def send_reminders(
    late: list[StatusCell],
    *,
    base_url: str,
    today: datetime.date | None = None,
    dry_run: bool = False,
    sent_by: str = "",
) -> list[str]:
    """E-mail each branch with late months its staff and manager, at most once per branch-month per day.

    Returns Japanese messages saying what was skipped and why, then what was sent. The day of the reminder is
    kept on the month's report (``last_reminded_on``; a month not started gets its draft report) once the mail
    is out; when sending fails nothing is kept and the message says so. A constant number of queries whatever
    the number of branches.
    """
    today = today or timezone.localdate()
    if not late:
        return [gettext(NOTHING_LATE)]
    notes: list[str] = []  # what was skipped and why
    sent: list[str] = []  # what is sent, once it is
    to_send: list[tuple[BranchReminder, EmailMessage]] = []
    for reminder in plan_reminders(late, today):
        name = str(reminder.branch)
        if reminder.already_reminded:
            notes.append(gettext(REMINDED_TODAY).format(branch=name, months=reminder.reminded_months))
        if reminder.without_email:
            notes.append(gettext(NO_EMAIL).format(branch=name, users="、".join(reminder.without_email)))
        if not reminder.cells:
            continue
        if not reminder.recipients:
            notes.append(gettext(NO_RECIPIENTS).format(branch=name))
            continue
        template = REMINDER_WOULD_SEND if dry_run else REMINDER_SENT
        sent.append(gettext(template).format(branch=name, months=reminder.months, count=len(reminder.recipients)))
        to_send.append((reminder, reminder_message(reminder, base_url)))
    if dry_run or not to_send:
        return notes + sent
    try:
        get_connection().send_messages([message for _, message in to_send])
    except OSError as error:  # smtplib's errors, a refused connection, a timeout, an unwritable file
        logger.exception("reminders not sent: %s", error)
        return [*notes, gettext(SEND_FAILED).format(error=error)]
    with transaction.atomic():
        cells = [cell for reminder, _ in to_send for cell in reminder.cells]
        MonthReport.objects.filter(pk__in=[c.report.pk for c in cells if c.report is not None]).update(
            last_reminded_on=today
        )
        MonthReport.objects.bulk_create(  # a month opened meanwhile keeps its report (and is reminded again)
            [MonthReport(plan=c.plan, month=c.month, last_reminded_on=today) for c in cells if c.report is None],
            ignore_conflicts=True,
        )
        # shows 最後に督促した日 on the status page; no target's result or KPI page shows it
        versions.bump_scopes(((c.plan.fiscal_year_id, c.plan.branch_id) for c in cells), stamp_targets=False)
    for reminder, message in to_send:
        logger.info(
            "reminder sent: branch=%s months=%s to=%s by=%s",
            reminder.branch.code,
            ",".join(f"{c.month:%Y-%m}" for c in reminder.cells),
            ",".join(message.to),
            sent_by or "-",
        )
    return notes + sent
