"""Data versions: the stamps a dashboard's validator (ETag) and cache keys are built from.

What a dashboard shows changes only by a write, and every write bumps the version of the scope it changes IN
ITS OWN TRANSACTION (a rolled-back write leaves the version as it was; a committed one is seen by every app
server at once, because the version is read from the database on each request). Three kinds of scope:

- the catalog ``bump()``: KPIs, lineage, areas, branches, fiscal years, which plans exist. Every page depends
  on it, so ``bump()`` with no argument invalidates every page: the safe call for a bulk write of anything.
- a fiscal year for every branch ``bump(fiscal_year=Y)``: national averages of year Y.
- one branch's plan for a year ``bump(fiscal_year=Y, branch_id=B)``, or ``bump_plans([plan ids])``: its
  targets, actuals, measures, progress, budget lines, month reports.

Inside a plan's scope, each KPI target also carries its own stamp (``KpiTarget.data_version``): a branch
dashboard, the matrix and the national KPI pages keep each target's computed result (``plans.result_cache``)
under that stamp, so after one figure is saved only that target's result is computed again. A bump of a plan's
scope stamps every target of the plan anew; a write of one target's figures (its actuals) stamps that target
only (``bump(..., target_id=)``, ``bump_targets``).

``plans.signals`` bumps on every ``save()`` / ``delete()`` of the models the dashboards read (so the admin,
the services, the importers and the seed are covered). A write that sends no signal — ``bulk_create``,
``QuerySet.update()``, raw SQL — must call ``bump_plans(plan_ids)`` / ``bump_targets(target_ids)`` (or
``bump()``) in the same transaction.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction
from django.db.models import Q, QuerySet, Subquery

from branches.models import Branch
from plans.models import DataVersion, Kpi, KpiTarget, Plan

#: The catalog's scope: (fiscal year 0, branch 0).
CATALOG = (0, 0)
#: Django's cache ``kpi_scopes`` keeps its digests in (settings.CACHES).
SCOPES_CACHE = "default"


def _release() -> str:
    """The code and templates being served: ``RELEASE_ID`` when set, else a digest of the files' sizes and
    modification times (the same checkout on several servers gives the same value)."""
    if os.getenv("RELEASE_ID"):
        return os.environ["RELEASE_ID"]
    base = Path(settings.BASE_DIR)
    digest = hashlib.blake2b(digest_size=8)
    for folder in ("plans", "branches", "kpitrack", "templates", "static", "locale"):
        for path in sorted((base / folder).rglob("*")):
            if path.suffix in {".py", ".html", ".js", ".css", ".mo"} and path.is_file():
                stat = path.stat()
                digest.update(f"{path.relative_to(base)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


RELEASE = _release()


def _stamp() -> int:
    """A new version: random, not a counter, so a database restored or reset to earlier data (a backup, a test's
    rollback) can never meet a cache entry made for other data under the same number."""
    return secrets.randbits(62) + 1


def _bump_scope(fiscal_year: int, branch_id: int, using: str = DEFAULT_DB_ALIAS) -> None:
    scope = DataVersion.objects.using(using).filter(fiscal_year=fiscal_year, branch_id=branch_id)
    if scope.update(version=_stamp()):
        return
    try:
        with transaction.atomic(using=using):
            DataVersion.objects.using(using).create(fiscal_year=fiscal_year, branch_id=branch_id, version=_stamp())
    except IntegrityError:  # created by a concurrent write meanwhile
        scope.update(version=_stamp())


def _stamp_targets(targets: QuerySet[KpiTarget]) -> None:
    targets.order_by().update(data_version=_stamp())


def _plan_targets(fiscal_year: int, branch_id: int) -> QuerySet[KpiTarget]:
    return KpiTarget.objects.filter(plan__fiscal_year_id=fiscal_year, plan__branch_id=branch_id)


def bump(
    fiscal_year: int | None = None,
    branch_id: int | None = None,
    *,
    target_id: int | None = None,
    stamp_targets: bool = True,
    using: str = DEFAULT_DB_ALIAS,
) -> None:
    """Bump one scope: the catalog (no argument: every page), year ``fiscal_year`` for every branch, or
    ``branch_id``'s plan for ``fiscal_year`` and every KPI target of it — or, with ``target_id`` (a write of that
    target's figures only), that target alone; or none of them (``stamp_targets`` false: a write no target's
    result, row or KPI page shows, e.g. a month report's status). Call it inside the write's transaction.

    Lock order: the plan's data version row first, then its targets' rows. A write that locks a row of the plan
    itself (``select_for_update``) takes the data version first with ``lock_plan``, so that two writes of one plan
    never wait for each other in a cycle."""
    if not fiscal_year:
        _bump_scope(*CATALOG, using=using)
        return
    _bump_scope(fiscal_year, branch_id or 0, using=using)
    if branch_id and stamp_targets:
        _stamp_targets(KpiTarget.objects.filter(pk=target_id) if target_id else _plan_targets(fiscal_year, branch_id))


def lock_plan(fiscal_year: int, branch_id: int) -> None:
    """Take the plan's data version row (bumping it, not its targets) before any other row of the plan is
    locked: see ``bump``'s lock order. Call it first in the write's transaction."""
    _bump_scope(fiscal_year, branch_id)


def _where_scopes(scopes: Iterable[tuple[int, int]], prefix: str = "") -> Q:
    where = Q()
    for fiscal_year, branch_id in scopes:
        where |= Q(**{f"{prefix}fiscal_year": fiscal_year, f"{prefix}branch_id": branch_id})
    return where


def bump_scopes(scopes: Iterable[tuple[int, int]], *, stamp_targets: bool = True) -> None:
    """Bump each (fiscal year, branch id) of ``scopes`` in three queries however many (for bulk writes), and
    every KPI target of each plan scope among them (unless ``stamp_targets`` is false: the caller stamped the
    targets it wrote)."""
    wanted = set(scopes)
    if not wanted:
        return
    DataVersion.objects.bulk_create(
        [DataVersion(fiscal_year=y, branch_id=b, version=_stamp()) for y, b in sorted(wanted)], ignore_conflicts=True
    )
    DataVersion.objects.filter(_where_scopes(wanted)).update(version=_stamp())
    plans = {(y, b) for y, b in wanted if y and b}
    if stamp_targets and plans:
        _stamp_targets(KpiTarget.objects.filter(plan__in=Plan.objects.filter(_where_scopes(plans, "")).values("pk")))


def bump_plans(plan_ids: Iterable[int]) -> None:
    """Bump the scope of each plan in ``plan_ids`` and every target of them (4 queries however many). For a write
    that sends no signals (``bulk_create``, ``QuerySet.update()``) of targets, measures, progress, budget lines,
    reports."""
    ids = set(plan_ids)
    if ids:
        bump_scopes(Plan.objects.filter(pk__in=ids).values_list("fiscal_year_id", "branch_id"))


def bump_targets(target_ids: Iterable[int]) -> None:
    """After a write of the figures (actuals) of the KPI targets in ``target_ids`` that sent no signal (a bulk
    write, a conditional ``UPDATE``): stamp those targets and bump their plans' scopes (4 queries however many)."""
    ids = set(target_ids)
    if not ids:
        return
    plans = Plan.objects.filter(pk__in=KpiTarget.objects.filter(pk__in=ids).values("plan_id"))
    bump_scopes(plans.values_list("fiscal_year_id", "branch_id"), stamp_targets=False)  # the lock order of ``bump``
    _stamp_targets(KpiTarget.objects.filter(pk__in=ids))


Scopes = dict[tuple[int, int], int]


def token(scopes: Scopes) -> str:
    """A short digest of ``scopes`` ((fiscal year, branch id) → version)."""
    text = ";".join(f"{y}.{b}.{v}" for (y, b), v in sorted(scopes.items()))
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def _where(fiscal_year: int, branch: int | Subquery | None) -> Q:
    if branch is not None:
        return Q(branch_id=0) | Q(branch_id=branch)
    return Q(fiscal_year__in=(0, fiscal_year - 1, fiscal_year))


def scopes(fiscal_year: int, branch_id: int | None = None, *, branch_code: str | None = None) -> Scopes:
    """The versions a page depends on (1 query), (fiscal year, branch id) → version; a scope never bumped is
    absent (version 0).

    For a branch's pages (``branch_id`` or ``branch_code``: dashboard, plan, KPI page, which read the branch's
    other years too): the catalog, every year-wide scope and every scope of the branch. Otherwise (the national
    pages, which read year ``fiscal_year`` and last year's figures as baselines): the catalog and every scope of
    those two years.
    """
    if branch_code is not None:
        return _branch_scopes(branch_code)
    if branch_id is None:
        return _national_scopes(fiscal_year)
    rows = DataVersion.objects.filter(_where(fiscal_year, branch_id)).order_by()
    return {(y, b): v for y, b, v in rows.values_list("fiscal_year", "branch_id", "version")}


def _national_scopes(fiscal_year: int) -> Scopes:
    """``scopes`` of a national page (the catalog, and every scope of ``fiscal_year`` and the year before), in SQL
    written once, as ``_branch_scopes``: it runs before every 304 of the national pages."""
    versions = connection.ops.quote_name(DataVersion._meta.db_table)
    sql = f"SELECT fiscal_year, branch_id, version FROM {versions} WHERE fiscal_year IN (0, %s, %s)"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [fiscal_year - 1, fiscal_year])
        return {(y, b): v for y, b, v in cursor.fetchall()}


def _branch_scopes(branch_code: str) -> Scopes:
    """``scopes`` of a branch's page from its code, in SQL written once: this query runs before every 304 of a
    branch's pages, and building it through the ORM (a Q, a Subquery) cost more than running it."""
    quote = connection.ops.quote_name
    versions, branches = quote(DataVersion._meta.db_table), quote(Branch._meta.db_table)
    branch_pk, code = quote(Branch._meta.pk.column), quote(Branch._meta.get_field("code").column)
    sql = (
        f"SELECT fiscal_year, branch_id, version FROM {versions} WHERE branch_id = 0 "  # noqa: S608 (model names)
        f"OR branch_id = (SELECT {branch_pk} FROM {branches} WHERE {code} = %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [branch_code])
        return {(y, b): v for y, b, v in cursor.fetchall()}


#: In the scopes of a page validated by the KPI targets it shows (``kpi_scopes``): a digest of their ids and
#: stamps, in place of the versions of the plans they belong to.
TARGETS = (-1, -1)


def kpi_scopes(kpi_code: str, *, branch_code: str | None = None, fiscal_year: int | None = None) -> Scopes:
    """``_kpi_scopes``, kept in Django's cache under the page's plain versions (``scopes``: for a branch's KPI page
    every scope of the branch, for the national one every scope of the two years, and the catalog). Every write the
    targets' stamps and ids show bumps the scope of their plan in the same transaction (``bump``), and versions are
    random, never met again: the plain versions decide the digests, which are read after them. A repeat visit with
    nothing changed is then one small query; after any write of those scopes (e.g. a save of another KPI) the
    digests are read again, and a save of another KPI still leaves them, and the page's ETag, as they were."""
    if branch_code is None and fiscal_year is None:
        raise ValueError("kpi_scopes needs a branch_code or a fiscal_year")
    plain = _branch_scopes(branch_code) if branch_code is not None else _national_scopes(fiscal_year)  # type: ignore[arg-type]
    key = f"kpi-scopes:{RELEASE}:{kpi_code}:{branch_code or ''}:{fiscal_year or ''}:{token(plain)}"
    store = caches[SCOPES_CACHE]
    found: Scopes | None = store.get(key)
    if found is None:
        found = _kpi_scopes(kpi_code, branch_code=branch_code, fiscal_year=fiscal_year)
        store.set(key, found, timeout=None)
    return found


def _kpi_scopes(kpi_code: str, *, branch_code: str | None = None, fiscal_year: int | None = None) -> Scopes:
    """The versions of a page of one KPI (1 query): one branch's targets of it in every year (``branch_code``), or
    every branch's in ``fiscal_year`` and the year before (last year's figures are the baseline). The catalog, the
    year-wide scopes (every year's, or those two years'), under each plan's own scope (fiscal year, branch id) a
    digest of the ids and stamps of its targets of the KPI (what the page shows of the plan), and under ``TARGETS``
    a digest of them all.

    Such a page is not invalidated by a save of another KPI: every write a target's figures or rows show replaces
    its stamp, a target added or removed changes the ids, and anything else is in the catalog or a year-wide
    scope. Written once in SQL (as ``_branch_scopes``): it runs before every 304 of these pages."""
    quote = connection.ops.quote_name
    target, plan, kpi, branch = (quote(m._meta.db_table) for m in (KpiTarget, Plan, Kpi, Branch))
    shared = f"SELECT 0, fiscal_year, branch_id, version FROM {quote(DataVersion._meta.db_table)} WHERE branch_id = 0"
    # From the plans to their one target of the KPI (the index of one_target_per_kpi_and_plan), the KPI's and the
    # branch's ids as scalar subqueries: PostgreSQL plans it in a fraction of a four-table join's time.
    targets = (
        f"SELECT t.id, p.fiscal_year_id, p.branch_id, t.data_version FROM {plan} p JOIN {target} t "
        f"ON t.plan_id = p.id AND t.kpi_id = (SELECT id FROM {kpi} WHERE code = %s)"
    )
    if branch_code is not None:
        targets += f" WHERE p.branch_id = (SELECT id FROM {branch} WHERE code = %s)"
        params: list[object] = [kpi_code, branch_code]
    elif fiscal_year is not None:
        shared += " AND fiscal_year IN (0, %s, %s)"
        targets += " WHERE p.fiscal_year_id IN (%s, %s)"
        params = [fiscal_year - 1, fiscal_year, kpi_code, fiscal_year - 1, fiscal_year]
    else:
        raise ValueError("kpi_scopes needs a branch_code or a fiscal_year")
    with connection.cursor() as cursor:
        cursor.execute(f"{shared} UNION ALL {targets}", params)  # noqa: S608 (model names, values as parameters)
        rows = cursor.fetchall()
    found: Scopes = {}
    shown: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for pk, year, branch_id, version in rows:
        if pk == 0:
            found[(year, branch_id)] = version
        else:
            shown.setdefault((year, branch_id), []).append((pk, version))
    for plan_scope, stamps in shown.items():
        # A plan has one target of a KPI (one_target_per_kpi_and_plan): its id and stamp side by side, exactly
        # (a stamp is under 2**63); several (were the constraint ever lifted) are digested.
        found[plan_scope] = (
            (stamps[0][0] << 64) | stamps[0][1]
            if len(stamps) == 1
            else _digest(";".join(f"{pk}.{stamp}" for pk, stamp in sorted(stamps)))
        )
    found[TARGETS] = _digest(";".join(f"{y}.{b}.{found[(y, b)]}" for y, b in sorted(shown)))
    return found


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def current(fiscal_year: int, branch_id: int | None = None) -> str:
    """``token(scopes(fiscal_year, branch_id))``: changes with every write the page shows (1 query)."""
    return token(scopes(fiscal_year, branch_id))
