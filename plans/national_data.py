"""A deterministic national-scale data set for benchmarks: 47 branches × N fiscal years × the catalog × 12 months.

Plans that already exist (the seed plans) are left alone; generated plans are marked with
``source=GENERATED_SOURCE`` so they can be removed again.

The rows are written with ``bulk_create``, which sends no signals: they get no django-simple-history rows. That
is on purpose: generated benchmark data is nobody's edit, and hundreds of thousands of history rows would only
slow the benchmark down. Real figures go through ``plans.services.actual_record`` and are recorded.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from branches.models import Branch
from plans import rules, versions
from plans.models import (
    Area,
    FiscalYear,
    Kpi,
    KpiActual,
    KpiTarget,
    NationalAverage,
    Plan,
)

GENERATED_SOURCE = "generated:national"
BATCH = 2000


@dataclass(frozen=True)
class GeneratedCounts:
    plans: int
    targets: int
    actuals: int
    national_averages: int


def _level(kpi: Kpi, rng: random.Random) -> Decimal:
    """A plausible year-end level for a KPI."""
    if kpi.unit == "%":
        base = {"lower": rng.uniform(0.3, 20.0), "higher": rng.uniform(20.0, 95.0)}.get(kpi.direction, 50.0)
        if "査定率" in kpi.name:
            base = rng.uniform(0.08, 0.45)
        return Decimal(str(round(base, kpi.precision)))
    if kpi.unit == "円":
        return Decimal(rng.randint(4000, 13000))
    if kpi.unit == "事業所":
        return Decimal(rng.randint(300, 6000))
    if kpi.unit == "日":
        return Decimal(str(round(rng.uniform(5.0, 9.0), kpi.precision)))
    return Decimal(rng.randint(1, 100))


def _target_text(kpi: Kpi, level: Decimal, rng: random.Random) -> str:
    if kpi.kind == Kpi.Kind.QUALITATIVE:
        return "実施"
    if kpi.kind == Kpi.Kind.FREQUENCY:
        return "毎月"
    if rng.random() < 0.3:
        return "対前年度以下" if kpi.direction == Kpi.Direction.LOWER else "対前年度以上"
    step = Decimal(1).scaleb(-kpi.precision)
    nudge = step * rng.randint(-30, 30)
    value = max(level + nudge, Decimal(0))
    number = f"{value:,.{kpi.precision}f}"
    if kpi.direction == Kpi.Direction.LOWER:
        return f"{number}{kpi.unit}以下"
    return f"{number}{kpi.unit}以上"


def _monthly(kpi: Kpi, final: Decimal, start: Decimal, rng: random.Random) -> list[Decimal]:
    values = []
    for m in range(1, 13):
        if kpi.measure_basis == Kpi.MeasureBasis.CUMULATIVE:
            value = final * Decimal(str((m / 12) ** 1.3))
        elif kpi.measure_basis == Kpi.MeasureBasis.RUNNING_TOTAL:
            value = start + (final - start) * Decimal(m) / 12
        else:
            value = final * Decimal(str(1 + rng.uniform(-0.03, 0.03))) if m < 12 else final
        values.append(rules.round_published(value, kpi.precision))
    return values


@transaction.atomic
def generate_national_data(*, first_year: int, years: int, seed: int = 2024) -> GeneratedCounts:
    """Create every missing (branch, fiscal year) plan with a target per national KPI and its actuals."""
    rng = random.Random(seed)
    Branch.objects.sync_prefectures()
    Area.sync()
    fiscal_years = list(range(first_year, first_year + years))
    for year in [first_year - 1, *fiscal_years]:
        FiscalYear.objects.get_or_create(year=year)
    kpis = list(Kpi.objects.filter(is_national=True).order_by("order", "code"))
    branches = list(Branch.objects.all())
    existing = set(Plan.objects.values_list("branch_id", "fiscal_year_id"))
    plans = [
        Plan(branch=b, fiscal_year_id=y, source=GENERATED_SOURCE)
        for y in fiscal_years
        for b in branches
        if (b.pk, y) not in existing
    ]
    Plan.objects.bulk_create(plans, batch_size=BATCH)
    plans = list(
        Plan.objects.filter(source=GENERATED_SOURCE, fiscal_year_id__in=fiscal_years).order_by(
            "fiscal_year_id", "branch__jis_code"
        )
    )
    parsed: dict[str, rules.TargetRule] = {}
    levels: dict[tuple[int, int], Decimal] = {}  # (branch, kpi) → last year-end, carried year to year
    targets: list[KpiTarget] = []
    finals: list[tuple[Kpi, Decimal, Decimal]] = []
    for plan in plans:
        for order, kpi in enumerate(kpis):
            key = (plan.branch_id, kpi.pk)
            previous = levels.get(key) or _level(kpi, rng)
            if kpi.is_numeric:
                drift = Decimal(str(rng.uniform(-0.04, 0.05)))
                final = rules.round_published(max(previous * (1 + drift), Decimal(0)), kpi.precision)
            else:
                final = Decimal(12)
            levels[key] = final
            text = _target_text(kpi, previous, rng)
            rule = parsed.setdefault(text, rules.parse_target(text))
            targets.append(
                KpiTarget(
                    plan=plan,
                    kpi=kpi,
                    name_as_written=kpi.name,
                    target_text=text,
                    rule=rule.kind.value,
                    target_value=rule.value,
                    stated_baseline=rule.baseline,
                    order=order,
                )
            )
            finals.append((kpi, final, previous))
    KpiTarget.objects.bulk_create(targets, batch_size=BATCH)
    saved = list(
        KpiTarget.objects.filter(plan__source=GENERATED_SOURCE, plan__fiscal_year_id__in=fiscal_years).order_by(
            "plan__fiscal_year_id", "plan__branch__jis_code", "order"
        )
    )
    actuals: list[KpiActual] = []
    year_ends: dict[tuple[int, int], list[Decimal]] = {}
    for target, (kpi, final, previous), plan_year in zip(
        saved, finals, (t.plan.fiscal_year_id for t in targets), strict=True
    ):
        months = [datetime.date(plan_year + (m < 4), m, 1) for m in (*range(4, 13), 1, 2, 3)]
        if kpi.is_numeric:
            for month, value in zip(months, _monthly(kpi, final, previous, rng), strict=True):
                actuals.append(
                    KpiActual(
                        target=target,
                        period=KpiActual.Period.MONTHLY,
                        month=month,
                        value=value,
                        is_cumulative=kpi.measure_basis != Kpi.MeasureBasis.SINGLE_MONTH,
                        source=KpiActual.Source.GENERATED,
                    )
                )
            actuals.append(
                KpiActual(
                    target=target, period=KpiActual.Period.YEAR_END, value=final, source=KpiActual.Source.GENERATED
                )
            )
            year_ends.setdefault((kpi.pk, plan_year), []).append(final)
        else:
            actuals.append(
                KpiActual(
                    target=target,
                    period=KpiActual.Period.YEAR_END,
                    text_value="実施",
                    source=KpiActual.Source.GENERATED,
                )
            )
        if len(actuals) >= BATCH * 5:
            KpiActual.objects.bulk_create(actuals, batch_size=BATCH)
            actuals = []
    KpiActual.objects.bulk_create(actuals, batch_size=BATCH)
    existing_averages = set(NationalAverage.objects.filter(as_of__isnull=True).values_list("kpi_id", "fiscal_year_id"))
    averages = [
        NationalAverage(kpi_id=kpi_id, fiscal_year_id=year, value=rules.round_published(sum(values) / len(values), 3))
        for (kpi_id, year), values in year_ends.items()
        if (kpi_id, year) not in existing_averages
    ]
    NationalAverage.objects.bulk_create(averages, batch_size=BATCH)
    versions.bump()  # bulk_create sends no signal: every page (plans.versions)
    return GeneratedCounts(
        plans=len(plans),
        targets=len(saved),
        actuals=KpiActual.objects.filter(source=KpiActual.Source.GENERATED).count(),
        national_averages=len(averages),
    )


@transaction.atomic
def remove_national_data() -> int:
    """Delete every generated plan with its targets and actuals; the seed plans stay."""
    plans = Plan.objects.filter(source=GENERATED_SOURCE)
    KpiActual.objects.filter(target__plan__in=plans).delete()
    count = plans.count()
    plans.delete()
    versions.bump()
    return count
