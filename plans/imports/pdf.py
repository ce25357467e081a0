"""The text of a plan document: a PDF through pdfplumber (line order kept), a text file as it is.

A page holding a table whose header names two or more fiscal years (令和6年度 KPI | 令和5年度 KPI) keeps its cells
apart: below such a header, a row whose words stand in separate columns is written with a tab between cells, each
cell under the header column it stands below, so the reader takes this year's column and never last year's. Every
other line is written as pdfplumber writes it (words joined by a space), so a single-column document reads the same
as its text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

PDF_MAGIC = b"%PDF-"
#: pdfplumber's tolerances: characters this close (pt) are one word / one line.
X_TOLERANCE = 1.5
Y_TOLERANCE = 3
#: Words further apart than this many character heights stand in different table cells.
CELL_GAP = 1.5
#: A header cell naming a fiscal year: 「令和6年度」「令和６年度 KPI」「R6年度目標」.
_YEAR_CELL = re.compile(r"^(?:令和|R)\s*(?:[0-9]+|元)\s*年度")

ERROR_NOT_READABLE = "ファイル「{path}」を読み取れません: {reason}"
ERROR_NOT_PDF = "ファイル「{path}」はPDFではありません。PDFを選ぶか、抽出したテキストを貼り付けてください。"
ERROR_ENCRYPTED = "ファイル「{path}」はパスワードで保護されています。保護を解除したPDFを選んでください。"
ERROR_NO_TEXT = (
    "ファイル「{path}」から文字を読み取れません（文字情報のない、画像だけのPDFのようです）。"
    "文字を選択できるPDFを選ぶか、テキストを貼り付けてください。"
)


class DocumentError(ValueError):
    """A document kpitrack cannot read (missing, not a PDF nor UTF-8 text, a broken PDF)."""


def is_pdf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(PDF_MAGIC)) == PDF_MAGIC


def _pdf_text(source: Path | BinaryIO, name: str) -> str:
    """Page after page, lines top to bottom, words left to right (pdfplumber places words by position)."""
    import pdfplumber  # imported here: only PDFs need it
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        pages = []
        with pdfplumber.open(source) as pdf:
            for page in pdf.pages:
                words = page.extract_words(x_tolerance=X_TOLERANCE, y_tolerance=Y_TOLERANCE)
                table_text = _table_page_text(words)
                if table_text is None:
                    table_text = page.extract_text(x_tolerance=X_TOLERANCE, y_tolerance=Y_TOLERANCE) or ""
                pages.append(table_text)
        return "\n".join(pages)
    except Exception as error:  # pdfminer raises its own errors for a broken PDF (pdfplumber wraps them)
        causes = (error, *error.args, error.__context__)
        if any(isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)) for cause in causes):
            raise DocumentError(ERROR_ENCRYPTED.format(path=name)) from error
        if type(error).__module__.startswith(("pdfminer", "pdfplumber")):
            raise DocumentError(ERROR_NOT_READABLE.format(path=name, reason=error)) from error
        raise


@dataclass
class _Cell:
    x0: float
    x1: float
    text: str


def _lines(words: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Words in lines, top to bottom (tops within Y_TOLERANCE are one line), each line left to right."""
    lines: list[list[dict[str, Any]]] = []
    for word in sorted(words, key=lambda word: (word["top"], word["x0"])):
        if lines and abs(word["top"] - lines[-1][0]["top"]) <= Y_TOLERANCE:
            lines[-1].append(word)
        else:
            lines.append([word])
    return [sorted(line, key=lambda word: word["x0"]) for line in lines]


def _cells(line: list[dict[str, Any]]) -> list[_Cell]:
    """A line's words grouped into cells: a gap wider than CELL_GAP character heights starts a new cell."""
    cells: list[_Cell] = []
    for word in line:
        height = max(word["bottom"] - word["top"], 1.0)
        if cells and word["x0"] - cells[-1].x1 <= CELL_GAP * height:
            cells[-1] = _Cell(cells[-1].x0, word["x1"], f"{cells[-1].text} {word['text']}")
        else:
            cells.append(_Cell(word["x0"], word["x1"], word["text"]))
    return cells


def _is_year_header(cells: list[_Cell]) -> bool:
    """A table header naming two or more fiscal years in cells of their own."""
    return len(cells) >= 2 and sum(bool(_YEAR_CELL.match(unicodedata.normalize("NFKC", c.text))) for c in cells) >= 2


_NAMES_LEFT = float("-inf")


def _overlaps(cell: _Cell, start: float, end: float) -> bool:
    return cell.x0 < end and cell.x1 > start


def _row_cells(cells: list[_Cell], columns: list[tuple[float, float]]) -> list[str] | None:
    """A row's cells, one per header column (blank where the row has none), or None when the layout is not clear:
    a cell under no column or under two of them, or two cells under one column."""
    row: list[str] = [""] * len(columns)
    for cell in cells:
        under = [index for index, (start, end) in enumerate(columns) if _overlaps(cell, start, end)]
        if len(under) != 1 or row[under[0]]:
            return None
        row[under[0]] = cell.text
    return row


def _table_page_text(words: list[dict[str, Any]]) -> str | None:
    """The page's text with a fiscal-years table's cells apart (a tab between cells, one cell per header column),
    or None when the page holds no such table (pdfplumber's own text is used then).

    A row whose cells do not stand each under one header column is written as plain text: the reader then sees
    the figures of both years in one row, warns and leaves the target to the admin.
    """
    lines = [_cells(line) for line in _lines(words)]
    if not any(_is_year_header(cells) for cells in lines):
        return None
    out: list[str] = []
    columns: list[tuple[float, float]] | None = None
    for cells in lines:
        if _is_year_header(cells):
            columns = [(cell.x0, cell.x1) for cell in cells]
            headers = [cell.text for cell in cells]
            if _YEAR_CELL.match(unicodedata.normalize("NFKC", cells[0].text)):
                # The KPI names stand under a blank header cell left of the years.
                columns.insert(0, (_NAMES_LEFT, cells[0].x0))
                headers.insert(0, "")
            else:
                columns[0] = (_NAMES_LEFT, columns[0][1])  # nothing stands left of the first column
            out.append("\t".join(headers))
            continue
        row = _row_cells(cells, columns) if columns is not None and len(cells) >= 2 else None
        out.append("\t".join(row) if row is not None else " ".join(cell.text for cell in cells))
    return "\n".join(out)


def extract_text(path: Path) -> str:
    """The document's text, page after page, lines top to bottom, words left to right."""
    try:
        if not is_pdf(path):
            return path.read_text(encoding="utf-8")
        return _pdf_text(path, str(path))
    except (OSError, UnicodeDecodeError) as error:
        raise DocumentError(ERROR_NOT_READABLE.format(path=path, reason=error)) from error


def extract_uploaded_pdf(data: bytes, name: str) -> str:
    """The text of an uploaded PDF: refused unless it starts with %PDF-, opens without a password and has text."""
    if not data.startswith(PDF_MAGIC):
        raise DocumentError(ERROR_NOT_PDF.format(path=name))
    text = _pdf_text(BytesIO(data), name)
    if not text.strip():
        raise DocumentError(ERROR_NO_TEXT.format(path=name))
    return text
