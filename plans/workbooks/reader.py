"""Reading an uploaded workbook: refuse what is not a kpitrack workbook, then collect its figure cells by place.

Refusals (``WorkbookRefused``, nothing read further): too large (``settings.WORKBOOK_IMPORT_MAX_BYTES``), not an
xlsx file (an old .xls, a CSV, anything not an Office Open XML zip), password protected (an encrypted package),
with macros (.xlsm or a VBA project: macros are never run), and not a kpitrack workbook (no ``_kpitrack`` sheet,
an unknown kind or version, or a figures sheet whose headings were changed).

Formulas are read as the value Excel saved with them (``data_only``); a formula without a saved value is an
error at its cell, not an empty cell.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook

from plans import fiscal
from plans.workbooks import layout

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
UNZIPPED_FACTOR = 40  # an xlsx unzips to at most this many times the limit (a zip bomb is refused)
#: Rows a sheet may hold below its headings (a plan's figures sheet has a few hundred; the national sheets 47).
MAX_ROWS = 5000

TOO_LARGE = "ファイルが大きすぎます（上限 {limit}）。KPIの実績だけのブックにしてから取り込んでください。"
EMPTY_FILE = "ファイルが空です。取り込むExcelファイル（.xlsx）を選んでください。"
NOT_XLSX = "Excelブック（.xlsx）ではないため取り込めません。kpitrackからダウンロードしたブックに入力してください。"
OLD_XLS = "古い形式のExcelブック（.xls）は取り込めません。Excelで「.xlsx」形式で保存し直してください。"
ENCRYPTED = "パスワードで保護されたブックは取り込めません。パスワードを解除して保存し直してから取り込んでください。"
MACROS = "マクロを含むブック（.xlsm）は取り込めません（マクロは実行しません）。「.xlsx」形式で保存し直してください。"
NOT_TEMPLATE = (
    "kpitrackのブックではありません（識別用の情報がありません）。"
    "kpitrackからダウンロードしたテンプレートか公表様式のブックに入力してください。"
)
UNKNOWN_VERSION = "このブックの形式（版 {version}）には対応していません。新しいテンプレートをダウンロードしてください。"
MISSING_SHEET = (
    "シート「{sheet}」がありません。kpitrackからダウンロードしたブックのシートを消さずに取り込んでください。"
)
HEADINGS_CHANGED = "シート「{sheet}」の見出し（{row}行）が変更されています。見出しの行と列は変えずに入力してください。"
FORMULA_NO_VALUE = "数式の計算結果が保存されていません。Excelで開いて保存し直すか、値を直接入力してください。"
DUPLICATE_ROW = "「{what}」の行が2つあります（{first}行目と{row}行目）。1つにまとめてください。"
UNKNOWN_ROW = "「{label}」は項目として読めません（{labels}のいずれか）。"
TOO_MANY_ROWS = (
    "シート「{sheet}」の行が多すぎます（上限 {limit}行）。"
    "kpitrackからダウンロードしたブックの行を増やさずに入力してください。"
)

ENCRYPTED_STREAM = "EncryptionInfo".encode("utf-16-le")
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")


class WorkbookRefused(Exception):
    """The file as a whole cannot be imported; the message says why (Japanese)."""


@dataclass(frozen=True, order=True)
class Place:
    """Where a cell is: 「シート「月次実績」の12行目・H列」."""

    sheet: str
    row: int
    column: int

    def __str__(self) -> str:
        return f"シート「{self.sheet}」{self.row}行目・{get_column_letter(self.column)}列"


@dataclass(frozen=True)
class RawCell:
    place: Place
    value: Any


#: (branch code, KPI code, period, month) of one actual, as the workbook names it.
Key = tuple[str, str, str, Any]


@dataclass
class ReadBook:
    kind: layout.Kind
    fiscal_year: int
    branches: list[str]
    cells: dict[Key, dict[str, RawCell]] = field(default_factory=dict)  # field name → the cell holding it
    code_places: dict[tuple[str, str], Place] = field(default_factory=dict)  # (branch, kpi) → where it is named
    problems: list[tuple[Place, str]] = field(default_factory=list)
    exported_at: datetime.datetime | None = None  # when the figures were read into the workbook (None: not said)


def max_bytes() -> int:
    return int(getattr(settings, "WORKBOOK_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def size_label(limit: int) -> str:
    return f"{limit / 1024 / 1024:.0f}MB" if limit >= 1024 * 1024 else f"{limit}バイト"


def check_file(data: bytes, filename: str) -> None:
    """Refuse a file that is empty, too large, not xlsx, encrypted or carrying macros (before openpyxl sees it)."""
    limit = max_bytes()
    if not data:
        raise WorkbookRefused(EMPTY_FILE)
    if len(data) > limit:
        raise WorkbookRefused(TOO_LARGE.format(limit=size_label(limit)))
    if filename.lower().endswith((".xlsm", ".xltm")):
        raise WorkbookRefused(MACROS)
    if data.startswith(CFB_MAGIC):  # an OLE compound file: an encrypted package or an old .xls
        raise WorkbookRefused(ENCRYPTED if ENCRYPTED_STREAM in data else OLD_XLS)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise WorkbookRefused(NOT_XLSX)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names:
            raise WorkbookRefused(NOT_XLSX)
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise WorkbookRefused(MACROS)
        if sum(info.file_size for info in archive.infolist()) > limit * UNZIPPED_FACTOR:
            raise WorkbookRefused(TOO_LARGE.format(limit=size_label(limit)))


def _has_formulas(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return any(
            FORMULA_TAG.search(archive.read(name))
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") and name.endswith(".xml")
        )


def _load(data: bytes, *, data_only: bool) -> Workbook:
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=data_only, keep_vba=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken package
        raise WorkbookRefused(NOT_XLSX) from exc


def _exported_at(text: str) -> datetime.datetime | None:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _meta(book: Workbook) -> tuple[layout.Kind, str, int, list[tuple[str, str]], datetime.datetime | None]:
    if layout.META_SHEET not in book.sheetnames:
        raise WorkbookRefused(NOT_TEMPLATE)
    values: dict[str, str] = {}
    extra: list[tuple[str, str]] = []
    for _number, row in _bounded(book, layout.META_SHEET, 1, 3):
        if not row or row[0] is None:
            continue
        key, value = str(row[0]), "" if len(row) < 2 or row[1] is None else str(row[1])
        if key == "kpi_sheet":
            extra.append((value, "" if len(row) < 3 or row[2] is None else str(row[2])))
        else:
            values[key] = value
    if values.get("version") != layout.FORMAT_VERSION and "version" in values:
        raise WorkbookRefused(UNKNOWN_VERSION.format(version=values["version"]))
    try:
        kind = layout.Kind(values.get("kind", ""))
        year = int(values.get("fiscal_year", ""))
    except ValueError as exc:
        raise WorkbookRefused(NOT_TEMPLATE) from exc
    if not fiscal.FIRST_FISCAL_YEAR <= year <= fiscal.LAST_FISCAL_YEAR:
        raise WorkbookRefused(NOT_TEMPLATE)
    return kind, values.get("branch", ""), year, extra, _exported_at(values.get(layout.EXPORTED_AT, ""))


def _rows(book: Workbook, sheet: str, header_row: int, expected: list[str]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    if sheet not in book.sheetnames:
        raise WorkbookRefused(MISSING_SHEET.format(sheet=sheet))
    rows = iter(_bounded(book, sheet, header_row, len(expected)))
    _first, header = next(rows, (header_row, ()))
    if [("" if v is None else str(v)) for v in header[: len(expected)]] != expected:
        raise WorkbookRefused(HEADINGS_CHANGED.format(sheet=sheet, row=header_row))
    yield from rows


def _bounded(book: Workbook, sheet: str, first_row: int, columns: int) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, values) of ``sheet`` from ``first_row``, ``columns`` wide and at most ``MAX_ROWS`` below it.

    A sheet claiming more rows (its dimension, or a value past the limit) is refused: a small file can declare
    A1:XFD1048576, and openpyxl would pad every row to that size.
    """
    worksheet = book[sheet]
    last = first_row + MAX_ROWS
    declared = getattr(worksheet, "max_row", None)
    if isinstance(declared, int) and declared > last:
        raise WorkbookRefused(TOO_MANY_ROWS.format(sheet=sheet, limit=MAX_ROWS))
    rows = worksheet.iter_rows(min_row=first_row, max_row=last + 1, max_col=columns, values_only=True)
    for number, row in enumerate(rows, start=first_row):
        if number > last:
            if any(not _blank(value) for value in row):
                raise WorkbookRefused(TOO_MANY_ROWS.format(sheet=sheet, limit=MAX_ROWS))
            break
        yield number, row


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _figures_sheet(book: Workbook, read: ReadBook, branch: str) -> None:
    months = fiscal.months_of(read.fiscal_year)
    expected = [*layout.FIGURES_FIXED, *(f"{m.month}月" for m in months), layout.YEAR_END_HEADER]
    sheet = layout.FIGURES_SHEET
    seen: dict[tuple[str, str], int] = {}
    for number, row in _rows(book, sheet, layout.FIGURES_HEADER_ROW, expected):
        code, label = (row[0] if row else None), (row[5] if len(row) > 5 else None)
        if _blank(code):
            continue
        code = str(code).strip()
        label = "" if label is None else str(label).strip()
        if label not in layout.ROW_FIELDS:
            labels = "・".join(layout.ROW_FIELDS)
            read.problems.append((Place(sheet, number, 6), UNKNOWN_ROW.format(label=label, labels=labels)))
            continue
        if (code, label) in seen:
            what = f"{code} {label}"
            read.problems.append(
                (Place(sheet, number, 1), DUPLICATE_ROW.format(what=what, first=seen[(code, label)], row=number))
            )
            continue
        seen[(code, label)] = number
        name = layout.ROW_FIELDS[label]
        period = "interim" if label == layout.INTERIM_ROW else "monthly"
        for offset, month in enumerate([*months, None]):
            column = layout.FIRST_MONTH_COLUMN + offset
            value = row[column - 1] if len(row) >= column else None
            if _blank(value) or (month is None and period == "interim"):
                continue
            key = (branch, code, "year_end" if month is None else period, month)
            read.code_places.setdefault((branch, code), Place(sheet, number, 1))
            read.cells.setdefault(key, {})[name] = RawCell(Place(sheet, number, column), value)


def _kpi_sheets(book: Workbook, read: ReadBook, sheets: list[tuple[str, str]]) -> None:
    months = fiscal.months_of(read.fiscal_year)
    expected = [*layout.KPI_SHEET_FIXED, *(f"{m.month}月" for m in months), layout.YEAR_END_HEADER]
    for sheet, kpi_code in sheets:
        seen: dict[str, int] = {}
        for number, row in _rows(book, sheet, layout.KPI_SHEET_HEADER_ROW, expected):
            code = row[0] if row else None
            if _blank(code):
                continue
            branch = str(code).strip()
            if branch in seen:
                problem = DUPLICATE_ROW.format(what=branch, first=seen[branch], row=number)
                read.problems.append((Place(sheet, number, 1), problem))
                continue
            seen[branch] = number
            for offset, month in enumerate([*months, None]):
                column = layout.KPI_FIRST_MONTH_COLUMN + offset
                value = row[column - 1] if len(row) >= column else None
                if _blank(value):
                    continue
                key = (branch, kpi_code, "monthly" if month else "year_end", month)
                if branch not in read.branches:
                    read.branches.append(branch)
                read.code_places.setdefault((branch, kpi_code), Place(sheet, number, 1))
                read.cells.setdefault(key, {})["value"] = RawCell(Place(sheet, number, column), value)


def _formula_cells(data: bytes, read: ReadBook) -> None:
    """Formula cells whose saved value is missing become problems (read only when the file has any formula)."""
    if not _has_formulas(data):
        return
    wanted = {raw.place for cells in read.cells.values() for raw in cells.values()}
    first = layout.KPI_FIRST_MONTH_COLUMN if read.kind == layout.Kind.NATIONAL else layout.FIRST_MONTH_COLUMN
    figure_columns = range(first, first + fiscal.MONTHS_IN_YEAR + 1)  # the months and the year end
    sheets = {place.sheet for place in read.code_places.values()}
    book = _load(data, data_only=False)
    try:
        for sheet in sheets & set(book.sheetnames):
            last = layout.FIGURES_HEADER_ROW if read.kind != layout.Kind.NATIONAL else layout.KPI_SHEET_HEADER_ROW
            for row in book[sheet].iter_rows(min_col=first, max_col=figure_columns[-1], max_row=last + MAX_ROWS):
                for cell in row:
                    if getattr(cell, "data_type", None) != "f" or cell.column not in figure_columns:
                        continue
                    place = Place(sheet, cell.row, cell.column)
                    if place not in wanted:  # no value was saved with the formula
                        read.problems.append((place, FORMULA_NO_VALUE))
    finally:
        book.close()


def read_workbook(data: bytes, filename: str) -> ReadBook:
    """Check the file and read every non-empty figure cell of a kpitrack workbook, keyed by the actual it names."""
    check_file(data, filename)
    book = _load(data, data_only=True)
    try:
        kind, branch, year, sheets, exported_at = _meta(book)
        if kind == layout.Kind.NATIONAL:
            read = ReadBook(kind=kind, fiscal_year=year, branches=[], exported_at=exported_at)
            _kpi_sheets(book, read, sheets)
        else:
            if not branch:
                raise WorkbookRefused(NOT_TEMPLATE)
            read = ReadBook(kind=kind, fiscal_year=year, branches=[branch], exported_at=exported_at)
            _figures_sheet(book, read, branch)
    finally:
        book.close()
    _formula_cells(data, read)
    return read
