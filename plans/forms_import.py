"""The plan import's forms: the upload (a PDF or pasted text) and the review's corrections."""

from __future__ import annotations

from io import BytesIO

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from plans.imports.pdf import DocumentError, extract_uploaded_pdf
from plans.imports.review import Review, ReviewMeasure

#: An uploaded PDF larger than this is refused before it is read.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: Pasted text longer than this is refused.
MAX_TEXT_CHARS = 400_000
#: A PDF with more pages than this is refused before its pages are read (a plan document has a few dozen).
MAX_PDF_PAGES = 200

ERROR_TOO_LARGE = "ファイル「{name}」は大きすぎます（{size}MB）。{limit}MB以下のPDFを選んでください。"
ERROR_NOTHING_GIVEN = "PDFファイルを選ぶか、事業計画のテキストを貼り付けてください。"
ERROR_BOTH_GIVEN = "PDFファイルとテキストの両方が指定されています。どちらか一方にしてください。"
ERROR_TEXT_TOO_LONG = "貼り付けたテキストが長すぎます（{limit}文字まで）。"
ERROR_TOO_MANY_PAGES = (
    "ファイル「{name}」はページが多すぎます（{limit}ページまで）。事業計画の部分だけのPDFを選んでください。"
)
ERROR_PDF_TEXT_TOO_LONG = (
    "ファイル「{name}」の文字が多すぎます（{limit}文字まで）。事業計画の部分だけのPDFを選んでください。"
)
PASTED_SOURCE = "貼り付けたテキスト"


def _page_count(data: bytes) -> int | None:
    """The PDF's number of pages from its page tree (no page is read); None when it cannot be opened (the
    extraction then says why: not a PDF, encrypted, broken)."""
    import pdfplumber  # imported here: only PDFs need it

    try:
        with pdfplumber.open(BytesIO(data)) as pdf:
            return len(pdf.pages)
    except Exception:  # pdfminer raises many kinds for a broken or encrypted file
        return None


class ImportUploadForm(forms.Form):
    document = forms.FileField(label=_("事業計画のPDF"), required=False)
    text = forms.CharField(label=_("または抽出したテキストを貼り付け"), required=False, widget=forms.Textarea)

    def clean(self) -> dict[str, object]:
        """Exactly one of a PDF and pasted text; the PDF is read here, so ``document_text`` is its text."""
        cleaned = super().clean() or {}
        upload = cleaned.get("document")
        text = (cleaned.get("text") or "").strip()
        if upload and text:
            raise forms.ValidationError(ERROR_BOTH_GIVEN)
        if not upload and not text:
            raise forms.ValidationError(ERROR_NOTHING_GIVEN)
        if text:
            if len(text) > MAX_TEXT_CHARS:
                raise forms.ValidationError(ERROR_TEXT_TOO_LONG.format(limit=f"{MAX_TEXT_CHARS:,}"))
            cleaned["source"], cleaned["document_text"] = PASTED_SOURCE, text
            return cleaned
        name = upload.name or "upload.pdf"
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                ERROR_TOO_LARGE.format(
                    name=name, size=f"{upload.size / 1024 / 1024:.1f}", limit=MAX_UPLOAD_BYTES // 1024 // 1024
                )
            )
        data = upload.read()
        pages = _page_count(data) if data.startswith(b"%PDF-") else None
        if pages is not None and pages > MAX_PDF_PAGES:
            raise forms.ValidationError(ERROR_TOO_MANY_PAGES.format(name=name, limit=MAX_PDF_PAGES))
        try:
            cleaned["document_text"] = extract_uploaded_pdf(data, name)
        except DocumentError as error:
            raise forms.ValidationError(str(error)) from error
        if len(cleaned["document_text"]) > MAX_TEXT_CHARS:
            raise forms.ValidationError(ERROR_PDF_TEXT_TOO_LONG.format(name=name, limit=f"{MAX_TEXT_CHARS:,}"))
        cleaned["source"] = name
        return cleaned


def apply_corrections(review: Review, data: QueryDict) -> None:
    """The review form's fields onto the review: each line's KPI, target phrase and drop box, and the measures.

    ``line-N-kpi`` is a catalog code or "" (none chosen), ``line-N-target_text`` the phrase, ``line-N-drop`` a
    checkbox; ``measure-N-area/number/title/drop`` likewise, and ``measure-new-*`` adds a measure. Fields of rows
    the review does not have are ignored.
    """
    for index, line in enumerate(review.lines):
        prefix = f"line-{index}-"
        if prefix + "target_text" not in data:
            continue
        line.kpi = data.get(prefix + "kpi", "").strip() or None
        line.target_text = data.get(prefix + "target_text", "").strip()
        line.dropped = data.get(prefix + "drop") == "on"
    for index, measure in enumerate(review.measures):
        prefix = f"measure-{index}-"
        if prefix + "title" not in data:
            continue
        measure.area = _area(data.get(prefix + "area"), measure.area)
        measure.number = data.get(prefix + "number", "").strip()
        measure.title = data.get(prefix + "title", "").strip()
        measure.dropped = data.get(prefix + "drop") == "on"
    title = data.get("measure-new-title", "").strip()
    if title:
        review.measures.append(
            ReviewMeasure(
                area=_area(data.get("measure-new-area"), 1),
                number=data.get("measure-new-number", "").strip(),
                title=title,
            )
        )


def _area(raw: str | None, default: int) -> int:
    return int(raw) if raw in ("1", "2", "3") else default
