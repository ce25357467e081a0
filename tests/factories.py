"""factory-boy factories: each test builds the rows it is about instead of leaning on the global seed.

The seed is still loaded once per session (see conftest), so the factories reuse rows that must stay unique
and fixed: a branch is one of the 47 prefectures (looked up by code), a fiscal year and an area are fetched
or created by their key. ``PlanFactory()`` picks the first branch without a plan that year, so it never
collides with a seed plan. Target rules are always read from ``target_text`` (``apply_target_text``), so a
factory target can never hold a rule its phrase does not say.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from factory.django import DjangoModelFactory

from branches.models import Branch, Membership
from branches.prefectures import PREFECTURES
from plans.models import Area, FiscalYear, Kpi, KpiActual, KpiTarget, Measure, NationalAverage, Plan
from plans.services import actual_record

PASSWORD = "pw"
_PREFECTURES = {p.code: p for p in PREFECTURES}
_AREAS = {number: (name, name_en) for number, name, name_en in Area.FIXED}

# Per KPI kind: (unit, precision, direction, measure basis, a target phrase the parser reads).
KIND_DEFAULTS: dict[str, tuple[str, int, str, str, str]] = {
    Kpi.Kind.RATE: ("%", 1, Kpi.Direction.HIGHER, Kpi.MeasureBasis.CUMULATIVE, "50.0%以上"),
    Kpi.Kind.COUNT: ("件", 0, Kpi.Direction.HIGHER, Kpi.MeasureBasis.RUNNING_TOTAL, "100件以上"),
    Kpi.Kind.AMOUNT: ("円", 0, Kpi.Direction.HIGHER, Kpi.MeasureBasis.YEAR_TO_DATE, "5,000円以上"),
    Kpi.Kind.DAYS: ("日", 1, Kpi.Direction.LOWER, Kpi.MeasureBasis.YEAR_TO_DATE, "7日以内"),
    Kpi.Kind.QUALITATIVE: ("", 0, Kpi.Direction.NONE, Kpi.MeasureBasis.SINGLE_MONTH, "実施"),
    Kpi.Kind.FREQUENCY: ("", 0, Kpi.Direction.NONE, Kpi.MeasureBasis.SINGLE_MONTH, "毎月"),
}
RULE_FIELDS = ("rule", "target_value", "stated_baseline")


# -- branches ---------------------------------------------------------------------------------------


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


class BranchFactory(DjangoModelFactory):
    """One of the 47 prefectural branches; ``BranchFactory(code="gifu")`` returns the existing row."""

    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Iterator([p.code for p in PREFECTURES])
    jis_code = factory.LazyAttribute(lambda o: _PREFECTURES[o.code].jis_code)
    name = factory.LazyAttribute(lambda o: _PREFECTURES[o.code].name)
    name_en = factory.LazyAttribute(lambda o: _PREFECTURES[o.code].name_en)


class MembershipFactory(DjangoModelFactory):
    """Branch staff by default; traits ``manager`` (a branch's manager) and ``hq`` (本部, no branch)."""

    class Meta:
        model = Membership

    class Params:
        staff = factory.Trait(role=Membership.Role.STAFF)
        manager = factory.Trait(role=Membership.Role.MANAGER)
        hq = factory.Trait(branch=None, role=Membership.Role.HQ)

    user = factory.SubFactory(UserFactory)
    branch = factory.SubFactory(BranchFactory)
    role = Membership.Role.STAFF


def member(username: str, *, branch: Branch | None = None, **traits: Any) -> AbstractBaseUser:
    """A user with a membership: ``member("x", branch=b)``, ``member("x", branch=b, manager=True)``,
    ``member("x", hq=True)``."""
    if branch is not None:
        traits["branch"] = branch
    return MembershipFactory(user__username=username, **traits).user


# -- the plan's skeleton ----------------------------------------------------------------------------


class FiscalYearFactory(DjangoModelFactory):
    class Meta:
        model = FiscalYear
        django_get_or_create = ("year",)

    year = 2023


class AreaFactory(DjangoModelFactory):
    """One of the three fixed areas (分野)."""

    class Meta:
        model = Area
        django_get_or_create = ("number",)

    number = 1
    name = factory.LazyAttribute(lambda o: _AREAS[o.number][0])
    name_en = factory.LazyAttribute(lambda o: _AREAS[o.number][1])


class KpiFactory(DjangoModelFactory):
    """A catalog KPI with a unique code; unit, precision, direction and basis follow ``kind``."""

    class Meta:
        model = Kpi

    code = factory.Sequence(lambda n: f"test_kpi_{n}")
    name = factory.Sequence(lambda n: f"テストKPI{n}")
    kind = Kpi.Kind.RATE
    unit = factory.LazyAttribute(lambda o: KIND_DEFAULTS[o.kind][0])
    precision = factory.LazyAttribute(lambda o: KIND_DEFAULTS[o.kind][1])
    direction = factory.LazyAttribute(lambda o: KIND_DEFAULTS[o.kind][2])
    measure_basis = factory.LazyAttribute(lambda o: KIND_DEFAULTS[o.kind][3])
    order = factory.Sequence(lambda n: 1000 + n)


def _branch_without_plan(plan: Any) -> Branch:
    free = Branch.objects.exclude(plans__fiscal_year=plan.fiscal_year).order_by("jis_code").first()
    return free if free is not None else BranchFactory()


class PlanFactory(DjangoModelFactory):
    """A plan; without ``branch`` the first branch (JIS order) that has no plan in that year."""

    class Meta:
        model = Plan

    fiscal_year = factory.SubFactory(FiscalYearFactory)
    branch = factory.LazyAttribute(_branch_without_plan)


class MeasureFactory(DjangoModelFactory):
    class Meta:
        model = Measure

    plan = factory.SubFactory(PlanFactory)
    area = factory.SubFactory(AreaFactory)
    key = factory.Sequence(lambda n: f"t-{n}")
    number = factory.LazyAttribute(lambda o: f"({o.key})")
    title = factory.Sequence(lambda n: f"テスト施策{n}")
    group = Measure.Group.HEALTH
    order = factory.Sequence(int)


class KpiTargetFactory(DjangoModelFactory):
    """A KPI's target in a plan. Pass ``target_text``; rule, target_value and stated_baseline are parsed
    from it (passing them is refused). Without ``target_text`` the KPI kind's usual phrase is used."""

    class Meta:
        model = KpiTarget

    plan = factory.SubFactory(PlanFactory)
    kpi = factory.SubFactory(KpiFactory)
    measure = factory.SubFactory(MeasureFactory, plan=factory.SelfAttribute("..plan"))
    name_as_written = factory.LazyAttribute(lambda o: o.kpi.name)
    target_text = factory.LazyAttribute(lambda o: KIND_DEFAULTS[o.kpi.kind][4])
    order = factory.Sequence(int)

    @classmethod
    def _build(cls, model_class: type[KpiTarget], *args: Any, **kwargs: Any) -> KpiTarget:
        return cls._with_rule(model_class, kwargs)

    @classmethod
    def _create(cls, model_class: type[KpiTarget], *args: Any, **kwargs: Any) -> KpiTarget:
        target = cls._with_rule(model_class, kwargs)
        target.save()
        return target

    @staticmethod
    def _with_rule(model_class: type[KpiTarget], kwargs: dict[str, Any]) -> KpiTarget:
        given = sorted(set(RULE_FIELDS) & set(kwargs))
        if given:
            raise TypeError(f"KpiTargetFactory reads {', '.join(given)} from target_text; pass target_text only")
        text = kwargs.pop("target_text")
        target = model_class(**kwargs)
        target.apply_target_text(text)
        return target


# -- figures ----------------------------------------------------------------------------------------


def _default_month(actual: Any) -> datetime.date | None:
    """April of the plan's year for a monthly figure, September for an interim one, none at the year end."""
    year = actual.target.plan.fiscal_year_id
    return {
        KpiActual.Period.MONTHLY: datetime.date(year, 4, 1),
        KpiActual.Period.INTERIM: datetime.date(year, 9, 1),
    }.get(actual.period)


class KpiActualFactory(DjangoModelFactory):
    """A year-end actual by default; traits ``monthly`` and ``interim``. Saved directly (unvalidated, with a bare
    ``+`` history row): use ``recorded_actual`` when the write path matters."""

    class Meta:
        model = KpiActual

    class Params:
        monthly = factory.Trait(period=KpiActual.Period.MONTHLY)
        interim = factory.Trait(period=KpiActual.Period.INTERIM)
        year_end = factory.Trait(period=KpiActual.Period.YEAR_END)

    target = factory.SubFactory(KpiTargetFactory)
    period = KpiActual.Period.YEAR_END
    month = factory.LazyAttribute(_default_month)
    value = Decimal("60.0")


def recorded_actual(
    target: KpiTarget,
    *,
    period: str = KpiActual.Period.YEAR_END,
    month: datetime.date | None = None,
    value: Decimal | None = Decimal("60.0"),
    **fields: Any,
) -> KpiActual:
    """An actual written through ``plans.services.actual_record`` (validated, versioned, with its history row)."""
    actual, _outcome = actual_record(target=target, period=period, month=month, value=value, **fields)
    return actual


class NationalAverageFactory(DjangoModelFactory):
    """The year-end national average by default; pass ``as_of`` for a month's."""

    class Meta:
        model = NationalAverage

    kpi = factory.SubFactory(KpiFactory)
    fiscal_year = factory.SubFactory(FiscalYearFactory)
    as_of = None
    value = Decimal("50.0")
