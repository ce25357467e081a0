from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from branches.access import DENIED_MESSAGES, Permission
from branches.admin import BranchScopedAdmin, BranchScopedInline, CatalogAdmin, CatalogTabularInline
from plans import planning
from plans.models import (
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
from plans.services import ActualConflict, MonthLocked, actual_delete, actual_record, display_value

admin.site.site_header = "kpitrack 管理サイト"
admin.site.site_title = "kpitrack"
admin.site.index_title = "事業計画・KPIの管理"


@admin.register(FiscalYear)
class FiscalYearAdmin(CatalogAdmin):
    list_display = ("year", "label_display")

    @admin.display(description="和暦")
    def label_display(self, obj: FiscalYear) -> str:
        return obj.label


@admin.register(Area)
class AreaAdmin(CatalogAdmin):
    list_display = ("number", "name", "name_en")


class KpiChangeInline(CatalogTabularInline):
    model = KpiChange
    fk_name = "kpi"
    extra = 0
    autocomplete_fields = ("replaces",)


@admin.register(Kpi)
class KpiAdmin(SimpleHistoryAdmin, CatalogAdmin):
    list_display = ("code", "name", "unit", "precision", "direction", "kind", "measure_basis", "is_national")
    list_filter = ("kind", "direction", "measure_basis", "is_national")
    search_fields = ("code", "name", "description")
    autocomplete_fields = ("replaced_by",)
    inlines = [KpiChangeInline]


@admin.register(KpiChange)
class KpiChangeAdmin(SimpleHistoryAdmin, CatalogAdmin):
    list_display = ("kpi", "fiscal_year", "change", "replaces", "previous_name")
    list_filter = ("change", "fiscal_year")
    search_fields = ("kpi__code", "kpi__name", "previous_name", "note")
    autocomplete_fields = ("kpi", "replaces")


class MeasureInline(BranchScopedInline, admin.TabularInline):
    model = Measure
    fields = ("key", "area", "parent", "number", "title", "group", "importance_high", "difficulty_high", "order")
    extra = 0
    show_change_link = True


class KpiTargetInline(BranchScopedInline, admin.TabularInline):
    """Target phrases are read-only here: they are changed on a target's own admin page or the plan edit page,
    both through ``plans.planning.target_update`` (conflict check, history with the reason)."""

    model = KpiTarget
    fields = ("kpi", "measure", "target_text", "rule", "target_value", "stated_baseline", "note", "published_mark")
    readonly_fields = ("target_text", "rule", "target_value", "stated_baseline")
    extra = 0
    show_change_link = True
    autocomplete_fields = ("kpi",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[KpiTarget]:
        return super().get_queryset(request).select_related("kpi", "measure")


class BudgetLineInline(BranchScopedInline, admin.TabularInline):
    model = BudgetLine
    fields = ("category", "programme", "budget_amount", "spent_amount", "note", "order")
    extra = 0


@admin.register(Plan)
class PlanAdmin(SimpleHistoryAdmin, BranchScopedAdmin):
    branch_path = "branch"
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


class MeasureProgressInline(BranchScopedInline, admin.StackedInline):
    """Read-only: progress is written on the progress page (plans.progress.progress_save), the one write path
    with its version check, the month lock and the re-approval flag."""

    model = MeasureProgress
    write_permission = Permission.ENTER_ACTUALS
    fields = ("period", "as_of", "evaluation", "status", "next_steps")
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Measure)
class MeasureAdmin(SimpleHistoryAdmin, BranchScopedAdmin):
    branch_path = "plan__branch"
    list_display = ("plan", "area", "number", "title", "group", "importance_high", "difficulty_high")
    list_filter = ("plan__fiscal_year", "plan__branch", "area", "group", "importance_high", "difficulty_high")
    search_fields = ("title", "body", "number")
    list_select_related = ("plan__branch", "plan__fiscal_year", "area")
    autocomplete_fields = ("parent",)
    inlines = [MeasureProgressInline]


class KpiActualInline(admin.TabularInline):
    """Read-only list of a target's actuals; each links to its own change page, the one door for writes."""

    model = KpiActual
    fields = ("period", "month", "value_display", "note", "source", "version", "entered_by", "change_link")
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="実績値")
    def value_display(self, obj: KpiActual) -> str:
        return obj.display_value

    @admin.display(description="変更・削除")
    def change_link(self, obj: KpiActual) -> str:
        if obj.pk is None:
            return ""
        url = reverse("admin:plans_kpiactual_change", args=[obj.pk])
        return format_html('<a href="{}">この実績を開く</a>', url)


ADMIN_TARGET_REASON = "管理サイトで変更"


class KpiTargetAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """A target's admin form: a phrase changed by someone else since the form was opened is refused with both
    phrases (the save goes through ``planning.target_update``, which checks again under the write lock)."""

    loaded_text = forms.CharField(widget=forms.HiddenInput, required=False, strip=False)
    request_conflict: planning.TargetConflict | None = None  # set by KpiTargetAdmin when a save lost a race

    class Meta:
        model = KpiTarget
        fields = (
            *("plan", "kpi", "measure", "name_as_written", "target_text"),
            *("precision_override", "note", "published_mark", "order"),
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["loaded_text"].initial = self.instance.target_text if self.instance.pk else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.request_conflict is not None:
            self.add_error("target_text", str(self.request_conflict))
        elif self.instance.pk:
            stored = KpiTarget.objects.filter(pk=self.instance.pk).values_list("target_text", flat=True).first()
            loaded = cleaned.get("loaded_text", "")
            if stored is not None and stored != loaded and cleaned.get("target_text", "") != stored:
                conflict = planning.TargetConflict(
                    None, kpi_name=self.instance.kpi.name, stored=stored, typed=cleaned.get("target_text", "")
                )
                self.add_error("target_text", str(conflict))
        return cleaned


@admin.register(KpiTarget)
class KpiTargetAdmin(SimpleHistoryAdmin, BranchScopedAdmin):
    """A changed phrase is saved through ``planning.target_update`` (the one write path for plan edits)."""

    form = KpiTargetAdminForm
    branch_path = "plan__branch"
    list_display = ("plan", "kpi", "target_text", "rule", "target_value", "stated_baseline", "published_mark")
    list_filter = ("plan__fiscal_year", "plan__branch", "rule", "published_mark", "kpi")
    search_fields = ("kpi__code", "kpi__name", "name_as_written", "target_text", "note")
    list_select_related = ("plan__branch", "plan__fiscal_year", "kpi")
    readonly_fields = ("rule", "target_value", "stated_baseline")
    autocomplete_fields = ("kpi", "measure")
    inlines = [KpiActualInline]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        conflict = getattr(request, "_target_conflict", None)
        return type(form.__name__, (form,), {"request_conflict": conflict}) if conflict else form

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except planning.TargetConflict as conflict:  # a save slipped in after the form's check: nothing written
            request._target_conflict = conflict  # type: ignore[attr-defined]
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: KpiTarget, form: Any, change: bool) -> None:
        others = [name for name in form.changed_data if name not in {"target_text", "loaded_text"}]
        with transaction.atomic():
            if change and "target_text" in form.changed_data:
                planning.target_update(
                    obj,
                    obj.target_text,
                    user=request.user,
                    expected_text=form.cleaned_data.get("loaded_text", ""),
                    reason=ADMIN_TARGET_REASON,
                )
            if not change or others:
                obj._history_user = request.user  # type: ignore[attr-defined]
                obj._change_reason = ADMIN_TARGET_REASON  # type: ignore[attr-defined]
                obj.save()


REASON_REQUIRED = "変更理由を入力してください（例: 支部資料の訂正）。"
ADMIN_DELETE_REASON = "管理サイトで削除"
ADMIN_REVERT_REFUSED = (
    "管理サイトでは実績を以前の値に戻せません。KPIの履歴画面の「この値に戻す」から、理由を添えて戻してください。"
)


class KpiActualAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """The admin's form for one actual: carries the version it was opened at and the reason for a change.

    ``clean`` reports a save made by someone else since the form was opened (the save itself goes through
    ``actual_record``, which checks again under the write lock).
    """

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    reason = forms.CharField(label="変更理由", max_length=200, required=False)

    request_conflict: ActualConflict | None = None  # set by KpiActualAdmin when a save lost a race
    request_locked: MonthLocked | None = None  # set by KpiActualAdmin when the month is approved

    class Meta:
        model = KpiActual
        fields = (
            *("target", "period", "month"),
            *("value", "text_value", "numerator", "denominator", "is_cumulative", "note"),
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expected_version"].initial = self.instance.version if self.instance.pk else 0
        if self.instance.pk:
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = REASON_REQUIRED
        else:
            self.fields["reason"].help_text = "新規登録では省略できます。"

    def _cell(self) -> tuple[Any, Any, Any]:
        if self.instance.pk:
            return self.instance.target_id, self.instance.period, self.instance.month
        target = self.cleaned_data.get("target")
        return (target.pk if target else None), self.cleaned_data.get("period"), self.cleaned_data.get("month")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        typed = display_value(cleaned.get("value"), cleaned.get("text_value", ""))
        if self.request_locked is not None:
            self.add_error(None, str(self.request_locked))
            return cleaned
        if self.request_conflict is not None:
            self._conflict(ActualConflict(self.request_conflict.current, typed))
            return cleaned
        expected = cleaned.get("expected_version")
        target_id, period, month = self._cell()
        if expected is None or target_id is None or not period:
            return cleaned
        if self.instance.pk:
            current = KpiActual.objects.filter(pk=self.instance.pk).first()
        else:
            current = KpiActual.objects.filter(target_id=target_id, period=period, month=month).first()
        if (current is None and expected != 0) or (current is not None and current.version != expected):
            self._conflict(ActualConflict(current, typed))
        return cleaned

    def _conflict(self, conflict: ActualConflict) -> None:
        self.add_error(None, str(conflict))
        self._has_conflict = True

    def _get_validation_exclusions(self) -> set[str]:
        # After a conflict the message says it all: no "already exists" (the constraints on target) on top.
        exclusions = super()._get_validation_exclusions()
        return exclusions | {"target"} if getattr(self, "_has_conflict", False) else exclusions


@admin.register(KpiActual)
class KpiActualAdmin(SimpleHistoryAdmin, BranchScopedAdmin):
    """Every save goes through ``actual_record`` (versioned, with a history row); every delete through
    ``actual_delete`` (with a ``-`` history row). The history is shown here, but an earlier value is restored
    only on the KPI's history page (「この値に戻す」), which writes through ``actual_record`` too."""

    branch_path = "target__plan__branch"
    write_permission = Permission.ENTER_ACTUALS
    form = KpiActualAdminForm
    list_display = ("target", "period", "month", "value", "text_value", "source", "entered_by", "entered_at")
    list_filter = ("period", "source", "target__plan__fiscal_year", "target__plan__branch")
    search_fields = ("target__kpi__name", "target__kpi__code", "note")
    list_select_related = ("target__kpi", "target__plan__branch", "target__plan__fiscal_year", "entered_by")
    raw_id_fields = ("target",)
    date_hierarchy = "month"
    fieldsets = (
        ("対象", {"fields": ("target", "period", "month")}),
        ("実績", {"fields": ("value", "text_value", "numerator", "denominator", "is_cumulative", "note")}),
        ("変更の記録", {"fields": ("reason", "expected_version", "version", "source", "entered_by", "entered_at")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        always = ("version", "source", "entered_by", "entered_at")
        # Which cell an actual belongs to is fixed once it exists: a different cell is a different actual.
        return ("target", "period", "month", *always) if obj is not None else always

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        conflict = getattr(request, "_actual_conflict", None)
        locked = getattr(request, "_actual_locked", None)
        if conflict or locked:
            return type(form.__name__, (form,), {"request_conflict": conflict, "request_locked": locked})
        return form

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ActualConflict as conflict:
            # A save that slipped in between the form's check and our write: nothing was written (the
            # transaction rolled back); show the same form again with the conflict message.
            request._actual_conflict = conflict  # type: ignore[attr-defined]
            return super().changeform_view(request, object_id, form_url, extra_context)
        except MonthLocked as locked:
            # The month is approved: nothing was written; the same form again with the message.
            request._actual_locked = locked  # type: ignore[attr-defined]
            return super().changeform_view(request, object_id, form_url, extra_context)

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True  # restoring goes through the KPI's history page, never a second write path

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if request.method == "POST":
            raise PermissionDenied(ADMIN_REVERT_REFUSED)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def save_model(self, request: HttpRequest, obj: KpiActual, form: Any, change: bool) -> None:
        if not self.may_write(request, obj):
            raise PermissionDenied(DENIED_MESSAGES[self.write_permission])
        data = form.cleaned_data
        actual, _ = actual_record(
            target=obj.target,
            period=obj.period,
            month=obj.month,
            value=data["value"],
            text_value=data["text_value"],
            numerator=data["numerator"],
            denominator=data["denominator"],
            is_cumulative=data["is_cumulative"],
            note=data["note"],
            source=KpiActual.Source.MANUAL,
            user=request.user,  # type: ignore[arg-type]
            expected_version=data["expected_version"],
            reason=data["reason"],
        )
        for field in KpiActual._meta.concrete_fields:
            setattr(obj, field.attname, getattr(actual, field.attname))
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: KpiActual) -> None:
        try:
            actual_delete(actual=obj, user=request.user, reason=ADMIN_DELETE_REASON)  # type: ignore[arg-type]
        except MonthLocked as locked:
            raise PermissionDenied(str(locked)) from locked

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[KpiActual]) -> None:
        try:
            with transaction.atomic():
                for actual in queryset:
                    actual_delete(actual=actual, user=request.user, reason=ADMIN_DELETE_REASON)  # type: ignore[arg-type]
        except MonthLocked as locked:  # nothing was deleted: the whole batch rolled back
            raise PermissionDenied(str(locked)) from locked


@admin.register(NationalAverage)
class NationalAverageAdmin(SimpleHistoryAdmin, CatalogAdmin):
    list_display = ("kpi", "fiscal_year", "as_of", "value")
    list_filter = ("fiscal_year", "kpi")
    search_fields = ("kpi__name", "kpi__code")
    autocomplete_fields = ("kpi",)


@admin.register(MeasureProgress)
class MeasureProgressAdmin(SimpleHistoryAdmin, BranchScopedAdmin):
    branch_path = "measure__plan__branch"
    write_permission = Permission.ENTER_ACTUALS
    list_display = ("measure", "period", "as_of", "evaluation", "updated_at")
    list_filter = ("evaluation", "period", "measure__plan__branch")
    search_fields = ("measure__title", "status", "next_steps")
    list_select_related = ("measure",)

    # Read-only here: progress is written on the progress page (plans.progress.progress_save), the one write
    # path with its version check, the month lock and the re-approval flag.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BudgetLine)
class BudgetLineAdmin(SimpleHistoryAdmin, BranchScopedAdmin):
    branch_path = "plan__branch"
    list_display = ("plan", "category", "programme", "budget_amount", "spent_amount", "rate_display")
    list_filter = ("plan__branch", "plan__fiscal_year", "category")
    search_fields = ("programme", "category")
    list_select_related = ("plan__branch", "plan__fiscal_year")

    @admin.display(description="執行率")
    def rate_display(self, obj: BudgetLine) -> str:
        rate = obj.execution_rate
        return "－" if rate is None else f"{rate}%"
