"""The text of a plan document: a PDF through pdfplumber (line order kept), a text file as it is."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import BinaryIO

PDF_MAGIC = b"%PDF-"
#: pdfplumber's tolerances: characters this close (pt) are one word / one line.
X_TOLERANCE = 1.5
Y_TOLERANCE = 3

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
                pages.append(page.extract_text(x_tolerance=X_TOLERANCE, y_tolerance=Y_TOLERANCE) or "")
        return "\n".join(pages)
    except Exception as error:  # pdfminer raises its own errors for a broken PDF (pdfplumber wraps them)
        causes = (error, *error.args, error.__context__)
        if any(isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)) for cause in causes):
            raise DocumentError(ERROR_ENCRYPTED.format(path=name)) from error
        if type(error).__module__.startswith(("pdfminer", "pdfplumber")):
            raise DocumentError(ERROR_NOT_READABLE.format(path=name, reason=error)) from error
        raise


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
