"""URL path converters."""

from __future__ import annotations


class FiscalYearConverter:
    """A fiscal year in a URL: exactly four digits (2023), so a year the database cannot hold is a 404, not a 500."""

    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        year = int(value)
        if not 1000 <= year <= 9999:
            raise ValueError(f"{year} is not a four-digit fiscal year")
        return str(year)
