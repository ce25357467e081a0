from __future__ import annotations

from django.contrib import admin

from branches.models import Branch, Membership


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("jis_code", "name", "name_en", "code")
    search_fields = ("name", "name_en", "code")
    ordering = ("jis_code",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "branch", "role")
    list_filter = ("role", "branch")
    search_fields = ("user__username", "branch__name")
    autocomplete_fields = ("user", "branch")
