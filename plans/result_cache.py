"""Each KPI target's computed result (``KpiResult``) kept in Django's cache, so that after one figure is saved a
dashboard computes that target's result again and takes every other from the cache.

A target's result depends on its target row, its actuals and its plan's measures (all three replace the target's
stamp, ``KpiTarget.data_version``, in the write's transaction: ``plans.versions``), on its KPI and the lineage
(the catalog's version), on the national average of its year (the year's version) and on last year's figures of
the same branch and KPI (last year's target's stamp). The cache key holds all four, and the code's release: an
entry is never read for other data. The stamps are read before any figure, so an entry can only ever hold figures
at least as new as its key. What every result of a year shares (its national averages and the lineage's breaks,
``year_facts``) is kept under the year's context token the same way, so a result computed again after a save reads
only its target and actuals (``plans.selectors._recomputed``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple, TypeVar

from django.core.cache import caches

from plans import versions
from plans.results import KpiResult

#: Django's cache the results are kept in (settings.CACHES).
CACHE = "default"

class TargetStamp(NamedTuple):
    """A target's stamp as a selector reads it (``plans.selectors.target_stamps``)."""

    target_id: int
    stamp: int
    fiscal_year: int  # its plan's
    #: the pk and stamp of the same branch's target of the same KPI last year, 0 and 0 without one
    previous_id: int
    previous_stamp: int


def context_token(scopes: versions.Scopes, fiscal_year: int) -> str:
    """The versions a result in ``fiscal_year`` depends on besides the stamps: the catalog and the year's. Every
    page's scopes hold both."""
    wanted = (versions.CATALOG, (fiscal_year, 0))
    return versions.token({scope: scopes.get(scope, 0) for scope in wanted})


def key(target_id: int, stamp: int, previous_stamp: int, context: str) -> str:
    return f"target-result:{versions.RELEASE}:{target_id}:{stamp}:{previous_stamp}:{context}"


Facts = TypeVar("Facts")


def year_facts(scopes: versions.Scopes, fiscal_year: int, read: Callable[[int], Facts]) -> Facts:
    """``read(fiscal_year)``: what every result of the year shares and its context token covers (the year's national
    averages, the catalog's lineage: ``plans.selectors._year_facts``), kept under the token, so the results computed
    again after a save of a figure do not read it again. Read after ``scopes``, like every result."""
    cache_key = f"target-year:{versions.RELEASE}:{fiscal_year}:{context_token(scopes, fiscal_year)}"
    cache = caches[CACHE]
    found: Facts | None = cache.get(cache_key)
    if found is None:
        found = read(fiscal_year)
        cache.set(cache_key, found, timeout=None)
    return found


def _cacheable(result: KpiResult) -> KpiResult:
    """What is kept: the result without the target's prefetched actuals (the result's ``monthly`` holds them)."""
    state = result.target.__dict__
    state.pop("mid_year_actuals", None)
    state.pop("_prefetched_objects_cache", None)
    return result


def results(
    stamps: Sequence[TargetStamp],
    scopes: versions.Scopes,
    compute: Callable[[list[int]], list[KpiResult]],
) -> list[KpiResult]:
    """The results of the targets in ``stamps``, in their order: from the cache where current, the rest from
    ``compute(target ids)`` (one call, its results then kept). ``scopes`` are the versions the page read
    (``plans.versions.scopes``) before ``stamps`` were read. A target gone by the time ``compute`` runs is
    left out."""
    contexts: dict[int, str] = {}
    keys: dict[int, str] = {}
    for target_id, stamp, fiscal_year, _previous_id, previous_stamp in stamps:
        if fiscal_year not in contexts:
            contexts[fiscal_year] = context_token(scopes, fiscal_year)
        keys[target_id] = key(target_id, stamp, previous_stamp, contexts[fiscal_year])
    cache = caches[CACHE]
    found = cache.get_many(list(keys.values()))
    missing = [target_id for target_id, cache_key in keys.items() if cache_key not in found]
    fresh: dict[int, KpiResult] = {}
    if missing:
        fresh = {result.target.pk: result for result in compute(missing)}
        for target_id, result in fresh.items():
            result.cache_key = keys[target_id]
        cache.set_many({keys[pk]: _cacheable(result) for pk, result in fresh.items()}, timeout=None)
    ordered = []
    for target_id, cache_key in keys.items():
        result = found.get(cache_key) or fresh.get(target_id)
        if result is not None:
            ordered.append(result)
    return ordered
