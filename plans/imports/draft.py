"""The draft a plan document is read into: its JSON (a machine interface) and its fixture form."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass
class DraftTarget:
    kpi: str | None  # catalog code, None when the name matched nothing
    name: str  # the KPI as written
    target_text: str  # the target as written ("" when the reader left it to the admin)
    rule: str | None  # RuleKind value, None when unread
    target: Decimal | None = None
    baseline: Decimal | None = None
    previous_target_text: str | None = None


@dataclass
class DraftMeasure:
    area: int
    number: str
    title: str


@dataclass
class Draft:
    branch: str
    fiscal_year: int
    source: str = ""
    targets: list[DraftTarget] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    measures: list[DraftMeasure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def target_for(self, code: str) -> DraftTarget | None:
        return next((target for target in self.targets if target.kpi == code), None)

    def as_json(self) -> dict[str, Any]:
        """Exactly the documented shape; numbers as JSON numbers written with their printed decimals."""
        return {
            "branch": self.branch,
            "fiscal_year": self.fiscal_year,
            "targets": [
                {
                    "kpi": target.kpi,
                    "name": target.name,
                    "target_text": target.target_text,
                    "rule": target.rule,
                    "target": _number(target.target),
                    "baseline": _number(target.baseline),
                    "previous_target_text": target.previous_target_text,
                }
                for target in self.targets
            ],
            "deleted": list(self.deleted),
            "measures": [
                {"area": measure.area, "number": measure.number, "title": measure.title} for measure in self.measures
            ],
            "warnings": list(self.warnings),
        }

    def as_fixture(self) -> dict[str, Any]:
        """The draft in the fixtures/seed/ format (FORMAT.md): matched KPIs only, no actuals."""
        keys: list[str] = []
        measures = []
        counters: dict[int, int] = {}
        for measure in self.measures:
            counters[measure.area] = counters.get(measure.area, 0) + 1
            key = f"{measure.area}-{counters[measure.area]}"
            keys.append(key)
            measures.append(
                {"key": key, "area": measure.area, "parent": None, "number": measure.number, "title": measure.title}
            )
        kpis = [
            {
                "kpi": target.kpi,
                "measure": None,
                "name": target.name,
                "target_text": target.target_text,
                "note": "",
                "precision": None,
                "published_mark": None,
                "year_end": None,
            }
            for target in self.targets
            if target.kpi is not None
        ]
        plan = {"fiscal_year": self.fiscal_year, "measures": measures, "kpis": kpis}
        return {"source": self.source, "branch": self.branch, "catalog_additions": [], "lineage": [], "plans": [plan]}


def _number(value: Decimal | None) -> int | float | None:
    """A JSON number: an int when whole and printed so ("1330"), else a float of the printed digits."""
    if value is None:
        return None
    if value == value.to_integral_value() and value.as_tuple().exponent >= 0:
        return int(value)
    return float(value)
