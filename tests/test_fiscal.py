"""The fiscal calendar: 令和 labels, fiscal months, month labels and parsing (plans.fiscal)."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plans import fiscal

months = st.dates(min_value=datetime.date(2008, 4, 1), max_value=datetime.date(2100, 3, 31)).map(
    lambda d: d.replace(day=1)
)


@pytest.mark.parametrize(
    ("year", "label"),
    [
        (2019, "令和元年度"),
        (2020, "令和2年度"),
        (2023, "令和5年度"),
        (2024, "令和6年度"),
        (2018, "平成30年度"),
        (2008, "平成20年度"),
    ],
)
def test_reiwa_label(year: int, label: str) -> None:
    assert fiscal.reiwa_label(year) == label


def test_year_display_gives_the_era_and_the_gregorian_year() -> None:
    assert fiscal.year_display(2024) == "令和6年度 (FY2024)"


@pytest.mark.parametrize(
    ("day", "year"),
    [(datetime.date(2024, 3, 31), 2023), (datetime.date(2024, 4, 1), 2024), (datetime.date(2024, 12, 31), 2024)],
)
def test_fiscal_year_of(day: datetime.date, year: int) -> None:
    assert fiscal.fiscal_year_of(day) == year


@pytest.mark.parametrize(
    ("month", "expected"),
    [((2023, 4), 1), ((2023, 9), 6), ((2023, 10), 7), ((2023, 12), 9), ((2024, 1), 10), ((2024, 3), 12)],
)
def test_fiscal_month_counts_from_april(month: tuple[int, int], expected: int) -> None:
    day = datetime.date(*month, 1)
    assert fiscal.fiscal_month_of(day) == expected
    assert fiscal.fiscal_month_index_or_none(day, 2023) == expected


@pytest.mark.parametrize("month", [(2023, 3), (2024, 4), (2022, 12), (2025, 1)])
def test_a_month_outside_the_year_has_no_index(month: tuple[int, int]) -> None:
    day = datetime.date(*month, 1)
    assert not fiscal.in_year(day, 2023)
    assert fiscal.fiscal_month_index_or_none(day, 2023) is None


def test_the_months_of_a_year_run_april_to_march() -> None:
    months_2024 = fiscal.months_of(2024)
    assert months_2024[0] == datetime.date(2024, 4, 1)
    assert months_2024[-1] == datetime.date(2025, 3, 1)
    assert [fiscal.month_of(2024, i) for i in range(1, 13)] == months_2024
    assert list(fiscal.FISCAL_MONTH_LABELS) == [f"{d.month}月" for d in months_2024]


def test_month_of_refuses_a_thirteenth_month() -> None:
    with pytest.raises(ValueError):
        fiscal.month_of(2024, 13)


def test_month_label() -> None:
    assert fiscal.month_label(datetime.date(2024, 9, 1)) == "2024年9月"
    assert fiscal.month_label(None) == ""


@pytest.mark.parametrize(
    ("raw", "month"),
    [
        ("2024-05", datetime.date(2024, 5, 1)),
        ("2025-1", datetime.date(2025, 1, 1)),
        (None, None),
        (datetime.date(2024, 5, 17), datetime.date(2024, 5, 1)),
    ],
)
def test_parse_month(raw: str | datetime.date | None, month: datetime.date | None) -> None:
    assert fiscal.parse_month(raw) == month


@pytest.mark.parametrize("raw", ["2024/05", "2024-13", "2024-00", "R6.5", "", "2024-05-01"])
def test_parse_month_refuses_anything_else_in_japanese(raw: str) -> None:
    with pytest.raises(ValueError, match="月"):
        fiscal.parse_month(raw)


@given(months)
def test_every_month_lies_in_its_own_fiscal_year_at_its_fiscal_month(month: datetime.date) -> None:
    year = fiscal.fiscal_year_of(month)
    assert fiscal.in_year(month, year)
    assert not fiscal.in_year(month, year + 1) and not fiscal.in_year(month, year - 1)
    assert fiscal.month_of(year, fiscal.fiscal_month_of(month)) == month
