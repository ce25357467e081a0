"""Plan edits: the one write path for a plan's targets and a KPI's lineage (新設・削除・変更) for a year.

Every door that edits a plan (the plan edit page, the admin) goes through these functions. Each write runs in one
transaction and leaves a history row (django-simple-history) with who (``_history_user``) and why
(``_change_reason``).

- ``plan_start_next_year``: next year's plan from this year's — measures and KPIs copied, targets left to fill,
  the catalog's lineage (``KpiChange`` of the new year) applied: a KPI deleted that year is not copied, a KPI
  replaced that year becomes its successor, a KPI new that year is offered.
- ``target_update``: a new target phrase, parsed by ``plans.rules``; refused when someone else changed the
  phrase since it was loaded (``TargetConflict``, with both phrases).
- ``target_add`` / ``target_remove``: a KPI into or out of a plan, recording 新設 / 削除 for the year if asked.
- ``kpi_change_record``: 新設 / 削除 / 他のKPIから変更 / 基準・算出方法の変更 of a KPI for a year.

A KPI's lineage is the catalog's (one row per KPI, year and kind, read by every branch's dashboard): a branch's
planning staff records it for the branch's own KPIs; the lineage of a national KPI (全国共通KPI) is kept by those
who keep the catalog (本部, administrators).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from branches import access
from plans import fiscal, phrases, rules, versions
from plans.models import FiscalYear, Kpi, KpiActual, KpiChange, KpiTarget, Measure, Plan

User = AbstractBaseUser | AnonymousUser

# -- messages (tests assert the exact text) ---------------------------------------------------------------------

NEXT_PLAN_EXISTS = "{branch}の{year}の事業計画はすでにあります。既存の計画を編集してください。"
NEXT_YEAR_OUT_OF_RANGE = "{year}年度の事業計画は作成できません（年度は2008〜2100の範囲です）。"
TARGET_CONFLICT = (
    "「{kpi}」の目標は他の利用者が先に変更しました。保存されている目標は「{stored}」、入力された目標は「{typed}」です。"
    "入力された目標は保存していません。保存されている目標を確認してから入力し直してください。"
)
TARGET_GONE = (
    "この目標は他の利用者が先に事業計画から外しました。入力された目標「{typed}」は保存していません。"
)
TARGET_DELETED_PHRASE = (
    "「{kpi}」の目標に「{typed}」とは入力できません。この年度にKPIを削除するときは、"
    "目標の行の「計画から外す」で「削除」として記録してください。"
)
TARGET_EXISTS = "「{kpi}」の目標はこの事業計画にすでにあります。"
MEASURE_NOT_IN_PLAN = "施策はこの事業計画の施策から選んでください。"
TARGET_HAS_ACTUALS = (
    "「{kpi}」には実績が{count}件登録されているため、計画から外せません。実績を削除してから外してください。"
)
LINEAGE_NATIONAL_ONLY_HQ = (
    "「{kpi}」は全国共通KPIのため、新設・削除・変更は本部（KPIカタログの管理者）が登録します。"
)
LINEAGE_OTHER_BRANCH = (
    "「{kpi}」はほかの支部の事業計画にもあるKPIのため、新設・削除・変更は本部（KPIカタログの管理者）が登録します。"
)
CHANGE_EXISTS = "「{kpi}」の{year}の「{change}」はすでに登録されています。"
DELETED_BUT_IN_PLAN = (
    "「{kpi}」はこの事業計画にあります。この年度に削除するときは、その行の「計画から外す」で「削除」として記録してください。"
)
REPLACES_REQUIRED = "「他のKPIから変更」では、変更前のKPIを選んでください。"
REPLACES_ITSELF = "変更前のKPIに、そのKPI自身は選べません。"
REPLACES_ONLY_IF_REPLACED = "変更前のKPIは、変更の種類が「他のKPIから変更」のときだけ選んでください。"
DEFINITION_NEEDS_NOTE = "「基準・算出方法の変更」では、何が変わったかを注記に書いてください（例: ※算出方法変更）。"
REASON_TOO_LONG = "変更の理由は{limit}文字以内で入力してください（{length}文字）。"

# -- change reasons (kept in the history) -------------------------------------------------------------------------

REASON_NEXT_YEAR = "{source}の事業計画から作成"
REASON_NEXT_YEAR_REPLACED = "{source}の事業計画から作成（「{old}」から変更）"
REASON_TARGET_UPDATE = "目標を変更（画面入力）"
REASON_TARGET_ADD = "KPIを事業計画に追加"
REASON_TARGET_REMOVE = "KPIを事業計画から外す"
REASON_CHANGE_RECORD = "KPIの「{change}」を登録"

REASON_MAX_LENGTH = 500


class PlanningError(Exception):
    """A plan edit was refused; nothing was written. ``str(error)`` is the Japanese message for the user."""


class TargetConflict(PlanningError):
    """The target phrase was changed (or the target removed) by someone else since it was loaded.

    ``stored`` is the phrase as saved now (None when the target is gone), ``typed`` the phrase the user sent.
    """

    def __init__(self, target: KpiTarget | None, *, kpi_name: str, stored: str | None, typed: str) -> None:
        self.target = target
        self.stored = stored
        self.typed = typed
        if stored is None:
            message = TARGET_GONE.format(typed=typed)
        else:
            message = TARGET_CONFLICT.format(kpi=kpi_name, stored=stored or "（空欄）", typed=typed or "（空欄）")
        super().__init__(message)


@dataclass
class NextYearPlan:
    """What ``plan_start_next_year`` did: the new plan and how the lineage shaped it."""

    plan: Plan
    copied: list[KpiTarget] = field(default_factory=list)
    replaced: list[tuple[Kpi, Kpi]] = field(default_factory=list)  # (this year's KPI, its successor)
    dropped: list[Kpi] = field(default_factory=list)  # deleted next year (削除)
    offered: list[Kpi] = field(default_factory=list)  # new next year (新設), not in the plan yet


# -- who may record lineage ---------------------------------------------------------------------------------------


def may_record_lineage(user: User, kpi: Kpi, branch: access.Branch | None) -> bool:
    """Whether ``user`` may record 新設・削除・変更 of ``kpi``: the catalog's keepers for any KPI, the branch's
    planning staff for a KPI of the branch's own (not 全国共通, and in no other branch's plan)."""
    if access.has_permission(user, access.Permission.MANAGE_CATALOG):
        return True
    return (
        not kpi.is_national
        and branch is not None
        and access.has_permission(user, access.Permission.MANAGE_PLAN, branch)
        and not _held_elsewhere(kpi, branch)
    )


def _held_elsewhere(kpi: Kpi, branch: access.Branch) -> bool:
    """Whether another branch's plan holds ``kpi`` (its lineage would change that branch's plans too)."""
    return KpiTarget.objects.filter(kpi=kpi).exclude(plan__branch=branch).exists()


def _require_lineage(user: User, kpi: Kpi, branch: access.Branch | None) -> None:
    if not may_record_lineage(user, kpi, branch):
        other = not kpi.is_national and branch is not None and _held_elsewhere(kpi, branch)
        raise PlanningError((LINEAGE_OTHER_BRANCH if other else LINEAGE_NATIONAL_ONLY_HQ).format(kpi=kpi.name))


# -- helpers ------------------------------------------------------------------------------------------------------


def _stamp(obj: models.Model, user: User | None, reason: str) -> None:
    """Who and why, for the history row simple-history writes for ``obj``."""
    obj._history_user = user if user is not None and user.is_authenticated else None  # type: ignore[attr-defined]
    obj._change_reason = reason  # type: ignore[attr-defined]


def _reason(reason: str, default: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise PlanningError(REASON_TOO_LONG.format(limit=REASON_MAX_LENGTH, length=len(reason)))
    return f"{default}: {reason}" if reason else default


def _flat(text: str) -> str:
    return text.replace("\r", "").replace("\n", "").strip()


def _save(obj: models.Model, user: User | None, reason: str) -> None:
    obj.full_clean()
    _stamp(obj, user, reason)
    obj.save()


@dataclass(frozen=True)
class Lineage:
    """The catalog's changes taking effect in one fiscal year, ready to apply to last year's KPIs."""

    deleted: frozenset[int]  # KPI ids deleted this year
    successors: dict[int, Kpi]  # KPI id → the KPI that replaces it this year
    new: tuple[Kpi, ...]  # KPIs new this year
    redefined: frozenset[int]  # KPI ids whose definition changes this year (※基準変更)


def lineage_of(year: int) -> Lineage:
    """The lineage (``KpiChange``) of fiscal year ``year``: deleted, replaced (old → new), new and redefined KPIs.

    A replacement is read from the change's 変更前のKPI, else from the catalog's 後継KPI of a KPI whose
    successor is recorded as 他のKPIから変更 that year.
    """
    changes = list(KpiChange.objects.filter(fiscal_year_id=year).select_related("kpi", "replaces").order_by("pk"))
    successors: dict[int, Kpi] = {}
    replacing = {c.kpi_id: c.kpi for c in changes if c.change == KpiChange.Change.REPLACED}
    for change in changes:
        if change.change == KpiChange.Change.REPLACED and change.replaces_id is not None:
            successors[change.replaces_id] = change.kpi
    for old in Kpi.objects.filter(replaced_by_id__in=replacing).exclude(pk__in=successors).order_by():
        successors[old.pk] = replacing[old.replaced_by_id]  # type: ignore[index]
    return Lineage(
        deleted=frozenset(c.kpi_id for c in changes if c.change == KpiChange.Change.DELETED),
        successors=successors,
        new=tuple(c.kpi for c in changes if c.change == KpiChange.Change.NEW),
        redefined=frozenset(c.kpi_id for c in changes if c.change == KpiChange.Change.DEFINITION_CHANGED),
    )


def offered_kpis(plan: Plan) -> list[Kpi]:
    """KPIs new in the plan's year (新設) that the plan does not hold yet: national ones, for every branch."""
    held = set(plan.targets.values_list("kpi_id", flat=True))
    return [kpi for kpi in lineage_of(plan.fiscal_year_id).new if kpi.pk not in held and kpi.is_national]


# -- next year's plan ---------------------------------------------------------------------------------------------


@transaction.atomic
def plan_start_next_year(plan: Plan, *, user: User, reason: str = "") -> NextYearPlan:
    """Next fiscal year's plan of ``plan``'s branch, from ``plan``: measures (with their nesting) and KPIs copied,
    each target left empty to fill (設定なし until then), the next year's lineage applied.

    Raises ``PlanningError`` when the branch already has a plan for that year (nothing is written).
    """
    year = plan.fiscal_year_id + 1
    branch = plan.branch
    if not fiscal.FIRST_FISCAL_YEAR <= year <= fiscal.LAST_FISCAL_YEAR:
        raise PlanningError(NEXT_YEAR_OUT_OF_RANGE.format(year=year))
    if Plan.objects.filter(branch=branch, fiscal_year_id=year).exists():
        raise PlanningError(NEXT_PLAN_EXISTS.format(branch=branch, year=fiscal.reiwa_label(year)))
    source = fiscal.reiwa_label(plan.fiscal_year_id)
    why = _reason(reason, REASON_NEXT_YEAR.format(source=source))
    fiscal_year, _created = FiscalYear.objects.get_or_create(year=year)
    new_plan = Plan(branch=branch, fiscal_year=fiscal_year, source=why[:200])
    try:
        with transaction.atomic():
            _save(new_plan, user, why)
    except (IntegrityError, ValidationError) as exc:  # a concurrent start won the race
        raise PlanningError(NEXT_PLAN_EXISTS.format(branch=branch, year=fiscal.reiwa_label(year))) from exc

    copies: dict[int, Measure] = {}
    measures = list(plan.measures.order_by("parent_id", "area_id", "order", "pk"))  # parents (NULL) first
    for measure in sorted(measures, key=lambda m: m.parent_id is not None):
        copy = Measure(
            plan=new_plan,
            key=measure.key,
            area_id=measure.area_id,
            parent=copies.get(measure.parent_id) if measure.parent_id else None,  # type: ignore[arg-type]
            number=measure.number,
            title=measure.title,
            group=measure.group,
            body=measure.body,
            importance_high=measure.importance_high,
            importance_text=measure.importance_text,
            difficulty_high=measure.difficulty_high,
            difficulty_text=measure.difficulty_text,
            order=measure.order,
        )
        _save(copy, user, why)
        copies[measure.pk] = copy

    lineage = lineage_of(year)
    result = NextYearPlan(plan=new_plan)
    taken: set[int] = set()
    for target in plan.targets.select_related("kpi").order_by("order", "pk"):
        kpi = target.kpi
        if kpi.pk in lineage.deleted:
            result.dropped.append(kpi)
            continue
        successor = lineage.successors.get(kpi.pk)
        carried = successor if successor is not None else kpi
        if carried.pk in taken:
            continue  # two KPIs merged into one successor: one target
        taken.add(carried.pk)
        copy = KpiTarget(
            plan=new_plan,
            kpi=carried,
            measure=copies.get(target.measure_id) if target.measure_id else None,  # type: ignore[arg-type]
            name_as_written=carried.name if successor is not None else target.name_as_written,
            precision_override=target.precision_override if successor is None else None,
            order=target.order,
        )
        copy.apply_target_text("")
        row_reason = why if successor is None else REASON_NEXT_YEAR_REPLACED.format(source=source, old=kpi.name)
        _save(copy, user, row_reason)
        result.copied.append(copy)
        if successor is not None:
            result.replaced.append((kpi, successor))
    result.offered = [kpi for kpi in lineage.new if kpi.pk not in taken and kpi.is_national]
    return result


# -- targets ------------------------------------------------------------------------------------------------------


def _apply(target: KpiTarget, text: str) -> None:
    try:
        target.apply_target_text(text)
    except rules.KpiDeleted as exc:
        raise ValidationError({"target_text": TARGET_DELETED_PHRASE.format(kpi=target.kpi.name, typed=text)}) from exc
    except rules.TargetParseError as exc:
        raise ValidationError({"target_text": str(exc)}) from exc


def _lock_plan_of(target: KpiTarget) -> None:
    """The plan's data version row before the target's (``plans.versions.bump``'s lock order)."""
    scope = Plan.objects.filter(pk=target.plan_id).values_list("fiscal_year_id", "branch_id").first()
    if scope is not None:
        versions.lock_plan(*scope)


@transaction.atomic
def target_update(target: KpiTarget, text: str, *, user: User, expected_text: str, reason: str = "") -> bool:
    """Set ``target``'s phrase to ``text`` (rule, value and baseline read from it) and validate it.

    ``expected_text`` is the phrase the user loaded: when the saved phrase differs, someone else changed it and
    ``TargetConflict`` is raised with both phrases. An unreadable phrase raises ``ValidationError`` keyed
    ``target_text``. Returns False (and writes nothing) when the phrase is unchanged. ``target`` is updated in place.
    """
    text = text.strip()
    why = _reason(reason, REASON_TARGET_UPDATE)
    _lock_plan_of(target)
    current = KpiTarget.objects.select_for_update().select_related("kpi", "plan").filter(pk=target.pk).first()
    if current is None:
        raise TargetConflict(None, kpi_name=target.kpi.name, stored=None, typed=text)
    if current.target_text != expected_text.replace("\r\n", "\n"):  # forms send line breaks as CRLF
        raise TargetConflict(current, kpi_name=current.kpi.name, stored=current.target_text, typed=text)
    if current.target_text == text:
        return False
    _apply(current, text)
    _save(current, user, why)
    for name in ("target_text", "rule", "target_value", "stated_baseline"):
        setattr(target, name, getattr(current, name))
    return True


@dataclass
class TargetEdit:
    """One row of a whole-plan save: the phrase typed and the phrase it was typed over (``seen``); after
    ``targets_update``, what went wrong with it (``error`` or ``conflict``) or that it was ``saved``."""

    target: KpiTarget
    text: str
    seen: str
    error: str = ""
    conflict: TargetConflict | None = None
    saved: bool = False

    @property
    def touched(self) -> bool:
        # A text field drops line breaks a stored phrase may hold: that alone is not an edit.
        return _flat(self.text) != _flat(self.seen)

    @property
    def refused(self) -> bool:
        return bool(self.error) or self.conflict is not None


@transaction.atomic
def targets_update(edits: Iterable[TargetEdit], *, user: User, reason: str = "") -> int:
    """Save every touched edit through ``target_update``, all or nothing: when any is refused (unreadable phrase,
    too long, changed meanwhile) nothing is saved, each refused edit says why, and 0 is returned. Else the number
    of phrases saved."""
    edits = list(edits)
    for edit in edits:
        if not edit.touched:
            continue
        if len(edit.text.strip()) > phrases.PHRASE_LIMIT:
            edit.error = phrases.PHRASE_TOO_LONG.format(limit=phrases.PHRASE_LIMIT, length=len(edit.text.strip()))
            continue
        try:
            edit.saved = target_update(edit.target, edit.text, user=user, expected_text=edit.seen, reason=reason)
        except TargetConflict as exc:
            edit.conflict = exc
        except ValidationError as exc:
            edit.error = " ".join(exc.messages)
        except PlanningError as exc:
            edit.error = str(exc)
    if any(edit.refused for edit in edits):
        transaction.set_rollback(True)
        for edit in edits:
            edit.saved = False
        return 0
    return sum(edit.saved for edit in edits)


@transaction.atomic
def target_add(
    plan: Plan,
    kpi: Kpi,
    *,
    user: User,
    measure: Measure | None = None,
    text: str = "",
    record_new: bool = False,
    note: str = "",
    reason: str = "",
) -> KpiTarget:
    """Add ``kpi`` to ``plan`` with the phrase ``text`` (empty: to fill later), under ``measure``.

    With ``record_new`` the KPI's 新設 for the plan's year is recorded too (unless already recorded).
    Raises ``PlanningError`` (already in the plan, measure of another plan, lineage not allowed) or
    ``ValidationError`` (unreadable phrase); nothing is written then.
    """
    if measure is not None and measure.plan_id != plan.pk:
        raise PlanningError(MEASURE_NOT_IN_PLAN)
    if plan.targets.filter(kpi=kpi).exists():
        raise PlanningError(TARGET_EXISTS.format(kpi=kpi.name))
    why = _reason(reason, REASON_TARGET_ADD)
    last = plan.targets.aggregate(last=models.Max("order"))["last"]
    target = KpiTarget(
        plan=plan, kpi=kpi, measure=measure, name_as_written=kpi.name, order=(last or 0) + 1
    )
    _apply(target, text.strip())
    try:
        with transaction.atomic():
            _save(target, user, why)
    except IntegrityError as exc:
        raise PlanningError(TARGET_EXISTS.format(kpi=kpi.name)) from exc
    if record_new and not KpiChange.objects.filter(
        kpi=kpi, fiscal_year_id=plan.fiscal_year_id, change=KpiChange.Change.NEW
    ).exists():
        kpi_change_record(plan, kpi, KpiChange.Change.NEW, user=user, note=note, reason=reason)
    return target


@transaction.atomic
def target_remove(
    target: KpiTarget, *, user: User, record_deleted: bool = False, note: str = "", reason: str = ""
) -> None:
    """Take ``target`` out of its plan; with ``record_deleted`` record the KPI's 削除 for the plan's year.

    Refused while the target has actuals (they would be lost): ``PlanningError``, nothing written.
    """
    _lock_plan_of(target)
    current = KpiTarget.objects.select_for_update().select_related("kpi", "plan", "plan__branch").filter(
        pk=target.pk
    ).first()
    if current is None:
        raise TargetConflict(None, kpi_name=target.kpi.name, stored=None, typed=target.target_text)
    count = KpiActual.objects.filter(target=current).count()
    if count:
        raise PlanningError(TARGET_HAS_ACTUALS.format(kpi=current.kpi.name, count=count))
    why = _reason(reason, REASON_TARGET_REMOVE)
    if record_deleted:
        _require_lineage(user, current.kpi, current.plan.branch)
    _stamp(current, user, why)
    current.delete()
    existing = KpiChange.objects.filter(
        kpi=current.kpi, fiscal_year_id=current.plan.fiscal_year_id, change=KpiChange.Change.DELETED
    )
    if record_deleted and not existing.exists():
        kpi_change_record(current.plan, current.kpi, KpiChange.Change.DELETED, user=user, note=note, reason=reason)


# -- lineage ------------------------------------------------------------------------------------------------------


@transaction.atomic
def kpi_change_record(
    plan: Plan,
    kpi: Kpi,
    change: str,
    *,
    user: User,
    note: str = "",
    previous_name: str = "",
    replaces: Kpi | None = None,
    reason: str = "",
) -> KpiChange:
    """Record ``kpi``'s ``change`` (``KpiChange.Change``) for ``plan``'s fiscal year, from ``plan``'s edit page.

    変更 of the wording or definition is 「基準・算出方法の変更」 (``definition_changed``, with a note such as
    ※算出方法変更 — the dashboards show it as ※基準変更 and stop comparing across the year); a KPI that takes
    another's place is 「他のKPIから変更」 (``replaced``, naming the KPI it replaces).
    Raises ``PlanningError`` (not allowed, already recorded, a missing or stray 変更前のKPI, a missing note).
    """
    label = KpiChange.Change(change).label
    _require_lineage(user, kpi, plan.branch)
    note, previous_name = note.strip(), previous_name.strip()
    if change == KpiChange.Change.REPLACED:
        if replaces is None:
            raise PlanningError(REPLACES_REQUIRED)
        if replaces.pk == kpi.pk:
            raise PlanningError(REPLACES_ITSELF)
    elif replaces is not None:
        raise PlanningError(REPLACES_ONLY_IF_REPLACED)
    if change == KpiChange.Change.DEFINITION_CHANGED and not note:
        raise PlanningError(DEFINITION_NEEDS_NOTE)
    year = plan.fiscal_year_id
    if change == KpiChange.Change.DELETED and plan.targets.filter(kpi=kpi).exists():
        raise PlanningError(DELETED_BUT_IN_PLAN.format(kpi=kpi.name))
    duplicate = PlanningError(
        CHANGE_EXISTS.format(kpi=kpi.name, year=fiscal.reiwa_label(year), change=label)
    )
    if KpiChange.objects.filter(kpi=kpi, fiscal_year_id=year, change=change).exists():
        raise duplicate
    record = KpiChange(
        kpi=kpi,
        fiscal_year_id=year,
        change=change,
        replaces=replaces,
        previous_name=previous_name or (replaces.name if replaces is not None else ""),
        note=note,
    )
    why = _reason(reason, REASON_CHANGE_RECORD.format(change=label))
    try:
        with transaction.atomic():
            _save(record, user, why)
    except IntegrityError as exc:
        raise duplicate from exc
    return record


def changes_of(plan: Plan, kpis: Iterable[Kpi]) -> dict[int, list[KpiChange]]:
    """Per KPI id: the lineage recorded for ``plan``'s year, for the edit page."""
    by_kpi: dict[int, list[KpiChange]] = {}
    for change in KpiChange.objects.filter(fiscal_year_id=plan.fiscal_year_id, kpi__in=list(kpis)).order_by("pk"):
        by_kpi.setdefault(change.kpi_id, []).append(change)
    return by_kpi
