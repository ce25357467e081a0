"""The fiscal calendar (年度): April to March, 令和 labels, fiscal months and month labels.

Pure Python with no Django imports: models, rules, charts, template tags, imports and the data generator
all read the calendar from here.

- 令和N年度 = FY(2018+N), April 1 of 2018+N to March 31 of the next year; 令和元年度 = FY2019.
- A month is the first day of a calendar month (``datetime.date(2024, 9, 1)``).
- The fiscal month of a month counts from April: April → 1 … March → 12.
"""

from __future__ import annotations

import datetime
import re

REIWA_OFFSET = 2018
HEISEI_OFFSET = 1988
FIRST_FISCAL_YEAR = 2008  # 協会けんぽ was founded in October 2008
LAST_FISCAL_YEAR = 2100
MONTHS_IN_YEAR = 12
FIRST_MONTH = 4  # April

#: The months of a fiscal year in order, as calendar month numbers.
CALENDAR_MONTHS: tuple[int, ...] = (*range(FIRST_MONTH, 13), *range(1, FIRST_MONTH))
#: Their labels for chart axes and table headers: 4月 … 3月.
FISCAL_MONTH_LABELS: tuple[str, ...] = tuple(f"{m}月" for m in CALENDAR_MONTHS)

_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def reiwa_label(year: int) -> str:
    """令和N年度 for an April-start fiscal year (令和元年度 = FY2019); 平成 before that."""
    if year >= 2019:
        n = year - REIWA_OFFSET
        return f"令和{'元' if n == 1 else n}年度"
    return f"平成{year - HEISEI_OFFSET}年度"


def year_display(year: int) -> str:
    """令和6年度 (FY2024): how kpitrack shows a fiscal year."""
    return f"{reiwa_label(year)} (FY{year})"


def fiscal_year_of(day: datetime.date) -> int:
    """The fiscal year a date falls in."""
    return day.year if day.month >= FIRST_MONTH else day.year - 1


def fiscal_month_of(month: datetime.date) -> int:
    """April → 1 … March → 12."""
    return (month.month - FIRST_MONTH) % MONTHS_IN_YEAR + 1


def year_start(year: int) -> datetime.date:
    return datetime.date(year, FIRST_MONTH, 1)


def year_end(year: int) -> datetime.date:
    return datetime.date(year + 1, FIRST_MONTH - 1, 31)


def months_of(year: int) -> list[datetime.date]:
    """The twelve months of fiscal year ``year``, April first."""
    return [datetime.date(year + (m < FIRST_MONTH), m, 1) for m in CALENDAR_MONTHS]


def month_of(year: int, fiscal_month: int) -> datetime.date:
    """The calendar month of fiscal month ``fiscal_month`` (1 = April) in fiscal year ``year``."""
    if not 1 <= fiscal_month <= MONTHS_IN_YEAR:
        raise ValueError(f"年度内の月は1〜12です: {fiscal_month}")
    return months_of(year)[fiscal_month - 1]


def in_year(month: datetime.date, year: int) -> bool:
    return year_start(year) <= month <= year_end(year)


def latest_month(year: int, today: datetime.date) -> datetime.date | None:
    """The newest month of fiscal year ``year`` that has begun by ``today``: March for a past year, this month
    for the current one, None for a year still to come."""
    begun = [month for month in months_of(year) if month <= today]
    return begun[-1] if begun else None


def fiscal_month_index_or_none(month: datetime.date, year: int) -> int | None:
    return fiscal_month_of(month) if in_year(month, year) else None


def month_label(month: datetime.date | None) -> str:
    """2024年9月: a month as kpitrack writes it (the as-of month of an interim actual); "" for none."""
    if month is None:
        return ""
    return f"{month.year}年{month.month}月"


def parse_month(raw: str | datetime.date | None) -> datetime.date | None:
    """'2024-05' or a date → the first of that month; None stays None. ValueError for anything else."""
    if raw is None:
        return None
    if isinstance(raw, datetime.date):
        return raw.replace(day=1)
    match = _YEAR_MONTH.match(raw.strip()) if isinstance(raw, str) else None
    if match is None:
        raise ValueError(f"月は YYYY-MM で書いてください: {raw!r}")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= MONTHS_IN_YEAR:
        raise ValueError(f"{month}月という月はありません: {raw!r}")
    return datetime.date(year, month, 1)
