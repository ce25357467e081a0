"""The names the reader matches KPIs by: the catalog's current names and every name the seed documents use."""

from __future__ import annotations

from pathlib import Path

from plans.imports.matcher import KpiMatcher, seed_aliases
from plans.models import Kpi


def catalog_matcher(seed_dir: Path | None = None) -> KpiMatcher:
    """Kpi.name for every catalog KPI, then the seed fixtures' names as aliases (only for KPIs in the catalog).

    With an empty catalog (nothing loaded yet) the seed fixtures' catalog stands in, so a dry run works.
    """
    from plans.seed import SEED_DIR

    pairs = list(Kpi.objects.order_by("order", "code").values_list("code", "name"))
    aliases = seed_aliases(seed_dir or SEED_DIR)
    codes = {code for code, _ in pairs}
    pairs += [(code, name) for code, name in aliases if not codes or code in codes]
    return KpiMatcher.from_pairs(pairs)
