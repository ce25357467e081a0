from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from plans.models import (
    ActualRevision,
    Area,
    BudgetLine,
    FiscalYear,
    Kpi,
    KpiActual,
    KpiChange,
    KpiTarget,
    Measure,
    MeasureProgress,
    NationalAverage,
    Plan,
)

admin.site.site_header = "kpitrack 管理サイト"
admin.site.site_title = "kpitrack"
admin.site.index_title = "事業計画・KPIの管理"


@admin.register(FiscalYear)
class FiscalYearAdmin(admin.ModelAdmin):
    list_display = ("year", "label_display")

    @admin.display(description="和暦")
    def label_display(self, obj: FiscalYear) -> str:
        return obj.label


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "name_en")


class KpiChangeInline(admin.TabularInline):
    model = KpiChange
    fk_name = "kpi"
    extra = 0
    autocomplete_fields = ("replaces",)


@admin.register(Kpi)
class KpiAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "unit", "precision", "direction", "kind", "measure_basis", "is_national")
    list_filter = ("kind", "direction", "measure_basis", "is_national")
    search_fields = ("code", "name", "description")
    autocomplete_fields = ("replaced_by",)
    inlines = [KpiChangeInline]


@admin.register(KpiChange)
class KpiChangeAdmin(admin.ModelAdmin):
    list_display = ("kpi", "fiscal_year", "change", "replaces", "previous_name")
    list_filter = ("change", "fiscal_year")
    search_fields = ("kpi__code", "kpi__name", "previous_name", "note")
    autocomplete_fields = ("kpi", "replaces")


class MeasureInline(admin.TabularInline):
    model = Measure
    fields = ("key", "area", "parent", "number", "title", "group", "importance_high", "difficulty_high", "order")
    extra = 0
    show_change_link = True


class KpiTargetInline(admin.TabularInline):
    model = KpiTarget
    fields = ("kpi", "measure", "target_text", "rule", "target_value", "stated_baseline", "note", "published_mark")
    readonly_fields = ("rule", "target_value", "stated_baseline")
    extra = 0
    show_change_link = True
    autocomplete_fields = ("kpi",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[KpiTarget]:
        return super().get_queryset(request).select_related("kpi", "measure")


class BudgetLineInline(admin.TabularInline):
    model = BudgetLine
    fields = ("category", "programme", "budget_amount", "spent_amount", "note", "order")
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("branch", "fiscal_year", "target_count", "source", "updated_at")
    list_filter = ("fiscal_year", "branch")
    search_fields = ("branch__name", "branch__code", "source")
    list_select_related = ("branch", "fiscal_year")
    inlines = [MeasureInline, KpiTargetInline, BudgetLineInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Plan]:
        return super().get_queryset(request).annotate(target_total=Count("targets"))

    @admin.display(description="KPI数", ordering="target_total")
    def target_count(self, obj: Plan) -> int:
        return obj.target_total  # type: ignore[attr-defined]


class MeasureProgressInline(admin.StackedInline):
    model = MeasureProgress
    fields = ("period", "as_of", "evaluation", "status", "next_steps")
    extra = 0


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = ("plan", "area", "number", "title", "group", "importance_high", "difficulty_high")
    list_filter = ("plan__fiscal_year", "plan__branch", "area", "group", "importance_high", "difficulty_high")
    search_fields = ("title", "body", "number")
    list_select_related = ("plan__branch", "plan__fiscal_year", "area")
    autocomplete_fields = ("parent",)
    inlines = [MeasureProgressInline]


class KpiActualInline(admin.TabularInline):
    model = KpiActual
    fields = ("period", "month", "value", "text_value", "numerator", "denominator", "is_cumulative", "note", "source")
    extra = 0


@admin.register(KpiTarget)
class KpiTargetAdmin(admin.ModelAdmin):
    list_display = ("plan", "kpi", "target_text", "rule", "target_value", "stated_baseline", "published_mark")
    list_filter = ("plan__fiscal_year", "plan__branch", "rule", "published_mark", "kpi")
    search_fields = ("kpi__code", "kpi__name", "name_as_written", "target_text", "note")
    list_select_related = ("plan__branch", "plan__fiscal_year", "kpi")
    readonly_fields = ("rule", "target_value", "stated_baseline")
    autocomplete_fields = ("kpi", "measure")
    inlines = [KpiActualInline]


@admin.register(KpiActual)
class KpiActualAdmin(admin.ModelAdmin):
    list_display = ("target", "period", "month", "value", "text_value", "source", "entered_by", "entered_at")
    list_filter = ("period", "source", "target__plan__fiscal_year", "target__plan__branch")
    search_fields = ("target__kpi__name", "target__kpi__code", "note")
    list_select_related = ("target__kpi", "target__plan__branch", "target__plan__fiscal_year", "entered_by")
    raw_id_fields = ("target",)
    date_hierarchy = "month"


@admin.register(ActualRevision)
class ActualRevisionAdmin(admin.ModelAdmin):
    list_display = ("changed_at", "target", "period", "month", "action", "old_value", "new_value", "changed_by")
    list_filter = ("action", "period")
    search_fields = ("target__kpi__name", "reason")
    list_select_related = ("target__kpi", "target__plan__branch", "changed_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object | None = None) -> bool:
        return False


@admin.register(NationalAverage)
class NationalAverageAdmin(admin.ModelAdmin):
    list_display = ("kpi", "fiscal_year", "as_of", "value")
    list_filter = ("fiscal_year", "kpi")
    search_fields = ("kpi__name", "kpi__code")
    autocomplete_fields = ("kpi",)


@admin.register(MeasureProgress)
class MeasureProgressAdmin(admin.ModelAdmin):
    list_display = ("measure", "period", "as_of", "evaluation", "updated_at")
    list_filter = ("evaluation", "period", "measure__plan__branch")
    search_fields = ("measure__title", "status", "next_steps")
    list_select_related = ("measure",)


@admin.register(BudgetLine)
class BudgetLineAdmin(admin.ModelAdmin):
    list_display = ("plan", "category", "programme", "budget_amount", "spent_amount", "rate_display")
    list_filter = ("plan__branch", "plan__fiscal_year", "category")
    search_fields = ("programme", "category")
    list_select_related = ("plan__branch", "plan__fiscal_year")

    @admin.display(description="執行率")
    def rate_display(self, obj: BudgetLine) -> str:
        rate = obj.execution_rate
        return "－" if rate is None else f"{rate}%"
