"""One way from a document's text to a draft, for the import_plan command and the browser alike."""

from __future__ import annotations

from plans.imports.catalog import catalog_matcher
from plans.imports.draft import Draft
from plans.imports.reader import read_plan


def draft_from_text(text: str, *, branch: str, fiscal_year: int, source: str = "") -> Draft:
    """The draft of ``branch``'s plan for ``fiscal_year`` read from ``text`` against the current catalog."""
    return read_plan(text, catalog_matcher(), branch=branch, fiscal_year=fiscal_year, source=source)
