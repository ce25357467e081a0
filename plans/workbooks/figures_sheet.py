"""The figures sheet (「月次実績」): every KPI of a plan a row (numerator and denominator rows for a rate), every
month a column, then the year end. Written by the published workbook and the entry template alike, and read back
by ``plans.workbooks.reader``.

The KPI's code (column A, hidden) identifies the row; the targets and labels are shown read-only (grey, the sheet
protected without a password); the figure cells are unlocked (pale yellow). A figure cell holds the exact stored
figure, shown at the KPI's published decimals with its unit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from openpyxl.styles import Alignment, Protection
from openpyxl.workbook import Workbook

from plans import fiscal
from plans.models import Kpi, KpiActual, Plan
from plans.results import KpiResult
from plans.workbooks import layout, styles

UNLOCKED = Protection(locked=False)
HOW_TO = (
    "黄色のセルに実績を入力してください（数値は単位なしで。定性のKPIは「実施」「未実施」）。"
    "空欄のセルは取り込まれず、保存済みの値はそのまま残ります。灰色の列は変更しても取り込まれません。"
)
COUNT_FORMAT = "#,##0.##"


def is_rate(kpi: Kpi) -> bool:
    return kpi.kind == Kpi.Kind.RATE or kpi.unit in {"%", "％"}


def plan_actuals(plan: Plan) -> dict[tuple[int, str, datetime.date | None], KpiActual]:
    """Every actual of ``plan`` by (target id, period, month) (1 query)."""
    return {(a.target_id, a.period, a.month): a for a in KpiActual.objects.filter(target__plan=plan).order_by()}


def _cell(actual: KpiActual | None, field: str) -> Decimal | str | None:
    if actual is None:
        return None
    if field == "value":
        return actual.value if actual.value is not None else (actual.text_value or None)
    return getattr(actual, field)


def write_figures_sheet(
    workbook: Workbook,
    plan: Plan,
    results: Iterable[KpiResult],
    actuals: dict[tuple[int, str, datetime.date | None], KpiActual],
    *,
    title: str,
) -> None:
    sheet = workbook.create_sheet(layout.FIGURES_SHEET)
    months = fiscal.months_of(plan.fiscal_year_id)
    styles.title_row(sheet, title, HOW_TO, column=2)  # column A (the KPI codes) is hidden
    headers = [*layout.FIGURES_FIXED, *(styles.month_header(m) for m in months), layout.YEAR_END_HEADER]
    styles.header_row(sheet, layout.FIGURES_HEADER_ROW, headers)
    line = layout.FIGURES_HEADER_ROW
    monthly, interim, year_end = KpiActual.Period.MONTHLY, KpiActual.Period.INTERIM, KpiActual.Period.YEAR_END
    for number, result in enumerate(results, start=1):
        target, kpi = result.target, result.target.kpi
        rows = [(layout.VALUE_ROW, "value", monthly)]
        if is_rate(kpi):
            rows += [(layout.NUMERATOR_ROW, "numerator", monthly), (layout.DENOMINATOR_ROW, "denominator", monthly)]
        if any((target.pk, interim, m) in actuals for m in months):
            rows.append((layout.INTERIM_ROW, "value", interim))
        figure_format = styles.number_format("", target.precision)  # the unit has its own column
        for label, field, period in rows:
            line += 1
            fmt = figure_format if field == "value" else COUNT_FORMAT
            fixed = (kpi.code, number, result.name, kpi.unit, target.target_text, label)
            for column, value in enumerate(fixed, start=1):
                cell = styles.put(sheet, line, column, value)
                cell.fill = styles.READ_ONLY_FILL
                cell.alignment = Alignment(vertical="top", wrap_text=column in (3, 5))
            for column, month in enumerate(months, start=layout.FIRST_MONTH_COLUMN):
                cell = styles.put(sheet, line, column, _cell(actuals.get((target.pk, period, month)), field), fmt=fmt)
                cell.fill, cell.protection = styles.INPUT_FILL, UNLOCKED
            column = layout.FIRST_MONTH_COLUMN + len(months)
            if period == interim:
                styles.put(sheet, line, column, None).fill = styles.READ_ONLY_FILL
            else:
                cell = styles.put(sheet, line, column, _cell(actuals.get((target.pk, year_end, None)), field), fmt=fmt)
                cell.fill, cell.protection = styles.INPUT_FILL, UNLOCKED
    styles.widths(sheet, (12, 5, 40, 6, 18, 8, *([9] * 12), 10))
    sheet.column_dimensions["A"].hidden = True
    sheet.protection.sheet = True  # the labels and targets are read-only; no password (nothing secret)
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
    styles.print_setup(
        sheet, title=title, header_rows=(layout.FIGURES_HEADER_ROW, layout.FIGURES_HEADER_ROW), freeze="G5"
    )
