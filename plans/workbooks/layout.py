"""What a kpitrack workbook is made of: its kinds, sheet names, the figures sheet's rows and the metadata sheet.

The writers (``published``, ``template``, ``national``) and the reader (``reader``) share these names, so an
exported workbook reads back as it was written.

Every kpitrack workbook carries a very hidden sheet ``_kpitrack`` (key in column A, value in column B):
``kind`` (published / template / national), ``branch`` (code; empty for national), ``fiscal_year``, ``version``
(``FORMAT_VERSION``) and, for the national workbook, one ``kpi_sheet`` row per KPI sheet (sheet name, KPI code).
A workbook without it is "not a kpitrack template" and is refused.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from enum import StrEnum

from openpyxl.workbook import Workbook

FORMAT_VERSION = "1"
META_SHEET = "_kpitrack"


class Kind(StrEnum):
    PUBLISHED = "published"  # a branch's fiscal year as published (+ figures and measure progress)
    TEMPLATE = "template"  # the entry template of a branch × fiscal year
    NATIONAL = "national"  # every branch: overview matrix and one sheet per KPI


# -- the figures sheet (branch workbooks: published and template) ------------------------------------

FIGURES_SHEET = "月次実績"
PUBLISHED_SHEET = "実施状況"
PROGRESS_SHEET = "施策の進捗"
OVERVIEW_SHEET = "概要"

#: Row labels of the figures sheet (column 項目): which field of which actual the row's cells hold.
VALUE_ROW = "実績値"
NUMERATOR_ROW = "分子"
DENOMINATOR_ROW = "分母"
INTERIM_ROW = "中途実績"
ROW_FIELDS = {VALUE_ROW: "value", NUMERATOR_ROW: "numerator", DENOMINATOR_ROW: "denominator", INTERIM_ROW: "value"}

FIGURES_HEADER_ROW = 4  # rows 1-3: title, how to fill in, blank
FIGURES_FIXED = ("KPIコード", "項番", "KPI", "単位", "目標", "項目")  # then the 12 months, then 年度末
FIRST_MONTH_COLUMN = len(FIGURES_FIXED) + 1  # G
YEAR_END_HEADER = "年度末"

# -- the national workbook's KPI sheets ---------------------------------------------------------------

KPI_SHEET_HEADER_ROW = 4
KPI_SHEET_FIXED = ("支部コード", "支部", "目標")  # then the 12 months, 年度末, 評価
KPI_FIRST_MONTH_COLUMN = len(KPI_SHEET_FIXED) + 1  # D
NATIONAL_AVERAGE_LABEL = "全国平均"

#: Characters a sheet name may not hold (Excel).
SHEET_NAME_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "・"))


def sheet_name(text: str) -> str:
    return text.translate(SHEET_NAME_FORBIDDEN)[:31]


#: The meta sheet's key for the time the workbook's figures were read from the database (ISO 8601).
EXPORTED_AT = "exported_at"


def write_meta(
    workbook: Workbook,
    kind: Kind,
    *,
    branch: str,
    fiscal_year: int,
    read_at: datetime.datetime,
    extra: Sequence[tuple[str, ...]] = (),
) -> None:
    """Add the very hidden ``_kpitrack`` sheet that identifies the workbook; ``read_at``: taken before its figures
    were read (a save while the workbook is built is then after it, and an import does not undo it)."""
    sheet = workbook.create_sheet(META_SHEET)
    rows = [("kind", kind.value), ("branch", branch), ("fiscal_year", str(fiscal_year)), ("version", FORMAT_VERSION)]
    # When the figures were read: an import does not put back a figure changed on screen since (importer).
    rows.append((EXPORTED_AT, read_at.isoformat()))
    for row in [*rows, *extra]:
        sheet.append(list(row))
    sheet.sheet_state = "veryHidden"
