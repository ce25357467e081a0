"""The text of a plan document: a PDF through pdfplumber (line order kept), a text file as it is."""

from __future__ import annotations

from pathlib import Path

PDF_MAGIC = b"%PDF-"
#: pdfplumber's tolerances: characters this close (pt) are one word / one line.
X_TOLERANCE = 1.5
Y_TOLERANCE = 3

ERROR_NOT_READABLE = "ファイル「{path}」を読み取れません: {reason}"


class DocumentError(ValueError):
    """A document kpitrack cannot read (missing, not a PDF nor UTF-8 text, a broken PDF)."""


def is_pdf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(PDF_MAGIC)) == PDF_MAGIC


def extract_text(path: Path) -> str:
    """The document's text, page after page, lines top to bottom, words left to right."""
    try:
        if not is_pdf(path):
            return path.read_text(encoding="utf-8")
        import pdfplumber  # imported here: only PDFs need it

        pages = []
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                pages.append(page.extract_text(x_tolerance=X_TOLERANCE, y_tolerance=Y_TOLERANCE) or "")
        return "\n".join(pages)
    except (OSError, UnicodeDecodeError) as error:
        raise DocumentError(ERROR_NOT_READABLE.format(path=path, reason=error)) from error
    except Exception as error:  # pdfminer raises its own errors for a broken PDF
        if type(error).__module__.startswith(("pdfminer", "pdfplumber")):
            raise DocumentError(ERROR_NOT_READABLE.format(path=path, reason=error)) from error
        raise
