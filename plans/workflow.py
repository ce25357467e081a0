"""The month's workflow (月次報告): draft → submitted → approved, or returned with a reason; reopened by HQ.

The allowed moves are data (``TRANSITIONS``); ``month_transition`` is the one write path for a report's
status, used by the browser, the admin and the tests alike. Each move is recorded in the report's history
with who, when and the reason.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from plans import fiscal
from plans.models import MonthReport, Plan

Status = MonthReport.Status

REASON_REQUIRED = "{action}の理由を入力してください。"
UNTIL_REQUIRED = "再開の期限（日付）を入力してください。"
UNTIL_IN_PAST = "再開の期限は今日以降の日付にしてください。"
NOT_ALLOWED_FROM = "「{status}」の月は{action}できません。"
STATUS_CONFLICT = "この月の状態は他の利用者が先に変更しました（現在: {status}）。画面を読み込み直してください。"
MONTH_OUTSIDE_YEAR = "{month}は{year}の月ではありません。"
MONTH_IN_FUTURE = "{month}はまだ来ていません。"


@dataclass(frozen=True)
class Transition:
    """One allowed move of a month report."""

    name: str
    label: str  # what the button says: 提出 / 承認 / 差戻し / 再開
    sources: frozenset[str]
    target: str
    permission: str  # the branches.access permission the user needs for the report's branch
    needs_reason: bool = False
    needs_until: bool = False


_SUBMITTABLE = frozenset({Status.DRAFT, Status.RETURNED, Status.REOPENED})

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("submit", "提出", _SUBMITTABLE, Status.SUBMITTED, "enter_actuals"),
        Transition("approve", "承認", frozenset({Status.SUBMITTED}), Status.APPROVED, "approve_month"),
        Transition("return", "差戻し", frozenset({Status.SUBMITTED}), Status.RETURNED, "approve_month", True),
        Transition("reopen", "再開", frozenset({Status.APPROVED}), Status.REOPENED, "reopen_month", True, True),
    )
}


class WorkflowError(Exception):
    """A move that is not allowed or not complete; the message is for the user. Nothing was changed."""


def available(report: MonthReport) -> list[Transition]:
    """The moves the report's status allows (permissions aside)."""
    return [t for t in TRANSITIONS.values() if report.status in t.sources]


def report_for(plan: Plan, month: datetime.date, *, today: datetime.date | None = None) -> MonthReport:
    """The month's report, created as a draft the first time someone opens the month.

    Refuses a month outside the plan's fiscal year or still in the future.
    """
    today = today or timezone.localdate()
    if not fiscal.in_year(month, plan.fiscal_year_id):
        raise WorkflowError(
            MONTH_OUTSIDE_YEAR.format(month=fiscal.month_label(month), year=fiscal.reiwa_label(plan.fiscal_year_id))
        )
    if month > today.replace(day=1):
        raise WorkflowError(MONTH_IN_FUTURE.format(month=fiscal.month_label(month)))
    report, _ = MonthReport.objects.get_or_create(plan=plan, month=month)
    return report


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
    not allowed from the current status, a reason or end date is missing, or someone else moved the report
    since ``expected_version`` was read. The caller checks the user's permission (``Transition.permission``).
    """
    transition = TRANSITIONS[name]
    today = today or timezone.localdate()
    reason = reason.strip()
    if transition.needs_reason and not reason:
        raise WorkflowError(REASON_REQUIRED.format(action=transition.label))
    if transition.needs_until and until is None:
        raise WorkflowError(UNTIL_REQUIRED)
    if until is not None and until < today:
        raise WorkflowError(UNTIL_IN_PAST)
    current = MonthReport.objects.select_for_update().get(pk=report.pk)
    if current.version != expected_version:
        raise WorkflowError(STATUS_CONFLICT.format(status=current.get_status_display()))
    if current.status not in transition.sources:
        raise WorkflowError(NOT_ALLOWED_FROM.format(status=current.get_status_display(), action=transition.label))
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
