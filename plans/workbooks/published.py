"""A branch's fiscal year as the branch publishes it (事業計画実施状況), as an xlsx workbook.

Sheets: 「実施状況」 (Tochigi's layout: 項番, 担当グループ, KPI, the two previous years' actuals, target, actual,
mark, national average, next year's target, 備考), 「月次実績」 (the figures sheet, also the import's input: the
workbook round-trips) and 「施策の進捗」 (実施状況 / 評価 / 今後の実施予定 per measure and period).
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment

from plans import fiscal, rules
from plans.exports import NO_COLUMNS
from plans.models import MeasureProgress, Plan
from plans.results import KpiResult
from plans.selectors import published_columns
from plans.workbooks import layout, styles
from plans.workbooks.figures_sheet import plan_actuals, write_figures_sheet

AS_OF_NOTE = "（{month}時点）"


def published_headers(year: int) -> list[str]:
    label = fiscal.reiwa_label
    return [
        "項番",
        "担当グループ",
        "KPI",
        f"{label(year - 2)}実績",
        f"{label(year - 1)}実績",
        f"{label(year)}目標",
        f"{label(year)}実績",
        "評価",
        "全国平均",
        f"{label(year + 1)}目標",
        "備考",
    ]


PUBLISHED_WIDTHS = (5, 9, 44, 11, 11, 20, 11, 6, 10, 20, 30)


def workbook_title(plan: Plan, what: str) -> str:
    return f"{plan.branch} {plan.fiscal_year.label} {what}"


def _published_sheet(workbook: Workbook, plan: Plan, results: list[KpiResult]) -> None:
    sheet = workbook.active
    sheet.title = layout.PUBLISHED_SHEET
    title = workbook_title(plan, "事業計画実施状況")
    styles.title_row(sheet, title, "数値は公表桁数で表示しています（セルには保存されている値が入っています）。")
    header = 4
    styles.header_row(sheet, header, published_headers(plan.fiscal_year_id))
    styles.widths(sheet, PUBLISHED_WIDTHS)  # before the rows: their heights are fitted to the widths
    columns = published_columns(plan)
    for number, result in enumerate(results, start=1):
        line = header + number
        target, kpi = result.target, result.target.kpi
        published = columns.get(kpi.pk, NO_COLUMNS)
        fmt = styles.number_format(kpi.unit, target.precision)
        actual, remark = result.year_end, published.shown_remark
        if actual is None and result.latest is not None:
            actual = result.latest
            as_of = AS_OF_NOTE.format(month=fiscal.month_label(result.latest_month))
            remark = " ".join(p for p in (as_of, remark) if p)
        next_year = published.next_year_text if published.has_next_plan or published.deleted_next_year else ""
        values: list[tuple[object, str]] = [
            (number, "General"),
            (target.measure.group if target.measure else "", "General"),
            (result.name, "General"),
            (published.two_years_ago, fmt),
            (published.last_year, fmt),
            (" ".join(p for p in (published.definition_change, target.target_text) if p), "General"),
            (actual, fmt),
            (result.mark.value if result.mark else rules.NOT_JUDGED, "General"),
            (result.national_average, fmt),
            (next_year, "General"),
            (remark, "General"),
        ]
        for column, (value, cell_format) in enumerate(values, start=1):
            cell = styles.put(sheet, line, column, value, fmt=cell_format)  # type: ignore[arg-type]
            cell.alignment = Alignment(vertical="top", wrap_text=isinstance(value, str))
            if isinstance(value, Decimal):
                cell.alignment = Alignment(vertical="top", horizontal="right")
        styles.colour_mark(sheet.cell(row=line, column=8), result.mark)
        styles.fit_height(sheet, line)
    styles.print_setup(sheet, title=title, header_rows=(header, header), freeze="D5")
    sheet.auto_filter.ref = f"A{header}:K{max(sheet.max_row, header)}"


def _progress_sheet(workbook: Workbook, plan: Plan) -> None:
    sheet = workbook.create_sheet(layout.PROGRESS_SHEET)
    title = workbook_title(plan, "施策の進捗")
    styles.title_row(sheet, title)
    header = 4
    styles.header_row(sheet, header, ["施策", "担当グループ", "期間", "評価", "実施状況", "今後の実施予定"])
    styles.widths(sheet, (36, 9, 14, 6, 60, 50))
    progress = (
        MeasureProgress.objects.filter(measure__plan=plan)
        .select_related("measure")
        .order_by("measure__area_id", "measure__order", "as_of", "period")
    )
    line = header
    for item in progress:
        line += 1
        measure = item.measure
        values = (str(measure), measure.group, item.period, item.evaluation, item.status, item.next_steps)
        for column, value in enumerate(values, start=1):
            cell = styles.put(sheet, line, column, value)
            cell.alignment = styles.WRAP
        styles.colour_mark(sheet.cell(row=line, column=4), item.evaluation)
        styles.fit_height(sheet, line)
    styles.print_setup(sheet, title=title, header_rows=(header, header), freeze="B5")


def published_workbook(plan: Plan, results: list[KpiResult]) -> Workbook:
    """The published table, the figures sheet and measure progress of ``plan`` (``results``: plan_results)."""
    read_at = timezone.now()  # before the figures sheet reads the actuals
    workbook = Workbook()
    workbook.properties.title = workbook_title(plan, "事業計画実施状況")
    workbook.properties.creator = "kpitrack"
    _published_sheet(workbook, plan, results)
    write_figures_sheet(workbook, plan, results, plan_actuals(plan), title=workbook_title(plan, "月次実績"))
    _progress_sheet(workbook, plan)
    layout.write_meta(
        workbook, layout.Kind.PUBLISHED, read_at=read_at, branch=plan.branch.code, fiscal_year=plan.fiscal_year_id
    )
    return workbook


def workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def published_filename(plan: Plan) -> str:
    return f"kpitrack_{plan.branch.code}_{plan.fiscal_year_id}_published.xlsx"
