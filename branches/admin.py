"""Admin for branches and memberships, and the mixins that scope every admin page to what a user may touch.

- ``BranchScopedAdmin`` / ``BranchScopedInline``: a branch's own rows. A branch user given admin rights sees and
  edits only their own branch's rows; headquarters sees every branch; superusers do everything.
- ``CatalogAdmin`` / ``CatalogInline``: the shared lists (KPIs, areas, years, branches, memberships), changed only by
  headquarters and superusers; anyone else given admin rights may at most view them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.forms import ModelChoiceField
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from branches import access
from branches.access import Permission
from branches.models import Branch, Membership

OTHER_BRANCH_ROW = "他の支部のデータは表示・変更できません。"


def branch_through(obj: models.Model, branch_path: str) -> Branch | None:
    """Follow ``branch_path`` (e.g. ``"target__plan__branch"``) from ``obj`` to its branch."""
    current: Any = obj
    for name in branch_path.split("__"):
        current = getattr(current, name, None)
        if current is None:
            return None
    return current  # type: ignore[no-any-return]


class _ScopedForeignKeys:
    """Foreign-key choices limited to the rows of the branches where the user holds ``write_permission``."""

    admin_site: admin.AdminSite
    write_permission: Permission

    def _related_branch_path(self, related_model: type[models.Model]) -> str | None:
        if related_model is Branch:
            return "pk"
        related_admin = self.admin_site._registry.get(related_model)
        return related_admin.branch_path if isinstance(related_admin, BranchScopedAdmin) else None

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        path = self._related_branch_path(db_field.related_model)
        if path is not None and "queryset" not in kwargs:
            queryset = db_field.related_model._default_manager.all()
            kwargs["queryset"] = access.filter_permitted(queryset, request.user, self.write_permission, path)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class BranchScopedAdmin(_ScopedForeignKeys, admin.ModelAdmin):
    """A model whose rows belong to one branch, reached from a row by ``branch_path``.

    Listing and viewing need ``VIEW_BRANCH`` for the row's branch; adding, changing and deleting need
    ``write_permission`` (besides Django's model permissions).
    """

    branch_path: str = "plan__branch"
    write_permission: Permission = Permission.MANAGE_PLAN

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        queryset = super().get_queryset(request)
        return access.filter_permitted(queryset, request.user, Permission.VIEW_BRANCH, self.branch_path)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            field = self.model._meta.get_field(from_field) if from_field else self.model._meta.pk
            try:
                exists = self.model._default_manager.filter(**{field.attname: field.to_python(object_id)}).exists()
            except Exception:  # noqa: BLE001 - a malformed id is simply "not found"
                exists = False
            if exists:
                raise PermissionDenied(OTHER_BRANCH_ROW)
        return obj

    def may_write(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if obj is None:
            return access.holds_anywhere(request.user, self.write_permission)
        return access.has_permission(request.user, self.write_permission, branch_through(obj, self.branch_path))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_view_permission(request, obj):
            return False
        return obj is None or access.can_view_branch(request.user, branch_through(obj, self.branch_path))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and self.may_write(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self.may_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self.may_write(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not self.may_write(request, obj):
            raise PermissionDenied(access.DENIED_MESSAGES[self.write_permission])
        super().save_model(request, obj, form, change)


class BranchScopedInline(_ScopedForeignKeys, admin.options.InlineModelAdmin):  # type: ignore[type-arg]
    """Rows shown inside a branch-scoped parent: writable when the user may write the parent's branch."""

    write_permission: Permission = Permission.MANAGE_PLAN

    def _may_write_parent(self, request: HttpRequest, obj: models.Model | None) -> bool:
        parent_admin = self.admin_site._registry[self.parent_model]
        assert isinstance(parent_admin, BranchScopedAdmin)
        if obj is None:
            return access.holds_anywhere(request.user, self.write_permission)
        return access.has_permission(request.user, self.write_permission, branch_through(obj, parent_admin.branch_path))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request, obj) and self._may_write_parent(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_write_parent(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_write_parent(request, obj)


class _CatalogPermissions:
    """Add, change and delete only for headquarters and superusers (on top of Django's model permissions)."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        allowed = super().has_add_permission(request, *args)  # type: ignore[misc]
        return bool(allowed) and access.has_permission(request.user, Permission.MANAGE_CATALOG)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)  # type: ignore[misc]
        return bool(allowed) and access.has_permission(request.user, Permission.MANAGE_CATALOG)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)  # type: ignore[misc]
        return bool(allowed) and access.has_permission(request.user, Permission.MANAGE_CATALOG)


class CatalogAdmin(_CatalogPermissions, admin.ModelAdmin):
    pass


class CatalogTabularInline(_CatalogPermissions, admin.TabularInline):
    pass


@admin.register(Branch)
class BranchAdmin(CatalogAdmin):
    list_display = ("jis_code", "name", "name_en", "code")
    search_fields = ("name", "name_en", "code")
    ordering = ("jis_code",)


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin, CatalogAdmin):
    list_display = ("user", "branch", "role")
    list_filter = ("role", "branch")
    search_fields = ("user__username", "branch__name")
    autocomplete_fields = ("user", "branch")
