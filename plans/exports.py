"""The branch dashboard as a file a Japanese office opens in Excel: CSV (UTF-8 with a BOM) or xlsx.

- CSV: UTF-8 with a BOM (so Excel in a Japanese office reads it as UTF-8, not Shift_JIS), CRLF line ends,
  figures as plain numbers at the KPI's published precision (no thousands separators, the unit in its own column).
- xlsx: figures are number cells holding the published figure (72.2 for 72.2%) with a number format that shows
  the published decimals and the unit (``0.0"%"``, ``#,##0"事業所"``); the as-of month is a date cell shown as
  2024年9月; bold, frozen header row with a filter.
- Text that a spreadsheet would run as a formula (starting with = + - @, tab or CR) is never a formula: in CSV it
  gets a leading single quote, in xlsx it is a string cell (with Excel's quote prefix).

A format other than csv or xlsx raises ``ExportFormatError``, a ``BadRequest``: Django answers 400 and the
400 page shows ``EXPORT_FORMAT_ERROR`` (kpitrack/errors.py).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import BadRequest
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_noop
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from plans import rules
from plans.fiscal import month_label
from plans.models import Plan
from plans.results import KpiResult
from plans.selectors import PublishedColumns, published_columns

EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_FORMAT_ERROR = gettext_noop("出力形式は csv か xlsx を指定してください。")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MONTH_FORMAT = 'yyyy"年"m"月"'

Value = Decimal | int | str | datetime.date | None


class ExportFormatError(BadRequest):
    """``?_export=`` named something other than csv or xlsx: a 400 with ``EXPORT_FORMAT_ERROR``."""

    def __init__(self, fmt: str) -> None:
        super().__init__(EXPORT_FORMAT_ERROR)
        self.format = fmt


@dataclass(frozen=True)
class Row:
    """One exported row: the KPI's result and the published table's other columns for it."""

    result: KpiResult
    published: PublishedColumns


@dataclass(frozen=True)
class Column:
    header: str
    width: int  # in characters, for the xlsx column
    value: Callable[[Row], Value]
    figure: bool = False  # a KPI figure: rounded to the published precision, shown with the KPI's unit


def _area(row: Row) -> int | None:
    return row.result.target.measure.area_id if row.result.target.measure else None


def _measure(row: Row) -> str:
    return row.result.target.measure.title if row.result.target.measure else ""


def _group(row: Row) -> str:
    return row.result.target.measure.group if row.result.target.measure else ""


def _next_year(row: Row) -> str:
    return row.published.next_year_text if row.published.has_next_plan or row.published.deleted_next_year else ""


#: The dashboard's columns, in the published table's order (事業計画実施状況), then kpitrack's own.
COLUMNS: tuple[Column, ...] = (
    Column("分野", 6, _area),
    Column("施策", 40, _measure),
    Column("担当グループ", 12, _group),
    Column("KPI", 40, lambda r: r.result.name),
    Column("前々年度実績", 12, lambda r: r.published.two_years_ago, figure=True),
    Column("前年度実績", 12, lambda r: r.published.last_year, figure=True),
    Column("目標（記載どおり）", 22, lambda r: r.result.target.target_text),
    Column("基準変更", 14, lambda r: r.published.definition_change),
    Column("基準値", 12, lambda r: r.result.baseline, figure=True),
    Column("直近実績", 12, lambda r: r.result.latest, figure=True),
    Column("直近実績の時点", 14, lambda r: r.result.latest_month),
    Column("年度末実績", 12, lambda r: r.result.year_end, figure=True),
    Column("評価", 6, lambda r: r.result.mark.value if r.result.mark else ""),
    Column("全国平均", 12, lambda r: r.result.national_average, figure=True),
    Column("翌年度目標", 22, _next_year),
    Column("年度末見込み", 14, lambda r: r.result.projection.value if r.result.projection else None, figure=True),
    Column("単位", 8, lambda r: r.result.kpi.unit),
    Column("備考", 30, lambda r: r.published.shown_remark),
)
HEADERS: tuple[str, ...] = tuple(column.header for column in COLUMNS)
NO_COLUMNS = PublishedColumns()


def rows_of(results: list[KpiResult], published: Mapping[int, PublishedColumns]) -> list[Row]:
    return [Row(result, published.get(result.kpi.pk, NO_COLUMNS)) for result in results]


def cell_value(column: Column, row: Row) -> Value:
    """The column's value for a row; a figure as the branch publishes it (rounded half up to the KPI's decimals)."""
    result = row.result
    value = column.value(row)
    if column.figure and isinstance(value, Decimal):
        return rules.round_published(value, result.target.precision)
    return value


def neutralized(text: str) -> str:
    """Text a spreadsheet would take for a formula gets a leading single quote (CSV)."""
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def number_format(unit: str, precision: int) -> str:
    """``0.0"%"`` / ``#,##0"事業所"`` / ``#,##0.00``: the published decimals and the unit as literal text."""
    digits = "0." + "0" * precision if precision else "0"
    unit = unit.replace('"', "")
    return (digits if unit == "%" else f"#,##0{digits[1:]}") + (f'"{unit}"' if unit else "")


def export_filename(plan: Plan, fmt: str) -> str:
    return f"kpitrack_{plan.branch.code}_{plan.fiscal_year_id}.{fmt}"


def export_title(plan: Plan) -> str:
    """栃木支部 令和5年度."""
    return f"{plan.branch} {plan.fiscal_year.label}"


def _csv_value(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"  # already at the published precision: 72.2, 100.00, 1529
    if isinstance(value, datetime.date):
        return month_label(value)
    if isinstance(value, int):
        return str(value)
    return neutralized(value)


def csv_bytes(results: list[KpiResult], published: Mapping[int, PublishedColumns] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows_of(results, published or {}):
        writer.writerow([_csv_value(cell_value(column, row)) for column in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _fill_cell(cell: Cell, value: Value, *, number_format_: str) -> None:
    if value is None:
        return
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = text
        if text.startswith(FORMULA_PREFIXES):
            cell.data_type = "s"  # openpyxl makes "=…" a formula: keep it the text that was written
            cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
        return
    cell.value = value
    if isinstance(value, datetime.date):
        cell.number_format = MONTH_FORMAT
    elif isinstance(value, Decimal):
        cell.number_format = number_format_


def xlsx_bytes(
    results: list[KpiResult], title: str, published: Mapping[int, PublishedColumns] | None = None
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]  # Excel's limit for a sheet name
    workbook.properties.title = title
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line, row in enumerate(rows_of(results, published or {}), start=2):
        figure_format = number_format(row.result.kpi.unit, row.result.target.precision)
        for column, spec in enumerate(COLUMNS, start=1):
            cell = sheet.cell(row=line, column=column)
            _fill_cell(cell, cell_value(spec, row), number_format_=figure_format if spec.figure else "General")
    for column, spec in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = spec.width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(sheet.max_row, 1)}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def dashboard_export(
    plan: Plan, results: list[KpiResult], fmt: str, published: Mapping[int, PublishedColumns] | None = None
) -> HttpResponse:
    """The dashboard's rows as ``kpitrack_<code>_<year>.csv|xlsx``; any other ``fmt`` raises ExportFormatError.

    ``published``: the published table's other columns (``selectors.published_columns``), read here when not given.
    """
    if fmt not in EXPORT_FORMATS:
        raise ExportFormatError(fmt)
    if published is None:
        published = published_columns(plan)
    content = csv_bytes(results, published) if fmt == "csv" else xlsx_bytes(results, export_title(plan), published)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, export_filename(plan, fmt))
    return response
