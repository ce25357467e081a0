"""The month screen: a branch's figures for one month, entered as one sheet. Thin over ``plans.entry``."""

from __future__ import annotations

import datetime
import html

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import Context
from django.template.base import render_value_in_context
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods

from branches import access
from branches.models import Branch
from plans import entry, fiscal, rules, workflow
from plans.entry import Row, SaveOutcome, Sheet
from plans.formatting import format_figure
from plans.models import MonthReport, Plan
from plans.views.common import NO_PLAN
from plans.views.dashboards import mark_summary
from plans.views.workflow import month_workflow_context

NO_SUCH_MONTH = gettext_noop("月はYYYY-MMの形で指定してください（例: 2024-05）。")
#: The cookie that tells the page after a save (the redirect's target) that the month was saved, so its script drops
#: the browser's draft: set on the redirect, read and deleted by the next month screen. A cookie, not the session:
#: a flag in the session cost a session write on the save and another on the page after it.
SAVED_FLAG = "entry_saved"
COUNTS = "評価の内訳 ◎{above} ○{planned} △{below}・見込み 達成{on_track} 未達のおそれ{at_risk}"
BEFORE_AFTER = "{message}（保存前: {before} → 保存後: {after}）"


def _month_or_404(raw: str) -> datetime.date:
    try:
        month = fiscal.parse_month(raw)
    except ValueError as exc:
        raise Http404(NO_SUCH_MONTH) from exc
    if month is None or len(raw) != 7:
        raise Http404(NO_SUCH_MONTH)
    return month


def _open(request: HttpRequest, code: str, year: int, raw_month: str) -> tuple[Plan, datetime.date, MonthReport]:
    """The plan and month report, checked: 404 unknown branch / plan / month, 403 without view_branch (reading)
    or enter_actuals (saving). Headquarters reads the month (and reopens it from the workflow box).

    A month opened before (its report exists): the report with its plan, branch and year in one query."""
    needed = access.Permission.ENTER_ACTUALS if request.method == "POST" else access.Permission.VIEW_BRANCH
    try:
        month = _month_or_404(raw_month)
    except Http404:
        month = None  # refused below, after the branch, the permission and the plan (as a month opened first)
    report = entry.open_report(code, year, month) if month is not None else None
    if report is None:
        return _open_first(request, code, year, raw_month, needed)
    plan = report.plan
    access.require(request.user, needed, plan.branch)
    try:
        workflow.check_month(plan, report.month, today=timezone.localdate())
    except workflow.WorkflowError as exc:
        raise Http404(str(exc)) from exc
    return plan, report.month, report


def _open_first(
    request: HttpRequest, code: str, year: int, raw_month: str, needed: access.Permission
) -> tuple[Plan, datetime.date, MonthReport]:
    """``_open`` of a month without its report yet (created as a draft), or of a request refused."""
    plan = Plan.objects.select_related("branch", "fiscal_year").filter(branch__code=code, fiscal_year_id=year).first()
    branch = plan.branch if plan is not None else get_object_or_404(Branch, code=code)  # the plan's: no query
    access.require(request.user, needed, branch)
    if plan is None:
        raise Http404(NO_PLAN.format(branch=branch, year=fiscal.reiwa_label(year)))
    month = _month_or_404(raw_month)
    try:
        report = workflow.report_for(plan, month, today=timezone.localdate())
    except workflow.WorkflowError as exc:
        raise Http404(str(exc)) from exc
    report.plan = plan  # the workflow box reads the report's plan and branch: the ones read here
    return plan, month, report


def _counts(summary: dict[str, int]) -> str:
    return COUNTS.format(**summary)


@require_http_methods(["GET", "POST"])
@login_required
def month_entry(request: HttpRequest, code: str, year: int, month: str) -> HttpResponse:
    """GET: the month's sheet. POST: save it whole (PRG) or show what was refused, warned or in conflict."""
    plan, month_date, report = _open(request, code, year, month)
    today = timezone.localdate()
    if request.method == "POST":
        if report.is_locked(today):
            raise PermissionDenied(entry.LOCKED)
        preview = "preview" in request.POST
        outcome = entry.month_save(
            plan=plan,
            month=month_date,
            report=report,
            posted=request.POST,
            user=request.user,
            today=today,
            preview=preview,
        )
        if outcome.saved:
            text = _(outcome.message)
            if outcome.written:
                text = BEFORE_AFTER.format(message=text, before=_counts(outcome.before), after=_counts(outcome.after))
            messages.success(request, text)
            response = redirect("month_entry", code=plan.branch.code, year=year, month=month)
            if outcome.written:
                _flag_saved(request, response)
            return response
        return _render(request, plan, month_date, report, outcome.sheet, outcome, status=200)
    sheet = entry.month_sheet(plan, month_date, today)
    return _render(request, plan, month_date, report, sheet, None)


def _saved_token(request: HttpRequest) -> str:
    """The saved flag's value: bound to the session, so a flag left from another user's session means nothing."""
    return salted_hmac(SAVED_FLAG, request.session.session_key or "").hexdigest()[:20]


def _flag_saved(request: HttpRequest, response: HttpResponse) -> None:
    response.set_cookie(
        SAVED_FLAG,
        _saved_token(request),
        max_age=settings.SESSION_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _take_saved_flag(request: HttpRequest, response: HttpResponse) -> None:
    """Delete the saved flag once a month screen has read it."""
    if SAVED_FLAG in request.COOKIES:
        response.delete_cookie(SAVED_FLAG, samesite="Lax")


def _preview(outcome: SaveOutcome | None) -> dict[str, str] | None:
    """The preview box: the counts now and the counts the typed month would give (nothing saved)."""
    if outcome is None or outcome.saved or not outcome.after:
        return None
    return {"message": _(outcome.message), "before": _counts(outcome.before), "after": _counts(outcome.after)}


def _render(
    request: HttpRequest,
    plan: Plan,
    month: datetime.date,
    report: MonthReport,
    sheet: Sheet,
    outcome: SaveOutcome | None,
    status: int = 200,
) -> HttpResponse:
    months = fiscal.months_of(plan.fiscal_year_id)
    index = months.index(month)
    today = timezone.localdate()
    previous_month = months[index - 1] if index > 0 else None
    next_month = months[index + 1] if index + 1 < len(months) and months[index + 1] <= today else None
    projected = sheet.projected
    can_enter = access.has_permission(request.user, access.Permission.ENTER_ACTUALS, plan.branch)
    locked = report.is_locked(today)
    # The month's notes as read (a refused save may have set typed ones on them before rolling back: read again).
    notes = [row.note for row in sheet.rows if row.note is not None] if outcome is None else None
    context = {
        "plan": plan,
        "branch": plan.branch,
        "fiscal_year": plan.fiscal_year,
        "month": month,
        "report": report,
        "sheet": sheet,
        "rows": sheet.rows,
        "earlier_months": sheet.earlier_months,
        "locked": locked,
        "read_only": locked or not can_enter,
        "error_message": _(outcome.message) if outcome is not None and not outcome.after else "",
        "preview": _preview(outcome),
        "summary": mark_summary(sheet.counts),
        "on_track": projected.get(True, 0),
        "at_risk": projected.get(False, 0),
        "previous_month": previous_month,
        "next_month": next_month,
        "just_saved": request.COOKIES.get(SAVED_FLAG) == _saved_token(request),
        "storage_key": f"kpitrack-entry:{plan.branch.code}:{plan.fiscal_year_id}:{month:%Y-%m}",
        "rows_html": rows_html(sheet.rows, read_only=locked or not can_enter),
        **month_workflow_context(request, report, [row.result for row in sheet.rows], notes),
    }
    response = render(request, "plans/month_entry.html", context, status=status)
    _take_saved_flag(request, response)
    return response


# -- the sheet's rows -------------------------------------------------------------------------------------------
# The rows are written here, not by a template loop: about 60 template nodes a row were most of the screen's time.
# Every text is escaped as ``{{ value }}`` would be; tests/test_entry_speed.py renders the template the rows came
# from (tests/templates/month_entry_rows_reference.html) on the same sheets in both languages and compares.

L_LAST_YEAR = gettext_noop("前年同月")
L_SAVED = gettext_noop("保存済み")
L_RESULT = gettext_noop("評価・見込み")
L_NUMERATOR = gettext_noop("分子")
L_DENOMINATOR = gettext_noop("分母")
L_RATE = gettext_noop("率")
L_VALUE = gettext_noop("実績値")
L_DONE = gettext_noop("実施状況")
L_BLANK = gettext_noop("（未入力）")
L_CAUSE = gettext_noop("要因")
L_ACTION = gettext_noop("対応")
L_PROJECTED = gettext_noop("見込み")
L_ON_TRACK = gettext_noop("達成見込み")
L_AT_RISK = gettext_noop("未達のおそれ")
L_TARGET = gettext_noop("目標:")
L_REASON = gettext_noop("理由")
L_PREVIOUS = gettext_noop("前月: %(value)s")
L_THEIRS_SAVED = gettext_noop("他の利用者が先に保存しました: 「%(value)s」（%(who)s、%(when)s）")
L_THEIRS_DELETED = gettext_noop("他の利用者がこの実績を先に削除しました。")
L_YOURS = gettext_noop("あなたの入力: 「%(value)s」")
L_KEEP_MINE = gettext_noop("自分の値で保存する")
L_TAKE_THEIRS = gettext_noop("保存済みの値を使う")
NONE_SHOWN = "－"
_LABELS = (
    L_LAST_YEAR, L_SAVED, L_RESULT, L_NUMERATOR, L_DENOMINATOR, L_RATE, L_VALUE, L_DONE, L_BLANK, L_CAUSE, L_ACTION,
    L_PROJECTED, L_ON_TRACK, L_AT_RISK, L_TARGET, L_REASON,
)  # fmt: skip


def _e(value: object) -> str:
    """``{{ value }}`` in a template: the text escaped as ``django.utils.html.escape`` does (``html.escape``), a
    SafeString kept as it is (``conditional_escape``, without its cost for the many plain strings of a sheet)."""
    if type(value) is str:
        return html.escape(value)
    return conditional_escape(value)


def _messages(css: str, texts: list[str]) -> str:
    return "".join(f'<span class="msg {css}">{_e(t)}</span>' for t in texts)


def rows_html(rows: list[Row], *, read_only: bool) -> SafeString:
    """The ``<tr>`` rows of the month sheet (``plans/month_entry.html``'s table body), in the active language."""
    labels = {text: _e(_(text)) for text in _LABELS}  # msgid → its translation, escaped
    disabled = " disabled" if read_only else ""
    return mark_safe("\n".join(_row_html(i, row, labels, disabled) for i, row in enumerate(rows)))  # noqa: S308


def _row_html(index: int, row: Row, labels: dict[str, str], disabled: str) -> str:  # noqa: C901, PLR0912, PLR0915
    r = row.result
    p = _e(row.prefix)
    errors = row.errors
    actual = row.actual
    saved = _e(row.saved)
    out = [
        f'<tr class="entry-row state-{_e(row.state)}" data-grid-row="{_e(localize(index))}" id="{p}">\n'
        f'<th scope="row" class="kpi">\n<span class="kpi-name">{_e(r.name)}</span>\n'
        f'<span class="target-text">{labels[L_TARGET]} {_e(r.target.target_text or NONE_SHOWN)}</span>\n</th>\n'
        f'<td class="num" data-label="{labels[L_LAST_YEAR]}">{_e(row.last_year or NONE_SHOWN)}</td>\n'
    ]
    out.extend(
        f'<td class="num earlier" data-label="{_e(fiscal.month_label(e.month))}">{_e(e.display or NONE_SHOWN)}</td>'
        for e in row.earlier
    )
    counts = ""
    if actual is not None and actual.numerator is not None:
        counts = f"<small>{_e(floatformat(actual.numerator, '-2'))}/{_e(floatformat(actual.denominator, '-2'))}</small>"
    out.append(
        f'\n<td class="num saved-value" data-label="{labels[L_SAVED]}">{_e(row.saved or NONE_SHOWN)}{counts}</td>\n'
        f'<td class="inputs">\n<input type="hidden" name="{p}-version" value="{_e(str(row.version))}">\n'
    )
    typed = row.typed
    if row.is_choice:
        refused = " is-refused" if errors.get("text") else ""
        options = "".join(
            f'<option value="{_e(c)}"{" selected" if typed["text"] == c else ""}>{_e(_(c))}</option>'
            for c in row.choices
        )
        out.append(
            f'<label class="field"><span class="sr">{labels[L_DONE]}</span>\n'
            f'<select name="{p}-text" class="cell{refused}" data-col="2" data-saved="{saved}"{disabled}>\n'
            f'<option value=""{"" if typed["text"] else " selected"}>{labels[L_BLANK]}</option>\n'
            f"{options}\n</select></label>\n{_messages('refused', errors.get('text', []))}\n"
        )
    else:
        if row.is_rate:
            out.append('<span class="counts">\n')
            for name, col, label in (("numerator", 0, L_NUMERATOR), ("denominator", 1, L_DENOMINATOR)):
                saved_count = _e(floatformat(getattr(actual, name), "-2")) if actual is not None else ""
                out.append(
                    f'<label class="field"><span class="lbl">{labels[label]}</span><input name="{p}-{name}" '
                    f'value="{_e(typed[name])}" class="cell count{" is-refused" if errors.get(name) else ""}" '
                    f'data-col="{col}" data-saved="{saved_count}" inputmode="decimal" autocomplete="off"{disabled}>'
                    "</label>\n"
                )
            out.append("</span>\n")
        unit = f'<span class="unit">{_e(r.kpi.unit)}</span>' if r.kpi.unit else ""
        out.append(
            f'<label class="field value"><span class="lbl">{labels[L_RATE if row.is_rate else L_VALUE]}</span>'
            f'<input name="{p}-value" value="{_e(typed["value"])}" class="cell'
            f'{" is-refused" if errors.get("value") else ""}" data-col="2" data-saved="{saved}" '
            f'placeholder="{_e(row.previous_display)}" inputmode="decimal" autocomplete="off"{disabled}>'
            f"{unit}</label>\n"
        )
        if row.is_rate:
            out.append(
                f'<output class="live-rate" data-precision="{_e(str(r.target.precision))}" aria-live="polite">'
                "</output>\n"
            )
        out.append(f"{_messages('refused', row.value_errors)}\n")
    if row.previous_display:
        out.append(f'<span class="hint">{_(L_PREVIOUS) % {"value": _e(row.previous_display)}}</span>\n')
    if row.conflict_pending:
        out.append(f'<div class="conflict" role="alert">\n<input type="hidden" name="{p}-conflict" value="1">\n')
        conflict = row.conflict
        if conflict is not None:
            when = render_value_in_context(conflict.entered_at, Context())
            who = _e(conflict.entered_by or NONE_SHOWN)
            theirs = _(L_THEIRS_SAVED) % {"value": _e(conflict.display_value), "who": who, "when": when}
            out.append(f"<p>{theirs}</p>\n")
        else:
            out.append(f"<p>{_e(_(L_THEIRS_DELETED))}</p>\n")
        yours = _(L_YOURS) % {"value": _e(typed["value"] or typed["text"] or NONE_SHOWN)}
        out.append(
            f"<p>{yours}</p>\n"
            f'<label><input type="radio" name="{p}-resolve" value="mine"> {_e(_(L_KEEP_MINE))}</label>\n'
            f'<label><input type="radio" name="{p}-resolve" value="theirs"> {_e(_(L_TAKE_THEIRS))}</label>\n'
            "</div>\n"
        )
    out.append(f"{_messages('refused', errors.get('resolve', []))}\n")
    if row.warnings or row.reason or errors.get("reason"):
        out.append(
            f'<div class="warning">\n{_messages("warned", row.warnings)}\n'
            f'<label class="field reason"><span class="lbl">{labels[L_REASON]}</span><input name="{p}-reason" '
            f'value="{_e(row.reason)}" maxlength="200" autocomplete="off"></label>\n'
            f"{_messages('refused', errors.get('reason', []))}\n</div>\n"
        )
    out.append(f'</td>\n<td class="result" data-label="{labels[L_RESULT]}">\n')
    projection = r.projection
    if r.mark:
        out.append(f'<span class="mark {_e(rules.mark_css(r.mark))}">{_e(r.mark)}</span>\n')
    elif projection:
        css = "on-track" if projection.on_track else "at-risk" if projection.on_track is False else ""
        figure = _e(format_figure(projection.value, r.kpi.unit, r.target.precision))
        note = (
            f"<small>{labels[L_ON_TRACK]}</small>"
            if projection.on_track
            else f"<small>{labels[L_AT_RISK]}</small>"
            if projection.on_track is False
            else ""
        )
        out.append(f'<span class="projection {css}">{labels[L_PROJECTED]} {figure}\n{note}</span>\n')
    else:
        out.append('<span class="mark mark-none">－</span>\n')
    if row.needs_note or row.cause or errors.get("note"):
        out.append(
            '<div class="shortfall">\n'
            f'<label class="field"><span class="lbl">{labels[L_CAUSE]}</span><input name="{p}-cause" '
            f'value="{_e(row.cause)}" maxlength="1000" autocomplete="off"{disabled}></label>\n'
            f'<label class="field"><span class="lbl">{labels[L_ACTION]}</span><input name="{p}-action" '
            f'value="{_e(row.action)}" maxlength="1000" autocomplete="off"{disabled}></label>\n'
            f"{_messages('refused', errors.get('note', []))}\n</div>\n"
        )
    out.append("</td>\n</tr>")
    return "".join(out)
