"""Branches (支部) and who belongs to which."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from branches.prefectures import PREFECTURES


class BranchQuerySet(models.QuerySet["Branch"]):
    def sync_prefectures(self) -> int:
        """Create or update the 47 branches from the JIS list; returns how many were created."""
        existing = {b.code: b for b in self.all()}
        created = 0
        for pref in PREFECTURES:
            branch = existing.get(pref.code)
            if branch is None:
                self.create(jis_code=pref.jis_code, code=pref.code, name=pref.name, name_en=pref.name_en)
                created += 1
            elif (branch.jis_code, branch.name, branch.name_en) != (pref.jis_code, pref.name, pref.name_en):
                branch.jis_code, branch.name, branch.name_en = pref.jis_code, pref.name, pref.name_en
                branch.save(update_fields=["jis_code", "name", "name_en"])
        return created


class Branch(models.Model):
    """支部: one prefectural branch."""

    jis_code = models.PositiveSmallIntegerField(_("都道府県コード"), unique=True)
    code = models.SlugField(_("コード"), max_length=20, unique=True, help_text=_("ローマ字小文字（例: tochigi）"))
    name = models.CharField(_("支部名"), max_length=10, unique=True)
    name_en = models.CharField(_("英語名"), max_length=20)

    objects = BranchQuerySet.as_manager()

    class Meta:
        ordering = ["jis_code"]
        verbose_name = _("支部")
        verbose_name_plural = _("支部")
        constraints = [
            models.CheckConstraint(condition=models.Q(jis_code__gte=1, jis_code__lte=47), name="branch_jis_code_1_47"),
        ]

    def __str__(self) -> str:
        return f"{self.name}支部"


class Membership(models.Model):
    """Which branch a user works for and in what role; headquarters (本部) members have no branch.

    What each role may do is listed in ``branches.access.PERMISSIONS``.
    """

    class Role(models.TextChoices):
        STAFF = "staff", _("支部担当者")
        MANAGER = "manager", _("支部管理者")
        HQ = "hq", _("本部")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership", verbose_name=_("ユーザー")
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="members", verbose_name=_("支部")
    )
    role = models.CharField(_("役割"), max_length=10, choices=Role.choices, default=Role.STAFF)
    history = HistoricalRecords(verbose_name=_("所属の履歴"), history_change_reason_field=models.TextField(null=True))

    class Meta:
        verbose_name = _("所属")
        verbose_name_plural = _("所属")
        constraints = [
            # Headquarters members have no branch; branch staff and managers always have one.
            models.CheckConstraint(
                condition=models.Q(role="hq", branch__isnull=True)
                | (~models.Q(role="hq") & models.Q(branch__isnull=False)),
                name="membership_hq_iff_no_branch",
                violation_error_message=_("本部の所属は支部を空欄に、支部担当者・支部管理者は支部を選んでください。"),
            ),
        ]

    def __str__(self) -> str:
        if self.branch_id is None:
            return f"{self.user} (本部)"
        return f"{self.user} ({self.branch.name}・{self.get_role_display()})"

    @property
    def is_headquarters(self) -> bool:
        return self.branch_id is None
