"""Business plans (事業計画): fiscal years, areas, measures, the KPI catalog, targets and actuals."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import ExtractMonth
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from plans import figures, fiscal, rules
from plans.rules import Basis, Mark, RuleKind, TargetRule


def recorded(verbose_name: str | Promise, **kwargs: Any) -> HistoricalRecords:
    """The history of a model users edit (django-simple-history): who, when, + ~ -, and the reason in full."""
    return HistoricalRecords(
        verbose_name=verbose_name, history_change_reason_field=models.TextField(null=True), **kwargs
    )


class FiscalYear(models.Model):
    """年度: April 1 to March 31. The primary key is the Gregorian year it starts in."""

    year = models.PositiveSmallIntegerField(_("年度（西暦）"), primary_key=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("年度")
        verbose_name_plural = _("年度")
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=fiscal.FIRST_FISCAL_YEAR, year__lte=fiscal.LAST_FISCAL_YEAR),
                name="fiscal_year_in_range",
                violation_error_message="年度は2008〜2100の範囲で入力してください。",
            ),
        ]

    def __str__(self) -> str:
        return self.display

    @property
    def label(self) -> str:
        return fiscal.reiwa_label(self.year)

    @property
    def display(self) -> str:
        return fiscal.year_display(self.year)

    def months(self) -> list[datetime.date]:
        """The twelve months of the year, April first."""
        return fiscal.months_of(self.year)

    def contains(self, day: datetime.date) -> bool:
        return fiscal.in_year(day, self.year)


class Area(models.Model):
    """分野: the three fixed areas of every plan."""

    number = models.PositiveSmallIntegerField(_("番号"), primary_key=True)
    name = models.CharField(_("分野名"), max_length=40, unique=True)
    name_en = models.CharField(_("英語名"), max_length=60)

    FIXED: tuple[tuple[int, str, str], ...] = (
        (1, "基盤的保険者機能", "Basic insurer functions"),
        (2, "戦略的保険者機能", "Strategic insurer functions"),
        (3, "組織・運営体制", "Organisation and management"),
    )

    class Meta:
        ordering = ["number"]
        verbose_name = _("分野")
        verbose_name_plural = _("分野")
        constraints = [
            models.CheckConstraint(
                condition=Q(number__gte=1, number__lte=3),
                name="area_number_1_3",
                violation_error_message="分野の番号は1・2・3のいずれかです。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"

    @classmethod
    def sync(cls) -> None:
        for number, name, name_en in cls.FIXED:
            cls.objects.update_or_create(number=number, defaults={"name": name, "name_en": name_en})


class Kpi(models.Model):
    """A KPI of the shared catalog: one identity across branches and years."""

    class Direction(models.TextChoices):
        HIGHER = "higher", _("高いほど良い")
        LOWER = "lower", _("低いほど良い")
        NONE = "none", _("方向なし")

    class Kind(models.TextChoices):
        RATE = "rate", _("率")
        COUNT = "count", _("件数・数")
        AMOUNT = "amount", _("金額")
        DAYS = "days", _("日数")
        QUALITATIVE = "qualitative", _("定性")
        FREQUENCY = "frequency", _("頻度")

    class MeasureBasis(models.TextChoices):
        CUMULATIVE = Basis.CUMULATIVE.value, _("累計（年度内で積み上がる率）")
        YEAR_TO_DATE = Basis.YEAR_TO_DATE.value, _("年度累計の比率")
        RUNNING_TOTAL = Basis.RUNNING_TOTAL.value, _("時点の累計数")
        SINGLE_MONTH = Basis.SINGLE_MONTH.value, _("単月")
        LEVEL = Basis.LEVEL.value, _("水準（そのときの値）")

    code = models.SlugField(_("KPIコード"), max_length=60, unique=True)
    name = models.CharField(_("KPI名"), max_length=200)
    unit = models.CharField(_("単位"), max_length=10, blank=True)
    precision = models.PositiveSmallIntegerField(_("公表桁数（小数点以下）"), default=1)
    direction = models.CharField(_("方向"), max_length=10, choices=Direction.choices, default=Direction.HIGHER)
    kind = models.CharField(_("種類"), max_length=12, choices=Kind.choices, default=Kind.RATE)
    measure_basis = models.CharField(
        _("集計の性質"), max_length=14, choices=MeasureBasis.choices, default=MeasureBasis.CUMULATIVE
    )
    is_national = models.BooleanField(_("全国共通KPI"), default=True)
    description = models.TextField(_("説明"), blank=True)
    replaced_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaces", verbose_name=_("後継KPI")
    )
    order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    history = recorded(verbose_name=_("KPIの履歴"))

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("KPI")
        verbose_name_plural = _("KPIカタログ")
        constraints = [
            models.CheckConstraint(
                condition=Q(precision__lte=4),
                name="kpi_precision_at_most_4",
                violation_error_message="公表桁数（小数点以下）は4桁までです。",
            ),
            models.CheckConstraint(
                condition=~Q(replaced_by=F("id")),
                name="kpi_not_replaced_by_itself",
                violation_error_message="後継KPIにそのKPI自身は選べません。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_numeric(self) -> bool:
        return self.kind not in {self.Kind.QUALITATIVE, self.Kind.FREQUENCY}


class KpiChange(models.Model):
    """Lineage of a KPI (新設, 削除, 変更, 基準変更), so year-over-year comparisons know a break."""

    class Change(models.TextChoices):
        NEW = "new", _("新設")
        DELETED = "deleted", _("削除")
        REPLACED = "replaced", _("他のKPIから変更")
        DEFINITION_CHANGED = "definition_changed", _("基準・算出方法の変更")

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="changes", verbose_name=_("KPI"))
    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.PROTECT, verbose_name=_("年度"))
    change = models.CharField(_("変更の種類"), max_length=20, choices=Change.choices)
    replaces = models.ForeignKey(
        Kpi, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("変更前のKPI")
    )
    previous_name = models.CharField(_("変更前の名称"), max_length=200, blank=True)
    note = models.TextField(_("注記"), blank=True)

    history = recorded(verbose_name=_("KPIの変更履歴の履歴"))

    class Meta:
        ordering = ["kpi", "fiscal_year"]
        verbose_name = _("KPIの変更履歴")
        verbose_name_plural = _("KPIの変更履歴")
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "fiscal_year", "change"],
                name="kpi_change_once_a_year",
                violation_error_message="このKPIには、この年度の同じ種類の変更がすでに登録されています。",
                violation_error_code="unique",
            ),
            models.CheckConstraint(
                condition=Q(change="replaced") | Q(replaces__isnull=True),
                name="kpi_change_replaces_only_if_replaced",
                violation_error_message="変更前のKPIは、変更の種類が「他のKPIから変更」のときだけ入力してください。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi.code} {self.fiscal_year_id}: {self.get_change_display()}"

    #: Changes after which figures before and after are not like for like.
    BREAKS = (Change.REPLACED, Change.DEFINITION_CHANGED)

    @property
    def breaks_series(self) -> bool:
        """Whether figures before and after this change are not like for like."""
        return self.change in self.BREAKS


class Plan(models.Model):
    """事業計画: one branch's business plan for one fiscal year."""

    branch = models.ForeignKey(
        "branches.Branch", on_delete=models.PROTECT, related_name="plans", verbose_name=_("支部")
    )
    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.PROTECT, related_name="plans", verbose_name=_("年度"))
    source = models.CharField(_("出典"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    history = recorded(verbose_name=_("事業計画の履歴"))

    class Meta:
        ordering = ["branch__jis_code", "fiscal_year"]
        verbose_name = _("事業計画")
        verbose_name_plural = _("事業計画")
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "fiscal_year"],
                name="one_plan_per_branch_and_year",
                violation_error_message="この支部のこの年度の事業計画はすでにあります。",
                violation_error_code="unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch} {self.fiscal_year.label} 事業計画"


class Measure(models.Model):
    """施策 (具体的施策): numbered within its area, optionally nested one level."""

    class Group(models.TextChoices):
        PLANNING = "企画総務", _("企画総務")
        OPERATIONS = "業務", _("業務")
        RECEIPT = "レセプト", _("レセプト")
        HEALTH = "保健", _("保健")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="measures", verbose_name=_("事業計画"))
    key = models.CharField(_("キー"), max_length=30, help_text=_("計画内で一意（例: 1-2, 2-4-1）"))
    area = models.ForeignKey(Area, on_delete=models.PROTECT, verbose_name=_("分野"))
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children", verbose_name=_("親施策")
    )
    number = models.CharField(_("番号"), max_length=20, blank=True)
    title = models.CharField(_("施策名"), max_length=300)
    group = models.CharField(_("担当グループ"), max_length=10, choices=Group.choices, blank=True)
    body = models.TextField(_("施策の内容"), blank=True)
    importance_high = models.BooleanField(_("重要度：高"), default=False)
    importance_text = models.TextField(_("重要度の説明"), blank=True)
    difficulty_high = models.BooleanField(_("困難度：高"), default=False)
    difficulty_text = models.TextField(_("困難度の説明"), blank=True)
    order = models.PositiveIntegerField(_("表示順"), default=0)

    history = recorded(verbose_name=_("施策の履歴"))

    class Meta:
        ordering = ["plan", "area", "order"]
        verbose_name = _("施策")
        verbose_name_plural = _("施策")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "key"],
                name="measure_key_unique_in_plan",
                violation_error_message="このキーの施策はこの事業計画にすでにあります。",
                violation_error_code="unique",
            ),
            models.CheckConstraint(
                condition=~Q(parent=F("id")),
                name="measure_not_its_own_parent",
                violation_error_message="親施策にその施策自身は選べません。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}".strip()

    def clean(self) -> None:
        if self.parent_id and self.parent is not None:
            if self.parent.plan_id != self.plan_id:
                raise ValidationError({"parent": "親施策は同じ事業計画の施策を選んでください。"})
            if self.parent.parent_id or (self.pk and self.children.exists()):
                raise ValidationError({"parent": "施策の入れ子は1段までです。"})


class KpiTargetQuerySet(models.QuerySet["KpiTarget"]):
    def with_figures(self) -> KpiTargetQuerySet:
        """Each target with its KPI and every figure a dashboard row needs, in the same query.

        plan_year: the plan's fiscal year. year_end_value/text: the year-end actual.
        latest_value/latest_month/latest_fiscal_month: the newest mid-year figure (at the same month an
        interim report wins over the monthly entry). previous_year_end: last year's year-end actual of the
        same branch and KPI (the yoy baseline). baseline_breaks: the KPI was replaced or redefined this
        year, so last year's figures are not like for like (※基準変更). last_year_same_month: last year's
        figure at the same month as latest (for the projection). national_average: this year's year-end
        national average.
        Every subquery orders explicitly (``order_by()``) so none inherits a model's default ordering.
        """
        actuals = KpiActual.objects.filter(target=OuterRef("pk")).order_by()
        year_end = actuals.filter(period=KpiActual.Period.YEAR_END)
        latest = actuals.exclude(period=KpiActual.Period.YEAR_END).order_by("-month", "period")
        last_year = KpiActual.objects.filter(
            target__kpi=OuterRef("kpi"),
            target__plan__branch=OuterRef("plan__branch"),
            target__plan__fiscal_year=OuterRef("plan__fiscal_year") - 1,
        ).order_by()
        national = NationalAverage.objects.filter(
            kpi=OuterRef("kpi"), fiscal_year=OuterRef("plan__fiscal_year"), as_of__isnull=True
        ).order_by()
        return self.select_related("kpi").annotate(
            plan_year=F("plan__fiscal_year"),
            year_end_value=Subquery(year_end.values("value")[:1]),
            year_end_text=Subquery(year_end.values("text_value")[:1]),
            latest_value=Subquery(latest.values("value")[:1]),
            latest_month=Subquery(latest.values("month")[:1]),
            latest_fiscal_month=Subquery(latest.values("fiscal_month")[:1]),
            previous_year_end=Subquery(last_year.filter(period=KpiActual.Period.YEAR_END).values("value")[:1]),
            last_year_same_month=Subquery(
                last_year.filter(fiscal_month=OuterRef("latest_fiscal_month"), value__isnull=False)
                .exclude(period=KpiActual.Period.YEAR_END)
                .order_by("period")
                .values("value")[:1]
            ),
            national_average=Subquery(national.values("value")[:1]),
            baseline_breaks=Exists(
                KpiChange.objects.filter(
                    kpi=OuterRef("kpi"), fiscal_year=OuterRef("plan__fiscal_year"), change__in=KpiChange.BREAKS
                )
            ),
        )


class KpiTarget(models.Model):
    """A KPI's target in one plan: the phrase as written and the rule kpitrack reads from it."""

    class RuleChoice(models.TextChoices):
        FIXED_MIN = RuleKind.FIXED_MIN.value, _("固定値以上")
        FIXED_MAX = RuleKind.FIXED_MAX.value, _("固定値以下")
        EXACT = RuleKind.EXACT.value, _("固定値とする")
        YOY_MIN = RuleKind.YOY_MIN.value, _("対前年度以上")
        YOY_MAX = RuleKind.YOY_MAX.value, _("対前年度以下")
        DONE = RuleKind.DONE.value, _("実施")
        FREQUENCY = RuleKind.FREQUENCY.value, _("頻度（毎月など）")
        NONE = RuleKind.NONE.value, _("設定なし")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets", verbose_name=_("事業計画"))
    kpi = models.ForeignKey(Kpi, on_delete=models.PROTECT, related_name="targets", verbose_name=_("KPI"))
    measure = models.ForeignKey(
        Measure, on_delete=models.SET_NULL, null=True, blank=True, related_name="targets", verbose_name=_("施策")
    )
    name_as_written = models.CharField(_("KPI名（計画の記載）"), max_length=300, blank=True)
    target_text = models.CharField(_("目標（記載どおり）"), max_length=200, blank=True)
    rule = models.CharField(_("目標の種類"), max_length=12, choices=RuleChoice.choices, default=RuleChoice.NONE)
    target_value = models.DecimalField(_("目標値"), max_digits=16, decimal_places=4, null=True, blank=True)
    stated_baseline = models.DecimalField(
        _("記載された基準値（前年度）"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    precision_override = models.PositiveSmallIntegerField(_("公表桁数（この計画のみ）"), null=True, blank=True)
    note = models.CharField(_("備考"), max_length=300, blank=True)
    published_mark = models.CharField(_("支部公表の評価"), max_length=1, choices=Mark.choices(), blank=True)
    order = models.PositiveIntegerField(_("表示順"), default=0)
    #: A stamp replaced in the transaction of every write this target's result depends on within its plan (its
    #: actuals, itself, its plan's measures): the key of its cached result (``plans.versions``,
    #: ``plans.result_cache``). Not history: it says nothing a user wrote.
    data_version = models.PositiveBigIntegerField(_("データの版"), default=0, editable=False)

    objects = KpiTargetQuerySet.as_manager()
    history = recorded(verbose_name=_("KPI目標の履歴"), excluded_fields=["data_version"])

    class Meta:
        ordering = ["plan", "order", "id"]
        verbose_name = _("KPI目標")
        verbose_name_plural = _("KPI目標")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "kpi"],
                name="one_target_per_kpi_and_plan",
                violation_error_message="このKPIの目標はこの事業計画にすでにあります。",
                violation_error_code="unique",
            ),
            models.CheckConstraint(
                condition=(
                    Q(rule__in=["fixed_min", "fixed_max", "exact"], target_value__isnull=False)
                    | (~Q(rule__in=["fixed_min", "fixed_max", "exact"]) & Q(target_value__isnull=True))
                ),
                name="target_value_only_for_fixed_rules",
                violation_error_message="目標値は、目標の種類が固定値以上・固定値以下・固定値とするのときに入力し、それ以外では空欄にしてください。",
            ),
            models.CheckConstraint(
                condition=Q(rule__in=["yoy_min", "yoy_max"]) | Q(stated_baseline__isnull=True),
                name="stated_baseline_only_for_yoy_rules",
                violation_error_message="記載された基準値は、目標の種類が対前年度以上・対前年度以下のときだけ入力してください。",
            ),
            models.CheckConstraint(
                condition=Q(precision_override__isnull=True) | Q(precision_override__lte=4),
                name="target_precision_at_most_4",
                violation_error_message="公表桁数（この計画のみ）は4桁までです。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi.name}: {self.target_text or '目標なし'}"

    # -- the rule ---------------------------------------------------------------------------------

    def apply_target_text(self, text: str) -> None:
        """Parse ``text`` and set the rule fields from it. Raises ``rules.TargetParseError``."""
        parsed = rules.parse_target(text, fiscal_year=self.plan.fiscal_year_id if self.plan_id else None)
        self.target_text = text
        self.rule = parsed.kind.value
        self.target_value = parsed.value
        self.stated_baseline = parsed.baseline

    def clean(self) -> None:
        try:
            parsed = rules.parse_target(
                self.target_text, fiscal_year=self.plan.fiscal_year_id if self.plan_id else None
            )
        except rules.TargetParseError as exc:
            raise ValidationError({"target_text": str(exc)}) from exc
        self.rule, self.target_value, self.stated_baseline = parsed.kind.value, parsed.value, parsed.baseline

    @property
    def target_rule(self) -> TargetRule:
        return TargetRule(
            kind=RuleKind(self.rule),
            text=self.target_text,
            value=self.target_value,
            baseline=self.stated_baseline,
            unit=self.kpi.unit,
        )

    @property
    def precision(self) -> int:
        return self.precision_override if self.precision_override is not None else self.kpi.precision

    def judge(self, actual: rules.Actual, *, previous_year_end: Decimal | None = None) -> Mark | None:
        return rules.judge(
            self.target_rule,
            actual,
            baseline=previous_year_end,
            precision=self.precision,
            direction=self.kpi.direction,
        )


class KpiActual(models.Model):
    """実績: a monthly figure, an interim (中途) figure with its as-of month, or the year-end figure."""

    class Period(models.TextChoices):
        MONTHLY = "monthly", _("月次")
        INTERIM = "interim", _("中途実績")
        YEAR_END = "year_end", _("年度末実績")

    class Source(models.TextChoices):
        SEED = "seed", _("支部資料（シード）")
        MANUAL = "manual", _("画面入力")
        IMPORT = "import", _("ファイル取込")
        GENERATED = "generated", _("生成データ")

    target = models.ForeignKey(KpiTarget, on_delete=models.PROTECT, related_name="actuals", verbose_name=_("KPI目標"))
    period = models.CharField(_("区分"), max_length=10, choices=Period.choices)
    month = models.DateField(_("対象月（時点）"), null=True, blank=True, help_text=_("月の1日。年度末実績は空欄"))
    fiscal_month = models.GeneratedField(
        expression=(ExtractMonth("month") + 8) % 12 + 1,
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
        null=True,
        verbose_name=_("年度内の月（4月=1）"),
    )
    value = models.DecimalField(_("実績値"), max_digits=16, decimal_places=4, null=True, blank=True)
    text_value = models.CharField(_("実績（定性）"), max_length=100, blank=True)
    numerator = models.DecimalField(_("分子"), max_digits=16, decimal_places=2, null=True, blank=True)
    denominator = models.DecimalField(_("分母"), max_digits=16, decimal_places=2, null=True, blank=True)
    is_cumulative = models.BooleanField(_("累計値"), default=True)
    note = models.CharField(_("注記"), max_length=200, blank=True)
    source = models.CharField(_("入力元"), max_length=10, choices=Source.choices, default=Source.MANUAL)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("入力者")
    )
    entered_at = models.DateTimeField(_("入力日時"), auto_now=True)
    version = models.PositiveIntegerField(_("版"), default=1, editable=False)

    # fiscal_month is generated from month: the history keeps month only (a generated column cannot be inserted).
    history = recorded(verbose_name=_("KPI実績の履歴"), excluded_fields=["fiscal_month"])

    class Meta:
        ordering = ["target", "period", "month"]
        verbose_name = _("KPI実績")
        verbose_name_plural = _("KPI実績")
        indexes = [
            models.Index(fields=["target", "period", "month"], name="actual_target_period_month"),
            models.Index(fields=["target", "fiscal_month"], name="actual_target_fiscal_month"),
            # Serves "the newest mid-year figure" (ORDER BY month DESC, period) without a sort.
            models.Index(fields=["target", "-month", "period"], name="actual_target_latest"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["target"],
                condition=Q(period="year_end"),
                name="one_year_end_actual_per_target",
                violation_error_message="このKPI目標の年度末実績はすでに登録されています。",
                violation_error_code="unique",
            ),
            models.UniqueConstraint(
                fields=["target", "period", "month"],
                condition=Q(month__isnull=False),
                name="one_actual_per_target_period_month",
                violation_error_message="このKPI目標のこの区分・対象月の実績はすでに登録されています。",
                violation_error_code="unique",
            ),
            models.CheckConstraint(
                condition=(Q(period="year_end") & Q(month__isnull=True))
                | (~Q(period="year_end") & Q(month__isnull=False)),
                name="actual_month_set_unless_year_end",
                violation_error_message="対象月は、年度末実績では空欄にし、月次・中途実績では入力してください。",
                violation_error_code="month_mismatch",
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=False) | ~Q(text_value=""),
                name="actual_has_a_value",
                violation_error_message=figures.NO_FIGURE,
                violation_error_code="no_value",
            ),
            models.CheckConstraint(
                condition=Q(denominator__isnull=True) | Q(denominator__gt=0),
                name="actual_denominator_positive",
                violation_error_message="分母は0より大きい数を入力してください。",
                violation_error_code="denominator_not_positive",
            ),
            models.CheckConstraint(
                condition=Q(numerator__isnull=True) | Q(numerator__gte=0),
                name="actual_numerator_not_negative",
                violation_error_message="分子に負の数は入力できません。",
                violation_error_code="numerator_negative",
            ),
            models.CheckConstraint(
                condition=Q(month__isnull=True) | Q(month__day=1),
                name="actual_month_first_day",
                violation_error_message="対象月は月の1日の日付で入力してください。",
                violation_error_code="month_not_first_day",
            ),
        ]

    def __str__(self) -> str:
        when = fiscal.month_label(self.month) if self.month else "年度末"
        return f"{self.target.kpi.name} {when}: {self.display_value}"

    @property
    def display_value(self) -> str:
        return self.text_value if self.value is None else f"{self.value.normalize():f}"

    @property
    def judged_value(self) -> rules.Actual:
        return self.text_value if self.value is None else self.value

    def clean(self) -> None:
        """Every problem at once, keyed by field, so the admin shows each Japanese message beside its field."""
        errors: dict[str, list[str]] = {}
        if self.month is not None and self.target_id:
            for problem in figures.check_month(self.month, self.target.plan.fiscal_year_id):
                errors.setdefault(problem.field, []).append(problem.message)
        elif self.month is not None and self.month.day != 1:
            errors["month"] = [figures.MONTH_NOT_FIRST_DAY.format(day=f"{self.month:%Y-%m-%d}")]
        figures_read = all(f is None or isinstance(f, Decimal) for f in (self.value, self.numerator, self.denominator))
        if self.target_id and figures_read:  # a figure clean_fields() could not read has its message already
            kpi = self.target.kpi
            for problem in figures.check_actual(
                kind=kpi.kind,
                unit=kpi.unit,
                value=self.value,
                numerator=self.numerator,
                denominator=self.denominator,
                text_value=self.text_value,
            ):
                errors.setdefault(problem.field, []).append(problem.message)
        if errors:
            raise ValidationError(errors)


class NationalAverage(models.Model):
    """全国平均: published beside a branch's actual, for the year end or as of a month."""

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="national_averages", verbose_name=_("KPI"))
    fiscal_year = models.ForeignKey(FiscalYear, on_delete=models.PROTECT, verbose_name=_("年度"))
    as_of = models.DateField(_("時点"), null=True, blank=True, help_text=_("年度末は空欄"))
    value = models.DecimalField(_("全国平均"), max_digits=16, decimal_places=4)

    history = recorded(verbose_name=_("全国平均の履歴"))

    class Meta:
        ordering = ["kpi", "fiscal_year", "as_of"]
        verbose_name = _("全国平均")
        verbose_name_plural = _("全国平均")
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "fiscal_year"],
                condition=Q(as_of__isnull=True),
                name="one_year_end_national_average",
                violation_error_message="このKPIのこの年度の年度末の全国平均はすでに登録されています。",
                violation_error_code="unique",
            ),
            models.UniqueConstraint(
                fields=["kpi", "fiscal_year", "as_of"],
                condition=Q(as_of__isnull=False),
                name="one_national_average_per_month",
                violation_error_message="このKPIのこの年度・時点の全国平均はすでに登録されています。",
                violation_error_code="unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi.name} {self.fiscal_year_id}: {self.value.normalize():f}"


class MeasureProgress(models.Model):
    """施策の進捗: 実施状況, 評価 (○ / △ / －) and 今後の実施予定 for a period."""

    #: 評価 of a measure: a mark, or － (not rated) as Tokyo writes mid-year.
    EVALUATION_CHOICES = [*Mark.choices(), (rules.NOT_JUDGED, _("－ 評価なし"))]

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="progress", verbose_name=_("施策"))
    period = models.CharField(_("期間"), max_length=30, help_text=_("例: 令和6年度上期"))
    as_of = models.DateField(_("時点"), null=True, blank=True)
    status = models.TextField(_("実施状況"), max_length=2000, blank=True)
    evaluation = models.CharField(_("評価"), max_length=1, choices=EVALUATION_CHOICES, default=rules.NOT_JUDGED)
    next_steps = models.TextField(_("今後の実施予定"), max_length=2000, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("更新者")
    )
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    version = models.PositiveIntegerField(_("版"), default=1, editable=False)
    history = recorded(verbose_name=_("施策の進捗の履歴"))

    class Meta:
        ordering = ["measure", "as_of"]
        verbose_name = _("施策の進捗")
        verbose_name_plural = _("施策の進捗")
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "period"],
                name="one_progress_per_measure_and_period",
                violation_error_message="この施策のこの期間の進捗はすでに登録されています。",
                violation_error_code="unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.period} {self.evaluation}"


class BudgetLine(models.Model):
    """予算執行: one programme's budget (予算額) and spending (執行額)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="budget_lines", verbose_name=_("事業計画"))
    category = models.CharField(_("区分"), max_length=100, blank=True)
    programme = models.CharField(_("事業名"), max_length=200)
    budget_amount = models.DecimalField(_("予算額（円）"), max_digits=14, decimal_places=0)
    spent_amount = models.DecimalField(_("執行額（円）"), max_digits=14, decimal_places=0, null=True, blank=True)
    note = models.CharField(_("備考"), max_length=200, blank=True)
    order = models.PositiveIntegerField(_("表示順"), default=0)

    history = recorded(verbose_name=_("予算執行の履歴"))

    class Meta:
        ordering = ["plan", "order"]
        verbose_name = _("予算執行")
        verbose_name_plural = _("予算執行")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "category", "programme"],
                name="one_budget_line_per_programme",
                violation_error_message="この区分・事業名の予算執行はこの事業計画にすでにあります。",
                violation_error_code="unique",
            ),
            models.CheckConstraint(
                condition=Q(budget_amount__gte=0),
                name="budget_not_negative",
                violation_error_message="予算額に負の数は入力できません。",
            ),
            models.CheckConstraint(
                condition=Q(spent_amount__isnull=True) | Q(spent_amount__gte=0),
                name="spent_not_negative",
                violation_error_message="執行額に負の数は入力できません。",
            ),
        ]

    def __str__(self) -> str:
        return self.programme

    @property
    def execution_rate(self) -> Decimal | None:
        """執行率 in percent, one decimal; None without a budget or spending."""
        if self.spent_amount is None or not self.budget_amount:
            return None
        return rules.round_published(self.spent_amount * 100 / self.budget_amount, 1)


class MonthReport(models.Model):
    """月次報告: a branch's figures for one month, from draft to approval (作成中 → 提出 → 承認).

    The allowed moves are data (``plans.workflow.TRANSITIONS``); ``plans.workflow.month_transition`` is the
    one way to change a report's status. An approved month is locked; HQ or an admin may reopen it until
    an end date, with a reason, and a figure changed meanwhile is flagged for re-approval.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("作成中")
        SUBMITTED = "submitted", _("提出済み")
        RETURNED = "returned", _("差戻し")
        APPROVED = "approved", _("承認済み")
        REOPENED = "reopened", _("再開中")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="month_reports", verbose_name=_("事業計画"))
    month = models.DateField(_("対象月"), help_text=_("月の1日"))
    status = models.CharField(_("状態"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    reason = models.CharField(_("理由"), max_length=300, blank=True, help_text=_("差戻し・再開の理由"))
    reopened_until = models.DateField(_("再開の期限"), null=True, blank=True)
    changed_after_approval = models.BooleanField(_("承認後に変更あり（再承認が必要）"), default=False)
    last_reminded_on = models.DateField(
        _("最後に督促した日"), null=True, blank=True, editable=False, help_text=_("督促メールは1日1回まで")
    )
    version = models.PositiveIntegerField(_("版"), default=1, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("更新者")
    )
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    history = recorded(verbose_name=_("月次報告の履歴"))

    class Meta:
        ordering = ["plan", "month"]
        verbose_name = _("月次報告")
        verbose_name_plural = _("月次報告")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "month"],
                name="one_report_per_plan_and_month",
                violation_error_message=_("この月の月次報告はすでにあります。"),
            ),
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="report_month_first_day",
                violation_error_message=_("対象月は月の1日で指定してください。"),
            ),
            models.CheckConstraint(
                condition=~Q(status="reopened") | Q(reopened_until__isnull=False),
                name="reopened_report_has_an_end_date",
                violation_error_message=_("再開した月には期限が必要です。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.branch} {fiscal.month_label(self.month)} {self.get_status_display()}"

    def is_locked(self, today: datetime.date) -> bool:
        """Whether figures of this month may no longer be changed: approved, or reopened past its end date."""
        if self.status == self.Status.APPROVED:
            return True
        return self.status == self.Status.REOPENED and self.reopened_until is not None and today > self.reopened_until


class ShortfallNote(models.Model):
    """要因と対応: why a KPI is behind (△ or 未達のおそれ) in a month and what the branch will do."""

    target = models.ForeignKey(
        KpiTarget, on_delete=models.CASCADE, related_name="shortfall_notes", verbose_name=_("KPI目標")
    )
    month = models.DateField(_("対象月"))
    cause = models.TextField(_("要因"), max_length=1000)
    action = models.TextField(_("対応"), max_length=1000)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("更新者")
    )
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    history = recorded(verbose_name=_("要因と対応の履歴"))

    class Meta:
        ordering = ["target", "month"]
        verbose_name = _("要因と対応")
        verbose_name_plural = _("要因と対応")
        constraints = [
            models.UniqueConstraint(
                fields=["target", "month"],
                name="one_shortfall_note_per_target_and_month",
                violation_error_message=_("この月のこのKPIの要因と対応はすでにあります。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target.kpi.name} {fiscal.month_label(self.month)}"


class DataVersion(models.Model):
    """A version per scope of the data a dashboard shows, replaced by a new random stamp in the transaction of
    every write (``plans.versions``): a page's validator (ETag) and cache keys are built from the versions it
    depends on.

    ``fiscal_year`` 0 with ``branch_id`` 0 is the catalog (KPIs, lineage, areas, branches, which plans exist);
    ``fiscal_year`` Y with ``branch_id`` 0 is what year Y shows for every branch (national averages);
    ``fiscal_year`` Y with ``branch_id`` B is branch B's plan for year Y (targets, actuals, measures, progress,
    budget, month reports). No foreign keys: a version outlives what it counted.
    """

    fiscal_year = models.PositiveSmallIntegerField(_("年度（0 = 共通）"))
    branch_id = models.PositiveIntegerField(_("支部ID（0 = 全支部共通）"))
    version = models.PositiveBigIntegerField(_("版"), default=0)

    class Meta:
        verbose_name = _("データの版")
        verbose_name_plural = _("データの版")
        constraints = [
            models.UniqueConstraint(
                fields=["fiscal_year", "branch_id"],
                name="one_data_version_per_scope",
                violation_error_message="この年度・支部のデータの版はすでにあります。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fiscal_year}/{self.branch_id}: {self.version}"
