"""The cross-branch workbook of a fiscal year: an overview matrix of marks (branches × KPIs) and one sheet per KPI
(branches × months, the year end, the mark, and the national average underneath). Its KPI sheets read back
through ``plans.workbooks.importer`` (monthly and year-end values)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from branches.models import Branch
from plans import fiscal, rules
from plans.models import FiscalYear, Kpi, KpiActual, NationalAverage
from plans.results import KpiResult
from plans.rules import Mark
from plans.selectors import national_matrix
from plans.workbooks import layout, styles

VERTICAL = Alignment(textRotation=255, horizontal="center", vertical="top", wrap_text=True)
NO_TARGET_NOTE = "（計画にこのKPIはありません）"


def national_title(fiscal_year: FiscalYear, what: str) -> str:
    return f"全支部 {fiscal_year.label} {what}"


def _overview(workbook: Workbook, fiscal_year: FiscalYear, kpis: list[Kpi], rows: list[tuple[Branch, list]]) -> None:
    sheet = workbook.active
    sheet.title = layout.OVERVIEW_SHEET
    title = national_title(fiscal_year, "KPIの評価一覧")
    styles.title_row(sheet, title, "◎ 計画を上回る ○ 計画どおり △ 計画を下回る － 未評価（年度末実績なし）")
    header = 4
    marks = list(Mark)
    styles.header_row(sheet, header, ["支部", *(kpi.name for kpi in kpis), *(m.value for m in marks)], height=220)
    for column in range(2, len(kpis) + 2):
        sheet.cell(row=header, column=column).alignment = VERTICAL
    for line, (branch, cells) in enumerate(rows, start=header + 1):
        styles.put(sheet, line, 1, branch.name)
        counts: dict[Mark, int] = defaultdict(int)
        for column, result in enumerate(cells, start=2):
            mark = result.mark if result is not None else None
            cell = styles.put(sheet, line, column, (mark.value if mark else rules.NOT_JUDGED) if result else None)
            if result is not None:
                styles.colour_mark(cell, mark)
                if mark is not None:
                    counts[mark] += 1
        for offset, mark in enumerate(marks):
            cell = styles.put(sheet, line, len(kpis) + 2 + offset, counts[mark])
            cell.font = Font(color=styles.MARK_COLOURS[mark][0])
    styles.widths(sheet, (10, *([4.5] * len(kpis)), *([4] * len(marks))))
    styles.print_setup(sheet, title=title, header_rows=(header, header), freeze="B5")


def _kpi_sheet(
    workbook: Workbook,
    fiscal_year: FiscalYear,
    kpi: Kpi,
    number: int,
    rows: list[tuple[Branch, KpiResult | None]],
    figures: dict[tuple[int, int], dict[object, Decimal | str]],
    averages: dict[object, Decimal],
) -> str:
    name = layout.sheet_name(f"{number:02d} {kpi.name}")
    sheet = workbook.create_sheet(name)
    title = national_title(fiscal_year, kpi.name)
    styles.title_row(sheet, title, f"KPIコード: {kpi.code}　単位: {kpi.unit or '－'}", column=2)
    header = layout.KPI_SHEET_HEADER_ROW
    months = fiscal.months_of(fiscal_year.year)
    styles.header_row(
        sheet,
        header,
        [*layout.KPI_SHEET_FIXED, *(styles.month_header(m) for m in months), layout.YEAR_END_HEADER, "評価"],
    )
    line = header
    for branch, result in rows:
        line += 1
        styles.put(sheet, line, 1, branch.code)
        styles.put(sheet, line, 2, branch.name)
        if result is None:
            styles.put(sheet, line, 3, NO_TARGET_NOTE).font = Font(color=styles.NOT_JUDGED_COLOUR)
            for column in range(4, 4 + len(months) + 2):
                styles.put(sheet, line, column, None).fill = styles.READ_ONLY_FILL
            continue
        target = result.target
        fmt = styles.number_format("", target.precision)  # the unit is in the sheet's subtitle
        styles.put(sheet, line, 3, target.target_text)
        values = figures.get((branch.pk, kpi.pk), {})
        for offset, month in enumerate([*months, None]):
            styles.put(sheet, line, layout.KPI_FIRST_MONTH_COLUMN + offset, values.get(month), fmt=fmt)
        mark_cell = styles.put(sheet, line, layout.KPI_FIRST_MONTH_COLUMN + len(months) + 1, _mark(result))
        styles.colour_mark(mark_cell, result.mark)
    line += 1
    fmt = styles.number_format("", kpi.precision)
    label = styles.put(sheet, line, 2, layout.NATIONAL_AVERAGE_LABEL)
    label.font = Font(bold=True)
    for offset, month in enumerate([*months, None]):
        cell = styles.put(sheet, line, layout.KPI_FIRST_MONTH_COLUMN + offset, averages.get(month), fmt=fmt)
        cell.fill = styles.HEADER_FILL
    styles.widths(sheet, (10, 10, 18, *([9] * len(months)), 10, 6))
    sheet.column_dimensions["A"].hidden = True
    styles.print_setup(sheet, title=title, header_rows=(header, header), freeze="D5")
    return name


def _mark(result: KpiResult) -> str:
    return result.mark.value if result.mark else rules.NOT_JUDGED


def national_workbook(fiscal_year: FiscalYear) -> Workbook:
    """Every branch's KPIs of ``fiscal_year``: the overview of marks and one sheet per KPI (a fixed number of
    queries whatever the year's size)."""
    read_at = timezone.now()  # before any figure is read
    matrix = national_matrix(fiscal_year)
    rows = [(row.branch, row.cells) for row in matrix.rows]
    figures: dict[tuple[int, int], dict[object, Decimal | str]] = defaultdict(dict)
    actuals = (
        KpiActual.objects.filter(
            target__plan__fiscal_year=fiscal_year,
            period__in=(KpiActual.Period.MONTHLY, KpiActual.Period.YEAR_END),
        )
        .order_by()
        .values_list("target__plan__branch_id", "target__kpi_id", "month", "value", "text_value")
    )
    for branch_id, kpi_id, month, value, text in actuals:
        figure = value if value is not None else text
        if figure not in (None, ""):
            figures[(branch_id, kpi_id)][month] = figure
    averages: dict[int, dict[object, Decimal]] = defaultdict(dict)
    for kpi_id, as_of, value in NationalAverage.objects.filter(fiscal_year=fiscal_year).values_list(
        "kpi_id", "as_of", "value"
    ):
        averages[kpi_id][as_of.replace(day=1) if as_of else None] = value
    workbook = Workbook()
    workbook.properties.title = national_title(fiscal_year, "KPIの評価一覧")
    workbook.properties.creator = "kpitrack"
    _overview(workbook, fiscal_year, matrix.kpis, rows)
    sheets = []
    for number, kpi in enumerate(matrix.kpis, start=1):
        by_branch = [(branch, cells[number - 1]) for branch, cells in rows]
        name = _kpi_sheet(workbook, fiscal_year, kpi, number, by_branch, figures, averages[kpi.pk])
        sheets.append(("kpi_sheet", name, kpi.code))
    layout.write_meta(
        workbook, layout.Kind.NATIONAL, read_at=read_at, branch="", fiscal_year=fiscal_year.year, extra=sheets
    )
    return workbook


def national_filename(fiscal_year: FiscalYear) -> str:
    return f"kpitrack_national_{fiscal_year.year}.xlsx"
