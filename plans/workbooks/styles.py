"""Spreadsheet craft shared by every kpitrack workbook: headers, number formats, widths, print setup, marks.

- Figures are number cells holding the exact stored figure; the number format shows the KPI's published
  decimals and its unit (``0.0"%"``, ``#,##0"事業所"``: ``plans.exports.number_format``).
- Text is written through ``plans.exports``' rule: text a spreadsheet would run as a formula (= + - @ …) stays text.
- Every sheet: bold shaded header rows, frozen panes below the headers, A4 landscape fitted to the page width,
  header rows repeated on every printed page (print titles), the sheet's title in the page header.
- Marks (◎ ○ △) are coloured as on screen (static/css/kpitrack.css: --above, --planned, --below and the
  matrix's cell backgrounds).
"""

from __future__ import annotations

import datetime

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from plans.exports import MONTH_FORMAT, Value, _fill_cell, number_format
from plans.rules import Mark

__all__ = ["MONTH_FORMAT", "number_format"]

FONT_NAME = "游ゴシック"
HEADER_FILL = PatternFill("solid", fgColor="E8EEF4")
READ_ONLY_FILL = PatternFill("solid", fgColor="F2F2F2")
INPUT_FILL = PatternFill("solid", fgColor="FFFDE7")
THIN = Side(style="thin", color="B0B7BF")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)

#: static/css/kpitrack.css: the mark's text colour (--above / --planned / --below) and the matrix cell background.
MARK_COLOURS: dict[Mark, tuple[str, str]] = {
    Mark.ABOVE: ("1B7F3B", "D4EFDC"),
    Mark.AS_PLANNED: ("2F6DB3", "DBE7F6"),
    Mark.BELOW: ("C0392B", "F8D7D3"),
}
NOT_JUDGED_COLOUR = "9AA0A6"  # --none


def put(sheet: Worksheet, row: int, column: int, value: Value, *, fmt: str = "General", border: bool = True) -> Cell:
    """Write one cell: text stays text (never a formula), figures and months keep their formats."""
    cell = sheet.cell(row=row, column=column)
    _fill_cell(cell, value, number_format_=fmt)
    if border:
        cell.border = BORDER
    return cell


def header_row(sheet: Worksheet, row: int, headers: list[str] | tuple[str, ...], *, height: float = 30) -> None:
    for column, text in enumerate(headers, start=1):
        cell = put(sheet, row, column, text)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = CENTER
    sheet.row_dimensions[row].height = height


def title_row(sheet: Worksheet, title: str, subtitle: str = "", *, column: int = 1) -> None:
    """The sheet's title (row 1) and a line on how to read or fill it (row 2)."""
    sheet.cell(row=1, column=column, value=title).font = Font(bold=True, size=14)
    if subtitle:
        sheet.cell(row=2, column=column, value=subtitle).font = Font(size=9, color="555555")


def colour_mark(cell: Cell, mark: Mark | str | None, *, fill: bool = True) -> None:
    """A mark cell coloured as on screen: bold coloured text on the matrix's background."""
    cell.alignment = Alignment(horizontal="center", vertical="center")
    try:
        known = Mark(mark) if mark else None
    except ValueError:
        known = None
    if known is None:
        cell.font = Font(color=NOT_JUDGED_COLOUR)
        return
    text, background = MARK_COLOURS[known]
    cell.font = Font(bold=True, color=text)
    if fill:
        cell.fill = PatternFill("solid", fgColor=background)


def widths(sheet: Worksheet, columns: list[float] | tuple[float, ...]) -> None:
    for index, width in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def print_setup(sheet: Worksheet, *, title: str, header_rows: tuple[int, int], freeze: str) -> None:
    """A4 landscape, fitted to one page wide, header rows on every page, frozen below the headers."""
    sheet.freeze_panes = freeze
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    first, last = header_rows
    sheet.print_title_rows = f"{first}:{last}"
    sheet.oddHeader.center.text = title.replace("&", "&&")
    sheet.oddFooter.center.text = "&P / &N"


LINE_HEIGHT = 13.5  # points per line of 10-11pt text
MAX_LINES = 15


def fit_height(sheet: Worksheet, row: int) -> None:
    """Set the row's height to show its wrapped text whole: neither Excel nor LibreOffice does it on opening a
    file. A full-width character takes about two units of column width."""
    lines = 1
    for cell in sheet[row]:
        if not isinstance(cell.value, str) or not cell.alignment.wrap_text:
            continue
        width = max(int((sheet.column_dimensions[cell.column_letter].width or 8.43) - 1), 1)
        needed = 0
        for paragraph in cell.value.split("\n"):
            units = sum(2 if ord(ch) > 0x2E7F else 1 for ch in paragraph)
            needed += max(1, -(-units // width))
        lines = max(lines, needed)
    sheet.row_dimensions[row].height = max(1, min(lines, MAX_LINES)) * LINE_HEIGHT + 2


def month_header(month: datetime.date) -> str:
    """The column heading of a month: 4月 … 3月 (the year is in the sheet's title)."""
    return f"{month.month}月"
